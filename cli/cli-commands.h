/* SPDX-License-Identifier: MIT */
/* The entry point of every cnnscope-cli command: argv[0] is the command's name, the return
 * value the process's exit code. */
#pragma once

int cli_info_main (int argc, char **argv);
int cli_predict_main (int argc, char **argv);
int cli_train_main (int argc, char **argv);
int cli_eval_main (int argc, char **argv);
int cli_embed_main (int argc, char **argv);
int cli_examples_main (int argc, char **argv);
int cli_compare_main (int argc, char **argv);
int cli_activations_main (int argc, char **argv);
int cli_filters_main (int argc, char **argv);
int cli_am_main (int argc, char **argv);
int cli_bench_main (int argc, char **argv);
int cli_cam_main (int argc, char **argv);
int cli_saliency_main (int argc, char **argv);
int cli_convert_main (int argc, char **argv);
int cli_synth_main (int argc, char **argv);
int cli_ood_fit_main (int argc, char **argv);
