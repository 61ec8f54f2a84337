/* SPDX-License-Identifier: MIT */
/* 2-D convolution (cross-correlation, as in PyTorch) with stride, asymmetric padding,
 * dilation and groups. The fast path is im2col + OpenBLAS sgemm, Winograd F(4x4, 3x3) for the
 * stride-1 3x3 kernels where it pays (nn-winograd.h), direct loops for depthwise convolution;
 * the naive twins are the reference the tests compare against. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Sizes, documented once: B batch, C input channels, H W input size, OC output channels,
 * KH KW kernel, SH SW stride, PT PL PB PR padding (top, left, bottom, right), DH DW dilation,
 * G groups, OH OW output size. */
typedef struct
{
  int B, C, H, W;
  int OC, KH, KW;
  int SH, SW;
  int PT, PL, PB, PR;
  int DH, DW;
  int G;
  int OH, OW;
  bool no_winograd; /* im2col even where Winograd pays (to measure or check against it) */
} NnConvGeom;

/* Floats of scratch the fast kernels need (im2col buffer, or Winograd's transformed kernels,
 * tiles and products); the same for forward and backward. */
size_t nn_conv2d_scratch_size (const NnConvGeom *g);
/* The same for a caller that runs the Winograd geometries through packed kernels
 * (nn-winograd.h) and the rest through the functions below. */
size_t nn_conv2d_scratch_size_packed (const NnConvGeom *g);

/* out (B,OC,OH,OW) = conv(inp (B,C,H,W), weight (OC,C/G,KH,KW)) + bias (OC) (bias may be NULL).
 * `scratch` holds nn_conv2d_scratch_size floats. */
void nn_conv2d_forward (float            *out,
                        float            *scratch,
                        const float      *inp,
                        const float      *weight,
                        const float      *bias,
                        const NnConvGeom *g);

/* Part `index` of `n` of nn_conv2d_forward's output rows, for a single sample (g->B == 1), so
 * that n threads can share a sample; `out` is the whole output. The parts are whole bands of
 * the im2col matrix, so the result equals nn_conv2d_forward's bit for bit. Only for geometries
 * where nn_conv2d_splits_rows () is true. */
void nn_conv2d_forward_part (float            *out,
                             float            *scratch,
                             const float      *inp,
                             const float      *weight,
                             const float      *bias,
                             const NnConvGeom *g,
                             int               index,
                             int               n);

/* Whether n threads sharing one sample should split its output rows (each builds the im2col
 * bands of its rows and packs all the weights) rather than its output channels (each builds
 * the whole im2col matrix): true for im2col convolutions without groups whose im2col matrix
 * is the larger cost. */
bool nn_conv2d_splits_rows (const NnConvGeom *g,
                            int               n);

/* Accumulates dinp (B,C,H,W), dweight (OC,C/G,KH,KW), dbias (OC); each may be NULL when not
 * wanted. */
void nn_conv2d_backward (float            *dinp,
                         float            *dweight,
                         float            *dbias,
                         float            *scratch,
                         const float      *dout,
                         const float      *inp,
                         const float      *weight,
                         const NnConvGeom *g);

/* Part `index` of `n` of nn_conv2d_backward's input gradient alone, for a single sample
 * (g->B == 1) and no groups: the part's share of the input channels, dinp[c0 .. c1) +=
 * (weight^T dout) rows of those channels, scattered back by col2im. Parts write disjoint
 * channels of the whole dinp, so n threads can share a sample (the activation-maximization and
 * saliency backward). `scratch` holds nn_conv2d_scratch_size floats per part. */
void nn_conv2d_backward_input_part (float            *dinp,
                                    float            *scratch,
                                    const float      *dout,
                                    const float      *weight,
                                    const NnConvGeom *g,
                                    int               index,
                                    int               n);

void nn_conv2d_forward_naive (float            *out,
                              const float      *inp,
                              const float      *weight,
                              const float      *bias,
                              const NnConvGeom *g);

void nn_conv2d_backward_naive (float            *dinp,
                               float            *dweight,
                               float            *dbias,
                               const float      *dout,
                               const float      *inp,
                               const float      *weight,
                               const NnConvGeom *g);
