/* SPDX-License-Identifier: MIT */
/* ScopeBatchJob: a folder's images explained one after another on a worker thread. */
#include "scope-batch-job.h"

#include <glib/gi18n.h>
#include <string.h>

#include <gio/gio.h>

#include "scope-error.h"
#include "scope-worker.h"

struct _ScopeBatchJob
{
  GObject        parent_instance;

  ScopeModel    *model;
  char          *folder;
  NnExplainSpec  spec;            /* spec.map.baseline points at `baseline` */
  float         *baseline;
  int            baseline_kind;
  GStrv          files;           /* names, sorted */
  guint          n_files;
  ScopeWorker    worker;
  gboolean       running;         /* main thread: started, "finished" not yet emitted */
  GArray        *rows;            /* main thread: ScopeBatchRow delivered */

  /* Under the worker's lock. */
  GArray        *pending;         /* ScopeBatchRow */
  gboolean       done;
  GError        *error;
};

enum
{
  ROWS,
  FINISHED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (ScopeBatchJob, scope_batch_job, G_TYPE_OBJECT)

static void
row_clear (gpointer data)
{
  ScopeBatchRow *row = data;
  g_free (row->name);
  g_free (row->error);
}

static GArray *
rows_new (void)
{
  GArray *rows = g_array_new (FALSE, TRUE, sizeof (ScopeBatchRow));
  g_array_set_clear_func (rows, row_clear);
  return rows;
}

/* Main thread, with the worker's lock held (released here): the pending rows, then the end. */
static void
deliver_locked (ScopeBatchJob *self)
{
  GArray *rows = self->pending;
  self->pending = rows_new ();
  gboolean done = self->done;
  g_autoptr (GError) error = g_steal_pointer (&self->error);
  scope_worker_unlock (&self->worker);

  g_autoptr (GPtrArray) added = g_ptr_array_new ();
  guint first = self->rows->len;
  g_array_append_vals (self->rows, rows->data, rows->len);
  guint n = rows->len;
  /* The strings moved to self->rows. */
  g_free (g_array_steal (rows, NULL));
  g_array_unref (rows);
  for (guint i = 0; i < n; i++)
    g_ptr_array_add (added, &g_array_index (self->rows, ScopeBatchRow, first + i));
  if (added->len > 0)
    g_signal_emit (self, signals[ROWS], 0, added, self->rows->len, self->n_files);
  if (done && self->running)
    {
      self->running = FALSE;
      g_signal_emit (self, signals[FINISHED], 0, error);
    }
}

static gboolean
deliver_idle (gpointer data)
{
  ScopeBatchJob *self = data;

  if (scope_worker_begin_deliver (&self->worker))
    deliver_locked (self);
  return G_SOURCE_REMOVE;
}

static void
post (ScopeBatchJob *self,
      ScopeBatchRow *row,
      gboolean       done,
      GError        *error)
{
  scope_worker_lock (&self->worker);
  if (row != NULL)
    g_array_append_vals (self->pending, row, 1);
  self->done |= done;
  if (error != NULL)
    {
      g_clear_error (&self->error);
      self->error = error;
    }
  scope_worker_schedule_locked (&self->worker);
  scope_worker_unlock (&self->worker);
}

/* One file into row; FALSE when cancelled. */
static gboolean
explain_file (ScopeBatchJob *self,
              const char    *name,
              ScopeBatchRow *row)
{
  const NnModel *model = scope_model_get_nn_model (self->model);
  g_autofree char *path = g_build_filename (self->folder, name, NULL);
  row->name = g_strdup (name);
  NnError err = { 0 };
  NnInput *input = nn_input_load (path, model, NULL, &err);
  if (input == NULL)
    {
      row->error = g_strdup (err.message);
      return TRUE;
    }
  NnExplainSpec spec = self->spec;
  float *made = NULL;
  if (spec.map.method == NN_METHOD_IG && self->baseline_kind > NN_BASELINE_ZERO
      && self->baseline_kind < NN_BASELINE_COUNT_)
    {
      made = nn_baseline_new ((NnBaselineKind) self->baseline_kind, model, input->tensor, 0.0f,
                              1, &err);
      if (made == NULL)
        {
          row->error = g_strdup (err.message);
          nn_input_unref (input);
          return TRUE;
        }
      spec.map.baseline = made;
    }
  NnExplainRunControl control = { .cancel = scope_worker_get_cancel (&self->worker) };
  NnExplanation *e = nn_explain_run (model, input, &spec, &control, &err);
  free (made);
  nn_input_unref (input);
  if (e == NULL)
    {
      if (err.code == NN_ERROR_CANCELLED)
        return FALSE;
      row->error = g_strdup (err.message);
      return TRUE;
    }
  row->target = e->map->target;
  row->probability = e->probability;
  row->metrics = e->metrics;
  nn_explanation_free (e);
  return TRUE;
}

static void *
worker_main (void *data)
{
  ScopeBatchJob *self = data;

  for (guint i = 0; i < self->n_files; i++)
    {
      ScopeBatchRow row = { 0 };
      if (!explain_file (self, self->files[i], &row))
        {
          row_clear (&row);
          post (self, NULL, TRUE, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                                       "cancelled"));
          return NULL;
        }
      post (self, &row, FALSE, NULL);
    }
  post (self, NULL, TRUE, NULL);
  return NULL;
}

static gboolean
is_input_file (const char *name)
{
  static const char *const suffixes[] = { ".png", ".jpg", ".jpeg", ".dcm", ".npy" };
  g_autofree char *lower = g_ascii_strdown (name, -1);
  for (gsize i = 0; i < G_N_ELEMENTS (suffixes); i++)
    if (g_str_has_suffix (lower, suffixes[i]) && !g_str_has_suffix (lower, ".mask.png"))
      return TRUE;
  return FALSE;
}

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* API. */

ScopeBatchJob *
scope_batch_job_new (ScopeModel          *model,
                     const char          *folder,
                     const NnExplainSpec *spec,
                     int                  baseline_kind)
{
  g_return_val_if_fail (model != NULL && folder != NULL && spec != NULL, NULL);

  ScopeBatchJob *self = g_object_new (SCOPE_TYPE_BATCH_JOB, NULL);
  self->model = scope_model_ref (model);
  self->folder = g_strdup (folder);
  self->spec = *spec;
  self->spec.mask = NULL;
  if (spec->map.baseline != NULL)
    {
      NnShape in = scope_model_get_graph (model)->nodes[0].shape;
      self->baseline = g_memdup2 (spec->map.baseline,
                                  sizeof (float) * (gsize) in.c * (gsize) in.h * (gsize) in.w);
    }
  self->spec.map.baseline = self->baseline;
  self->baseline_kind = baseline_kind;
  return self;
}

gboolean
scope_batch_job_start (ScopeBatchJob  *self,
                       GError        **error)
{
  g_return_val_if_fail (SCOPE_IS_BATCH_JOB (self), FALSE);
  g_return_val_if_fail (!self->worker.started, FALSE);

  g_autoptr (GDir) dir = g_dir_open (self->folder, 0, error);
  if (dir == NULL)
    return FALSE;
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  for (const char *name; (name = g_dir_read_name (dir)) != NULL;)
    if (is_input_file (name))
      g_ptr_array_add (names, g_strdup (name));
  if (names->len == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   _ ("%s has no images (PNG, JPEG, DICOM or .npy)"), self->folder);
      return FALSE;
    }
  g_ptr_array_sort (names, compare_names);
  self->n_files = names->len;
  g_ptr_array_add (names, NULL);
  g_ptr_array_set_free_func (names, NULL);
  self->files = (GStrv) g_ptr_array_free (g_steal_pointer (&names), FALSE);
  self->running = TRUE;
  if (!scope_worker_start (&self->worker, worker_main, self, "batch explanation", error))
    {
      self->running = FALSE;
      return FALSE;
    }
  return TRUE;
}

void
scope_batch_job_cancel (ScopeBatchJob *self)
{
  g_return_if_fail (SCOPE_IS_BATCH_JOB (self));

  atomic_store (scope_worker_get_cancel (&self->worker), 1);
  scope_worker_join (&self->worker);
  if (self->running)
    {
      /* What the worker left, then the end, now. */
      scope_worker_lock (&self->worker);
      deliver_locked (self);
      if (self->running)
        {
          self->running = FALSE;
          g_autoptr (GError) error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                                          "cancelled");
          g_signal_emit (self, signals[FINISHED], 0, error);
        }
    }
}

gboolean
scope_batch_job_is_running (ScopeBatchJob *self)
{
  g_return_val_if_fail (SCOPE_IS_BATCH_JOB (self), FALSE);

  return self->running;
}

const ScopeBatchRow *
scope_batch_job_get_rows (ScopeBatchJob *self,
                          guint         *n_rows,
                          guint         *n_files)
{
  g_return_val_if_fail (SCOPE_IS_BATCH_JOB (self), NULL);

  if (n_rows != NULL)
    *n_rows = self->rows->len;
  if (n_files != NULL)
    *n_files = self->n_files;
  return (const ScopeBatchRow *) (void *) self->rows->data;
}

/* GObject. */

static void
scope_batch_job_dispose (GObject *object)
{
  ScopeBatchJob *self = SCOPE_BATCH_JOB (object);

  scope_worker_request_stop (&self->worker);
  scope_worker_join (&self->worker);

  G_OBJECT_CLASS (scope_batch_job_parent_class)->dispose (object);
}

static void
scope_batch_job_finalize (GObject *object)
{
  ScopeBatchJob *self = SCOPE_BATCH_JOB (object);

  g_clear_pointer (&self->model, scope_model_unref);
  g_free (self->folder);
  g_free (self->baseline);
  g_strfreev (self->files);
  g_array_unref (self->rows);
  g_array_unref (self->pending);
  g_clear_error (&self->error);
  scope_worker_clear (&self->worker);

  G_OBJECT_CLASS (scope_batch_job_parent_class)->finalize (object);
}

static void
scope_batch_job_class_init (ScopeBatchJobClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = scope_batch_job_dispose;
  object_class->finalize = scope_batch_job_finalize;

  signals[ROWS] = g_signal_new ("rows", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                NULL, NULL, G_TYPE_NONE, 3,
                                G_TYPE_PTR_ARRAY | G_SIGNAL_TYPE_STATIC_SCOPE, G_TYPE_UINT,
                                G_TYPE_UINT);
  signals[FINISHED] = g_signal_new ("finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                    NULL, NULL, NULL, G_TYPE_NONE, 1,
                                    G_TYPE_ERROR | G_SIGNAL_TYPE_STATIC_SCOPE);
}

static void
scope_batch_job_init (ScopeBatchJob *self)
{
  self->rows = rows_new ();
  self->pending = rows_new ();
  self->baseline_kind = -1;
  scope_worker_init (&self->worker, G_PRIORITY_DEFAULT, deliver_idle, self);
}
