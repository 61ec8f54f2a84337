/* SPDX-License-Identifier: MIT */
/* Filter grid: reduce the weights to one kernel per output channel, then draw it as a tile
 * grid on the diverging map. */
#include "viz-filter-grid.h"

#include <stdlib.h>

#include "nn.h"
#include "viz-tile-grid.h"

float *
viz_filter_grid_maps_new (const VizFilterGrid *grid,
                          VizColormap         *cm)
{
  NN_ASSERT (grid->weights != NULL || grid->oc == 0);
  NN_ASSERT (grid->input_channel >= -1 && grid->input_channel < grid->ic);
  size_t k2 = (size_t) grid->kh * (size_t) grid->kw;
  size_t n = (size_t) grid->oc * k2;
  float *maps = calloc (n ? n : 1, sizeof (float));
  if (maps == NULL)
    return NULL;
  for (int o = 0; o < grid->oc; o++)
    {
      float *dst = maps + (size_t) o * k2;
      const float *w = grid->weights + (size_t) o * (size_t) grid->ic * k2;
      if (grid->input_channel >= 0)
        {
          const float *src = w + (size_t) grid->input_channel * k2;
          for (size_t j = 0; j < k2; j++)
            dst[j] = src[j];
        }
      else
        for (int i = 0; i < grid->ic; i++)
          for (size_t j = 0; j < k2; j++)
            dst[j] += w[(size_t) i * k2 + j];
    }
  viz_colormap_init_for_data (cm, VIZ_COLORMAP_DIVERGING, maps, n);
  return maps;
}

void
viz_filter_grid_draw (cairo_t             *cr,
                      const VizFilterGrid *grid,
                      const VizStyle      *style,
                      double               width,
                      double               height)
{
  VizColormap cm;
  float *maps = viz_filter_grid_maps_new (grid, &cm);
  if (maps == NULL)
    return;
  VizTileGrid tiles = {
    .data = maps, .c = grid->oc, .h = grid->kh, .w = grid->kw,
    .colormap = &cm, .selected = grid->selected, .atlas = NULL,
  };
  viz_tile_grid_draw (cr, &tiles, style, width, height);
  free (maps);
}
