#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# Pre-defined filters with few data: PFNet-18 against ResNet-18 trained on 5, 10, 20, 50 and
# 100 images per class, and PFNet-18's filter-bank ablation (banks and bank sizes), five seeds
# each, every accuracy a mean with its 95 % t-interval over the seeds. Writes a markdown table
# (docs/few-data.md describes the experiment).
# Usage: bench/few-data.py [--build build] [--data fashion-mnist] [--out few-data.md] [options]
import argparse
import sys
import tempfile
import time

import seedstats


def options_for(args, arch, per_class, seed, bank=None, size=None):
    opts = ["--arch", arch, "--data", args.data, "--per-class", str(per_class), "--epochs",
            str(args.epochs), "--batch", str(args.batch), "--lr", str(args.lr), "--optimizer",
            args.optimizer, "--weight-decay", str(args.weight_decay), "--width", str(args.width),
            "--seed", str(seed), "--threads", str(args.threads)]
    if args.augment:
        opts.append("--augment")
    if args.test_per_class:
        opts += ["--test-per-class", str(args.test_per_class)]
    if bank is not None:
        opts += ["--pfm-bank", bank]
    if size is not None:
        opts += ["--pfm-size", str(size)]
    return opts


CACHE = {}


def run_cell(args, cli, tmp, label, arch, per_class, bank=None, size=None):
    """Test accuracies over the seeds; PFNet's default bank (full:16) is run once for both
    tables."""
    key = (arch, per_class, bank or "full", size or 16)
    if key in CACHE:
        return CACHE[key]
    accs = []
    for seed in args.seeds:
        t0 = time.monotonic()
        res = seedstats.train(cli, tmp, f"run-{seed}",
                              options_for(args, arch, per_class, seed, bank, size))
        if res is None:
            raise SystemExit(f"{label} per-class {per_class} seed {seed}: the loss diverged "
                             f"(lower --lr)")
        accs.append(res["test_accuracy"])
        print(f"{label} per-class {per_class} seed {seed}: test {100 * accs[-1]:.2f} % "
              f"({time.monotonic() - t0:.0f} s)", file=sys.stderr, flush=True)
    CACHE[key] = accs
    return accs


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--build", default="build")
    p.add_argument("--data", default="fashion-mnist")
    p.add_argument("--per-class", default="5,10,20,50,100")
    p.add_argument("--seeds", default="1,2,3,4,5")
    p.add_argument("--epochs", type=int, default=60)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--optimizer", default="sgd")
    p.add_argument("--weight-decay", type=float, default=0.0,
                   help="default 0: the few-data paper's 'no explicit regularisation'")
    p.add_argument("--width", type=float, default=1.0)
    p.add_argument("--augment", action="store_true")
    p.add_argument("--test-per-class", type=int, default=0,
                   help="evaluate on a seeded subset of the test split (0: all of it)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--banks", default="full:16,full:9,full:8,full:4,edges:8,lines:8,"
                   "random-frozen:16,trainable:16",
                   help="PFNet ablation, BANK:SIZE; empty for none")
    p.add_argument("--ablation-per-class", default="",
                   help="sizes for the ablation (default: the same as --per-class)")
    p.add_argument("--no-compare", action="store_true",
                   help="only the ablation, without the ResNet-18 against PFNet-18 table")
    p.add_argument("--out", default="few-data.md")
    args = p.parse_args()
    args.seeds = [int(s) for s in args.seeds.split(",")]
    sizes = [int(s) for s in args.per_class.split(",")]
    abl_sizes = ([int(s) for s in args.ablation_per_class.split(",")]
                 if args.ablation_per_class else sizes)
    banks = [b.split(":") for b in args.banks.split(",")] if args.banks else []
    cli = seedstats.cli_path(args.build)

    lines = [f"Dataset {args.data}, {args.epochs} epochs, batch {args.batch}, "
             f"{args.optimizer} lr {args.lr}, weight decay {args.weight_decay}, width "
             f"{args.width}{', augmented' if args.augment else ''}, test "
             f"{'all' if not args.test_per_class else f'{args.test_per_class} per class'}; "
             f"seeds {','.join(map(str, args.seeds))}; test accuracy in %, mean ± 95 % "
             f"t-interval.", ""]
    with tempfile.TemporaryDirectory(prefix="few-data-") as tmp:
        if not args.no_compare:
            lines += ["| images per class | ResNet-18 | PFNet-18 | PFNet − ResNet |",
                      "| ---: | ---: | ---: | ---: |"]
        for n in ([] if args.no_compare else sizes):
            res = run_cell(args, cli, tmp, "resnet18", "resnet18", n)
            pf = run_cell(args, cli, tmp, "pfnet18", "pfnet18", n)
            diff = [b - a for a, b in zip(res, pf)]
            lines.append(f"| {n} | {seedstats.fmt(res)} | {seedstats.fmt(pf)} | "
                         f"{seedstats.fmt(diff)} |")
        if banks:
            if not args.no_compare:
                lines.append("")
            lines += ["PFNet-18 filter banks (bank:size, docs/pfnet.md):", "",
                      "| bank | " + " | ".join(f"{n} per class" for n in abl_sizes) + " |",
                      "| --- |" + " ---: |" * len(abl_sizes)]
            for bank, size in banks:
                cells = [seedstats.fmt(run_cell(args, cli, tmp, f"pfnet18 {bank}:{size}",
                                                "pfnet18", n, bank, int(size)))
                         for n in abl_sizes]
                lines.append(f"| {bank}:{size} | " + " | ".join(cells) + " |")
    text = "\n".join(lines) + "\n"
    with open(args.out, "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
