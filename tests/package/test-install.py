#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# `meson install --destdir` into a scratch folder outside the build tree, then the staged tree on
# its own: every installed file in place, and the installed cnnscope-cli reading the installed
# demo models, a DICOM slice through the installed helper, without the source or build tree.
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

results = []


def check(ok, what):
    results.append((bool(ok), what))
    return ok


def run(argv, env, cwd):
    return subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=600)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--build', required=True)
    parser.add_argument('--app-id', required=True)
    for option in ('prefix', 'bindir', 'libexecdir', 'datadir', 'mandir'):
        parser.add_argument('--' + option, required=True)
    args = parser.parse_args()

    scratch = tempfile.mkdtemp(prefix='cnnscope-install-')
    try:
        return staged(args, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def staged(args, scratch):
    r = subprocess.run(['meson', 'install', '-C', args.build, '--no-rebuild', '--quiet',
                        '--destdir', scratch], capture_output=True, text=True, timeout=600)
    if not check(r.returncode == 0, 'meson install --destdir'):
        print(r.stdout, r.stderr, file=sys.stderr)
        return report()

    root = scratch + args.prefix
    def under(option, *parts):
        folder = getattr(args, option)
        return os.path.join(root if not folder.startswith('/') else scratch, folder, *parts)

    app_id = args.app_id
    cli = under('bindir', 'cnnscope-cli')
    helper = under('libexecdir', 'cnnscope', 'cnnscope-dicom')
    data = under('datadir', 'cnnscope')
    expected = [
        (under('bindir', 'cnnscope'), os.X_OK),
        (cli, os.X_OK),
        (helper, os.X_OK),
        (os.path.join(data, 'demo-pfnet-fashion.safetensors'), os.R_OK),
        (os.path.join(data, 'demo-ct.safetensors'), os.R_OK),
        (os.path.join(data, 'demo-ct.ood.json'), os.R_OK),
        (os.path.join(data, 'samples', 'fashion-ankle-boot.png'), os.R_OK),
        (os.path.join(data, 'samples', 'ct-covid.dcm'), os.R_OK),
        (under('datadir', 'applications', app_id + '.desktop'), os.R_OK),
        (under('datadir', 'metainfo', app_id + '.metainfo.xml'), os.R_OK),
        (under('datadir', 'glib-2.0', 'schemas', app_id + '.gschema.xml'), os.R_OK),
        (under('datadir', 'icons', 'hicolor', 'scalable', 'apps', app_id + '.svg'), os.R_OK),
        (under('datadir', 'icons', 'hicolor', 'symbolic', 'apps', app_id + '-symbolic.svg'),
         os.R_OK),
        (under('datadir', 'licenses', 'cnnscope', 'LICENSE'), os.R_OK),
        (under('datadir', 'doc', 'cnnscope', 'cli.md'), os.R_OK),
        (under('mandir', 'man1', 'cnnscope.1'), os.R_OK),
        (under('mandir', 'man1', 'cnnscope-cli.1'), os.R_OK),
        (under('datadir', 'bash-completion', 'completions', 'cnnscope-cli'), os.R_OK),
    ]
    for path, mode in expected:
        check(os.access(path, mode), 'installed: ' + os.path.relpath(path, scratch))

    # The GApplication's id is the desktop file's name (the shell matches windows to it).
    with open(under('bindir', 'cnnscope'), 'rb') as f:
        check(app_id.encode() + b'\0' in f.read(), 'the application runs as ' + app_id)

    # Nothing of the source or build tree reaches the installed programs: no variable naming
    # them, and a working folder of their own.
    env = {k: v for k, v in os.environ.items() if not k.startswith('CNNSCOPE_')}
    env['LC_ALL'] = 'C.UTF-8'
    r = run([cli, 'info', '--json', os.path.join(data, 'demo-pfnet-fashion.safetensors')],
            env, scratch)
    if check(r.returncode == 0, 'installed cnnscope-cli info on the installed demo model'):
        info = json.loads(r.stdout)
        check(info['arch'] == 'pfnet18' and info['input_shape'] == [1, 28, 28]
              and info['n_classes'] == 10, 'the demo model is PFNet-18 on 1x28x28, 10 classes')
    else:
        print(r.stderr, file=sys.stderr)

    ct_model = os.path.join(data, 'demo-ct.safetensors')
    slice_path = os.path.join(data, 'samples', 'ct-covid.dcm')
    r = run([cli, 'predict', '--json', ct_model, slice_path], env, scratch)
    if check(r.returncode == 0, 'installed cnnscope-cli reads a DICOM slice (the helper)'):
        prediction = json.loads(r.stdout)['predictions'][0]
        top = prediction['top'][0]
        check(top['label'] == 'covid', 'the CT demo model calls the COVID sample covid')
        check(prediction.get('ood', {}).get('far') is False,
              'the installed out-of-distribution statistics do not flag the COVID sample')
    else:
        print(r.stderr, file=sys.stderr)

    # Bash completion through the staged program: commands, options, layers of the model.
    completion = under('datadir', 'bash-completion', 'completions', 'cnnscope-cli')
    model = os.path.join(data, 'demo-pfnet-fashion.safetensors')
    for words, expected in ((['ca'], 'cam'), (['cam', '--me'], '--method --metrics'),
                            (['compare', '--ch'], '--channel --channel-out'),
                            (['train', '--snap'], '--snapshot-every'),
                            (['cam', model, '--layer', 'layer4.1.r'],
                             'layer4.1.relu1 layer4.1.relu2')):
        script = ('source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); '
                  '_cnnscope_cli; echo "${COMPREPLY[*]}"')
        r = run(['bash', '-c', script, 'bash', completion, cli] + words, env, scratch)
        check(r.stdout.strip() == expected,
              f'bash completes {" ".join(words[-1:])!r} to {expected!r} (got {r.stdout.strip()!r})')

    # Without its staged helper the installed program does not reach the build tree's: it says
    # where it looked (unless a helper is installed system-wide at the configured place).
    configured = os.path.join(args.prefix, args.libexecdir, 'cnnscope', 'cnnscope-dicom')
    if not os.path.exists(configured):
        os.rename(helper, helper + '.away')
        r = run([cli, 'predict', ct_model, slice_path], env, scratch)
        os.rename(helper + '.away', helper)
        check(r.returncode == 1 and helper in r.stderr and args.build not in r.stderr,
              'without the staged helper the error names it, not the build tree')
        if r.returncode != 1:
            print(r.stdout, r.stderr, file=sys.stderr)
    return report()


def report():
    for i, (ok, what) in enumerate(results, 1):
        print(('ok' if ok else 'not ok') + f' {i} - {what}')
    print(f'1..{len(results)}')
    return 0 if all(ok for ok, _ in results) else 1


if __name__ == '__main__':
    sys.exit(main())
