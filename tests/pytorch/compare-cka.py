#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# Checks `cnnscope-cli compare` against NumPy: two models of the same graph with different
# seeded weights run over a folder of random images in PyTorch (float64), each layer's linear
# CKA computed in NumPy from the centred Gram matrices (the textbook form, Kornblith et al.
# 2019, eq. 1 with HSIC's 1/(n-1)² cancelling), and each layer's weight change from the tensors.
# Prints one line per case and ends with "compare-cka: N passed, N failed". Exits 0 when all
# pass.
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cnnscope_torch  # noqa: E402

# (arch, channels, size, classes, width, features, images)
CASES = [
    ("smallcnn", 1, 28, 3, 0.25, "flatten", 60),
    ("smallcnn", 1, 28, 3, 0.25, "pool", 60),
    ("resnet18", 3, 32, 4, 0.125, "flatten", 40),
    ("resnet18", 3, 32, 4, 0.125, "pool", 40),
]

TOLERANCE = 1e-4


def linear_cka(x, y):
    """CKA of x (n, dx) and y (n, dy) through centred Gram matrices, in float64."""
    n = x.shape[0]
    h = np.eye(n) - np.ones((n, n)) / n
    k = h @ (x @ x.T) @ h
    l = h @ (y @ y.T) @ h
    kk, ll = np.sum(k * k), np.sum(l * l)
    if kk == 0 or ll == 0:
        return float("nan")
    return float(np.sum(k * l) / np.sqrt(kk * ll))


def write_images(root, c, size, classes, count, seed):
    """count random images under root/test/<class>/ (and the same under train/)."""
    rng = np.random.default_rng(seed)
    images = []
    for i in range(count):
        k = i % classes
        pixels = rng.integers(0, 256, (size, size, c) if c == 3 else (size, size),
                              dtype=np.uint8)
        for split in ("train", "test"):
            d = os.path.join(root, split, f"class{k}")
            os.makedirs(d, exist_ok=True)
            Image.fromarray(pixels, "RGB" if c == 3 else "L").save(
                os.path.join(d, f"{i:04d}.png"))
        images.append(pixels)
    return images


def features(path, images, c, mode):
    """Every node's output (but the input's) over images, as (n, d) float64 arrays."""
    net = cnnscope_torch.load(path).double().eval()
    meta, tensors = cnnscope_torch.read_safetensors(path)
    mean = np.array(json.loads(meta["mean"]))[:c]
    std = np.array(json.loads(meta["std"]))[:c]
    x = np.stack([im.reshape(im.shape[0], im.shape[1], -1) for im in images]) / 255.0
    x = (x - mean) / std
    x = torch.from_numpy(x.transpose(0, 3, 1, 2).copy())
    with torch.no_grad():
        net(x)
    out = {}
    for node in net.nodes[1:]:
        y = net.outs[node["name"]].numpy()
        if mode == "pool" and y.ndim == 4:
            y = y.mean(axis=(2, 3))
        out[node["name"]] = y.reshape(y.shape[0], -1)
    return out, tensors


def weight_change(ta, tb, name):
    keys = [k for k in ta if k.startswith(name + ".") and k[len(name) + 1:] in ("weight", "bias")]
    if not keys:
        return None
    diff = sum(float(np.sum((tb[k].astype(np.float64) - ta[k]) ** 2)) for k in keys)
    norm = sum(float(np.sum(ta[k].astype(np.float64) ** 2)) for k in keys)
    return np.sqrt(diff / norm)


def run_case(build, tmp, case):
    arch, c, size, classes, width, mode, count = case
    paths = []
    for seed in (3, 4):
        p = os.path.join(tmp, f"{arch}-{seed}.safetensors")
        subprocess.run([os.path.join(build, "tests", "pytorch", "make-model"), arch, str(c),
                        str(size), str(size), str(classes), str(width), p, str(seed)],
                       check=True)
        paths.append(p)
    data = os.path.join(tmp, f"data-{arch}")
    if not os.path.isdir(data):
        write_images(data, c, size, classes, count, 11)
    images = []
    for k in range(classes):
        d = os.path.join(data, "test", f"class{k}")
        images += [np.asarray(Image.open(os.path.join(d, f))) for f in sorted(os.listdir(d))]
    run = subprocess.run([os.path.join(build, "cli", "cnnscope-cli"), "compare", paths[0],
                          paths[1], "--data", data, "--features", mode, "--json"],
                         check=True, capture_output=True, text=True)
    ours = json.loads(run.stdout)
    if ours["n"] != count:
        raise ValueError(f"compare used {ours['n']} images of {count}")
    fa, ta = features(paths[0], images, c, mode)
    fb, tb = features(paths[1], images, c, mode)
    worst_cka = worst_dist = 0.0
    worst = ""
    for layer in ours["layers"]:
        name = layer["name"]
        ref = linear_cka(fa[name], fb[name])
        got = layer["cka"]
        if np.isnan(ref) != (got is None):
            raise ValueError(f"{name}: CKA {got}, NumPy {ref}")
        if got is not None and abs(got - ref) > worst_cka:
            worst_cka, worst = abs(got - ref), name
        ref_d = weight_change(ta, tb, name)
        if (ref_d is None) != (layer["weight_change"] is None):
            raise ValueError(f"{name}: weight change {layer['weight_change']}, NumPy {ref_d}")
        if ref_d is not None:
            worst_dist = max(worst_dist, abs(layer["weight_change"] - ref_d) / ref_d)
    return worst_cka, worst_dist, worst, len(ours["layers"])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", default="build")
    args = parser.parse_args()
    build = os.path.abspath(args.build)
    passed = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for case in CASES:
            label = "{} {}x{}x{} width {} {} features, {} images".format(
                case[0], case[1], case[2], case[2], case[4], case[5], case[6])
            try:
                err_cka, err_dist, worst, n = run_case(build, tmp, case)
            except (subprocess.CalledProcessError, ValueError, KeyError, OSError) as e:
                print(f"FAIL {label}: {e}")
                failed += 1
                continue
            ok = err_cka <= TOLERANCE and err_dist <= TOLERANCE
            print("{} {}: {} layers, largest CKA difference {:.2e} ({}), weight change "
                  "relative error {:.2e}".format("ok  " if ok else "FAIL", label, n, err_cka,
                                                 worst, err_dist))
            passed += ok
            failed += not ok
    print(f"compare-cka: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
