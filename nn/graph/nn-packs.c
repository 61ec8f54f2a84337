/* SPDX-License-Identifier: MIT */
/* The graph's packed weights: one table of packings per graph, reserved by the contexts when
 * they are made, filled on first use and again after every change of the weights. */
#include "graph/nn-packs.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "ops/nn-conv2d.h"
#include "ops/nn-winograd.h"

typedef struct
{
  float    *data;     /* NULL until reserved */
  int       norm;     /* the folded batch norm, or -1 */
  bool      built;
  uint64_t  version;  /* the graph's version it was built at */
} Pack;

struct NnPacks
{
  pthread_mutex_t lock;
  int             n_nodes;
  Pack           *packs;   /* n_nodes x NN_PACK_KINDS */
  size_t          bytes;
  size_t          builds;
};

/* Made with the graph's first reservation: a graph is built on one thread before contexts
 * run on it, and reservations happen in nn_context_new, so two threads creating the first
 * contexts on the same graph at once must not race here; the lock below covers the rest. */
static pthread_mutex_t create_lock = PTHREAD_MUTEX_INITIALIZER;

/* The node's parameter with the given role, or NULL (looked up here: nn-graph.c frees the
 * packings and so does not serve this file). */
static const float *
param (const NnGraph *graph,
       int            node,
       NnParamRole    role)
{
  const NnNode *n = &graph->nodes[node];
  for (int k = 0; k < n->n_params; k++)
    if (graph->params[n->params[k]].role == role)
      return graph->data + graph->params[n->params[k]].offset;
  return NULL;
}

/* The geometry the packing of conv node `node` depends on (batch and spatial sizes do not
 * matter to it). */
static NnConvGeom
geom_of (const NnGraph *graph,
         int            node)
{
  const NnNode *n = &graph->nodes[node];
  const NnShape in = graph->nodes[n->inputs[0]].shape;
  const NnConvAttrs *a = &n->attrs.conv;
  return (NnConvGeom) {
    .B = 1, .C = in.c, .H = in.h, .W = in.w,
    .OC = a->out_channels, .KH = a->kh, .KW = a->kw, .SH = a->sh, .SW = a->sw,
    .PT = a->pad_t, .PL = a->pad_l, .PB = a->pad_b, .PR = a->pad_r,
    .DH = a->dh, .DW = a->dw, .G = a->groups, .OH = n->shape.h, .OW = n->shape.w,
  };
}

static size_t
weight_floats (const NnConvGeom *g)
{
  return (size_t) g->OC * (size_t) (g->C / g->G) * g->KH * g->KW;
}

static size_t
pack_floats (const NnGraph *graph,
             int            node,
             NnPackKind     kind)
{
  const NnConvGeom g = geom_of (graph, node);
  switch (kind)
    {
    case NN_PACK_FOLD:
      return weight_floats (&g) + (size_t) g.OC;
    case NN_PACK_WINOGRAD:
    case NN_PACK_WINOGRAD_FOLDED:
    case NN_PACK_WINOGRAD_BACKWARD:
      return nn_winograd_packed_size (&g);
    case NN_PACK_KINDS:
      break;
    }
  NN_ASSERT (false);
  return 0;
}

/* weight' = weight * scale, bias' = bias * scale + shift per output channel, with the scale
 * and shift nn_batchnorm_forward_eval applies. */
static void
fold (float         *out,
      const NnGraph *graph,
      int            node,
      int            bn)
{
  const NnConvGeom g = geom_of (graph, node);
  const size_t per = weight_floats (&g) / (size_t) g.OC;
  const float *w = param (graph, node, NN_PARAM_WEIGHT), *b = param (graph, node, NN_PARAM_BIAS);
  const float *gamma = param (graph, bn, NN_PARAM_WEIGHT), *beta = param (graph, bn, NN_PARAM_BIAS);
  const float *mean = param (graph, bn, NN_PARAM_RUNNING_MEAN);
  const float *var = param (graph, bn, NN_PARAM_RUNNING_VAR);
  const float eps = graph->nodes[bn].attrs.norm.eps;
  float *bias = out + weight_floats (&g);
  for (int oc = 0; oc < g.OC; oc++)
    {
      const float invstd = 1.0f / sqrtf (var[oc] + eps);
      const float scale = (gamma ? gamma[oc] : 1.0f) * invstd;
      const float shift = (beta ? beta[oc] : 0.0f) - mean[oc] * scale;
      for (size_t k = 0; k < per; k++)
        out[(size_t) oc * per + k] = w[(size_t) oc * per + k] * scale;
      bias[oc] = (b ? b[oc] : 0.0f) * scale + shift;
    }
}

/* Builds packing `kind` of node `node` when it is stale; the lock is held. */
static Pack *
ensure (NnGraph    *graph,
        int         node,
        NnPackKind  kind)
{
  struct NnPacks *packs = graph->packs;
  Pack *p = &packs->packs[(size_t) node * NN_PACK_KINDS + kind];
  NN_ASSERT (p->data != NULL);
  if (p->built && p->version == graph->version)
    return p;
  const NnConvGeom g = geom_of (graph, node);
  switch (kind)
    {
    case NN_PACK_FOLD:
      fold (p->data, graph, node, p->norm);
      break;
    case NN_PACK_WINOGRAD:
      nn_winograd_pack_forward (p->data, param (graph, node, NN_PARAM_WEIGHT), &g);
      break;
    case NN_PACK_WINOGRAD_FOLDED:
      nn_winograd_pack_forward (p->data, ensure (graph, node, NN_PACK_FOLD)->data, &g);
      break;
    case NN_PACK_WINOGRAD_BACKWARD:
      nn_winograd_pack_backward (p->data, param (graph, node, NN_PARAM_WEIGHT), &g);
      break;
    case NN_PACK_KINDS:
      NN_ASSERT (false);
      break;
    }
  p->built = true;
  p->version = graph->version;
  packs->builds++;
  return p;
}

/* Grows the table to the graph's nodes; the lock is held. */
static bool
grow (struct NnPacks *packs,
      int             n_nodes)
{
  if (n_nodes <= packs->n_nodes)
    return true;
  Pack *t = realloc (packs->packs, sizeof (Pack) * (size_t) n_nodes * NN_PACK_KINDS);
  if (t == NULL)
    return false;
  for (size_t k = (size_t) packs->n_nodes * NN_PACK_KINDS; k < (size_t) n_nodes * NN_PACK_KINDS;
       k++)
    t[k] = (Pack) { .norm = -1 };
  packs->packs = t;
  packs->n_nodes = n_nodes;
  return true;
}

/* Allocates packing `kind` of node `node` unless it is; the lock is held. */
static bool
reserve_one (struct NnPacks *packs,
             const NnGraph  *graph,
             int             node,
             NnPackKind      kind,
             int             norm)
{
  Pack *p = &packs->packs[(size_t) node * NN_PACK_KINDS + kind];
  p->norm = norm;
  if (p->data != NULL)
    return true;
  const size_t bytes = sizeof (float) * pack_floats (graph, node, kind);
  p->data = malloc (bytes);
  if (p->data == NULL)
    return false;
  packs->bytes += bytes;
  return true;
}

bool
nn_graph_packs_reserve (NnGraph    *graph,
                        int         node,
                        NnPackKind  kind,
                        int         norm)
{
  NN_ASSERT (node > 0 && node < graph->n_nodes && graph->nodes[node].op == NN_OP_CONV2D);
  NN_ASSERT ((kind == NN_PACK_FOLD || kind == NN_PACK_WINOGRAD_FOLDED) == (norm > node));
  pthread_mutex_lock (&create_lock);
  if (graph->packs == NULL)
    {
      struct NnPacks *packs = calloc (1, sizeof *packs);
      if (packs != NULL)
        pthread_mutex_init (&packs->lock, NULL);
      graph->packs = packs;
    }
  pthread_mutex_unlock (&create_lock);
  struct NnPacks *packs = graph->packs;
  if (packs == NULL)
    return false;
  pthread_mutex_lock (&packs->lock);
  /* the folded Winograd kernels are made from the folded weights */
  const bool ok = grow (packs, graph->n_nodes) && reserve_one (packs, graph, node, kind, norm)
                  && (kind != NN_PACK_WINOGRAD_FOLDED
                      || reserve_one (packs, graph, node, NN_PACK_FOLD, norm));
  pthread_mutex_unlock (&packs->lock);
  return ok;
}

const float *
nn_graph_packs_get (NnGraph    *graph,
                    int         node,
                    NnPackKind  kind)
{
  struct NnPacks *packs = graph->packs;
  NN_ASSERT (packs != NULL && node >= 0 && node < packs->n_nodes);
  pthread_mutex_lock (&packs->lock);
  const float *data = ensure (graph, node, kind)->data;
  pthread_mutex_unlock (&packs->lock);
  return data;
}

size_t
nn_graph_packs_bytes (const NnGraph *graph)
{
  struct NnPacks *packs = graph->packs;
  if (packs == NULL)
    return 0;
  pthread_mutex_lock (&packs->lock);
  const size_t bytes = packs->bytes;
  pthread_mutex_unlock (&packs->lock);
  return bytes;
}

size_t
nn_graph_packs_builds (const NnGraph *graph)
{
  struct NnPacks *packs = graph->packs;
  if (packs == NULL)
    return 0;
  pthread_mutex_lock (&packs->lock);
  const size_t builds = packs->builds;
  pthread_mutex_unlock (&packs->lock);
  return builds;
}

void
nn_graph_packs_free (NnGraph *graph)
{
  struct NnPacks *packs = graph->packs;
  if (packs == NULL)
    return;
  for (size_t k = 0; k < (size_t) packs->n_nodes * NN_PACK_KINDS; k++)
    free (packs->packs[k].data);
  free (packs->packs);
  pthread_mutex_destroy (&packs->lock);
  free (packs);
  graph->packs = NULL;
}
