/* SPDX-License-Identifier: MIT */
/* Slow suite: the small CNN learns Fashion-MNIST (Debian's dataset-fashion-mnist) to at least
 * 90% test accuracy in four epochs, through the same nn_train the CLI and the app use. */
#include <glib.h>

#include "nn.h"

static void
progress (const NnTrainProgress *p,
          void                  *user_data)
{
  (void) user_data;
  if (p->epoch_done)
    g_test_message ("epoch %d: train loss %.4f acc %.4f, test loss %.4f acc %.4f", p->epoch + 1,
                    (double) p->train_loss, (double) p->train_accuracy, (double) p->test_loss,
                    (double) p->test_accuracy);
}

static void
test_smallcnn (void)
{
  NnError err = { 0 };
  NnDataset *train = nn_dataset_load_fashion_mnist (NULL, true, &err);
  if (train == NULL)
    {
      g_test_skip (err.message);
      return;
    }
  NnDataset *test = nn_dataset_load_fashion_mnist (NULL, false, &err);
  g_assert_nonnull (test);

  NnArchSpec spec = {
    .name = "smallcnn", .in_c = 1, .in_h = 28, .in_w = 28, .n_classes = 10, .width = 1.0f,
    .bank = NN_PFM_BANK_FULL, .seed = 1,
  };
  NnGraph *graph = nn_arch_build (&spec, &err);
  g_assert_nonnull (graph);
  NnModel *model = nn_model_new (graph, "smallcnn");
  nn_dataset_mean_std (train, model->mean, model->std);

  NnTrainConfig config;
  nn_train_config_init (&config);
  config.epochs = 4;
  config.lr = 0.02f;
  g_assert_true (nn_train (model, train, test, &config, progress, NULL, NULL, &err));

  NnEvalResult result;
  g_assert_true (nn_evaluate (model, test, 256, &result, NULL, &err));
  g_test_message ("small CNN, 4 epochs: test accuracy %.4f, loss %.4f on %d images",
                  result.accuracy, result.loss, result.n);
  g_assert_cmpint (result.n, ==, 10000);
  g_assert_cmpfloat (result.accuracy, >=, 0.90);
  nn_eval_result_clear (&result);
  nn_model_free (model);
  nn_dataset_free (train);
  nn_dataset_free (test);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/slow/fashion-mnist/smallcnn-90-percent", test_smallcnn);
  return g_test_run ();
}
