#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# The staged application starts from its desktop file (gio launch, as a desktop shell does) on
# a private session bus under Xvfb: it takes its application id on the bus, has its window
# open, and quits through its own quit action.
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

# Runs inside xvfb-run and dbus-run-session: $1 the desktop file, $2 the application id, $3 its
# object path. gdbus wait returns when the id appears; a call on the application's own actions is
# answered from its main loop, which runs activate (the window) first; then the window's actions
# are there.
SESSION = '''
set -eu
gio launch "$1"
gdbus wait --session --timeout 300 "$2"
gdbus call --session --dest "$2" --object-path "$3" --method org.gtk.Actions.List >/dev/null
gdbus call --session --dest "$2" --object-path "$3/window/1" \
  --method org.gtk.Actions.List >/dev/null
echo "window open"
gdbus call --session --dest "$2" --object-path "$3" \
  --method org.gtk.Actions.Activate quit '[]' '{}' >/dev/null
echo "quit"
'''


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--build', required=True)
    parser.add_argument('--app-id', required=True)
    parser.add_argument('--xvfb-run', required=True)
    for option in ('prefix', 'bindir', 'datadir'):
        parser.add_argument('--' + option, required=True)
    args = parser.parse_args()

    scratch = tempfile.mkdtemp(prefix='cnnscope-launch-')
    try:
        r = subprocess.run(['meson', 'install', '-C', args.build, '--no-rebuild', '--quiet',
                            '--destdir', scratch], capture_output=True, text=True, timeout=600)
        if r.returncode != 0:
            print(r.stdout, r.stderr, file=sys.stderr)
            print('not ok 1 - meson install --destdir\n1..1')
            return 1
        root = scratch + args.prefix
        bindir = os.path.join(root, args.bindir)
        datadir = os.path.join(root, args.datadir)
        # What the package's trigger does on a real installation.
        subprocess.run(['glib-compile-schemas', os.path.join(datadir, 'glib-2.0', 'schemas')],
                       check=True)

        env = {k: v for k, v in os.environ.items() if not k.startswith('CNNSCOPE_')}
        env.pop('GSETTINGS_SCHEMA_DIR', None)
        env.update({
            'PATH': bindir + ':' + env.get('PATH', '/usr/bin:/bin'),
            'XDG_DATA_DIRS': datadir + ':/usr/local/share:/usr/share',
            'GSETTINGS_BACKEND': 'memory',
            'GTK_A11Y': 'none',
            'NO_AT_BRIDGE': '1',
        })
        desktop = os.path.join(datadir, 'applications', args.app_id + '.desktop')
        object_path = '/' + args.app_id.replace('.', '/')
        r = subprocess.run([args.xvfb_run, '-a', '-s', '-screen 0 1600x1000x24',
                            'dbus-run-session', '--', 'sh', '-c', SESSION, 'launch', desktop,
                            args.app_id, object_path],
                           env=env, cwd=scratch, capture_output=True, text=True, timeout=600)
        said = r.stdout.split()
        checks = [
            (r.returncode == 0 and 'open' in said, 'gio launch ' + os.path.basename(desktop)
             + ' opens the window of ' + args.app_id),
            (r.returncode == 0 and 'quit' in said, 'the app.quit action is answered'),
        ]
        if r.returncode != 0:
            print(r.stdout, r.stderr, file=sys.stderr)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    for i, (ok, what) in enumerate(checks, 1):
        print(('ok' if ok else 'not ok') + f' {i} - {what}')
    print(f'1..{len(checks)}')
    return 0 if all(ok for ok, _ in checks) else 1


if __name__ == '__main__':
    sys.exit(main())
