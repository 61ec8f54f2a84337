# SPDX-License-Identifier: MIT
# Shared by the experiment scripts in bench/: one seeded `cnnscope-cli train --json` run (its
# result cached per option list, so an interrupted script resumes), and a mean with its 95 %
# Student t-interval over seeds.
import hashlib
import json
import math
import os
import statistics
import subprocess

# Two-sided 95 % quantiles of Student's t, t_{0.975, df}, for df = 1 .. 30.
T_975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179,
         2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
         2.060, 2.056, 2.052, 2.048, 2.045, 2.042]


def mean_ci(values):
    """(mean, half-width of the 95 % t-interval); the half-width is nan for fewer than two."""
    n = len(values)
    if n == 0:
        return float("nan"), float("nan")
    mean = statistics.fmean(values)
    if n < 2:
        return mean, float("nan")
    t = T_975[n - 2] if n - 1 <= len(T_975) else 1.960
    return mean, t * statistics.stdev(values) / math.sqrt(n)


def fmt(values, scale=100.0, digits=1):
    """'mean ± half' in percent (scale 100) for a markdown cell."""
    mean, half = mean_ci(values)
    if math.isnan(half):
        return f"{scale * mean:.{digits}f}"
    return f"{scale * mean:.{digits}f} ± {scale * half:.{digits}f}"


def add_train_options(p, epochs, batch, lr, width, weight_decay):
    """The training setting shared by few-data.py and fpnet.py (their runs share the cache
    when the setting is the same)."""
    p.add_argument("--data", default="fashion-mnist")
    p.add_argument("--epochs", type=int, default=epochs)
    p.add_argument("--batch", type=int, default=batch)
    p.add_argument("--lr", type=float, default=lr)
    p.add_argument("--optimizer", default="sgd")
    p.add_argument("--weight-decay", type=float, default=weight_decay)
    p.add_argument("--width", type=float, default=width)
    p.add_argument("--bn-batches", type=int, default=50,
                   help="precise batch norm over this many training batches per epoch")
    p.add_argument("--augment", action="store_true")
    p.add_argument("--test-per-class", type=int, default=0,
                   help="evaluate on a seeded subset of the test split (0: all of it)")
    p.add_argument("--threads", type=int, default=1)


def train_options(args, arch, per_class, seed, extra=()):
    """`cnnscope-cli train` options for the setting of add_train_options."""
    opts = ["--arch", arch, "--data", args.data, "--per-class", str(per_class), "--epochs",
            str(args.epochs), "--batch", str(args.batch), "--lr", str(args.lr), "--optimizer",
            args.optimizer, "--weight-decay", str(args.weight_decay), "--width", str(args.width),
            "--bn-batches", str(args.bn_batches), "--seed", str(seed), "--threads",
            str(args.threads)]
    if args.augment:
        opts.append("--augment")
    if args.test_per_class:
        opts += ["--test-per-class", str(args.test_per_class)]
    return opts + list(extra)


def setting_text(args):
    """The setting of add_train_options in words, for a table's caption."""
    test = "all" if not args.test_per_class else f"{args.test_per_class} per class"
    return (f"Dataset {args.data}, {args.epochs} epochs, batch {args.batch}, {args.optimizer} "
            f"lr {args.lr}, weight decay {args.weight_decay}, width {args.width}, precise batch "
            f"norm over {args.bn_batches} batches{', augmented' if args.augment else ''}, test "
            f"{test}")


def cli_path(build):
    path = os.path.join(build, "cli", "cnnscope-cli")
    if not os.access(path, os.X_OK):
        raise SystemExit(f"{path}: not built (run ninja -C {build})")
    return path


DEFAULT_CACHE = os.path.join(os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")),
                             "cnnscope-bench")


def add_cache_option(parser):
    parser.add_argument("--cache", default=DEFAULT_CACHE,
                        help="directory of finished runs (one JSON file per option list), "
                        "so that a restarted script resumes; '' for none")


def train(cli, out_dir, name, options, nice=True, cache=""):
    """Runs `cnnscope-cli train ... --json` and returns its JSON object, or None when the loss
    diverged (NaN or infinite: a result of the setting, reported as such); the model file goes
    to out_dir/name.safetensors and is removed afterwards. With a cache directory, a run whose
    option list was finished before is read from there instead (the key is the option list,
    not the binary: clear the cache after changing the engine)."""
    path = None
    if cache:
        key = hashlib.sha256("\0".join(options).encode()).hexdigest()[:24]
        path = os.path.join(cache, key + ".json")
        if os.path.exists(path):
            with open(path) as f:
                saved = json.load(f)
            return None if saved.get("diverged") else saved
    model = os.path.join(out_dir, name + ".safetensors")
    cmd = (["nice", "-n", "10"] if nice else []) + [cli, "train"] + options + [
        "--out", model, "--json"]
    run = subprocess.run(cmd, capture_output=True, text=True)
    diverged = run.returncode != 0 and "the loss became" in run.stderr
    if run.returncode != 0 and not diverged:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{run.stderr}")
    if os.path.exists(model):
        os.remove(model)
    result = None if diverged else json.loads(run.stdout)
    if path:
        os.makedirs(cache, exist_ok=True)
        with open(path + ".tmp", "w") as f:
            json.dump({"options": options, "diverged": True} if diverged
                      else dict(result, options=options), f)
        os.replace(path + ".tmp", path)
    return result
