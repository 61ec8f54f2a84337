/* SPDX-License-Identifier: MIT */
/* Volumes and shards for the batch commands (cli-volume.h). */
#include "cli-volume.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli-common.h"

bool
cli_shard_parse (const char *option,
                 const char *text,
                 CliShard   *shard)
{
  char *end = NULL;
  long i = strtol (text, &end, 10);
  long n = end != text && *end == '/' ? strtol (end + 1, &end, 10) : -1;
  if (*end != '\0' || text[0] == '-' || i < 0 || n < 1 || n > 1000000 || i >= n)
    return cli_fail (CLI_EXIT_USAGE, "bad value '%s' for --%s (expected I/N with 0 <= I < N, "
                     "e.g. 3/16)", text, option), false;
  *shard = (CliShard) { (int) i, (int) n };
  return true;
}

void
cli_shard_range (const CliShard *shard,
                 int             n,
                 int            *begin,
                 int            *end)
{
  *begin = (int) ((long long) shard->index * n / shard->count);
  *end = (int) ((long long) (shard->index + 1) * n / shard->count);
}

void
cli_shard_suffix (const CliShard *shard,
                  char           *buf,
                  size_t          size)
{
  if (shard->count <= 1)
    {
      buf[0] = '\0';
      return;
    }
  int width = snprintf (NULL, 0, "%d", shard->count - 1);
  snprintf (buf, size, "-%0*d-of-%d", width, shard->index, shard->count);
}

static bool
has_suffix (const char *path,
            const char *ext)
{
  size_t lp = strlen (path), le = strlen (ext);
  return lp > le && strcasecmp (path + lp - le, ext) == 0;
}

/* Whether the regular file path has "DICM" after the 128-byte preamble. */
static bool
is_dicom_file (const char *path)
{
  int fd = open (path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    return false;
  char head[132];
  struct stat st;
  bool dicom = fstat (fd, &st) == 0 && S_ISREG (st.st_mode)
               && pread (fd, head, sizeof head, 0) == (ssize_t) sizeof head
               && memcmp (head + 128, "DICM", 4) == 0;
  close (fd);
  return dicom;
}

bool
cli_volume_is_volume (const char *path)
{
  struct stat st;
  if (stat (path, &st) != 0)
    return false;
  if (!S_ISDIR (st.st_mode))
    return has_suffix (path, ".nii") || has_suffix (path, ".nii.gz");
  DIR *d = opendir (path);
  if (d == NULL)
    return false;
  bool dicom = false, images = false;
  struct dirent *e;
  while (!images && (e = readdir (d)) != NULL)
    {
      if (e->d_name[0] == '.')
        continue;
      const char *n = e->d_name;
      if (has_suffix (n, ".png") || has_suffix (n, ".jpg") || has_suffix (n, ".jpeg")
          || has_suffix (n, ".npy"))
        images = true;
      else if (!dicom)
        {
          char *full = malloc (strlen (path) + strlen (n) + 2);
          if (full != NULL)
            {
              sprintf (full, "%s/%s", path, n);
              dicom = is_dicom_file (full);
              free (full);
            }
        }
    }
  closedir (d);
  return dicom && !images;
}

NnVolume *
cli_volume_load (const char  *path,
                 const char  *series,
                 NnVolume   **as_read)
{
  NnError err = { 0 };
  struct stat st;
  bool folder = stat (path, &st) == 0 && S_ISDIR (st.st_mode);
  NnVolume *read = folder ? nn_volume_load_dicom (path, series, &err)
                          : nn_volume_load_nifti (path, &err);
  NnVolume *lps = read != NULL ? nn_volume_reorient (read, "LPS", &err) : NULL;
  if (lps == NULL)
    {
      if (read != NULL)
        nn_error_prefix (&err, "%s", path);
      cli_fail_error (CLI_EXIT_FAILURE, &err);
      nn_volume_free (read);
      return NULL;
    }
  if (as_read != NULL)
    *as_read = read;
  else
    nn_volume_free (read);
  return lps;
}

double
cli_volume_slice_z (const NnVolume *volume,
                    int             k)
{
  double xyz[3];
  nn_volume_world (volume, 0.5 * (volume->nx - 1), 0.5 * (volume->ny - 1), k, xyz);
  return xyz[2];
}

bool
cli_volume_save (const NnVolume *values,
                 const NnVolume *as_read,
                 const char     *description,
                 const char     *path)
{
  NnError err = { 0 };
  NnVolume *out = nn_volume_reorient_like (values, as_read, &err);
  bool ok = out != NULL && nn_volume_save_nifti (out, description, path, &err);
  if (!ok)
    {
      if (out == NULL)
        nn_error_prefix (&err, "%s", path);
      cli_fail_error (CLI_EXIT_FAILURE, &err);
    }
  nn_volume_free (out);
  return ok;
}
