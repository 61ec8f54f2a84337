/* SPDX-License-Identifier: MIT */
/* Shared helpers of the cnnscope-cli commands. */
#include "cli-common.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
cli_fail (int         code,
          const char *format,
          ...)
{
  char message[2048];
  va_list ap;
  va_start (ap, format);
  vsnprintf (message, sizeof message, format, ap);
  va_end (ap);
  /* One line, whatever the message holds. */
  for (char *p = message; *p; p++)
    if (*p == '\n' || *p == '\r')
      *p = ' ';
  fflush (stdout);
  fprintf (stderr, "cnnscope-cli: %s\n", message);
  return code;
}

int
cli_fail_error (int            code,
                const NnError *err)
{
  return cli_fail (code, "%s", err->message[0] ? err->message : "unknown error");
}

/* "--name" of the long option with id val, for messages. */
static const char *
option_name (const struct option *options,
             int                  val)
{
  for (const struct option *o = options; o->name != NULL; o++)
    if (o->val == val)
      return o->name;
  return NULL;
}

int
cli_getopt (int                  argc,
            char               **argv,
            const struct option *options)
{
  /* Short options: only -h, when --help is listed. A leading ':' makes getopt report a
   * missing value as ':' instead of printing its own message. */
  const char *shortopts = option_name (options, 'h') != NULL ? ":h" : ":";
  opterr = 0;
  int c = getopt_long (argc, argv, shortopts, options, NULL);
  if (c == '?')
    {
      if (optopt != 0 && optopt < CLI_OPT_BASE)
        cli_fail (CLI_EXIT_USAGE, "%s: unknown option '-%c' (see 'cnnscope-cli %s --help')",
                  argv[0], optopt, argv[0]);
      else
        {
          const char *arg = argv[optind - 1];
          const char *eq = strchr (arg, '=');
          int len = eq ? (int) (eq - arg) : (int) strlen (arg);
          if (optopt >= CLI_OPT_BASE)
            cli_fail (CLI_EXIT_USAGE, "%s: option '--%s' takes no value", argv[0],
                      option_name (options, optopt));
          else
            cli_fail (CLI_EXIT_USAGE, "%s: unknown option '%.*s' (see 'cnnscope-cli %s "
                      "--help')", argv[0], len, arg, argv[0]);
        }
      return '?';
    }
  if (c == ':')
    {
      const char *name = option_name (options, optopt);
      cli_fail (CLI_EXIT_USAGE, "%s: option '--%s' needs a value", argv[0],
                name ? name : "?");
      return '?';
    }
  /* An empty value is never meant: for an output it would become ": cannot write". */
  if (optarg != NULL && optarg[0] == '\0')
    {
      const char *name = option_name (options, c);
      bool output = name != NULL && (strcmp (name, "out") == 0 || strstr (name, "npy") != NULL);
      cli_fail (CLI_EXIT_USAGE, "%s: empty %s for '--%s'", argv[0],
                output ? "output path" : "value", name ? name : "?");
      return '?';
    }
  return c;
}

/* The option's name without the dashes callers may or may not have written: "steps" for
 * "--steps" and "steps" alike, so that messages read "for --steps". */
static const char *
bare_option (const char *option)
{
  while (*option == '-')
    option++;
  return option;
}

bool
cli_parse_int (const char *option,
               const char *text,
               int         min,
               int         max,
               int        *out)
{
  char *end = NULL;
  errno = 0;
  long v = strtol (text, &end, 10);
  if (end == text || *end != '\0' || errno != 0 || v < min || v > max)
    {
      cli_fail (CLI_EXIT_USAGE, "bad value '%s' for --%s (expected an integer from %d to %d)",
                text, bare_option (option), min, max);
      return false;
    }
  *out = (int) v;
  return true;
}

bool
cli_parse_u64 (const char *option,
               const char *text,
               uint64_t   *out)
{
  char *end = NULL;
  errno = 0;
  unsigned long long v = strtoull (text, &end, 10);
  if (end == text || *end != '\0' || errno != 0 || text[0] == '-')
    {
      cli_fail (CLI_EXIT_USAGE, "bad value '%s' for --%s (expected a non-negative integer)",
                text, bare_option (option));
      return false;
    }
  *out = (uint64_t) v;
  return true;
}

bool
cli_parse_double (const char *option,
                  const char *text,
                  double      min,
                  double      max,
                  double     *out)
{
  char *end = NULL;
  errno = 0;
  double v = strtod (text, &end);
  if (end == text || *end != '\0' || errno != 0 || !isfinite (v) || v < min || v > max)
    {
      cli_fail (CLI_EXIT_USAGE, "bad value '%s' for --%s (expected a number from %g to %g)",
                text, bare_option (option), min, max);
      return false;
    }
  *out = v;
  return true;
}

bool
cli_parse_float (const char *option,
                 const char *text,
                 double      min,
                 double      max,
                 float      *out)
{
  double v;
  if (!cli_parse_double (option, text, min, max, &v))
    return false;
  *out = (float) v;
  return true;
}

bool
cli_parse_figure_size (int            c,
                       const char    *text,
                       CliFigureSize *size)
{
  bool width = c == CLI_OPT_FIGURE_WIDTH;
  return cli_parse_int (width ? "width" : "height", text, 64, 8192,
                        width ? &size->width : &size->height);
}

bool
cli_parse_size (const char *text,
                int        *h,
                int        *w)
{
  char buf[64];
  snprintf (buf, sizeof buf, "%s", text);
  char *x = strchr (buf, 'x');
  if (x == NULL)
    {
      if (!cli_parse_int ("size", buf, 1, 1 << 16, h))
        return false;
      *w = *h;
      return true;
    }
  *x = '\0';
  return cli_parse_int ("size", buf, 1, 1 << 16, h)
         && cli_parse_int ("size", x + 1, 1, 1 << 16, w);
}

void
cli_set_threads (int n)
{
  nn_blas_set_threads (n);
}

NnModel *
cli_load_model (const char *path)
{
  NnError err = { 0 };
  NnModel *model = nn_model_load (path, &err);
  if (model == NULL)
    cli_fail_error (CLI_EXIT_FAILURE, &err);
  return model;
}

NnModel *
cli_load_model_layer (const char *path,
                      const char *layer,
                      int        *node)
{
  NnModel *model = cli_load_model (path);
  if (model == NULL)
    return NULL;
  *node = nn_graph_find (model->graph, layer);
  if (*node < 0)
    {
      cli_fail (CLI_EXIT_FAILURE, "%s has no layer '%s' (see 'cnnscope-cli info %s' for the "
                "layer names)", path, layer, path);
      nn_model_free (model);
      return NULL;
    }
  return model;
}

bool
cli_parse_window (const char *text,
                  NnCtWindow *window)
{
  NnError err = { 0 };
  if (nn_ct_window_parse (text, window, &err))
    return true;
  nn_error_prefix (&err, "--window");
  cli_fail_error (CLI_EXIT_USAGE, &err);
  return false;
}

NnInput *
cli_load_input (const NnModel    *model,
                const char       *path,
                const NnCtWindow *window)
{
  NnError err = { 0 };
  NnInput *input = nn_input_load (path, model, window, &err);
  if (input == NULL)
    cli_fail_error (CLI_EXIT_FAILURE, &err);
  return input;
}

const char *
cli_label (const NnModel *model,
           int            k,
           char          *buf,
           size_t         size)
{
  if (k >= 0 && k < model->n_classes && model->labels[k] != NULL)
    return model->labels[k];
  snprintf (buf, size, "%d", k);
  return buf;
}

/* Characters that never need quoting in a POSIX shell word. */
static bool
shell_safe (const char *arg)
{
  if (*arg == '\0')
    return false;
  for (const char *p = arg; *p; p++)
    if (!strchr ("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=,+@%",
                 *p))
      return false;
  return true;
}

void
cli_command_line (char   *buf,
                  size_t  size,
                  int     argc,
                  char  **argv)
{
  size_t n = (size_t) snprintf (buf, size, "cnnscope-cli");
  for (int i = 0; i < argc && n + 1 < size; i++)
    {
      buf[n++] = ' ';
      if (shell_safe (argv[i]))
        {
          for (const char *p = argv[i]; *p && n + 1 < size; p++)
            buf[n++] = *p;
          continue;
        }
      /* 'it'\''s' quoting: close, escaped quote, reopen. */
      if (n + 1 < size)
        buf[n++] = '\'';
      for (const char *p = argv[i]; *p && n + 4 < size; p++)
        {
          if (*p == '\'')
            {
              memcpy (buf + n, "'\\''", 4);
              n += 4;
            }
          else
            buf[n++] = *p;
        }
      if (n + 1 < size)
        buf[n++] = '\'';
    }
  buf[n < size ? n : size - 1] = '\0';
}

bool
cli_print_json (cJSON *json)
{
  char *text = cJSON_PrintUnformatted (json);
  cJSON_Delete (json);
  if (text == NULL)
    {
      cli_fail (CLI_EXIT_FAILURE, "out of memory printing JSON");
      return false;
    }
  fputs (text, stdout);
  fputc ('\n', stdout);
  cJSON_free (text);
  if (fflush (stdout) != 0 || ferror (stdout))
    {
      cli_fail (CLI_EXIT_FAILURE, "cannot write the JSON to standard output: %s",
                strerror (errno));
      return false;
    }
  return true;
}

size_t
cli_count_params (const NnGraph *graph)
{
  size_t total = 0;
  for (int i = 0; i < graph->n_nodes; i++)
    total += nn_graph_node_param_count (graph, i);
  return total;
}
