/* SPDX-License-Identifier: MIT */
/* cnnscope-cli train --probe: images explained with Grad-CAM at the weights of the moment,
 * every N steps and at the end of each epoch, each into a PNG, with one JSON line per image
 * (step, epoch, class probabilities) in DIR/probes.jsonl; every file written atomically. */
#pragma once

#include <stdbool.h>

#include "nn.h"

typedef struct CliProbes CliProbes;

/* Loads the comma-separated images of list for model (printing the error and returning NULL
 * when one cannot be read). dir must be a writable folder (checked here); every (>= 1) is the
 * step interval. */
CliProbes *cli_probes_new (const NnModel *model,
                           const char    *list,
                           const char    *dir,
                           long           every);
void       cli_probes_free (CliProbes *probes);
/* Whether the probes are written after step (1-based): every `every` steps, and at the end of
 * an epoch unless that step was written already. */
bool       cli_probes_due (const CliProbes *probes,
                           long             step,
                           bool             epoch_done);
/* Explains every probe with model's weights as they are after step of epoch (0-based; written
 * 1-based) and writes DIR/pK-NAME-stepNNNNNN.png and the lines of DIR/probes.jsonl. False
 * with err when a file cannot be written or the explanation fails. */
bool       cli_probes_write (CliProbes     *probes,
                             const NnModel *model,
                             long           step,
                             int            epoch,
                             NnError       *err);
