/* SPDX-License-Identifier: MIT */
/* cnnscope-cli train: builds a built-in architecture for a dataset, or fine-tunes a model file
 * or ONNX import (another input size, a new classifier, frozen layers), trains it with progress
 * on stderr, and saves it atomically (and, when asked, a snapshot every N steps); Ctrl-C stops
 * cleanly without writing the model. With --probe, images are explained at the weights of the
 * moment as it goes (cli-probe.c). */
#include <errno.h>
#include <libgen.h>
#include <math.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli-commands.h"
#include "cli-common.h"
#include "cli-probe.h"

static const char usage[] =
  "Usage: cnnscope-cli train --arch NAME --data DATASET --out MODEL [options]\n"
  "       cnnscope-cli train --init MODEL --data DATASET --out MODEL [options]\n"
  "Trains a built-in architecture on DATASET ('fashion-mnist' or an image folder\n"
  "root/<class>/<image>, or root/train/... and root/test/...), or fine-tunes a model, and\n"
  "saves it to MODEL (.safetensors, written atomically). Progress goes to stderr, one line\n"
  "per epoch. Ctrl-C stops the training; the model is then not written.\n"
  "\n"
  "  --arch NAME          smallcnn, resnet18, resnet34, vgg11, vgg16, vgg19, vgg11_bn,\n"
  "                       vgg16_bn, vgg19_bn, pfnet18, fpnet, fpnet18\n"
  "  --init MODEL         start from a model file (.safetensors, or .onnx imported): its\n"
  "                       weights, input normalization and CT window; the images are\n"
  "                       fitted to its input (gray replicated to RGB for an RGB model)\n"
  "  --new-head N         with --init: replace the last linear layer by a fresh one with\n"
  "                       N outputs (the dataset's class count)\n"
  "  --freeze LAYER       with --init: do not train LAYER (a layer or module name, such as\n"
  "                       layer3) nor any layer before it; their batch norms keep their\n"
  "                       running statistics\n"
  "  --size N|HxW         with --init: another input size (where the network allows it)\n"
  "  --epochs N           default 10\n"
  "  --batch N            default 64\n"
  "  --lr X               base learning rate, default 0.05\n"
  "  --optimizer NAME     sgd (momentum 0.9, Nesterov; default), adamw or lamb\n"
  "  --weight-decay X     overrides the optimizer's (sgd 5e-4 as L2, adamw and lamb 0.01\n"
  "                       decoupled); 0 for none\n"
  "  --schedule NAME      cosine (default), step (x0.1 every third of the run) or constant\n"
  "  --policy P           gradient of the ReLUs: exact (default), proxygrad:B, sugar:bsilu,\n"
  "                       sugar:nelu[:A] (NeLU's alpha A, default 0.01)\n"
  "  --width W            channel multiplier, default 1\n"
  "  --last-stride S      ResNets: stride of layer4, 2 (default) or 1 (layer4 keeps layer3's\n"
  "                       resolution: class activation maps twice as fine)\n"
  "  --pfm-bank B         pfnet18: full (default), edges, lines, random-frozen or trainable\n"
  "  --pfm-size N         pfnet18: kernels of the bank used, 4, 8, 9 or 16 (default: the\n"
  "                       bank's own, 16; 8 for edges and lines; docs/pfnet.md)\n"
  "  --bn-batches N       precise batch norm: running statistics recomputed over N training\n"
  "                       batches after every epoch, default 50; 0 keeps moving averages\n"
  "  --per-class N        train on at most N images per class (seeded subset)\n"
  "  --test-per-class N   evaluate on at most N test images per class (seeded subset)\n"
  "  --augment            random shifts (and flips for RGB)\n"
  "  --window W           CT window for a dataset of 16-bit gray PNGs (HU + 1024, as\n"
  "                       'synth ct' writes): lung (default), mediastinum, bone, W,L, or\n"
  "                       none to train on (HU + 1024) / 65535; stored in the model\n"
  "  --seed S             initialisation, order and augmentation, default 1\n"
  "  --threads N          OpenBLAS threads, default one per core\n"
  "  --snapshot-every N   also save the model every N training steps, to MODEL with\n"
  "                       -stepNNNNNN before .safetensors (run.safetensors:\n"
  "                       run-step000300.safetensors), each written atomically\n"
  "  --probe IMAGE[,IMAGE] explain these images (Grad-CAM of the predicted class) at the\n"
  "                       weights of the moment every --probe-every steps and at the end\n"
  "                       of each epoch: DIR/pK-NAME-stepNNNNNN.png each, and a line (step,\n"
  "                       epoch, class probabilities) each in DIR/probes.jsonl\n"
  "  --probe-every N      default 100\n"
  "  --probe-out DIR      where the probes go (an existing folder; required with --probe)\n"
  "  --json               print one JSON object with the history on stdout at the end\n"
  "Each epoch also reports the dead ReLUs (units <= 0 on every image of a probe batch of\n"
  "training images) and the sparsity (the fraction of ReLU outputs <= 0) on that batch.\n";

enum
{
  OPT_ARCH = CLI_OPT_BASE,
  OPT_DATA,
  OPT_EPOCHS,
  OPT_BATCH,
  OPT_LR,
  OPT_OPTIMIZER,
  OPT_POLICY,
  OPT_SEED,
  OPT_THREADS,
  OPT_WIDTH,
  OPT_LAST_STRIDE,
  OPT_PER_CLASS,
  OPT_SCHEDULE,
  OPT_AUGMENT,
  OPT_WINDOW,
  OPT_OUT,
  OPT_SNAPSHOT_EVERY,
  OPT_JSON,
  OPT_INIT,
  OPT_NEW_HEAD,
  OPT_FREEZE,
  OPT_SIZE,
  OPT_WEIGHT_DECAY,
  OPT_PFM_BANK,
  OPT_PFM_SIZE,
  OPT_BN_BATCHES,
  OPT_TEST_PER_CLASS,
  OPT_PROBE,
  OPT_PROBE_EVERY,
  OPT_PROBE_OUT,
};

static const struct option options[] = {
  { "arch", required_argument, NULL, OPT_ARCH },
  { "data", required_argument, NULL, OPT_DATA },
  { "epochs", required_argument, NULL, OPT_EPOCHS },
  { "batch", required_argument, NULL, OPT_BATCH },
  { "lr", required_argument, NULL, OPT_LR },
  { "optimizer", required_argument, NULL, OPT_OPTIMIZER },
  { "policy", required_argument, NULL, OPT_POLICY },
  { "seed", required_argument, NULL, OPT_SEED },
  { "threads", required_argument, NULL, OPT_THREADS },
  { "width", required_argument, NULL, OPT_WIDTH },
  { "last-stride", required_argument, NULL, OPT_LAST_STRIDE },
  { "per-class", required_argument, NULL, OPT_PER_CLASS },
  { "schedule", required_argument, NULL, OPT_SCHEDULE },
  { "augment", no_argument, NULL, OPT_AUGMENT },
  { "window", required_argument, NULL, OPT_WINDOW },
  { "out", required_argument, NULL, OPT_OUT },
  { "snapshot-every", required_argument, NULL, OPT_SNAPSHOT_EVERY },
  { "json", no_argument, NULL, OPT_JSON },
  { "init", required_argument, NULL, OPT_INIT },
  { "new-head", required_argument, NULL, OPT_NEW_HEAD },
  { "freeze", required_argument, NULL, OPT_FREEZE },
  { "size", required_argument, NULL, OPT_SIZE },
  { "weight-decay", required_argument, NULL, OPT_WEIGHT_DECAY },
  { "pfm-bank", required_argument, NULL, OPT_PFM_BANK },
  { "pfm-size", required_argument, NULL, OPT_PFM_SIZE },
  { "bn-batches", required_argument, NULL, OPT_BN_BATCHES },
  { "test-per-class", required_argument, NULL, OPT_TEST_PER_CLASS },
  { "probe", required_argument, NULL, OPT_PROBE },
  { "probe-every", required_argument, NULL, OPT_PROBE_EVERY },
  { "probe-out", required_argument, NULL, OPT_PROBE_OUT },
  { "help", no_argument, NULL, 'h' },
  { NULL, 0, NULL, 0 },
};

/* Set by the SIGINT handler, polled by nn_train every step. A signal handler can reach
 * nothing else, hence the one file-scope variable. */
static atomic_int cancel_flag;

static void
on_sigint (int sig)
{
  (void) sig;
  atomic_store (&cancel_flag, 1);
}

typedef struct
{
  int       epochs;
  bool      json;
  double    start;
  double    epoch_start;
  cJSON    *history;  /* JSON array of per-epoch objects, or NULL */
  float     last_test_accuracy;
  /* snapshots: every `snapshot_every` steps (0: none) the model goes to out with the step */
  NnModel    *model;
  const char *out;
  long        snapshot_every;
  cJSON      *snapshots;   /* JSON array of { step, path }, or NULL */
  bool        snapshot_failed;
  NnError     snapshot_error;
  CliProbes  *probes;      /* --probe, or NULL */
  bool        probe_failed;
  NnError     probe_error;
} Progress;

static double
now_seconds (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + 1e-9 * (double) ts.tv_nsec;
}

/* out with "-stepNNNNNN" before its .safetensors ending (or at the end when it has none). */
static void
snapshot_path (char       *buf,
               size_t      size,
               const char *out,
               long        step)
{
  static const char ext[] = ".safetensors";
  size_t len = strlen (out), n = sizeof ext - 1;
  bool has_ext = len > n && strcmp (out + len - n, ext) == 0;
  snprintf (buf, size, "%.*s-step%06ld%s", (int) (has_ext ? len - n : len), out, step, ext);
}

/* Saves the weights of the step just done. A failure stops the training through the cancel
 * flag; cli_train_main then reports it. */
static void
save_snapshot (Progress *pr,
               long      step)
{
  char path[4096];
  snapshot_path (path, sizeof path, pr->out, step);
  /* the test accuracy of an earlier epoch is not this step's */
  double accuracy = pr->model->test_accuracy;
  pr->model->test_accuracy = -1.0;
  bool saved = nn_model_save (pr->model, path, &pr->snapshot_error);
  pr->model->test_accuracy = accuracy;
  if (!saved)
    {
      pr->snapshot_failed = true;
      atomic_store (&cancel_flag, 1);
      return;
    }
  fprintf (stderr, "step %ld: saved %s\n", step, path);
  if (pr->snapshots != NULL)
    {
      cJSON *e = cJSON_CreateObject ();
      cJSON_AddNumberToObject (e, "step", (double) step);
      cJSON_AddStringToObject (e, "path", path);
      cJSON_AddItemToArray (pr->snapshots, e);
    }
}

static void
on_progress (const NnTrainProgress *p,
             void                  *user_data)
{
  Progress *pr = user_data;
  if (cli_probes_due (pr->probes, p->step, p->epoch_done)
      && !cli_probes_write (pr->probes, pr->model, p->step, p->epoch, &pr->probe_error))
    {
      pr->probe_failed = true;
      atomic_store (&cancel_flag, 1);
      return;
    }
  if (!p->epoch_done)
    {
      if (pr->snapshot_every > 0 && p->step % pr->snapshot_every == 0)
        save_snapshot (pr, p->step);
      return;
    }
  double t = now_seconds ();
  double seconds = t - pr->epoch_start;
  pr->epoch_start = t;
  pr->last_test_accuracy = p->test_accuracy;
  fprintf (stderr, "epoch %d/%d  train loss %.4f acc %.2f%%  test loss %.4f acc %.2f%%  "
           "lr %.3g  %.1f s", p->epoch + 1, pr->epochs, (double) p->train_loss,
           100.0 * (double) p->train_accuracy, (double) p->test_loss,
           100.0 * (double) p->test_accuracy, (double) p->lr, seconds);
  if (p->dead_relu >= 0.0f)
    fprintf (stderr, "  dead ReLUs %.2f%% sparsity %.2f%%", 100.0 * (double) p->dead_relu,
             100.0 * (double) p->relu_sparsity);
  fputc ('\n', stderr);
  if (pr->history != NULL)
    {
      cJSON *e = cJSON_CreateObject ();
      cJSON_AddNumberToObject (e, "epoch", p->epoch + 1);
      cJSON_AddNumberToObject (e, "train_loss", (double) p->train_loss);
      cJSON_AddNumberToObject (e, "train_accuracy", (double) p->train_accuracy);
      cJSON_AddNumberToObject (e, "test_loss", (double) p->test_loss);
      cJSON_AddNumberToObject (e, "test_accuracy", (double) p->test_accuracy);
      cJSON_AddNumberToObject (e, "lr", (double) p->lr);
      cJSON_AddNumberToObject (e, "seconds", seconds);
      if (p->dead_relu >= 0.0f)
        {
          cJSON_AddNumberToObject (e, "dead_relu", (double) p->dead_relu);
          cJSON_AddNumberToObject (e, "relu_sparsity", (double) p->relu_sparsity);
        }
      cJSON_AddItemToArray (pr->history, e);
    }
}

/* The folder that will hold path must exist and be writable, checked before hours of
 * training rather than after. */
static bool
check_out_dir (const char *path)
{
  char *copy = strdup (path);
  if (copy == NULL)
    return cli_fail (CLI_EXIT_FAILURE, "out of memory"), false;
  const char *dir = dirname (copy);
  bool ok = access (dir, W_OK | X_OK) == 0;
  if (!ok)
    cli_fail (CLI_EXIT_FAILURE, "%s: cannot write into %s: %s", path, dir, strerror (errno));
  free (copy);
  return ok;
}

typedef struct
{
  const char   *arch;
  const char   *init;         /* --init MODEL, or NULL */
  const char   *freeze;       /* --freeze LAYER, or NULL */
  int           new_head;     /* --new-head N, 0 when not given */
  int           size_h;       /* --size, 0 when not given */
  int           size_w;
  const char   *data;
  const char   *out;
  const char   *schedule;
  const char   *window;       /* NULL: lung for CT datasets */
  float         width;
  float         weight_decay;  /* < 0: the optimizer's own */
  NnPfmBank     bank;
  int           pfm_size;
  bool          pfm_set;       /* --pfm-bank or --pfm-size given */
  int           last_stride;
  int           per_class;
  int           test_per_class;
  int           threads;
  int           snapshot_every;
  const char   *probe;        /* --probe IMAGE[,IMAGE], or NULL */
  const char   *probe_out;
  int           probe_every;
  bool          json;
  NnTrainConfig config;
} TrainArgs;

static int
parse_args (TrainArgs *a,
            int        argc,
            char     **argv)
{
  NnError err = { 0 };
  int c;
  while ((c = cli_getopt (argc, argv, options)) != -1)
    {
      bool ok = true;
      switch (c)
        {
        case OPT_ARCH:
          a->arch = optarg;
          break;
        case OPT_DATA:
          a->data = optarg;
          break;
        case OPT_OUT:
          a->out = optarg;
          break;
        case OPT_EPOCHS:
          ok = cli_parse_int ("epochs", optarg, 1, 100000, &a->config.epochs);
          break;
        case OPT_BATCH:
          ok = cli_parse_int ("batch", optarg, 1, 65536, &a->config.batch);
          break;
        case OPT_LR:
          ok = cli_parse_float ("lr", optarg, 0.0, 100.0, &a->config.lr);
          break;
        case OPT_OPTIMIZER:
          if (!nn_optimizer_parse (optarg, &a->config.optimizer, &err))
            {
              nn_error_prefix (&err, "--optimizer");
              return cli_fail_error (CLI_EXIT_USAGE, &err);
            }
          break;
        case OPT_POLICY:
          if (!nn_grad_policy_parse (optarg, &a->config.policy, &err))
            {
              nn_error_prefix (&err, "--policy");
              return cli_fail_error (CLI_EXIT_USAGE, &err);
            }
          a->config.set_policy = true;
          break;
        case OPT_SEED:
          ok = cli_parse_u64 ("seed", optarg, &a->config.seed);
          break;
        case OPT_THREADS:
          ok = cli_parse_int ("threads", optarg, 1, 1024, &a->threads);
          break;
        case OPT_WIDTH:
          ok = cli_parse_float ("width", optarg, 1.0 / 64.0, 16.0, &a->width);
          break;
        case OPT_LAST_STRIDE:
          ok = cli_parse_int ("last-stride", optarg, 1, 2, &a->last_stride);
          break;
        case OPT_PER_CLASS:
          ok = cli_parse_int ("per-class", optarg, 1, 1 << 30, &a->per_class);
          break;
        case OPT_SCHEDULE:
          a->schedule = optarg;
          break;
        case OPT_AUGMENT:
          a->config.augment = true;
          break;
        case OPT_WINDOW:
          a->window = optarg;
          break;
        case OPT_SNAPSHOT_EVERY:
          ok = cli_parse_int ("snapshot-every", optarg, 1, 1 << 30, &a->snapshot_every);
          break;
        case OPT_JSON:
          a->json = true;
          break;
        case OPT_INIT:
          a->init = optarg;
          break;
        case OPT_NEW_HEAD:
          ok = cli_parse_int ("new-head", optarg, 1, 1 << 20, &a->new_head);
          break;
        case OPT_FREEZE:
          a->freeze = optarg;
          break;
        case OPT_SIZE:
          ok = cli_parse_size (optarg, &a->size_h, &a->size_w);
          break;
        case OPT_WEIGHT_DECAY:
          ok = cli_parse_float ("weight-decay", optarg, 0.0, 10.0, &a->weight_decay);
          break;
        case OPT_PFM_BANK:
          if (!nn_pfm_bank_parse (optarg, &a->bank, &err))
            {
              nn_error_prefix (&err, "--pfm-bank");
              return cli_fail_error (CLI_EXIT_USAGE, &err);
            }
          a->pfm_set = true;
          break;
        case OPT_PFM_SIZE:
          ok = cli_parse_int ("pfm-size", optarg, 1, 16, &a->pfm_size);
          a->pfm_set = true;
          break;
        case OPT_TEST_PER_CLASS:
          ok = cli_parse_int ("test-per-class", optarg, 1, 1 << 30, &a->test_per_class);
          break;
        case OPT_PROBE:
          a->probe = optarg;
          break;
        case OPT_PROBE_EVERY:
          ok = cli_parse_int ("probe-every", optarg, 1, 1 << 30, &a->probe_every);
          break;
        case OPT_PROBE_OUT:
          a->probe_out = optarg;
          break;
        case OPT_BN_BATCHES:
          ok = cli_parse_int ("bn-batches", optarg, 0, 1 << 30, &a->config.bn_batches);
          break;
        case 'h':
          fputs (usage, stdout);
          return -1;
        default:
          return CLI_EXIT_USAGE;
        }
      if (!ok)
        return CLI_EXIT_USAGE;
    }
  if (optind < argc)
    return cli_fail (CLI_EXIT_USAGE, "train: unexpected argument '%s' (see 'cnnscope-cli "
                     "train --help')", argv[optind]);
  if ((a->probe != NULL) != (a->probe_out != NULL))
    return cli_fail (CLI_EXIT_USAGE, "train: --%s needs --%s", a->probe != NULL ? "probe"
                     : "probe-out", a->probe != NULL ? "probe-out DIR" : "probe IMAGE");
  if ((a->arch == NULL) == (a->init == NULL))
    return cli_fail (CLI_EXIT_USAGE, "train: give one of --arch NAME and --init MODEL (see "
                     "'cnnscope-cli train --help')");
  if (a->data == NULL || a->out == NULL)
    return cli_fail (CLI_EXIT_USAGE, "train: --%s is required (see 'cnnscope-cli train "
                     "--help')", a->data == NULL ? "data" : "out");
  if (a->init == NULL && (a->new_head > 0 || a->freeze != NULL || a->size_h > 0))
    return cli_fail (CLI_EXIT_USAGE, "train: --%s needs --init MODEL", a->new_head > 0
                     ? "new-head" : a->freeze != NULL ? "freeze" : "size");
  if (a->init != NULL && (a->width != 1.0f || a->last_stride != 0))
    return cli_fail (CLI_EXIT_USAGE, "train: --%s shapes a built-in architecture and does not "
                     "go with --init", a->width != 1.0f ? "width" : "last-stride");
  if (strcmp (a->schedule, "cosine") == 0)
    a->config.schedule.kind = NN_SCHEDULE_COSINE;
  else if (strcmp (a->schedule, "constant") == 0)
    a->config.schedule.kind = NN_SCHEDULE_CONSTANT;
  else if (strcmp (a->schedule, "step") == 0)
    a->config.schedule.kind = NN_SCHEDULE_STEP;
  else
    return cli_fail (CLI_EXIT_USAGE, "bad value '%s' for --schedule (expected cosine, step or "
                     "constant)", a->schedule);
  NnCtWindow window;
  if (a->window != NULL && strcmp (a->window, "none") != 0
      && !nn_ct_window_parse (a->window, &window, &err))
    {
      nn_error_prefix (&err, "--window");
      return cli_fail_error (CLI_EXIT_USAGE, &err);
    }
  bool known = a->arch == NULL;
  for (const char *const *n = nn_arch_names (); !known && *n != NULL; n++)
    known = strcmp (*n, a->arch) == 0;
  if (!known)
    return cli_fail (CLI_EXIT_USAGE, "unknown architecture '%s' (see 'cnnscope-cli train "
                     "--help')", a->arch);
  if (a->pfm_set && (a->arch == NULL || strcmp (a->arch, "pfnet18") != 0))
    return cli_fail (CLI_EXIT_USAGE, "--pfm-bank and --pfm-size are options of pfnet18, not "
                     "%s", a->arch != NULL ? a->arch : "of a --init model");
  int index[16];
  if (a->pfm_set && nn_pfm_bank_subset (a->bank, a->pfm_size, index, &err) == 0)
    {
      nn_error_prefix (&err, "--pfm-size");
      return cli_fail_error (CLI_EXIT_USAGE, &err);
    }
  /* After the whole line, so that --optimizer cannot reset it whatever the order. */
  if (a->weight_decay >= 0.0f)
    a->config.optimizer.weight_decay = a->weight_decay;
  return 0;
}

/* Loads the training split and the test split at its size, each a subset per class when
 * asked; with `model` (--init), both fitted to the model's input. */
static bool
load_data (const TrainArgs *a,
           const NnModel   *model,
           NnDataset      **train,
           NnDataset      **test)
{
  NnError err = { 0 };
  int c = model != NULL ? nn_model_input_channels (model) : 0;
  int h = model != NULL ? nn_model_input_height (model) : 0;
  int w = model != NULL ? nn_model_input_width (model) : 0;
  *train = nn_dataset_open (a->data, true, c, h, w, &err);
  if (*train == NULL)
    return cli_fail_error (CLI_EXIT_FAILURE, &err), false;
  if (a->per_class > 0)
    {
      NnDataset *sub = nn_dataset_subset_per_class (*train, a->per_class, a->config.seed);
      if (sub == NULL)
        return cli_fail (CLI_EXIT_FAILURE, "out of memory"), false;
      nn_dataset_free (*train);
      *train = sub;
    }
  *test = nn_dataset_open (a->data, false, (*train)->c, (*train)->h, (*train)->w, &err);
  if (*test == NULL)
    return cli_fail_error (CLI_EXIT_FAILURE, &err), false;
  if (a->test_per_class > 0)
    {
      NnDataset *sub = nn_dataset_subset_per_class (*test, a->test_per_class, a->config.seed);
      if (sub == NULL)
        return cli_fail (CLI_EXIT_FAILURE, "out of memory"), false;
      nn_dataset_free (*test);
      *test = sub;
    }
  return true;
}

/* The window of a CT dataset (16-bit gray PNGs): --window, else the --init model's own, else
 * lung; applied to both splits. *has is false for other datasets and with --window none. */
static bool
apply_window (const TrainArgs *a,
              const NnModel   *init,
              NnDataset       *train,
              NnDataset       *test,
              bool            *has,
              NnCtWindow      *window)
{
  *has = false;
  if (a->window != NULL && strcmp (a->window, "none") == 0)
    return true;
  if (!train->ct16)
    {
      if (a->window != NULL)
        return cli_fail (CLI_EXIT_FAILURE, "--window: %s is not a CT dataset (its images are "
                         "not all 16-bit gray PNGs in HU + 1024)", a->data), false;
      return true;
    }
  if (!test->ct16)
    return cli_fail (CLI_EXIT_FAILURE, "%s: the training images are 16-bit CT PNGs but the "
                     "test images are not", a->data), false;
  *window = init != NULL && init->has_window ? init->window : NN_CT_WINDOW_LUNG;
  if (a->window != NULL)
    nn_ct_window_parse (a->window, window, NULL);
  nn_dataset_apply_ct_window (train, window);
  nn_dataset_apply_ct_window (test, window);
  *has = true;
  return true;
}

static NnModel *
build_model (const TrainArgs *a,
             const NnDataset *train,
             const char      *command)
{
  NnError err = { 0 };
  NnArchSpec spec = {
    .name = a->arch, .in_c = train->c, .in_h = train->h, .in_w = train->w,
    .n_classes = train->n_classes, .width = a->width, .bank = a->bank,
    .pfm_size = a->pfm_size, .last_stride = a->last_stride, .seed = a->config.seed,
  };
  NnGraph *graph = nn_arch_build (&spec, &err);
  if (graph == NULL)
    return cli_fail_error (CLI_EXIT_FAILURE, &err), NULL;
  NnModel *model = nn_model_new (graph, a->arch);
  if (model == NULL)
    {
      nn_graph_free (graph);
      return cli_fail (CLI_EXIT_FAILURE, "out of memory"), NULL;
    }
  for (int k = 0; k < train->n_classes; k++)
    if (!nn_model_set_label (model, k, train->class_names[k]))
      {
        nn_model_free (model);
        return cli_fail (CLI_EXIT_FAILURE, "out of memory"), NULL;
      }
  nn_dataset_mean_std (train, model->mean, model->std);
  for (int ch = 0; ch < train->c; ch++)
    if (!(model->std[ch] > 1e-6f))
      model->std[ch] = 1.0f;
  nn_arch_spec_format_options (&spec, model->arch_options, sizeof model->arch_options);
  snprintf (model->dataset, sizeof model->dataset, "%s", a->data);
  snprintf (model->command, sizeof model->command, "%s", command);
  return model;
}

/* --init: *out receives the model file with --size, --new-head and --freeze applied, and
 * *trainable the file's own trainable flags (one per parameter), restored before saving:
 * freezing belongs to this run, not to the model. `note` receives what changed, printed once
 * the data fits (so that an error stays the only line on stderr). Returns 0 or the exit
 * status. */
static int
init_model (const TrainArgs *a,
            NnModel        **out,
            bool           **trainable,
            char            *note,
            size_t           size)
{
  size_t len = (size_t) snprintf (note, size, "fine-tuning %s", a->init);
  NnModel *model = cli_load_model (a->init);
  if (model == NULL)
    return CLI_EXIT_FAILURE;
  NnError err = { 0 };
  int status = CLI_EXIT_FAILURE;
  int c = nn_model_input_channels (model);
  const NnShape in = model->graph->nodes[0].shape;
  if ((c != 1 && c != 3) || in.rank != 3)
    {
      cli_fail (CLI_EXIT_FAILURE, "%s: the model takes inputs of %d channels; training reads "
                "images, gray or RGB", a->init, c);
      goto fail;
    }
  if (a->size_h > 0 && (a->size_h != in.h || a->size_w != in.w))
    {
      if (!nn_finetune_resize_input (model, a->size_h, a->size_w, &err))
        goto fail_error;
      len += (size_t) snprintf (note + len, len < size ? size - len : 0,
                                "; input %dx%d instead of %dx%d", a->size_h, a->size_w, in.h,
                                in.w);
    }
  if (a->new_head > 0)
    {
      if (!nn_finetune_new_head (model, a->new_head, a->config.seed, &err))
        goto fail_error;
      len += (size_t) snprintf (note + len, len < size ? size - len : 0,
                                "; new classifier '%s' of %d outputs",
                                model->graph->nodes[nn_finetune_classifier (model->graph)].name,
                                a->new_head);
    }
  *trainable = malloc (sizeof (bool) * (size_t) (model->graph->n_params + 1));
  if (*trainable == NULL)
    {
      cli_fail (CLI_EXIT_FAILURE, "out of memory");
      goto fail;
    }
  for (int p = 0; p < model->graph->n_params; p++)
    (*trainable)[p] = model->graph->params[p].trainable;
  if (a->freeze != NULL)
    {
      if (!nn_finetune_has_layer (model->graph, a->freeze))
        {
          status = cli_fail (CLI_EXIT_USAGE, "--freeze: %s has no layer '%s' nor layers named "
                             "'%s.*' ('cnnscope-cli info %s' lists them)", a->init, a->freeze,
                             a->freeze, a->init);
          goto fail;
        }
      int frozen = nn_finetune_freeze (model->graph, a->freeze, &err);
      if (frozen < 0)
        goto fail_error;
      snprintf (note + len, len < size ? size - len : 0, "; frozen: '%s' and every layer "
                "before it (%d with parameters)", a->freeze, frozen);
    }
  *out = model;
  return 0;

fail_error:
  nn_error_prefix (&err, "%s", a->init);
  cli_fail_error (CLI_EXIT_FAILURE, &err);
fail:
  free (*trainable);
  *trainable = NULL;
  nn_model_free (model);
  return status;
}

/* The --init model against the dataset: as many outputs as classes, the dataset's class
 * names as labels; provenance of this run. */
static bool
fit_model (const TrainArgs *a,
           NnModel         *model,
           const NnDataset *train,
           const char      *command)
{
  if (model->n_classes != train->n_classes)
    {
      if (a->new_head > 0)
        cli_fail (CLI_EXIT_USAGE, "--new-head %d: %s has %d classes", a->new_head, a->data,
                  train->n_classes);
      else
        cli_fail (CLI_EXIT_FAILURE, "%s has %d outputs and %s %d classes; give --new-head %d "
                  "to replace its classifier", a->init, model->n_classes, a->data,
                  train->n_classes, train->n_classes);
      return false;
    }
  bool renamed = false;
  for (int k = 0; k < train->n_classes; k++)
    {
      renamed = renamed || strcmp (model->labels[k], train->class_names[k]) != 0;
      if (!nn_model_set_label (model, k, train->class_names[k]))
        return cli_fail (CLI_EXIT_FAILURE, "out of memory"), false;
    }
  if (renamed && a->new_head == 0)
    fprintf (stderr, "labels taken from %s\n", a->data);
  snprintf (model->dataset, sizeof model->dataset, "%s", a->data);
  snprintf (model->command, sizeof model->command, "%s", command);
  return true;
}

int
cli_train_main (int    argc,
                char **argv)
{
  TrainArgs a = {
    .schedule = "cosine", .width = 1.0f, .weight_decay = -1.0f, .bank = NN_PFM_BANK_FULL,
    .threads = 0, .probe_every = 100,
  };
  nn_train_config_init (&a.config);
  int status = parse_args (&a, argc, argv);
  if (status != 0)
    return status < 0 ? 0 : status;
  cli_set_threads (a.threads);
  if (!check_out_dir (a.out))
    return CLI_EXIT_FAILURE;

  char command[1024];
  cli_command_line (command, sizeof command, argc, argv);
  NnDataset *train = NULL, *test = NULL;
  NnModel *model = NULL;
  bool *trainable = NULL;
  Progress progress = { .epochs = a.config.epochs, .last_test_accuracy = -1.0f };
  struct sigaction sa = { 0 }, old_sa;
  bool handler_set = false;
  char note[512] = "";
  if (a.init != NULL
      && (status = init_model (&a, &model, &trainable, note, sizeof note)) != 0)
    goto done;
  status = CLI_EXIT_FAILURE;
  if (!load_data (&a, model, &train, &test))
    goto done;
  if (train->n < 1 || test->n < 1)
    {
      cli_fail (CLI_EXIT_FAILURE, "%s: no images to train on", a.data);
      goto done;
    }
  bool has_window = false;
  NnCtWindow window;
  if (!apply_window (&a, model, train, test, &has_window, &window))
    goto done;
  if (model == NULL)
    model = build_model (&a, train, command);
  else if (!fit_model (&a, model, train, command))
    {
      status = a.new_head > 0 ? CLI_EXIT_USAGE : CLI_EXIT_FAILURE;
      goto done;
    }
  if (model == NULL)
    goto done;
  if (note[0] != '\0')
    fprintf (stderr, "%s\n", note);
  model->has_window = has_window;
  if (has_window)
    {
      model->window = window;
      char wbuf[64];
      nn_ct_window_format (&window, wbuf, sizeof wbuf);
      fprintf (stderr, "CT dataset: 16-bit PNGs read as HU + 1024, model input window %s\n",
               wbuf);
    }
  if (a.config.schedule.kind == NN_SCHEDULE_STEP)
    {
      /* Divide the rate by 10 after each third of the run. */
      int batch = a.config.batch < train->n ? a.config.batch : train->n;
      long steps = (long) (train->n / batch) * a.config.epochs;
      a.config.schedule.step_size = steps / 3 > 0 ? steps / 3 : 1;
      a.config.schedule.gamma = 0.1f;
    }

  if (a.json)
    progress.history = cJSON_CreateArray ();
  if (a.json && a.snapshot_every > 0)
    progress.snapshots = cJSON_CreateArray ();
  progress.model = model;
  progress.out = a.out;
  progress.snapshot_every = a.snapshot_every;
  if (a.probe != NULL
      && (progress.probes = cli_probes_new (model, a.probe, a.probe_out, a.probe_every)) == NULL)
    goto done;
  progress.start = progress.epoch_start = now_seconds ();

  /* The handler stays until the model is saved: a Ctrl-C during the save is then ignored
   * rather than killing the process halfway through writing the temporary file. */
  sa.sa_handler = on_sigint;
  sigemptyset (&sa.sa_mask);
  atomic_store (&cancel_flag, 0);
  handler_set = sigaction (SIGINT, &sa, &old_sa) == 0;
  fprintf (stderr, "training %s on %s: %d images of %dx%dx%d, %d classes, %zu parameters, "
           "test set of %d\n", a.arch != NULL ? a.arch : a.init, a.data, train->n, train->c,
           train->h, train->w, train->n_classes, nn_graph_count_trainable (model->graph),
           test->n);
  fprintf (stderr, "weight decay %g, precise batch norm over %d batches%s%s\n",
           (double) a.config.optimizer.weight_decay, a.config.bn_batches,
           model->arch_options[0] != '\0' ? ", " : "", model->arch_options);
  NnError err = { 0 };
  bool trained = nn_train (model, train, test, &a.config, on_progress, &progress, &cancel_flag,
                           &err);
  double seconds = now_seconds () - progress.start;
  if (!trained)
    {
      if (progress.probe_failed)
        cli_fail (CLI_EXIT_FAILURE, "training stopped, a probe could not be written: %s; %s was "
                  "not written", progress.probe_error.message, a.out);
      else if (progress.snapshot_failed)
        cli_fail (CLI_EXIT_FAILURE, "training stopped, a snapshot could not be saved: %s; %s was "
                  "not written", progress.snapshot_error.message, a.out);
      else if (err.code == NN_ERROR_CANCELLED)
        status = cli_fail (CLI_EXIT_CANCELLED, "training cancelled after %.1f s; %s was not "
                           "written", seconds, a.out);
      else
        cli_fail_error (CLI_EXIT_FAILURE, &err);
      goto done;
    }
  model->test_accuracy = progress.last_test_accuracy;
  for (int p = 0; trainable != NULL && p < model->graph->n_params; p++)
    model->graph->params[p].trainable = trainable[p];
  if (!nn_model_save (model, a.out, &err))
    {
      cli_fail_error (CLI_EXIT_FAILURE, &err);
      goto done;
    }
  fprintf (stderr, "saved %s (test accuracy %.2f%%, %.1f s)\n", a.out,
           100.0 * model->test_accuracy, seconds);
  if (a.json)
    {
      cJSON *root = cJSON_CreateObject ();
      cJSON_AddStringToObject (root, "model", a.out);
      cJSON_AddStringToObject (root, "arch", model->arch);
      if (a.init != NULL)
        cJSON_AddStringToObject (root, "init", a.init);
      cJSON_AddStringToObject (root, "dataset", a.data);
      cJSON_AddNumberToObject (root, "train_n", train->n);
      cJSON_AddNumberToObject (root, "test_n", test->n);
      cJSON_AddNumberToObject (root, "params", (double) cli_count_params (model->graph));
      cJSON_AddStringToObject (root, "arch_options", model->arch_options);
      cJSON_AddNumberToObject (root, "weight_decay", (double) a.config.optimizer.weight_decay);
      cJSON_AddNumberToObject (root, "bn_batches", a.config.bn_batches);
      cJSON_AddItemToObject (root, "epochs", progress.history);
      progress.history = NULL;
      if (progress.snapshots != NULL)
        cJSON_AddItemToObject (root, "snapshots", progress.snapshots);
      progress.snapshots = NULL;
      cJSON_AddNumberToObject (root, "test_accuracy", model->test_accuracy);
      cJSON_AddNumberToObject (root, "seconds", seconds);
      if (!cli_print_json (root))
        goto done;
    }
  status = 0;

done:
  if (handler_set)
    sigaction (SIGINT, &old_sa, NULL);
  cJSON_Delete (progress.history);
  free (trainable);
  cJSON_Delete (progress.snapshots);
  cli_probes_free (progress.probes);
  nn_model_free (model);
  nn_dataset_free (test);
  nn_dataset_free (train);
  return status;
}
