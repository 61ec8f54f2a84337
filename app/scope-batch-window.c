/* SPDX-License-Identifier: MIT */
/* ScopeBatchWindow: the table grows by a row per file as the batch job delivers them. */
#include "scope-batch-window.h"

#include <glib/gi18n.h>

#define N_COLUMNS 8

struct _ScopeBatchWindow
{
  GtkWindow       parent_instance;

  ScopeBatchJob  *job;
  ScopeModel     *model;
  GtkProgressBar *progress;
  GtkButton      *cancel;
  GtkGrid        *table;
  int             n_rows;   /* of the table, headings included */
};

G_DEFINE_FINAL_TYPE (ScopeBatchWindow, scope_batch_window, GTK_TYPE_WINDOW)

static const char *const headings[N_COLUMNS] = {
  N_ ("File"), N_ ("Class"), N_ ("Probability"), N_ ("Deletion AUC"), N_ ("Insertion AUC"),
  N_ ("ROAD MoRF"), N_ ("ROAD LeRF"), N_ ("Randomization ρ"),
};

/* A row of the table; a file without a result has its error across the other columns. */
static void
add_row (ScopeBatchWindow  *self,
         const char *const *cells,
         const char        *error)
{
  for (int c = 0; c < (error != NULL ? 2 : N_COLUMNS); c++)
    {
      const char *text = c == 1 && error != NULL ? error : cells[c];
      GtkWidget *label = gtk_label_new (text);
      gtk_label_set_xalign (GTK_LABEL (label), c <= 1 ? 0.0f : 1.0f);
      if (error != NULL && c == 1)
        {
          gtk_label_set_wrap (GTK_LABEL (label), TRUE);
          gtk_widget_add_css_class (label, "error");
        }
      gtk_label_set_selectable (GTK_LABEL (label), self->n_rows > 0);
      if (self->n_rows == 0)
        gtk_widget_add_css_class (label, "heading");
      else
        gtk_widget_add_css_class (label, "numeric");
      gtk_grid_attach (self->table, label, c, self->n_rows,
                       error != NULL && c == 1 ? N_COLUMNS - 1 : 1, 1);
    }
  self->n_rows++;
}

static char *
metric (const ScopeBatchRow *row,
        unsigned             bit,
        double               value)
{
  return (row->metrics.has & bit) ? g_strdup_printf ("%.3f", value) : g_strdup ("");
}

static void
on_rows (ScopeBatchJob    *job,
         GPtrArray        *rows,
         guint             done,
         guint             total,
         ScopeBatchWindow *self)
{
  (void) job;
  const NnModel *m = scope_model_get_nn_model (self->model);
  for (guint i = 0; i < rows->len; i++)
    {
      const ScopeBatchRow *r = g_ptr_array_index (rows, i);
      gboolean ok = r->error == NULL;
      g_autofree char *cls = !ok ? g_strdup ("")
                             : g_strdup_printf ("%d %s", r->target,
                                                m->labels != NULL && m->labels[r->target] != NULL
                                                ? m->labels[r->target] : "");
      g_autofree char *prob = ok ? g_strdup_printf ("%.3f", r->probability) : g_strdup ("");
      g_autofree char *del = metric (r, NN_FAITH_DELETION, r->metrics.deletion.auc);
      g_autofree char *ins = metric (r, NN_FAITH_INSERTION, r->metrics.insertion.auc);
      g_autofree char *morf = metric (r, NN_FAITH_ROAD_MORF, r->metrics.road_morf_mean);
      g_autofree char *lerf = metric (r, NN_FAITH_ROAD_LERF, r->metrics.road_lerf_mean);
      g_autofree char *rho = metric (r, NN_FAITH_RANDOMIZATION, r->metrics.rho);
      const char *cells[N_COLUMNS] = { r->name, cls, prob, del, ins, morf, lerf, rho };
      add_row (self, cells, r->error);
    }
  gtk_progress_bar_set_fraction (self->progress, total > 0 ? (double) done / total : 0.0);
  g_autofree char *text = g_strdup_printf (_ ("%u of %u files"), done, total);
  gtk_progress_bar_set_text (self->progress, text);
}

static void
on_finished (ScopeBatchJob    *job,
             const GError     *error,
             ScopeBatchWindow *self)
{
  guint done, total;
  scope_batch_job_get_rows (job, &done, &total);
  g_autofree char *text = error != NULL
                          ? g_strdup_printf (_ ("Stopped after %u of %u files: %s"), done, total,
                                             error->message)
                          : g_strdup_printf (_ ("Done: %u files"), total);
  gtk_progress_bar_set_text (self->progress, text);
  gtk_widget_set_sensitive (GTK_WIDGET (self->cancel), FALSE);
}

static void
on_cancel_clicked (ScopeBatchWindow *self)
{
  scope_batch_job_cancel (self->job);
}

ScopeBatchWindow *
scope_batch_window_new (GtkWindow     *parent,
                        ScopeBatchJob *job,
                        ScopeModel    *model,
                        const char    *title)
{
  g_return_val_if_fail (SCOPE_IS_BATCH_JOB (job), NULL);
  g_return_val_if_fail (model != NULL, NULL);

  ScopeBatchWindow *self = g_object_new (SCOPE_TYPE_BATCH_WINDOW, "title", title,
                                         "default-width", 1000, "default-height", 500, NULL);
  if (parent != NULL)
    gtk_window_set_transient_for (GTK_WINDOW (self), parent);
  self->job = g_object_ref (job);
  self->model = scope_model_ref (model);
  g_signal_connect_object (job, "rows", G_CALLBACK (on_rows), self, G_CONNECT_DEFAULT);
  g_signal_connect_object (job, "finished", G_CALLBACK (on_finished), self, G_CONNECT_DEFAULT);
  return self;
}

ScopeBatchJob *
scope_batch_window_get_job (ScopeBatchWindow *self)
{
  g_return_val_if_fail (SCOPE_IS_BATCH_WINDOW (self), NULL);

  return self->job;
}

const char *
scope_batch_window_get_cell (ScopeBatchWindow *self,
                             int               row,
                             int               column)
{
  g_return_val_if_fail (SCOPE_IS_BATCH_WINDOW (self), NULL);

  GtkWidget *cell = gtk_grid_get_child_at (self->table, column, row);
  return cell != NULL ? gtk_label_get_text (GTK_LABEL (cell)) : NULL;
}

static void
scope_batch_window_dispose (GObject *object)
{
  ScopeBatchWindow *self = SCOPE_BATCH_WINDOW (object);

  if (self->job != NULL)
    scope_batch_job_cancel (self->job);
  g_clear_object (&self->job);
  g_clear_pointer (&self->model, scope_model_unref);

  G_OBJECT_CLASS (scope_batch_window_parent_class)->dispose (object);
}

static void
scope_batch_window_class_init (ScopeBatchWindowClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = scope_batch_window_dispose;
}

static void
scope_batch_window_init (ScopeBatchWindow *self)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 8);
  gtk_widget_set_margin_start (box, 12);
  gtk_widget_set_margin_end (box, 12);
  gtk_widget_set_margin_top (box, 12);
  gtk_widget_set_margin_bottom (box, 12);
  GtkWidget *top = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);
  self->progress = GTK_PROGRESS_BAR (gtk_progress_bar_new ());
  gtk_progress_bar_set_show_text (self->progress, TRUE);
  gtk_progress_bar_set_text (self->progress, _ ("Starting…"));
  gtk_widget_set_hexpand (GTK_WIDGET (self->progress), TRUE);
  gtk_widget_set_valign (GTK_WIDGET (self->progress), GTK_ALIGN_CENTER);
  self->cancel = GTK_BUTTON (gtk_button_new_with_mnemonic (_ ("_Cancel")));
  g_signal_connect_swapped (self->cancel, "clicked", G_CALLBACK (on_cancel_clicked), self);
  gtk_box_append (GTK_BOX (top), GTK_WIDGET (self->progress));
  gtk_box_append (GTK_BOX (top), GTK_WIDGET (self->cancel));
  gtk_box_append (GTK_BOX (box), top);
  self->table = GTK_GRID (gtk_grid_new ());
  gtk_grid_set_column_spacing (self->table, 12);
  gtk_grid_set_row_spacing (self->table, 4);
  add_row (self, headings, NULL);
  GtkWidget *scroll = gtk_scrolled_window_new ();
  gtk_widget_set_vexpand (scroll, TRUE);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroll), GTK_WIDGET (self->table));
  gtk_box_append (GTK_BOX (box), scroll);
  gtk_window_set_child (GTK_WINDOW (self), box);
}
