/* SPDX-License-Identifier: MIT */
/* cnnscope-cli cam: a class activation map (Grad-CAM family, Score-CAM, Eigen-CAM) of one input
 * or a folder of inputs, as the Explain view's figure, a .npy array, faithfulness metrics and
 * JSON. */
#include "cli-commands.h"
#include "cli-explain.h"

/* The usage text, around the method names. */
static const char usage_head[] =
  "Usage: cnnscope-cli cam MODEL INPUT [--layer NAME] [--class K]\n"
  "         [--method ";
static const char usage_tail[] =
  "]\n"
  "         [--out FIGURE] [--npy FILE] [--metrics] [--mask PNG] [--opacity X] [--signed]\n"
  "         [--scale X] [--batch N] [--seed S] [--window lung|mediastinum|bone|W,L] [--json]\n"
  "         [--width W] [--height H] [--series UID] [--montage PNG] [--files] [--shard I/N]\n"
  "         [--no-winograd]\n"
  "Computes a class activation map of MODEL for INPUT (.png, .jpg, .jpeg, .dcm or .npy) at layer\n"
  "NAME (default: the last layer with spatial extent) for class K (default: the top\n"
  "prediction) and draws it over the input with a colour bar, the top predictions and, with\n"
  "--metrics, the faithfulness numbers and curves: the figure the application's Explain view\n"
  "exports (--out: .png, .svg or .pdf, W x H, default 1200 x 750).\n"
  "--npy writes the map at the input's resolution as float32 (H, W). --signed keeps the\n"
  "negative part (no final ReLU) and shows it on the diverging map; --scale fixes the top of\n"
  "the colour scale (default: this map's maximum); --opacity is the map's (default 0.6).\n"
  "--metrics adds deletion and insertion AUC, ROAD (most and least relevant first, mean\n"
  "probability over 10%..90% removed) and the model-randomization rank correlation. --mask\n"
  "(nonzero = the region the map should point at) adds the pointing game (15 px) and the\n"
  "energy share inside the mask. --batch sets how many images Score-CAM and the metrics\n"
  "evaluate per pass (default: chosen for the model and the cores). --window shows a CT\n"
  "slice (DICOM, 16-bit PNG) through that window; the model reads it through its own window\n"
  "(or this one when it has none). --no-winograd runs the 3x3 convolutions through im2col\n"
  "only: slower, but gradients at full size agree with other frameworks' to float rounding.\n"
  "When INPUT is a folder, every image and DICOM slice in it (and its subfolders) is\n"
  "explained, with a/b.mask.png as the mask of a/b.png when it exists: --out names a folder\n"
  "that receives one overlay PNG per input and metrics.csv.\n"
  "When INPUT is a volume (.nii, .nii.gz, or a folder of DICOM files without images: a series;\n"
  "--series UID picks one of several, --files reads the folder as separate slices), each\n"
  "axial slice is explained in turn: a JSON line per slice on stdout (slice, z_mm, top\n"
  "classes), progress on stderr, --out FILE.nii[.gz] the attribution volume with the input's\n"
  "geometry, --montage PNG (default: beside --out) the slices with their maps; --mask takes a\n"
  "lesion mask volume on the same grid. --shard I/N does part I of N of the inputs or slices\n"
  "(contiguous blocks, so that the parts' outputs concatenate; see docs/scale.md).\n";

int
cli_cam_main (int    argc,
              char **argv)
{
  return cli_explain_main (argc, argv, CLI_EXPLAIN_CAM, usage_head, usage_tail);
}
