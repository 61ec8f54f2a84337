/* SPDX-License-Identifier: MIT */
/* ScopeFiltersView: chooses between the kernel grid, the PFNet module and the status page for
 * the selected layer, and keeps the mode controls (summed or one input channel) in step. */
#include "scope-filters-view.h"

#include <glib/gi18n.h>

#include "scope-filters-figure.h"
#include "scope-pfm-figure.h"

struct _ScopeFiltersView
{
  ScopeView           parent_instance;

  /* Template children. */
  GtkStack           *stack;      /* "filters" or "module" */
  GtkLabel           *input_channel_label;
  GtkSpinButton      *input_channel_spin;
  ScopeFiltersFigure *figure;
  ScopePfmFigure     *module;

  char               *filter_mode;  /* "summed" or "input-channel" */
};

enum
{
  PROP_0,
  PROP_FILTER_MODE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (ScopeFiltersView, scope_filters_view, SCOPE_TYPE_VIEW)

static gboolean
per_input_channel (ScopeFiltersView *self)
{
  return g_strcmp0 (self->filter_mode, "input-channel") == 0;
}

/* The mode controls and the input channel of the grid. */
static void
update_controls (ScopeFiltersView *self)
{
  int n_inputs = scope_filters_figure_get_n_input_channels (self->figure);
  gboolean per_input = per_input_channel (self);
  GtkAdjustment *adjustment = gtk_spin_button_get_adjustment (self->input_channel_spin);
  gtk_adjustment_set_upper (adjustment, MAX (n_inputs - 1, 0));
  gtk_widget_set_sensitive (GTK_WIDGET (self->input_channel_spin), per_input);
  gtk_widget_set_sensitive (GTK_WIDGET (self->input_channel_label), per_input);
  scope_filters_figure_set_input_channel (self->figure,
                                          per_input ? gtk_spin_button_get_value_as_int (
                                                        self->input_channel_spin)
                                                    : -1);
}

/* The status page's words for a layer without kernels: which layers have them (how many, and
 * the nearest above and below the selected one), as markup. */
static char *
describe_no_filters (ScopeModel *model,
                     int         node)
{
  const NnGraph *graph = scope_model_get_graph (model);
  if (node < 0 || node >= graph->n_nodes)
    return g_strdup (_ ("Filters are the kernels of conv2d layers: choose one in the sidebar."));
  int n_with = 0, above = -1, below = -1;
  for (int i = 0; i < graph->n_nodes; i++)
    if (scope_model_node_has_filters (model, i))
      {
        n_with++;
        if (i < node)
          above = i;
        else if (i > node && below < 0)
          below = i;
      }
  g_autofree char *layer = g_markup_escape_text (graph->nodes[node].name, -1);
  const char *op = nn_op_name (graph->nodes[node].op);
  if (n_with == 0)
    return g_strdup_printf (_ ("“%s” is a %s layer. Filters are the kernels of conv2d layers, "
                               "and this model has none."), layer, op);
  g_autoptr (GString) text = g_string_new (NULL);
  g_string_append_printf (text, _ ("“%s” is a %s layer. Filters are the kernels of conv2d "
                                  "layers: "), layer, op);
  g_string_append_printf (text, ngettext ("%d layer of this model has them",
                                          "%d layers of this model have them", n_with), n_with);
  if (above >= 0 || below >= 0)
    g_string_append (text, _ (", the nearest being "));
  if (above >= 0)
    {
      g_autofree char *name = g_markup_escape_text (graph->nodes[above].name, -1);
      g_string_append_printf (text, _ ("<b>%s</b> (above)"), name);
    }
  if (above >= 0 && below >= 0)
    g_string_append (text, _ (" and "));
  if (below >= 0)
    {
      g_autofree char *name = g_markup_escape_text (graph->nodes[below].name, -1);
      g_string_append_printf (text, _ ("<b>%s</b> (below)"), name);
    }
  g_string_append (text, _ (". Choose one in the sidebar."));
  return g_string_free (g_steal_pointer (&text), FALSE);
}

/* What the selected layer shows: its kernels, its module, or the status page. */
static void
update_layer (ScopeFiltersView *self)
{
  ScopeView *view = SCOPE_VIEW (self);
  ScopeModel *model = scope_view_get_model (view);
  int node = scope_view_get_layer (view);
  scope_filters_figure_set_layer (self->figure, model, node);
  gboolean has_filters = model != NULL && scope_model_node_has_filters (model, node);
  /* The 1x1 conv of a PFNet module shows the whole module: its 1x1 kernels alone would be
   * single pixels. */
  gboolean module = scope_pfm_figure_set_layer (self->module, model, node)
                    && g_str_has_suffix (scope_model_get_graph (model)->nodes[node].name,
                                         ".conv1x1");
  const char *icon = "view-app-grid-symbolic";
  if (model == NULL)
    scope_view_show_status (view, icon, _ ("No Model"),
                            _ ("Open a model (Ctrl+O) to see the kernels of its layers."));
  else if (!module && !has_filters)
    {
      g_autofree char *description = describe_no_filters (model, node);
      scope_view_show_status (view, icon, _ ("This Layer Has No Filters"), description);
    }
  else
    {
      scope_view_show_status (view, NULL, NULL, NULL);
      gtk_stack_set_visible_child_name (self->stack, module ? "module" : "filters");
    }
  scope_view_set_can_export (view, module || has_filters);
  update_controls (self);
}

static void
changed (ScopeView       *view,
         ScopeViewChange  what)
{
  ScopeFiltersView *self = SCOPE_FILTERS_VIEW (view);
  if (what & (SCOPE_VIEW_MODEL | SCOPE_VIEW_LAYER))
    update_layer (self);
  if (what & SCOPE_VIEW_CHANNEL)
    {
      int channel = scope_view_get_channel (view);
      scope_figure_view_set_channel (SCOPE_FIGURE_VIEW (self->figure), channel);
      scope_figure_view_set_channel (SCOPE_FIGURE_VIEW (self->module), channel);
    }
}

static gboolean
export (ScopeView   *view,
        const char  *path,
        GError     **error)
{
  ScopeFiltersView *self = SCOPE_FILTERS_VIEW (view);
  if (g_strcmp0 (gtk_stack_get_visible_child_name (self->stack), "module") == 0)
    return scope_pfm_figure_export (self->module, path, error);
  return scope_filters_figure_export (self->figure, path, error);
}

static void
on_figure_channel (ScopeFigureView  *figure,
                   GParamSpec       *pspec,
                   ScopeFiltersView *self)
{
  (void) pspec;
  scope_view_set_channel (SCOPE_VIEW (self), scope_figure_view_get_channel (figure));
}

static void
scope_filters_view_finalize (GObject *object)
{
  ScopeFiltersView *self = SCOPE_FILTERS_VIEW (object);

  g_free (self->filter_mode);

  G_OBJECT_CLASS (scope_filters_view_parent_class)->finalize (object);
}

static void
scope_filters_view_get_property (GObject    *object,
                                 guint       prop_id,
                                 GValue     *value,
                                 GParamSpec *pspec)
{
  ScopeFiltersView *self = SCOPE_FILTERS_VIEW (object);

  switch (prop_id)
    {
    case PROP_FILTER_MODE:
      g_value_set_string (value, self->filter_mode);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
scope_filters_view_set_property (GObject      *object,
                                 guint         prop_id,
                                 const GValue *value,
                                 GParamSpec   *pspec)
{
  ScopeFiltersView *self = SCOPE_FILTERS_VIEW (object);

  switch (prop_id)
    {
    case PROP_FILTER_MODE:
      {
        const char *mode = g_value_get_string (value);
        if (g_strcmp0 (mode, "summed") != 0 && g_strcmp0 (mode, "input-channel") != 0)
          {
            g_warning ("unknown filter mode '%s'", mode);
            return;
          }
        if (g_strcmp0 (mode, self->filter_mode) == 0)
          return;
        g_free (self->filter_mode);
        self->filter_mode = g_strdup (mode);
        update_controls (self);
        g_object_notify_by_pspec (object, pspec);
      }
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
scope_filters_view_class_init (ScopeFiltersViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  ScopeViewClass *view_class = SCOPE_VIEW_CLASS (klass);

  object_class->finalize = scope_filters_view_finalize;
  object_class->get_property = scope_filters_view_get_property;
  object_class->set_property = scope_filters_view_set_property;
  view_class->changed = changed;
  view_class->export = export;

  /**
   * ScopeFiltersView:filter-mode:
   *
   * How the kernels are shown: "summed" over the input channels, or "input-channel" (the one
   * chosen beside the grid). The state of the filters.mode action.
   */
  properties[PROP_FILTER_MODE] =
    g_param_spec_string ("filter-mode", NULL, NULL, "summed",
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
  gtk_widget_class_install_property_action (widget_class, "filters.mode", "filter-mode");

  g_type_ensure (SCOPE_TYPE_FILTERS_FIGURE);
  g_type_ensure (SCOPE_TYPE_PFM_FIGURE);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/cnnscope/Cnnscope/ui/scope-filters-view.ui");
  gtk_widget_class_bind_template_child (widget_class, ScopeFiltersView, stack);
  gtk_widget_class_bind_template_child (widget_class, ScopeFiltersView, input_channel_label);
  gtk_widget_class_bind_template_child (widget_class, ScopeFiltersView, input_channel_spin);
  gtk_widget_class_bind_template_child (widget_class, ScopeFiltersView, figure);
  gtk_widget_class_bind_template_child (widget_class, ScopeFiltersView, module);
  gtk_widget_class_set_css_name (widget_class, "filters-view");
}

static void
scope_filters_view_init (ScopeFiltersView *self)
{
  self->filter_mode = g_strdup ("summed");
  gtk_widget_init_template (GTK_WIDGET (self));
  g_signal_connect (self->figure, "notify::channel", G_CALLBACK (on_figure_channel), self);
  g_signal_connect (self->module, "notify::channel", G_CALLBACK (on_figure_channel), self);
  g_signal_connect_swapped (self->input_channel_spin, "value-changed",
                            G_CALLBACK (update_controls), self);
  update_layer (self);
}

int
scope_filters_view_get_input_channel (ScopeFiltersView *self)
{
  g_return_val_if_fail (SCOPE_IS_FILTERS_VIEW (self), -1);

  return per_input_channel (self) ? gtk_spin_button_get_value_as_int (self->input_channel_spin)
                                  : -1;
}

int
scope_filters_view_get_n_input_channels (ScopeFiltersView *self)
{
  g_return_val_if_fail (SCOPE_IS_FILTERS_VIEW (self), 0);

  return scope_filters_figure_get_n_input_channels (self->figure);
}
