#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# Exports each of the 22 classification families of torchvision 0.14 with seeded random
# weights and non-trivial batch-norm statistics (the randomization of
# tests/pytorch/onnx-compare.py), opset 13 or 17 where 13 cannot export, and for each reports
# whether cnnscope opens it (or its error), the logits and input-gradient errors against
# PyTorch autograd in float64 (as onnx-compare.py measures them, with PyTorch's own float32
# input-gradient error beside), the load time (ours: nn_model_load of the .onnx file;
# PyTorch: building the model and loading its state dict from a .pt file) and the forward
# time of one sample (medians), ours against PyTorch with the same thread count. Prints a
# Markdown table and writes it to --out. With --cache DIR the exports and the accuracy
# columns are kept in DIR and reused: run once on a busy machine to fill it, then again on an
# idle one, where only the timings run. Usage:
#   bench/onnx-families.py [--build build] [--only NAME ...] [--size 224] [--threads 2]
#                          [--repeat 10] [--loads 3] [--cache DIR] [--out FILE]
import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings

try:
    import numpy as np
    import torch
    import torchvision
except ImportError as e:
    print(f"onnx-families: skipped ({e})")
    sys.exit(0)

HERE = os.path.dirname(os.path.abspath(__file__))


def load_compare():
    """tests/pytorch/onnx-compare.py as a module (its name is not an identifier)."""
    path = os.path.join(HERE, "..", "tests", "pytorch", "onnx-compare.py")
    spec = importlib.util.spec_from_file_location("onnx_compare", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


compare = load_compare()

# The families, each with its smallest member; the input size a family cannot do without
# (None: any size given by --size, at least `minimum`).
FAMILIES = [
    ("alexnet", None), ("vgg11_bn", None), ("resnet18", None), ("resnet50", None),
    ("resnext50_32x4d", None), ("wide_resnet50_2", None), ("densenet121", None),
    ("squeezenet1_1", None), ("mobilenet_v2", None), ("regnet_x_400mf", None),
    ("googlenet", None), ("inception_v3", None), ("mobilenet_v3_small", None),
    ("efficientnet_b0", None), ("efficientnet_v2_s", None), ("regnet_y_400mf", None),
    ("mnasnet0_5", None), ("shufflenet_v2_x0_5", None), ("convnext_tiny", None),
    ("vit_b_16", 224), ("swin_t", None), ("maxvit_t", 224),
]
MINIMUM_SIZE = {"inception_v3": 75, "alexnet": 63}


def build(name, seed):
    torch.manual_seed(seed)
    kwargs = {}
    if name in ("googlenet", "inception_v3"):
        kwargs = {"aux_logits": False, "init_weights": False}
    net = getattr(torchvision.models, name)(**kwargs)
    compare.randomize(net, seed)
    return net


def export(net, name, size, tmp):
    """The .onnx file and its opset, or None and the exporter's error."""
    path = os.path.join(tmp, f"{name}-{size}.onnx")
    error = None
    for opset in (13, 17):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                torch.onnx.export(net, torch.zeros(1, 3, size, size), path, opset_version=opset,
                                  input_names=["input"], output_names=["logits"],
                                  training=torch.onnx.TrainingMode.EVAL)
            return path, opset
        except Exception as e:  # the exporter raises many kinds
            error = f"{type(e).__name__}: {str(e).splitlines()[0][:200]}"
    return None, error


def torch_reference(net, x):
    """Float64 logits and input gradient of the top class's logit, the top class, and the
    error of PyTorch's own float32 input gradient against the float64 one."""
    net64 = net.double()
    x64 = torch.from_numpy(x).double().requires_grad_(True)
    logits = net64(x64)
    k = int(logits.detach().argmax(1)[0])
    logits[0, k].backward()
    net.float()
    x32 = torch.from_numpy(x).requires_grad_(True)
    net(x32)[0, k].backward()
    torch32 = compare.rel_err(x32.grad.double().numpy(), x64.grad.numpy())
    return logits.detach().numpy(), x64.grad.numpy(), k, torch32


def median_ms(fn, repeat):
    fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000.0)
    return statistics.median(times)


def torch_times(net, name, x, tmp, repeat, loads):
    pt = os.path.join(tmp, name + ".pt")
    torch.save(net.state_dict(), pt)

    def load():
        fresh = build(name, 0)
        fresh.load_state_dict(torch.load(pt))
        fresh.eval()
        return fresh

    load_ms = statistics.median([median_ms(load, 1) for _ in range(loads)])
    # A fresh copy: the reference run left the model converted twice and holding gradients.
    fresh = load()
    xt = torch.from_numpy(x)
    with torch.no_grad():
        forward_ms = median_ms(lambda: fresh(xt), repeat)
    return load_ms, forward_ms


def our_grads(build_dir, path, x, k, tmp):
    """Our logits and input gradient (onnx-grads), or None and the error."""
    x.tofile(os.path.join(tmp, "input.bin"))
    out = tempfile.mkdtemp(dir=tmp)
    run = subprocess.run([os.path.join(build_dir, "tests", "pytorch", "onnx-grads"), path,
                          os.path.join(tmp, "input.bin"), "input", out, str(k)],
                         capture_output=True, text=True)
    if run.returncode != 0:
        message = run.stderr.strip().splitlines()[-1] if run.stderr.strip() else "failed"
        return None, message.replace("onnx-grads: ", "").replace(path, os.path.basename(path))
    logits = np.fromfile(os.path.join(out, "logits.bin"), "<f4")
    grad = np.fromfile(os.path.join(out, "input_grad.bin"), "<f4").reshape(x.shape)
    return (logits, grad), None


def our_times(build_dir, path, x, tmp, repeat, loads, threads):
    """Our load and forward times (onnx-time), or None and the error."""
    x.tofile(os.path.join(tmp, "input.bin"))
    run = subprocess.run([os.path.join(build_dir, "tests", "pytorch", "onnx-time"), path,
                          os.path.join(tmp, "input.bin"), str(loads), str(repeat),
                          str(threads)], capture_output=True, text=True)
    if run.returncode != 0:
        return None, run.stderr.strip()
    return json.loads(run.stdout), None


def accuracy(name, size, net, x, args, tmp, work):
    """The export and the accuracy columns as a dict (error set when a step failed), read
    from the cache folder when it holds them."""
    cached = os.path.join(tmp, f"{name}-{size}-{args.seed}.json")
    if args.cache and os.path.exists(cached):
        with open(cached) as f:
            return json.load(f)
    path, opset = export(net, name, size, tmp)
    if path is None:
        return {"error": f"does not export: {opset}"}
    ref_logits, ref_grad, k, torch32 = torch_reference(net, x)
    result, error = our_grads(args.build, path, x, k, work)
    if result is None:
        done = {"path": path, "opset": opset, "error": error.replace("|", "/")}
    else:
        logits, grad = result
        logits_err = compare.rel_err(logits.reshape(ref_logits.shape), ref_logits)
        done = {"path": path, "opset": opset, "logits_err": float(logits_err),
                "grad_err": float(compare.rel_err(grad, ref_grad)), "torch32": float(torch32)}
    if args.cache:
        with open(cached + ".part", "w") as f:
            json.dump(done, f)
        os.replace(cached + ".part", cached)
    return done


def row(name, size, args, tmp, work):
    net = build(name, args.seed)
    rng = np.random.default_rng(args.seed)
    x = rng.standard_normal((1, 3, size, size)).astype(np.float32)
    acc = accuracy(name, size, net, x, args, tmp, work)
    if "path" not in acc:
        return f"| {name} | {size} | | {acc['error']} | | | | | | |"
    if "error" in acc:
        return f"| {name} | {size} | {acc['opset']} | {acc['error']} | | | | | | |"
    path = acc["path"]
    times, error = our_times(args.build, path, x, work, args.repeat, args.loads, args.threads)
    if times is None:
        return f"| {name} | {size} | {acc['opset']} | {error.replace('|', '/')} | | | | | | |"
    torch_load, torch_forward = torch_times(net.float().eval(), name, x, work, args.repeat,
                                            args.loads)
    return (f"| {name} | {size} | {acc['opset']} | opens | {acc['logits_err']:.1e} | "
            f"{acc['grad_err']:.1e} ({acc['torch32']:.1e}) | "
            f"{times['load_ms']:.0f} / {torch_load:.0f} | "
            f"{times['forward_ms']:.1f} / {torch_forward:.1f} | "
            f"{times['forward_ms'] / torch_forward:.2f} | {os.path.getsize(path) / 1e6:.0f} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--build", default="build", help="the meson build folder")
    parser.add_argument("--only", action="append", help="run only this family (repeatable)")
    parser.add_argument("--size", type=int, default=224,
                        help="input size of the families that take any")
    parser.add_argument("--threads", type=int, default=2, help="threads, ours and PyTorch's")
    parser.add_argument("--repeat", type=int, default=10, help="forward passes timed")
    parser.add_argument("--loads", type=int, default=3, help="loads timed")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--out", help="also write the table to this file")
    parser.add_argument("--cache", help="keep the exports and accuracy columns in this folder")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    lines = [
        f"torchvision {torchvision.__version__}, PyTorch {torch.__version__}, "
        f"{args.threads} threads, batch 1, seed {args.seed}; errors relative to the largest "
        f"float64 value; times are medians in ms (ours / PyTorch).",
        "",
        "| family | px | opset | opens | logits | input grad (PyTorch f32) | load | forward | "
        "forward ratio | MB |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    print("\n".join(lines), flush=True)
    if args.cache:
        os.makedirs(args.cache, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        for name, fixed in FAMILIES:
            if args.only and name not in args.only:
                continue
            size = fixed or max(args.size, MINIMUM_SIZE.get(name, 32))
            lines.append(row(name, size, args, args.cache or work, work))
            print(lines[-1], flush=True)
    if args.out:
        with open(args.out, "w") as f:
            f.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
