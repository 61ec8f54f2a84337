/* SPDX-License-Identifier: MIT */
/* cnnscope-cli bench: fixed workloads (a small-CNN training step, ResNet-18 and PFNet-18
 * inference at 224 px, ResNet-18 Grad-CAM, a large sgemm) timed with CLOCK_MONOTONIC after a
 * warm-up; each runs in its own forked process so that its peak RSS is its own. Every result
 * names the CPU features and the OpenBLAS kernels it ran on. */
#include <cblas.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli-commands.h"
#include "cli-common.h"

static const char usage[] =
  "Usage: cnnscope-cli bench [--json] [--threads N] [--repeat N] [--only NAME] [--no-winograd]\n"
  "       [--no-fold]\n"
  "Times each workload after one warm-up run and reports the median, minimum and maximum in\n"
  "milliseconds, the GFLOP/s (conv and linear multiply-adds x 2; a training step counts three\n"
  "times its forward pass) and the peak resident memory of the process that ran it.\n"
  "Workloads: smallcnn_train_step_b64_28px, resnet18_forward_224, pfnet18_forward_224,\n"
  "resnet18_gradcam_224 (Grad-CAM of the top class at layer4: forward, backward to layer4),\n"
  "resnet18_am_step_layer3_224 (one activation-maximization step of a layer3 channel: forward\n"
  "to layer3, gradient to the input only, the update), sgemm_peak (1024 x 1024 x 1024).\n"
  "--repeat overrides the default count (20, or 10 for the 224 px networks); --only runs one\n"
  "workload. Each result names the CPU's vector features (avx2, avx512f, fma from\n"
  "/proc/cpuinfo) and the kernel set OpenBLAS chose. --no-winograd runs the 3x3 convolutions\n"
  "through im2col only, --no-fold the forward-only passes without batch norms folded into\n"
  "their convolutions, to measure what each gains.\n";

enum
{
  OPT_JSON = CLI_OPT_BASE,
  OPT_THREADS,
  OPT_REPEAT,
  OPT_ONLY,
  OPT_NO_WINOGRAD,
  OPT_NO_FOLD,
};

static const struct option options[] = {
  { "json", no_argument, NULL, OPT_JSON },
  { "threads", required_argument, NULL, OPT_THREADS },
  { "repeat", required_argument, NULL, OPT_REPEAT },
  { "only", required_argument, NULL, OPT_ONLY },
  { "no-winograd", no_argument, NULL, OPT_NO_WINOGRAD },
  { "no-fold", no_argument, NULL, OPT_NO_FOLD },
  { "help", no_argument, NULL, 'h' },
  { NULL, 0, NULL, 0 },
};

/* What a worker process sends back through its pipe. */
typedef struct
{
  int    ok;
  double median_ms, min_ms, max_ms;
  double gflops;
  double peak_rss_mb;
  char   error[1024];
} BenchResult;

/* A workload: prepared once, then run (warm-up + repeats); flops per run. */
typedef struct Workload Workload;
struct Workload
{
  const char *name;
  int         default_repeat;
  bool      (*setup) (Workload *w, NnError *err);
  void      (*run) (Workload *w);
  void      (*teardown) (Workload *w);
  double      flops;
  unsigned    ctx_flags;  /* NnContextFlags added to every context (the paths measured) */
  /* State of the network workloads. */
  NnGraph    *graph;
  NnContext  *ctx;
  NnOptimizer *opt;
  int        *labels;
  /* State of the activation-maximization step. */
  NnModel    *model;
  NnAmRun    *am;
  /* State of sgemm. */
  float      *a, *b, *c;
  /* The input of the Grad-CAM workload. */
  float      *input;
};

#define SGEMM_N 1024

static double
now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return 1e3 * (double) ts.tv_sec + 1e-6 * (double) ts.tv_nsec;
}

/* Multiply-adds x 2 of the conv and linear layers of one sample's forward pass. */
static double
forward_flops (const NnGraph *g)
{
  double macs = 0.0;
  for (int i = 0; i < g->n_nodes; i++)
    {
      const NnNode *n = &g->nodes[i];
      if (n->op == NN_OP_CONV2D)
        {
          const NnConvAttrs *a = &n->attrs.conv;
          int in_c = g->nodes[n->inputs[0]].shape.c;
          macs += (double) n->shape.c * n->shape.h * n->shape.w * (in_c / a->groups) * a->kh
                  * a->kw;
        }
      else if (n->op == NN_OP_LINEAR)
        macs += (double) n->shape.c * (double) nn_shape_size (g->nodes[n->inputs[0]].shape);
    }
  return 2.0 * macs;
}

static void
fill_random (float  *x,
             size_t  n,
             NnRng  *rng)
{
  for (size_t i = 0; i < n; i++)
    x[i] = nn_rng_normal (rng);
}

static bool
build (Workload   *w,
       const char *arch,
       int         c,
       int         size,
       int         classes,
       int         batch,
       unsigned    flags,
       NnError    *err)
{
  NnArchSpec spec = {
    .name = arch, .in_c = c, .in_h = size, .in_w = size, .n_classes = classes, .width = 1.0f,
    .bank = NN_PFM_BANK_FULL, .seed = 1,
  };
  w->graph = nn_arch_build (&spec, err);
  if (w->graph == NULL)
    return false;
  w->ctx = nn_context_new (w->graph, batch, flags | w->ctx_flags, err);
  if (w->ctx == NULL || !nn_context_set_threads (w->ctx, 0, err))
    return false;
  NnRng rng;
  nn_rng_init (&rng, 7);
  fill_random (nn_context_input (w->ctx), (size_t) batch * nn_shape_size (w->graph->nodes[0].shape),
               &rng);
  w->flops = forward_flops (w->graph) * batch;
  return true;
}

static void
network_teardown (Workload *w)
{
  nn_optimizer_free (w->opt);
  nn_context_free (w->ctx);
  nn_graph_free (w->graph);
  free (w->labels);
}

#define TRAIN_BATCH 64

static bool
train_setup (Workload *w,
             NnError  *err)
{
  if (!build (w, "smallcnn", 1, 28, 10, TRAIN_BATCH,
              NN_CONTEXT_BACKWARD | NN_CONTEXT_PARAM_GRADS, err))
    return false;
  /* Forward, input gradients and weight gradients: about three forward passes. */
  w->flops *= 3.0;
  nn_context_set_training (w->ctx, true);
  NnOptimizerConfig config;
  nn_optimizer_parse ("sgd", &config, NULL);
  w->opt = nn_optimizer_new (w->graph, &config);
  w->labels = malloc (TRAIN_BATCH * sizeof (int));
  if (w->opt == NULL || w->labels == NULL)
    return nn_error_set (err, NN_ERROR_NOMEM, "out of memory");
  NnRng rng;
  nn_rng_init (&rng, 11);
  for (int i = 0; i < TRAIN_BATCH; i++)
    w->labels[i] = (int) nn_rng_below (&rng, 10);
  return true;
}

static void
train_run (Workload *w)
{
  int out = nn_graph_output (w->graph);
  nn_context_zero_param_grads (w->ctx);
  nn_context_forward (w->ctx, -1);
  nn_cross_entropy (nn_context_grad (w->ctx, out), NULL, nn_context_output (w->ctx, out),
                    w->labels, TRAIN_BATCH, 10);
  nn_context_backward (w->ctx, out, NN_BACKWARD_PARAMS, -1);
  nn_optimizer_step (w->opt, w->graph, nn_context_param_grads (w->ctx), 0.01f);
}

static bool
resnet18_setup (Workload *w,
                NnError  *err)
{
  return build (w, "resnet18", 3, 224, 1000, 1, 0, err);
}

static bool
pfnet18_setup (Workload *w,
               NnError  *err)
{
  return build (w, "pfnet18", 3, 224, 1000, 1, 0, err);
}

static void
forward_run (Workload *w)
{
  nn_context_forward (w->ctx, -1);
}

/* Grad-CAM of the top class at layer4's output: one forward pass and a backward pass that
 * stops at layer4, as nn_cam_compute runs it. */
static bool
gradcam_setup (Workload *w,
               NnError  *err)
{
  if (!build (w, "resnet18", 3, 224, 1000, 1, NN_CONTEXT_BACKWARD, err))
    return false;
  size_t n = nn_shape_size (w->graph->nodes[0].shape);
  w->input = malloc (n * sizeof (float));
  if (w->input == NULL)
    return nn_error_set (err, NN_ERROR_NOMEM, "out of memory");
  memcpy (w->input, nn_context_input (w->ctx), n * sizeof (float));
  return true;
}

static void
gradcam_run (Workload *w)
{
  NnCamSpec spec;
  nn_cam_spec_init (&spec);
  NnMap *map = nn_cam_compute (w->ctx, w->input, &spec, NULL, NULL);
  NN_ASSERT (map != NULL);
  nn_map_free (map);
}

static void
gradcam_teardown (Workload *w)
{
  free (w->input);
  network_teardown (w);
}

/* The channel of layer3 the AM workload maximizes. */
#define AM_CHANNEL 7

static bool
am_setup (Workload *w,
          NnError  *err)
{
  NnArchSpec spec = {
    .name = "resnet18", .in_c = 3, .in_h = 224, .in_w = 224, .n_classes = 1000, .width = 1.0f,
    .seed = 1,
  };
  NnGraph *graph = nn_arch_build (&spec, err);
  if (graph == NULL)
    return false;
  w->model = nn_model_new (graph, "resnet18");
  if (w->model == NULL)
    {
      nn_graph_free (graph);
      return nn_error_set (err, NN_ERROR_NOMEM, "out of memory");
    }
  int layer = nn_graph_find (graph, "layer3.1.relu2");
  NN_ASSERT (layer > 0);
  for (int c = 0; c < 3; c++)
    w->model->std[c] = 0.25f;
  static const int channel = AM_CHANNEL;
  NnAmSettings s;
  nn_am_settings_init (&s);
  s.layer = layer;
  s.channels = &channel;
  s.n_channels = 1;
  s.steps = NN_AM_MAX_STEPS;
  s.threads = nn_blas_get_threads ();
  s.context_flags = w->ctx_flags;
  w->am = nn_am_run_new (w->model, &s, err);
  /* Forward to layer3 and backward from it: about three times its forward flops. */
  double flops = 0.0;
  for (int i = 1; i <= layer; i++)
    if (graph->nodes[i].op == NN_OP_CONV2D)
      {
        const NnNode *n = &graph->nodes[i];
        flops += 2.0 * n->shape.c * n->shape.h * n->shape.w
                 * graph->nodes[n->inputs[0]].shape.c * n->attrs.conv.kh * n->attrs.conv.kw
                 / n->attrs.conv.groups;
      }
  w->flops = 3.0 * flops;
  return w->am != NULL;
}

static void
am_run (Workload *w)
{
  nn_am_run_step (w->am, 1, NULL, NULL);
}

static void
am_teardown (Workload *w)
{
  nn_am_run_free (w->am);
  nn_model_free (w->model);
}

static bool
sgemm_setup (Workload *w,
             NnError  *err)
{
  size_t n = (size_t) SGEMM_N * SGEMM_N;
  w->a = malloc (n * sizeof (float));
  w->b = malloc (n * sizeof (float));
  w->c = malloc (n * sizeof (float));
  if (w->a == NULL || w->b == NULL || w->c == NULL)
    return nn_error_set (err, NN_ERROR_NOMEM, "out of memory");
  NnRng rng;
  nn_rng_init (&rng, 3);
  fill_random (w->a, n, &rng);
  fill_random (w->b, n, &rng);
  w->flops = 2.0 * SGEMM_N * SGEMM_N * (double) SGEMM_N;
  return true;
}

static void
sgemm_run (Workload *w)
{
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, SGEMM_N, SGEMM_N, SGEMM_N, 1.0f, w->a,
               SGEMM_N, w->b, SGEMM_N, 0.0f, w->c, SGEMM_N);
}

static void
sgemm_teardown (Workload *w)
{
  free (w->a);
  free (w->b);
  free (w->c);
}

static const Workload workloads[] = {
  { .name = "smallcnn_train_step_b64_28px", .default_repeat = 20, .setup = train_setup,
    .run = train_run, .teardown = network_teardown },
  { .name = "resnet18_forward_224", .default_repeat = 10, .setup = resnet18_setup,
    .run = forward_run, .teardown = network_teardown },
  { .name = "pfnet18_forward_224", .default_repeat = 10, .setup = pfnet18_setup,
    .run = forward_run, .teardown = network_teardown },
  { .name = "resnet18_gradcam_224", .default_repeat = 10, .setup = gradcam_setup,
    .run = gradcam_run, .teardown = gradcam_teardown },
  { .name = "resnet18_am_step_layer3_224", .default_repeat = 10, .setup = am_setup,
    .run = am_run, .teardown = am_teardown },
  { .name = "sgemm_peak", .default_repeat = 20, .setup = sgemm_setup, .run = sgemm_run,
    .teardown = sgemm_teardown },
};

#define N_WORKLOADS ((int) (sizeof workloads / sizeof workloads[0]))

static int
compare_double (const void *a,
                const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

/* Runs in the worker process. */
static void
measure (const Workload *spec,
         int             repeat,
         int             threads,
         unsigned        ctx_flags,
         BenchResult    *r)
{
  Workload w = *spec;
  w.ctx_flags = ctx_flags;
  NnError err = { 0 };
  memset (r, 0, sizeof *r);
  cli_set_threads (threads);
  double *times = malloc ((size_t) repeat * sizeof (double));
  if (times == NULL || !w.setup (&w, &err))
    {
      snprintf (r->error, sizeof r->error, "%s", times == NULL ? "out of memory" : err.message);
      w.teardown (&w);
      free (times);
      return;
    }
  w.run (&w);
  for (int i = 0; i < repeat; i++)
    {
      double t0 = now_ms ();
      w.run (&w);
      times[i] = now_ms () - t0;
    }
  qsort (times, (size_t) repeat, sizeof (double), compare_double);
  r->min_ms = times[0];
  r->max_ms = times[repeat - 1];
  r->median_ms = repeat % 2 ? times[repeat / 2]
                            : 0.5 * (times[repeat / 2 - 1] + times[repeat / 2]);
  r->gflops = r->median_ms > 0.0 ? w.flops / (r->median_ms * 1e6) : 0.0;
  struct rusage ru;
  getrusage (RUSAGE_SELF, &ru);
  r->peak_rss_mb = (double) ru.ru_maxrss / 1024.0;  /* Linux reports kilobytes */
  r->ok = 1;
  w.teardown (&w);
  free (times);
}

static bool
write_all (int         fd,
           const void *buf,
           size_t      n)
{
  const char *p = buf;
  while (n > 0)
    {
      ssize_t k = write (fd, p, n);
      if (k < 0 && errno == EINTR)
        continue;
      if (k <= 0)
        return false;
      p += k;
      n -= (size_t) k;
    }
  return true;
}

/* Forks a worker for one workload and collects its result. */
static void
run_in_child (const Workload *spec,
              int             repeat,
              int             threads,
              unsigned        ctx_flags,
              BenchResult    *r)
{
  memset (r, 0, sizeof *r);
  int fds[2];
  if (pipe (fds) != 0)
    {
      snprintf (r->error, sizeof r->error, "pipe: %s", strerror (errno));
      return;
    }
  fflush (stdout);
  fflush (stderr);
  pid_t pid = fork ();
  if (pid < 0)
    {
      snprintf (r->error, sizeof r->error, "fork: %s", strerror (errno));
      close (fds[0]);
      close (fds[1]);
      return;
    }
  if (pid == 0)
    {
      close (fds[0]);
      BenchResult mine;
      measure (spec, repeat, threads, ctx_flags, &mine);
      _exit (write_all (fds[1], &mine, sizeof mine) ? 0 : 1);
    }
  close (fds[1]);
  size_t got = 0;
  while (got < sizeof *r)
    {
      ssize_t k = read (fds[0], (char *) r + got, sizeof *r - got);
      if (k < 0 && errno == EINTR)
        continue;
      if (k <= 0)
        break;
      got += (size_t) k;
    }
  close (fds[0]);
  int wstatus = 0;
  while (waitpid (pid, &wstatus, 0) < 0 && errno == EINTR)
    ;
  if (got != sizeof *r)
    {
      memset (r, 0, sizeof *r);
      if (WIFSIGNALED (wstatus))
        snprintf (r->error, sizeof r->error, "the worker died of signal %d",
                  WTERMSIG (wstatus));
      else
        snprintf (r->error, sizeof r->error, "the worker exited with status %d",
                  WEXITSTATUS (wstatus));
    }
  r->error[sizeof r->error - 1] = '\0';
}

/* What the results ran on: the CPU's model name and which of avx2, avx512f and fma its flags
 * list, from /proc/cpuinfo (empty where it cannot be read), and OpenBLAS' kernel set. */
typedef struct
{
  char        model[128];
  bool        avx2, avx512f, fma;
  const char *blas_core;
  char        summary[192]; /* "avx2 fma, OpenBLAS Haswell" */
} CpuInfo;

/* Whether the space-separated list `flags` holds `name`. */
static bool
has_flag (const char *flags,
          const char *name)
{
  const size_t n = strlen (name);
  for (const char *p = strstr (flags, name); p != NULL; p = strstr (p + 1, name))
    if ((p == flags || p[-1] == ' ' || p[-1] == '\t') && (p[n] == ' ' || p[n] == '\n'
                                                        || p[n] == '\0'))
      return true;
  return false;
}

/* The value after "key<spaces>: " in a /proc/cpuinfo line, or NULL. */
static const char *
cpuinfo_value (const char *line,
               const char *key)
{
  const size_t n = strlen (key);
  if (strncmp (line, key, n) != 0 || (line[n] != ' ' && line[n] != '\t' && line[n] != ':'))
    return NULL;
  const char *colon = strchr (line + n, ':');
  return colon != NULL ? colon + 1 + (colon[1] == ' ') : NULL;
}

static void
cpu_info (CpuInfo *cpu)
{
  memset (cpu, 0, sizeof *cpu);
  cpu->blas_core = nn_blas_core_name ();
  FILE *f = fopen ("/proc/cpuinfo", "r");
  char line[8192];
  bool have_flags = false, have_model = false;
  while (f != NULL && (!have_flags || !have_model) && fgets (line, sizeof line, f) != NULL)
    {
      const char *v;
      if (!have_model && (v = cpuinfo_value (line, "model name")) != NULL)
        {
          snprintf (cpu->model, sizeof cpu->model, "%s", v);
          cpu->model[strcspn (cpu->model, "\n")] = '\0';
          have_model = true;
        }
      else if (!have_flags && (v = cpuinfo_value (line, "flags")) != NULL)
        {
          cpu->avx2 = has_flag (v, "avx2");
          cpu->avx512f = has_flag (v, "avx512f");
          cpu->fma = has_flag (v, "fma");
          have_flags = true;
        }
    }
  if (f != NULL)
    fclose (f);
  char features[32];
  snprintf (features, sizeof features, "%s%s%s", cpu->avx2 ? " avx2" : "",
            cpu->avx512f ? " avx512f" : "", cpu->fma ? " fma" : "");
  snprintf (cpu->summary, sizeof cpu->summary, "%s, OpenBLAS %s",
            features[0] ? features + 1 : "no avx2/avx512f/fma", cpu->blas_core);
}

static cJSON *
cpu_json (const CpuInfo *cpu)
{
  cJSON *o = cJSON_CreateObject ();
  cJSON_AddStringToObject (o, "model", cpu->model);
  cJSON_AddBoolToObject (o, "avx2", cpu->avx2);
  cJSON_AddBoolToObject (o, "avx512f", cpu->avx512f);
  cJSON_AddBoolToObject (o, "fma", cpu->fma);
  cJSON_AddStringToObject (o, "blas_core", cpu->blas_core);
  return o;
}

int
cli_bench_main (int    argc,
                char **argv)
{
  bool json = false;
  int threads = 0, repeat = 0;
  unsigned ctx_flags = 0;
  const char *only = NULL;
  int c;
  while ((c = cli_getopt (argc, argv, options)) != -1)
    switch (c)
      {
      case OPT_JSON:
        json = true;
        break;
      case OPT_THREADS:
        if (!cli_parse_int ("threads", optarg, 1, 1024, &threads))
          return CLI_EXIT_USAGE;
        break;
      case OPT_REPEAT:
        if (!cli_parse_int ("repeat", optarg, 1, 100000, &repeat))
          return CLI_EXIT_USAGE;
        break;
      case OPT_ONLY:
        only = optarg;
        break;
      case OPT_NO_WINOGRAD:
        ctx_flags |= NN_CONTEXT_NO_WINOGRAD;
        break;
      case OPT_NO_FOLD:
        ctx_flags |= NN_CONTEXT_NO_FOLD;
        break;
      case 'h':
        fputs (usage, stdout);
        return 0;
      default:
        return CLI_EXIT_USAGE;
      }
  if (optind < argc)
    return cli_fail (CLI_EXIT_USAGE, "bench: unexpected argument '%s'", argv[optind]);
  bool found = only == NULL;
  for (int i = 0; i < N_WORKLOADS && !found; i++)
    found = strcmp (workloads[i].name, only) == 0;
  if (!found)
    return cli_fail (CLI_EXIT_USAGE, "bad value '%s' for --only (see 'cnnscope-cli bench "
                     "--help' for the workloads)", only);
  cli_set_threads (threads);
  int n_threads = nn_blas_get_threads ();
  CpuInfo cpu;
  cpu_info (&cpu);

  cJSON *root = NULL, *list = NULL;
  if (json)
    {
      root = cJSON_CreateObject ();
      cJSON_AddNumberToObject (root, "threads", n_threads);
      cJSON_AddBoolToObject (root, "winograd", !(ctx_flags & NN_CONTEXT_NO_WINOGRAD));
      cJSON_AddBoolToObject (root, "fold", !(ctx_flags & NN_CONTEXT_NO_FOLD));
      cJSON_AddItemToObject (root, "cpu", cpu_json (&cpu));
      list = cJSON_AddArrayToObject (root, "workloads");
    }
  else
    printf ("threads %d\ncpu %s\nwinograd %s, fold %s\n%-30s %10s %10s %10s %9s %12s  %s\n",
            n_threads, cpu.model[0] ? cpu.model : "unknown",
            ctx_flags & NN_CONTEXT_NO_WINOGRAD ? "off" : "on",
            ctx_flags & NN_CONTEXT_NO_FOLD ? "off" : "on",
            "workload", "median ms", "min ms", "max ms", "GFLOP/s", "peak RSS MB",
            "CPU features, BLAS");
  int status = 0;
  for (int i = 0; i < N_WORKLOADS; i++)
    {
      const Workload *w = &workloads[i];
      if (only != NULL && strcmp (only, w->name) != 0)
        continue;
      int n = repeat > 0 ? repeat : w->default_repeat;
      BenchResult r;
      run_in_child (w, n, n_threads, ctx_flags, &r);
      if (!r.ok)
        {
          cli_fail (CLI_EXIT_FAILURE, "bench: %s failed: %s", w->name, r.error);
          status = CLI_EXIT_FAILURE;
          continue;
        }
      if (json)
        {
          cJSON *e = cJSON_CreateObject ();
          cJSON_AddStringToObject (e, "name", w->name);
          cJSON_AddNumberToObject (e, "repeat", n);
          cJSON_AddNumberToObject (e, "median_ms", r.median_ms);
          cJSON_AddNumberToObject (e, "min_ms", r.min_ms);
          cJSON_AddNumberToObject (e, "max_ms", r.max_ms);
          cJSON_AddNumberToObject (e, "gflops", r.gflops);
          cJSON_AddNumberToObject (e, "peak_rss_mb", r.peak_rss_mb);
          cJSON_AddItemToObject (e, "cpu", cpu_json (&cpu));
          cJSON_AddItemToArray (list, e);
        }
      else
        {
          printf ("%-30s %10.3f %10.3f %10.3f %9.2f %12.1f  %s\n", w->name, r.median_ms,
                  r.min_ms, r.max_ms, r.gflops, r.peak_rss_mb, cpu.summary);
          fflush (stdout);
        }
    }
  if (json && !cli_print_json (root))
    return CLI_EXIT_FAILURE;
  return status;
}
