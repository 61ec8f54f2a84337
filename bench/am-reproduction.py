#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# Checks, at our scale and over five seeds, the claim of Linse, Barth and Martinetz (2024) that
# ProxyGrad finds higher activation maxima than plain gradient ascent (docs/am-reproduction.md):
# for the first channels of several layers and every class logit of three Fashion-MNIST models,
# `cnnscope-cli am` with the exact gradient and with ProxyGrad (straight-through and full proxy,
# several slopes) from the same start, in two settings (ours: normalized steps with jitter; the
# paper's as far as it is known: plain gradient steps in the box [-1, 1], no transforms). Prints
# Markdown tables: the share of channels where ProxyGrad ends higher (final and best objective)
# and the mean ratio ProxyGrad / plain, each a mean with its 95 % interval over the seeds.
# Usage (niced; every run is one thread): nice -n 10 bench/am-reproduction.py [--build build]
#     [--models DIR] [--json FILE] [--report JSON...] [options]
import argparse
import json
import os
import statistics
import struct
import subprocess
import sys
import tempfile
import time

import seedstats

DEMO_LAYERS = "layer2.1.relu2,layer4.1.relu2,logits"
SMALL_LAYERS = "relu1,relu2,relu3,logits"

# The two models trained for the study (seeded; about 70 s and 25 s on one idle thread).
TRAINED = {
    "resnet18-fashion": ["--arch", "resnet18", "--width", "0.125", "--data", "fashion-mnist",
                         "--per-class", "2000", "--epochs", "2", "--lr", "0.05", "--seed", "1",
                         "--threads", "1"],
    "smallcnn-fashion": ["--arch", "smallcnn", "--width", "0.5", "--data", "fashion-mnist",
                         "--epochs", "2", "--lr", "0.05", "--seed", "1", "--threads", "1"],
}


def ensure_model(cli, models, name):
    """models/name.safetensors, trained here (seed 1) when it is not there yet."""
    path = os.path.join(models, name + ".safetensors")
    if not os.path.exists(path):
        os.makedirs(models, exist_ok=True)
        cmd = [cli, "train"] + TRAINED[name] + ["--out", path, "--json"]
        print("training: " + " ".join(cmd[1:]), file=sys.stderr, flush=True)
        run = subprocess.run(cmd, capture_output=True, text=True)
        if run.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed:\n{run.stderr}")
        res = json.loads(run.stdout)
        print(f"{name}: test accuracy {100 * res['test_accuracy']:.1f} %", file=sys.stderr)
    return path


def am(cli, model, layer, channels, options):
    """The JSON of one `cnnscope-cli am` run of the given channels (classes for logits)."""
    cmd = [cli, "am", model, "--channel", ",".join(map(str, channels))]
    cmd += ["--objective", "logit"] if layer == "logits" else ["--layer", layer]
    cmd += options + ["--json"]
    run = subprocess.run(cmd, capture_output=True, text=True)
    if run.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{run.stderr}")
    return json.loads(run.stdout)


def layer_channels(cli, model, layer, limit):
    """Channels 0 .. limit - 1 of the layer (every class of the logits)."""
    out = subprocess.run([cli, "info", model, "--json"], check=True, capture_output=True,
                         text=True).stdout
    info = json.loads(out)
    if layer == "logits":
        return list(range(info["n_classes"]))
    for node in info["nodes"]:
        if node["name"] == layer:
            return list(range(min(limit, node["output_shape"][0])))
    raise SystemExit(f"{model}: no layer {layer}")


def paper_lr(cli, model, layer, channels, target, tmp):
    """The plain step size mu of the paper's setting for this layer: the first step of exact
    ascent (seed 1) moves the image by an RMS of `target`, on average over the channels (the
    gradient at the start is read from two one-step runs with mu = 1 and 2 in a wide box)."""
    images = []
    for mu in (1, 2):
        npy = os.path.join(tmp, f"calib-{mu}.npy")
        am(cli, model, layer, channels, ["--optimizer", "sgd", "--lr", str(mu), "--steps", "1",
                                          "--clip", "-1000,1000", "--transforms", "none",
                                          "--seed", "1", "--npy", npy])
        images.append(read_npy(npy))
    rms = []
    n = len(images[0]) // len(channels)
    for k in range(len(channels)):
        g = [b - a for a, b in zip(images[0][k * n:(k + 1) * n], images[1][k * n:(k + 1) * n])]
        rms.append((sum(v * v for v in g) / n) ** 0.5)
    mean_rms = statistics.fmean(rms)
    if mean_rms <= 0:
        raise SystemExit(f"{model} {layer}: zero gradient at the start for every channel")
    return target / mean_rms


def read_npy(path):
    """The float32 values of a little-endian .npy file (version 1 header, as ours), flat."""
    with open(path, "rb") as f:
        data = f.read()
    header_len = struct.unpack("<H", data[8:10])[0]
    body = data[10 + header_len:]
    return list(struct.unpack(f"<{len(body) // 4}f", body))


def compare(plain, proxy):
    """Share of channels where ProxyGrad is strictly higher; mean ratio ProxyGrad / plain over
    the channels whose plain value is positive (None when there are none); their count."""
    higher = sum(q > p for p, q in zip(plain, proxy)) / len(plain)
    ratios = [q / p for p, q in zip(plain, proxy) if p > 0]
    return higher, (statistics.fmean(ratios) if ratios else None), len(ratios)


def cell(values, scale=100.0, digits=0):
    vals = [v for v in values if v is not None]
    if not vals:
        return "-"
    mean, half = seedstats.mean_ci(vals)
    extra = f" ({len(vals)} seeds)" if len(vals) < len(values) else ""
    if half != half:  # nan: one seed
        return f"{scale * mean:.{digits}f}{extra}"
    return f"{scale * mean:.{digits}f} ± {scale * half:.{digits}f}{extra}"


def summarize(raw, policies, seeds):
    """Per (setting, model): rows (layer, channels, mu, {policy: metric lists over seeds})."""
    tables = {}
    for key, entry in raw["layers"].items():
        name, layer, setting = key.split("|")
        runs = entry["runs"]
        rows = {}
        for pol in policies:
            r = {"higher": [], "higher_best": [], "ratio": [], "ratio_best": [], "n_ratio": []}
            for seed in seeds:
                plain, proxy = runs.get(f"{seed}:exact"), runs.get(f"{seed}:{pol}")
                if plain is None or proxy is None:
                    continue
                hf, rf, nf = compare(plain["final"], proxy["final"])
                hb, rb, _ = compare(plain["best"], proxy["best"])
                r["higher"].append(hf)
                r["higher_best"].append(hb)
                r["ratio"].append(rf)
                r["ratio_best"].append(rb)
                r["n_ratio"].append(nf)
            if r["higher"]:
                rows[pol] = r
        tables.setdefault((setting, name), []).append((layer, entry["channels"], entry["mu"],
                                                       rows))
    return tables


def print_tables(raw, policies, seeds):
    print(f"Seeds {','.join(map(str, seeds))}, {raw['steps']} steps, channels 0 to "
          f"{raw['max_channels'] - 1} of each layer and every class logit; every cell is a mean "
          f"± 95 % t-interval over the seeds.\n")
    tables = summarize(raw, policies, seeds)
    for setting in ("ours", "paper"):
        for (s, name), entries in tables.items():
            if s != setting:
                continue
            print(f"### {name}, {'our setting' if s == 'ours' else 'the paper setting'}\n")
            mu_col = " mu |" if s == "paper" else ""
            print(f"| layer | ch |{mu_col} policy | higher, final % | higher, best % | "
                  f"mean ratio, final | mean ratio, best |")
            print("| --- | ---: |" + (" ---: |" if s == "paper" else "") +
                  " --- | ---: | ---: | ---: | ---: |")
            for layer, n, mu, rows in entries:
                for pol, r in rows.items():
                    left = min(r["n_ratio"])
                    note = f" ({n - left} with plain <= 0 left out)" if left < n else ""
                    mu_cell = f" {mu:.3g} |" if s == "paper" else ""
                    print(f"| {layer} | {n} |{mu_cell} {pol} | {cell(r['higher'])} | "
                          f"{cell(r['higher_best'])} | {cell(r['ratio'], 1, 3)}{note} | "
                          f"{cell(r['ratio_best'], 1, 3)} |")
            print()


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--build", default="build")
    p.add_argument("--models", default="/tmp/am-repro",
                   help="where the trained ResNet-18 and small CNN are (trained if missing)")
    p.add_argument("--seeds", default="1,2,3,4,5")
    p.add_argument("--max-channels", type=int, default=6,
                   help="channels 0 .. N-1 of each layer (the logits: every class)")
    p.add_argument("--steps", type=int, default=64)
    p.add_argument("--betas", default="0.1,0.3,0.6,1.0")
    p.add_argument("--settings", default="ours,paper")
    p.add_argument("--paper-target", type=float, default=0.05,
                   help="RMS of the first exact step in the paper's setting (sets mu per layer)")
    p.add_argument("--specs", nargs="*", metavar="MODEL:LAYER,...",
                   help="default: the demo PFNet, the ResNet-18 and the small CNN (a model "
                   "trained:NAME is one of the two trained for the study, in --models)")
    p.add_argument("--json", help="write every final and best objective to this file (after "
                   "each layer, so an interrupted run keeps what it did)")
    p.add_argument("--report", metavar="JSON", nargs="+",
                   help="print the tables of --json files (of the same settings) instead of "
                   "running")
    args = p.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    betas = [b for b in args.betas.split(",") if b]
    policies = [f"proxygrad:{b}" for b in betas] + [f"proxygrad-full:{b}" for b in betas]
    if args.report:
        raw = None
        for path in args.report:
            with open(path) as f:
                part = json.load(f)
            if raw is None:
                raw = part
            else:
                raw["layers"].update(part["layers"])
        print_tables(raw, policies, seeds)
        return 0
    cli = os.path.abspath(seedstats.cli_path(args.build))
    specs = args.specs or [
        f"data/demo-pfnet-fashion.safetensors:{DEMO_LAYERS}",
        f"trained:resnet18-fashion:{DEMO_LAYERS}",
        f"trained:smallcnn-fashion:{SMALL_LAYERS}",
    ]
    settings = [s for s in args.settings.split(",") if s]
    if args.json and os.path.dirname(args.json):
        os.makedirs(os.path.dirname(args.json), exist_ok=True)
    t_start = time.monotonic()
    raw = {"steps": args.steps, "max_channels": args.max_channels, "layers": {}}
    with tempfile.TemporaryDirectory(prefix="am-repro-") as tmp:
        for spec in specs:
            if spec.startswith("trained:"):
                _, trained, layers = spec.split(":", 2)
                model = ensure_model(cli, args.models, trained)
            else:
                model, layers = spec.split(":", 1)
            name = os.path.basename(model)
            for layer in layers.split(","):
                channels = layer_channels(cli, model, layer, args.max_channels)
                for setting in settings:
                    if setting == "ours":
                        base = ["--optimizer", "nga", "--lr", "0.05", "--transforms", "jitter"]
                        mu = None
                    else:
                        mu = paper_lr(cli, model, layer, channels, args.paper_target, tmp)
                        base = ["--optimizer", "sgd", "--lr", f"{mu:.6g}", "--clip", "-1,1",
                                "--transforms", "none"]
                    base += ["--steps", str(args.steps)]
                    t0 = time.monotonic()
                    runs = {}
                    for seed in seeds:
                        for pol in ["exact"] + policies:
                            res = am(cli, model, layer, channels,
                                     base + ["--seed", str(seed), "--policy", pol])
                            runs[f"{seed}:{pol}"] = {
                                "final": [c["objective"] for c in res["channels"]],
                                "best": [c["best_objective"] for c in res["channels"]]}
                    raw["layers"][f"{name}|{layer}|{setting}"] = {
                        "channels": len(channels), "mu": mu, "options": base, "runs": runs}
                    if args.json:
                        with open(args.json, "w") as f:
                            json.dump(raw, f)
                    print(f"{name} {layer} {setting}: {time.monotonic() - t0:.0f} s "
                          f"(total {time.monotonic() - t_start:.0f} s)", file=sys.stderr,
                          flush=True)
    print_tables(raw, policies, seeds)
    print(f"Wall-clock time {time.monotonic() - t_start:.0f} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
