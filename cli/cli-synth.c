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
  NnSynthCtOptions opt;
  NnCtWindow       window;  /* of the 8-bit view */
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
    case OPT_PHOTONS:
      return cli_parse_float ("photons", optarg, 10.0, 1e9, &ct->opt.photons);
    case OPT_WINDOW:
      return cli_parse_window (optarg, &ct->window);
    default:
      return false;
    }
}

/* out and out/<class> for every class. */
static bool
make_class_dirs (const char *out)
{
  if (!make_dir (out))
    return false;
  for (int k = 0; k < NN_SYNTH_CT_N_CLASSES; k++)
    {
      char dir[4096];
      snprintf (dir, sizeof dir, "%s/%s", out, nn_synth_ct_class_name ((NnSynthCtClass) k));
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
      ok = write_slice (a->out, i, cls, hu, mask, &ct->window, pixel_mm);
      counts[cls]++;
    }
  nn_image_free (hu);
  nn_image_free (mask);
  free (bits);
  return ok;
}

static int
synth_ct_main (int    argc,
               char **argv)
{
  SynthArgs a = { .count = -1, .seed = 1 };
  CtArgs ct = { .window = NN_CT_WINDOW_LUNG };
  nn_synth_ct_options_init (&ct.opt);
  a.size = ct.opt.size;
  int status = parse_synth_args (argc, argv, options_ct, usage_ct, &a, parse_ct_option, &ct);
  if (status != 0)
    return status < 0 ? 0 : status;
  ct.opt.size = a.size;
  int counts[NN_SYNTH_CT_N_CLASSES] = { 0 };
  if (!make_class_dirs (a.out) || !write_slices (&a, &ct, counts))
    return CLI_EXIT_FAILURE;

  char wbuf[64];
  nn_ct_window_format (&ct.window, wbuf, sizeof wbuf);
  fprintf (stderr, "wrote %d slices of %d px to %s (%d healthy, %d covid, %d other; %s; "
           "8-bit view: %s)\n", a.count, a.size, a.out, counts[NN_SYNTH_CT_HEALTHY],
           counts[NN_SYNTH_CT_COVID], counts[NN_SYNTH_CT_OTHER],
           ct.opt.acquisition ? "simulated acquisition" : "no acquisition", wbuf);
  if (!a.json)
    return 0;
  cJSON *root = synth_json_new ("ct", &a);
  cJSON_AddBoolToObject (root, "acquisition", ct.opt.acquisition);
  cJSON *classes = cJSON_AddObjectToObject (root, "classes");
  for (int k = 0; k < NN_SYNTH_CT_N_CLASSES; k++)
    cJSON_AddNumberToObject (classes, nn_synth_ct_class_name ((NnSynthCtClass) k), counts[k]);
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
