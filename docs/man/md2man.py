#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Turns a page of docs/ (the Markdown subset they use: headings, paragraphs, "- " lists, tables,
# fenced code, `code`, **bold**, links) into a man page, so that cnnscope-cli.1 says what
# docs/cli.md says. A paragraph or list item becomes one line, so markup may span source lines.
import argparse
import re
import sys

LINK = re.compile(r'\[([^\]]+)\]\([^)]+\)')
CODE = re.compile(r'`([^`]+)`')
BOLD = re.compile(r'\*\*([^*]+)\*\*')


def escape(text, dashes=False):
    """Plain text for troff: backslashes escaped; option dashes (every dash with dashes) as
    minus signs."""
    text = text.replace('\\', '\\e')
    return text.replace('-', '\\-') if dashes else text.replace('--', '\\-\\-')


def inline(text, dashes=False):
    """Markdown inline markup to troff: links keep their text, code and bold are bold; code
    keeps its dashes as minus signs."""
    text = LINK.sub(r'\1', text)
    out = []
    pos = 0
    for m in CODE.finditer(text):
        out.append(escape(BOLD.sub('\x01\\1\x02', text[pos:m.start()]), dashes))
        out.append('\x01' + escape(m.group(1), True) + '\x02')
        pos = m.end()
    out.append(escape(BOLD.sub('\x01\\1\x02', text[pos:]), dashes))
    return ''.join(out).replace('\x01', '\\fB').replace('\x02', '\\fR')


def line_out(text):
    """One output line; a leading '.' or "'" would be read as a request."""
    return '\\&' + text if text[:1] in ('.', "'") else text


def cells(row):
    """The cells of a table row, split at pipes that are not escaped."""
    parts = re.split(r'(?<!\\)\|', row.strip())[1:-1]
    return [p.strip().replace('\\|', '|') for p in parts]


def table(rows):
    """A table as tagged paragraphs (tables do not fit 80 columns): the first cell is the tag,
    the others follow, a "default" column's cell as "default: cell"."""
    head, body = cells(rows[0]), [cells(r) for r in rows[2:]]
    out = []
    for row in body:
        out += ['.TP', line_out(inline(row[0]))]
        parts = []
        for title, cell in zip(head[1:], row[1:]):
            if cell:
                parts.append(f'default: {cell}' if title == 'default' else cell)
        out.append(line_out(inline('; '.join(parts))))
    return out


def convert(lines, name, section, version, summary, synopsis):
    out = [f'.TH {name.upper()} {section} "" "cnnscope {version}" "User Commands"',
           '.SH NAME', f'{name} \\- {escape(summary)}',
           '.SH SYNOPSIS', inline(synopsis, True)]
    i = 0
    para = []

    def flush():
        if para:
            out.append('.PP')
            out.append(line_out(inline(' '.join(para))))
            para.clear()

    while i < len(lines):
        line = lines[i].rstrip('\n')
        if line.startswith('```'):
            flush()
            out += ['.PP', '.nf', '.RS 4']
            i += 1
            while i < len(lines) and not lines[i].startswith('```'):
                out.append(line_out(escape(lines[i].rstrip('\n'), True)))
                i += 1
            out += ['.RE', '.fi']
        elif line.startswith('# '):
            flush()
            out.append('.SH DESCRIPTION')
        elif line.startswith('## '):
            flush()
            out.append('.SH ' + inline(line[3:]).upper())
        elif line.startswith('### '):
            flush()
            out.append('.SS "' + inline(line[4:], True).replace('"', '\\(dq') + '"')
        elif line.startswith('|'):
            flush()
            rows = []
            while i < len(lines) and lines[i].startswith('|'):
                rows.append(lines[i].rstrip('\n'))
                i += 1
            out.extend(table(rows))
            continue
        elif line.startswith('- '):
            flush()
            item = [line[2:]]
            while i + 1 < len(lines) and lines[i + 1].startswith('  ') and lines[i + 1].strip():
                i += 1
                item.append(lines[i].strip())
            out.append('.IP \\(bu 2')
            out.append(line_out(inline(' '.join(item))))
        elif not line.strip():
            flush()
        else:
            para.append(line.strip())
        i += 1
    flush()
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('markdown')
    parser.add_argument('output')
    parser.add_argument('--name', required=True)
    parser.add_argument('--section', default='1')
    parser.add_argument('--version', required=True)
    parser.add_argument('--summary', required=True)
    parser.add_argument('--synopsis', required=True)
    parser.add_argument('--see-also', default='')
    args = parser.parse_args()
    with open(args.markdown, encoding='utf-8') as f:
        lines = f.readlines()
    out = convert(lines, args.name, args.section, args.version, args.summary, args.synopsis)
    if args.see_also:
        out += ['.SH SEE ALSO', inline(args.see_also)]
    with open(args.output, 'w', encoding='utf-8') as f:
        f.write('\n'.join(out) + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
