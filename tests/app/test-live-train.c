/* SPDX-License-Identifier: MIT */
/* Live explanations during training, under Xvfb: the Explain view follows a run's newest
 * weights with at most one explanation at a time (a burst of snapshots gives two runs, the
 * second on the newest weights, its map the one nn_explain_run gives on them); a short run with
 * a probe shows the probe's Grad-CAM and the AM strip on its newest weights in the Train view
 * and the Explain view's map of a mid-training step (screenshots light and dark); stopping the
 * run or closing the window while a live round runs is prompt and leaves nothing behind.
 * Waits are on events, with the generous limit of test-util.h. */
#include <adwaita.h>
#include <string.h>

#include "scope-application.h"
#include "scope-explain-view.h"
#include "scope-train-view.h"
#include "scope-window.h"
#include "test-util.h"
#include "ui-util.h"

static ScopeApplication *app;
static ScopeWindow      *window;
static char             *shot_dir;

#define activate(...) ui_util_activate (GTK_WIDGET (window), __VA_ARGS__)

static GtkWidget *
find_descendant (GtkWidget *widget,
                 GType      type)
{
  if (G_TYPE_CHECK_INSTANCE_TYPE (widget, type))
    return widget;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_descendant (child, type);
      if (found != NULL)
        return found;
    }
  return NULL;
}

static ScopeTrainView *
train_view (void)
{
  return SCOPE_TRAIN_VIEW (find_descendant (GTK_WIDGET (window), SCOPE_TYPE_TRAIN_VIEW));
}

static ScopeExplainView *
explain_view (void)
{
  return SCOPE_EXPLAIN_VIEW (find_descendant (GTK_WIDGET (window), SCOPE_TYPE_EXPLAIN_VIEW));
}

static gboolean
count_frame (GtkWidget     *widget,
             GdkFrameClock *clock,
             gpointer       data)
{
  (void) widget;
  (void) clock;
  (*(int *) data)++;
  return G_SOURCE_CONTINUE;
}

static gboolean
frames_done (gpointer data)
{
  return *(int *) data >= 3;
}

/* Lets the window lay out and draw a few frames. */
static void
wait_frames (void)
{
  int count = 0;
  guint id = gtk_widget_add_tick_callback (GTK_WIDGET (window), count_frame, &count, NULL);
  test_util_wait (frames_done, &count, "frames to be drawn");
  gtk_widget_remove_tick_callback (GTK_WIDGET (window), id);
}

static gboolean
activations_delivered (gpointer data)
{
  (void) data;
  return scope_window_get_activations (window) != NULL && !scope_window_is_busy (window);
}

static void
set_flag (gpointer data)
{
  *(gboolean *) data = TRUE;
}

static gboolean window_finalized;

/* A window on the demo model and sample image, their activations delivered. */
static void
open_window (void)
{
  g_application_activate (G_APPLICATION (app));
  window = SCOPE_WINDOW (gtk_application_get_active_window (GTK_APPLICATION (app)));
  g_assert_nonnull (window);
  g_object_add_weak_pointer (G_OBJECT (window), (gpointer *) &window);
  window_finalized = FALSE;
  g_object_set_data_full (G_OBJECT (window), "test-live-finalized", &window_finalized, set_flag);
  gtk_window_set_default_size (GTK_WINDOW (window), 1280, 800);
  test_util_wait (activations_delivered, NULL, "activations of the demo model");
}

static GtkWindow *
find_dialog (void)
{
  GListModel *toplevels = gtk_window_get_toplevels ();
  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr (GtkWindow) toplevel = g_list_model_get_item (toplevels, i);
      if (ADW_IS_MESSAGE_DIALOG (toplevel) && gtk_widget_get_visible (GTK_WIDGET (toplevel)))
        return toplevel;
    }
  return NULL;
}

/* Closes the window as the user does (answering Close when it asks about a run or weights
 * not saved): its threads are joined, nothing keeps it alive. */
static void
close_window (void)
{
  gint64 start = g_get_monotonic_time ();
  gtk_window_close (GTK_WINDOW (window));
  GtkWindow *dialog = find_dialog ();
  if (dialog != NULL)
    adw_message_dialog_response (ADW_MESSAGE_DIALOG (dialog), "close");
  while (g_main_context_iteration (NULL, FALSE))
    ;
  gint64 took = g_get_monotonic_time () - start;
  g_test_message ("closing the window took %.1f ms", took / 1000.0);
  g_assert_cmpint (took, <, TEST_UTIL_PROMPT_US);
  g_assert_null (window);
  g_assert_true (window_finalized);
}

static void
screenshots (const char *name)
{
  AdwStyleManager *styles = adw_style_manager_get_default ();
  const struct { AdwColorScheme scheme; const char *name; } schemes[] = {
    { ADW_COLOR_SCHEME_FORCE_LIGHT, "light" }, { ADW_COLOR_SCHEME_FORCE_DARK, "dark" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (schemes); i++)
    {
      adw_style_manager_set_color_scheme (styles, schemes[i].scheme);
      wait_frames ();
      g_autofree char *file = g_strdup_printf ("%s-%s", name, schemes[i].name);
      ui_util_screenshot (GTK_WIDGET (window), shot_dir, file, 20.0, 100);
    }
  adw_style_manager_set_color_scheme (styles, ADW_COLOR_SCHEME_DEFAULT);
}

/* The Explain view and a burst of snapshots. */

typedef struct
{
  ScopeExplainView *view;
  guint64           version;
} StampWait;

static gboolean
explained_version (gpointer data)
{
  const StampWait *w = data;
  ScopeTrainStamp stamp;
  return !scope_view_get_busy (SCOPE_VIEW (w->view))
         && scope_explain_view_get_stamp (w->view, 0, &stamp) && stamp.version == w->version;
}

static gboolean
explain_idle (gpointer data)
{
  return !scope_view_get_busy (SCOPE_VIEW (data))
         && scope_explain_view_get_explanation (SCOPE_EXPLAIN_VIEW (data), 0) != NULL;
}

/* Snapshot k of a pretend run: the demo model's weights scaled by 1 + k / 100, stamped with
 * version k. */
static ScopeModel *
make_snapshot (const NnModel *base,
               int            k)
{
  NnModel *copy = nn_model_dup (base);
  g_assert_nonnull (copy);
  for (size_t i = 0; i < copy->graph->n_data; i++)
    copy->graph->data[i] *= 1.0f + (float) k / 100.0f;
  nn_graph_bump_version (copy->graph);
  ScopeTrainStamp stamp = { .version = (guint64) k, .step = 10L * k, .epoch = k / 10 };
  g_autofree char *name = g_strdup_printf ("demo (step %d)", 10 * k);
  ScopeModel *snapshot = scope_model_new_snapshot (copy, name, &stamp);
  nn_model_free (copy);
  return snapshot;
}

static void
test_explain_coalesces (void)
{
  open_window ();
  ScopeExplainView *explain = explain_view ();
  activate ("view.show", "s", "explain");
  test_util_wait (explain_idle, explain, "the explanation of the demo model");
  guint runs = scope_explain_view_get_n_runs (explain);

  /* 30 snapshots in one go, as a run publishes them faster than they are explained: the first
   * starts an explanation, the others wait and only the newest is explained next. */
  enum { N = 30 };
  ScopeModel *base = scope_model_ref (scope_window_get_model (window));
  ScopeModel *last = NULL;
  for (int k = 1; k <= N; k++)
    {
      ScopeModel *snapshot = make_snapshot (scope_model_get_nn_model (base), k);
      scope_view_show_model (SCOPE_VIEW (train_view ()), snapshot);
      g_clear_pointer (&last, scope_model_unref);
      last = snapshot;
    }
  StampWait w = { explain, N };
  test_util_wait (explained_version, &w, "the explanation of the newest snapshot");
  guint burst = scope_explain_view_get_n_runs (explain) - runs;
  g_test_message ("%d snapshots, %u explanations", N, burst);
  g_assert_cmpuint (burst, ==, 2);
  ScopeTrainStamp stamp;
  g_assert_true (scope_explain_view_get_stamp (explain, 0, &stamp));
  g_assert_cmpint (stamp.step, ==, 10 * N);
  g_assert_nonnull (strstr (scope_explain_view_get_status (explain), "step 300, epoch 4"));

  /* the map is that of the newest weights, as nn_explain_run gives it on them */
  ScopeExplanation *shown = scope_explain_view_get_explanation (explain, 0);
  NnExplainSpec spec;
  nn_explain_spec_init (&spec);
  spec.faith.metrics = 0;
  NnError err = { 0 };
  const NnInput *in = scope_input_get_nn_input (scope_window_get_input (window));
  NnExplanation *expected = nn_explain_run (scope_model_get_nn_model (last), in, &spec, NULL,
                                            &err);
  g_assert_nonnull (expected);
  g_assert_cmpint (shown->map->target, ==, expected->map->target);
  g_assert_cmpfloat_with_epsilon (shown->probability, expected->probability, 1e-4);
  test_util_assert_close (shown->map->map, expected->map->map,
                          (size_t) expected->map->h * (size_t) expected->map->w, 1e-4,
                          "the map of the newest weights");
  /* and not that of the first snapshot's */
  NnExplanation *first = nn_explain_run (scope_model_get_nn_model (base), in, &spec, NULL, &err);
  g_assert_nonnull (first);
  g_assert_cmpfloat (first->probability, !=, shown->probability);
  nn_explanation_free (first);
  nn_explanation_free (expected);
  scope_model_unref (last);
  scope_model_unref (base);
  close_window ();
}

/* A short run. */

typedef struct
{
  ScopeTrainView *view;
  guint64         version;   /* of the probe's and AM strip's weights, at least */
} LiveWait;

static gboolean
live_shows (gpointer data)
{
  const LiveWait *w = data;
  ScopeTrainLive *live = scope_train_view_get_live (w->view);
  ScopeTrainStamp probe, am;
  if (scope_train_live_get_n_probes (live) < 1
      || scope_train_live_get_probe_explanation (live, 0, &probe) == NULL
      || scope_train_live_get_am (live, &am) == NULL)
    return FALSE;
  return probe.version >= w->version && am.version >= w->version;
}

/* Every probe explained on weights of at least w->version, and the AM strip too. */
static gboolean
all_probes_show (gpointer data)
{
  const LiveWait *w = data;
  ScopeTrainLive *live = scope_train_view_get_live (w->view);
  for (guint i = 0; i < scope_train_live_get_n_probes (live); i++)
    {
      ScopeTrainStamp stamp;
      if (scope_train_live_get_probe_explanation (live, i, &stamp) == NULL
          || stamp.version < w->version)
        return FALSE;
    }
  return live_shows (data);
}

static gboolean
explain_mid_training (gpointer data)
{
  ScopeExplainView *explain = data;
  ScopeTrainStamp stamp;
  return scope_explain_view_get_stamp (explain, 0, &stamp) && stamp.version >= 3
         && stamp.step > 0 && !scope_view_get_busy (SCOPE_VIEW (explain));
}

static gboolean
live_round_running (gpointer data)
{
  return scope_train_live_is_running (scope_train_view_get_live (data));
}

static gboolean
live_idle (gpointer data)
{
  return !scope_train_live_is_running (scope_train_view_get_live (data));
}

static void
start_training (ScopeTrainView *view)
{
  /* the small CNN on 100 Fashion-MNIST images per class, batch 32: 31 steps an epoch; more
   * epochs than the test waits for, and a snapshot every 50 ms, faster than they are
   * explained */
  ScopeTrainSettings s;
  scope_train_settings_init (&s);
  s.per_class = 100;
  s.batch = 32;
  s.epochs = 40;
  s.snapshot_ms = 50;
  scope_train_view_set_settings (view, &s);
  gtk_widget_activate_action (GTK_WIDGET (view), "train.start", NULL);
  g_assert_true (scope_train_state_is_active (scope_train_view_get_state (view)));
}

static void
test_training (void)
{
  open_window ();
  ScopeTrainView *view = train_view ();
  ScopeTrainLive *live = scope_train_view_get_live (view);
  activate ("view.show", "s", "train");
  g_assert_cmpuint (scope_train_live_get_n_probes (live), ==, 0);
  start_training (view);
  /* without a probe chosen, the window's image became one */
  g_assert_cmpuint (scope_train_live_get_n_probes (live), ==, 1);

  /* The probe's Grad-CAM and the AM strip of a snapshot after the first (step > 0). */
  LiveWait w = { view, 3 };
  test_util_wait (live_shows, &w, "the live explanations of the third snapshot");
  ScopeTrainStamp probe;
  ScopeExplanation *e = scope_train_live_get_probe_explanation (live, 0, &probe);
  g_assert_cmpint (probe.step, >, 0);
  g_assert_cmpint (e->map->h, ==, 28);
  ScopeTrainStamp am_stamp;
  ScopeAmResult *am = scope_train_live_get_am (live, &am_stamp);
  g_assert_cmpint (am->n_items, ==, SCOPE_TRAIN_LIVE_AM_IMAGES);

  /* The first test image of each class joins the probes, each explained for its own class. */
  gtk_widget_activate_action (GTK_WIDGET (view), "train.add-probe-tests", NULL);
  g_assert_cmpuint (scope_train_live_get_n_probes (live), ==, 11);
  w.version = probe.version + 1;
  test_util_wait (all_probes_show, &w, "every probe explained on newer weights");
  for (guint i = 1; i < 11; i++)
    g_assert_cmpint (scope_train_live_get_probe_explanation (live, i, NULL)->map->target, ==,
                     (int) i - 1);
  screenshots ("live-1-train");

  /* The Explain view, shown while it trains, explains a mid-training step's weights. */
  ScopeExplainView *explain = explain_view ();
  activate ("view.show", "s", "explain");
  test_util_wait (explain_mid_training, explain, "the Explain view on mid-training weights");
  ScopeTrainStamp shown;
  g_assert_true (scope_explain_view_get_stamp (explain, 0, &shown));
  g_test_message ("Explain view: %s", scope_explain_view_get_status (explain));
  g_assert_nonnull (strstr (scope_explain_view_get_status (explain), "weights of step"));
  screenshots ("live-2-explain");
  activate ("view.show", "s", "train");

  /* Coalesced: fewer rounds than snapshots (one snapshot every 50 ms, a round at a time). */
  ScopeTrainStamp newest;
  g_assert_true (scope_model_get_stamp (scope_train_view_get_snapshot (view), &newest));
  guint rounds = scope_train_live_get_n_rounds (live);
  g_test_message ("%u live rounds for %" G_GUINT64_FORMAT " snapshots", rounds, newest.version);
  g_assert_cmpuint (rounds, <=, newest.version);

  /* Stop while a live round runs: prompt; the round goes on, and the last one explains the
   * weights it stopped on. */
  test_util_wait (live_round_running, view, "a live round");
  gint64 start = g_get_monotonic_time ();
  gtk_widget_activate_action (GTK_WIDGET (view), "train.stop", NULL);
  gint64 took = g_get_monotonic_time () - start;
  g_test_message ("stopping the training took %.1f ms", took / 1000.0);
  g_assert_cmpint (took, <, TEST_UTIL_PROMPT_US);
  g_assert_cmpint (scope_train_view_get_state (view), ==, SCOPE_TRAIN_STOPPED);
  ScopeTrainStamp final;
  g_assert_true (scope_model_get_stamp (scope_train_view_get_snapshot (view), &final));
  w.version = final.version;
  test_util_wait (all_probes_show, &w, "the live explanations of the weights it stopped on");
  test_util_wait (live_idle, view, "the live round to end");
  for (guint i = 0; i < 11; i++)
    {
      scope_train_live_get_probe_explanation (live, i, &probe);
      g_assert_cmpuint (probe.version, ==, final.version);
      g_assert_cmpint (probe.step, ==, final.step);
    }

  /* Remove every probe: the tiles go; add the window's image back. */
  while (scope_train_live_get_n_probes (live) > 0)
    scope_train_live_remove_probe (live, 0);
  gtk_widget_activate_action (GTK_WIDGET (view), "train.add-probe-input", NULL);
  g_assert_cmpuint (scope_train_live_get_n_probes (live), ==, 1);
  w.version = final.version;
  test_util_wait (live_shows, &w, "the new probe explained on the last weights");
  test_util_wait (live_idle, view, "the live round to end");
  close_window ();
}

/* Closing the window while the run trains and a live round runs joins everything. */
static void
test_close_while_live (void)
{
  open_window ();
  ScopeTrainView *view = train_view ();
  activate ("view.show", "s", "train");
  start_training (view);
  test_util_wait (live_round_running, view, "a live round");
  close_window ();
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  const char *dir = g_getenv ("CNNSCOPE_SCREENSHOT_DIR");
  shot_dir = g_strdup (dir != NULL ? dir : "screenshots");
  g_assert_cmpint (g_mkdir_with_parents (shot_dir, 0755), ==, 0);

  app = scope_application_new (G_APPLICATION_NON_UNIQUE);
  g_autoptr (GError) error = NULL;
  g_assert_true (g_application_register (G_APPLICATION (app), NULL, &error));
  g_assert_no_error (error);

  g_test_add_func ("/ui/live-train/explain-coalesces", test_explain_coalesces);
  g_test_add_func ("/ui/live-train/training", test_training);
  g_test_add_func ("/ui/live-train/close-while-live", test_close_while_live);
  int status = g_test_run ();

  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_object_unref (app);
  g_free (shot_dir);
  return status;
}
