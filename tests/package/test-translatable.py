#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# The application's strings reach translators: po/POTFILES.in lists every file with marked
# strings (and every template), xgettext makes a POT from them that holds each file's strings
# and from which a catalogue compiles, and no string literal that app/*.c passes to a label, title, tooltip, toast, dialog or status
# setter, nor a label, title or tooltip of a template, is left unmarked. TAP on stdout.
import argparse
import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

# The functions whose string arguments the user reads, in app/*.c.
SETTERS = [
    'gtk_label_new', 'gtk_label_new_with_mnemonic', 'gtk_label_set_text', 'gtk_label_set_label',
    'gtk_label_set_markup', 'gtk_label_set_markup_with_mnemonic',
    'gtk_button_new_with_label', 'gtk_button_new_with_mnemonic', 'gtk_button_set_label',
    'gtk_check_button_new_with_label', 'gtk_check_button_set_label',
    'gtk_widget_set_tooltip_text', 'gtk_widget_set_tooltip_markup', 'gtk_window_set_title',
    'gtk_progress_bar_set_text', 'gtk_string_list_append', 'gtk_entry_set_placeholder_text',
    'gtk_file_chooser_native_new', 'gtk_menu_button_set_label',
    'adw_toast_new', 'adw_toast_set_title', 'adw_toast_set_button_label',
    'adw_status_page_set_title', 'adw_status_page_set_description',
    'adw_preferences_group_set_title', 'adw_preferences_group_set_description',
    'adw_preferences_row_set_title', 'adw_action_row_set_subtitle',
    'adw_message_dialog_new', 'adw_message_dialog_set_heading', 'adw_message_dialog_set_body',
    'adw_message_dialog_add_response', 'adw_message_dialog_add_responses',
    'adw_about_window_set_comments', 'adw_window_title_set_title',
    'adw_window_title_set_subtitle',
    'scope_view_show_status', 'scope_view_report_error', 'scope_window_show_error',
    'scope_window_show_message', 'scope_file_dialog_run', 'scope_accessible_set_label',
]
MARKS = ('_', 'N_', 'C_', 'NC_', 'ngettext', 'g_dngettext', 'g_dpgettext2')
# The properties of a template the user reads.
UI_PROPERTIES = {'label', 'title', 'subtitle', 'tooltip-text', 'tooltip-markup', 'description',
                 'placeholder-text', 'text'}
# What xgettext is run with: meson's 'glib' preset (po/meson.build).
XGETTEXT_ARGS = ['--from-code=UTF-8', '--add-comments', '--keyword=_', '--keyword=N_',
                 '--keyword=C_:1c,2', '--keyword=NC_:1c,2', '--keyword=g_dcgettext:2',
                 '--keyword=g_dngettext:2,3', '--keyword=g_dpgettext2:2c,3',
                 '--flag=N_:1:pass-c-format', '--flag=C_:2:pass-c-format',
                 '--flag=NC_:2:pass-c-format', '--flag=g_dngettext:2:pass-c-format',
                 '--flag=g_strdup_printf:1:c-format', '--flag=g_string_printf:2:c-format',
                 '--flag=g_string_append_printf:2:c-format',
                 '--flag=g_error_new:3:c-format', '--flag=g_set_error:4:c-format']

results = []


def check(ok, name, detail=''):
    results.append((ok, name, detail))


def strip_comments(src):
    """src with comments blanked out (newlines kept), string and char literals untouched."""
    out, i, n = [], 0, len(src)
    while i < n:
        if src.startswith('/*', i):
            j = src.index('*/', i) + 2
            out.append(re.sub(r'[^\n]', ' ', src[i:j]))
            i = j
        elif src.startswith('//', i):
            j = src.find('\n', i)
            j = n if j < 0 else j
            out.append(' ' * (j - i))
            i = j
        elif src[i] in '"\'':
            q, j = src[i], i + 1
            while src[j] != q:
                j += 2 if src[j] == '\\' else 1
            out.append(src[i:j + 1])
            i = j + 1
        else:
            out.append(src[i])
            i += 1
    return ''.join(out)


def arguments(src, open_paren):
    """The top-level arguments of the call whose '(' is at open_paren: [(start, text)]."""
    args, depth, start, i = [], 0, open_paren + 1, open_paren
    while True:
        c = src[i]
        if c in '"\'':
            j = i + 1
            while src[j] != c:
                j += 2 if src[j] == '\\' else 1
            i = j + 1
            continue
        if c in '([{':
            depth += 1
        elif c in ')]}':
            depth -= 1
            if depth == 0:
                args.append((start, src[start:i]))
                return args
        elif c == ',' and depth == 1:
            args.append((start, src[start:i]))
            start = i + 1
        i += 1


def readable(literal):
    """Whether a literal's text is words someone reads (not an id, icon, format or path)."""
    text = re.sub(r'%[-+ #0-9.*]*(?:l|ll|z|h)?[a-zA-Z]', '', literal)
    if not re.search(r'[^\W\d_]{2}', text):
        return False
    # Ids: action and response names, icon names, paths, file patterns.
    return not re.fullmatch(r'[a-z0-9_.:/*;-]+', literal)


def unmarked_literals(arg):
    """The readable literals of an argument that no translation mark wraps."""
    found = []
    marks = '|'.join(re.escape(m) for m in MARKS)
    # Blank out every marked call, then look at the literals left.
    blanked = arg
    while True:
        m = re.search(r'\b(?:%s)\s*\(' % marks, blanked)
        if m is None:
            break
        args = arguments(blanked, m.end() - 1)
        end = args[-1][0] + len(args[-1][1]) + 1
        blanked = blanked[:m.start()] + ' ' * (end - m.start()) + blanked[end:]
    for lit in re.finditer(r'"((?:[^"\\]|\\.)*)"', blanked):
        if readable(lit.group(1)):
            found.append(lit.group(1))
    return found


def check_c_sources(source):
    app = os.path.join(source, 'app')
    problems = []
    for name in sorted(os.listdir(app)):
        if not name.endswith('.c'):
            continue
        src = strip_comments(open(os.path.join(app, name), encoding='utf-8').read())
        for m in re.finditer(r'\b(%s)\s*\(' % '|'.join(SETTERS), src):
            line = src.count('\n', 0, m.start()) + 1
            for _start, arg in arguments(src, m.end() - 1):
                for lit in unmarked_literals(arg):
                    problems.append('app/%s:%d: %s ("%s") is not marked for translation'
                                    % (name, line, m.group(1), lit))
    check(not problems, 'strings passed to GTK setters in app/*.c are marked translatable',
          '\n'.join(problems))


def check_templates(source):
    problems = []
    ui_dir = os.path.join(source, 'resources', 'ui')
    for name in sorted(os.listdir(ui_dir)):
        if not name.endswith('.ui'):
            continue
        root = ET.parse(os.path.join(ui_dir, name)).getroot()
        for prop in root.iter('property'):
            text = (prop.text or '').strip()
            if (prop.get('name') in UI_PROPERTIES and prop.get('translatable') != 'yes'
                    and readable(text) and text != 'cnnscope'):
                problems.append('resources/ui/%s: property %s "%s" is not translatable'
                                % (name, prop.get('name'), text))
        for item in root.iter('item'):
            text = (item.text or '').strip()
            if item.get('translatable') != 'yes' and readable(text):
                problems.append('resources/ui/%s: item "%s" is not translatable' % (name, text))
        for attr in root.iter('attribute'):
            text = (attr.text or '').strip()
            if attr.get('name') == 'label' and attr.get('translatable') != 'yes' and readable(text):
                problems.append('resources/ui/%s: menu label "%s" is not translatable'
                                % (name, text))
    check(not problems, 'labels, titles and tooltips of the templates are translatable',
          '\n'.join(problems))


def potfiles(source):
    lines = open(os.path.join(source, 'po', 'POTFILES.in'), encoding='utf-8').read().split('\n')
    return [l.strip() for l in lines if l.strip() and not l.startswith('#')]


def check_potfiles(source, listed):
    missing = [f for f in listed if not os.path.exists(os.path.join(source, f))]
    check(not missing, 'every file of po/POTFILES.in exists', '\n'.join(missing))
    wanted = []
    marks = '|'.join(re.escape(m) for m in MARKS)
    for name in sorted(os.listdir(os.path.join(source, 'app'))):
        path = 'app/' + name
        if name.endswith('.c'):
            src = strip_comments(open(os.path.join(source, path), encoding='utf-8').read())
            if re.search(r'\b(?:%s)\s*\(\s*"' % marks, src):
                wanted.append(path)
    for name in sorted(os.listdir(os.path.join(source, 'resources', 'ui'))):
        if name.endswith('.ui'):
            wanted.append('resources/ui/' + name)
    for name in sorted(os.listdir(os.path.join(source, 'resources'))):
        if name.endswith(('.desktop.in', '.metainfo.xml.in', '.gschema.xml')):
            wanted.append('resources/' + name)
    unlisted = [f for f in wanted if f not in listed]
    check(not unlisted, 'po/POTFILES.in lists every file with translatable strings',
          '\n'.join(unlisted))


def check_pot(source, listed):
    with tempfile.TemporaryDirectory() as tmp:
        pot = os.path.join(tmp, 'cnnscope.pot')
        r = subprocess.run(['xgettext', '--package-name=cnnscope', '--directory=' + source,
                            '--output=' + pot] + XGETTEXT_ARGS + listed,
                           capture_output=True, text=True)
        check(r.returncode == 0 and os.path.exists(pot), 'xgettext makes the POT', r.stderr)
        if r.returncode != 0 or not os.path.exists(pot):
            return
        text = open(pot, encoding='utf-8').read()
        # A template may have nothing to translate (its strings may all be set in code).
        empty = [f for f in listed if '#: %s:' % f not in text and not f.endswith('.ui')]
        check(not empty, 'the POT holds strings of every listed file but templates',
              '\n'.join(empty))
        for msgid in ('Export format', 'Activation Maximization', 'Show Layers (F9)',
                      'Look inside convolutional neural networks'):
            check('msgid "%s"' % msgid in text, 'the POT holds "%s"' % msgid)
        # A catalogue started from it compiles, its format strings checked.
        po = os.path.join(tmp, 'de.po')
        r = subprocess.run(['msginit', '--no-translator', '--locale=de', '--input=' + pot,
                            '--output-file=' + po], capture_output=True, text=True)
        if r.returncode == 0:
            r = subprocess.run(['msgfmt', '--check', '--output-file=' + os.devnull, po],
                               capture_output=True, text=True)
        check(r.returncode == 0, 'a catalogue made from the POT compiles (msgfmt --check)',
              r.stderr)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--source', required=True)
    args = parser.parse_args()
    listed = potfiles(args.source)
    check_potfiles(args.source, listed)
    check_pot(args.source, listed)
    check_c_sources(args.source)
    check_templates(args.source)
    print('1..%d' % len(results))
    for k, (ok, name, detail) in enumerate(results, 1):
        print('%s %d - %s' % ('ok' if ok else 'not ok', k, name))
        if not ok and detail:
            for line in detail.split('\n'):
                print('# ' + line)
    return 0 if all(ok for ok, _name, _detail in results) else 1


if __name__ == '__main__':
    sys.exit(main())
