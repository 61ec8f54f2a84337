/* SPDX-License-Identifier: MIT */
/* ScopeApplication: windows for the command line's files or the shipped demo, the settings
 * (found even when the schema is only compiled in the build folder), About and Quit. */
#define G_SETTINGS_ENABLE_BACKEND
#include "scope-application.h"

#include <gio/gsettingsbackend.h>

#include "nn.h"
#include "scope-config.h"
#include "scope-preferences.h"
#include "scope-window-actions.h"
#include "scope-window.h"

#include <glib/gi18n.h>
#include <stdlib.h>
#include <unistd.h>

#define DEMO_MODEL  "demo-pfnet-fashion.safetensors"
#define DEMO_IMAGE  "samples" G_DIR_SEPARATOR_S "fashion-ankle-boot.png"
/* With a volume and no model: the CT demo model on a CT slice. */
#define DEMO_CT_MODEL "demo-ct.safetensors"
#define DEMO_CT_IMAGE "samples" G_DIR_SEPARATOR_S "ct-covid.png"

struct _ScopeApplication
{
  AdwApplication parent_instance;

  GSettings     *settings;
  char          *settings_file;  /* the key file holding them without a session bus, or NULL */
  gboolean       told_settings;  /* a window has said where they are kept */
};

G_DEFINE_FINAL_TYPE (ScopeApplication, scope_application, ADW_TYPE_APPLICATION)

/* Without a session bus, dconf (GSettings' default store on GNOME) cannot save anything and
 * says nothing; GSettings' memory store forgets everything too. Then the preferences go to a
 * key file under the user's configuration folder, through GSettings' own key-file store, so
 * the schema, its defaults and the bindings stay the same. A store chosen by GSETTINGS_BACKEND
 * is kept. Returns the store to use (NULL: the default) and sets *file to the key file. */
static GSettingsBackend *
settings_backend_new (char **file)
{
  *file = NULL;
  if (g_getenv ("GSETTINGS_BACKEND") != NULL)
    return NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GDBusConnection) bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, &error);
  if (bus != NULL)
    return NULL;
  *file = g_build_filename (g_get_user_config_dir (), "cnnscope", "settings.ini", NULL);
  g_autofree char *dir = g_path_get_dirname (*file);
  g_mkdir_with_parents (dir, 0700);
  g_message ("No session bus (%s): preferences are kept in %s", error->message, *file);
  /* The keys sit right under the schema's path: they need a group of their own. */
  return g_keyfile_settings_backend_new (*file, "/org/cnnscope/Cnnscope/", "cnnscope");
}

/* The installed schema, else the one compiled in the build folder, else none; kept in the
 * store settings_backend_new chooses (*file: its key file, or NULL). */
static GSettings *
settings_new (char **file)
{
  *file = NULL;
  GSettingsSchemaSource *installed = g_settings_schema_source_get_default ();
  g_autoptr (GSettingsSchema) schema = NULL;
  if (installed != NULL)
    schema = g_settings_schema_source_lookup (installed, SCOPE_APPLICATION_ID, TRUE);
  if (schema == NULL)
    {
      g_autoptr (GSettingsSchemaSource) built =
        g_settings_schema_source_new_from_directory (SCOPE_BUILD_SCHEMA_DIR, installed, TRUE,
                                                     NULL);
      if (built != NULL)
        schema = g_settings_schema_source_lookup (built, SCOPE_APPLICATION_ID, FALSE);
    }
  if (schema == NULL)
    return NULL;
  g_autoptr (GSettingsBackend) backend = settings_backend_new (file);
  return g_settings_new_full (schema, backend, NULL);
}

/* The shipped data folder: $CNNSCOPE_DATA_DIR, else the source tree's data/ for a program of the
 * build tree, else the installed one (nn_shipped_path: datadir relative to the program, then the
 * configured one; a missing folder shows as the demo model's read error). To g_free. */
static char *
data_dir (void)
{
  const char *env = g_getenv ("CNNSCOPE_DATA_DIR");
  if (env != NULL && env[0] != '\0')
    return g_strdup (env);
  char *found = nn_shipped_path (SCOPE_SOURCE_DATA_DIR, SCOPE_RELATIVE_DATA_DIR,
                                 SCOPE_INSTALLED_DATA_DIR, R_OK, NULL);
  char *dir = g_strdup (found != NULL ? found : SCOPE_INSTALLED_DATA_DIR);
  free (found);
  return dir;
}

char *
scope_application_get_help_uri (void)
{
  char *found = nn_shipped_path (SCOPE_SOURCE_HELP, SCOPE_RELATIVE_HELP, SCOPE_INSTALLED_HELP,
                                 R_OK, NULL);
  char *uri = g_filename_to_uri (found != NULL ? found : SCOPE_INSTALLED_HELP, NULL, NULL);
  free (found);
  return uri;
}

GSettings *
scope_application_get_settings (ScopeApplication *self)
{
  g_return_val_if_fail (SCOPE_IS_APPLICATION (self), NULL);

  return self->settings;
}

const char *
scope_application_get_settings_file (ScopeApplication *self)
{
  g_return_val_if_fail (SCOPE_IS_APPLICATION (self), NULL);

  return self->settings_file;
}

/* A window on model and image, and volume (may be NULL) in the Volume view; the demo model and
 * sample image (the CT ones with a volume) stand in for those not given. */
static void
open_window (ScopeApplication *self,
             GFile            *model,
             GFile            *image,
             GFile            *volume)
{
  g_autofree char *data = data_dir ();
  g_autoptr (GFile) demo_model = NULL, demo_image = NULL;
  if (model == NULL)
    model = demo_model = g_file_new_build_filename (data, volume != NULL ? DEMO_CT_MODEL
                                                    : DEMO_MODEL, NULL);
  if (image == NULL)
    image = demo_image = g_file_new_build_filename (data, volume != NULL ? DEMO_CT_IMAGE
                                                    : DEMO_IMAGE, NULL);

  ScopeWindow *window = scope_window_new (GTK_APPLICATION (self), self->settings);
  scope_window_actions_add (window);
  gtk_window_present (GTK_WINDOW (window));
  if (self->settings_file != NULL && !self->told_settings)
    {
      /* Once per run: the first window says where the preferences went. */
      g_autofree char *text = g_strdup_printf (_ ("No session bus: preferences are kept in %s"),
                                               self->settings_file);
      scope_window_show_message (window, text);
      self->told_settings = TRUE;
    }
  scope_window_open (window, model, image);
  if (volume != NULL)
    scope_window_open_volume (window, volume);
}

static gboolean
is_image_name (GFile *file)
{
  g_autofree char *name = g_file_get_basename (file);
  g_autofree char *lower = g_ascii_strdown (name != NULL ? name : "", -1);
  return g_str_has_suffix (lower, ".png") || g_str_has_suffix (lower, ".jpg")
         || g_str_has_suffix (lower, ".jpeg");
}

static void
scope_application_activate (GApplication *application)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (application));
  if (window != NULL)
    gtk_window_present (window);
  else
    open_window (SCOPE_APPLICATION (application), NULL, NULL, NULL);
}

/* cnnscope MODEL [IMAGE | VOLUME]; a lone image opens with the demo model, a lone volume
 * (scope_window_is_volume) with the CT demo model. */
static void
scope_application_open (GApplication  *application,
                        GFile        **files,
                        int            n_files,
                        const char    *hint)
{
  (void) hint;
  if (n_files > 2)
    g_printerr ("cnnscope: opening %d files is not supported; using the first two "
                "(MODEL IMAGE)\n", n_files);
  ScopeApplication *self = SCOPE_APPLICATION (application);
  if (n_files == 1 && scope_window_is_volume (files[0]))
    open_window (self, NULL, NULL, files[0]);
  else if (n_files == 1 && is_image_name (files[0]))
    open_window (self, NULL, files[0], NULL);
  else if (n_files > 1 && scope_window_is_volume (files[1]))
    open_window (self, files[0], NULL, files[1]);
  else
    open_window (self, files[0], n_files > 1 ? files[1] : NULL, NULL);
}

static void
about_action (GSimpleAction *action,
              GVariant      *parameter,
              gpointer       user_data)
{
  (void) action;
  (void) parameter;
  GtkApplication *application = user_data;
  const char *developers[] = { "The cnnscope authors", NULL };
  AdwAboutWindow *about = ADW_ABOUT_WINDOW (adw_about_window_new ());
  gtk_window_set_transient_for (GTK_WINDOW (about),
                                gtk_application_get_active_window (application));
  adw_about_window_set_application_name (about, "cnnscope");
  adw_about_window_set_application_icon (about, SCOPE_APPLICATION_ID);
  adw_about_window_set_version (about, SCOPE_VERSION);
  adw_about_window_set_developer_name (about, "The cnnscope authors");
  adw_about_window_set_developers (about, developers);
  adw_about_window_set_comments (about,
                                 _ ("Look inside convolutional neural networks: layers, "
                                    "activations and filters, computed by cnnscope's own "
                                    "engine."));
  adw_about_window_set_license_type (about, GTK_LICENSE_MIT_X11);
  gtk_window_present (GTK_WINDOW (about));
}

static void
help_action (GSimpleAction *action,
             GVariant      *parameter,
             gpointer       user_data)
{
  (void) action;
  (void) parameter;
  g_autofree char *uri = scope_application_get_help_uri ();
  gtk_show_uri (gtk_application_get_active_window (GTK_APPLICATION (user_data)), uri,
                GDK_CURRENT_TIME);
}

static void
preferences_action (GSimpleAction *action,
                    GVariant      *parameter,
                    gpointer       user_data)
{
  (void) action;
  (void) parameter;
  ScopeApplication *self = user_data;
  GtkWindow *parent = gtk_application_get_active_window (GTK_APPLICATION (self));
  if (self->settings == NULL)
    {
      if (parent != NULL && SCOPE_IS_WINDOW (parent))
        scope_window_show_error (SCOPE_WINDOW (parent),
                                 _ ("There are no preferences to change: the settings schema "
                                    "is not installed"));
      return;
    }
  gtk_window_present (scope_preferences_new (parent, self->settings));
}

static gpointer
ref_object (gconstpointer object,
            gpointer      data)
{
  (void) data;
  return g_object_ref ((gpointer) object);
}

static void
quit_action (GSimpleAction *action,
             GVariant      *parameter,
             gpointer       user_data)
{
  (void) action;
  (void) parameter;
  GtkApplication *application = user_data;
  /* Closing a window cancels and joins its engine thread and saves its size; a window that
   * asks first (training going on, weights not saved) stays until the user answers, and the
   * application ends with its last window. */
  GList *windows = g_list_copy_deep (gtk_application_get_windows (application),
                                     ref_object, NULL);
  for (GList *l = windows; l != NULL; l = l->next)
    gtk_window_close (l->data);
  g_list_free_full (windows, g_object_unref);
}

static const GActionEntry app_actions[] = {
  { .name = "about", .activate = about_action },
  { .name = "help", .activate = help_action },
  { .name = "preferences", .activate = preferences_action },
  { .name = "quit", .activate = quit_action },
};

static void
scope_application_startup (GApplication *application)
{
  ScopeApplication *self = SCOPE_APPLICATION (application);

  G_APPLICATION_CLASS (scope_application_parent_class)->startup (application);

  g_action_map_add_action_entries (G_ACTION_MAP (self), app_actions, G_N_ELEMENTS (app_actions),
                                   self);
  self->settings = settings_new (&self->settings_file);
  /* By default the engine leaves one core to the main thread, so frames keep their pace while
   * it trains. */
  int threads = self->settings != NULL ? g_settings_get_int (self->settings, "threads") : 0;
  if (threads <= 0)
    threads = MAX ((int) g_get_num_processors () - 1, 1);
  nn_blas_set_threads (threads);
  gtk_window_set_default_icon_name (SCOPE_APPLICATION_ID);
}

static void
scope_application_dispose (GObject *object)
{
  ScopeApplication *self = SCOPE_APPLICATION (object);

  g_clear_object (&self->settings);

  G_OBJECT_CLASS (scope_application_parent_class)->dispose (object);
}

static void
scope_application_finalize (GObject *object)
{
  ScopeApplication *self = SCOPE_APPLICATION (object);

  g_free (self->settings_file);

  G_OBJECT_CLASS (scope_application_parent_class)->finalize (object);
}

static void
scope_application_class_init (ScopeApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *application_class = G_APPLICATION_CLASS (klass);

  object_class->dispose = scope_application_dispose;
  object_class->finalize = scope_application_finalize;
  application_class->startup = scope_application_startup;
  application_class->activate = scope_application_activate;
  application_class->open = scope_application_open;
}

static void
scope_application_init (ScopeApplication *self)
{
  (void) self;
}

ScopeApplication *
scope_application_new (GApplicationFlags flags)
{
  return g_object_new (SCOPE_TYPE_APPLICATION,
                       "application-id", SCOPE_APPLICATION_ID,
                       "flags", flags,
                       NULL);
}
