#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# FP-nets against the ResNet of the same depth: trainable parameters and test accuracy of
# resnet18, fpnet18 (the authors' placement of FP-blocks) and fpnet (cnnscope's own stack),
# five seeds, each accuracy a mean with its 95 % t-interval. The setting is few-data.py's, so
# runs of the same setting are shared through the cache (docs/fpnet.md describes it).
# Usage: bench/fpnet.py [--build build] [--out fpnet.md] [--json fpnet.json] [options]
import argparse
import json
import sys
import tempfile
import time

import seedstats


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--build", default="build")
    seedstats.add_train_options(p, epochs=60, batch=64, lr=0.05, width=1.0, weight_decay=0.0)
    p.add_argument("--archs", default="resnet18,fpnet18,fpnet")
    p.add_argument("--per-class", type=int, default=100)
    p.add_argument("--seeds", default="1,2,3,4,5")
    p.add_argument("--out", default="fpnet.md")
    p.add_argument("--json", default="", help="also write the per-seed results here")
    seedstats.add_cache_option(p)
    args = p.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    archs = args.archs.split(",")
    cli = seedstats.cli_path(args.build)

    results = {}
    with tempfile.TemporaryDirectory(prefix="fpnet-") as tmp:
        for arch in archs:
            results[arch] = {"params": None, "test_accuracy": [], "diverged": 0}
            for seed in seeds:
                t0 = time.monotonic()
                res = seedstats.train(cli, tmp, f"run-{seed}",
                                      seedstats.train_options(args, arch, args.per_class, seed),
                                      cache=args.cache)
                if res is None:
                    results[arch]["diverged"] += 1
                    print(f"{arch} seed {seed}: the loss diverged", file=sys.stderr, flush=True)
                    continue
                results[arch]["params"] = res["params"]
                results[arch]["test_accuracy"].append(res["test_accuracy"])
                print(f"{arch} seed {seed}: test {100 * res['test_accuracy']:.2f} % "
                      f"({time.monotonic() - t0:.0f} s)", file=sys.stderr, flush=True)

    base = results[archs[0]]["test_accuracy"]
    lines = [f"{seedstats.setting_text(args)}; {args.per_class} training images per class; "
             f"seeds {args.seeds}; test accuracy in %, mean ± 95 % t-interval; the difference "
             f"is taken seed by seed.", "",
             f"| arch | trainable parameters | test accuracy | − {archs[0]} | runs diverged |",
             "| --- | ---: | ---: | ---: | ---: |"]
    for arch in archs:
        r = results[arch]
        acc = r["test_accuracy"]
        diff = ([b - a for a, b in zip(base, acc)]
                if arch != archs[0] and len(acc) == len(base) else [])
        params = f"{int(r['params']):,}" if r["params"] is not None else "–"
        lines.append(f"| {arch} | {params} | {seedstats.fmt(acc)} | "
                     f"{seedstats.fmt(diff) if diff else '–'} | "
                     f"{r['diverged']} of {len(seeds)} |")
    text = "\n".join(lines) + "\n"
    with open(args.out, "w") as f:
        f.write(text)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"setting": seedstats.setting_text(args), "per_class": args.per_class,
                       "seeds": seeds, "results": results}, f, indent=1)
    print(text)


if __name__ == "__main__":
    main()
