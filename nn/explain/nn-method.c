/* SPDX-License-Identifier: MIT */
/* The method registry: the table built from NN_METHOD_LIST, lookup by name, and the check that
 * a context fits the method. */
#include "explain/nn-method.h"

#include <stdio.h>
#include <string.h>

#define NN_METHOD_ROW(id, name, label, flags, fn) [NN_METHOD_##id] = { name, label, flags, fn },

static const NnMethodInfo methods[] = {
  NN_METHOD_LIST (NN_METHOD_ROW)
};

_Static_assert (sizeof methods / sizeof methods[0] == NN_METHOD_COUNT_,
                "one registry row per NnMethod");

const NnMethodInfo *
nn_method_get_info (NnMethod method)
{
  NN_ASSERT (method >= 0 && method < NN_METHOD_COUNT_);
  return &methods[method];
}

bool
nn_method_has_flags (NnMethod method,
                     unsigned flags)
{
  return (nn_method_get_info (method)->flags & flags) == flags;
}

bool
nn_method_from_name (const char *name,
                     NnMethod   *method)
{
  NN_ASSERT (name != NULL && method != NULL);
  for (int i = 0; i < NN_METHOD_COUNT_; i++)
    if (strcmp (name, methods[i].name) == 0)
      {
        *method = (NnMethod) i;
        return true;
      }
  return false;
}

void
nn_method_format_names (char     *buf,
                        size_t    size,
                        unsigned  flags,
                        unsigned  without)
{
  NN_ASSERT (buf != NULL && size > 0);
  int n = 0, total = 0;
  for (int i = 0; i < NN_METHOD_COUNT_; i++)
    total += (methods[i].flags & flags) == flags && (methods[i].flags & without) == 0;
  size_t used = 0;
  buf[0] = '\0';
  for (int i = 0; i < NN_METHOD_COUNT_ && used < size; i++)
    {
      if ((methods[i].flags & flags) != flags || (methods[i].flags & without) != 0)
        continue;
      const char *sep = n == 0 ? "" : n == total - 1 ? " or " : ", ";
      int wrote = snprintf (buf + used, size - used, "%s%s", sep, methods[i].name);
      used += wrote > 0 ? (size_t) wrote : 0;
      n++;
    }
}

void
nn_method_spec_init (NnMethodSpec *spec)
{
  NN_ASSERT (spec != NULL);
  memset (spec, 0, sizeof *spec);
  spec->method = NN_METHOD_GRADCAM;
  spec->target = -1;
  spec->layer = -1;
  spec->keep_negative = false;
  spec->samples = 0;
  spec->noise = 0.15f;
  spec->baseline = NULL;
  spec->seed = 1;
}

NnMap *
nn_method_compute (NnContext              *ctx,
                   const float            *input,
                   const NnMethodSpec     *spec,
                   const NnExplainControl *control,
                   NnError                *err)
{
  NN_ASSERT (ctx != NULL && input != NULL && spec != NULL);
  const NnMethodInfo *info = nn_method_get_info (spec->method);
  if ((info->flags & NN_METHOD_FLAG_GRADIENTS) && nn_context_grad (ctx, 0) == NULL)
    return nn_error_set (err, NN_ERROR_SPEC, "%s needs a context with gradient buffers",
                         info->name), NULL;
  return info->compute (ctx, input, spec, control, err);
}
