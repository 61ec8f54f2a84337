/* SPDX-License-Identifier: MIT */
/* ScopeLayer: read-only properties made once from the graph. "search-text" joins the name and
 * the op so the sidebar's search finds layers by either. */
#include "scope-layer.h"

#include <glib/gi18n.h>

struct _ScopeLayer
{
  GObject parent_instance;

  int     node;
  char   *name;
  char   *op;
  char   *shape;   /* "16×28×28" */
  char   *params;  /* "144 params" */
  char   *search_text;
};

enum
{
  PROP_0,
  PROP_NODE,
  PROP_NAME,
  PROP_OP,
  PROP_SHAPE,
  PROP_PARAMS,
  PROP_SEARCH_TEXT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (ScopeLayer, scope_layer, G_TYPE_OBJECT)

static void
scope_layer_finalize (GObject *object)
{
  ScopeLayer *self = SCOPE_LAYER (object);

  g_free (self->name);
  g_free (self->op);
  g_free (self->shape);
  g_free (self->params);
  g_free (self->search_text);

  G_OBJECT_CLASS (scope_layer_parent_class)->finalize (object);
}

static void
scope_layer_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  ScopeLayer *self = SCOPE_LAYER (object);

  switch (prop_id)
    {
    case PROP_NODE:
      g_value_set_int (value, self->node);
      break;
    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;
    case PROP_OP:
      g_value_set_string (value, self->op);
      break;
    case PROP_SHAPE:
      g_value_set_string (value, self->shape);
      break;
    case PROP_PARAMS:
      g_value_set_string (value, self->params);
      break;
    case PROP_SEARCH_TEXT:
      g_value_set_string (value, self->search_text);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
scope_layer_class_init (ScopeLayerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = scope_layer_finalize;
  object_class->get_property = scope_layer_get_property;

  properties[PROP_NODE] =
    g_param_spec_int ("node", NULL, NULL, 0, G_MAXINT, 0,
                      G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_NAME] =
    g_param_spec_string ("name", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_OP] =
    g_param_spec_string ("op", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_SHAPE] =
    g_param_spec_string ("shape", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_PARAMS] =
    g_param_spec_string ("params", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_SEARCH_TEXT] =
    g_param_spec_string ("search-text", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
scope_layer_init (ScopeLayer *self)
{
  (void) self;
}

static ScopeLayer *
layer_new (const ScopeModel *model,
           int               node)
{
  g_return_val_if_fail (model != NULL, NULL);

  const NnGraph *graph = scope_model_get_graph (model);
  g_return_val_if_fail (node >= 0 && node < graph->n_nodes, NULL);

  const NnNode *n = &graph->nodes[node];
  ScopeLayer *self = g_object_new (SCOPE_TYPE_LAYER, NULL);
  self->node = node;
  self->name = g_strdup (n->name);
  self->op = g_strdup (nn_op_name (n->op));
  if (n->shape.h == 1 && n->shape.w == 1)
    self->shape = g_strdup_printf ("%d", n->shape.c);
  else
    {
      /* Every dim: a token layer reads "197×768", not "197×768×1". */
      const NnShape s = n->shape.rank > 0 ? n->shape
                                          : nn_shape_chw (n->shape.c, n->shape.h, n->shape.w);
      GString *shape = g_string_new (NULL);
      for (int d = 0; d < s.rank; d++)
        g_string_append_printf (shape, "%s%d", d > 0 ? "×" : "", s.dims[d]);
      self->shape = g_string_free (shape, FALSE);
    }
  gsize count = nn_graph_node_param_count (graph, node);
  self->params = g_strdup_printf (ngettext ("%lu param", "%lu params", count),
                                  (unsigned long) count);
  self->search_text = g_strdup_printf ("%s %s", self->name, self->op);
  return self;
}

int
scope_layer_get_node (ScopeLayer *self)
{
  g_return_val_if_fail (SCOPE_IS_LAYER (self), -1);

  return self->node;
}

GListModel *
scope_layer_list_new (const ScopeModel *model)
{
  g_return_val_if_fail (model != NULL, NULL);

  GListStore *store = g_list_store_new (SCOPE_TYPE_LAYER);
  const NnGraph *graph = scope_model_get_graph (model);
  for (int i = 0; i < graph->n_nodes; i++)
    {
      g_autoptr (ScopeLayer) layer = layer_new (model, i);
      g_list_store_append (store, layer);
    }
  return G_LIST_MODEL (store);
}
