# SPDX-License-Identifier: MIT
# Shared by the experiment scripts in bench/: one seeded `cnnscope-cli train --json` run, and a
# mean with its 95 % Student t-interval over seeds.
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


def cli_path(build):
    path = os.path.join(build, "cli", "cnnscope-cli")
    if not os.access(path, os.X_OK):
        raise SystemExit(f"{path}: not built (run ninja -C {build})")
    return path


def train(cli, out_dir, name, options, nice=True):
    """Runs `cnnscope-cli train ... --json` and returns its JSON object, or None when the loss
    diverged (NaN or infinite: a result of the setting, reported as such); the model file goes
    to out_dir/name.safetensors and is removed afterwards."""
    model = os.path.join(out_dir, name + ".safetensors")
    cmd = (["nice", "-n", "10"] if nice else []) + [cli, "train"] + options + [
        "--out", model, "--json"]
    run = subprocess.run(cmd, capture_output=True, text=True)
    if run.returncode != 0 and "the loss became" in run.stderr:
        return None
    if run.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{run.stderr}")
    if os.path.exists(model):
        os.remove(model)
    return json.loads(run.stdout)
