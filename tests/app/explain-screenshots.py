#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# Screenshots of torchvision's efficientnet_b0 and vit_b_16 (seeded random weights, eval mode,
# exported to ONNX at 224 px) in the application's Activations and Explain views under Xvfb,
# through tests/app/screenshots: Grad-CAM at the default layer, and for the ViT also attention
# rollout and gradient-weighted attention. Usage: explain-screenshots.py --build BUILD --out DIR
# [--cache DIR] (the .onnx files are kept in --cache and exported only when missing).
import argparse
import os
import subprocess
import sys
import warnings

try:
    import torch
    import torchvision
except ImportError as e:
    print(f"explain-screenshots: skipped ({e})")
    sys.exit(0)

MODELS = [
    ("efficientnet_b0", lambda: torchvision.models.efficientnet_b0(), ["gradcam"]),
    ("vit_b_16", lambda: torchvision.models.vit_b_16(), ["gradcam", "rollout", "attn-grad"]),
]


def export(name, make, path, seed=3):
    """The model with seeded random weights and batch-norm statistics, exported at 224 px; a
    linear layer torchvision starts at zero (ViT's head, whose logits would all be 0 and every
    gradient with them) gets PyTorch's default random initialization."""
    torch.manual_seed(seed)
    net = make().eval()
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, torch.nn.Linear) and not m.weight.any():
                m.reset_parameters()
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(net, torch.zeros(1, 3, 224, 224), path, opset_version=13,
                          input_names=["input"], output_names=["logits"])


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--build", default="build")
    parser.add_argument("--out", required=True)
    parser.add_argument("--cache", default=None)
    parser.add_argument("--only", action="append")
    args = parser.parse_args()
    torch.set_num_threads(2)
    cache = args.cache or os.path.join(args.out, "models")
    os.makedirs(cache, exist_ok=True)
    source = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    image = os.path.join(source, "data", "samples", "fashion-sneaker.png")
    env = dict(os.environ, CNNSCOPE_DATA_DIR=os.path.join(source, "data"),
               GSETTINGS_BACKEND="memory", GTK_A11Y="none", NO_AT_BRIDGE="1",
               GSETTINGS_SCHEMA_DIR=os.path.join(os.path.abspath(args.build), "resources"))
    failed = 0
    for name, make, methods in MODELS:
        if args.only and name not in args.only:
            continue
        path = os.path.join(cache, name + ".onnx")
        if not os.path.exists(path):
            export(name, make, path)
        run = subprocess.run(["xvfb-run", "-a", "-s", "-screen 0 1600x1000x24",
                              os.path.join(args.build, "tests", "app", "ui-screenshots"), args.out,
                              path, image] + methods, env=env)
        print(f"explain-screenshots: {name} {'ok' if run.returncode == 0 else 'FAIL'}",
              flush=True)
        failed += run.returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
