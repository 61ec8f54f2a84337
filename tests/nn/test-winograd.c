/* SPDX-License-Identifier: MIT */
/* Winograd F(4x4, 3x3): forward and input gradient against a double-precision direct
 * convolution over odd sizes, paddings 0 to 2, tile edges and channel counts of no particular
 * multiple, with guards around every buffer on DenseNet's shapes; the conv2d dispatch; and the
 * relative error on ResNet-18's 3x3 layers at 224 px. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "nn.h"
#include "graph/nn-packs.h"
#include "ops/nn-winograd.h"

static NnConvGeom
geom (int B, int C, int H, int W, int OC, int PT, int PL, int PB, int PR)
{
  NnConvGeom g = {
    .B = B, .C = C, .H = H, .W = W, .OC = OC, .KH = 3, .KW = 3, .SH = 1, .SW = 1,
    .PT = PT, .PL = PL, .PB = PB, .PR = PR, .DH = 1, .DW = 1, .G = 1,
  };
  g.OH = H + PT + PB - 2;
  g.OW = W + PL + PR - 2;
  g_assert_cmpint (g.OH, >, 0);
  g_assert_cmpint (g.OW, >, 0);
  return g;
}

/* B C H W OC PT PL PB PR */
static const int shapes[][9] = {
  { 1, 1, 1, 1, 1, 1, 1, 1, 1 },      /* one pixel, all padding around it */
  { 2, 3, 7, 5, 4, 1, 1, 1, 1 },
  { 1, 5, 4, 4, 3, 0, 0, 0, 0 },      /* a 2x2 output in one tile */
  { 1, 2, 6, 6, 2, 0, 0, 0, 0 },      /* exactly one tile */
  { 1, 3, 9, 9, 5, 0, 0, 0, 0 },      /* 7x7: tiles cut at the edge */
  { 2, 17, 13, 11, 19, 1, 1, 1, 1 },
  { 1, 16, 8, 8, 16, 1, 1, 1, 1 },    /* exactly 2x2 tiles */
  { 1, 7, 10, 9, 3, 2, 0, 1, 2 },     /* asymmetric padding */
  { 1, 4, 5, 6, 6, 2, 2, 2, 2 },
  { 3, 33, 12, 17, 21, 1, 1, 1, 1 },
  { 1, 31, 23, 22, 37, 1, 1, 1, 1 },
  { 2, 9, 3, 14, 11, 0, 1, 2, 1 },
};

static size_t
inp_size (const NnConvGeom *g)
{
  return (size_t) g->B * g->C * g->H * g->W;
}

static size_t
out_size (const NnConvGeom *g)
{
  return (size_t) g->B * g->OC * g->OH * g->OW;
}

static float *
random_buf (size_t  n,
            double  lo,
            double  hi,
            GRand  *rand)
{
  float *p = g_new (float, n);
  for (size_t i = 0; i < n; i++)
    p[i] = (float) g_rand_double_range (rand, lo, hi);
  return p;
}

/* Output (b, oc, oh, ow) of the convolution, in double. */
static double
ref_out (const float      *inp,
         const float      *weight,
         const float      *bias,
         const NnConvGeom *g,
         int               b,
         int               oc,
         int               oh,
         int               ow)
{
  double s = bias ? bias[oc] : 0.0;
  for (int c = 0; c < g->C; c++)
    for (int kh = 0; kh < 3; kh++)
      for (int kw = 0; kw < 3; kw++)
        {
          const int ih = oh - g->PT + kh, iw = ow - g->PL + kw;
          if (ih < 0 || ih >= g->H || iw < 0 || iw >= g->W)
            continue;
          s += (double) inp[(((size_t) b * g->C + c) * g->H + ih) * g->W + iw]
               * weight[(((size_t) oc * g->C + c) * 3 + kh) * 3 + kw];
        }
  return s;
}

/* Input gradient (b, c, ih, iw) of the convolution, in double. */
static double
ref_din (const float      *dout,
         const float      *weight,
         const NnConvGeom *g,
         int               b,
         int               c,
         int               ih,
         int               iw)
{
  double s = 0.0;
  for (int oc = 0; oc < g->OC; oc++)
    for (int kh = 0; kh < 3; kh++)
      for (int kw = 0; kw < 3; kw++)
        {
          const int oh = ih + g->PT - kh, ow = iw + g->PL - kw;
          if (oh < 0 || oh >= g->OH || ow < 0 || ow >= g->OW)
            continue;
          s += (double) dout[(((size_t) b * g->OC + oc) * g->OH + oh) * g->OW + ow]
               * weight[(((size_t) oc * g->C + c) * 3 + kh) * 3 + kw];
        }
  return s;
}

/* Relative error of `got` against the reference values `ref` over n values:
 * ||got - ref||_2 / ||ref||_2, and the largest |got - ref| over the reference's RMS. */
typedef struct
{
  double sq_err, sq_ref, max_err;
  size_t n;
} Err;

static void
err_add (Err    *e,
         float   got,
         double  ref)
{
  const double d = fabs ((double) got - ref);
  e->sq_err += d * d;
  e->sq_ref += ref * ref;
  e->max_err = d > e->max_err ? d : e->max_err;
  e->n++;
}

static double
err_rel (const Err *e)
{
  return e->sq_ref > 0.0 ? sqrt (e->sq_err / e->sq_ref) : sqrt (e->sq_err);
}

static double
err_max_rel (const Err *e)
{
  const double rms = sqrt (e->sq_ref / (double) e->n);
  return rms > 0.0 ? e->max_err / rms : e->max_err;
}

/* Measured: F(4x4, 3x3) in float stays near 1e-6 in relative L2 and 3e-5 of the RMS at its
 * worst point (im2col: 3e-7 and 2e-6); the bounds leave a margin of about 3. */
#define TOL_L2  5e-6
#define TOL_MAX 1e-4

static void
err_check (const Err  *e,
           const char *what,
           size_t      shape)
{
  if (err_rel (e) > TOL_L2 || err_max_rel (e) > TOL_MAX)
    g_error ("%s, shape %zu: relative L2 error %.3g, largest %.3g of the RMS", what, shape,
             err_rel (e), err_max_rel (e));
}

static void
test_forward (void)
{
  GRand *rand = g_rand_new_with_seed (21);
  for (size_t s = 0; s < G_N_ELEMENTS (shapes); s++)
    for (int with_bias = 0; with_bias < 2; with_bias++)
      {
        const int *v = shapes[s];
        NnConvGeom g = geom (v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8]);
        g_assert_true (nn_winograd_applies (&g));
        float *inp = random_buf (inp_size (&g), -1.0, 1.0, rand);
        float *w = random_buf ((size_t) g.OC * g.C * 9, -1.0, 1.0, rand);
        float *bias = with_bias ? random_buf (g.OC, -1.0, 1.0, rand) : NULL;
        float *scratch = g_new (float, nn_winograd_scratch_size (&g));
        float *out = g_new (float, out_size (&g) + 1);
        out[out_size (&g)] = 77.0f;
        nn_winograd_forward (out, scratch, inp, w, bias, &g);
        g_assert_cmpfloat (out[out_size (&g)], ==, 77.0f);
        Err e = { 0 };
        for (int b = 0; b < g.B; b++)
          for (int oc = 0; oc < g.OC; oc++)
            for (int oh = 0; oh < g.OH; oh++)
              for (int ow = 0; ow < g.OW; ow++)
                err_add (&e, out[(((size_t) b * g.OC + oc) * g.OH + oh) * g.OW + ow],
                         ref_out (inp, w, bias, &g, b, oc, oh, ow));
        err_check (&e, "forward", s);
        g_free (out);
        g_free (scratch);
        g_free (bias);
        g_free (w);
        g_free (inp);
      }
  g_rand_free (rand);
}

/* The whole input gradient, and parts of its channels, each added to a gradient already there. */
static void
test_backward_input (void)
{
  GRand *rand = g_rand_new_with_seed (22);
  for (size_t s = 0; s < G_N_ELEMENTS (shapes); s++)
    {
      const int *v = shapes[s];
      NnConvGeom g = geom (v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8]);
      float *dout = random_buf (out_size (&g), -1.0, 1.0, rand);
      float *w = random_buf ((size_t) g.OC * g.C * 9, -1.0, 1.0, rand);
      float *prior = random_buf (inp_size (&g), -1.0, 1.0, rand);
      float *scratch = g_new (float, nn_winograd_scratch_size (&g));
      float *dinp = g_new (float, inp_size (&g));
      for (int n = 1; n <= 3; n++)
        {
          memcpy (dinp, prior, sizeof (float) * inp_size (&g));
          for (int k = 0; k < n; k++)
            nn_winograd_backward_input (dinp, scratch, dout, w, &g, g.C * k / n,
                                        g.C * (k + 1) / n);
          Err e = { 0 };
          for (int b = 0; b < g.B; b++)
            for (int c = 0; c < g.C; c++)
              for (int ih = 0; ih < g.H; ih++)
                for (int iw = 0; iw < g.W; iw++)
                  {
                    const size_t i = (((size_t) b * g.C + c) * g.H + ih) * g.W + iw;
                    err_add (&e, dinp[i] - prior[i], ref_din (dout, w, &g, b, c, ih, iw));
                  }
          err_check (&e, n == 1 ? "input gradient" : "input gradient in parts", s);
        }
      g_free (dinp);
      g_free (scratch);
      g_free (prior);
      g_free (w);
      g_free (dout);
    }
  g_rand_free (rand);
}

/* nn_conv2d takes the Winograd path exactly where the rule says it pays. */
static void
test_dispatch (void)
{
  NnConvGeom big = geom (2, 64, 15, 13, 64, 1, 1, 1, 1);
  NnConvGeom thin = geom (1, 3, 32, 32, 32, 1, 1, 1, 1);
  NnConvGeom tiny = geom (1, 512, 7, 7, 512, 1, 1, 1, 1);
  NnConvGeom strided = big;
  strided.SH = strided.SW = 2;
  strided.OH = 8;
  strided.OW = 7;
  g_assert_true (nn_winograd_pays_forward (&big) && nn_winograd_pays_backward (&big));
  g_assert_false (nn_winograd_pays_forward (&thin));
  g_assert_true (nn_winograd_pays_backward (&thin));
  g_assert_false (nn_winograd_pays_forward (&tiny) || nn_winograd_pays_backward (&tiny));
  g_assert_false (nn_winograd_applies (&strided));

  GRand *rand = g_rand_new_with_seed (23);
  const NnConvGeom *g = &big;
  float *inp = random_buf (inp_size (g), -1.0, 1.0, rand);
  float *w = random_buf ((size_t) g->OC * g->C * 9, -1.0, 1.0, rand);
  float *bias = random_buf (g->OC, -1.0, 1.0, rand);
  float *dout = random_buf (out_size (g), -1.0, 1.0, rand);
  float *scratch = g_new (float, nn_conv2d_scratch_size (g));
  float *a = g_new (float, out_size (g)), *b = g_new (float, out_size (g));
  nn_conv2d_forward (a, scratch, inp, w, bias, g);
  nn_winograd_forward (b, scratch, inp, w, bias, g);
  g_assert_cmpmem (a, sizeof (float) * out_size (g), b, sizeof (float) * out_size (g));
  float *da = g_new0 (float, inp_size (g)), *db = g_new0 (float, inp_size (g));
  nn_conv2d_backward (da, NULL, NULL, scratch, dout, inp, w, g);
  nn_winograd_backward_input (db, scratch, dout, w, g, 0, g->C);
  g_assert_cmpmem (da, sizeof (float) * inp_size (g), db, sizeof (float) * inp_size (g));
  g_free (db);
  g_free (da);
  g_free (b);
  g_free (a);
  g_free (scratch);
  g_free (dout);
  g_free (bias);
  g_free (w);
  g_free (inp);
  g_rand_free (rand);
}

/* Training (parameter gradients) keeps the small CNN's second conv (32 -> 64 channels on 14x14)
 * on im2col for its input gradient, where Winograd would take it without them, and reserves no
 * Winograd kernels for it; 28x28 maps keep Winograd. */
static void
test_training_rule (void)
{
  const NnConvGeom small = geom (64, 32, 14, 14, 64, 1, 1, 1, 1);
  const NnConvGeom large = geom (64, 32, 28, 28, 64, 1, 1, 1, 1);
  g_assert_true (nn_winograd_pays_backward (&small));
  g_assert_false (nn_winograd_pays_beside_weights (&small));
  g_assert_true (nn_winograd_pays_beside_weights (&large));

  NnGraph *graph = nn_graph_new ();
  const int in = nn_graph_add_input (graph, "in", 32, 14, 14);
  const int conv = nn_graph_add_conv2d (graph, "conv", in, 64, 3, 1, 1, 1, 1, true);
  g_assert_cmpint (conv, >, 0);
  NnContext *train = nn_context_new (graph, 4, NN_CONTEXT_BACKWARD | NN_CONTEXT_PARAM_GRADS,
                                     NULL);
  g_assert_nonnull (train);
  g_assert_cmpuint (nn_graph_packs_bytes (graph), ==, 0);
  NnContext *saliency = nn_context_new (graph, 1, NN_CONTEXT_BACKWARD, NULL);
  g_assert_nonnull (saliency);
  g_assert_cmpuint (nn_graph_packs_bytes (graph), ==,
                    sizeof (float) * nn_winograd_packed_size (&small));

  /* the training context's input gradient is im2col's, bit for bit */
  GRand *rand = g_rand_new_with_seed (37);
  for (size_t i = 0; i < graph->n_data; i++)
    graph->data[i] = (float) g_rand_double_range (rand, -0.5, 0.5);
  nn_graph_bump_version (graph);
  const size_t n_in = 4 * inp_size (&small) / 64, n_out = 4 * out_size (&small) / 64;
  float *inp = random_buf (n_in, -1.0, 1.0, rand);
  float *dout = random_buf (n_out, -1.0, 1.0, rand);
  memcpy (nn_context_input (train), inp, sizeof (float) * n_in);
  nn_context_forward (train, -1);
  nn_context_zero_param_grads (train);
  memcpy (nn_context_grad (train, conv), dout, sizeof (float) * n_out);
  nn_context_backward (train, conv, NN_BACKWARD_INPUT | NN_BACKWARD_PARAMS, -1);
  NnConvGeom g = small;
  g.B = 4;
  g.no_winograd = true;
  float *want = g_new0 (float, n_in);
  float *scratch = g_new (float, nn_conv2d_scratch_size (&g));
  const float *w = nn_graph_param_data (graph, nn_graph_node_param (graph, conv,
                                                                     NN_PARAM_WEIGHT));
  nn_conv2d_backward (want, NULL, NULL, scratch, dout, inp, w, &g);
  g_assert_cmpmem (nn_context_grad (train, 0), sizeof (float) * n_in, want,
                   sizeof (float) * n_in);
  g_free (scratch);
  g_free (want);
  g_free (dout);
  g_free (inp);
  g_rand_free (rand);
  nn_context_free (saliency);
  nn_context_free (train);
  nn_graph_free (graph);
}

/* Runs a forward and an input-gradient pass of `ctx` (input node 0, conv node `conv`) on `inp`
 * and `dout`; returns the output and input gradient, freshly allocated. */
static void
context_pass (NnContext    *ctx,
              int           conv,
              const float  *inp,
              const float  *dout,
              size_t        n_in,
              size_t        n_out,
              float       **out,
              float       **dinp)
{
  memcpy (nn_context_input (ctx), inp, sizeof (float) * n_in);
  nn_context_forward (ctx, -1);
  *out = g_memdup2 (nn_context_output (ctx, conv), sizeof (float) * n_out);
  memcpy (nn_context_grad (ctx, conv), dout, sizeof (float) * n_out);
  nn_context_backward (ctx, conv, NN_BACKWARD_INPUT, -1);
  *dinp = g_memdup2 (nn_context_grad (ctx, 0), sizeof (float) * n_in);
}

/* A context's packed kernels follow every change of the weights (here written straight into
 * the graph and marked by a new version, as a finite-difference check does), and two workers sharing a sample give the
 * serial result bit for bit. */
static void
test_context_packing (void)
{
  GRand *rand = g_rand_new_with_seed (25);
  NnGraph *graph = nn_graph_new ();
  const int in = nn_graph_add_input (graph, "in", 64, 12, 11);
  const int conv = nn_graph_add_conv2d (graph, "conv", in, 72, 3, 1, 1, 1, 1, true);
  g_assert_cmpint (conv, >, 0);
  NnConvGeom g = geom (1, 64, 12, 11, 72, 1, 1, 1, 1);
  g_assert_true (nn_winograd_pays_forward (&g) && nn_winograd_pays_backward (&g));
  float *w = nn_graph_param_data (graph, nn_graph_node_param (graph, conv, NN_PARAM_WEIGHT));
  float *bias = nn_graph_param_data (graph, nn_graph_node_param (graph, conv, NN_PARAM_BIAS));
  const size_t nw = (size_t) 72 * 64 * 9;
  for (size_t i = 0; i < nw; i++)
    w[i] = (float) g_rand_double_range (rand, -1.0, 1.0);
  for (int i = 0; i < 72; i++)
    bias[i] = (float) g_rand_double_range (rand, -1.0, 1.0);
  float *inp = random_buf (inp_size (&g), -1.0, 1.0, rand);
  float *dout = random_buf (out_size (&g), -1.0, 1.0, rand);
  NnContext *serial = nn_context_new (graph, 1, NN_CONTEXT_BACKWARD, NULL);
  NnContext *split = nn_context_new (graph, 1, NN_CONTEXT_BACKWARD, NULL);
  g_assert_true (serial != NULL && split != NULL);
  g_assert_true (nn_context_set_threads (split, 2, NULL));
  for (int version = 0; version < 3; version++)
    {
      if (version == 1)
        w[17] += 0.5f; /* one weight */
      if (version == 2)
        for (size_t i = 0; i < nw; i++)
          w[i] = -w[i];
      if (version > 0)
        nn_graph_bump_version (graph);
      float *out, *dinp, *out2, *dinp2;
      context_pass (serial, conv, inp, dout, inp_size (&g), out_size (&g), &out, &dinp);
      context_pass (split, conv, inp, dout, inp_size (&g), out_size (&g), &out2, &dinp2);
      g_assert_cmpmem (out, sizeof (float) * out_size (&g), out2,
                       sizeof (float) * out_size (&g));
      g_assert_cmpmem (dinp, sizeof (float) * inp_size (&g), dinp2,
                       sizeof (float) * inp_size (&g));
      Err ef = { 0 }, eb = { 0 };
      for (int oc = 0; oc < g.OC; oc++)
        for (int y = 0; y < g.OH; y++)
          for (int x = 0; x < g.OW; x++)
            err_add (&ef, out[((size_t) oc * g.OH + y) * g.OW + x],
                     ref_out (inp, w, bias, &g, 0, oc, y, x));
      for (int c = 0; c < g.C; c++)
        for (int y = 0; y < g.H; y++)
          for (int x = 0; x < g.W; x++)
            err_add (&eb, dinp[((size_t) c * g.H + y) * g.W + x],
                     ref_din (dout, w, &g, 0, c, y, x));
      err_check (&ef, "context forward", (size_t) version);
      err_check (&eb, "context input gradient", (size_t) version);
      g_free (dinp2);
      g_free (out2);
      g_free (dinp);
      g_free (out);
    }
  nn_context_free (split);
  nn_context_free (serial);
  nn_graph_free (graph);
  g_free (dout);
  g_free (inp);
  g_rand_free (rand);
}

/* A conv of ctx's output (node `conv`) for `batch` copies of inp, compared bit for bit with
 * nn_conv2d_forward on the graph's current weights (which packs the kernels itself). */
static void
check_shared_forward (NnContext        *ctx,
                      NnGraph          *graph,
                      int               conv,
                      const float      *inp,
                      const NnConvGeom *g1)
{
  const int batch = nn_context_get_batch (ctx);
  const size_t n_in = inp_size (g1), n_out = out_size (g1);
  for (int b = 0; b < batch; b++)
    memcpy (nn_context_input (ctx) + b * n_in, inp, sizeof (float) * n_in);
  nn_context_forward (ctx, -1);
  const float *w = nn_graph_param_data (graph, nn_graph_node_param (graph, conv, NN_PARAM_WEIGHT));
  const float *bias = nn_graph_param_data (graph, nn_graph_node_param (graph, conv,
                                                                        NN_PARAM_BIAS));
  float *want = g_new (float, n_out);
  float *scratch = g_new (float, nn_conv2d_scratch_size (g1));
  nn_conv2d_forward (want, scratch, inp, w, bias, g1);
  for (int b = 0; b < batch; b++)
    g_assert_cmpmem (nn_context_output (ctx, conv) + b * n_out, sizeof (float) * n_out, want,
                     sizeof (float) * n_out);
  g_free (scratch);
  g_free (want);
}

/* Contexts on one graph (batches 1 and 3, forward-only and with gradients) share the graph's
 * packed kernels: the second context builds nothing and takes no more memory, and both give
 * what the unpacked convolution gives. An optimizer step rebuilds the packings once, for
 * every context; a context still on the old kernels would differ from the new weights'
 * convolution. */
static void
test_shared_packings (void)
{
  GRand *rand = g_rand_new_with_seed (31);
  NnGraph *graph = nn_graph_new ();
  const int in = nn_graph_add_input (graph, "in", 64, 12, 11);
  const int conv = nn_graph_add_conv2d (graph, "conv", in, 72, 3, 1, 1, 1, 1, true);
  const int pool = nn_graph_add_global_avgpool (graph, "pool", conv);
  nn_graph_add_linear (graph, "fc", nn_graph_add_flatten (graph, "flat", pool), 4, true);
  const NnConvGeom g = geom (1, 64, 12, 11, 72, 1, 1, 1, 1);
  g_assert_true (nn_winograd_pays_forward (&g));
  for (size_t i = 0; i < graph->n_data; i++)
    graph->data[i] = (float) g_rand_double_range (rand, -0.5, 0.5);
  nn_graph_bump_version (graph);
  float *inp = random_buf (inp_size (&g), -1.0, 1.0, rand);

  NnContext *one = nn_context_new (graph, 1, 0, NULL);
  g_assert_nonnull (one);
  const size_t bytes = nn_graph_packs_bytes (graph);
  g_assert_cmpuint (bytes, >=, sizeof (float) * nn_winograd_packed_size (&g));
  g_assert_cmpuint (nn_graph_packs_builds (graph), ==, 0);
  check_shared_forward (one, graph, conv, inp, &g);
  const size_t builds = nn_graph_packs_builds (graph);
  g_assert_cmpuint (builds, >, 0);

  NnContext *three = nn_context_new (graph, 3, 0, NULL);
  g_assert_nonnull (three);
  g_assert_true (nn_context_set_threads (three, 2, NULL));
  g_assert_cmpuint (nn_graph_packs_bytes (graph), ==, bytes);
  check_shared_forward (three, graph, conv, inp, &g);
  g_assert_cmpuint (nn_graph_packs_builds (graph), ==, builds);

  /* a training context adds the input gradient's kernels, and its step changes the weights */
  NnContext *train = nn_context_new (graph, 2, NN_CONTEXT_BACKWARD | NN_CONTEXT_PARAM_GRADS,
                                     NULL);
  g_assert_nonnull (train);
  for (size_t i = 0; i < 2 * inp_size (&g); i++)
    nn_context_input (train)[i] = (float) g_rand_double_range (rand, -1.0, 1.0);
  nn_context_set_training (train, true);
  nn_context_forward (train, -1);
  nn_context_zero_param_grads (train);
  const int out = nn_graph_output (graph);
  for (int i = 0; i < 2 * 4; i++)
    nn_context_grad (train, out)[i] = 1.0f;
  nn_context_backward (train, out, NN_BACKWARD_PARAMS, -1);
  NnOptimizerConfig config = { .kind = NN_OPTIMIZER_SGD };
  NnOptimizer *opt = nn_optimizer_new (graph, &config);
  g_assert_nonnull (opt);
  nn_optimizer_step (opt, graph, nn_context_param_grads (train), 0.5f);
  nn_optimizer_free (opt);

  const size_t before = nn_graph_packs_builds (graph);
  check_shared_forward (three, graph, conv, inp, &g);
  const size_t after = nn_graph_packs_builds (graph);
  g_assert_cmpuint (after, >, before);
  check_shared_forward (one, graph, conv, inp, &g);
  g_assert_cmpuint (nn_graph_packs_builds (graph), ==, after);

  nn_context_free (train);
  nn_context_free (three);
  nn_context_free (one);
  nn_graph_free (graph);
  g_free (inp);
  g_rand_free (rand);
}

/* A context made with NN_CONTEXT_NO_WINOGRAD runs the conv through im2col (bit for bit what
 * nn_conv2d gives with no_winograd set), forward and input gradient, on one worker and on two;
 * the default context takes Winograd and stays within its bounds of the reference. */
static void
test_context_no_winograd (void)
{
  GRand *rand = g_rand_new_with_seed (28);
  NnGraph *graph = nn_graph_new ();
  const int in = nn_graph_add_input (graph, "in", 64, 12, 11);
  const int conv = nn_graph_add_conv2d (graph, "conv", in, 64, 3, 1, 1, 1, 1, true);
  g_assert_cmpint (conv, >, 0);
  NnConvGeom g = geom (1, 64, 12, 11, 64, 1, 1, 1, 1);
  g_assert_true (nn_winograd_pays_forward (&g) && nn_winograd_pays_backward (&g));
  float *w = nn_graph_param_data (graph, nn_graph_node_param (graph, conv, NN_PARAM_WEIGHT));
  float *bias = nn_graph_param_data (graph, nn_graph_node_param (graph, conv, NN_PARAM_BIAS));
  for (size_t i = 0; i < (size_t) 64 * 64 * 9; i++)
    w[i] = (float) g_rand_double_range (rand, -1.0, 1.0);
  for (int i = 0; i < 64; i++)
    bias[i] = (float) g_rand_double_range (rand, -1.0, 1.0);
  float *inp = random_buf (inp_size (&g), -1.0, 1.0, rand);
  float *dout = random_buf (out_size (&g), -1.0, 1.0, rand);
  const size_t bo = sizeof (float) * out_size (&g), bi = sizeof (float) * inp_size (&g);

  NnConvGeom gi = g;
  gi.no_winograd = true;
  g_assert_false (nn_winograd_pays_forward (&gi) || nn_winograd_pays_backward (&gi));
  float *scratch = g_new (float, nn_conv2d_scratch_size (&gi));
  float *ref = g_new (float, out_size (&g)), *dref = g_new0 (float, inp_size (&g));
  nn_conv2d_forward (ref, scratch, inp, w, bias, &gi);
  nn_conv2d_backward (dref, NULL, NULL, scratch, dout, inp, w, &gi);

  for (int threads = 1; threads <= 2; threads++)
    {
      NnContext *plain = nn_context_new (graph, 1, NN_CONTEXT_BACKWARD
                                                   | NN_CONTEXT_NO_WINOGRAD, NULL);
      NnContext *fast = nn_context_new (graph, 1, NN_CONTEXT_BACKWARD, NULL);
      g_assert_true (plain != NULL && fast != NULL);
      g_assert_true (nn_context_set_threads (plain, threads, NULL));
      g_assert_true (nn_context_set_threads (fast, threads, NULL));
      float *out, *dinp, *out2, *dinp2;
      context_pass (plain, conv, inp, dout, inp_size (&g), out_size (&g), &out, &dinp);
      context_pass (fast, conv, inp, dout, inp_size (&g), out_size (&g), &out2, &dinp2);
      g_assert_cmpmem (out, bo, ref, bo);
      g_assert_cmpmem (dinp, bi, dref, bi);
      g_assert_true (memcmp (out2, ref, bo) != 0);
      Err ef = { 0 }, eb = { 0 };
      for (size_t i = 0; i < out_size (&g); i++)
        err_add (&ef, out2[i], ref[i]);
      for (size_t i = 0; i < inp_size (&g); i++)
        err_add (&eb, dinp2[i], dref[i]);
      err_check (&ef, "winograd against im2col, forward", (size_t) threads);
      err_check (&eb, "winograd against im2col, input gradient", (size_t) threads);
      g_free (dinp2);
      g_free (out2);
      g_free (dinp);
      g_free (out);
      nn_context_free (fast);
      nn_context_free (plain);
    }
  g_free (dref);
  g_free (ref);
  g_free (scratch);
  nn_graph_free (graph);
  g_free (dout);
  g_free (inp);
  g_rand_free (rand);
}

/* A batch of two over two workers with parameter gradients (a training step's backward): the
 * samples' outputs and input gradients through the packings, the weight gradient through
 * im2col, each against the reference. */
static void
test_context_batch (void)
{
  GRand *rand = g_rand_new_with_seed (26);
  NnGraph *graph = nn_graph_new ();
  const int in = nn_graph_add_input (graph, "in", 64, 9, 10);
  const int conv = nn_graph_add_conv2d (graph, "conv", in, 64, 3, 1, 1, 1, 1, false);
  g_assert_cmpint (conv, >, 0);
  NnConvGeom g = geom (2, 64, 9, 10, 64, 1, 1, 1, 1);
  g_assert_true (nn_winograd_pays_forward (&g) && nn_winograd_pays_backward (&g));
  const int wp = nn_graph_node_param (graph, conv, NN_PARAM_WEIGHT);
  float *w = nn_graph_param_data (graph, wp);
  const size_t nw = (size_t) 64 * 64 * 9;
  for (size_t i = 0; i < nw; i++)
    w[i] = (float) g_rand_double_range (rand, -1.0, 1.0);
  float *inp = random_buf (inp_size (&g), -1.0, 1.0, rand);
  float *dout = random_buf (out_size (&g), -1.0, 1.0, rand);
  NnContext *ctx = nn_context_new (graph, 2, NN_CONTEXT_BACKWARD | NN_CONTEXT_PARAM_GRADS, NULL);
  g_assert_nonnull (ctx);
  g_assert_true (nn_context_set_threads (ctx, 2, NULL));
  nn_context_zero_param_grads (ctx);
  memcpy (nn_context_input (ctx), inp, sizeof (float) * inp_size (&g));
  nn_context_forward (ctx, -1);
  const float *out = nn_context_output (ctx, conv);
  memcpy (nn_context_grad (ctx, conv), dout, sizeof (float) * out_size (&g));
  nn_context_backward (ctx, conv, NN_BACKWARD_INPUT | NN_BACKWARD_PARAMS, -1);
  const float *dinp = nn_context_grad (ctx, 0);
  const float *dw = nn_context_param_grads (ctx) + graph->params[wp].offset;
  float *dw_ref = g_new0 (float, nw);
  nn_conv2d_backward_naive (NULL, dw_ref, NULL, dout, inp, w, &g);
  Err ef = { 0 }, eb = { 0 }, ew = { 0 };
  for (int b = 0; b < 2; b++)
    for (int c = 0; c < 64; c++)
      for (int y = 0; y < 9; y++)
        for (int x = 0; x < 10; x++)
          {
            const size_t i = (((size_t) b * 64 + c) * 9 + y) * 10 + x;
            err_add (&ef, out[i], ref_out (inp, w, NULL, &g, b, c, y, x));
            err_add (&eb, dinp[i], ref_din (dout, w, &g, b, c, y, x));
          }
  for (size_t i = 0; i < nw; i++)
    err_add (&ew, dw[i], dw_ref[i]);
  err_check (&ef, "batch forward", 0);
  err_check (&eb, "batch input gradient", 0);
  err_check (&ew, "batch weight gradient", 0);
  g_free (dw_ref);
  nn_context_free (ctx);
  nn_graph_free (graph);
  g_free (dout);
  g_free (inp);
  g_rand_free (rand);
}

/* A buffer of n floats between two guard runs of GUARD floats, all set to a value no kernel
 * computes; buffers are checked against it after each call. */
#define GUARD 256
static const float sentinel = -12345.25f;

static float *
guarded_new (size_t n)
{
  float *p = g_new (float, n + 2 * GUARD);
  for (size_t i = 0; i < n + 2 * GUARD; i++)
    p[i] = sentinel;
  return p + GUARD;
}

/* Values [0, lo) and [hi, n) of p are untouched, and so are both guards. */
static void
guarded_check (const float *p,
               size_t       n,
               size_t       lo,
               size_t       hi,
               const char  *what)
{
  for (size_t i = 0; i < GUARD; i++)
    if (p[-(ptrdiff_t) GUARD + (ptrdiff_t) i] != sentinel || p[n + i] != sentinel)
      g_error ("%s: written outside the buffer (guard float %zu)", what, i);
  for (size_t i = 0; i < n; i++)
    if ((i < lo || i >= hi) && p[i] != sentinel)
      g_error ("%s: float %zu outside the range [%zu, %zu) written", what, i, lo, hi);
}

static void
guarded_free (float *p)
{
  g_free (p - GUARD);
}

/* DenseNet-121's 3x3 convolutions (128 bottleneck channels to a growth of 32) at the sizes of
 * a 64 px input (16x16, 8x8), of 224 px (28x28, where the input gradient takes Winograd too)
 * and an odd 13x13 whose tiles are cut at the edges, 2 samples: forward and input gradient
 * through the packed kernels, over the whole range and over two uneven shares, against the
 * double-precision direct convolution; packings, scratch, output and gradient are written
 * nowhere outside their sizes and, for a share, nowhere outside its channels. */
static void
test_densenet_shapes (void)
{
  static const int sizes[] = { 16, 8, 28, 13 };
  GRand *rand = g_rand_new_with_seed (27);
  for (size_t k = 0; k < G_N_ELEMENTS (sizes); k++)
    {
      NnConvGeom g = geom (2, 128, sizes[k], sizes[k], 32, 1, 1, 1, 1);
      g_assert_true (nn_winograd_pays_forward (&g));
      const size_t n_in = inp_size (&g), n_out = out_size (&g), nw = (size_t) 32 * 128 * 9;
      const size_t n_pack = nn_winograd_packed_size (&g), n_work = nn_winograd_work_size (&g);
      float *inp = random_buf (n_in, 0.0, 1.0, rand);
      float *w = random_buf (nw, -0.1, 0.1, rand);
      float *bias = random_buf (32, -1.0, 1.0, rand);
      float *dout = random_buf (n_out, -1.0, 1.0, rand);
      float *fwd = guarded_new (n_pack), *bwd = guarded_new (n_pack);
      nn_winograd_pack_forward (fwd, w, &g);
      nn_winograd_pack_backward (bwd, w, &g);
      guarded_check (fwd, n_pack, 0, n_pack, "forward packing");
      guarded_check (bwd, n_pack, 0, n_pack, "backward packing");
      const int cuts[][2] = { { 0, 32 }, { 0, 13 }, { 13, 32 } };
      for (size_t c = 0; c < G_N_ELEMENTS (cuts); c++)
        {
          const int lo = cuts[c][0], hi = cuts[c][1];
          float *scratch = guarded_new (n_work), *out = guarded_new (n_out);
          nn_winograd_forward_packed (out, scratch, inp, fwd, bias, &g, lo, hi);
          guarded_check (scratch, n_work, 0, n_work, "forward scratch");
          guarded_check (out, n_out, 0, n_out, "output");
          Err e = { 0 };
          const size_t plane = (size_t) g.OH * g.OW;
          for (int b = 0; b < g.B; b++)
            for (int oc = 0; oc < g.OC; oc++)
              for (size_t i = 0; i < plane; i++)
                {
                  const float v = out[((size_t) b * g.OC + oc) * plane + i];
                  if (oc < lo || oc >= hi)
                    g_assert_cmpfloat (v, ==, sentinel);
                  else
                    err_add (&e, v, ref_out (inp, w, bias, &g, b, oc, (int) (i / (size_t) g.OW),
                                             (int) (i % (size_t) g.OW)));
                }
          err_check (&e, "densenet forward", k);
          guarded_free (out);
          guarded_free (scratch);
        }
      const int ccuts[][2] = { { 0, 128 }, { 0, 37 }, { 37, 128 } };
      for (size_t c = 0; c < G_N_ELEMENTS (ccuts); c++)
        {
          const int lo = ccuts[c][0], hi = ccuts[c][1];
          float *scratch = guarded_new (n_work), *dinp = guarded_new (n_in);
          for (size_t i = 0; i < n_in; i++)
            dinp[i] = 0.0f;
          nn_winograd_backward_input_packed (dinp, scratch, dout, bwd, &g, lo, hi);
          guarded_check (scratch, n_work, 0, n_work, "input-gradient scratch");
          Err e = { 0 };
          const size_t plane = (size_t) g.H * g.W;
          for (int b = 0; b < g.B; b++)
            for (int ch = 0; ch < g.C; ch++)
              for (size_t i = 0; i < plane; i++)
                {
                  const float v = dinp[((size_t) b * g.C + ch) * plane + i];
                  if (ch < lo || ch >= hi)
                    g_assert_cmpfloat (v, ==, 0.0f);
                  else
                    err_add (&e, v, ref_din (dout, w, &g, b, ch, (int) (i / (size_t) g.W),
                                             (int) (i % (size_t) g.W)));
                }
          guarded_check (dinp, n_in, 0, n_in, "input gradient");
          err_check (&e, "densenet input gradient", k);
          guarded_free (dinp);
          guarded_free (scratch);
        }
      guarded_check (fwd, n_pack, 0, n_pack, "forward packing after the passes");
      guarded_free (bwd);
      guarded_free (fwd);
      g_free (dout);
      g_free (bias);
      g_free (w);
      g_free (inp);
    }
  g_rand_free (rand);
}

/* ResNet-18's stride-1 3x3 convolutions at 224 px, with post-ReLU inputs in [0, 1), Kaiming
 * uniform weights and gradients in [-1, 1]: the relative error of the path nn_conv2d takes
 * against the double-precision convolution, over 4096 sampled positions. */
static void
test_resnet18_layers (void)
{
  static const int layers[][2] = { { 64, 56 }, { 128, 28 }, { 256, 14 }, { 512, 7 } };
  GRand *rand = g_rand_new_with_seed (24);
  for (size_t l = 0; l < G_N_ELEMENTS (layers); l++)
    {
      const int C = layers[l][0], S = layers[l][1];
      NnConvGeom g = geom (1, C, S, S, C, 1, 1, 1, 1);
      const double bound = sqrt (6.0 / (9.0 * C));
      float *inp = random_buf (inp_size (&g), 0.0, 1.0, rand);
      float *w = random_buf ((size_t) C * C * 9, -bound, bound, rand);
      float *dout = random_buf (out_size (&g), -1.0, 1.0, rand);
      float *scratch = g_new (float, nn_conv2d_scratch_size (&g));
      float *out = g_new (float, out_size (&g));
      float *dinp = g_new0 (float, inp_size (&g));
      nn_conv2d_forward (out, scratch, inp, w, NULL, &g);
      nn_conv2d_backward (dinp, NULL, NULL, scratch, dout, inp, w, &g);
      Err ef = { 0 }, eb = { 0 };
      for (int k = 0; k < 4096; k++)
        {
          const int c = g_rand_int_range (rand, 0, C), y = g_rand_int_range (rand, 0, S);
          const int x = g_rand_int_range (rand, 0, S);
          const size_t i = ((size_t) c * S + y) * S + x;
          err_add (&ef, out[i], ref_out (inp, w, NULL, &g, 0, c, y, x));
          err_add (&eb, dinp[i], ref_din (dout, w, &g, 0, c, y, x));
        }
      g_test_message ("resnet18 3x3 %d ch %dx%d: forward (%s) rel L2 %.2e max %.2e; "
                      "input gradient (%s) rel L2 %.2e max %.2e", C, S, S,
                      nn_winograd_pays_forward (&g) ? "winograd" : "im2col", err_rel (&ef),
                      err_max_rel (&ef), nn_winograd_pays_backward (&g) ? "winograd" : "im2col",
                      err_rel (&eb), err_max_rel (&eb));
      err_check (&ef, "resnet18 forward", l);
      err_check (&eb, "resnet18 input gradient", l);
      g_free (dinp);
      g_free (out);
      g_free (scratch);
      g_free (dout);
      g_free (w);
      g_free (inp);
    }
  g_rand_free (rand);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nn/winograd/forward", test_forward);
  g_test_add_func ("/nn/winograd/backward-input", test_backward_input);
  g_test_add_func ("/nn/winograd/dispatch", test_dispatch);
  g_test_add_func ("/nn/winograd/context-packing", test_context_packing);
  g_test_add_func ("/nn/winograd/context-batch", test_context_batch);
  g_test_add_func ("/nn/winograd/shared-packings", test_shared_packings);
  g_test_add_func ("/nn/winograd/training-rule", test_training_rule);
  g_test_add_func ("/nn/winograd/context-no-winograd", test_context_no_winograd);
  g_test_add_func ("/nn/winograd/resnet18-layers", test_resnet18_layers);
  g_test_add_func ("/nn/winograd/densenet-shapes", test_densenet_shapes);
  return g_test_run ();
}
