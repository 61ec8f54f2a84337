/* SPDX-License-Identifier: MIT */
/* cnnscope-cli synth: writes synthetic data sets. `synth ct` writes chest CT slices (16-bit PNG
 * in HU + 1024, a windowed 8-bit PNG, DICOM and the lesion mask) into DIR/<class>/, or with
 * --version 2 --volumes whole NIfTI volumes with their masks; `synth dashes` the oriented-dashes
 * images whose hand-set model has known explanations; `synth baseline` the HU-histogram rules. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli-commands.h"
#include "cli-common.h"

static const char usage_ct[] =
  "Usage: cnnscope-cli synth ct --count N --out DIR [options]\n"
  "Writes N synthetic axial chest CT slices, classes in turn healthy, covid, other (version\n"
  "2: healthy, covid, pneumonia), as DIR/<class>/NNNN.png (16-bit gray, HU + 1024),\n"
  "NNNN.lung.png (8-bit, the window), NNNN.mask.png (8-bit, 255 inside a lesion) and\n"
  "NNNN.dcm (DICOM CT, HU through the rescale tags). DIR is an image-folder dataset: 'train'\n"
  "and 'eval' read NNNN.png as CT. Version 2 draws a whole chest volume per sample and keeps\n"
  "one slice (for covid and pneumonia a slice through a lesion), listed in DIR/slices.csv;\n"
  "with --volumes it writes the volumes: DIR/<class>/NNNN.nii.gz and NNNN.mask.nii.gz (LPS,\n"
  "float32 HU; the mask 1 inside a lesion of the class), listed in DIR/volumes.csv.\n"
  "\n"
  "  --count N        number of slices or volumes (required)\n"
  "  --out DIR        output folder, created if missing (required)\n"
  "  --seed S         sample i is drawn from seed S and i alone, default 1\n"
  "  --size PX        pixels a side, default 128 (field of view 400 mm)\n"
  "  --version V      1 (default): single slices; 2: slices of chest volumes\n"
  "  --volumes        version 2: write NIfTI volumes instead of slices\n"
  "  --slices N       version 2: slices per volume, apex to base, default 64\n"
  "  --acquisition    simulate the scan: projection, Poisson noise, filtered back-projection\n"
  "                   (version 2: always, unless --no-acquisition)\n"
  "  --no-acquisition version 2: 12 HU of Gaussian noise instead of the simulated scan\n"
  "  --photons N      incident photons per ray of the simulated scan, default 200000\n"
  "                   (version 2: drawn per volume from 50000 to 500000)\n"
  "  --window W       window of NNNN.lung.png: lung (default), mediastinum, bone or W,L\n"
  "  --json           print one JSON object (counts per class) on stdout\n";

enum
{
  OPT_COUNT = CLI_OPT_BASE,
  OPT_OUT,
  OPT_SEED,
  OPT_SIZE,
  OPT_ACQUISITION,
  OPT_PHOTONS,
  OPT_WINDOW,
  OPT_JSON,
  OPT_VERSION,
  OPT_VOLUMES,
  OPT_SLICES,
  OPT_NO_ACQUISITION,
  OPT_TRAIN,
  OPT_TEST,
};

static const struct option options_ct[] = {
  { "count", required_argument, NULL, OPT_COUNT },
  { "out", required_argument, NULL, OPT_OUT },
  { "seed", required_argument, NULL, OPT_SEED },
  { "size", required_argument, NULL, OPT_SIZE },
  { "acquisition", no_argument, NULL, OPT_ACQUISITION },
  { "photons", required_argument, NULL, OPT_PHOTONS },
  { "window", required_argument, NULL, OPT_WINDOW },
  { "json", no_argument, NULL, OPT_JSON },
  { "version", required_argument, NULL, OPT_VERSION },
  { "volumes", no_argument, NULL, OPT_VOLUMES },
  { "slices", required_argument, NULL, OPT_SLICES },
  { "no-acquisition", no_argument, NULL, OPT_NO_ACQUISITION },
  { "help", no_argument, NULL, 'h' },
  { NULL, 0, NULL, 0 },
};

/* Creates dir, and its missing parents, unless it is already a folder. */
static bool
make_dir (const char *dir)
{
  char parent[4096];
  snprintf (parent, sizeof parent, "%s", dir);
  for (char *p = parent + 1; *p; p++)
    if (*p == '/')
      {
        *p = '\0';
        struct stat pst;
        if (stat (parent, &pst) != 0 && mkdir (parent, 0755) != 0 && errno != EEXIST)
          {
            cli_fail (CLI_EXIT_FAILURE, "%s: cannot create the folder: %s", parent,
                      strerror (errno));
            return false;
          }
        *p = '/';
      }
  struct stat st;
  if (stat (dir, &st) == 0)
    {
      if (S_ISDIR (st.st_mode))
        return true;
      cli_fail (CLI_EXIT_FAILURE, "%s: exists and is not a folder", dir);
      return false;
    }
  if (mkdir (dir, 0755) != 0)
    {
      cli_fail (CLI_EXIT_FAILURE, "%s: cannot create the folder: %s", dir, strerror (errno));
      return false;
    }
  return true;
}

/* The four files of slice `index` of class `name` in out/<class>/. */
static bool
write_slice (const char       *out,
             int               index,
             const char       *name,
             const NnImage    *hu,
             const NnImage    *mask,
             const NnCtWindow *window,
             double            pixel_mm)
{
  char path[4096];
  NnError err = { 0 };
  int n = snprintf (path, sizeof path, "%s/%s/%04d", out, name, index);
  if (n < 0 || (size_t) n + 16 > sizeof path)
    return cli_fail (CLI_EXIT_FAILURE, "%s: path too long", out), false;
  char *ext = path + n;

  strcpy (ext, ".png");
  if (!nn_ct_save_png16 (hu, path, &err))
    return cli_fail_error (CLI_EXIT_FAILURE, &err), false;
  NnImage *view = nn_ct_window_image (hu, window);
  if (view == NULL)
    return cli_fail (CLI_EXIT_FAILURE, "out of memory"), false;
  strcpy (ext, ".lung.png");
  bool ok = nn_image_save_png (view, path, 8, &err);
  nn_image_free (view);
  if (ok)
    {
      strcpy (ext, ".mask.png");
      ok = nn_image_save_png (mask, path, 8, &err);
    }
  if (ok)
    {
      char description[64];
      snprintf (description, sizeof description, "cnnscope synthetic chest CT, %s", name);
      strcpy (ext, ".dcm");
      ok = nn_dicom_save (hu, pixel_mm, description, path, &err);
    }
  if (!ok)
    cli_fail_error (CLI_EXIT_FAILURE, &err);
  return ok;
}

/* What both kinds take. */
typedef struct
{
  int         count;  /* -1: not given */
  const char *out;
  uint64_t    seed;
  int         size;
  bool        json;
} SynthArgs;

/* An option of one kind only: false after printing the error (or for '?', which cli_getopt
 * has reported). */
typedef bool (*SynthOption) (int   c,
                             void *data);

/* Parses argv (argv[0]: "synth <kind>") with options: the shared ones into a, the others
 * through extra. 0 to go on, -1 after --help, else the exit code. */
static int
parse_synth_args (int                  argc,
                  char               **argv,
                  const struct option *options,
                  const char          *usage,
                  SynthArgs           *a,
                  SynthOption          extra,
                  void                *data)
{
  int c;
  while ((c = cli_getopt (argc, argv, options)) != -1)
    {
      bool ok = true;
      switch (c)
        {
        case OPT_COUNT:
          ok = cli_parse_int ("count", optarg, 1, 1000000, &a->count);
          break;
        case OPT_OUT:
          a->out = optarg;
          break;
        case OPT_SEED:
          ok = cli_parse_u64 ("seed", optarg, &a->seed);
          break;
        case OPT_SIZE:
          ok = cli_parse_int ("size", optarg, 16, 1024, &a->size);
          break;
        case OPT_JSON:
          a->json = true;
          break;
        case 'h':
          fputs (usage, stdout);
          return -1;
        default:
          ok = extra != NULL && extra (c, data);
          break;
        }
      if (!ok)
        return CLI_EXIT_USAGE;
    }
  if (optind < argc)
    return cli_fail (CLI_EXIT_USAGE, "%s: unexpected argument '%s'", argv[0], argv[optind]);
  if (a->count < 0 || a->out == NULL)
    return cli_fail (CLI_EXIT_USAGE, "%s: --%s is required (see 'cnnscope-cli %s --help')",
                     argv[0], a->count < 0 ? "count" : "out", argv[0]);
  return 0;
}

/* The JSON both kinds print: the kind and the shared options. */
static cJSON *
synth_json_new (const char      *kind,
                const SynthArgs *a)
{
  cJSON *root = cJSON_CreateObject ();
  cJSON_AddStringToObject (root, "kind", kind);
  cJSON_AddStringToObject (root, "out", a->out);
  cJSON_AddNumberToObject (root, "count", a->count);
  cJSON_AddNumberToObject (root, "size", a->size);
  cJSON_AddNumberToObject (root, "seed", (double) a->seed);
  return root;
}

/* What only `synth ct` takes. */
typedef struct
{
  NnSynthCtOptions  opt;
  NnSynthCt2Options opt2;
  int               version;
  bool              volumes;
  bool              no_acquisition;
  NnCtWindow        window;  /* of the 8-bit view */
} CtArgs;

static bool
parse_ct_option (int   c,
                 void *data)
{
  CtArgs *ct = data;
  switch (c)
    {
    case OPT_ACQUISITION:
      ct->opt.acquisition = true;
      return true;
    case OPT_NO_ACQUISITION:
      ct->no_acquisition = true;
      return true;
    case OPT_PHOTONS:
      if (!cli_parse_float ("photons", optarg, 10.0, 1e9, &ct->opt.photons))
        return false;
      ct->opt2.photons = ct->opt.photons;
      return true;
    case OPT_WINDOW:
      return cli_parse_window (optarg, &ct->window);
    case OPT_VERSION:
      return cli_parse_int ("version", optarg, 1, 2, &ct->version);
    case OPT_VOLUMES:
      ct->volumes = true;
      return true;
    case OPT_SLICES:
      return cli_parse_int ("slices", optarg, 1, 1024, &ct->opt2.n_slices);
    default:
      return false;
    }
}

static const char *
ct_class_name (int version,
               int k)
{
  return version == 2 ? nn_synth_ct2_class_name ((NnSynthCt2Class) k)
                      : nn_synth_ct_class_name ((NnSynthCtClass) k);
}

/* out and out/<class> for every class. */
static bool
make_class_dirs (const char *out,
                 int         version)
{
  if (!make_dir (out))
    return false;
  for (int k = 0; k < NN_SYNTH_CT_N_CLASSES; k++)
    {
      char dir[4096];
      snprintf (dir, sizeof dir, "%s/%s", out, ct_class_name (version, k));
      if (!make_dir (dir))
        return false;
    }
  return true;
}

/* Slices 0 .. count-1, classes in turn, counted per class in counts. */
static bool
write_slices (const SynthArgs *a,
              const CtArgs    *ct,
              int             *counts)
{
  const int size = ct->opt.size;
  NnImage *hu = nn_image_new (1, size, size);
  NnImage *mask = nn_image_new (1, size, size);
  unsigned char *bits = malloc ((size_t) size * size);
  bool ok = hu != NULL && mask != NULL && bits != NULL;
  if (!ok)
    cli_fail (CLI_EXIT_FAILURE, "out of memory");
  else
    hu->hu = true;
  double pixel_mm = 400.0 / size;
  for (int i = 0; i < a->count && ok; i++)
    {
      NnSynthCtClass cls = (NnSynthCtClass) (i % NN_SYNTH_CT_N_CLASSES);
      NnRng rng;
      nn_rng_init (&rng, a->seed * 0x9e3779b97f4a7c15ull + (uint64_t) i);
      NnError err = { 0 };
      if (!nn_synth_ct_generate (&ct->opt, cls, &rng, hu->data, bits, &err))
        {
          cli_fail_error (CLI_EXIT_FAILURE, &err);
          ok = false;
          break;
        }
      for (size_t p = 0; p < (size_t) size * size; p++)
        mask->data[p] = bits[p] ? 1.0f : 0.0f;
      ok = write_slice (a->out, i, nn_synth_ct_class_name (cls), hu, mask, &ct->window,
                        pixel_mm);
      counts[cls]++;
    }
  nn_image_free (hu);
  nn_image_free (mask);
  free (bits);
  return ok;
}

/* The version-2 patient of sample i (class i mod 3): for slices, one with a slice through a
 * lesion (another draw of the same sample when a patient has none), its slice in hu and bits
 * and its index in *k. NULL after reporting the error. */
static NnSynthCt2 *
sample_v2 (const SynthArgs *a,
           const CtArgs    *ct,
           int              i,
           bool             slice,
           float           *hu,
           unsigned char   *bits,
           int             *k)
{
  NnSynthCt2Class cls = (NnSynthCt2Class) (i % NN_SYNTH_CT2_N_CLASSES);
  uint64_t seed = a->seed * 0x9e3779b97f4a7c15ull + (uint64_t) i;
  int min_area = ct->opt2.size * ct->opt2.size / 200 + 4;
  for (int attempt = 0; attempt < 16; attempt++)
    {
      NnError err = { 0 };
      NnSynthCt2 *p = nn_synth_ct2_new (&ct->opt2, cls, seed + ((uint64_t) attempt << 40), &err);
      if (p == NULL)
        return cli_fail_error (CLI_EXIT_FAILURE, &err), NULL;
      if (!slice)
        return p;
      *k = nn_synth_ct2_pick_slice (p, min_area, hu, bits, &err);
      if (*k >= 0)
        return p;
      nn_synth_ct2_free (p);
      if (*k < -1)
        return cli_fail_error (CLI_EXIT_FAILURE, &err), NULL;
    }
  cli_fail (CLI_EXIT_FAILURE, "synth ct: sample %d: no lesion slice in 16 patients", i);
  return NULL;
}

/* DIR/name, opened for writing, with its header line; NULL after reporting the error. */
static FILE *
open_listing (const char *out,
              const char *name,
              const char *header)
{
  char path[4096];
  snprintf (path, sizeof path, "%s/%s", out, name);
  FILE *f = fopen (path, "w");
  if (f == NULL)
    cli_fail (CLI_EXIT_FAILURE, "%s: cannot write: %s", path, strerror (errno));
  else
    fputs (header, f);
  return f;
}

static bool
close_listing (FILE       *f,
               const char *out,
               const char *name)
{
  bool ok = !ferror (f);
  ok = fclose (f) == 0 && ok;
  if (!ok)
    cli_fail (CLI_EXIT_FAILURE, "%s/%s: write error", out, name);
  return ok;
}

/* Version 2: slice i of DIR/<class>/ from sample i's patient, listed in DIR/slices.csv. */
static bool
write_slices_v2 (const SynthArgs *a,
                 const CtArgs    *ct,
                 int             *counts)
{
  const int size = ct->opt2.size;
  NnImage *hu = nn_image_new (1, size, size);
  NnImage *mask = nn_image_new (1, size, size);
  unsigned char *bits = malloc ((size_t) size * size);
  bool ok = hu != NULL && mask != NULL && bits != NULL;
  if (!ok)
    cli_fail (CLI_EXIT_FAILURE, "out of memory");
  else
    hu->hu = true;
  FILE *list = ok ? open_listing (a->out, "slices.csv",
                                  "file,class,pattern,slice,slices,nodule_mm,effusion,"
                                  "photons\n") : NULL;
  ok = ok && list != NULL;
  for (int i = 0; i < a->count && ok; i++)
    {
      int k = -1;
      NnSynthCt2 *p = sample_v2 (a, ct, i, true, hu->data, bits, &k);
      if (p == NULL)
        {
          ok = false;
          break;
        }
      const NnSynthCt2Info *info = nn_synth_ct2_info (p);
      int cls = i % NN_SYNTH_CT2_N_CLASSES;
      const char *name = nn_synth_ct2_class_name ((NnSynthCt2Class) cls);
      for (size_t q = 0; q < (size_t) size * size; q++)
        mask->data[q] = bits[q] ? 1.0f : 0.0f;
      ok = write_slice (a->out, i, name, hu, mask, &ct->window, info->pixel_mm);
      fprintf (list, "%s/%04d.png,%s,%s,%d,%d,%.1f,%d,%.0f\n", name, i, name, info->pattern, k,
               ct->opt2.n_slices, (double) info->nodule_mm, info->effusion,
               (double) info->photons);
      counts[cls]++;
      nn_synth_ct2_free (p);
    }
  if (list != NULL)
    ok = close_listing (list, a->out, "slices.csv") && ok;
  nn_image_free (hu);
  nn_image_free (mask);
  free (bits);
  return ok;
}

/* Version 2: volume i as DIR/<class>/NNNN.nii.gz and its mask NNNN.mask.nii.gz, listed in
 * DIR/volumes.csv. */
static bool
write_volumes (const SynthArgs *a,
               const CtArgs    *ct,
               int             *counts)
{
  FILE *list = open_listing (a->out, "volumes.csv",
                             "file,class,pattern,lobe,nodule_mm,effusion,photons,pixel_mm,"
                             "slice_mm,lesion_voxels\n");
  bool ok = list != NULL;
  for (int i = 0; i < a->count && ok; i++)
    {
      NnSynthCt2 *p = sample_v2 (a, ct, i, false, NULL, NULL, NULL);
      if (p == NULL)
        {
          ok = false;
          break;
        }
      NnError err = { 0 };
      NnVolume *hu = NULL, *mask = NULL;
      int cls = i % NN_SYNTH_CT2_N_CLASSES;
      const char *name = nn_synth_ct2_class_name ((NnSynthCt2Class) cls);
      char path[4096], description[64];
      snprintf (description, sizeof description, "cnnscope synthetic chest CT v2, %s", name);
      ok = nn_synth_ct2_volume (p, &hu, &mask, &err);
      if (ok)
        {
          snprintf (path, sizeof path, "%s/%s/%04d.nii.gz", a->out, name, i);
          ok = nn_volume_save_nifti (hu, description, path, &err);
        }
      if (ok)
        {
          snprintf (path, sizeof path, "%s/%s/%04d.mask.nii.gz", a->out, name, i);
          ok = nn_volume_save_nifti (mask, "lesion mask", path, &err);
        }
      if (!ok)
        cli_fail_error (CLI_EXIT_FAILURE, &err);
      else
        {
          size_t voxels = 0, n = (size_t) mask->nx * mask->ny * mask->nz;
          for (size_t q = 0; q < n; q++)
            voxels += mask->data[q] > 0.0f;
          const NnSynthCt2Info *info = nn_synth_ct2_info (p);
          fprintf (list, "%s/%04d.nii.gz,%s,%s,%d,%.1f,%d,%.0f,%.4f,%.4f,%zu\n", name, i, name,
                   info->pattern, info->lobe, (double) info->nodule_mm, info->effusion,
                   (double) info->photons, info->pixel_mm, info->slice_mm, voxels);
          counts[cls]++;
        }
      nn_volume_free (hu);
      nn_volume_free (mask);
      nn_synth_ct2_free (p);
    }
  if (list != NULL)
    ok = close_listing (list, a->out, "volumes.csv") && ok;
  return ok;
}

static int
synth_ct_main (int    argc,
               char **argv)
{
  SynthArgs a = { .count = -1, .seed = 1 };
  CtArgs ct = { .window = NN_CT_WINDOW_LUNG, .version = 1 };
  nn_synth_ct_options_init (&ct.opt);
  nn_synth_ct2_options_init (&ct.opt2);
  a.size = ct.opt.size;
  int status = parse_synth_args (argc, argv, options_ct, usage_ct, &a, parse_ct_option, &ct);
  if (status != 0)
    return status < 0 ? 0 : status;
  if (ct.version == 1 && (ct.volumes || ct.no_acquisition || ct.opt2.n_slices != 64))
    return cli_fail (CLI_EXIT_USAGE, "synth ct: --volumes, --slices and --no-acquisition "
                     "need --version 2");
  ct.opt.size = a.size;
  ct.opt2.size = a.size;
  ct.opt2.acquisition = !ct.no_acquisition;
  bool acquisition = ct.version == 2 ? ct.opt2.acquisition : ct.opt.acquisition;
  int counts[NN_SYNTH_CT_N_CLASSES] = { 0 };
  if (!make_class_dirs (a.out, ct.version))
    return CLI_EXIT_FAILURE;
  bool ok = ct.version == 1 ? write_slices (&a, &ct, counts)
            : ct.volumes ? write_volumes (&a, &ct, counts) : write_slices_v2 (&a, &ct, counts);
  if (!ok)
    return CLI_EXIT_FAILURE;

  char wbuf[64];
  nn_ct_window_format (&ct.window, wbuf, sizeof wbuf);
  if (ct.volumes)
    fprintf (stderr, "wrote %d volumes of %d x %d x %d to %s (%d healthy, %d covid, %d "
             "pneumonia; %s)\n", a.count, a.size, a.size, ct.opt2.n_slices, a.out, counts[0],
             counts[1], counts[2], acquisition ? "simulated acquisition" : "no acquisition");
  else
    fprintf (stderr, "wrote %d slices of %d px to %s (%d %s, %d %s, %d %s; version %d; %s; "
             "8-bit view: %s)\n", a.count, a.size, a.out, counts[0],
             ct_class_name (ct.version, 0), counts[1], ct_class_name (ct.version, 1), counts[2],
             ct_class_name (ct.version, 2), ct.version,
             acquisition ? "simulated acquisition" : "no acquisition", wbuf);
  if (!a.json)
    return 0;
  cJSON *root = synth_json_new ("ct", &a);
  cJSON_AddNumberToObject (root, "version", ct.version);
  cJSON_AddBoolToObject (root, "volumes", ct.volumes);
  if (ct.version == 2)
    cJSON_AddNumberToObject (root, "slices_per_volume", ct.opt2.n_slices);
  cJSON_AddBoolToObject (root, "acquisition", acquisition);
  cJSON *classes = cJSON_AddObjectToObject (root, "classes");
  for (int k = 0; k < NN_SYNTH_CT_N_CLASSES; k++)
    cJSON_AddNumberToObject (classes, ct_class_name (ct.version, k), counts[k]);
  return cli_print_json (root) ? 0 : CLI_EXIT_FAILURE;
}

static const char usage_dashes[] =
  "Usage: cnnscope-cli synth dashes --count N --out DIR [--seed S] [--size PX] [--json]\n"
  "Writes N images of horizontal and vertical 5-px dashes, labelled by the majority\n"
  "orientation, as DIR/horizontal/NNNNN.png and DIR/vertical/NNNNN.png (8-bit gray), with\n"
  "DIR/labels.csv (file, label, dash counts). DIR is an image-folder dataset.\n"
  "\n"
  "  --count N        number of images (required)\n"
  "  --out DIR        output folder, created if missing (required)\n"
  "  --seed S         default 1\n"
  "  --size PX        pixels a side, default 48\n"
  "  --json           print one JSON object on stdout\n";

static const struct option options_dashes[] = {
  { "count", required_argument, NULL, OPT_COUNT },
  { "out", required_argument, NULL, OPT_OUT },
  { "seed", required_argument, NULL, OPT_SEED },
  { "size", required_argument, NULL, OPT_SIZE },
  { "json", no_argument, NULL, OPT_JSON },
  { "help", no_argument, NULL, 'h' },
  { NULL, 0, NULL, 0 },
};

static int
synth_dashes_main (int    argc,
                   char **argv)
{
  SynthArgs a = { .count = -1, .seed = 1, .size = 48 };
  int status = parse_synth_args (argc, argv, options_dashes, usage_dashes, &a, NULL, NULL);
  if (status != 0)
    return status < 0 ? 0 : status;
  NnError err = { 0 };
  if (!nn_synth_dashes_write (a.out, a.count, a.seed, a.size, &err))
    return cli_fail_error (CLI_EXIT_FAILURE, &err);
  fprintf (stderr, "wrote %d dashes images of %d px to %s\n", a.count, a.size, a.out);
  if (!a.json)
    return 0;
  return cli_print_json (synth_json_new ("dashes", &a)) ? 0 : CLI_EXIT_FAILURE;
}

static const char usage_baseline[] =
  "Usage: cnnscope-cli synth baseline DATA [TEST] [--json]\n"
  "The trivial-rule baseline of a CT slice set (folders of 16-bit PNGs in HU + 1024, as\n"
  "'synth ct' writes): each slice becomes the fractions of its lung field in 100-HU bins\n"
  "(below -900, [-900, -800), ..., 100 and above, of the 3 x 3 mean), and the rules with one\n"
  "and with two thresholds on one bin or on the sum of two bins that classify the training\n"
  "set best are reported with their test accuracy, beside each class against the rest (one\n"
  "threshold). DATA with train/ and test/ inside gives both; otherwise TEST is the test set\n"
  "(without it, DATA is both).\n"
  "\n"
  "  --json           print one JSON object on stdout\n";

static const struct option options_baseline[] = {
  { "json", no_argument, NULL, OPT_JSON },
  { "help", no_argument, NULL, 'h' },
  { NULL, 0, NULL, 0 },
};

/* The rule features of every slice of a CT set, (n, NN_HU_RULES_FEATURES); NULL after
 * reporting the error. */
static float *
baseline_features (const NnDataset *ds,
                   const char      *spec)
{
  if (!ds->ct16 || ds->c != 1)
    {
      cli_fail (CLI_EXIT_FAILURE, "%s: not a CT dataset (expected 16-bit gray PNGs in HU + "
                "1024, as 'synth ct' writes)", spec);
      return NULL;
    }
  size_t n = (size_t) ds->h * ds->w;
  float *features = malloc ((size_t) ds->n * NN_HU_RULES_FEATURES * sizeof *features);
  float *hu = malloc (n * sizeof *hu);
  bool ok = features != NULL && hu != NULL;
  if (!ok)
    cli_fail (CLI_EXIT_FAILURE, "out of memory");
  for (int k = 0; k < ds->n && ok; k++)
    {
      const float *image = ds->images + (size_t) k * n;
      for (size_t p = 0; p < n; p++)
        hu[p] = image[p] * 65535.0f - 1024.0f;
      NnError err = { 0 };
      ok = nn_hu_rules_features (hu, ds->h, ds->w, features + (size_t) k * NN_HU_RULES_FEATURES,
                                 &err);
      if (!ok)
        cli_fail_error (CLI_EXIT_FAILURE, &err);
    }
  free (hu);
  if (!ok)
    {
      free (features);
      return NULL;
    }
  return features;
}

/* "[-700, -600) + [-500, -400)": the feature's runs of consecutive bins. */
static void
format_rule_feature (const NnHuRule *rule,
                     char           *buf,
                     size_t          size)
{
  size_t used = 0;
  buf[0] = '\0';
  for (int b = 0; b < NN_HU_RULES_BINS; b++)
    {
      if (!(rule->bins & (1u << b)))
        continue;
      int e = b;
      while (e + 1 < NN_HU_RULES_BINS && (rule->bins & (1u << (e + 1))))
        e++;
      char lo[24], hi[24];
      snprintf (lo, sizeof lo, "%.0f", (double) nn_hu_rules_bin_lo (b));
      snprintf (hi, sizeof hi, "%.0f", (double) nn_hu_rules_bin_lo (e + 1 < NN_HU_RULES_BINS
                                                                     ? e + 1 : e));
      int w = b == 0 ? snprintf (buf + used, size - used, "%s< %s", used ? " + " : "", hi)
              : e == NN_HU_RULES_BINS - 1
              ? snprintf (buf + used, size - used, "%s>= %s", used ? " + " : "", lo)
              : snprintf (buf + used, size - used, "%s[%s, %s)", used ? " + " : "", lo, hi);
      if (w < 0 || (size_t) w >= size - used)
        break;
      used += (size_t) w;
      b = e;
    }
}

static cJSON *
rule_json (const NnHuRule  *rule,
           const NnDataset *ds,
           double           test_accuracy)
{
  char feature[128];
  format_rule_feature (rule, feature, sizeof feature);
  cJSON *o = cJSON_CreateObject ();
  cJSON_AddStringToObject (o, "feature", feature);
  cJSON_AddNumberToObject (o, "thresholds", rule->n_thresholds);
  cJSON_AddNumberToObject (o, "lo", rule->lo);
  cJSON_AddNumberToObject (o, "hi", rule->hi);
  cJSON *classes = cJSON_AddArrayToObject (o, "classes");
  for (int k = 0; k < 3; k++)
    cJSON_AddItemToArray (classes, cJSON_CreateString (ds != NULL
                                                       ? ds->class_names[rule->classes[k]]
                                                       : (rule->classes[k] ? "yes" : "no")));
  cJSON_AddNumberToObject (o, "train_accuracy", rule->train_accuracy);
  cJSON_AddNumberToObject (o, "test_accuracy", test_accuracy);
  return o;
}

static int
synth_baseline_main (int    argc,
                     char **argv)
{
  bool json = false;
  int c;
  while ((c = cli_getopt (argc, argv, options_baseline)) != -1)
    switch (c)
      {
      case OPT_JSON:
        json = true;
        break;
      case 'h':
        fputs (usage_baseline, stdout);
        return 0;
      default:
        return CLI_EXIT_USAGE;
      }
  if (optind >= argc || argc - optind > 2)
    return cli_fail (CLI_EXIT_USAGE, "synth baseline: expected DATA [TEST] (see 'cnnscope-cli "
                     "synth baseline --help')");
  const char *train_spec = argv[optind];
  const char *test_spec = optind + 1 < argc ? argv[optind + 1] : train_spec;
  NnError err = { 0 };
  NnDataset *train = nn_dataset_open (train_spec, true, 1, 0, 0, &err);
  if (train == NULL)
    return cli_fail_error (CLI_EXIT_FAILURE, &err);
  NnDataset *test = nn_dataset_open (test_spec, false, 1, train->h, train->w,
                                     &err);
  if (test == NULL)
    {
      nn_dataset_free (train);
      return cli_fail_error (CLI_EXIT_FAILURE, &err);
    }
  int status = 0;
  float *ftrain = NULL, *ftest = NULL;
  int *binary = NULL, *binary_test = NULL;
  cJSON *root = NULL;
  if (test->n_classes != train->n_classes)
    {
      status = cli_fail (CLI_EXIT_FAILURE, "%s: %d classes, the training set has %d", test_spec,
                         test->n_classes, train->n_classes);
      goto out;
    }
  for (int k = 0; k < train->n_classes; k++)
    if (strcmp (train->class_names[k], test->class_names[k]) != 0)
      {
        status = cli_fail (CLI_EXIT_FAILURE, "%s: class %d is '%s', in the training set '%s'",
                           test_spec, k, test->class_names[k], train->class_names[k]);
        goto out;
      }
  ftrain = baseline_features (train, train_spec);
  ftest = ftrain != NULL ? baseline_features (test, test_spec) : NULL;
  binary = malloc ((size_t) train->n * sizeof *binary);
  binary_test = malloc ((size_t) test->n * sizeof *binary_test);
  if (ftest == NULL || binary == NULL || binary_test == NULL)
    {
      status = ftest == NULL ? CLI_EXIT_FAILURE : cli_fail (CLI_EXIT_FAILURE, "out of memory");
      goto out;
    }
  /* The share of the most frequent test class: what a rule that ignores the image gets. */
  int most = 0;
  for (int k = 0; k < train->n_classes; k++)
    {
      int count = 0;
      for (int i = 0; i < test->n; i++)
        count += test->labels[i] == k;
      most = count > most ? count : most;
    }
  double chance = (double) most / test->n;
  FILE *human = json ? stderr : stdout;
  fprintf (stderr, "%d training and %d test slices, %d classes; the most frequent test class "
           "is %.1f %%\n", train->n, test->n, train->n_classes, 100.0 * chance);
  if (json)
    {
      root = cJSON_CreateObject ();
      cJSON_AddNumberToObject (root, "train", train->n);
      cJSON_AddNumberToObject (root, "test", test->n);
      cJSON_AddNumberToObject (root, "majority", chance);
    }
  for (int t = 1; t <= 2; t++)
    {
      NnHuRule rule;
      if (!nn_hu_rules_fit (ftrain, train->labels, train->n, train->n_classes, t, &rule, &err))
        {
          status = cli_fail_error (CLI_EXIT_FAILURE, &err);
          goto out;
        }
      double acc = nn_hu_rule_accuracy (&rule, ftest, test->labels, test->n);
      char feature[128];
      format_rule_feature (&rule, feature, sizeof feature);
      if (t == 1)
        fprintf (human, "best rule, one threshold: %s < %.4f: %s, else %s; train %.1f %%, "
                 "test %.1f %%\n", feature, (double) rule.lo,
                 train->class_names[rule.classes[0]], train->class_names[rule.classes[2]],
                 100.0 * rule.train_accuracy, 100.0 * acc);
      else
        fprintf (human, "best rule, two thresholds: %s < %.4f: %s, < %.4f: %s, else %s; "
                 "train %.1f %%, test %.1f %%\n", feature, (double) rule.lo,
                 train->class_names[rule.classes[0]], (double) rule.hi,
                 train->class_names[rule.classes[1]], train->class_names[rule.classes[2]],
                 100.0 * rule.train_accuracy, 100.0 * acc);
      if (root != NULL)
        cJSON_AddItemToObject (root, t == 1 ? "one_threshold" : "two_thresholds",
                               rule_json (&rule, train, acc));
    }
  cJSON *vs_rest = root != NULL ? cJSON_AddObjectToObject (root, "one_vs_rest") : NULL;
  for (int k = 0; k < train->n_classes; k++)
    {
      for (int i = 0; i < train->n; i++)
        binary[i] = train->labels[i] == k;
      for (int i = 0; i < test->n; i++)
        binary_test[i] = test->labels[i] == k;
      NnHuRule rule;
      if (!nn_hu_rules_fit (ftrain, binary, train->n, 2, 1, &rule, &err))
        {
          status = cli_fail_error (CLI_EXIT_FAILURE, &err);
          goto out;
        }
      double acc = nn_hu_rule_accuracy (&rule, ftest, binary_test, test->n);
      char feature[128];
      format_rule_feature (&rule, feature, sizeof feature);
      fprintf (human, "%s vs the rest: %s, train %.1f %%, test %.1f %%\n", train->class_names[k],
               feature, 100.0 * rule.train_accuracy, 100.0 * acc);
      if (vs_rest != NULL)
        cJSON_AddItemToObject (vs_rest, train->class_names[k], rule_json (&rule, NULL, acc));
    }
  if (root != NULL)
    {
      fflush (stdout);
      status = cli_print_json (root) ? 0 : CLI_EXIT_FAILURE;
      root = NULL;
    }
out:
  cJSON_Delete (root);
  free (ftrain);
  free (ftest);
  free (binary);
  free (binary_test);
  nn_dataset_free (train);
  nn_dataset_free (test);
  return status;
}

/* The kinds of `synth`, each run with argv[0] = "synth <kind>". */
static const struct
{
  const char *name;
  int       (*run) (int argc, char **argv);
} kinds[] = {
  { "ct", synth_ct_main },
  { "dashes", synth_dashes_main },
  { "baseline", synth_baseline_main },
};

#define N_KINDS ((int) (sizeof kinds / sizeof kinds[0]))

int
cli_synth_main (int    argc,
                char **argv)
{
  if (argc < 2 || strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0)
    {
      if (argc < 2)
        return cli_fail (CLI_EXIT_USAGE, "synth: which kind? (expected 'synth ct ...' or 'synth "
                         "dashes ...'; see 'cnnscope-cli synth --help')");
      printf ("Usage: cnnscope-cli synth KIND --count N --out DIR [options]\nKinds:");
      for (int i = 0; i < N_KINDS; i++)
        printf (" %s", kinds[i].name);
      printf ("\n'cnnscope-cli synth KIND --help' describes one.\n");
      return 0;
    }
  for (int i = 0; i < N_KINDS; i++)
    if (strcmp (argv[1], kinds[i].name) == 0)
      {
        /* Messages and --help name the command as "synth <kind>". */
        char name[64];
        snprintf (name, sizeof name, "synth %s", kinds[i].name);
        argv[1] = name;
        return kinds[i].run (argc - 1, argv + 1);
      }
  return cli_fail (CLI_EXIT_USAGE, "synth: unknown kind '%s' (see 'cnnscope-cli synth --help')",
                   argv[1]);
}
