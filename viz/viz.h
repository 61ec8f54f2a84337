/* SPDX-License-Identifier: MIT */
/* Cairo drawing of cnnscope without GTK: the one header app/, cli/ and tests include. */
#pragma once

#include "viz-am-figure.h"
#include "viz-caption.h"
#include "viz-colorbar.h"
#include "viz-colormap.h"
#include "viz-confusion.h"
#include "viz-curve.h"
#include "viz-explain-figure.h"
#include "viz-export.h"
#include "viz-filter-grid.h"
#include "viz-heatmap.h"
#include "viz-image.h"
#include "viz-layer-figure.h"
#include "viz-matrix.h"
#include "viz-montage.h"
#include "viz-plot.h"
#include "viz-scatter.h"
#include "viz-style.h"
#include "viz-text.h"
#include "viz-tile-grid.h"
#include "viz-train-figure.h"
