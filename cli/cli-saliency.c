/* SPDX-License-Identifier: MIT */
/* cnnscope-cli saliency: input-space attribution (gradient, SmoothGrad, Integrated Gradients,
 * Guided Backprop, Guided Grad-CAM) of one input or a folder, as for cam. */
#include "cli-commands.h"
#include "cli-explain.h"

/* The usage text, around the method names. */
static const char usage_head[] =
  "Usage: cnnscope-cli saliency MODEL INPUT --method ";
static const char usage_tail[] =
  "\n"
  "         [--class K] [--layer NAME] [--samples N] [--noise X] [--seed S] [--out FIGURE]\n"
  "         [--npy FILE] [--metrics] [--mask PNG] [--opacity X] [--scale X] [--batch N]\n"
  "         [--window lung|mediastinum|bone|W,L] [--json] [--width W] [--height H]\n"
  "         [--patch N] [--stride N] [--block N] [--series UID] [--montage PNG] [--files]\n"
  "         [--shard I/N] [--no-winograd]\n"
  "Computes an input-space attribution map of MODEL for INPUT (.png, .jpg, .jpeg, .dcm or .npy)\n"
  "for class K (default: the top prediction) and draws it over the input with a colour bar.\n"
  "gradient, smoothgrad and guided show max over channels of |gradient| (smoothgrad averages\n"
  "--samples noisy copies, default 25, noise sigma --noise times the input's range, default\n"
  "0.15, seeded by --seed); ig shows Integrated Gradients from a zero baseline summed over\n"
  "channels (signed, --samples steps, default 32); guided-gradcam multiplies the guided\n"
  "gradient by Grad-CAM at --layer. occlusion slides a --patch N x N square (default a quarter\n"
  "of the input's side) by --stride (default half the patch) and shows the mean drop of the\n"
  "logit when the square is set to zero. rollout (attention rollout) and attn-grad (gradient-\n"
  "weighted attention, Chefer et al. 2021; --block N uses the N-th attention block alone) need\n"
  "a vision transformer. --npy writes the map as float32 (H, W). --metrics, --mask, --opacity,\n"
  "--scale, --batch, --window, --no-winograd, the figure's size, folder and volume inputs and\n"
  "--shard work as for 'cnnscope-cli cam'.\n";

int
cli_saliency_main (int    argc,
                   char **argv)
{
  return cli_explain_main (argc, argv, CLI_EXPLAIN_SALIENCY, usage_head, usage_tail);
}
