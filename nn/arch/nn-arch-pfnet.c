/* SPDX-License-Identifier: MIT */
/* PFNet-18 (pre-defined filter network) and its filter bank: the ResNet-18 layout where every
 * 3x3 conv is a Pre-defined Filter Module (docs/architecture.md, "PFNet"). */
#include "arch/nn-arch-private.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BANK_SIZE     16
#define EDGE_SIGMA    0.9
#define LINE_SIGMA    0.45
#define BLUR_SIGMA    0.75
#define MAX_MODULES   32
#define MAX_BLURS     8

static const char *const kernel_names[] = {
  "-U0", "+U0", "-U45", "+U45", "-U90", "+U90", "-U135", "+U135",
  "-E0", "+E0", "-E45", "+E45", "-E90", "+E90", "-E135", "+E135",
};
_Static_assert (sizeof kernel_names / sizeof kernel_names[0] == BANK_SIZE,
                "kernel_names needs one name per kernel of the bank");

const char *
nn_pfm_kernel_name (int index)
{
  NN_ASSERT (index >= 0 && index < BANK_SIZE);
  return kernel_names[index];
}

static const char *const random_names[] = {
  "-R0", "+R0", "-R1", "+R1", "-R2", "+R2", "-R3", "+R3",
  "-R4", "+R4", "-R5", "+R5", "-R6", "+R6", "-R7", "+R7",
};
_Static_assert (sizeof random_names / sizeof random_names[0] == BANK_SIZE,
                "random_names needs one name per kernel of the bank");

const char *
nn_pfm_bank_kernel_name (NnPfmBank bank,
                         int       index)
{
  NN_ASSERT (index >= 0 && index < BANK_SIZE);
  return bank == NN_PFM_BANK_RANDOM_FROZEN ? random_names[index] : kernel_names[index];
}

/* Subtracts the mean, then divides by the L1 norm. */
static void
normalise (double k[9])
{
  double mean = 0.0;
  for (int i = 0; i < 9; i++)
    mean += k[i];
  mean /= 9.0;
  double l1 = 0.0;
  for (int i = 0; i < 9; i++)
    {
      k[i] -= mean;
      l1 += fabs (k[i]);
    }
  for (int i = 0; i < 9; i++)
    k[i] /= l1;
}

/* Grid: x = column - 1 grows to the right, y = row - 1 grows downwards (image coordinates, as
 * the published PFNet code builds its grid), so angles turn clockwise on screen: +U0 is positive
 * in the right column, +U90 in the bottom row, +U45 at the bottom-right corner, and the kernel
 * at phi + 90 degrees is the one at phi turned 90 degrees clockwise.
 * c = r cos(|phi - atan2(y, x)|) is computed as the projection x cos(phi) + y sin(phi): the same
 * number, since the cosine is even and 2 pi periodic, so the angle difference needs no
 * wrap-around, the centre (r = 0) gives c = 0, and c is exactly 0 where the direction is
 * perpendicular. An edge kernel is negated where the angle difference, taken in [0, 180]
 * degrees, exceeds 90 degrees, which is where c < 0. */
void
nn_pfm_bank_kernels (float kernels[16][9])
{
  const double s = sqrt (0.5);
  const double dir[4][2] = { { 1.0, 0.0 }, { s, s }, { 0.0, 1.0 }, { -s, s } };
  for (int a = 0; a < 4; a++)
    {
      double edge[9], line[9];
      for (int row = 0; row < 3; row++)
        for (int col = 0; col < 3; col++)
          {
            double x = col - 1, y = row - 1;
            double c = x * dir[a][0] + y * dir[a][1];
            double u = 1.0 - exp (-0.5 * (c / EDGE_SIGMA) * (c / EDGE_SIGMA));
            edge[row * 3 + col] = c < 0.0 ? -u : u;
            line[row * 3 + col] = 2.0 * exp (-0.5 * (c / LINE_SIGMA) * (c / LINE_SIGMA));
          }
      normalise (edge);
      normalise (line);
      for (int i = 0; i < 9; i++)
        {
          kernels[2 * a][i] = (float) -edge[i];
          kernels[2 * a + 1][i] = (float) edge[i];
          kernels[8 + 2 * a][i] = (float) -line[i];
          kernels[8 + 2 * a + 1][i] = (float) line[i];
        }
    }
}

static const char *const bank_names[] = {
  [NN_PFM_BANK_FULL] = "full",
  [NN_PFM_BANK_EDGES] = "edges",
  [NN_PFM_BANK_LINES] = "lines",
  [NN_PFM_BANK_RANDOM_FROZEN] = "random-frozen",
  [NN_PFM_BANK_TRAINABLE] = "trainable",
};
_Static_assert (sizeof bank_names / sizeof bank_names[0] == NN_PFM_BANK_TRAINABLE + 1,
                "bank_names needs one name per NnPfmBank");

const char *
nn_pfm_bank_name (NnPfmBank bank)
{
  NN_ASSERT ((int) bank >= 0 && bank <= NN_PFM_BANK_TRAINABLE);
  return bank_names[bank];
}

bool
nn_pfm_bank_parse (const char *text,
                   NnPfmBank  *bank,
                   NnError    *err)
{
  for (int i = 0; i <= NN_PFM_BANK_TRAINABLE; i++)
    if (strcmp (text, bank_names[i]) == 0)
      {
        *bank = (NnPfmBank) i;
        return true;
      }
  return nn_error_set (err, NN_ERROR_SPEC, "unknown filter bank '%s' (expected full, edges, "
                       "lines, random-frozen or trainable)", text);
}

/* The subsets, as indices into -U0 +U0 -U45 +U45 -U90 +U90 -U135 +U135 -E0 ... +E135. The
 * 16-kernel banks (full, random-frozen, trainable): 16 all; 8 the positive kernel of each
 * shape and angle (both kinds, four angles); 9 those 8 and -U0 (the bank's kernels are
 * zero-mean, so they span at most 8 of the 9 dimensions of a 3x3 kernel: the ninth adds a
 * sign, not a direction); 4 the positive edges and lines at 0 and 90 degrees. Edges and lines
 * (8 kernels): 16 each kernel twice (as channels cycle through 16), 8 all, 4 the positive one
 * at each angle. */
static const int subset_16[16] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
static const int subset_9[9] = { 1, 3, 5, 7, 9, 11, 13, 15, 0 };
static const int subset_4[4] = { 1, 5, 9, 13 };
static const int edges_4[4] = { 1, 3, 5, 7 };

int
nn_pfm_bank_subset (NnPfmBank bank,
                    int       size,
                    int       index[16],
                    NnError  *err)
{
  bool eight = bank == NN_PFM_BANK_EDGES || bank == NN_PFM_BANK_LINES;
  int offset = bank == NN_PFM_BANK_LINES ? 8 : 0;
  if (size == 0)
    size = eight ? 8 : 16;
  const int *list = NULL;
  switch (size)
    {
    case 16:
      list = subset_16;
      break;
    case 9:
      list = eight ? NULL : subset_9;
      break;
    case 8:
      list = eight ? subset_16 : subset_9;
      break;
    case 4:
      list = eight ? edges_4 : subset_4;
      break;
    default:
      break;
    }
  if (list == NULL)
    return nn_error_set (err, NN_ERROR_SPEC, "the %s filter bank has no subset of %d kernels "
                         "(expected %s)", nn_pfm_bank_name (bank), size,
                         eight ? "4, 8 or 16" : "4, 8, 9 or 16"), 0;
  for (int j = 0; j < size; j++)
    index[j] = eight ? offset + list[j] % 8 : list[j];
  return size;
}

bool
nn_pfm_bank_from_options (const char *options,
                          NnPfmBank  *bank,
                          int        *size,
                          NnError    *err)
{
  NN_ASSERT (options != NULL && bank != NULL && size != NULL);
  *bank = NN_PFM_BANK_FULL;
  int wanted = 0;
  const char *p = options;
  while (*p != '\0')
    {
      while (*p == ' ')
        p++;
      size_t n = strcspn (p, " ");
      if (n == 0)
        break;
      char word[64];
      if (n >= sizeof word)
        return nn_error_set (err, NN_ERROR_FORMAT, "arch options '%s': a word is too long",
                             options);
      memcpy (word, p, n);
      word[n] = '\0';
      p += n;
      if (strncmp (word, "pfm_bank=", 9) == 0 && !nn_pfm_bank_parse (word + 9, bank, NULL))
        return nn_error_set (err, NN_ERROR_FORMAT, "arch options '%s': unknown filter bank "
                             "'%s'", options, word + 9);
      if (strncmp (word, "pfm_size=", 9) == 0)
        {
          char *end;
          long v = strtol (word + 9, &end, 10);
          if (end == word + 9 || *end != '\0' || v < 1 || v > BANK_SIZE)
            return nn_error_set (err, NN_ERROR_FORMAT, "arch options '%s': bad pfm_size '%s'",
                                 options, word + 9);
          wanted = (int) v;
        }
    }
  int index[BANK_SIZE];
  NnError sub = { 0 };
  *size = nn_pfm_bank_subset (*bank, wanted, index, &sub);
  if (*size == 0)
    return nn_error_set (err, NN_ERROR_FORMAT, "arch options '%s': %s", options, sub.message);
  return true;
}

void
nn_arch_spec_format_options (const NnArchSpec *spec,
                             char             *buf,
                             size_t            size)
{
  NN_ASSERT (spec != NULL && buf != NULL && size > 0);
  buf[0] = '\0';
  if (spec->name == NULL || strcmp (spec->name, "pfnet18") != 0)
    return;
  int index[16];
  int n = nn_pfm_bank_subset (spec->bank, spec->pfm_size, index, NULL);
  snprintf (buf, size, "pfm_bank=%s pfm_size=%d", nn_pfm_bank_name (spec->bank), n);
}

/* The kernels a network uses (n of them; channel j of a pre-defined conv uses kernel
 * j mod n): the subset of the full bank, or for RANDOM_FROZEN of 8 zero-mean, L1-normalised
 * Gaussian kernels, each used as the pair (-k, +k) like the real bank so that only the shapes
 * change. False with err for a size the bank has no subset of. */
static bool
bank_for_spec (float             bank[BANK_SIZE][9],
               int              *n,
               const NnArchSpec *spec,
               NnRng            *rng,
               NnError          *err)
{
  int index[BANK_SIZE];
  *n = nn_pfm_bank_subset (spec->bank, spec->pfm_size, index, err);
  if (*n == 0)
    return false;
  float base[BANK_SIZE][9];
  nn_pfm_bank_kernels (base);
  if (spec->bank == NN_PFM_BANK_RANDOM_FROZEN)
    for (int j = 0; j < BANK_SIZE; j += 2)
      {
        double k[9];
        for (int i = 0; i < 9; i++)
          k[i] = (double) nn_rng_normal (rng);
        normalise (k);
        for (int i = 0; i < 9; i++)
          {
            base[j][i] = (float) -k[i];
            base[j + 1][i] = (float) k[i];
          }
      }
  for (int j = 0; j < *n; j++)
    memcpy (bank[j], base[index[j]], sizeof bank[j]);
  return true;
}

/* The Gaussian of the downsampling shortcut, sigma 0.75 px, summing to 1. */
static void
blur_kernel (float kernel[9])
{
  double g[9], sum = 0.0;
  for (int row = 0; row < 3; row++)
    for (int col = 0; col < 3; col++)
      {
        double r2 = (double) ((row - 1) * (row - 1) + (col - 1) * (col - 1));
        g[row * 3 + col] = exp (-0.5 * r2 / (BLUR_SIGMA * BLUR_SIGMA));
        sum += g[row * 3 + col];
      }
  for (int i = 0; i < 9; i++)
    kernel[i] = (float) (g[i] / sum);
}

typedef struct
{
  NnArchBuilder *b;
  bool           frozen;                   /* the bank is not trained */
  int            predefined[MAX_MODULES];  /* nodes that get the bank */
  int            n_predefined;
  int            blurs[MAX_BLURS];         /* nodes that get the Gaussian */
  int            n_blurs;
} Pfnet;

/* A PFM named `name` under the current prefix: predefined (depthwise 3x3, in_c * f channels,
 * channel j reads input channel j / f) - norm1 - relu - conv1x1 (no bias) - norm2. The stride
 * goes on the depthwise conv. Module names follow the published PFNet code. */
static int
pfm (Pfnet      *p,
     const char *name,
     int         x,
     int         out_c,
     int         f,
     int         stride)
{
  NnArchBuilder *b = p->b;
  if (b->failed)
    return -1;
  char saved[NN_NAME_MAX];
  memcpy (saved, b->prefix, sizeof saved);
  nn_arch_builder_set_prefix (b, "%s%s.", saved, name);
  int in_c = nn_arch_builder_shape (b, x).c;
  int y = nn_arch_builder_conv2d (b, "predefined", x, in_c * f, 3, stride, 1, in_c, false);
  if (y >= 0)
    {
      NN_ASSERT (p->n_predefined < MAX_MODULES);
      p->predefined[p->n_predefined++] = y;
      if (p->frozen)
        nn_graph_set_trainable (b->graph, y, false);
    }
  y = nn_arch_builder_batchnorm (b, "norm1", y);
  y = nn_arch_builder_relu (b, "relu", y);
  y = nn_arch_builder_conv2d (b, "conv1x1", y, out_c, 1, 1, 0, 1, false);
  y = nn_arch_builder_batchnorm (b, "norm2", y);
  memcpy (b->prefix, saved, sizeof saved);
  return y;
}

/* pfm1 (with the stride) - relu1 - pfm2, plus the shortcut, add, relu2. The shortcut of a
 * downsampling block: downsample.0 = frozen depthwise Gaussian blur (stride 1, pad 1),
 * downsample.1 = 1x1 conv with the stride, downsample.2 = BN. */
static int
block (Pfnet *p,
       int    x,
       int    channels,
       int    stride)
{
  NnArchBuilder *b = p->b;
  if (b->failed)
    return -1;
  int in_c = nn_arch_builder_shape (b, x).c;
  int y = pfm (p, "pfm1", x, channels, 1, stride);
  y = nn_arch_builder_relu (b, "relu1", y);
  y = pfm (p, "pfm2", y, channels, 1, 1);
  int shortcut = x;
  if (stride != 1 || in_c != channels)
    {
      if (stride != 1)
        {
          shortcut = nn_arch_builder_conv2d (b, "downsample.0", x, in_c, 3, 1, 1, in_c, false);
          if (shortcut >= 0)
            {
              NN_ASSERT (p->n_blurs < MAX_BLURS);
              p->blurs[p->n_blurs++] = shortcut;
              nn_graph_set_trainable (b->graph, shortcut, false);
            }
        }
      shortcut = nn_arch_builder_conv2d (b, "downsample.1", shortcut, channels, 1, stride, 0, 1,
                                         false);
      shortcut = nn_arch_builder_batchnorm (b, "downsample.2", shortcut);
    }
  y = nn_arch_builder_add (b, "add", y, shortcut);
  return nn_arch_builder_relu (b, "relu2", y);
}

/* Channels in multiples of 16, so every kernel of the bank appears equally often. */
static int
pfnet_channels (int   base,
                float width)
{
  long c = 16 * lroundf ((float) base * width / 16.0f);
  return c < 16 ? 16 : (int) c;
}

/* The stem is a PFM on the input with f = 16 (every input channel through all 16 kernels) and
 * a learned 1x1 conv to 64 channels, as in the published PFNet code, not a learned 7x7 conv;
 * f = 1 in every other module. Inputs of at least 64x64 get stride 2 on the stem and the 3x3
 * stride 2 max pool, like ResNet; smaller ones neither. At width 1, 224 px and 102 classes this
 * gives 1,464,518 trainable parameters (published: 1.46 M). */
bool
nn_arch_pfnet_build (NnArchBuilder    *b,
                     const NnArchSpec *spec,
                     NnRng            *rng)
{
  Pfnet p = { .b = b, .frozen = spec->bank != NN_PFM_BANK_TRAINABLE };
  float bank[BANK_SIZE][9];
  float blur[9];
  int n_kernels = 0;
  if (!bank_for_spec (bank, &n_kernels, spec, rng, b->err))
    {
      nn_error_prefix (b->err, "%s", b->arch);
      return false;
    }
  blur_kernel (blur);
  bool big = spec->in_h >= 64 && spec->in_w >= 64;

  int x = pfm (&p, "conv1", 0, pfnet_channels (64, spec->width), 16, big ? 2 : 1);
  x = nn_arch_builder_relu (b, "relu", x);
  if (big)
    x = nn_arch_builder_maxpool (b, "maxpool", x, 3, 2, 1);
  for (int stage = 0; stage < 4; stage++)
    {
      int channels = pfnet_channels (64 << stage, spec->width);
      for (int i = 0; i < 2; i++)
        {
          nn_arch_builder_set_prefix (b, "layer%d.%d.", stage + 1, i);
          x = block (&p, x, channels, stage > 0 && i == 0 ? 2 : 1);
        }
    }
  nn_arch_builder_set_prefix (b, "%s", "");
  x = nn_arch_builder_global_avgpool (b, "avgpool", x);
  x = nn_arch_builder_flatten (b, "flatten", x);
  nn_arch_builder_linear (b, "fc", x, spec->n_classes);
  if (b->failed)
    return false;

  /* After the initialisation, which leaves frozen parameters alone and would overwrite a
   * trainable bank. */
  nn_graph_init_params (b->graph, rng);
  for (int m = 0; m < p.n_predefined; m++)
    {
      const NnParam *param = &b->graph->params[nn_graph_node_param (b->graph, p.predefined[m],
                                                                     NN_PARAM_WEIGHT)];
      float *w = b->graph->data + param->offset;
      for (int j = 0; j < param->dims[0]; j++)
        memcpy (w + 9 * j, bank[j % n_kernels], sizeof bank[0]);
    }
  for (int m = 0; m < p.n_blurs; m++)
    {
      const NnParam *param = &b->graph->params[nn_graph_node_param (b->graph, p.blurs[m],
                                                                     NN_PARAM_WEIGHT)];
      float *w = b->graph->data + param->offset;
      for (int j = 0; j < param->dims[0]; j++)
        memcpy (w + 9 * j, blur, sizeof blur);
    }
  return true;
}
