#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# Times the many-pass explanation methods (Score-CAM at the last spatial layer, SmoothGrad with
# 25 copies, Integrated Gradients with 50 steps, a 20-step deletion curve) on torchvision's
# ResNet-18 and MobileNet-V2 at 224 px: cnnscope (the model exported to ONNX, the map alone through nn_explain_run, at the
# batch it chooses) against the same definitions in plain PyTorch, batched as pytorch-grad-cam
# batches Score-CAM (16 masked inputs per forward). Same thread count, same machine, one run;
# prints medians, ratios (ours / PyTorch) and peak memory.
# Usage: bench/compare-explain.py [--build build] [--threads N] [--repeat N] [--size PX]
#        [--only WORKLOAD] [--cache DIR]
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

# pytorch-grad-cam's default batch of masked inputs per forward pass.
TORCH_BATCH = 16

# The models (torchvision builders), and the methods with their samples (SmoothGrad's copies,
# IG's steps, the deletion curve's steps: 21 images, the map a random one).
MODELS = ["resnet18", "mobilenet_v2"]
METHODS = {
    "scorecam": 0,
    "smoothgrad25": 25,
    "ig50": 50,
    "deletion20": 20,
}


def workloads(size):
    return [f"{m}_{k}_{size}" for m in MODELS for k in METHODS]


def split(name):
    """"mobilenet_v2_ig50_224" -> ("mobilenet_v2", "ig50")."""
    model, method, _ = name.rsplit("_", 2)
    return model, method


def build_model(torch, torchvision, model_name):
    """The torchvision model with random weights and batch-norm statistics, in eval mode."""
    torch.manual_seed(1)
    net = getattr(torchvision.models, model_name)()
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            with torch.no_grad():
                m.running_mean.normal_(0.0, 0.1)
                m.running_var.uniform_(0.5, 1.5)
    return net.eval()


def last_spatial_module(net, model_name):
    """The module whose output is cnnscope's default layer (the last with spatial extent)."""
    return net.layer4 if model_name == "resnet18" else net.features


def onnx_path(cache, size, model_name):
    return os.path.join(cache, f"{model_name}-{size}.onnx")


def export(cache, size, model_name):
    """Writes the ONNX file of the model (in a child process: the peak RSS a process reports
    includes its parent's at the fork, so the parent never imports torch)."""
    import torch
    import torchvision
    import warnings
    path = onnx_path(cache, size, model_name)
    os.makedirs(cache, exist_ok=True)
    net = build_model(torch, torchvision, model_name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(net, torch.zeros(1, 3, size, size), path + ".tmp", opset_version=14,
                          input_names=["input"], output_names=["logits"])
    os.replace(path + ".tmp", path)


def timed(fn, repeat):
    fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000.0)
    return times


def scorecam(torch, net, layer, x):
    """w_k = softmax (f (x * M_k))_c with M_k = A_k upsampled (bilinear, pixel centres aligned)
    and scaled to [0, 1]; the masked inputs go through the model TORCH_BATCH at a time, as
    pytorch-grad-cam runs them; map = relu (sum_k w_k A_k), upsampled."""
    kept = {}
    layer.register_forward_hook(lambda m, i, o: kept.__setitem__("a", o))
    F = torch.nn.functional

    def run():
        with torch.no_grad():
            logits = net(x)
            target = int(logits.argmax())
            a = kept["a"]
            up = F.interpolate(a, size=x.shape[2:], mode="bilinear", align_corners=False)[0]
            flat = up.reshape(up.shape[0], -1)
            lo = flat.min(dim=1)[0][:, None, None]
            hi = flat.max(dim=1)[0][:, None, None]
            masks = torch.where(hi > lo, (up - lo) / (hi - lo), torch.zeros_like(up))
            masked = x[0][None] * masks[:, None]
            weights = []
            for i in range(0, masked.shape[0], TORCH_BATCH):
                out = net(masked[i:i + TORCH_BATCH])
                weights.append(torch.softmax(out, dim=1)[:, target])
            w = torch.cat(weights)
            cam = torch.relu((w[:, None, None] * a[0]).sum(dim=0))
            F.interpolate(cam[None, None], size=x.shape[2:], mode="bilinear",
                          align_corners=False)
    return run


def input_gradients(torch, net, inputs, target):
    """d logit_target / d input for each of the inputs, TORCH_BATCH per pass."""
    grads = []
    for i in range(0, inputs.shape[0], TORCH_BATCH):
        xb = inputs[i:i + TORCH_BATCH].clone().requires_grad_(True)
        net(xb)[:, target].sum().backward()
        grads.append(xb.grad)
    return torch.cat(grads)


def smoothgrad(torch, net, x, samples):
    """Mean gradient over noisy copies (sigma 0.15 of the input's range) and the mean of their
    max over channels of |gradient|: cnnscope's definition."""
    def run():
        with torch.no_grad():
            target = int(net(x).argmax())
        sigma = 0.15 * float(x.max() - x.min())
        noisy = x + sigma * torch.randn(samples, *x.shape[1:])
        g = input_gradients(torch, net, noisy, target)
        g.mean(dim=0)
        g.abs().amax(dim=1).mean(dim=0)
    return run


def integrated_gradients(torch, net, x, steps):
    """(x - x') times the mean gradient at the midpoints of the path from x' = 0; map = sum over
    channels."""
    def run():
        with torch.no_grad():
            target = int(net(x).argmax())
        alphas = (torch.arange(steps, dtype=torch.float32) + 0.5) / steps
        points = alphas[:, None, None, None] * x
        g = input_gradients(torch, net, points, target)
        (x[0] * g.mean(dim=0)).sum(dim=0)
    return run


def deletion(torch, net, x, steps):
    """The deletion curve of a random map: the pixels by decreasing map value, the first
    round (i H W / steps) of them set to 0 in every channel for i = 0 .. steps, the target's
    softmax probability for each image, the images TORCH_BATCH per pass."""
    torch.manual_seed(6)
    hw = x.shape[2] * x.shape[3]
    saliency = torch.randn(hw)

    def run():
        with torch.no_grad():
            target = int(net(x).argmax())
            order = torch.argsort(saliency, descending=True, stable=True)
            images = x.repeat(steps + 1, 1, 1, 1).reshape(steps + 1, x.shape[1], hw)
            for i in range(steps + 1):
                images[i, :, order[:round(i * hw / steps)]] = 0.0
            images = images.reshape(steps + 1, *x.shape[1:])
            probs = [torch.softmax(net(images[i:i + TORCH_BATCH]), dim=1)[:, target]
                     for i in range(0, steps + 1, TORCH_BATCH)]
            torch.cat(probs)
    return run


def torch_workload(name, threads, repeat, size):
    """Runs one workload in this (child) process; median ms and peak RSS in MB. The weights do
    not require gradients (only the input's are wanted); autograd still keeps what the input
    gradient needs."""
    import torch
    import torchvision
    torch.set_num_threads(threads)
    model_name, method = split(name)
    net = build_model(torch, torchvision, model_name)
    for p in net.parameters():
        p.requires_grad_(False)
    torch.manual_seed(5)
    x = torch.randn(1, 3, size, size)
    if method == "scorecam":
        fn = scorecam(torch, net, last_spatial_module(net, model_name), x)
    elif method == "smoothgrad25":
        fn = smoothgrad(torch, net, x, METHODS[method])
    elif method == "ig50":
        fn = integrated_gradients(torch, net, x, METHODS[method])
    else:
        fn = deletion(torch, net, x, METHODS[method])
    times = timed(fn, repeat)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    return {"median_ms": statistics.median(times), "min_ms": min(times), "max_ms": max(times),
            "peak_rss_mb": rss}


def ours_workload(build, cache, name, threads, repeat, size):
    model_name, method = split(name)
    path = onnx_path(cache, size, model_name)
    if not os.path.exists(path):  # cached: exporting is slow
        subprocess.run([sys.executable, __file__, "--export", model_name, "--size", str(size),
                        "--cache", cache], check=True)
    tool = os.path.join(build, "tests", "pytorch", "explain-time")
    cnn_method = {"scorecam": "scorecam", "smoothgrad25": "smoothgrad", "ig50": "ig",
                  "deletion20": "deletion"}[method]
    out = subprocess.run([tool, path, cnn_method, str(METHODS[method]), str(threads), "0",
                          str(repeat)], check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", default="build")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--size", type=int, default=224, help="input side in px")
    parser.add_argument("--only", help="run one workload, e.g. resnet18_scorecam_224")
    parser.add_argument("--cache", default=os.path.join("/tmp", "cnnscope-bench"),
                        help="where the exported ONNX files are kept")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--export", help=argparse.SUPPRESS)
    args = parser.parse_args()
    build = os.path.abspath(args.build)

    if args.export:
        export(args.cache, args.size, args.export)
        return 0

    if args.child:
        print(json.dumps(torch_workload(args.child, args.threads, args.repeat, args.size)))
        return 0

    names = workloads(args.size)
    if args.only:
        if args.only not in names:
            print(f"unknown workload {args.only}; one of {', '.join(names)}", file=sys.stderr)
            return 2
        names = [args.only]
    print(f"threads: {args.threads}, repeats: {args.repeat} (medians), PyTorch batch "
          f"{TORCH_BATCH}")
    print(f"{'workload':28} {'ours ms':>9} {'torch ms':>9} {'ratio':>7} {'batch':>6} "
          f"{'ours MB':>8} {'torch MB':>9}")
    for name in names:
        ours = ours_workload(build, args.cache, name, args.threads, args.repeat, args.size)
        child = subprocess.run([sys.executable, __file__, "--child", name, "--threads",
                                str(args.threads), "--repeat", str(args.repeat), "--size",
                                str(args.size)], capture_output=True, text=True)
        ref = json.loads(child.stdout) if child.returncode == 0 and child.stdout.strip() else None
        if child.returncode != 0:
            print(child.stderr, file=sys.stderr)
        ratio = ours["median_ms"] / ref["median_ms"] if ref else float("nan")
        print(f"{name:28} {ours['median_ms']:9.1f} "
              f"{(ref['median_ms'] if ref else float('nan')):9.1f} {ratio:7.3f} "
              f"{ours['batch']:6d} {ours['peak_rss_mb']:8.1f} "
              f"{(ref['peak_rss_mb'] if ref else float('nan')):9.1f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
