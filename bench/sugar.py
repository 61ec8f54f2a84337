#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# SUGAR: dead ReLUs and activation sparsity over training with the exact ReLU gradient, B-SiLU
# and NeLU (alpha 0.01 and 0.1), five seeds, every number a mean with its 95 % t-interval over
# the seeds. A dead ReLU is a unit <= 0 on every image of the probe batch of training images
# that `cnnscope-cli train` reports after each epoch. Writes a markdown table
# and the per-seed histories as JSON (docs/sugar.md describes the experiment).
# Usage: bench/sugar.py [--build build] [--out sugar.md] [--json sugar.json] [options]
import argparse
import json
import sys
import tempfile
import time

import seedstats


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--build", default="build")
    p.add_argument("--data", default="fashion-mnist")
    p.add_argument("--arch", default="vgg11")
    p.add_argument("--policies", default="exact,sugar:bsilu,sugar:nelu:0.01,sugar:nelu:0.1")
    p.add_argument("--seeds", default="1,2,3,4,5")
    p.add_argument("--per-class", type=int, default=1000)
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=0.01,
                   help="VGG without batch norm diverges with B-SiLU at 0.05")
    p.add_argument("--optimizer", default="sgd")
    p.add_argument("--width", type=float, default=0.5)
    p.add_argument("--test-per-class", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", default="sugar.md")
    p.add_argument("--json", default="", help="also write the per-seed histories here")
    seedstats.add_cache_option(p)
    args = p.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    policies = args.policies.split(",")
    cli = seedstats.cli_path(args.build)

    runs = {}
    diverged = {}  # policy: seeds whose loss became NaN (left out of the means)
    with tempfile.TemporaryDirectory(prefix="sugar-") as tmp:
        for policy in policies:
            runs[policy] = []
            for seed in seeds:
                opts = ["--arch", args.arch, "--data", args.data, "--per-class",
                        str(args.per_class), "--epochs", str(args.epochs), "--batch",
                        str(args.batch), "--lr", str(args.lr), "--optimizer", args.optimizer,
                        "--width", str(args.width), "--policy", policy, "--seed", str(seed),
                        "--threads", str(args.threads)]
                if args.test_per_class:
                    opts += ["--test-per-class", str(args.test_per_class)]
                t0 = time.monotonic()
                res = seedstats.train(cli, tmp, f"run-{seed}", opts, cache=args.cache)
                if res is None:
                    diverged[policy] = diverged.get(policy, 0) + 1
                    print(f"{policy} seed {seed}: the loss diverged", file=sys.stderr,
                          flush=True)
                    continue
                runs[policy].append(res)
                print(f"{policy} seed {seed}: test {100 * res['test_accuracy']:.2f} %, dead "
                      f"{100 * res['epochs'][-1]['dead_relu']:.2f} % "
                      f"({time.monotonic() - t0:.0f} s)", file=sys.stderr, flush=True)

    def per_epoch(policy, key, e):
        return [r["epochs"][e][key] for r in runs[policy]]

    last = args.epochs - 1
    mid = args.epochs // 2 - 1 if args.epochs > 2 else 0
    shown = sorted({0, mid, last})
    lines = [f"{args.arch} width {args.width} on {args.data} ({args.per_class} images per "
             f"class), {args.epochs} epochs, batch {args.batch}, {args.optimizer} lr {args.lr}; "
             f"seeds {args.seeds}; in %, mean ± 95 % t-interval. Dead: units <= 0 on every "
             f"image of the probe batch; sparsity: outputs <= 0.", "",
             "| policy | " + " | ".join(f"dead after epoch {e + 1}" for e in shown)
             + " | sparsity after the last | test accuracy | runs diverged |",
             "| --- |" + " ---: |" * (len(shown) + 3)]
    for policy in policies:
        cells = [seedstats.fmt(per_epoch(policy, "dead_relu", e), digits=2) for e in shown]
        cells.append(seedstats.fmt(per_epoch(policy, "relu_sparsity", last)))
        cells.append(seedstats.fmt([r["test_accuracy"] for r in runs[policy]]))
        cells.append(f"{diverged.get(policy, 0)} of {len(seeds)}")
        lines.append(f"| {policy} | " + " | ".join(cells) + " |")
    base = policies[0]
    paired = [pol for pol in policies[1:] if runs[pol] and len(runs[pol]) == len(runs[base])]
    if paired:
        lines += ["", f"Difference to {base} after the last epoch, seed by seed (points, mean "
                  f"± 95 % t-interval):", "",
                  "| policy | dead | sparsity | test accuracy |", "| --- | ---: | ---: | ---: |"]

        def diff(pol, get):
            return [get(a) - get(b) for a, b in zip(runs[pol], runs[base])]
        for pol in paired:
            cells = [seedstats.fmt(diff(pol, lambda r: r["epochs"][last]["dead_relu"]), digits=2),
                     seedstats.fmt(diff(pol, lambda r: r["epochs"][last]["relu_sparsity"])),
                     seedstats.fmt(diff(pol, lambda r: r["test_accuracy"]))]
            lines.append(f"| {pol} | " + " | ".join(cells) + " |")
    lines += ["", "Dead ReLUs (%) after every epoch, mean over the seeds:", "",
              "| epoch | " + " | ".join(policies) + " |",
              "| ---: |" + " ---: |" * len(policies)]
    for e in range(args.epochs):
        cells = [f"{100 * seedstats.mean_ci(per_epoch(pol, 'dead_relu', e))[0]:.2f}"
                 if runs[pol] else "–" for pol in policies]
        lines.append(f"| {e + 1} | " + " | ".join(cells) + " |")
    text = "\n".join(lines) + "\n"
    with open(args.out, "w") as f:
        f.write(text)
    if args.json:
        keep = ("test_accuracy", "epochs")
        with open(args.json, "w") as f:
            json.dump({"setting": lines[0], "diverged": diverged,
                       "runs": {pol: [{k: r[k] for k in keep} for r in runs[pol]]
                                for pol in policies}}, f, indent=1)
    print(text)


if __name__ == "__main__":
    main()
