#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# Pre-defined filters with few data: PFNet-18 against ResNet-18 trained on 5, 10, 20, 50 and
# 100 images per class, and PFNet-18's filter-bank ablation (banks and bank sizes), five seeds
# each, every accuracy a mean with its 95 % t-interval over the seeds. Writes a markdown table
# and the per-seed accuracies as JSON (docs/few-data.md describes the experiment).
# Usage: bench/few-data.py [--build build] [--out few-data.md] [--json few-data.json] [options]
import argparse
import json
import sys
import tempfile
import time

import seedstats


def run_cell(args, cli, tmp, results, label, arch, per_class, bank=None, size=None):
    """Test accuracies over the seeds (a diverged run is named and left out); PFNet's default
    bank (full:16) is run once for both tables."""
    key = f"{arch} {bank or 'full'}:{size or 16} {per_class}"
    if key in results:
        return results[key]
    extra = []
    if (bank or "full", size or 16) != ("full", 16):  # the default: the comparison's runs
        extra += ["--pfm-bank", bank or "full", "--pfm-size", str(size or 16)]
    accs = []
    for seed in args.seeds:
        t0 = time.monotonic()
        res = seedstats.train(cli, tmp, f"run-{seed}",
                              seedstats.train_options(args, arch, per_class, seed, extra),
                              cache=args.cache)
        if res is None:
            print(f"{label} per-class {per_class} seed {seed}: the loss diverged (left out)",
                  file=sys.stderr, flush=True)
            continue
        accs.append(res["test_accuracy"])
        print(f"{label} per-class {per_class} seed {seed}: test {100 * accs[-1]:.2f} % "
              f"({time.monotonic() - t0:.0f} s)", file=sys.stderr, flush=True)
    results[key] = accs
    return accs


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--build", default="build")
    seedstats.add_train_options(p, epochs=60, batch=64, lr=0.05, width=1.0, weight_decay=0.0)
    p.add_argument("--per-class", default="5,10,20,50,100")
    p.add_argument("--seeds", default="1,2,3,4,5")
    p.add_argument("--banks", default="full:16,full:9,full:8,full:4,edges:8,lines:8,"
                   "random-frozen:16,trainable:16",
                   help="PFNet ablation, BANK:SIZE; empty for none")
    p.add_argument("--ablation-per-class", default="",
                   help="sizes for the ablation (default: the same as --per-class)")
    p.add_argument("--no-compare", action="store_true",
                   help="only the ablation, without the ResNet-18 against PFNet-18 table")
    p.add_argument("--out", default="few-data.md")
    p.add_argument("--json", default="", help="also write the per-seed accuracies here")
    seedstats.add_cache_option(p)
    args = p.parse_args()
    args.seeds = [int(s) for s in args.seeds.split(",")]
    sizes = [int(s) for s in args.per_class.split(",")]
    abl_sizes = ([int(s) for s in args.ablation_per_class.split(",")]
                 if args.ablation_per_class else sizes)
    banks = [b.split(":") for b in args.banks.split(",")] if args.banks else []
    cli = seedstats.cli_path(args.build)

    results = {}
    lines = [f"{seedstats.setting_text(args)}; seeds {','.join(map(str, args.seeds))}; test "
             f"accuracy in %, mean ± 95 % t-interval.", ""]
    with tempfile.TemporaryDirectory(prefix="few-data-") as tmp:
        if not args.no_compare:
            lines += ["| images per class | ResNet-18 | PFNet-18 | PFNet − ResNet |",
                      "| ---: | ---: | ---: | ---: |"]
        for n in ([] if args.no_compare else sizes):
            res = run_cell(args, cli, tmp, results, "resnet18", "resnet18", n)
            pf = run_cell(args, cli, tmp, results, "pfnet18", "pfnet18", n)
            diff = [b - a for a, b in zip(res, pf)] if len(res) == len(pf) else []
            lines.append(f"| {n} | {seedstats.fmt(res)} | {seedstats.fmt(pf)} | "
                         f"{seedstats.fmt(diff) if diff else '–'} |")
        if banks:
            if not args.no_compare:
                lines.append("")
            lines += ["PFNet-18 filter banks (bank:size, docs/pfnet.md); in brackets the "
                      "difference to full:16, seed by seed:", "",
                      "| bank | " + " | ".join(f"{n} per class" for n in abl_sizes) + " |",
                      "| --- |" + " ---: |" * len(abl_sizes)]
            base = {n: run_cell(args, cli, tmp, results, "pfnet18", "pfnet18", n)
                    for n in abl_sizes}
            for bank, size in banks:
                cells = []
                for n in abl_sizes:
                    accs = run_cell(args, cli, tmp, results, f"pfnet18 {bank}:{size}",
                                    "pfnet18", n, bank, int(size))
                    cell = seedstats.fmt(accs)
                    if (bank, size) != ("full", "16") and len(accs) == len(base[n]):
                        cell += f" ({seedstats.fmt([a - b for a, b in zip(accs, base[n])])})"
                    cells.append(cell)
                lines.append(f"| {bank}:{size} | " + " | ".join(cells) + " |")
    text = "\n".join(lines) + "\n"
    with open(args.out, "w") as f:
        f.write(text)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"setting": seedstats.setting_text(args), "seeds": args.seeds,
                       "test_accuracy": results}, f, indent=1)
    print(text)


if __name__ == "__main__":
    main()
