#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# Builds the same networks with the same weights in cnnscope and PyTorch and compares logits,
# the input gradient and every parameter gradient of a mean cross-entropy loss, then Grad-CAM
# (at the layer and upsampled) and the input gradient of one class logit. Prints one line per
# case and ends with "compare: N passed, N failed". Exits 0 when all pass.
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cnnscope_torch  # noqa: E402

# (arch, channels, size, classes, width, mode). VGG has dropout, so only eval mode matches.
CASES = [
    ("smallcnn", 1, 28, 10, 1.0, "train"),
    ("smallcnn", 1, 28, 10, 1.0, "eval"),
    ("resnet18", 3, 32, 10, 0.25, "train"),
    ("resnet18", 3, 32, 10, 0.25, "eval"),
    ("resnet18", 3, 64, 7, 0.125, "eval"),
    # full width: layer1 and layer2 take Winograd F(4x4, 3x3) (64 and 128 channels)
    ("resnet18", 3, 64, 10, 1.0, "train"),
    ("resnet18", 3, 64, 10, 1.0, "eval"),
    ("pfnet18", 3, 32, 10, 0.25, "train"),
    ("pfnet18", 1, 28, 10, 0.25, "eval"),
    ("vgg11_bn", 3, 32, 10, 0.125, "eval"),
    ("fpnet", 3, 32, 10, 0.5, "train"),
    ("fpnet", 3, 32, 10, 0.5, "eval"),
]

# Grad-CAM cases: (arch, channels, size, classes, width, layer or "-" for the default, class
# or -1 for the top prediction).
CAM_CASES = [
    ("resnet18", 3, 32, 10, 0.25, "-", -1),
    ("resnet18", 3, 64, 7, 0.125, "-", 3),
    ("resnet18", 3, 64, 7, 0.125, "layer3.1.relu2", -1),
    ("resnet18", 3, 64, 7, 1.0, "layer2.1.relu2", -1),
    ("vgg11_bn", 3, 32, 10, 0.125, "-", -1),
    ("pfnet18", 1, 28, 10, 0.25, "-", -1),
    ("smallcnn", 1, 28, 10, 1.0, "-", -1),
]

TOLERANCE = 1e-4


def rel_err(ours, ref, floor=1e-12):
    """Largest difference relative to the largest reference value (at least `floor`)."""
    scale = max(float(np.abs(ref).max()), floor)
    return float(np.abs(ours - ref).max()) / scale


def draw_input(net, shape, classes, seed, mode):
    """A seeded input whose ReLU pre-activations all stay at least 2e-6 away from 0."""
    net.train(mode == "train")
    for attempt in range(50):
        rng = np.random.default_rng(seed + 1000 * attempt)
        x = rng.standard_normal(shape).astype(np.float32)
        with torch.no_grad():
            net(torch.from_numpy(x).double())
        if net.relu_margin > 2e-6:
            return x, rng.integers(0, classes, shape[0])
    raise ValueError("no input keeps its ReLU pre-activations away from 0")


def run_case(build, tmp, case, batch=3, seed=7):
    arch, c, size, classes, width, mode = case
    path = os.path.join(tmp, f"{arch}-{mode}.safetensors")
    subprocess.run([os.path.join(build, "tests", "pytorch", "make-model"), arch, str(c),
                    str(size), str(size), str(classes), str(width), path, str(seed)],
                   check=True)
    net = cnnscope_torch.load(path).double()
    x, labels = draw_input(net, (batch, c, size, size), classes, seed, mode)
    x.tofile(os.path.join(tmp, "input.bin"))
    out = tempfile.mkdtemp(dir=tmp)
    subprocess.run([os.path.join(build, "tests", "pytorch", "torch-grads"), path,
                    os.path.join(tmp, "input.bin"), mode, out] + [str(v) for v in labels],
                   check=True)

    net = cnnscope_torch.load(path).double()
    net.train(mode == "train")
    xt = torch.from_numpy(x).double().requires_grad_(True)
    logits = net(xt)
    loss = torch.nn.functional.cross_entropy(logits, torch.from_numpy(labels))
    loss.backward()

    errors = {"logits": rel_err(np.fromfile(os.path.join(out, "logits.bin"), "<f4")
                                .reshape(batch, classes), logits.detach().numpy()),
              "input_grad": rel_err(np.fromfile(os.path.join(out, "input_grad.bin"), "<f4")
                                    .reshape(x.shape), xt.grad.numpy())}
    # A tensor whose gradient vanishes mathematically (a batch-norm shift followed only by
    # train-mode batch norms) is measured against the typical gradient size instead of its own
    # rounding noise.
    grads = {name: p.grad.numpy() for name, p in net.named_cnnscope_parameters()
             if p.grad is not None and os.path.exists(os.path.join(out, name + ".grad.bin"))}
    typical = float(np.median([np.abs(g).max() for g in grads.values()]))
    worst_param, worst = "", 0.0
    for name, ref in grads.items():
        ours = np.fromfile(os.path.join(out, name + ".grad.bin"), "<f4").reshape(ref.shape)
        e = rel_err(ours, ref, 1e-2 * typical)
        if e >= worst:
            worst_param, worst = name, e
    errors["param_grads"] = worst
    return errors, worst_param


def run_cam_case(build, tmp, case, seed=11):
    arch, c, size, classes, width, layer, target = case
    path = os.path.join(tmp, f"{arch}-cam.safetensors")
    subprocess.run([os.path.join(build, "tests", "pytorch", "make-model"), arch, str(c),
                    str(size), str(size), str(classes), str(width), path, str(seed)],
                   check=True)
    net = cnnscope_torch.load(path).double()
    x, _ = draw_input(net, (1, c, size, size), classes, seed, "eval")
    x.tofile(os.path.join(tmp, "input.bin"))
    if target < 0:
        with torch.no_grad():
            target = int(net(torch.from_numpy(x).double()).argmax())
    out = tempfile.mkdtemp(dir=tmp)
    name = subprocess.run([os.path.join(build, "tests", "pytorch", "torch-cam"), path,
                           os.path.join(tmp, "input.bin"), layer, str(target), out],
                          check=True, capture_output=True, text=True).stdout.strip()

    # Grad-CAM as pytorch-grad-cam computes it: a full backward of the class logit, the layer's
    # gradient averaged over positions weighs its channels; ReLU, then bilinear upsampling.
    net.eval()
    xt = torch.from_numpy(x).double().requires_grad_(True)
    logits = net(xt)
    act = net.outs[name]
    act.retain_grad()
    logits[0, target].backward()
    weights = act.grad.mean(dim=(2, 3), keepdim=True)
    cam = (weights * act).sum(dim=1, keepdim=True)
    up = torch.nn.functional.interpolate(torch.relu(cam), size=(size, size), mode="bilinear",
                                         align_corners=False)
    h, w = act.shape[2], act.shape[3]
    read = lambda f, shape: np.fromfile(os.path.join(out, f), "<f4").reshape(shape)  # noqa: E731
    errors = {"cam_layer": rel_err(read("cam_layer.bin", (h, w)), cam.detach().numpy()[0, 0]),
              "cam": rel_err(read("cam.bin", (size, size)), up.detach().numpy()[0, 0]),
              "input_grad": rel_err(read("input_grad.bin", x.shape[1:]), xt.grad.numpy()[0])}
    return errors, name, target


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", default="build")
    args = parser.parse_args()
    build = os.path.abspath(args.build)
    torch.manual_seed(0)
    passed = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for case in CASES:
            label = "{} {}x{}x{} width {} {}".format(case[0], case[1], case[2], case[2], case[4],
                                                   case[5])
            try:
                errors, worst_param = run_case(build, tmp, case)
            except (subprocess.CalledProcessError, ValueError, KeyError, OSError) as e:
                print(f"FAIL {label}: {e}")
                failed += 1
                continue
            ok = all(v <= TOLERANCE for v in errors.values())
            print("{} {}: max relative error logits {:.2e}, input gradient {:.2e}, "
                  "parameter gradients {:.2e} (worst: {})".format(
                      "ok  " if ok else "FAIL", label, errors["logits"], errors["input_grad"],
                      errors["param_grads"], worst_param))
            passed += ok
            failed += not ok
        for case in CAM_CASES:
            label = "gradcam {} {}x{}x{} width {} layer {} class {}".format(
                case[0], case[1], case[2], case[2], case[4], case[5], case[6])
            try:
                errors, name, target = run_cam_case(build, tmp, case)
            except (subprocess.CalledProcessError, ValueError, KeyError, OSError) as e:
                print(f"FAIL {label}: {e}")
                failed += 1
                continue
            ok = all(v <= TOLERANCE for v in errors.values())
            print("{} {} ({}, class {}): max relative error Grad-CAM at the layer {:.2e}, "
                  "upsampled {:.2e}, input gradient {:.2e}".format(
                      "ok  " if ok else "FAIL", label, name, target, errors["cam_layer"],
                      errors["cam"], errors["input_grad"]))
            passed += ok
            failed += not ok
    print(f"compare: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
