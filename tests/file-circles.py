#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""No file circles: in each module (nn, viz, app, cli) the calls between its object files, read
with nm, go one way only. Prints each module's count and fails on any cycle
(docs/architecture.md)."""
import collections
import glob
import os
import subprocess
import sys

build = sys.argv[1]
found = 0
for lib in ['nn/libnn.a', 'viz/libviz.a', 'app/libcnnscope-app.a', 'cli']:
    if lib == 'cli':
        objs = glob.glob(os.path.join(build, 'cli/cnnscope-cli.p/*.o'))
    else:
        objs = glob.glob(os.path.join(build, lib.replace('.a', '.a.p'), '**/*.o'), recursive=True)
    defs = {}; undefs = collections.defaultdict(set)
    for o in objs:
        out = subprocess.run(['nm', o], capture_output=True, text=True).stdout
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[1] in 'TDBR':
                defs[parts[2]] = o
            elif len(parts) == 2 and parts[0] == 'U':
                undefs[o].add(parts[1])
    edges = collections.defaultdict(set)
    for o, us in undefs.items():
        for u in us:
            if u in defs and defs[u] != o:
                edges[o].add(defs[u])
    # cycles via Tarjan SCC
    index = {}; low = {}; stack = []; on = set(); sccs = []; i = [0]
    def strong(v):
        index[v] = low[v] = i[0]; i[0] += 1; stack.append(v); on.add(v)
        for w in edges[v]:
            if w not in index:
                strong(w); low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop(); on.discard(w); comp.append(w)
                if w == v: break
            if len(comp) > 1: sccs.append(comp)
    sys.setrecursionlimit(10000)
    for v in list(objs):
        if v not in index: strong(v)
    found += len(sccs) if objs else 1
    name = lambda p: os.path.basename(p).replace('.o', '')
    print(f"{lib}: {len(objs)} objects, {sum(len(e) for e in edges.values())} file-to-file calls, "
          f"{len(sccs)} circles" + "".join("\n  " + " <-> ".join(sorted(map(name, c))) for c in sccs))
if found:
    sys.exit(1)
