/* SPDX-License-Identifier: MIT */
/* Safe opening of user-named files: O_NONBLOCK for the open and the type check, then blocking
 * reads from the same descriptor; openat component by component for paths inside a folder. */
#include "io/nn-file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* What kind of file mode is, for messages: "a FIFO", "a directory", "a symbolic link", ... */
static const char *
nn_file_kind (unsigned int mode)
{
  switch (mode & S_IFMT)
    {
    case S_IFREG:
      return "a regular file";
    case S_IFDIR:
      return "a directory";
    case S_IFIFO:
      return "a FIFO";
    case S_IFSOCK:
      return "a socket";
    case S_IFCHR:
      return "a character device";
    case S_IFBLK:
      return "a block device";
    case S_IFLNK:
      return "a symbolic link";
    default:
      return "an unknown kind of file";
    }
}

/* Checks that fd (opened with O_NONBLOCK) is a regular file and makes its reads blocking again;
 * closes it and returns -1 with err "<label>: <reason>" otherwise. */
static int
check_regular (int         fd,
               const char *label,
               uint64_t   *size,
               NnError    *err)
{
  char buf[128];
  struct stat st;
  int flags;
  if (fstat (fd, &st) != 0)
    {
      nn_error_set (err, NN_ERROR_IO, "%s: %s", label, strerror_r (errno, buf, sizeof buf));
      close (fd);
      return -1;
    }
  if (!S_ISREG (st.st_mode))
    {
      nn_error_set (err, NN_ERROR_IO, "%s: not a regular file (%s)", label,
                    nn_file_kind ((unsigned int) st.st_mode));
      close (fd);
      return -1;
    }
  if ((flags = fcntl (fd, F_GETFL)) < 0 || fcntl (fd, F_SETFL, flags & ~O_NONBLOCK) != 0)
    {
      nn_error_set (err, NN_ERROR_IO, "%s: %s", label, strerror_r (errno, buf, sizeof buf));
      close (fd);
      return -1;
    }
  if (size != NULL)
    *size = (uint64_t) st.st_size;
  return fd;
}

int
nn_file_open_regular (const char *path,
                      uint64_t   *size,
                      NnError    *err)
{
  NN_ASSERT (path != NULL);
  if (path[0] == '\0')
    return nn_error_set (err, NN_ERROR_IO, "empty file name"), -1;
  /* O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer. */
  int fd = open (path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    {
      /* A socket cannot be opened at all (ENXIO): say what it is rather than why. */
      int e = errno;
      char buf[128];
      struct stat st;
      if (stat (path, &st) == 0 && !S_ISREG (st.st_mode))
        nn_error_set (err, NN_ERROR_IO, "%s: not a regular file (%s)", path,
                      nn_file_kind ((unsigned int) st.st_mode));
      else
        nn_error_set (err, NN_ERROR_IO, "%s: cannot open: %s", path,
                      strerror_r (e, buf, sizeof buf));
      return -1;
    }
  return check_regular (fd, path, size, err);
}

int
nn_file_open_beneath (int         dir_fd,
                      const char *name,
                      uint64_t   *size,
                      NnError    *err)
{
  NN_ASSERT (name != NULL);
  if (name[0] == '\0')
    return nn_error_set (err, NN_ERROR_FORMAT, "(empty name): no file"), -1;
  if (name[0] == '/')
    return nn_error_set (err, NN_ERROR_FORMAT, "%s: an absolute path leaves the folder", name),
           -1;
  char *copy = strdup (name);
  if (copy == NULL)
    return nn_error_set (err, NN_ERROR_NOMEM, "%s: out of memory", name), -1;
  /* One component at a time, none of them followed if it is a symbolic link: O_NOFOLLOW alone
   * checks only the last one. */
  int cur = dir_fd;
  int fd = -1;
  char *save = NULL;
  char *part = strtok_r (copy, "/", &save);
  while (part != NULL)
    {
      char *next = strtok_r (NULL, "/", &save);
      if (strcmp (part, "..") == 0)
        {
          nn_error_set (err, NN_ERROR_FORMAT, "%s: \"..\" leaves the folder", name);
          break;
        }
      int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY
                  | (next != NULL ? O_DIRECTORY : O_NONBLOCK);
      int sub = openat (cur, part, flags);
      if (sub < 0)
        {
          int e = errno;
          char buf[128];
          if (e == ELOOP || (e == ENOTDIR && next != NULL))
            {
              struct stat st;
              bool link = fstatat (cur, part, &st, AT_SYMLINK_NOFOLLOW) == 0
                          && S_ISLNK (st.st_mode);
              nn_error_set (err, NN_ERROR_IO, "%s: %s", name,
                            link ? "a symbolic link (not followed)"
                                 : strerror_r (e, buf, sizeof buf));
            }
          else
            nn_error_set (err, NN_ERROR_IO, "%s: %s", name, strerror_r (e, buf, sizeof buf));
          break;
        }
      if (cur != dir_fd)
        close (cur);
      cur = sub;
      if (next == NULL)
        {
          fd = check_regular (sub, name, size, err);
          cur = dir_fd;
        }
      part = next;
    }
  if (cur != dir_fd)
    close (cur);
  free (copy);
  return fd;
}

bool
nn_file_read_at (int         fd,
                 const char *path,
                 void       *buf,
                 size_t      size,
                 uint64_t    offset,
                 NnError    *err)
{
  unsigned char *p = buf;
  while (size > 0)
    {
      ssize_t n = pread (fd, p, size, (off_t) offset);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          char ebuf[128];
          return nn_error_set (err, NN_ERROR_IO, "%s: cannot read: %s", path,
                               strerror_r (errno, ebuf, sizeof ebuf));
        }
      if (n == 0)
        return nn_error_set (err, NN_ERROR_FORMAT, "%s: unexpected end of file", path);
      p += n;
      size -= (size_t) n;
      offset += (uint64_t) n;
    }
  return true;
}

unsigned char *
nn_file_load (const char *path,
              size_t      max,
              const char *what,
              size_t     *size,
              NnError    *err)
{
  NN_ASSERT (path != NULL && what != NULL && size != NULL);
  uint64_t n;
  int fd = nn_file_open_regular (path, &n, err);
  if (fd < 0)
    return NULL;
  unsigned char *data = NULL;
  if (n > (uint64_t) max)
    nn_error_set (err, NN_ERROR_UNSUPPORTED, "%s: file of %llu bytes is too large for %s", path,
                  (unsigned long long) n, what);
  else if ((data = malloc ((size_t) n + 1)) == NULL)
    nn_error_set (err, NN_ERROR_NOMEM, "%s: out of memory for %llu bytes", path,
                  (unsigned long long) n);
  else if (!nn_file_read_at (fd, path, data, (size_t) n, 0, err))
    {
      free (data);
      data = NULL;
    }
  close (fd);
  if (data != NULL)
    {
      data[n] = '\0';
      *size = (size_t) n;
    }
  return data;
}
