/* SPDX-License-Identifier: MIT */
/* Volumes: DICOM series folders (order, spacing and affine from hand-built slices in shuffled
 * file order; several series listed and chosen, missing and uneven slices, gantry tilt, mixed
 * sizes), NIfTI-1/2 written by us and by nibabel (geometry both ways), reorienting, planes,
 * broken files, the grid check and the mask volume beside a scan. */
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "nn.h"
#include "test-dicom.h"
#include "test-util.h"

typedef TestUtilTmpDir Fixture;

static void
assert_error (const NnError *err,
              const char    *name,
              const char    *needle)
{
  g_assert_cmpint (err->code, !=, NN_ERROR_NONE);
  if (strstr (err->message, name) == NULL)
    g_error ("error '%s' does not name '%s'", err->message, name);
  if (strstr (err->message, needle) == NULL)
    g_error ("error '%s' lacks '%s'", err->message, needle);
}

/* ---- DICOM series --------------------------------------------------------------------------- */

/* Writes slice dir/name: 3 rows x 4 columns, values 10 * slice + i stored, slope 2, intercept
 * -1000, pixel spacing 0.5 (rows) x 0.75 (columns), at position "x\y\z". */
static void
write_slice (const char *dir,
             const char *name,
             const char *uid,
             const char *position,
             int         value,
             int         rows)
{
  guint16 words[16];
  for (int i = 0; i < 16; i++)
    words[i] = (guint16) (10 * value + i);
  TestDicomSpec s = test_dicom_spec_default ();
  s.rows = rows;
  s.values = words;
  s.slope = "2";
  s.intercept = "-1000";
  s.position = position;
  s.spacing = "0.5\\0.75";
  s.series_uid = uid;
  GByteArray *b = test_dicom_make (&s);
  char *path = g_build_filename (dir, name, NULL);
  test_util_write_file (path, b->data, b->len);
  g_free (path);
  g_byte_array_free (b, TRUE);
}

/* A folder of four slices at z = 10, 12.5, 15, 17.5 whose file names run against z. */
static char *
make_series (Fixture    *fx,
             const char *name)
{
  char *dir = test_util_tmp_dir_path (fx, name);
  g_assert_cmpint (g_mkdir (dir, 0755), ==, 0);
  const char *names[4] = { "d.dcm", "b.dcm", "a.dcm", "c.dcm" };
  const char *positions[4] = { "-20\\-30\\10", "-20\\-30\\12.5", "-20\\-30\\15",
                               "-20\\-30\\17.5" };
  for (int k = 0; k < 4; k++)
    write_slice (dir, names[k], "1.2.3", positions[k], k, 3);
  return dir;
}

static void
test_dicom_volume (Fixture       *fx,
                   gconstpointer  data)
{
  (void) data;
  char *dir = make_series (fx, "series");
  char *notes = g_build_filename (dir, "notes.txt", NULL);
  test_util_write_file (notes, "not dicom", 9);
  NnError err = { 0 };
  NnVolume *v = nn_volume_load (dir, &err);
  if (v == NULL)
    g_error ("%s", err.message);
  g_assert_cmpint (v->nx, ==, 4);
  g_assert_cmpint (v->ny, ==, 3);
  g_assert_cmpint (v->nz, ==, 4);
  g_assert_true (v->hu);
  g_assert_cmpstr (v->source, ==, "DICOM series");
  /* Slice k holds HU 2 * (10 k + i) - 1000, in z order whatever the names. */
  for (int k = 0; k < 4; k++)
    for (int i = 0; i < 12; i++)
      g_assert_cmpfloat (v->data[k * 12 + i], ==, 2.0f * (float) (10 * k + i) - 1000.0f);
  g_assert_cmpfloat (v->spacing[0], ==, 0.75);
  g_assert_cmpfloat (v->spacing[1], ==, 0.5);
  g_assert_cmpfloat (fabs (v->spacing[2] - 2.5), <, 1e-9);
  /* DICOM LPS to RAS: x and y change sign. */
  const double want[3][4] = {
    { -0.75, 0.0, 0.0, 20.0 },
    { 0.0, -0.5, 0.0, 30.0 },
    { 0.0, 0.0, 2.5, 10.0 },
  };
  for (int r = 0; r < 3; r++)
    for (int c = 0; c < 4; c++)
      g_assert_cmpfloat (fabs (v->affine[r][c] - want[r][c]), <, 1e-9);
  char codes[4];
  nn_volume_orientation (v, codes);
  g_assert_cmpstr (codes, ==, "LPS");
  nn_volume_free (v);
  g_free (notes);
  g_free (dir);
}

/* A sagittal series: rows run posterior, columns inferior, the stack toward the patient's
 * right; sorted along the normal whatever the file names, oriented "PIR". */
static void
test_dicom_sagittal (Fixture       *fx,
                     gconstpointer  data)
{
  (void) data;
  char *dir = test_util_tmp_dir_path (fx, "sagittal");
  g_assert_cmpint (g_mkdir (dir, 0755), ==, 0);
  const char *positions[3] = { "0\\-10\\40", "5\\-10\\40", "-5\\-10\\40" };
  const int value[3] = { 1, 0, 2 };
  for (int f = 0; f < 3; f++)
    {
      guint16 words[12];
      for (int i = 0; i < 12; i++)
        words[i] = (guint16) (10 * value[f] + i);
      TestDicomSpec s = test_dicom_spec_default ();
      s.values = words;
      s.position = positions[f];
      s.orientation = "0\\1\\0\\0\\0\\-1";
      s.spacing = "0.5\\0.75";
      GByteArray *b = test_dicom_make (&s);
      char name[16];
      g_snprintf (name, sizeof name, "%c.dcm", 'a' + f);
      char *file = g_build_filename (dir, name, NULL);
      test_util_write_file (file, b->data, b->len);
      g_free (file);
      g_byte_array_free (b, TRUE);
    }
  NnError err = { 0 };
  NnVolume *v = nn_volume_load (dir, &err);
  if (v == NULL)
    g_error ("%s", err.message);
  char codes[4];
  nn_volume_orientation (v, codes);
  g_assert_cmpstr (codes, ==, "PIR");
  /* Along the normal (-1, 0, 0) in LPS: x = 5, 0, -5. */
  for (int k = 0; k < 3; k++)
    g_assert_cmpfloat (v->data[k * 12], ==, (float) (10 * k));
  /* Voxel (i, j, k) lies at LPS (5 - 5 k, -10 + 0.75 i, 40 - 0.5 j), in RAS x and y negated. */
  double xyz[3];
  nn_volume_world (v, 3, 2, 2, xyz);
  g_assert_cmpfloat (fabs (xyz[0] - 5.0), <, 1e-9);
  g_assert_cmpfloat (fabs (xyz[1] - (10.0 - 2.25)), <, 1e-9);
  g_assert_cmpfloat (fabs (xyz[2] - 39.0), <, 1e-9);
  /* As axial slices: 3 wide (right to left), 4 deep (front to back), 3 high. */
  NnVolume *lps = nn_volume_reorient (v, "LPS", &err);
  g_assert_cmpint (lps->nx, ==, 3);
  g_assert_cmpint (lps->ny, ==, 4);
  g_assert_cmpint (lps->nz, ==, 3);
  g_assert_cmpfloat (lps->spacing[2], ==, 0.5);
  nn_volume_free (lps);
  nn_volume_free (v);
  g_free (dir);
}

static void
test_dicom_volume_bad (Fixture       *fx,
                       gconstpointer  data)
{
  (void) data;
  NnError err = { 0 };

  /* Two series: the error lists them; either can be chosen. */
  char *dir = make_series (fx, "two");
  write_slice (dir, "z.dcm", "1.2.4", "-20\\-30\\0", 9, 3);
  g_assert_null (nn_volume_load (dir, &err));
  assert_error (&err, dir, "holds 2 series");
  assert_error (&err, "1.2.3 (4 slices)", "1.2.4 (1 slice)");
  NnVolume *v = nn_volume_load_dicom (dir, "1.2.3", &err);
  g_assert_nonnull (v);
  g_assert_cmpint (v->nz, ==, 4);
  nn_volume_free (v);
  v = nn_volume_load_dicom (dir, "1.2.4", &err);
  g_assert_nonnull (v);
  g_assert_cmpint (v->nz, ==, 1);
  g_assert_cmpfloat (v->data[0], ==, 2.0f * 90.0f - 1000.0f);
  nn_volume_free (v);
  g_assert_null (nn_volume_load_dicom (dir, "9.9", &err));
  assert_error (&err, dir, "no series 9.9");
  /* Listed in order of first appearance in file name order (a, b, c, d, then y, z), with the
   * Series Description of a slice that has one (padding dropped). */
  TestDicomSpec described = test_dicom_spec_default ();
  described.position = "-20\\-30\\5";
  described.spacing = "0.5\\0.75";
  described.series_uid = "1.2.4";
  described.series_description = "Bone 1.0 mm ";
  GByteArray *bytes = test_dicom_make (&described);
  char *y = g_build_filename (dir, "y.dcm", NULL);
  test_util_write_file (y, bytes->data, bytes->len);
  g_free (y);
  g_byte_array_free (bytes, TRUE);
  int n = 0;
  NnVolumeSeries *series = nn_volume_dicom_series (dir, &n, &err);
  g_assert_nonnull (series);
  g_assert_cmpint (n, ==, 2);
  g_assert_cmpstr (series[0].uid, ==, "1.2.3");
  g_assert_cmpstr (series[0].description, ==, "");
  g_assert_cmpint (series[0].slices, ==, 4);
  g_assert_cmpstr (series[1].uid, ==, "1.2.4");
  g_assert_cmpstr (series[1].description, ==, "Bone 1.0 mm");
  g_assert_cmpint (series[1].slices, ==, 2);
  free (series);
  g_free (dir);
  /* A folder without DICOM files lists nothing, with an error naming it. */
  dir = test_util_tmp_dir_path (fx, "no-dicom");
  g_assert_cmpint (g_mkdir (dir, 0755), ==, 0);
  g_assert_null (nn_volume_dicom_series (dir, &n, &err));
  assert_error (&err, dir, "no DICOM files");
  g_assert_cmpint (n, ==, 0);
  g_free (dir);

  /* A missing slice. */
  dir = make_series (fx, "missing");
  char *gone = g_build_filename (dir, "a.dcm", NULL);
  g_assert_cmpint (g_unlink (gone), ==, 0);
  g_free (gone);
  g_assert_null (nn_volume_load (dir, &err));
  assert_error (&err, dir, "missing slice");
  g_free (dir);

  /* Uneven spacing. */
  dir = make_series (fx, "uneven");
  write_slice (dir, "a.dcm", "1.2.3", "-20\\-30\\14", 2, 3);
  g_assert_null (nn_volume_load (dir, &err));
  assert_error (&err, dir, "uneven slice spacing");
  g_free (dir);

  /* Two slices at one place. */
  dir = make_series (fx, "twice");
  write_slice (dir, "e.dcm", "1.2.3", "-20\\-30\\15", 2, 3);
  g_assert_null (nn_volume_load (dir, &err));
  assert_error (&err, dir, "two slices at one position");
  g_free (dir);

  /* Gantry tilt: each slice moves 1 mm in y per 2.5 mm in z while the orientation stays
   * axial. */
  dir = test_util_tmp_dir_path (fx, "tilt");
  g_assert_cmpint (g_mkdir (dir, 0755), ==, 0);
  for (int k = 0; k < 3; k++)
    {
      char name[16], position[64];
      snprintf (name, sizeof name, "%d.dcm", k);
      snprintf (position, sizeof position, "0\\%d\\%g", k, 2.5 * k);
      write_slice (dir, name, "1.2.3", position, k, 3);
    }
  g_assert_null (nn_volume_load (dir, &err));
  assert_error (&err, dir, "gantry tilt");
  g_free (dir);

  /* Mixed sizes. */
  dir = make_series (fx, "mixed");
  write_slice (dir, "e.dcm", "1.2.3", "-20\\-30\\20", 4, 2);
  g_assert_null (nn_volume_load (dir, &err));
  assert_error (&err, dir, "mixed slice sizes");
  g_free (dir);

  /* No DICOM at all. */
  dir = test_util_tmp_dir_path (fx, "empty");
  g_assert_cmpint (g_mkdir (dir, 0755), ==, 0);
  g_assert_null (nn_volume_load (dir, &err));
  assert_error (&err, dir, "no DICOM files");
  g_free (dir);
}

/* ---- NIfTI ---------------------------------------------------------------------------------- */

/* A 5 x 4 x 3 volume of distinct values with a rotated, shifted, anisotropic geometry. */
static NnVolume *
make_volume (void)
{
  NnVolume *v = nn_volume_new (5, 4, 3);
  for (int i = 0; i < 60; i++)
    v->data[i] = -1000.0f + 37.25f * (float) i;
  double c = cos (0.3), s = sin (0.3);
  const double sp[3] = { 0.8, 0.9, 2.5 };
  /* Rotation about z by 0.3 rad, i flipped (x toward the left). */
  const double rot[3][3] = { { -c, -s, 0.0 }, { -s, c, 0.0 }, { 0.0, 0.0, 1.0 } };
  for (int r = 0; r < 3; r++)
    {
      for (int a = 0; a < 3; a++)
        v->affine[r][a] = rot[r][a] * sp[a];
      v->affine[r][3] = 10.0 * (r + 1) - 7.5;
    }
  memcpy (v->spacing, sp, sizeof sp);
  v->sform_code = 2;
  v->qform_code = 1;
  return v;
}

static void
assert_same_volume (const NnVolume *a,
                    const NnVolume *b,
                    double          affine_tol)
{
  g_assert_cmpint (a->nx, ==, b->nx);
  g_assert_cmpint (a->ny, ==, b->ny);
  g_assert_cmpint (a->nz, ==, b->nz);
  for (size_t i = 0; i < (size_t) a->nx * a->ny * a->nz; i++)
    g_assert_cmpfloat (a->data[i], ==, b->data[i]);
  for (int r = 0; r < 4; r++)
    for (int c = 0; c < 4; c++)
      if (fabs (a->affine[r][c] - b->affine[r][c]) > affine_tol)
        g_error ("affine[%d][%d]: %.9g against %.9g", r, c, a->affine[r][c], b->affine[r][c]);
  for (int k = 0; k < 3; k++)
    g_assert_cmpfloat (fabs (a->spacing[k] - b->spacing[k]), <, 1e-5);
}

static void
test_nifti_round_trip (Fixture       *fx,
                       gconstpointer  data)
{
  (void) data;
  NnVolume *v = make_volume ();
  const char *names[2] = { "v.nii", "v.nii.gz" };
  for (int n = 0; n < 2; n++)
    {
      char *path = test_util_tmp_dir_path (fx, names[n]);
      NnError err = { 0 };
      g_assert_true (nn_volume_save_nifti (v, "round trip", path, &err));
      NnVolume *back = nn_volume_load (path, &err);
      if (back == NULL)
        g_error ("%s", err.message);
      /* The sform is stored as float32. */
      assert_same_volume (back, v, 1e-5);
      g_assert_cmpint (back->sform_code, ==, 2);
      g_assert_cmpint (back->qform_code, ==, 1);
      g_assert_cmpstr (back->source, ==, "NIfTI-1");
      g_assert_true (back->hu);
      nn_volume_free (back);
      g_free (path);
    }
  /* Without the sform, the qform gives the same geometry (a rotation and voxel sizes). */
  v->sform_code = 0;
  char *path = test_util_tmp_dir_path (fx, "q.nii");
  NnError err = { 0 };
  g_assert_true (nn_volume_save_nifti (v, NULL, path, &err));
  NnVolume *back = nn_volume_load (path, &err);
  g_assert_nonnull (back);
  assert_same_volume (back, v, 1e-5);
  nn_volume_free (back);
  g_free (path);
  nn_volume_free (v);
}

/* Runs a Python script under /usr/bin/python3 with nibabel; false when nibabel is missing
 * (the script itself must succeed otherwise). */
static gboolean
run_nibabel (const char *script)
{
  char *check[] = { (char *) "/usr/bin/python3", (char *) "-c", (char *) "import nibabel",
                    NULL };
  int status = -1;
  if (!g_spawn_sync (NULL, check, NULL, G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                     NULL, NULL, NULL, NULL, &status, NULL)
      || !g_spawn_check_wait_status (status, NULL))
    return FALSE;
  char *argv[] = { (char *) "/usr/bin/python3", (char *) "-c", (char *) script, NULL };
  char *out = NULL, *errs = NULL;
  GError *error = NULL;
  g_assert_true (g_spawn_sync (NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &errs,
                               &status, &error));
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("nibabel script failed: %s%s", out, errs);
  g_free (out);
  g_free (errs);
  return TRUE;
}

static void
test_nifti_nibabel (Fixture       *fx,
                    gconstpointer  data)
{
  (void) data;
  /* nibabel reads ours: the same affine (sform and qform), codes and values. */
  NnVolume *v = make_volume ();
  char *ours = test_util_tmp_dir_path (fx, "ours.nii.gz");
  NnError err = { 0 };
  g_assert_true (nn_volume_save_nifti (v, NULL, ours, &err));
  GString *want = g_string_new ("[");
  for (int r = 0; r < 4; r++)
    g_string_append_printf (want, "%s[%.17g, %.17g, %.17g, %.17g]", r > 0 ? ", " : "",
                            v->affine[r][0], v->affine[r][1], v->affine[r][2], v->affine[r][3]);
  g_string_append (want, "]");
  char *script = g_strdup_printf (
    "import nibabel, numpy\n"
    "img = nibabel.load(r'''%s''')\n"
    "want = numpy.array(%s)\n"
    "s, sc = img.header.get_sform(coded=True)\n"
    "q, qc = img.header.get_qform(coded=True)\n"
    "assert int(sc) == 2 and int(qc) == 1, (sc, qc)\n"
    "assert numpy.allclose(s, want, atol=1e-5), s\n"
    "assert numpy.allclose(q, want, atol=1e-4), q\n"
    "d = numpy.asarray(img.dataobj)\n"
    "assert d.shape == (5, 4, 3) and d.dtype == numpy.float32, (d.shape, d.dtype)\n"
    "assert d[2, 1, 0] == -1000 + 37.25 * (2 + 5 * 1), d[2, 1, 0]\n"
    "assert d[4, 3, 2] == -1000 + 37.25 * 59\n",
    ours, want->str);
  if (!run_nibabel (script))
    {
      g_test_skip ("nibabel (python3-nibabel) not available under /usr/bin/python3");
      g_free (script);
      g_string_free (want, TRUE);
      g_free (ours);
      nn_volume_free (v);
      return;
    }
  g_free (script);

  /* We read nibabel's: NIfTI-1 int16 scaled, compressed, with only a qform; and NIfTI-2 big
   * endian float64 with an sform. */
  char *n1 = test_util_tmp_dir_path (fx, "nib1.nii.gz");
  char *n2 = test_util_tmp_dir_path (fx, "nib2.nii");
  script = g_strdup_printf (
    "import nibabel, numpy\n"
    "want = numpy.array(%s)\n"
    "d = numpy.arange(60, dtype=numpy.int16).reshape((3, 4, 5)).transpose(2, 1, 0)\n"
    "img = nibabel.Nifti1Image(d, None)\n"
    "img.header.set_qform(want, code=1)\n"
    "img.header.set_sform(None, code=0)\n"
    "img.header.set_slope_inter(2.0, -1024.0)\n"
    "nibabel.save(img, r'''%s''')\n"
    "h = nibabel.Nifti2Header(endianness='>')\n"
    "img2 = nibabel.Nifti2Image(d.astype('>f8') * 0.5, want, header=h)\n"
    "img2.header.set_sform(want, code=3)\n"
    "nibabel.save(img2, r'''%s''')\n",
    want->str, n1, n2);
  g_assert_true (run_nibabel (script));
  g_free (script);
  for (int f = 0; f < 2; f++)
    {
      NnVolume *back = nn_volume_load (f == 0 ? n1 : n2, &err);
      if (back == NULL)
        g_error ("%s", err.message);
      g_assert_cmpstr (back->source, ==, f == 0 ? "NIfTI-1" : "NIfTI-2");
      g_assert_cmpint (back->nx, ==, 5);
      g_assert_cmpint (back->ny, ==, 4);
      g_assert_cmpint (back->nz, ==, 3);
      for (int i = 0; i < 60; i++)
        g_assert_cmpfloat (back->data[i], ==, f == 0 ? 2.0f * (float) i - 1024.0f
                                                     : 0.5f * (float) i);
      for (int r = 0; r < 3; r++)
        for (int c = 0; c < 4; c++)
          g_assert_cmpfloat (fabs (back->affine[r][c] - v->affine[r][c]), <, 1e-4);
      g_assert_cmpint (back->sform_code, ==, f == 0 ? 0 : 3);
      nn_volume_free (back);
    }
  g_free (n1);
  g_free (n2);
  g_string_free (want, TRUE);
  g_free (ours);
  nn_volume_free (v);
}

static void
test_nifti_bad (Fixture       *fx,
                gconstpointer  data)
{
  (void) data;
  NnVolume *v = make_volume ();
  char *good = test_util_tmp_dir_path (fx, "good.nii");
  char *good_gz = test_util_tmp_dir_path (fx, "good.nii.gz");
  NnError err = { 0 };
  g_assert_true (nn_volume_save_nifti (v, NULL, good, &err));
  g_assert_true (nn_volume_save_nifti (v, NULL, good_gz, &err));
  nn_volume_free (v);
  char *bytes = NULL, *gz = NULL;
  gsize len = 0, gz_len = 0;
  g_assert_true (g_file_get_contents (good, &bytes, &len, NULL));
  g_assert_true (g_file_get_contents (good_gz, &gz, &gz_len, NULL));
  char *path = test_util_tmp_dir_path (fx, "bad.nii");
  char *path_gz = test_util_tmp_dir_path (fx, "bad.nii.gz");

  /* Truncated, plain and compressed (the header intact, the data cut). */
  test_util_write_file (path, bytes, len - 10);
  g_assert_null (nn_volume_load (path, &err));
  assert_error (&err, path, "truncated");
  test_util_write_file (path_gz, gz, gz_len / 2);
  g_assert_null (nn_volume_load (path_gz, &err));
  assert_error (&err, path_gz, "");
  g_assert_nonnull (strstr (err.message, "truncated") != NULL ? err.message
                    : strstr (err.message, "broken gzip"));
  test_util_write_file (path_gz, gz, 20);
  g_assert_null (nn_volume_load (path_gz, &err));
  assert_error (&err, path_gz, "truncated");
  /* Cut inside the header. */
  test_util_write_file (path, bytes, 200);
  g_assert_null (nn_volume_load (path, &err));
  assert_error (&err, path, "truncated: the file holds 200 bytes, 348 needed");

  /* Header edits: dim[0] at byte 40, dim[1..] after it, dim[4] at 48, datatype at 70,
   * bitpix at 72, vox_offset at 108. */
  struct { int offset; gint16 value; const char *needle; } edits[] = {
    { 40, 0, "number of dimensions" },
    { 40, 9, "number of dimensions" },
    { 44, 0, "dimension 2 is 0" },
    { 44, -3, "dimension 2 is -3" },
    { 40, 4, "" },
    { 70, 128, "voxel type 128" },
    { 72, 16, "bitpix" },
  };
  for (size_t e = 0; e < G_N_ELEMENTS (edits); e++)
    {
      char *copy = g_memdup2 (bytes, len);
      memcpy (copy + edits[e].offset, &edits[e].value, 2);
      if (edits[e].offset == 40 && edits[e].value == 4)
        {
          /* 4-D with two volumes: refused, not read as 3-D. */
          gint16 two = 2;
          memcpy (copy + 48, &two, 2);
          edits[e].needle = "only 3-D";
        }
      test_util_write_file (path, copy, len);
      g_assert_null (nn_volume_load (path, &err));
      assert_error (&err, path, edits[e].needle);
      g_free (copy);
    }
  /* Absurd sizes are refused before anything is allocated. */
  char *copy = g_memdup2 (bytes, len);
  gint16 big = 16000;
  for (int a = 0; a < 3; a++)
    memcpy (copy + 42 + 2 * a, &big, 2);
  test_util_write_file (path, copy, len);
  g_assert_null (nn_volume_load (path, &err));
  assert_error (&err, path, "exceeds the limit");
  /* A bad offset. */
  memcpy (copy, bytes, len);
  float offset = 100.0f;
  memcpy (copy + 108, &offset, 4);
  test_util_write_file (path, copy, len);
  g_assert_null (nn_volume_load (path, &err));
  assert_error (&err, path, "vox_offset");
  /* Not NIfTI; an Analyze/NIfTI pair header. */
  test_util_write_file (path, "hello, world, this is not a volume", 34);
  g_assert_null (nn_volume_load (path, &err));
  assert_error (&err, path, "not a NIfTI file");
  memcpy (copy, bytes, len);
  memcpy (copy + 344, "ni1", 4);
  test_util_write_file (path, copy, len);
  g_assert_null (nn_volume_load (path, &err));
  assert_error (&err, path, ".hdr/.img");
  g_free (copy);
  g_free (path);
  g_free (path_gz);
  g_free (bytes);
  g_free (gz);
  g_free (good);
  g_free (good_gz);
}

/* ---- Orientation and planes ----------------------------------------------------------------- */

static void
test_reorient (void)
{
  NnVolume *v = make_volume ();
  char codes[4];
  nn_volume_orientation (v, codes);
  g_assert_cmpstr (codes, ==, "LAS");
  NnError err = { 0 };
  const char *targets[] = { "LPS", "RAS", "SLA", "PIR" };
  for (size_t t = 0; t < G_N_ELEMENTS (targets); t++)
    {
      NnVolume *r = nn_volume_reorient (v, targets[t], &err);
      g_assert_nonnull (r);
      char got[4];
      nn_volume_orientation (r, got);
      g_assert_cmpstr (got, ==, targets[t]);
      /* Every voxel keeps its value and world position: find each of r's voxels in v. */
      for (int k = 0; k < r->nz; k++)
        for (int j = 0; j < r->ny; j++)
          for (int i = 0; i < r->nx; i++)
            {
              float value = r->data[((size_t) k * r->ny + j) * r->nx + i];
              int at = (int) lround ((value + 1000.0f) / 37.25f);
              int vi = at % 5, vj = at / 5 % 4, vk = at / 20;
              double a[3], b[3];
              nn_volume_world (r, i, j, k, a);
              nn_volume_world (v, vi, vj, vk, b);
              for (int w = 0; w < 3; w++)
                g_assert_cmpfloat (fabs (a[w] - b[w]), <, 1e-9);
            }
      /* And back again: the very same volume; back like v: v's geometry bit for bit. */
      NnVolume *back = nn_volume_reorient (r, "LAS", &err);
      assert_same_volume (back, v, 1e-9);
      nn_volume_free (back);
      back = nn_volume_reorient_like (r, v, &err);
      assert_same_volume (back, v, 0.0);
      g_assert_cmpint (back->sform_code, ==, v->sform_code);
      nn_volume_free (back);
      nn_volume_free (r);
    }
  g_assert_null (nn_volume_reorient (v, "LPR", &err));
  g_assert_nonnull (strstr (err.message, "orientation 'LPR'"));
  g_assert_null (nn_volume_reorient (v, "LP", &err));
  nn_volume_free (v);
}

static void
test_planes (void)
{
  /* 3 x 2 x 4, value 100 k + 10 j + i, LPS as a DICOM axial series. */
  NnVolume *v = nn_volume_new (3, 2, 4);
  for (int k = 0; k < 4; k++)
    for (int j = 0; j < 2; j++)
      for (int i = 0; i < 3; i++)
        v->data[(k * 2 + j) * 3 + i] = (float) (100 * k + 10 * j + i);
  v->affine[0][0] = -0.5;
  v->affine[1][1] = -0.5;
  v->affine[2][2] = 3.0;
  v->spacing[0] = v->spacing[1] = 0.5;
  v->spacing[2] = 3.0;
  int w, h;
  double wmm, hmm;
  float out[12];
  nn_volume_plane_size (v, NN_VOLUME_AXIAL, &w, &h, &wmm, &hmm);
  g_assert_cmpint (w, ==, 3);
  g_assert_cmpint (h, ==, 2);
  g_assert_cmpfloat (wmm, ==, 1.5);
  nn_volume_plane_get (v, NN_VOLUME_AXIAL, 2, out);
  g_assert_cmpfloat (out[4], ==, 211.0f);
  nn_volume_plane_size (v, NN_VOLUME_CORONAL, &w, &h, &wmm, &hmm);
  g_assert_cmpint (w, ==, 3);
  g_assert_cmpint (h, ==, 4);
  g_assert_cmpfloat (hmm, ==, 12.0);
  nn_volume_plane_get (v, NN_VOLUME_CORONAL, 1, out);
  /* Superior (k = 3) on the top row. */
  g_assert_cmpfloat (out[0], ==, 310.0f);
  g_assert_cmpfloat (out[3 * 3 + 2], ==, 12.0f);
  nn_volume_plane_size (v, NN_VOLUME_SAGITTAL, &w, &h, NULL, NULL);
  g_assert_cmpint (w, ==, 2);
  g_assert_cmpint (h, ==, 4);
  nn_volume_plane_get (v, NN_VOLUME_SAGITTAL, 2, out);
  g_assert_cmpfloat (out[0], ==, 302.0f);
  g_assert_cmpfloat (out[1], ==, 312.0f);
  g_assert_cmpfloat (out[7], ==, 12.0f);
  nn_volume_free (v);
}

/* ---- Grids and masks ------------------------------------------------------------------------ */

static void
test_same_grid (void)
{
  NnVolume *a = nn_volume_new (4, 3, 2);
  NnVolume *b = nn_volume_new_like (a);
  g_assert_true (nn_volume_same_grid (a, b, 0.01));
  b->affine[0][3] += 0.005;
  g_assert_true (nn_volume_same_grid (a, b, 0.01));
  b->affine[0][3] += 0.01;
  g_assert_false (nn_volume_same_grid (a, b, 0.01));
  g_assert_true (nn_volume_same_grid (a, b, 0.1));
  NnVolume *c = nn_volume_new (4, 3, 3);
  g_assert_false (nn_volume_same_grid (a, c, 1e9));
  nn_volume_free (a);
  nn_volume_free (b);
  nn_volume_free (c);
}

/* The mask volume beside a scan: NAME.mask.nii.gz first, then NAME.mask.nii; none for a name
 * without one, a mask itself, another extension or a folder. */
static void
test_mask_volume_find (Fixture       *fx,
                       gconstpointer  data)
{
  (void) data;
  const char *files[] = { "a.nii.gz", "a.mask.nii.gz", "a.mask.nii", "b.NII", "b.mask.nii",
                          "c.nii.gz", "d.png", "d.mask.nii.gz" };
  for (size_t f = 0; f < G_N_ELEMENTS (files); f++)
    {
      g_autofree char *path = test_util_tmp_dir_path (fx, files[f]);
      test_util_write_file (path, "x", 1);
    }
  g_autofree char *mask_dir = test_util_tmp_dir_path (fx, "e.mask.nii.gz");
  g_assert_cmpint (g_mkdir (mask_dir, 0755), ==, 0);
  const struct { const char *scan, *mask; } cases[] = {
    { "a.nii.gz", "a.mask.nii.gz" }, { "a.nii", "a.mask.nii.gz" }, { "b.NII", "b.mask.nii" },
    { "c.nii.gz", NULL }, { "a.mask.nii.gz", NULL }, { "d.png", NULL }, { "e.nii.gz", NULL },
  };
  for (size_t i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *scan = test_util_tmp_dir_path (fx, cases[i].scan);
      char *found = nn_mask_volume_find (scan);
      g_autofree char *want = cases[i].mask != NULL ? test_util_tmp_dir_path (fx, cases[i].mask)
                                                    : NULL;
      g_assert_cmpstr (found, ==, want);
      free (found);
    }
}

/* ---- A model over a volume ------------------------------------------------------------------ */

/* nn_volume_classify_features's rows as the callback of each slice sees them. */
typedef struct
{
  const float *features;
  size_t       dim;
  int          begin;
  float       *seen;
} FeatureLog;

static void
copy_features (int                  k,
               const float         *probs,
               const NnExplanation *explanation,
               void                *user_data)
{
  (void) probs;
  (void) explanation;
  FeatureLog *f = user_data;
  size_t row = (size_t) (k - f->begin) * f->dim;
  memcpy (f->seen + row, f->features + row, f->dim * sizeof (float));
}

typedef struct
{
  int         calls;
  int         last;
  int         stop_after;  /* set cancel after this many calls (0: never) */
  atomic_int *cancel;
  int         classes[8];
} SliceLog;

static void
log_slice (int                  k,
           const float         *probs,
           const NnExplanation *e,
           void                *user_data)
{
  SliceLog *log = user_data;
  g_assert_cmpint (k, >, log->last);
  log->last = k;
  g_assert_true ((probs == NULL) != (e == NULL));
  log->classes[k] = probs != NULL ? (probs[1] > probs[0]) : e->map->target;
  if (++log->calls == log->stop_after)
    atomic_store (log->cancel, 1);
}

/* Dash images as slices of an LPS volume: the model's class of each is known. */
static NnVolume *
dashes_volume (int n,
               int labels[])
{
  NnVolume *v = nn_volume_new (NN_DASHES_SIZE, NN_DASHES_SIZE, n);
  v->affine[0][0] = v->affine[1][1] = -1.0;
  NnRng rng;
  nn_rng_init (&rng, 9);
  uint8_t orient[NN_DASHES_SIZE * NN_DASHES_SIZE];
  for (int k = 0; k < n; k++)
    {
      NnDashesInfo info;
      do
        nn_synth_dashes_draw (v->data + (size_t) k * NN_DASHES_SIZE * NN_DASHES_SIZE, orient,
                              NN_DASHES_SIZE, &rng, &info);
      while (abs (info.n_horizontal - info.n_vertical) < 2);
      labels[k] = info.label;
    }
  return v;
}

static void
test_volume_classify_explain (void)
{
  int labels[6];
  NnVolume *v = dashes_volume (6, labels);
  NnModel *model = nn_synth_dashes_model_new (NN_DASHES_SIZE);
  atomic_int cancel;
  atomic_init (&cancel, 0);
  NnError err = { 0 };

  /* Slices 1 to 4 in batches of 3: every class right, each slice reported once, in order. */
  float probs[6 * 2], logits[6 * 2];
  SliceLog log = { .last = -1, .cancel = &cancel };
  g_assert_true (nn_volume_classify (model, v, "dashes", NULL, 1, 5, 3, probs, logits, log_slice,
                                     &log, &cancel, &err));
  g_assert_cmpint (log.calls, ==, 4);
  for (int k = 1; k < 5; k++)
    {
      g_assert_cmpint (log.classes[k], ==, labels[k]);
      g_assert_cmpfloat (fabsf (probs[(k - 1) * 2] + probs[(k - 1) * 2 + 1] - 1.0f), <, 1e-5f);
      g_assert_cmpint (logits[(k - 1) * 2 + 1] > logits[(k - 1) * 2], ==, labels[k]);
    }
  /* The features at the out-of-distribution node: filled before each slice's callback, the
   * node's output for that slice alone, the probabilities those of nn_volume_classify. */
  int node = nn_ood_feature_node (model->graph, &err);
  g_assert_cmpint (node, >=, 0);
  size_t dim = nn_shape_size (model->graph->nodes[node].shape);
  float *features = g_new0 (float, 4 * dim), *seen = g_new0 (float, 4 * dim);
  float *single = g_new0 (float, dim), probs2[6 * 2];
  FeatureLog flog = { .features = features, .dim = dim, .begin = 1, .seen = seen };
  g_assert_true (nn_volume_classify_features (model, v, "dashes", NULL, 1, 5, 3, probs2, NULL,
                                              node, features, copy_features, &flog, NULL,
                                              &err));
  g_assert_cmpmem (seen, 4 * dim * sizeof (float), features, 4 * dim * sizeof (float));
  g_assert_cmpmem (probs2, 8 * sizeof (float), probs, 8 * sizeof (float));
  double energy = 0.0;
  NnContext *ctx = nn_context_new (model->graph, 1, 0, &err);
  g_assert_nonnull (ctx);
  nn_context_keep (ctx, node);
  for (int k = 1; k < 5; k++)
    {
      NnInput *input = nn_volume_slice_input (v, k, "dashes", model, NULL, &err);
      g_assert_nonnull (input);
      memcpy (nn_context_input (ctx), input->tensor,
              nn_shape_size (model->graph->nodes[0].shape) * sizeof (float));
      nn_input_unref (input);
      nn_context_forward (ctx, -1);
      memcpy (single, nn_context_output (ctx, node), dim * sizeof (float));
      test_util_assert_close (single, features + (size_t) (k - 1) * dim, dim, 1e-5,
                              "features of slice %d", k);
      for (size_t d = 0; d < dim; d++)
        energy += fabsf (single[d]);
    }
  g_assert_cmpfloat (energy, >, 0.0);
  nn_context_free (ctx);
  g_free (features);
  g_free (seen);
  g_free (single);

  /* Cancelled after the first batch of 2. */
  log = (SliceLog) { .last = -1, .stop_after = 2, .cancel = &cancel };
  g_assert_false (nn_volume_classify (model, v, "dashes", NULL, 0, 6, 2, probs, NULL, log_slice,
                                      &log, &cancel, &err));
  g_assert_cmpint (err.code, ==, NN_ERROR_CANCELLED);
  g_assert_cmpint (log.calls, ==, 2);

  /* Grad-CAM of slices 2 to 4 laid over their slices; the others stay zero. */
  atomic_store (&cancel, 0);
  NnExplainSpec spec;
  nn_explain_spec_init (&spec);
  spec.faith.metrics = 0;
  NnVolume *attr = nn_volume_new_like (v);
  log = (SliceLog) { .last = -1, .cancel = &cancel };
  g_assert_true (nn_volume_explain (model, v, NULL, "dashes", NULL, &spec, 2, 5, attr, log_slice,
                                    &log, &cancel, &err));
  g_assert_cmpint (log.calls, ==, 3);
  size_t plane = (size_t) NN_DASHES_SIZE * NN_DASHES_SIZE;
  for (int k = 0; k < 6; k++)
    {
      double sum = 0.0;
      for (size_t p = 0; p < plane; p++)
        sum += attr->data[(size_t) k * plane + p];
      if (k >= 2 && k < 5)
        {
          g_assert_cmpfloat (sum, >, 0.0);
          g_assert_cmpint (log.classes[k], ==, labels[k]);
        }
      else
        g_assert_cmpfloat (sum, ==, 0.0);
    }
  /* Cancelled after one slice: that slice is kept, the next is not computed. */
  memset (attr->data, 0, sizeof (float) * plane * 6);
  log = (SliceLog) { .last = -1, .stop_after = 1, .cancel = &cancel };
  g_assert_false (nn_volume_explain (model, v, NULL, "dashes", NULL, &spec, 0, 6, attr,
                                     log_slice, &log, &cancel, &err));
  g_assert_cmpint (err.code, ==, NN_ERROR_CANCELLED);
  g_assert_cmpint (log.calls, ==, 1);
  g_assert_cmpfloat (attr->data[plane + plane / 2], ==, 0.0f);
  nn_volume_free (attr);
  nn_model_free (model);
  nn_volume_free (v);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/nn/volume/dicom", Fixture, NULL, test_util_tmp_dir_setup, test_dicom_volume,
              test_util_tmp_dir_teardown);
  g_test_add ("/nn/volume/dicom-sagittal", Fixture, NULL, test_util_tmp_dir_setup,
              test_dicom_sagittal, test_util_tmp_dir_teardown);
  g_test_add ("/nn/volume/dicom-bad", Fixture, NULL, test_util_tmp_dir_setup,
              test_dicom_volume_bad, test_util_tmp_dir_teardown);
  g_test_add ("/nn/volume/nifti-round-trip", Fixture, NULL, test_util_tmp_dir_setup,
              test_nifti_round_trip, test_util_tmp_dir_teardown);
  g_test_add ("/nn/volume/nifti-nibabel", Fixture, NULL, test_util_tmp_dir_setup,
              test_nifti_nibabel, test_util_tmp_dir_teardown);
  g_test_add ("/nn/volume/nifti-bad", Fixture, NULL, test_util_tmp_dir_setup, test_nifti_bad,
              test_util_tmp_dir_teardown);
  g_test_add_func ("/nn/volume/reorient", test_reorient);
  g_test_add_func ("/nn/volume/planes", test_planes);
  g_test_add_func ("/nn/volume/classify-explain", test_volume_classify_explain);
  g_test_add_func ("/nn/volume/same-grid", test_same_grid);
  g_test_add ("/nn/volume/mask-find", Fixture, NULL, test_util_tmp_dir_setup,
              test_mask_volume_find, test_util_tmp_dir_teardown);
  return g_test_run ();
}
