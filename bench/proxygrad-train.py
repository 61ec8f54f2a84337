#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# ProxyGrad for training: networks trained with the straight-through leaky backward of their
# ReLUs (`train --policy proxygrad:B`) against the exact gradient, on Fashion-MNIST and on the
# synthetic CT (version 1, generated here), several slopes B, five seeds; test accuracy, final
# training loss, dead ReLUs and sparsity as means with 95 % t-intervals, and the difference to
# exact taken seed by seed. Writes markdown tables, a CSV and a JSON of every run
# (docs/proxygrad-train.md describes the experiment).
# Usage: bench/proxygrad-train.py [--build build] [--out proxygrad-train] [options]
import argparse
import csv
import json
import math
import os
import subprocess
import sys
import tempfile
import time

import seedstats

# key in the run's summary, column, scale, digits, column of the paired difference (or None)
METRICS = [("test_accuracy", "test accuracy", 100.0, 1, "Δ accuracy"),
           ("train_loss", "final training loss", 1.0, 3, "Δ loss"),
           ("dead_relu", "dead ReLUs", 100.0, 2, "Δ dead"),
           ("relu_sparsity", "sparsity", 100.0, 1, None)]


def make_ct(cli, root, args):
    """Synthetic CT version 1: root/train and root/test from two seeds, the same for every run
    (the run's seed changes the initialisation and the order only)."""
    for split, count, seed in (("train", args.ct_train, args.ct_seed),
                               ("test", args.ct_test, args.ct_seed + 1)):
        subprocess.run(["nice", "-n", "10", cli, "synth", "ct", "--count", str(count), "--seed",
                        str(seed), "--size", str(args.ct_size), "--out",
                        os.path.join(root, split)], check=True, capture_output=True)


def options_for(args, data, arch, policy, seed):
    lr = args.lr
    if arch == "smallcnn":
        lr = args.lr_smallcnn if data == "fashion-mnist" else args.lr_smallcnn_ct
    opts = ["--arch", arch, "--data", data, "--batch", str(args.batch), "--lr", str(lr),
            "--optimizer", args.optimizer, "--policy", policy, "--seed", str(seed), "--threads",
            str(args.threads)]
    if arch == "pfnet18":
        opts += ["--width", str(args.pfnet_width)]
    elif arch != "smallcnn":
        opts += ["--width", str(args.width)]
    if data == "fashion-mnist":
        opts += ["--per-class", str(args.fm_per_class), "--test-per-class",
                 str(args.fm_test_per_class), "--epochs", str(args.fm_epochs)]
    else:
        opts += ["--epochs", str(args.ct_epochs)]
    return opts


def archs_of(args, dataset):
    return (args.fm_archs if dataset == "fashion-mnist" else args.ct_archs).split(",")


def summary(run):
    last = run["epochs"][-1]
    return {"test_accuracy": run["test_accuracy"], "train_loss": last["train_loss"],
            "dead_relu": last["dead_relu"], "relu_sparsity": last["relu_sparsity"]}


def cell(values, scale, digits):
    if not values:
        return "–"
    return seedstats.fmt(values, scale=scale, digits=digits)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--build", default="build")
    p.add_argument("--datasets", default="fashion-mnist,ct")
    p.add_argument("--fm-archs", default="smallcnn,resnet18", help="on Fashion-MNIST")
    p.add_argument("--ct-archs", default="smallcnn,resnet18,pfnet18", help="on the CT")
    p.add_argument("--policies", default="exact,proxygrad:0.01,proxygrad:0.1,proxygrad:0.3,"
                   "proxygrad:1")
    p.add_argument("--seeds", default="1,2,3,4,5")
    p.add_argument("--width", type=float, default=0.125, help="ResNet-18's")
    p.add_argument("--pfnet-width", type=float, default=0.25)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--lr-smallcnn", type=float, default=0.01,
                   help="the small CNN has no batch norm: at 0.05 even exact stays at chance")
    p.add_argument("--lr-smallcnn-ct", type=float, default=0.003,
                   help="at 64 px its first epoch's loss is near 10, and at 0.01 "
                   "proxygrad:0.3 diverged")
    p.add_argument("--optimizer", default="sgd")
    p.add_argument("--fm-per-class", type=int, default=100)
    p.add_argument("--fm-test-per-class", type=int, default=100)
    p.add_argument("--fm-epochs", type=int, default=4)
    p.add_argument("--ct-train", type=int, default=300)
    p.add_argument("--ct-test", type=int, default=150)
    p.add_argument("--ct-size", type=int, default=64)
    p.add_argument("--ct-seed", type=int, default=101,
                   help="training slices from this seed, test slices from the next")
    p.add_argument("--ct-epochs", type=int, default=8)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--from-json", metavar="FILE",
                   help="no training: the tables again from the runs of an earlier OUT.json")
    p.add_argument("--out", default="proxygrad-train",
                   help="writes OUT.md, OUT.csv and OUT.json")
    args = p.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    policies = args.policies.split(",")
    if policies[0] != "exact":
        raise SystemExit("--policies must start with exact (the reference of the differences)")
    cli = None if args.from_json else seedstats.cli_path(args.build)

    if args.from_json:
        with open(args.from_json) as f:
            saved = json.load(f)
        runs, seconds, run_args = saved["runs"], saved["seconds"], saved["args"]
        for key in ("datasets", "fm_archs", "ct_archs", "policies", "seeds", "width",
                    "pfnet_width", "batch", "lr", "lr_smallcnn", "lr_smallcnn_ct", "optimizer",
                    "fm_per_class", "fm_test_per_class", "fm_epochs", "ct_train", "ct_test",
                    "ct_size", "ct_seed", "ct_epochs"):
            setattr(args, key, saved["args"][key])
        seeds = [int(s) for s in args.seeds.split(",")]
        policies = args.policies.split(",")
    else:
        runs, seconds = train_all(args, cli, seeds, policies)
        run_args = vars(args)
    write_summary(args, run_args, seeds, policies, runs, seconds)


def train_all(args, cli, seeds, policies):
    runs = []  # every run: dataset, arch, policy, seed, seconds, summary or None (diverged)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="proxygrad-train-") as tmp:
        ct_root = os.path.join(tmp, "ct")
        for dataset in args.datasets.split(","):
            data = dataset
            if dataset == "ct":
                make_ct(cli, ct_root, args)
                data = ct_root
            for arch in archs_of(args, dataset):
                for policy in policies:
                    for seed in seeds:
                        t0 = time.monotonic()
                        res = seedstats.train(cli, tmp, "run",
                                              options_for(args, data, arch, policy, seed))
                        secs = time.monotonic() - t0
                        runs.append({"dataset": dataset, "arch": arch, "policy": policy,
                                     "seed": seed, "seconds": round(secs, 1),
                                     "result": summary(res) if res else None})
                        msg = (f"test {100 * res['test_accuracy']:.2f} %" if res
                               else "the loss diverged")
                        print(f"{dataset} {arch} {policy} seed {seed}: {msg} ({secs:.0f} s, "
                              f"{time.monotonic() - started:.0f} s in all)", file=sys.stderr,
                              flush=True)
    return runs, time.monotonic() - started


def write_summary(args, run_args, seeds, policies, runs, seconds):
    """OUT.md, OUT.csv and OUT.json; run_args are the options of the runs (in OUT.json)."""
    def values(dataset, arch, policy, key):
        return {r["seed"]: r["result"][key] for r in runs
                if (r["dataset"], r["arch"], r["policy"]) == (dataset, arch, policy)
                and r["result"]}

    setting = (f"Scale: Fashion-MNIST {args.fm_per_class} training images per class, "
               f"{args.fm_test_per_class} test images per class, {args.fm_epochs} epochs; "
               f"synthetic CT version 1 at {args.ct_size} px, {args.ct_train} training and "
               f"{args.ct_test} test slices (seeds {args.ct_seed} and {args.ct_seed + 1}), "
               f"{args.ct_epochs} epochs; batch {args.batch}, {args.optimizer}, lr "
               f"{args.lr} (smallcnn {args.lr_smallcnn}, on the CT {args.lr_smallcnn_ct}), "
               f"cosine schedule; width {args.width} (PFNet-18 {args.pfnet_width}); seeds "
               f"{args.seeds}. Mean ± 95 % t-interval over the seeds; "
               f"Δ = policy − exact, seed by seed over the seeds where both finished.")
    lines = [setting, ""]
    rows = []
    for dataset in args.datasets.split(","):
        for arch in archs_of(args, dataset):
            lines += [f"### {arch} on {dataset}", "",
                      "| policy | finished | " + " | ".join(
                          f"{name} | {dname}" if dname else name
                          for _, name, _, _, dname in METRICS) + " |",
                      "| --- | ---: |" + " ---: |" * (len(METRICS) + 3)]
            for policy in policies:
                cells, n = [], 0
                row = {"dataset": dataset, "arch": arch, "policy": policy}
                for key, _, scale, digits, dname in METRICS:
                    got = values(dataset, arch, policy, key)
                    ref = values(dataset, arch, "exact", key)
                    n = len(got)
                    mean, half = seedstats.mean_ci(list(got.values()))
                    row[key], row[key + "_ci95"] = mean, half
                    cells.append(cell(list(got.values()), scale, digits))
                    if dname:
                        diff = [got[s] - ref[s] for s in got if s in ref]
                        dmean, dhalf = seedstats.mean_ci(diff)
                        row["delta_" + key], row["delta_" + key + "_ci95"] = dmean, dhalf
                        cells.append("" if policy == "exact" else cell(diff, scale, digits))
                row["finished"] = n
                rows.append(row)
                lines.append(f"| {policy} | {n} of {len(seeds)} | " + " | ".join(cells) + " |")
            lines.append("")
    lines.append(f"{len(runs)} runs, {seconds:.0f} s in all.")
    text = "\n".join(lines) + "\n"
    with open(args.out + ".md", "w") as f:
        f.write(text)
    with open(args.out + ".csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
        w.writeheader()
        for row in rows:
            w.writerow({k: ("" if isinstance(v, float) and math.isnan(v) else v)
                        for k, v in row.items()})
    with open(args.out + ".json", "w") as f:
        json.dump({"setting": setting, "args": run_args, "seconds": round(seconds),
                   "runs": runs}, f, indent=1)
    print(text)


if __name__ == "__main__":
    main()
