/* SPDX-License-Identifier: MIT */
/* The engine's public interface: the one header app/, cli/, viz/ and tests include. */
#pragma once

#include "nn-activation.h"
#include "nn-arch.h"
#include "nn-atomic-file.h"
#include "nn-blas.h"
#include "nn-context.h"
#include "nn-conv2d.h"
#include "nn-dataset.h"
#include "nn-elementwise.h"
#include "nn-error.h"
#include "nn-graph.h"
#include "nn-image.h"
#include "nn-linear.h"
#include "nn-model.h"
#include "nn-norm.h"
#include "nn-npy.h"
#include "nn-pool.h"
#include "nn-rng.h"
#include "nn-train.h"
#include "nn-workers.h"
