/* SPDX-License-Identifier: MIT */
/* Labelled image sets: IDX files read through zlib (plain or gzip), Fashion-MNIST, image
 * folders root/<class>/<image>, seeded per-class subsets and per-channel statistics. */
#include "data/nn-dataset.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "io/nn-file.h"
#include "io/nn-image.h"
#include "core/nn-rng.h"

/* Limits that keep a hostile IDX header from allocating gigabytes. */
#define IDX_MAX_COUNT  (1 << 26)
#define IDX_MAX_SIDE   4096
#define IDX_MAX_PIXELS ((size_t) 1 << 31)
#define IDX_MAGIC_IMAGES 0x00000803u
#define IDX_MAGIC_LABELS 0x00000801u

#define FASHION_MNIST_CLASSES 10

static const char *const fashion_mnist_classes[] = {
  "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
  "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
};
_Static_assert (sizeof fashion_mnist_classes / sizeof fashion_mnist_classes[0]
                == FASHION_MNIST_CLASSES, "fashion_mnist_classes needs one name per class");

NnDataset *
nn_dataset_new (int n,
                int c,
                int h,
                int w,
                int n_classes)
{
  NN_ASSERT (n >= 0 && c >= 1 && h >= 1 && w >= 1 && n_classes >= 1);
  size_t per_image = (size_t) c * (size_t) h * (size_t) w;
  if (n > 0 && per_image > SIZE_MAX / sizeof (float) / (size_t) n)
    return NULL;

  NnDataset *ds = calloc (1, sizeof *ds);
  if (ds == NULL)
    return NULL;
  ds->n = n;
  ds->c = c;
  ds->h = h;
  ds->w = w;
  ds->n_classes = n_classes;
  ds->images = calloc (n > 0 ? (size_t) n * per_image : 1, sizeof *ds->images);
  ds->labels = calloc (n > 0 ? (size_t) n : 1, sizeof *ds->labels);
  ds->class_names = calloc ((size_t) n_classes, sizeof *ds->class_names);
  if (ds->images == NULL || ds->labels == NULL || ds->class_names == NULL)
    {
      nn_dataset_free (ds);
      return NULL;
    }
  /* Until named, a class is called by its index. */
  for (int k = 0; k < n_classes; k++)
    {
      char name[16];
      snprintf (name, sizeof name, "%d", k);
      ds->class_names[k] = strdup (name);
      if (ds->class_names[k] == NULL)
        {
          nn_dataset_free (ds);
          return NULL;
        }
    }
  return ds;
}

void
nn_dataset_free (NnDataset *ds)
{
  if (ds == NULL)
    return;
  if (ds->class_names != NULL)
    for (int k = 0; k < ds->n_classes; k++)
      free (ds->class_names[k]);
  free (ds->class_names);
  free (ds->images);
  free (ds->labels);
  free (ds);
}

void
nn_dataset_set_class_name (NnDataset  *ds,
                           int         k,
                           const char *name)
{
  NN_ASSERT (ds != NULL && name != NULL);
  NN_ASSERT (k >= 0 && k < ds->n_classes);
  char *copy = strdup (name);
  /* Out of memory keeps the old name: still a valid string. */
  if (copy == NULL)
    return;
  free (ds->class_names[k]);
  ds->class_names[k] = copy;
}

/* ---- IDX ---------------------------------------------------------------------------------- */

static bool
path_is_directory (const char *path)
{
  struct stat st;
  return stat (path, &st) == 0 && S_ISDIR (st.st_mode);
}

static gzFile
idx_open (const char *path,
          NnError    *err)
{
  int fd = nn_file_open_regular (path, NULL, err);
  if (fd < 0)
    return NULL;
  gzFile gz = gzdopen (fd, "rb");
  if (gz == NULL)
    {
      close (fd);
      nn_error_set (err, NN_ERROR_NOMEM, "%s: out of memory", path);
      return NULL;
    }
  /* A larger buffer than zlib's 8 KiB default loads Fashion-MNIST about 40 % faster. */
  gzbuffer (gz, 1u << 17);
  return gz;
}

/* Reads exactly n bytes; a short read is a truncated file or a broken gzip stream. */
static bool
idx_read (gzFile      gz,
          const char *path,
          void       *out,
          size_t      n,
          const char *what,
          NnError    *err)
{
  size_t got = 0;
  while (got < n)
    {
      size_t chunk = n - got < (1u << 30) ? n - got : (1u << 30);
      int r = gzread (gz, (unsigned char *) out + got, (unsigned) chunk);
      if (r < 0)
        {
          int code = 0;
          const char *msg = gzerror (gz, &code);
          return nn_error_set (err, code == Z_ERRNO ? NN_ERROR_IO : NN_ERROR_FORMAT,
                               "%s: cannot read %s: %s", path, what,
                               code == Z_ERRNO ? strerror (errno) : msg);
        }
      if (r == 0)
        break;
      got += (size_t) r;
    }
  if (got < n)
    {
      int code = 0;
      const char *msg = gzerror (gz, &code);
      if (code != Z_OK && code != Z_BUF_ERROR)
        return nn_error_set (err, NN_ERROR_FORMAT, "%s: cannot read %s: %s", path, what, msg);
      return nn_error_set (err, NN_ERROR_FORMAT, "%s: file is truncated in %s", path, what);
    }
  return true;
}

static uint32_t
read_be32 (const unsigned char *p)
{
  return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}

/* Reads the magic number and the dimensions (big-endian uint32) of an IDX file. */
static bool
idx_read_header (gzFile      gz,
                 const char *path,
                 uint32_t    magic,
                 uint32_t   *dims,
                 int         n_dims,
                 NnError    *err)
{
  unsigned char head[16];
  if (!idx_read (gz, path, head, 4, "the header", err))
    return false;
  uint32_t found = read_be32 (head);
  if (found != magic)
    return nn_error_set (err, NN_ERROR_FORMAT,
                         "%s: not an IDX %s file (magic number 0x%08x, expected 0x%08x)", path,
                         magic == IDX_MAGIC_IMAGES ? "image" : "label", found, magic);
  if (!idx_read (gz, path, head, 4 * (size_t) n_dims, "the header", err))
    return false;
  for (int i = 0; i < n_dims; i++)
    dims[i] = read_be32 (head + 4 * i);
  return true;
}

/* Loads an image/label pair; n_classes > 0 fixes the class count (labels must stay below it),
 * 0 takes the largest label + 1. */
static NnDataset *
idx_load (const char *images_path,
          const char *labels_path,
          int         n_classes,
          NnError    *err)
{
  NnDataset *ds = NULL;
  unsigned char *labels = NULL;
  gzFile gi = NULL, gl = NULL;
  uint32_t idims[3] = { 0 }, ldims[1] = { 0 };

  if ((gi = idx_open (images_path, err)) == NULL
      || !idx_read_header (gi, images_path, IDX_MAGIC_IMAGES, idims, 3, err)
      || (gl = idx_open (labels_path, err)) == NULL
      || !idx_read_header (gl, labels_path, IDX_MAGIC_LABELS, ldims, 1, err))
    goto out;

  uint32_t n = idims[0], h = idims[1], w = idims[2];
  if (n == 0 || h == 0 || w == 0 || n > IDX_MAX_COUNT || h > IDX_MAX_SIDE || w > IDX_MAX_SIDE
      || (size_t) n * h * w > IDX_MAX_PIXELS)
    {
      nn_error_set (err, NN_ERROR_FORMAT,
                    "%s: implausible image dimensions %u x %u x %u (count x height x width)",
                    images_path, n, h, w);
      goto out;
    }
  if (ldims[0] != n)
    {
      nn_error_set (err, NN_ERROR_FORMAT, "%s has %u images but %s has %u labels",
                    images_path, n, labels_path, ldims[0]);
      goto out;
    }

  labels = malloc (n);
  if (labels == NULL)
    {
      nn_error_set (err, NN_ERROR_NOMEM, "%s: out of memory", labels_path);
      goto out;
    }
  if (!idx_read (gl, labels_path, labels, n, "the labels", err))
    goto out;
  int max_label = 0;
  for (uint32_t i = 0; i < n; i++)
    max_label = labels[i] > max_label ? labels[i] : max_label;
  if (n_classes > 0 && max_label >= n_classes)
    {
      nn_error_set (err, NN_ERROR_FORMAT, "%s: label %d out of range (%d classes)", labels_path,
                    max_label, n_classes);
      goto out;
    }

  ds = nn_dataset_new ((int) n, 1, (int) h, (int) w, n_classes > 0 ? n_classes : max_label + 1);
  if (ds == NULL)
    {
      nn_error_set (err, NN_ERROR_NOMEM, "%s: out of memory for %u images", images_path, n);
      goto out;
    }
  for (uint32_t i = 0; i < n; i++)
    ds->labels[i] = labels[i];

  /* Pixels arrive in chunks so no second full-size buffer is needed. */
  char what[96];
  snprintf (what, sizeof what, "the pixels of %u images of %u x %u", n, h, w);
  unsigned char chunk[1 << 16];
  size_t total = (size_t) n * h * w, done = 0;
  while (done < total)
    {
      size_t m = total - done < sizeof chunk ? total - done : sizeof chunk;
      if (!idx_read (gi, images_path, chunk, m, what, err))
        {
          nn_dataset_free (ds);
          ds = NULL;
          goto out;
        }
      for (size_t i = 0; i < m; i++)
        ds->images[done + i] = (float) chunk[i] / 255.0f;
      done += m;
    }

out:
  free (labels);
  if (gi != NULL)
    gzclose (gi);
  if (gl != NULL)
    gzclose (gl);
  return ds;
}

NnDataset *
nn_dataset_load_idx (const char *images_path,
                     const char *labels_path,
                     NnError    *err)
{
  NN_ASSERT (images_path != NULL && labels_path != NULL);
  return idx_load (images_path, labels_path, 0, err);
}

/* "<dir>/<base>.gz", or "<dir>/<base>" when only the uncompressed file is there. */
static char *
fashion_mnist_path (const char *dir,
                    const char *base)
{
  size_t len = strlen (dir) + strlen (base) + sizeof "/.gz";
  char *path = malloc (len);
  if (path == NULL)
    return NULL;
  snprintf (path, len, "%s/%s.gz", dir, base);
  struct stat st;
  if (stat (path, &st) != 0)
    {
      snprintf (path, len, "%s/%s", dir, base);
      if (stat (path, &st) != 0)
        snprintf (path, len, "%s/%s.gz", dir, base);
    }
  return path;
}

NnDataset *
nn_dataset_load_fashion_mnist (const char *dir,
                               bool        train,
                               NnError    *err)
{
  if (dir == NULL)
    dir = NN_FASHION_MNIST_DIR;
  const char *prefix = train ? "train" : "t10k";
  char images_base[32], labels_base[32];
  snprintf (images_base, sizeof images_base, "%s-images-idx3-ubyte", prefix);
  snprintf (labels_base, sizeof labels_base, "%s-labels-idx1-ubyte", prefix);

  char *images_path = fashion_mnist_path (dir, images_base);
  char *labels_path = fashion_mnist_path (dir, labels_base);
  NnDataset *ds = NULL;
  if (images_path == NULL || labels_path == NULL)
    nn_error_set (err, NN_ERROR_NOMEM, "%s: out of memory", dir);
  else
    ds = idx_load (images_path, labels_path, FASHION_MNIST_CLASSES, err);
  free (images_path);
  free (labels_path);
  if (ds == NULL)
    return NULL;
  for (int k = 0; k < FASHION_MNIST_CLASSES; k++)
    nn_dataset_set_class_name (ds, k, fashion_mnist_classes[k]);
  return ds;
}

/* ---- Image folders ------------------------------------------------------------------------ */

typedef struct
{
  char **items;
  int    n;
  int    cap;
} NameList;

static void
name_list_clear (NameList *list)
{
  for (int i = 0; i < list->n; i++)
    free (list->items[i]);
  free (list->items);
  list->items = NULL;
  list->n = list->cap = 0;
}

static bool
name_list_add (NameList   *list,
               const char *name)
{
  if (list->n == list->cap)
    {
      int cap = list->cap > 0 ? 2 * list->cap : 16;
      char **items = realloc (list->items, (size_t) cap * sizeof *items);
      if (items == NULL)
        return false;
      list->items = items;
      list->cap = cap;
    }
  char *copy = strdup (name);
  if (copy == NULL)
    return false;
  list->items[list->n++] = copy;
  return true;
}

static int
compare_names (const void *a,
               const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

static char *
path_join (const char *dir,
           const char *name)
{
  size_t len = strlen (dir) + strlen (name) + 2;
  char *path = malloc (len);
  if (path != NULL)
    snprintf (path, len, "%s/%s", dir, name);
  return path;
}

static bool
has_image_extension (const char *name)
{
  static const char *const extensions[] = { ".png", ".jpg", ".jpeg" };
  static const char *const companions[] = { ".mask.png", ".lung.png" };
  size_t len = strlen (name);
  for (size_t i = 0; i < sizeof companions / sizeof companions[0]; i++)
    {
      size_t el = strlen (companions[i]);
      if (len >= el && strcasecmp (name + len - el, companions[i]) == 0)
        return false;
    }
  for (size_t i = 0; i < sizeof extensions / sizeof extensions[0]; i++)
    {
      size_t el = strlen (extensions[i]);
      if (len > el && strcasecmp (name + len - el, extensions[i]) == 0)
        return true;
    }
  return false;
}

/* The sorted names in `dir` that are directories (want_dirs) or image files; hidden entries
 * are skipped. */
static bool
list_entries (NameList   *list,
              const char *dir,
              bool        want_dirs,
              NnError    *err)
{
  DIR *d = opendir (dir);
  if (d == NULL)
    return nn_error_set (err, NN_ERROR_IO, "%s: %s", dir, strerror (errno));
  bool ok = true;
  struct dirent *e;
  while (ok && (e = readdir (d)) != NULL)
    {
      if (e->d_name[0] == '.')
        continue;
      if (!want_dirs && !has_image_extension (e->d_name))
        continue;
      char *path = path_join (dir, e->d_name);
      if (path == NULL)
        {
          ok = nn_error_set (err, NN_ERROR_NOMEM, "%s: out of memory", dir);
          break;
        }
      struct stat st;
      bool keep = stat (path, &st) == 0
                  && (want_dirs ? S_ISDIR (st.st_mode) : S_ISREG (st.st_mode));
      free (path);
      if (keep && !name_list_add (list, e->d_name))
        ok = nn_error_set (err, NN_ERROR_NOMEM, "%s: out of memory", dir);
    }
  closedir (d);
  if (ok && list->n > 1)
    qsort (list->items, (size_t) list->n, sizeof *list->items, compare_names);
  return ok;
}

/* A new image converted to c channels and fitted to h x w; NULL when out of memory. */
static NnImage *
image_conformed (const NnImage *image,
                 int            c,
                 int            h,
                 int            w)
{
  NnImage *converted = NULL;
  if (image->c != c)
    {
      converted = nn_image_convert (image, c);
      if (converted == NULL)
        return NULL;
      image = converted;
    }
  NnImage *out = image->h != h || image->w != w ? nn_image_fit (image, h, w)
                                                : nn_image_dup (image);
  nn_image_free (converted);
  return out;
}

/* An image folder's listing: the class folders, the images of each, and every image's path and
 * label in order. */
typedef struct
{
  NameList  classes;
  NameList *files;   /* per class */
  int       n;
  char    **paths;
  int      *labels;
} Folder;

static void
folder_clear (Folder *f)
{
  if (f->paths != NULL)
    for (int i = 0; i < f->n; i++)
      free (f->paths[i]);
  free (f->paths);
  free (f->labels);
  if (f->files != NULL)
    for (int k = 0; k < f->classes.n; k++)
      name_list_clear (&f->files[k]);
  free (f->files);
  name_list_clear (&f->classes);
}

/* The class folders of root and the images in each; a class folder without images stays a
 * class, so indices match the folder names. */
static bool
folder_list (Folder     *f,
             const char *root,
             NnError    *err)
{
  if (!list_entries (&f->classes, root, true, err))
    return false;
  if (f->classes.n == 0)
    return nn_error_set (err, NN_ERROR_FORMAT, "%s: no class folders (expected "
                         "%s/<class>/*.png)", root, root);
  f->files = calloc ((size_t) f->classes.n, sizeof *f->files);
  if (f->files == NULL)
    return nn_error_set (err, NN_ERROR_NOMEM, "%s: out of memory", root);
  for (int k = 0; k < f->classes.n; k++)
    {
      char *dir = path_join (root, f->classes.items[k]);
      bool ok = dir != NULL ? list_entries (&f->files[k], dir, false, err)
                            : nn_error_set (err, NN_ERROR_NOMEM, "%s: out of memory", root);
      free (dir);
      if (!ok)
        return false;
      if (f->files[k].n > (1 << 28) - f->n)
        return nn_error_set (err, NN_ERROR_UNSUPPORTED, "%s: too many images", root);
      f->n += f->files[k].n;
    }
  if (f->n == 0)
    return nn_error_set (err, NN_ERROR_FORMAT, "%s: no images found (expected "
                         "%s/<class>/*.png)", root, root);
  return true;
}

/* Every image's path and label, class by class. */
static bool
folder_paths (Folder     *f,
              const char *root,
              NnError    *err)
{
  f->paths = calloc ((size_t) f->n, sizeof *f->paths);
  f->labels = calloc ((size_t) f->n, sizeof *f->labels);
  if (f->paths == NULL || f->labels == NULL)
    return nn_error_set (err, NN_ERROR_NOMEM, "%s: out of memory", root);
  for (int k = 0, i = 0; k < f->classes.n; k++)
    {
      char *dir = path_join (root, f->classes.items[k]);
      for (int j = 0; dir != NULL && j < f->files[k].n; j++, i++)
        {
          f->paths[i] = path_join (dir, f->files[k].items[j]);
          f->labels[i] = k;
        }
      free (dir);
    }
  for (int i = 0; i < f->n; i++)
    if (f->paths[i] == NULL)
      return nn_error_set (err, NN_ERROR_NOMEM, "%s: out of memory", root);
  return true;
}

/* Loads the images of the folder into a dataset of c x h x w images (0: the first image's). */
static NnDataset *
folder_load (const Folder *f,
             const char   *root,
             int           c,
             int           h,
             int           w,
             NnError      *err)
{
  NnDataset *ds = NULL;
  bool ok = true, all_ct16 = true;
  for (int i = 0; ok && i < f->n; i++)
    {
      NnImage *image = nn_image_load (f->paths[i], err);
      if (image == NULL)
        {
          ok = false;
          break;
        }
      all_ct16 = all_ct16 && image->bit_depth == 16 && image->c == 1;
      if (ds == NULL)
        {
          c = c > 0 ? c : image->c;
          h = h > 0 ? h : image->h;
          w = w > 0 ? w : image->w;
          ds = nn_dataset_new (f->n, c, h, w, f->classes.n);
          if (ds == NULL)
            ok = nn_error_set (err, NN_ERROR_NOMEM,
                               "%s: out of memory for %d images of %d x %d x %d", root, f->n, c,
                               h, w);
          for (int k = 0; ok && k < f->classes.n; k++)
            nn_dataset_set_class_name (ds, k, f->classes.items[k]);
        }
      NnImage *conformed = ok ? image_conformed (image, c, h, w) : NULL;
      nn_image_free (image);
      if (ok && conformed == NULL)
        ok = nn_error_set (err, NN_ERROR_NOMEM, "%s: out of memory", f->paths[i]);
      if (ok)
        {
          size_t per_image = (size_t) c * h * w;
          memcpy (ds->images + (size_t) i * per_image, conformed->data,
                  per_image * sizeof (float));
          ds->labels[i] = f->labels[i];
        }
      nn_image_free (conformed);
    }
  if (!ok)
    {
      nn_dataset_free (ds);
      return NULL;
    }
  ds->ct16 = all_ct16;
  return ds;
}

NnDataset *
nn_dataset_load_folder (const char *root,
                        int         c,
                        int         h,
                        int         w,
                        NnError    *err)
{
  NN_ASSERT (root != NULL);
  NN_ASSERT (c <= 0 || c == 1 || c == 3);

  struct stat st;
  if (stat (root, &st) != 0)
    {
      nn_error_set (err, NN_ERROR_IO, "%s: %s", root, strerror (errno));
      return NULL;
    }
  if (!S_ISDIR (st.st_mode))
    {
      nn_error_set (err, NN_ERROR_IO, "%s: not a directory", root);
      return NULL;
    }
  Folder folder = { 0 };
  NnDataset *ds = NULL;
  if (folder_list (&folder, root, err) && folder_paths (&folder, root, err))
    ds = folder_load (&folder, root, c, h, w, err);
  folder_clear (&folder);
  return ds;
}

/* Converts every sample to c channels and fits it to h x w (values <= 0 keep the current
 * size); takes ownership of ds. */
static NnDataset *
dataset_conform (NnDataset *ds,
                 int        c,
                 int        h,
                 int        w,
                 const char *name,
                 NnError    *err)
{
  c = c > 0 ? c : ds->c;
  h = h > 0 ? h : ds->h;
  w = w > 0 ? w : ds->w;
  if (c == ds->c && h == ds->h && w == ds->w)
    return ds;

  NnDataset *out = nn_dataset_new (ds->n, c, h, w, ds->n_classes);
  NnImage *image = nn_image_new (ds->c, ds->h, ds->w);
  size_t in_size = (size_t) ds->c * ds->h * ds->w, out_size = (size_t) c * h * w;
  bool ok = out != NULL && image != NULL;
  for (int i = 0; ok && i < ds->n; i++)
    {
      memcpy (image->data, ds->images + (size_t) i * in_size, in_size * sizeof (float));
      NnImage *conformed = image_conformed (image, c, h, w);
      ok = conformed != NULL;
      if (ok)
        memcpy (out->images + (size_t) i * out_size, conformed->data, out_size * sizeof (float));
      nn_image_free (conformed);
      out->labels[i] = ds->labels[i];
    }
  nn_image_free (image);
  if (ok)
    {
      for (int k = 0; k < ds->n_classes; k++)
        nn_dataset_set_class_name (out, k, ds->class_names[k]);
      out->ct16 = ds->ct16;
    }
  nn_dataset_free (ds);
  if (!ok)
    {
      nn_dataset_free (out);
      nn_error_set (err, NN_ERROR_NOMEM, "%s: out of memory resizing to %d x %d x %d", name, c,
                    h, w);
      return NULL;
    }
  return out;
}

NnDataset *
nn_dataset_open (const char *spec,
                 bool        train,
                 int         c,
                 int         h,
                 int         w,
                 NnError    *err)
{
  NN_ASSERT (spec != NULL);
  NN_ASSERT (c <= 0 || c == 1 || c == 3);

  if (strcmp (spec, "fashion-mnist") == 0)
    {
      NnDataset *ds = nn_dataset_load_fashion_mnist (NULL, train, err);
      return ds != NULL ? dataset_conform (ds, c, h, w, spec, err) : NULL;
    }

  if (!path_is_directory (spec))
    {
      struct stat st;
      if (stat (spec, &st) != 0)
        nn_error_set (err, NN_ERROR_IO,
                      "%s: %s (expected \"fashion-mnist\" or an image folder)", spec,
                      strerror (errno));
      else
        nn_error_set (err, NN_ERROR_IO,
                      "%s: not a directory (expected \"fashion-mnist\" or an image folder)",
                      spec);
      return NULL;
    }

  char *train_dir = path_join (spec, "train");
  char *test_dir = path_join (spec, "test");
  NnDataset *ds = NULL;
  if (train_dir == NULL || test_dir == NULL)
    nn_error_set (err, NN_ERROR_NOMEM, "%s: out of memory", spec);
  else if (path_is_directory (train_dir) && path_is_directory (test_dir))
    ds = nn_dataset_load_folder (train ? train_dir : test_dir, c, h, w, err);
  else
    ds = nn_dataset_load_folder (spec, c, h, w, err);
  free (train_dir);
  free (test_dir);
  return ds;
}

/* ---- Subsets and statistics --------------------------------------------------------------- */

NnDataset *
nn_dataset_subset_per_class (const NnDataset *ds,
                             int              per_class,
                             uint64_t         seed)
{
  NN_ASSERT (ds != NULL && per_class >= 0);

  int *order = malloc ((size_t) (ds->n > 0 ? ds->n : 1) * sizeof *order);
  unsigned char *chosen = calloc ((size_t) (ds->n > 0 ? ds->n : 1), 1);
  if (order == NULL || chosen == NULL)
    {
      free (order);
      free (chosen);
      return NULL;
    }

  /* Per class: shuffle its indices with one seeded stream (classes in order) and keep the
   * first per_class; the subset lists the chosen samples in their original order. */
  NnRng rng;
  nn_rng_init (&rng, seed);
  int n_out = 0;
  for (int k = 0; k < ds->n_classes; k++)
    {
      int m = 0;
      for (int i = 0; i < ds->n; i++)
        if (ds->labels[i] == k)
          order[m++] = i;
      nn_rng_shuffle (&rng, order, m);
      int keep = m < per_class ? m : per_class;
      for (int j = 0; j < keep; j++)
        chosen[order[j]] = 1;
      n_out += keep;
    }
  free (order);

  NnDataset *out = nn_dataset_new (n_out, ds->c, ds->h, ds->w, ds->n_classes);
  if (out == NULL)
    {
      free (chosen);
      return NULL;
    }
  size_t per_image = (size_t) ds->c * ds->h * ds->w;
  for (int i = 0, j = 0; i < ds->n; i++)
    if (chosen[i])
      {
        memcpy (out->images + (size_t) j * per_image, ds->images + (size_t) i * per_image,
                per_image * sizeof (float));
        out->labels[j++] = ds->labels[i];
      }
  free (chosen);
  for (int k = 0; k < ds->n_classes; k++)
    nn_dataset_set_class_name (out, k, ds->class_names[k]);
  out->ct16 = ds->ct16;
  return out;
}

NnDataset *
nn_dataset_sample (const NnDataset *ds,
                   int              n,
                   uint64_t         seed,
                   int             *index)
{
  NN_ASSERT (ds != NULL && n >= 1 && n <= ds->n);
  int *order = malloc ((size_t) ds->n * sizeof (int));
  char *keep = calloc ((size_t) ds->n, 1);
  NnDataset *part = nn_dataset_new (n, ds->c, ds->h, ds->w, ds->n_classes);
  if (order == NULL || keep == NULL || part == NULL)
    {
      free (order);
      free (keep);
      nn_dataset_free (part);
      return NULL;
    }
  for (int i = 0; i < ds->n; i++)
    order[i] = i;
  NnRng rng;
  nn_rng_init (&rng, seed);
  nn_rng_shuffle (&rng, order, ds->n);
  for (int i = 0; i < n; i++)
    keep[order[i]] = 1;
  const size_t sample = (size_t) ds->c * ds->h * ds->w;
  for (int i = 0, k = 0; i < ds->n; i++)
    if (keep[i])
      {
        memcpy (part->images + (size_t) k * sample, ds->images + (size_t) i * sample,
                sample * sizeof (float));
        part->labels[k] = ds->labels[i];
        if (index != NULL)
          index[k] = i;
        k++;
      }
  for (int k = 0; k < ds->n_classes; k++)
    nn_dataset_set_class_name (part, k, ds->class_names[k]);
  part->ct16 = ds->ct16;
  free (keep);
  free (order);
  return part;
}

void
nn_dataset_apply_ct_window (NnDataset        *ds,
                            const NnCtWindow *window)
{
  NN_ASSERT (ds != NULL && window != NULL && ds->ct16);
  size_t count = (size_t) ds->n * ds->c * ds->h * ds->w;
  for (size_t i = 0; i < count; i++)
    ds->images[i] = nn_ct_hu_from_png16 (ds->images[i]);
  nn_ct_window_apply (window, ds->images, ds->images, count);
  ds->ct16 = false;
}

void
nn_dataset_mean_std (const NnDataset *ds,
                     float           *mean,
                     float           *std)
{
  NN_ASSERT (ds != NULL && mean != NULL && std != NULL);
  size_t plane = (size_t) ds->h * ds->w;
  size_t count = (size_t) ds->n * plane;
  for (int k = 0; k < ds->c; k++)
    {
      /* Two passes in double: the mean first, then squared deviations from it. */
      double sum = 0.0;
      for (int i = 0; i < ds->n; i++)
        {
          const float *p = ds->images + ((size_t) i * ds->c + k) * plane;
          for (size_t j = 0; j < plane; j++)
            sum += (double) p[j];
        }
      double m = count > 0 ? sum / (double) count : 0.0;
      double sq = 0.0;
      for (int i = 0; i < ds->n; i++)
        {
          const float *p = ds->images + ((size_t) i * ds->c + k) * plane;
          for (size_t j = 0; j < plane; j++)
            {
              double d = (double) p[j] - m;
              sq += d * d;
            }
        }
      mean[k] = (float) m;
      std[k] = count > 0 ? (float) sqrt (sq / (double) count) : 0.0f;
    }
}
