/* SPDX-License-Identifier: MIT */
/* What cnnscope-cli cam and saliency share: options, one input or a folder of them, the overlay
 * figure, the .npy map, the faithfulness metrics, JSON and the batch CSV. */
#pragma once

#include <stdbool.h>

typedef enum
{
  CLI_EXPLAIN_CAM,
  CLI_EXPLAIN_SALIENCY,
} CliExplainKind;

/* The whole command: argv[0] is its name. --help prints usage_head, the names of the
 * command's methods from the registry ("gradcam|gradcam++|..."), then usage_tail. Returns the
 * exit code. */
int cli_explain_main (int             argc,
                      char          **argv,
                      CliExplainKind  kind,
                      const char     *usage_head,
                      const char     *usage_tail);
