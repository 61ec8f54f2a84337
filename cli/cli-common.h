/* SPDX-License-Identifier: MIT */
/* What every cnnscope-cli command shares: one-line errors, option parsing, number parsing,
 * loading models and inputs, JSON output. */
#pragma once

#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nn.h"
#include "viz.h"

/* Exit codes: a runtime failure (bad file, failed computation), a usage error (unknown option,
 * bad number, missing argument), and training stopped by SIGINT (128 + 2, as shells report). */
#define CLI_EXIT_FAILURE   1
#define CLI_EXIT_USAGE     2
#define CLI_EXIT_CANCELLED 130

/* Option ids of long options without a short form start here (above any character). */
#define CLI_OPT_BASE 256

/* Prints "cnnscope-cli: <message>" as one line on stderr and returns code. */
int      cli_fail (int         code,
                   const char *format,
                   ...) __attribute__ ((format (printf, 2, 3)));
/* Prints an NnError the same way (its message already names the file). */
int      cli_fail_error (int            code,
                         const NnError *err);

/* getopt_long over argv (argv[0] is the command name), permuting so options may follow the
 * positional arguments. Returns the option's id, -1 at the end (positional arguments are then
 * argv[optind .. argc-1]), or '?' after printing the error for an unknown option or a missing
 * value. `-h` and `--help` return 'h' when listed in options. */
int      cli_getopt (int                  argc,
                     char               **argv,
                     const struct option *options);

/* Parse a whole option value or print "cnnscope-cli: bad value ..." and return false. */
bool     cli_parse_int (const char *option,
                        const char *text,
                        int         min,
                        int         max,
                        int        *out);
bool     cli_parse_u64 (const char *option,
                        const char *text,
                        uint64_t   *out);
bool     cli_parse_float (const char *option,
                          const char *text,
                          double      min,
                          double      max,
                          float      *out);
bool     cli_parse_double (const char *option,
                           const char *text,
                           double      min,
                           double      max,
                           double     *out);

/* --size N or HxW (each 1 to 65536; N gives N x N), printing the error. */
bool     cli_parse_size (const char *text,
                         int        *h,
                         int        *w);

/* --threads N for OpenBLAS; n <= 0: one per core. */
void     cli_set_threads (int n);

/* Loads a model, printing the error on failure. */
NnModel *cli_load_model (const char *path);
/* Loads a model and finds its layer `layer` (*node), printing the error on failure (for an absent
 * layer, how to list the names). */
NnModel *cli_load_model_layer (const char *path,
                               const char *layer,
                               int        *node);

/* Opens INPUT for model (nn_input_load: a PNG, JPEG or DICOM file by content, a .npy array by
 * name; window, when not NULL, is --window: how a CT slice is shown, and read by a model
 * without a window of its own). Prints the error and returns NULL on failure. */
NnInput *cli_load_input (const NnModel    *model,
                         const char       *path,
                         const NnCtWindow *window);
/* Parses the value of --window (lung, mediastinum, bone or W,L), printing the error. */
bool     cli_parse_window (const char *text,
                           NnCtWindow *window);

/* The label of class k, or its number (in buf) when the model has none for it. */
const char *cli_label (const NnModel *model,
                       int            k,
                       char          *buf,
                       size_t         size);

/* Writes "cnnscope-cli ARG..." into buf, quoting arguments that need it for a shell. */
void     cli_command_line (char       *buf,
                           size_t      size,
                           int         argc,
                           char      **argv);

/* Prints json as one object on stdout followed by a newline, and deletes it. Returns false
 * (after printing an error) when it cannot be printed. */
bool     cli_print_json (cJSON *json);

/* --width W and --height H of a figure, options of every command that draws one: pixels for
 * PNG, points for SVG and PDF, from 64 to 8192. */
#define CLI_OPT_FIGURE_WIDTH  (CLI_OPT_BASE + 200)
#define CLI_OPT_FIGURE_HEIGHT (CLI_OPT_BASE + 201)
#define CLI_FIGURE_OPTIONS                                   \
  { "width", required_argument, NULL, CLI_OPT_FIGURE_WIDTH }, \
  { "height", required_argument, NULL, CLI_OPT_FIGURE_HEIGHT }

typedef struct
{
  int width, height;
} CliFigureSize;

/* Parses the value of option c (CLI_OPT_FIGURE_WIDTH or _HEIGHT) into size, printing the
 * error. */
bool     cli_parse_figure_size (int            c,
                                const char    *text,
                                CliFigureSize *size);

/* Total (weights and biases, trainable or frozen) and trainable parameter counts. */
size_t   cli_count_params (const NnGraph *graph);
