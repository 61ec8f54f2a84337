#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# Exports torchvision classifiers and a PFNet built in PyTorch (random weights, eval mode) with
# torch.onnx.export, runs each .onnx file through cnnscope's importer and engine
# (tests/pytorch/onnx-grads) and compares with PyTorch autograd in float64: the logits (within
# 1e-4 of the largest logit, also from a context without gradients, where batch norms fold into
# the convolutions), the input gradient of the top class's logit and its Grad-CAM map
# at the last spatial layer (within 1e-3; for ViT, a token layer, the engine's map on the patch
# grid against PyTorch's with the class token dropped and the patch tokens reshaped to their
# grid, as pytorch-grad-cam's reshape_transform does; its attention rollout against one
# computed here from each block's attention inputs, and its gradient-weighted attention, all
# blocks and the first alone, against one from each block's attention written out in PyTorch
# with autograd, within 1e-3). PyTorch's own float32 input
# gradient is measured against the same float64 reference: in a deep random network some ReLU
# or max-pool decisions sit within float32 rounding and flip, and ours may then be as far off
# as PyTorch's float32 run (up to 3x), never more. Where ours is further off, the ReLU inputs
# within TIE of zero (relative to their layer's largest value) are flipped one by one in the
# float64 reference, and ours passes when it matches the reference with some of them flipped: a
# decision that close to zero may fall either way in float32 (Winograd's rounding differs from
# PyTorch's), but nothing else may differ. Prints one line per model and ends with
# "onnx-compare: N passed, N failed". Also checks the layer names against named_modules():
# every convolution and linear module is a layer of that name (but the linear layers attention
# modules call functionally), and every layer is named after
# a module (with a "_N" suffix for a second call, ".partN" for a part of a long concatenation,
# ".inK" for an operand reshaped to its rank, transposed or made from a constant) or is a
# top-level functional op. Exits 0 when
# all pass; skips when torch is missing.
import argparse
import os
import re
import subprocess
import sys
import tempfile
import warnings

try:
    import numpy as np
    import torch
    import torchvision
except ImportError as e:
    print(f"onnx-compare: skipped ({e})")
    sys.exit(0)

LOGIT_TOL = 1e-4
GRAD_TOL = 1e-3
TIE = 1e-6


def rel_err(ours, ref):
    """Largest difference relative to the largest reference value."""
    scale = max(float(np.abs(ref).max()), 1e-12)
    return float(np.abs(ours - ref).max()) / scale


class PFM(torch.nn.Module):
    """Pre-defined filter module: frozen depthwise 3x3 (f filters per input channel), BN,
    ReLU, learned 1x1 conv without bias, BN."""

    def __init__(self, cin, cout, f, stride):
        super().__init__()
        self.dw = torch.nn.Conv2d(cin, cin * f, 3, stride, 1, groups=cin, bias=False)
        self.dw.weight.requires_grad_(False)
        self.bn1 = torch.nn.BatchNorm2d(cin * f)
        self.relu = torch.nn.ReLU()
        self.pw = torch.nn.Conv2d(cin * f, cout, 1, bias=False)
        self.bn2 = torch.nn.BatchNorm2d(cout)

    def forward(self, x):
        return self.bn2(self.pw(self.relu(self.bn1(self.dw(x)))))


class PFBlock(torch.nn.Module):
    """PFM -> ReLU -> PFM plus the shortcut (blur -> strided 1x1 conv -> BN when the shape
    changes), then ReLU."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.pfm1 = PFM(cin, cout, 1, stride)
        self.relu = torch.nn.ReLU()
        self.pfm2 = PFM(cout, cout, 1, 1)
        self.shortcut = torch.nn.Identity()
        if stride != 1 or cin != cout:
            blur = torch.nn.Conv2d(cin, cin, 3, 1, 1, groups=cin, bias=False)
            blur.weight.requires_grad_(False)
            self.shortcut = torch.nn.Sequential(blur, torch.nn.Conv2d(cin, cout, 1, stride,
                                                                      bias=False),
                                                torch.nn.BatchNorm2d(cout))
        self.relu_out = torch.nn.ReLU()

    def forward(self, x):
        return self.relu_out(self.pfm2(self.relu(self.pfm1(x))) + self.shortcut(x))


class PFNet(torch.nn.Module):
    """A PFNet-18 (docs/architecture.md, "PFNet") at width 16..128, for the comparison only."""

    def __init__(self, classes=10, width=16):
        super().__init__()
        self.stem = PFM(3, width, 16, 1)
        self.relu = torch.nn.ReLU()
        self.pool = torch.nn.MaxPool2d(3, 2, 1)
        layers, cin = [], width
        for i, stride in enumerate((1, 2, 2, 2)):
            cout = width * 2 ** i
            layers.append(torch.nn.Sequential(PFBlock(cin, cout, stride),
                                              PFBlock(cout, cout, 1)))
            cin = cout
        self.layer1, self.layer2, self.layer3, self.layer4 = layers
        self.avgpool = torch.nn.AdaptiveAvgPool2d(1)
        self.fc = torch.nn.Linear(cin, classes)

    def forward(self, x):
        x = self.pool(self.relu(self.stem(x)))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


# name, builder, input size, opset, the module whose output is the Grad-CAM layer, the
# name that layer gets in cnnscope (from the ONNX node name), and "tokens" for a layer of
# (class token + patch tokens, features). "-bn" keeps the batch norms as
# BatchNormalization nodes (the exporter otherwise folds them into the convolutions) and
# skips constant folding.
CASES = [
    ("resnet18", lambda: torchvision.models.resnet18(num_classes=10), 64, 14,
     lambda m: m.layer4[1].relu, "layer4.1.relu_1"),
    ("resnet18-opset9", lambda: torchvision.models.resnet18(num_classes=10), 64, 9,
     lambda m: m.layer4[1].relu, "layer4.1.relu_1"),
    ("resnet18-bn", lambda: torchvision.models.resnet18(num_classes=10), 64, 17,
     lambda m: m.layer4[1].relu, "layer4.1.relu_1"),
    # AlexNet's adaptive pool needs its 6x6 features: 224 px.
    ("alexnet", lambda: torchvision.models.alexnet(num_classes=10), 224, 13,
     lambda m: m.features[11], "features.11"),
    ("resnet50", lambda: torchvision.models.resnet50(num_classes=10), 64, 13,
     lambda m: m.layer4[2].relu, "layer4.2.relu_2"),
    ("resnext50_32x4d", lambda: torchvision.models.resnext50_32x4d(num_classes=10), 64, 13,
     lambda m: m.layer4[2].relu, "layer4.2.relu_2"),
    ("wide_resnet50_2", lambda: torchvision.models.wide_resnet50_2(num_classes=10), 64, 13,
     lambda m: m.layer4[2].relu, "layer4.2.relu_2"),
    ("regnet_x_400mf", lambda: torchvision.models.regnet_x_400mf(num_classes=10), 64, 13,
     lambda m: m.trunk_output, "trunk_output.block4.block4-11.activation"),
    # Without the auxiliary classifiers, which eval mode does not run.
    ("googlenet", lambda: torchvision.models.googlenet(num_classes=10, aux_logits=False,
                                                       init_weights=True), 64,
     13, lambda m: m.inception5b, "inception5b"),
    # Inception-V3 needs 75 px at least; 128 px leaves a 2x2 map.
    ("inception_v3", lambda: torchvision.models.inception_v3(num_classes=10, aux_logits=False,
                                                             init_weights=True),
     128, 13, lambda m: m.Mixed_7c, "Mixed_7c_2"),
    ("vgg11_bn", lambda: torchvision.models.vgg11_bn(num_classes=10), 224, 14,
     lambda m: m.features[28], "features.28"),
    ("mobilenet_v2", lambda: torchvision.models.mobilenet_v2(num_classes=10), 64, 14,
     lambda m: m.features[18][2], "features.18.2"),
    # DenseNet applies an in-place F.relu to norm5's output: the hooked tensor becomes the
    # output of that ReLU (ONNX node "/Relu").
    ("densenet121", lambda: torchvision.models.densenet121(num_classes=10), 64, 14,
     lambda m: m.features.norm5, "relu"),
    ("squeezenet1_1", lambda: torchvision.models.squeezenet1_1(num_classes=10), 64, 14,
     lambda m: m.features[12], "features.12"),
    # Squeeze-and-excitation: (B, C, H, W) * (B, C, 1, 1) of two run-time tensors.
    ("mobilenet_v3_small", lambda: torchvision.models.mobilenet_v3_small(num_classes=10), 64,
     13, lambda m: m.features[12], "features.12.2_1"),
    ("efficientnet_b0", lambda: torchvision.models.efficientnet_b0(num_classes=10), 64, 13,
     lambda m: m.features[8], "features.8.2_1"),
    ("efficientnet_v2_s", lambda: torchvision.models.efficientnet_v2_s(num_classes=10), 64, 13,
     lambda m: m.features[7], "features.7.2_1"),
    ("regnet_y_400mf", lambda: torchvision.models.regnet_y_400mf(num_classes=10), 64, 13,
     lambda m: m.trunk_output, "trunk_output.block4.block4-5.activation"),
    # x.mean([2, 3]): ReduceMean over the spatial axes.
    ("mnasnet0_5", lambda: torchvision.models.mnasnet0_5(num_classes=10), 64, 13,
     lambda m: m.layers[16], "layers.16"),
    # Channel split (Slice) and channel shuffle (Reshape, Transpose, Reshape).
    ("shufflenet_v2_x0_5", lambda: torchvision.models.shufflenet_v2_x0_5(num_classes=10), 64,
     13, lambda m: m.conv5, "conv5.2"),
    # Channels-last blocks: Permute, LayerNorm decomposed (ReduceMean, Sub, Pow, Sqrt, Div),
    # Linear as MatMul of a (B, H, W, C) tensor.
    ("convnext_tiny", lambda: torchvision.models.convnext_tiny(num_classes=10), 64, 13,
     lambda m: m.features[7], "features.7.2_1"),
    # Attention: nn.MultiheadAttention moves the batch to axis 1 and merges it with the heads
    # (batch 1 export); the class token (Expand, Concat), x[:, 0] (Gather). Grad-CAM on the
    # tokens of the last block's first layer norm (the class token dropped, the patch tokens
    # reshaped to their 4x4 grid), computed from each side's activation and gradient.
    ("vit_b_16", lambda: torchvision.models.vit_b_16(image_size=64, num_classes=10), 64, 13,
     lambda m: m.encoder.layers[-1].ln_1, "encoder.layers.encoder_layer_11.ln_1_8", "tokens"),
    # Shifted windows: window partition (the batch merged with the windows), torch.roll (Slice,
    # Concat along H and W), the position bias and window mask (constants folded from Range,
    # ScatterND, Mod, Where), patch merging (Slice with step 2). At 224 px every stage is a
    # whole number of 7x7 windows; smaller inputs need a run-time Pad of H and W.
    ("swin_t", lambda: torchvision.models.swin_t(num_classes=10), 224, 13,
     lambda m: m.permute, "permute"),
    # MBConv with squeeze-and-excitation, then block and grid attention on 7x7 partitions
    # (Einsum products); every stage must be a whole number of partitions: 224 px only.
    ("maxvit_t", lambda: torchvision.models.maxvit_t(num_classes=10), 224, 13,
     lambda m: m.blocks[-1], "blocks.3.layers.1.layers.grid_attention.departition_op_1"),
    ("pfnet", lambda: PFNet(), 64, 14,
     lambda m: m.layer4[1].relu_out, "layer4.1.relu_out"),
]


def randomize(net, seed):
    """Random weights, batch norms with non-trivial statistics and affine parameters, layer norms
    with non-trivial affine parameters, ConvNeXt's layer scales (1e-6 at creation) large
    enough for the blocks to count, and PyTorch's default initialization for linear layers
    created at zero (ViT's head)."""
    torch.manual_seed(seed)
    for m in net.modules():
        if isinstance(m, torch.nn.LayerNorm) and m.elementwise_affine:
            with torch.no_grad():
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0.0, 0.1)
        if isinstance(m, torch.nn.Linear) and not m.weight.any():
            m.reset_parameters()  # ViT's head starts at zero
        if isinstance(getattr(m, "layer_scale", None), torch.nn.Parameter):
            with torch.no_grad():
                m.layer_scale.uniform_(0.1, 0.3)
        if isinstance(m, torch.nn.BatchNorm2d):
            with torch.no_grad():
                m.running_mean.normal_(0.0, 0.1)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0.0, 0.1)
    net.eval()


class ReluFlips:
    """Hooks on every torch.nn.ReLU: records the units whose input lies within TIE of zero
    (call number, index), and while `flip` names one, gives that unit the derivative of the
    other side of zero (the forward values stay the same)."""

    def __init__(self, net):
        self.handles = []
        self.near = []
        self.flip = None
        self.calls = 0
        self.inputs = None
        for m in net.modules():
            if isinstance(m, torch.nn.ReLU):
                self.handles.append(m.register_forward_pre_hook(self.pre))
                self.handles.append(m.register_forward_hook(self.post))

    def pre(self, _module, inputs):
        # In-place ReLUs overwrite their input: keep it (with its autograd history).
        self.inputs = inputs[0].clone()

    def post(self, _module, _inputs, output):
        call, t = self.calls, self.inputs
        self.calls += 1
        if self.flip is None:
            a = t.detach().abs()
            for index in torch.nonzero(a <= TIE * float(a.max())).tolist():
                self.near.append((call, tuple(index)))
            return None
        if self.flip[0] != call:
            return None
        d = (t.detach() > 0).to(t.dtype)
        d[self.flip[1]] = 1.0 - d[self.flip[1]]
        return output.detach() + d * (t - t.detach())

    def remove(self):
        for h in self.handles:
            h.remove()


def input_grad(net, x, classes, flips=None, flip=None):
    """The float64 input gradient of the given classes' logits, with ReLU unit `flip` flipped."""
    if flips is not None:
        flips.calls, flips.flip = 0, flip
    xt = torch.from_numpy(x).double().requires_grad_(True)
    logits = net(xt)
    logits[torch.arange(len(classes)), torch.from_numpy(classes)].sum().backward()
    return xt.grad.numpy()


def explain_by_ties(net, x, classes, ours, ref, tol):
    """The error of `ours` left after flipping, one by one and where it brings ours closer,
    the ReLU decisions of the float64 reference that lie within TIE of zero, and the number
    flipped."""
    flips = ReluFlips(net)
    try:
        input_grad(net, x, classes, flips)
        scale = max(float(np.abs(ref).max()), 1e-12)
        rest, flipped = ours - ref, 0
        for unit in flips.near[:64]:
            effect = input_grad(net, x, classes, flips, unit) - ref
            if np.abs(rest - effect).max() < np.abs(rest).max():
                rest, flipped = rest - effect, flipped + 1
            if np.abs(rest).max() / scale <= tol:
                break
        return float(np.abs(rest).max()) / scale, flipped
    finally:
        flips.remove()


def check_names(net, layers):
    """Layer names that do not follow named_modules(), and modules that have no layer."""
    modules = dict(net.named_modules())
    # A concatenation of more than 8 tensors is split into parts named "<layer>.partN"; an
    # operand reshaped to its exact rank is "<layer>.inK".
    def named(n):
        while True:
            if n in modules or "." not in n:
                return True
            stripped = re.sub(r"(_[0-9]+|\.part[0-9]+|\.in[0-9]+)$", "", n)
            if stripped == n:
                return False
            n = stripped

    wrong = [n for n in layers if not named(n)]
    # nn.MultiheadAttention calls its out_proj, Swin's window attention its qkv and proj
    # functionally: the exporter names those products after the attention module.
    swin = torchvision.models.swin_transformer.ShiftedWindowAttention
    inside_mha = {f"{n}.out_proj" for n, m in modules.items()
                  if isinstance(m, torch.nn.MultiheadAttention)}
    inside_mha |= {f"{n}.{child}" for n, m in modules.items() if isinstance(m, swin)
                   for child in ("qkv", "proj")}
    missing = [n for n, m in modules.items()
               if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)) and n not in layers
               and n not in inside_mha]
    return wrong, missing


def token_cam(act, grad):
    """Grad-CAM of a token layer (B, 1 + g * g, E): the class token dropped, the patch tokens
    reshaped to their g x g grid (row-major, as the patch embedding made them)."""
    b, n, e = act.shape
    g = int(round((n - 1) ** 0.5))
    grid = act[:, 1:, :].reshape(b, g, g, e).transpose(0, 3, 1, 2).astype(np.float64)
    weights = grad[:, 1:, :].reshape(b, g, g, e).transpose(0, 3, 1, 2).mean(axis=(2, 3),
                                                                           keepdims=True)
    return np.maximum((weights * grid).sum(1), 0.0)


def vit_rollout(net, inputs):
    """Attention rollout of a torchvision ViT from the inputs of each block's attention (the
    outputs of its ln_1, B, N, E): each block's attention recomputed from its in_proj, averaged
    over heads, plus the identity, rows renormalised, multiplied through the blocks; the class
    token's row over the patch tokens on their grid."""
    b, n, e = inputs[0].shape
    rollout = np.broadcast_to(np.eye(n), (b, n, n))
    for layer, x in zip(net.encoder.layers, inputs):
        mha = layer.self_attention
        h = mha.num_heads
        d = e // h
        w = mha.in_proj_weight.detach().double().numpy()
        bias = mha.in_proj_bias.detach().double().numpy()
        q = (x @ w[:e].T + bias[:e]).reshape(b, n, h, d).transpose(0, 2, 1, 3)
        k = (x @ w[e:2 * e].T + bias[e:2 * e]).reshape(b, n, h, d).transpose(0, 2, 1, 3)
        s = q @ k.transpose(0, 1, 3, 2) / np.sqrt(d)
        a = np.exp(s - s.max(-1, keepdims=True))
        a = (a / a.sum(-1, keepdims=True)).mean(1) + np.eye(n)
        rollout = (a / a.sum(-1, keepdims=True)) @ rollout
    g = int(round((n - 1) ** 0.5))
    return rollout[:, 0, 1:].reshape(b, g, g)


class ExplicitAttention(torch.nn.Module):
    """A torchvision ViT block's nn.MultiheadAttention (batch first) written out, keeping its
    attention maps (B, heads, N, N) with their gradients in `maps`."""

    def __init__(self, mha, maps):
        super().__init__()
        self.mha = mha
        self.maps = maps

    def forward(self, query, key, value, need_weights=False):
        b, n, e = query.shape
        h = self.mha.num_heads
        d = e // h
        w, bias = self.mha.in_proj_weight, self.mha.in_proj_bias
        q, k, v = (torch.nn.functional.linear(x, w[i * e:(i + 1) * e], bias[i * e:(i + 1) * e])
                   .reshape(b, n, h, d).transpose(1, 2)
                   for i, x in enumerate((query, key, value)))
        a = torch.softmax(q @ k.transpose(-1, -2) / d ** 0.5, dim=-1)
        a.retain_grad()
        self.maps.append(a)
        out = (a @ v).transpose(1, 2).reshape(b, n, e)
        return self.mha.out_proj(out), None


def vit_attn_grad(net, x, classes, logits_want):
    """Gradient-weighted attention (Chefer, Gur and Wolf 2021) of a torchvision ViT in float64
    for each sample's class: every block's attention written out (ExplicitAttention), the
    logits of the classes backpropagated, Abar = mean over heads of (dA * A)+, R = I, R += Abar R
    through the blocks; the class token's row over the patch tokens on their grid, for all
    blocks and for the first block alone (Abar's row)."""
    maps = []
    saved = [layer.self_attention for layer in net.encoder.layers]
    for layer in net.encoder.layers:
        layer.self_attention = ExplicitAttention(layer.self_attention, maps)
    try:
        logits = net(torch.from_numpy(x).double())
        assert rel_err(logits.detach().numpy(), logits_want) < 1e-10
        logits[torch.arange(len(classes)), torch.from_numpy(classes)].sum().backward()
    finally:
        for layer, mha in zip(net.encoder.layers, saved):
            layer.self_attention = mha
    b, _, n, _ = maps[0].shape
    rollout = torch.eye(n, dtype=torch.float64).expand(b, n, n)
    first = None
    for a in maps:
        abar = (a.grad * a).clamp(min=0).mean(1).detach()
        first = abar if first is None else first
        rollout = rollout + abar @ rollout
    g = int(round((n - 1) ** 0.5))
    return (rollout[:, 0, 1:].reshape(b, g, g).numpy(),
            first[:, 0, 1:].reshape(b, g, g).numpy())


def run_case(build, tmp, case, batch=2, seed=3):
    name, make, size, opset, layer_of, layer_name = case[:6]
    tokens = case[6:] == ("tokens",)
    torch.manual_seed(seed)
    net = make()
    randomize(net, seed)
    path = os.path.join(tmp, name + ".onnx")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        keep_bn = name.endswith("-bn")
        torch.onnx.export(net, torch.zeros(1, 3, size, size), path, opset_version=opset,
                          input_names=["input"], output_names=["logits"],
                          training=(torch.onnx.TrainingMode.PRESERVE if keep_bn
                                    else torch.onnx.TrainingMode.EVAL),
                          do_constant_folding=not keep_bn)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, 3, size, size)).astype(np.float32)

    # PyTorch in float64: logits, then the top class's logit per sample seeds the backward.
    net = net.double()
    captured = []

    def hook(_module, _inputs, output):
        output.retain_grad()
        captured.append(output)

    handle = layer_of(net).register_forward_hook(hook)
    block_inputs = []
    block_handles = []
    if tokens:
        for layer in net.encoder.layers:
            block_handles.append(layer.ln_1.register_forward_hook(
                lambda _m, _i, out: block_inputs.append(out.detach().numpy())))
    xt = torch.from_numpy(x).double().requires_grad_(True)
    logits = net(xt)
    handle.remove()
    for h in block_handles:
        h.remove()
    classes = logits.detach().argmax(1).numpy()
    logits[torch.arange(batch), torch.from_numpy(classes)].sum().backward()
    act = captured[-1]
    if tokens:
        cam = token_cam(act.detach().numpy(), act.grad.numpy())
    else:
        weights = act.grad.mean(dim=(2, 3), keepdim=True)
        cam = torch.relu((weights * act).sum(1)).detach().numpy()

    # PyTorch in float32, for the float32 rounding of the input gradient.
    x32 = torch.from_numpy(x).requires_grad_(True)
    logits32 = net.float()(x32)
    logits32[torch.arange(batch), torch.from_numpy(classes)].sum().backward()
    torch32 = rel_err(x32.grad.double().numpy(), xt.grad.numpy())

    x.tofile(os.path.join(tmp, "input.bin"))
    out = tempfile.mkdtemp(dir=tmp)
    run = subprocess.run([os.path.join(build, "tests", "pytorch", "onnx-grads"), path,
                          os.path.join(tmp, "input.bin"), layer_name, out]
                         + [str(int(k)) for k in classes], capture_output=True, text=True)
    if run.returncode != 0:
        return None, run.stderr.strip()
    n_classes = logits.shape[1]
    ours_cam = np.fromfile(os.path.join(out, "cam.bin"), "<f4").reshape(cam.shape)
    rollout_err = attn_grad_err = None
    if tokens:
        want = vit_rollout(net, block_inputs)
        rollout_err = rel_err(np.fromfile(os.path.join(out, "rollout.bin"), "<f4")
                              .reshape(want.shape), want)
        all_blocks, block1 = vit_attn_grad(net.double(), x, classes, logits.detach().numpy())
        attn_grad_err = max(rel_err(np.fromfile(os.path.join(out, name), "<f4")
                                    .reshape(want.shape), ref)
                            for name, ref in (("attn_grad.bin", all_blocks),
                                              ("attn_grad_block1.bin", block1)))
    with open(os.path.join(out, "layers.txt")) as f:
        wrong, missing = check_names(net, f.read().split())
    with open(os.path.join(out, "default.txt")) as f:
        default_layer = f.read().strip()
    ours_grad = np.fromfile(os.path.join(out, "input_grad.bin"), "<f4").reshape(x.shape)
    ours_grad = ours_grad.astype(np.float64)
    input_err = rel_err(ours_grad, xt.grad.numpy())
    grad_tol = max(GRAD_TOL, 3.0 * torch32)
    ties = None
    if input_err > grad_tol:
        ties = explain_by_ties(net.double(), x, classes, ours_grad, xt.grad.numpy(), grad_tol)
    errors = {
        "logits": rel_err(np.fromfile(os.path.join(out, "logits.bin"), "<f4")
                          .reshape(batch, n_classes), logits.detach().numpy()),
        "logits_infer": rel_err(np.fromfile(os.path.join(out, "logits_infer.bin"), "<f4")
                                .reshape(batch, n_classes), logits.detach().numpy()),
        "input_grad": input_err,
        "ties": ties,
        "grad_tol": grad_tol,
        "gradcam": rel_err(ours_cam, cam),
        "rollout": rollout_err,
        "attn_grad": attn_grad_err,
        "torch32": torch32,
        "default_layer": default_layer,
        "wrong_names": wrong,
        "missing_names": missing,
    }
    return errors, f"layer {layer_name} {tuple(act.shape[1:])}"


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--build", default="build", help="the meson build folder")
    parser.add_argument("--only", action="append",
                        help="run only the case of this name (may be given several times)")
    args = parser.parse_args()
    torch.set_num_threads(2)
    passed = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for case in CASES:
            if args.only and case[0] not in args.only:
                continue
            errors, info = run_case(args.build, tmp, case)
            if errors is None:
                print(f"{case[0]:16s} FAIL  does not import: {info}")
                failed += 1
                continue
            grad_tol = errors["grad_tol"]
            grad_err = errors["input_grad"]
            ties = ""
            if errors["ties"] is not None:
                grad_err = errors["ties"][0]
                ties = (f" -> {grad_err:.2e} with {errors['ties'][1]} ReLU decision(s) within"
                        f" {TIE:g} of zero flipped")
            ok = (errors["logits"] <= LOGIT_TOL and errors["logits_infer"] <= LOGIT_TOL
                  and grad_err <= grad_tol
                  and errors["gradcam"] <= GRAD_TOL
                  and (errors["rollout"] is None or errors["rollout"] <= GRAD_TOL)
                  and (errors["attn_grad"] is None or errors["attn_grad"] <= GRAD_TOL)
                  and (errors["rollout"] is None or errors["default_layer"] == case[5])
                  and not errors["wrong_names"] and not errors["missing_names"])
            passed += ok
            failed += not ok
            print(f"{case[0]:16s} {'ok  ' if ok else 'FAIL'}  logits {errors['logits']:.2e} "
                  f"(folded {errors['logits_infer']:.2e})  "
                  f"input grad {errors['input_grad']:.2e}{ties} "
                  f"(torch float32 {errors['torch32']:.2e})"
                  f"  grad-cam {errors['gradcam']:.2e}"
                  + (f"  rollout {errors['rollout']:.2e}" if errors["rollout"] is not None
                     else "")
                  + (f"  attn-grad {errors['attn_grad']:.2e}"
                     if errors["attn_grad"] is not None else "")
                  + f"  ({info}, opset {case[3]})", flush=True)
            if errors["rollout"] is not None and errors["default_layer"] != case[5]:
                print(f"{'':16s} the CAMs' default layer is {errors['default_layer']!r}, not "
                      f"{case[5]!r}", flush=True)
            if errors["wrong_names"] or errors["missing_names"]:
                print(f"{'':16s} layers not named after a module: "
                      f"{' '.join(errors['wrong_names'][:8]) or 'none'}; modules without a "
                      f"layer: {' '.join(errors['missing_names'][:8]) or 'none'}", flush=True)
    print(f"onnx-compare: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
