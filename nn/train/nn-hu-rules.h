/* SPDX-License-Identifier: MIT */
/* The trivial-rule baseline of a CT set: the fractions of each slice's lung field in 100-HU
 * bins, and the rules of one or two thresholds on a bin, a pair or a range of bins that fit a
 * training set best. A benchmark such a rule solves is solved by intensity counting. */
#pragma once

#include <stdbool.h>

#include "core/nn-error.h"

/* Bins of the 3 x 3 mean HU: below -900, [-900, -800), ..., [0, 100), 100 and above. */
#define NN_HU_RULES_BINS 12
/* Features: each bin, the sum of each pair of bins, and of each range of three or more
 * consecutive bins. */
#define NN_HU_RULES_FEATURES (NN_HU_RULES_BINS + NN_HU_RULES_BINS * (NN_HU_RULES_BINS - 1) / 2 \
                              + (NN_HU_RULES_BINS - 2) * (NN_HU_RULES_BINS - 1) / 2)

typedef struct
{
  unsigned bins;           /* the feature: the sum of the fractions of these bins (bit b) */
  int    n_thresholds;     /* 1 or 2 */
  float  lo, hi;           /* the class of f < lo is classes[0], of lo <= f < hi classes[1],
                            * of f >= hi classes[2] (one threshold: lo == hi) */
  int    classes[3];
  double train_accuracy;
} NnHuRule;

/* Lower edge of bin b in HU (bin 0: -infinity as -1e30). */
float  nn_hu_rules_bin_lo (int b);
/* The bins (bit b for bin b) of feature f. */
unsigned nn_hu_rules_feature_bins (int f);

/* The lung field of an h x w slice in HU: pixels whose 3 x 3 mean is below -400 HU and that
 * the air around the body does not reach (through 3 x 3 means below -500), closed over a
 * square of about h / 12 so that dense lesions inside the lungs belong to it, then without its
 * one-pixel rim (the partial volume of the chest wall and the mediastinum). field (h*w bytes)
 * gets 1 there. Returns its pixel count; -1 when out of memory. */
long   nn_hu_rules_lung_field (const float   *hu,
                               int            h,
                               int            w,
                               unsigned char *field);
/* features[NN_HU_RULES_FEATURES] of one slice: the fraction of its lung field in each bin of
 * the 3 x 3 mean, counting only pixels whose 3 x 3 neighbourhood spans less than 200 HU (not
 * the edges of vessels and lesions), then the pair and range sums. All 0 when the field is
 * empty. false when out of memory. */
bool   nn_hu_rules_features (const float *hu,
                             int          h,
                             int          w,
                             float       *features,
                             NnError     *err);
/* The rule with n_thresholds (1 or 2) of the best training accuracy over every feature, given
 * the features (n, NN_HU_RULES_FEATURES) and labels (each in [0, n_classes)) of n samples. Each
 * interval takes the class most frequent in it. false when out of memory. */
bool   nn_hu_rules_fit (const float *features,
                        const int   *labels,
                        int          n,
                        int          n_classes,
                        int          n_thresholds,
                        NnHuRule    *rule,
                        NnError     *err);
int    nn_hu_rule_predict (const NnHuRule *rule,
                           const float    *features);
/* The fraction of the n samples the rule classifies right. */
double nn_hu_rule_accuracy (const NnHuRule *rule,
                            const float    *features,
                            const int      *labels,
                            int             n);
