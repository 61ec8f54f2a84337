/* SPDX-License-Identifier: MIT */
/* Synthetic chest CT, version 2: whole volumes from the lung apex to below the diaphragm, with
 * an anatomy that follows the z level, three classes (healthy, COVID-like, another pneumonia),
 * findings of any class (nodules, effusions), a 3-D lesion mask and the simulated scan. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "core/nn-error.h"
#include "io/nn-volume.h"

typedef enum
{
  NN_SYNTH_CT2_HEALTHY,
  NN_SYNTH_CT2_COVID,      /* peripheral, posterior, basal ground glass; crazy paving,
                            * consolidation or reticulation by stage */
  NN_SYNTH_CT2_PNEUMONIA,  /* lobar consolidation with air bronchograms, or bronchopneumonia
                            * with tree-in-bud */
} NnSynthCt2Class;

#define NN_SYNTH_CT2_N_CLASSES 3

typedef struct
{
  int   size;         /* pixels a side; the field of view is 400 mm */
  int   n_slices;     /* slices from above the apex to below the costophrenic recesses */
  bool  acquisition;  /* simulate the scan slice by slice (default on) */
  float photons;      /* incident photons per ray; 0 (default): drawn per volume, 5e4 to 5e5 */
  float noise_hu;     /* without acquisition: standard deviation of Gaussian noise, in HU */
} NnSynthCt2Options;

/* What a volume holds besides its class. */
typedef struct
{
  const char *pattern;   /* the class's pattern: "none", "covid-early", "covid-progressive",
                          * "covid-peak", "covid-late", "lobar", "bronchopneumonia" */
  int         lobe;      /* lobar pneumonia: 0 RUL, 1 RML, 2 RLL, 3 LUL, 4 LLL; else -1 */
  bool        nodule;    /* a nodule (any class; not in the mask) */
  float       nodule_mm; /* its diameter */
  int         effusion;  /* pleural effusion: 0 none, 1 right, 2 left, 3 both (not in the
                          * mask) */
  float       photons;   /* of the simulated scan */
  double      pixel_mm;  /* in-plane spacing */
  double      slice_mm;  /* spacing along z */
} NnSynthCt2Info;

/* One patient: everything a volume of that seed and class draws, fixed at creation. */
typedef struct NnSynthCt2 NnSynthCt2;

/* 128 px, 64 slices, acquisition on, photons drawn per volume, 12 HU of noise without it. */
void            nn_synth_ct2_options_init (NnSynthCt2Options *options);
/* "healthy", "covid", "pneumonia". */
const char     *nn_synth_ct2_class_name (NnSynthCt2Class cls);

/* The patient of class cls drawn from seed alone; NULL with err when out of memory. */
NnSynthCt2     *nn_synth_ct2_new (const NnSynthCt2Options *options,
                                  NnSynthCt2Class          cls,
                                  uint64_t                 seed,
                                  NnError                 *err);
void            nn_synth_ct2_free (NnSynthCt2 *ct);
const NnSynthCt2Info *nn_synth_ct2_info (const NnSynthCt2 *ct);

/* Slice k (0 the most inferior, n_slices - 1 the most superior) into hu (size x size, row 0
 * anterior, the patient's right on the image's left) and mask (size x size bytes, 1 inside a
 * lesion of the class, else 0; all 0 for healthy). Depends on the patient and k only: any
 * slice can be drawn alone and equals the volume's. Fails only when out of memory. */
bool            nn_synth_ct2_slice (const NnSynthCt2 *ct,
                                    int               k,
                                    float            *hu,
                                    unsigned char    *mask,
                                    NnError          *err);
/* A slice for a 2-D data set, drawn from the patient's seed: for a lesion class one whose
 * mask holds at least min_area pixels (the slice at a lesion's level, several tried), for
 * healthy a level through both lungs; its index k, the slice in hu and mask. -1 when no lesion
 * slice was found, -2 with err when out of memory. */
int             nn_synth_ct2_pick_slice (const NnSynthCt2 *ct,
                                         int               min_area,
                                         float            *hu,
                                         unsigned char    *mask,
                                         NnError          *err);
/* The whole volume as HU and as its lesion mask (0/1), both in "LPS" order (i toward the
 * patient's left, j posterior, k superior) with their spacing and affine. */
bool            nn_synth_ct2_volume (const NnSynthCt2 *ct,
                                     NnVolume        **hu,
                                     NnVolume        **mask,
                                     NnError          *err);
