#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# Runs cnnscope's benchmark workloads and the same workloads in PyTorch CPU, with the same
# thread count, on the same machine, in one run; prints medians, ratios (ours / PyTorch) and
# peak memory. Usage: bench/compare-pytorch.py [--build build] [--threads N] [--repeat N]
# [--only WORKLOAD] [--no-winograd] [--no-fold]; --no-winograd runs ours with the 3x3
# convolutions through im2col only, --no-fold without batch norms folded into the convolutions
# at inference (cnnscope-cli bench's options of the same names), to measure what each gains.
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "pytorch"))


def timed(fn, repeat):
    fn()
    fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000.0)
    return times


def smallcnn_train_step(torch):
    nn = torch.nn
    model = nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True,
                          weight_decay=5e-4)
    x = torch.randn(64, 1, 28, 28)
    y = torch.randint(0, 10, (64,))

    def step():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
    return step


def forward_only(torch, model, shape):
    model.eval()
    x = torch.randn(*shape)

    def run():
        with torch.no_grad():
            model(x)
    return run


def gradcam(torch, model, shape):
    """Grad-CAM as pytorch-grad-cam runs it: the input and every parameter require gradients,
    a forward hook keeps layer4's output, the class logit's backward runs through the whole
    network (autograd's default), then weights, ReLU and bilinear upsampling."""
    model.eval()
    x = torch.randn(*shape)
    kept = {}

    def hook(module, inputs, output):
        output.retain_grad()
        kept["a"] = output
    model.layer4.register_forward_hook(hook)

    def run():
        model.zero_grad(set_to_none=True)
        xin = x.clone().requires_grad_(True)
        out = model(xin)
        out[0, int(out.argmax())].backward()
        a = kept["a"]
        w = a.grad.mean(dim=(2, 3), keepdim=True)
        cam = torch.relu((w * a).sum(dim=1, keepdim=True))
        torch.nn.functional.interpolate(cam.detach(), size=shape[2:], mode="bilinear",
                                        align_corners=False)
    return run


def am_step_layer3(torch, torchvision):
    """One activation-maximization step of a layer3 channel of ResNet-18 at 224 px: forward up
    to layer3, gradient to the input only (weights frozen), normalized ascent, clamp."""
    m = torchvision.models.resnet18().eval()
    trunk = torch.nn.Sequential(m.conv1, m.bn1, m.relu, m.maxpool, m.layer1, m.layer2, m.layer3)
    for p in trunk.parameters():
        p.requires_grad_(False)
    x = (torch.randn(1, 3, 224, 224) * 0.4).requires_grad_(True)

    def step():
        x.grad = None
        obj = trunk(x)[0, 7].mean()
        obj.backward()
        with torch.no_grad():
            g = x.grad
            x.add_(0.05 * g / g.pow(2).mean().sqrt())
            x.clamp_(-2.0, 2.0)
    return step


def torch_workload(name, threads, repeat, build):
    """Runs one workload in this (child) process; returns median ms and peak RSS in MB."""
    import torch
    torch.set_num_threads(threads)
    if name == "smallcnn_train_step_b64_28px":
        fn = smallcnn_train_step(torch)
    elif name == "resnet18_forward_224":
        import torchvision
        fn = forward_only(torch, torchvision.models.resnet18(), (1, 3, 224, 224))
    elif name == "resnet18_gradcam_224":
        import torchvision
        fn = gradcam(torch, torchvision.models.resnet18(), (1, 3, 224, 224))
    elif name == "resnet18_am_step_layer3_224":
        import torchvision
        fn = am_step_layer3(torch, torchvision)
    elif name == "pfnet18_forward_224":
        import cnnscope_torch
        path = os.path.join(build, "bench-pfnet18.safetensors")
        subprocess.run([os.path.join(build, "tests", "pytorch", "make-model"), "pfnet18",
                        "3", "224", "224", "1000", "1", path], check=True)
        fn = forward_only(torch, cnnscope_torch.load(path), (1, 3, 224, 224))
    else:
        return None
    times = timed(fn, repeat)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    return {"median_ms": statistics.median(times), "min_ms": min(times),
            "max_ms": max(times), "peak_rss_mb": rss}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", default="build")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--only", help="run one workload")
    parser.add_argument("--no-winograd", action="store_true",
                        help="ours without Winograd (3x3 convolutions through im2col)")
    parser.add_argument("--no-fold", action="store_true",
                        help="ours without inference folding")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    build = os.path.abspath(args.build)

    if args.child:
        print(json.dumps(torch_workload(args.child, args.threads, args.repeat, build)))
        return 0

    cli = os.path.join(build, "cli", "cnnscope-cli")
    only = ["--only", args.only] if args.only else []
    only += ["--no-winograd"] if args.no_winograd else []
    only += ["--no-fold"] if args.no_fold else []
    ours = json.loads(subprocess.run(
        [cli, "bench", "--json", "--threads", str(args.threads), "--repeat", str(args.repeat)]
        + only, check=True, capture_output=True, text=True).stdout)
    peak = next((w for w in ours["workloads"] if w["name"] == "sgemm_peak"), None)

    print(f"threads: {args.threads}, repeats: {args.repeat} (medians); ours with Winograd "
          f"{'on' if ours.get('winograd', True) else 'off'}, folding "
          f"{'on' if ours.get('fold', True) else 'off'}")
    cpu = ours.get("cpu")
    if cpu:
        features = " ".join(f for f in ("avx2", "avx512f", "fma") if cpu.get(f)) or "none"
        print(f"CPU: {cpu.get('model') or 'unknown'}; features: {features}; "
              f"OpenBLAS kernels: {cpu.get('blas_core')}")
    if peak:
        print(f"OpenBLAS sgemm peak (1024^3): {peak['gflops']:.1f} GFLOP/s")
    print(f"{'workload':32} {'ours ms':>9} {'torch ms':>9} {'ratio':>7} {'GFLOP/s':>8} "
          f"{'ours MB':>8} {'torch MB':>9}")
    rows = []
    for w in ours["workloads"]:
        if w["name"] == "sgemm_peak":
            continue
        child = subprocess.run([sys.executable, __file__, "--child", w["name"], "--build", build,
                                "--threads", str(args.threads), "--repeat", str(args.repeat)],
                               capture_output=True, text=True)
        ref = json.loads(child.stdout) if child.returncode == 0 and child.stdout.strip() else None
        ratio = w["median_ms"] / ref["median_ms"] if ref else float("nan")
        rows.append({"name": w["name"], "ours": w, "torch": ref, "ratio": ratio})
        print(f"{w['name']:32} {w['median_ms']:9.2f} "
              f"{(ref['median_ms'] if ref else float('nan')):9.2f} {ratio:7.3f} "
              f"{w.get('gflops', float('nan')):8.1f} {w.get('peak_rss_mb', float('nan')):8.1f} "
              f"{(ref['peak_rss_mb'] if ref else float('nan')):9.1f}")
        if child.returncode != 0:
            print(child.stderr, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
