/* SPDX-License-Identifier: MIT */
/* Batch normalization (train and eval) and instance normalization over NCHW tensors.
 * Sizes: B batch, C channels, HW pixels per channel. gamma/beta may be NULL (no affine). */
#pragma once

#include <stdbool.h>

/* Training mode: normalizes with the batch statistics (biased variance), saves the mean and
 * 1/sqrt(var + eps) per channel for the backward pass, and updates the running statistics
 * (unbiased variance) with `momentum` as PyTorch does. */
void nn_batchnorm_forward_train (float       *out,
                                 float       *save_mean,
                                 float       *save_invstd,
                                 float       *running_mean,
                                 float       *running_var,
                                 const float *inp,
                                 const float *gamma,
                                 const float *beta,
                                 int          B,
                                 int          C,
                                 int          HW,
                                 float        eps,
                                 float        momentum);

/* The same for channels [c0, c1) only: the channels are independent, so workers can share
 * one batch norm. */
void nn_batchnorm_forward_train_channels (float       *out,
                                          float       *save_mean,
                                          float       *save_invstd,
                                          float       *running_mean,
                                          float       *running_var,
                                          const float *inp,
                                          const float *gamma,
                                          const float *beta,
                                          int          B,
                                          int          C,
                                          int          HW,
                                          float        eps,
                                          float        momentum,
                                          int          c0,
                                          int          c1);

void nn_batchnorm_forward_eval (float       *out,
                                const float *inp,
                                const float *gamma,
                                const float *beta,
                                const float *running_mean,
                                const float *running_var,
                                int          B,
                                int          C,
                                int          HW,
                                float        eps);

/* Accumulates dinp, dgamma, dbeta (each may be NULL) for the training-mode forward. */
void nn_batchnorm_backward_train (float       *dinp,
                                  float       *dgamma,
                                  float       *dbeta,
                                  const float *dout,
                                  const float *inp,
                                  const float *gamma,
                                  const float *save_mean,
                                  const float *save_invstd,
                                  int          B,
                                  int          C,
                                  int          HW);

void nn_batchnorm_backward_train_channels (float       *dinp,
                                           float       *dgamma,
                                           float       *dbeta,
                                           const float *dout,
                                           const float *inp,
                                           const float *gamma,
                                           const float *save_mean,
                                           const float *save_invstd,
                                           int          B,
                                           int          C,
                                           int          HW,
                                           int          c0,
                                           int          c1);

/* Accumulates dinp, dgamma, dbeta for the eval-mode forward (a per-channel affine map). */
void nn_batchnorm_backward_eval (float       *dinp,
                                 float       *dgamma,
                                 float       *dbeta,
                                 const float *dout,
                                 const float *inp,
                                 const float *gamma,
                                 const float *running_mean,
                                 const float *running_var,
                                 int          B,
                                 int          C,
                                 int          HW,
                                 float        eps);

/* Instance norm: statistics per (sample, channel); saves mean and invstd (B*C each). */
void nn_instancenorm_forward (float       *out,
                              float       *save_mean,
                              float       *save_invstd,
                              const float *inp,
                              const float *gamma,
                              const float *beta,
                              int          B,
                              int          C,
                              int          HW,
                              float        eps);

void nn_instancenorm_backward (float       *dinp,
                               float       *dgamma,
                               float       *dbeta,
                               const float *dout,
                               const float *inp,
                               const float *gamma,
                               const float *save_mean,
                               const float *save_invstd,
                               int          B,
                               int          C,
                               int          HW);
