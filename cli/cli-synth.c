/* SPDX-License-Identifier: MIT */
/* cnnscope-cli synth: writes synthetic data sets. `synth ct` writes chest CT slices (16-bit PNG
 * in HU + 1024, a windowed 8-bit PNG, DICOM and the lesion mask) into DIR/<class>/; `synth
 * dashes` the oriented-dashes images whose hand-set model has known explanations. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli-commands.h"
#include "cli-common.h"

static const char usage_ct[] =
  "Usage: cnnscope-cli synth ct --count N --out DIR [options]\n"
  "Writes N synthetic axial chest CT slices, classes in turn healthy, covid, other, as\n"
  "DIR/<class>/NNNN.png (16-bit gray, HU + 1024), NNNN.lung.png (8-bit, the window),\n"
  "NNNN.mask.png (8-bit, 255 inside a lesion) and NNNN.dcm (DICOM CT, HU through the rescale\n"
  "tags). DIR is an image-folder dataset: 'train' and 'eval' read NNNN.png as CT.\n"
  "\n"
  "  --count N        number of slices (required)\n"
  "  --out DIR        output folder, created if missing (required)\n"
  "  --seed S         slice i is drawn from seed S and i alone, default 1\n"
  "  --size PX        pixels a side, default 128 (field of view 400 mm)\n"
  "  --acquisition    simulate the scan: projection, Poisson noise, filtered back-projection\n"
  "  --photons N      incident photons per ray of the simulated scan, default 200000\n"
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

/* The four files of slice `index` of class cls in out/<class>/. */
static bool
write_slice (const char       *out,
             int               index,
             NnSynthCtClass    cls,
             const NnImage    *hu,
             const NnImage    *mask,
             const NnCtWindow *window,
             double            pixel_mm)
{
  char path[4096];
  NnError err = { 0 };
  const char *name = nn_synth_ct_class_name (cls);
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

static int
synth_ct_main (int    argc,
               char **argv)
{
  NnSynthCtOptions opt;
  nn_synth_ct_options_init (&opt);
  NnCtWindow window = NN_CT_WINDOW_LUNG;
  int count = -1;
  uint64_t seed = 1;
  const char *out = NULL;
  bool json = false;
  NnError err = { 0 };
  int c;
  while ((c = cli_getopt (argc, argv, options_ct)) != -1)
    {
      bool ok = true;
      switch (c)
        {
        case OPT_COUNT:
          ok = cli_parse_int ("count", optarg, 1, 1000000, &count);
          break;
        case OPT_OUT:
          out = optarg;
          break;
        case OPT_SEED:
          ok = cli_parse_u64 ("seed", optarg, &seed);
          break;
        case OPT_SIZE:
          ok = cli_parse_int ("size", optarg, 16, 1024, &opt.size);
          break;
        case OPT_ACQUISITION:
          opt.acquisition = true;
          break;
        case OPT_PHOTONS:
          ok = cli_parse_float ("photons", optarg, 10.0, 1e9, &opt.photons);
          break;
        case OPT_WINDOW:
          if (!nn_ct_window_parse (optarg, &window, &err))
            {
              nn_error_prefix (&err, "--window");
              return cli_fail_error (CLI_EXIT_USAGE, &err);
            }
          break;
        case OPT_JSON:
          json = true;
          break;
        case 'h':
          fputs (usage_ct, stdout);
          return 0;
        default:
          return CLI_EXIT_USAGE;
        }
      if (!ok)
        return CLI_EXIT_USAGE;
    }
  if (optind < argc)
    return cli_fail (CLI_EXIT_USAGE, "synth ct: unexpected argument '%s'", argv[optind]);
  if (count < 0 || out == NULL)
    return cli_fail (CLI_EXIT_USAGE, "synth ct: --%s is required (see 'cnnscope-cli synth ct "
                     "--help')", count < 0 ? "count" : "out");

  if (!make_dir (out))
    return CLI_EXIT_FAILURE;
  for (int k = 0; k < NN_SYNTH_CT_N_CLASSES; k++)
    {
      char dir[4096];
      snprintf (dir, sizeof dir, "%s/%s", out, nn_synth_ct_class_name ((NnSynthCtClass) k));
      if (!make_dir (dir))
        return CLI_EXIT_FAILURE;
    }

  NnImage *hu = nn_image_new (1, opt.size, opt.size);
  NnImage *mask = nn_image_new (1, opt.size, opt.size);
  unsigned char *bits = malloc ((size_t) opt.size * opt.size);
  if (hu == NULL || mask == NULL || bits == NULL)
    {
      nn_image_free (hu);
      nn_image_free (mask);
      free (bits);
      return cli_fail (CLI_EXIT_FAILURE, "out of memory");
    }
  hu->hu = true;
  int counts[NN_SYNTH_CT_N_CLASSES] = { 0 };
  int status = 0;
  double pixel_mm = 400.0 / opt.size;
  for (int i = 0; i < count && status == 0; i++)
    {
      NnSynthCtClass cls = (NnSynthCtClass) (i % NN_SYNTH_CT_N_CLASSES);
      NnRng rng;
      nn_rng_init (&rng, seed * 0x9e3779b97f4a7c15ull + (uint64_t) i);
      if (!nn_synth_ct_generate (&opt, cls, &rng, hu->data, bits, &err))
        {
          status = cli_fail_error (CLI_EXIT_FAILURE, &err);
          break;
        }
      for (size_t p = 0; p < (size_t) opt.size * opt.size; p++)
        mask->data[p] = bits[p] ? 1.0f : 0.0f;
      if (!write_slice (out, i, cls, hu, mask, &window, pixel_mm))
        status = CLI_EXIT_FAILURE;
      counts[cls]++;
    }
  nn_image_free (hu);
  nn_image_free (mask);
  free (bits);
  if (status != 0)
    return status;

  char wbuf[64];
  nn_ct_window_format (&window, wbuf, sizeof wbuf);
  fprintf (stderr, "wrote %d slices of %d px to %s (%d healthy, %d covid, %d other; %s; "
           "8-bit view: %s)\n", count, opt.size, out, counts[NN_SYNTH_CT_HEALTHY],
           counts[NN_SYNTH_CT_COVID], counts[NN_SYNTH_CT_OTHER],
           opt.acquisition ? "simulated acquisition" : "no acquisition", wbuf);
  if (json)
    {
      cJSON *root = cJSON_CreateObject ();
      cJSON_AddStringToObject (root, "kind", "ct");
      cJSON_AddStringToObject (root, "out", out);
      cJSON_AddNumberToObject (root, "count", count);
      cJSON_AddNumberToObject (root, "size", opt.size);
      cJSON_AddNumberToObject (root, "seed", (double) seed);
      cJSON_AddBoolToObject (root, "acquisition", opt.acquisition);
      cJSON *classes = cJSON_AddObjectToObject (root, "classes");
      for (int k = 0; k < NN_SYNTH_CT_N_CLASSES; k++)
        cJSON_AddNumberToObject (classes, nn_synth_ct_class_name ((NnSynthCtClass) k),
                                 counts[k]);
      if (!cli_print_json (root))
        return CLI_EXIT_FAILURE;
    }
  return 0;
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
  int count = -1, size = 48;
  uint64_t seed = 1;
  const char *out = NULL;
  bool json = false;
  int c;
  while ((c = cli_getopt (argc, argv, options_dashes)) != -1)
    {
      bool ok = true;
      switch (c)
        {
        case OPT_COUNT:
          ok = cli_parse_int ("count", optarg, 1, 1000000, &count);
          break;
        case OPT_OUT:
          out = optarg;
          break;
        case OPT_SEED:
          ok = cli_parse_u64 ("seed", optarg, &seed);
          break;
        case OPT_SIZE:
          ok = cli_parse_int ("size", optarg, 16, 1024, &size);
          break;
        case OPT_JSON:
          json = true;
          break;
        case 'h':
          fputs (usage_dashes, stdout);
          return 0;
        default:
          return CLI_EXIT_USAGE;
        }
      if (!ok)
        return CLI_EXIT_USAGE;
    }
  if (optind < argc)
    return cli_fail (CLI_EXIT_USAGE, "synth dashes: unexpected argument '%s'", argv[optind]);
  if (count < 0 || out == NULL)
    return cli_fail (CLI_EXIT_USAGE, "synth dashes: --%s is required (see 'cnnscope-cli synth "
                     "dashes --help')", count < 0 ? "count" : "out");
  NnError err = { 0 };
  if (!nn_synth_dashes_write (out, count, seed, size, &err))
    return cli_fail_error (CLI_EXIT_FAILURE, &err);
  fprintf (stderr, "wrote %d dashes images of %d px to %s\n", count, size, out);
  if (json)
    {
      cJSON *root = cJSON_CreateObject ();
      cJSON_AddStringToObject (root, "kind", "dashes");
      cJSON_AddStringToObject (root, "out", out);
      cJSON_AddNumberToObject (root, "count", count);
      cJSON_AddNumberToObject (root, "size", size);
      cJSON_AddNumberToObject (root, "seed", (double) seed);
      if (!cli_print_json (root))
        return CLI_EXIT_FAILURE;
    }
  return 0;
}

/* The kinds of `synth`, each run with argv[0] = "synth <kind>". */
static const struct
{
  const char *name;
  int       (*run) (int argc, char **argv);
} kinds[] = {
  { "ct", synth_ct_main },
  { "dashes", synth_dashes_main },
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
