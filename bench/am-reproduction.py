#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# Reproduces, at our scale, the claim of Linse, Barth and Martinetz (2024) that ProxyGrad finds
# higher activation maxima than plain gradient ascent: for every channel of several layers and
# every class logit of each model, runs `cnnscope-cli am` with the exact gradient and with
# ProxyGrad (same start, steps and transforms) and prints a Markdown table per model: ratios of
# the final objectives, and of the best objectives along each run (the image a user keeps).
# Usage: bench/am-reproduction.py [--build build] [--steps N] MODEL:LAYER,LAYER,... ...
# (the layer name "logits" stands for every class logit).
import argparse
import json
import os
import statistics
import subprocess
import sys
import time


def run_am(cli, model, layer, policy, args):
    if args.max_channels and layer != "logits":
        chosen = ["--channel", ",".join(str(k) for k in range(args.max_channels))]
    else:
        chosen = ["--all-channels", "--batch", str(args.batch)]
    cmd = [cli, "am", model] + chosen + ["--steps",
           str(args.steps), "--lr", str(args.lr), "--seed", str(args.seed), "--transforms",
           args.transforms, "--policy", policy, "--json"]
    cmd += ["--objective", "logit"] if layer == "logits" else ["--layer", layer]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    channels = json.loads(out)["channels"]
    return ([c["objective"] for c in channels], [c["best_objective"] for c in channels],
            " ".join(cmd[1:]))


def summarize(plain, proxy):
    """Ratios ProxyGrad / plain over the channels whose plain maximum is positive (a ratio
    means nothing otherwise); the share where ProxyGrad is higher over all channels."""
    ratios = [q / p for p, q in zip(plain, proxy) if p > 0]
    higher = sum(q > p for p, q in zip(plain, proxy)) / len(plain)
    return {
        "median": statistics.median(ratios) if ratios else float("nan"),
        "mean": statistics.fmean(ratios) if ratios else float("nan"),
        "higher": higher,
        "n": len(plain),
        "n_ratio": len(ratios),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", default="build")
    parser.add_argument("--steps", type=int, default=64)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--transforms", default="jitter")
    parser.add_argument("--betas", default="0.1,0.3,0.6,1.0")
    parser.add_argument("--full-betas", default="0.3,0.6",
                        help="betas also run with the full proxy (proxygrad-full)")
    parser.add_argument("--max-channels", type=int, default=0,
                        help="only channels 0 .. N-1 of each layer (default: all; logits: all)")
    parser.add_argument("--json", help="also write every final and best objective to this file")
    parser.add_argument("specs", nargs="+", metavar="MODEL:LAYER,...")
    args = parser.parse_args()
    cli = os.path.join(os.path.abspath(args.build), "cli", "cnnscope-cli")
    betas = [b for b in args.betas.split(",") if b]
    full = [b for b in args.full_betas.split(",") if b]
    policies = [f"proxygrad:{b}" for b in betas] + [f"proxygrad-full:{b}" for b in full]

    print(f"steps {args.steps}, lr {args.lr}, normalized gradient ascent on pixels, "
          f"transforms {args.transforms}, seed {args.seed} (the same start for every policy)\n")
    raw = {}
    for spec in args.specs:
        model, layers = spec.split(":", 1)
        print(f"### {os.path.basename(model)}\n")
        print("| layer | channels | policy | median ratio | mean ratio | ProxyGrad higher | "
              "best: median ratio | best: ProxyGrad higher |")
        print("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |")
        for layer in layers.split(","):
            t0 = time.time()
            plain, plain_best, cmd = run_am(cli, model, layer, "exact", args)
            raw[f"{model}:{layer}:exact"] = {"final": plain, "best": plain_best}
            for policy in policies:
                proxy, proxy_best, _ = run_am(cli, model, layer, policy, args)
                raw[f"{model}:{layer}:{policy}"] = {"final": proxy, "best": proxy_best}
                s = summarize(plain, proxy)
                b = summarize(plain_best, proxy_best)
                excluded = f" ({s['n'] - s['n_ratio']} with plain <= 0 left out of the ratios)" \
                    if s["n_ratio"] < s["n"] else ""
                print(f"| {layer} | {s['n']} | {policy} | {s['median']:.3f} | {s['mean']:.3f} | "
                      f"{100.0 * s['higher']:.0f}%{excluded} | {b['median']:.3f} | "
                      f"{100.0 * b['higher']:.0f}% |")
            sys.stdout.flush()
            print(f"<!-- {layer}: {time.time() - t0:.0f} s; plain run: cnnscope-cli {cmd} -->",
                  file=sys.stderr)
        print()
    if args.json:
        with open(args.json, "w") as f:
            json.dump(raw, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
