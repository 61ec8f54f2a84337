/* SPDX-License-Identifier: MIT */
/* Atomic saves: temporary file, fsync, rename, folder sync. */
#include "io/nn-atomic-file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool
nn_atomic_file_open (NnAtomicFile *file,
                     const char   *path,
                     NnError      *err)
{
  NN_ASSERT (file != NULL && path != NULL);
  static const char suffix[] = ".tmp-XXXXXX";
  *file = (NnAtomicFile) { .path = path };
  size_t len = strlen (path);
  file->tmp = malloc (len + sizeof suffix);
  if (file->tmp == NULL)
    return nn_error_set (err, NN_ERROR_NOMEM, "%s: out of memory", path);
  memcpy (file->tmp, path, len);
  memcpy (file->tmp + len, suffix, sizeof suffix);

  int fd = mkstemp (file->tmp);
  if (fd >= 0 && fchmod (fd, 0644) == 0)
    file->fp = fdopen (fd, "wb");
  if (file->fp == NULL)
    {
      int e = errno;
      char buf[128];
      if (fd >= 0)
        {
          close (fd);
          unlink (file->tmp);
        }
      free (file->tmp);
      file->tmp = NULL;
      /* The GNU strerror_r (we build with _GNU_SOURCE): thread-safe, returns the text. */
      return nn_error_set (err, NN_ERROR_IO, "%s: cannot create a temporary file: %s", path,
                           strerror_r (e, buf, sizeof buf));
    }
  return true;
}

/* Syncs the folder holding path, so the rename itself survives a crash. Best effort: the file
 * is complete at this point whatever happens. */
static void
sync_folder (const char *path)
{
  char *folder = strdup (path);
  if (folder == NULL)
    return;
  char *slash = strrchr (folder, '/');
  const char *name = folder;
  if (slash == NULL)
    name = ".";
  else if (slash == folder)
    slash[1] = '\0';
  else
    *slash = '\0';
  int fd = open (name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0)
    {
      fsync (fd);
      close (fd);
    }
  free (folder);
}

bool
nn_atomic_file_finish (NnAtomicFile *file,
                       bool          ok,
                       NnError      *err)
{
  NN_ASSERT (file != NULL && file->fp != NULL && file->tmp != NULL);
  int e = 0;
  if (ok && (fflush (file->fp) != 0 || fsync (fileno (file->fp)) != 0))
    e = errno ? errno : EIO;
  if (fclose (file->fp) != 0 && ok && e == 0)
    e = errno ? errno : EIO;
  if (ok && e == 0 && rename (file->tmp, file->path) != 0)
    e = errno ? errno : EIO;
  if (ok && e != 0)
    {
      char buf[128];
      nn_error_set (err, NN_ERROR_IO, "%s: cannot write: %s", file->path,
                    strerror_r (e, buf, sizeof buf));
      ok = false;
    }
  if (ok)
    sync_folder (file->path);
  else
    unlink (file->tmp);
  free (file->tmp);
  *file = (NnAtomicFile) { 0 };
  return ok;
}
