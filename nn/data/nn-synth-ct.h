/* SPDX-License-Identifier: MIT */
/* Synthetic chest CT: axial slices in Hounsfield units (body, fat, muscle, lungs with vessels,
 * heart, aorta, spine, ribs, sternum) with COVID-like ground-glass opacities or another finding
 * (a solid nodule or a lobar consolidation), a mask of every lesion, and an optional simulated
 * acquisition (parallel-beam projection, Poisson noise, filtered back-projection). */
#pragma once

#include <stdbool.h>

#include "core/nn-error.h"
#include "core/nn-rng.h"

typedef enum
{
  NN_SYNTH_CT_HEALTHY,
  NN_SYNTH_CT_COVID,  /* 3 to 6 peripheral ground-glass opacities, -700 to -300 HU, soft edges */
  NN_SYNTH_CT_OTHER,  /* a solid nodule or a lobar consolidation, -20 to 60 HU */
} NnSynthCtClass;

#define NN_SYNTH_CT_N_CLASSES 3

typedef struct
{
  int   size;         /* pixels a side; the field of view is 400 mm whatever the size */
  bool  acquisition;  /* simulate a scan: projection, Poisson noise, filtered back-projection */
  float photons;      /* incident photons per ray of the simulated scan */
  float noise_hu;     /* without acquisition: standard deviation of Gaussian noise, in HU */
} NnSynthCtOptions;

/* 128 px, no acquisition, 2e5 photons per ray, 12 HU of noise. */
void        nn_synth_ct_options_init (NnSynthCtOptions *options);
/* "healthy", "covid", "other". */
const char *nn_synth_ct_class_name (NnSynthCtClass cls);

/* Draws one slice of class cls from rng into hu (size x size values in HU, row 0 anterior,
 * the patient's right on the image's left) and mask (size x size bytes, 1 inside a lesion,
 * 0 elsewhere; all 0 for a healthy slice). Fails only when out of memory. */
bool        nn_synth_ct_generate (const NnSynthCtOptions *options,
                                  NnSynthCtClass          cls,
                                  NnRng                  *rng,
                                  float                  *hu,
                                  unsigned char          *mask,
                                  NnError                *err);

/* Parallel-beam geometry of a size x size image: n_angles views over [0, pi) and n_bins
 * detector bins of one pixel, enough to cover the image diagonal. */
void        nn_synth_ct_geometry (int  size,
                                  int *n_angles,
                                  int *n_bins);
/* sino (n_angles, n_bins) = line integrals of image (size, size) (per pixel length units). */
void        nn_synth_ct_project (float       *sino,
                                 const float *image,
                                 int          size,
                                 int          n_angles,
                                 int          n_bins);
/* image (size, size) = filtered back-projection of sino (n_angles, n_bins) with the ramp
 * (Ram-Lak) filter. */
bool        nn_synth_ct_reconstruct (float       *image,
                                     const float *sino,
                                     int          size,
                                     int          n_angles,
                                     int          n_bins,
                                     NnError     *err);
