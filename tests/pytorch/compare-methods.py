#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# The attribution methods of nn/explain against references written here in plain PyTorch from
# the definitions of pytorch-grad-cam (AblationCAM, Eigen-Grad-CAM, FullGrad), Captum
# (Occlusion, GradientSHAP, DeepLIFT's rescale rule) and Zennit (LRP rules and composites), on
# the networks compare.py uses. Prints one line per case with the largest relative error and
# ends with "compare-methods: N passed, N failed". Exits 0 when all pass.
import argparse
import math
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cnnscope_torch  # noqa: E402

# (arch, channels, size, classes, width)
MODELS = {
    "smallcnn": ("smallcnn", 1, 28, 10, 1.0),
    "resnet18": ("resnet18", 3, 32, 10, 0.25),
    "vgg11_bn": ("vgg11_bn", 3, 32, 10, 0.125),
}

TOLERANCE = 1e-4


def rel_err(ours, ref, floor=1e-12):
    """Largest difference relative to the largest reference value (at least `floor`)."""
    scale = max(float(np.abs(ref).max()), floor)
    return float(np.abs(ours - ref).max()) / scale


def scale01(v):
    """pytorch-grad-cam's scale_cam_image: shift to 0, divide by 1e-7 + the maximum."""
    v = v - v.min()
    return v / (1e-7 + v.max())


def upsample(v, size):
    return F.interpolate(v[None, None], size=(size, size), mode="bilinear",
                         align_corners=False)[0, 0]


def ref_occlusion(net, x, target, opts):
    """Captum's Occlusion: a (C, k, k) window at every multiple of the stride (ceil((n - k) /
    stride) + 1 positions, the last cut by the border) set to the baseline; the drop of the
    target's output, averaged over the windows that cover each element."""
    c, h, w = x.shape
    k, s = opts["patch"], opts["stride"]
    base = opts.get("baseline_t", torch.zeros_like(x))
    starts = [i * s for i in range(math.ceil((h - k) / s) + 1)]
    batch, boxes = [], []
    for y0 in starts:
        for x0 in starts:
            xo = x.clone()
            xo[:, y0:y0 + k, x0:x0 + k] = base[:, y0:y0 + k, x0:x0 + k]
            batch.append(xo)
            boxes.append((y0, x0))
    with torch.no_grad():
        y = net(x[None])[0, target]
        ys = net(torch.stack(batch))[:, target]
    total = torch.zeros(h, w, dtype=x.dtype)
    count = torch.zeros(h, w, dtype=x.dtype)
    for (y0, x0), yo in zip(boxes, ys):
        total[y0:y0 + k, x0:x0 + k] += y - yo
        count[y0:y0 + k, x0:x0 + k] += 1
    return {"map": total / count}


def ref_ablationcam(net, x, target, layer):
    """pytorch-grad-cam's AblationCAM: channel k of the layer set to 0 (the layer's minimum is
    0) in sample k of a batch, w_k = (y - y_k) / y, map = sum_k w_k A_k; ReLU, upsampling."""
    with torch.no_grad():
        y = net(x[None])[0, target]
        a = net.outs[layer][0].clone()
        k = a.shape[0]
        value = 0.0 if float(a.min()) == 0.0 else float(a.min()) - 1e7

        def ablate(ins, out):
            out = out.clone()
            for i in range(k):
                out[i, i] = value
            return out
        net.hooks[layer] = ablate
        ys = net(x[None].repeat(k, 1, 1, 1))[:, target]
        del net.hooks[layer]
    weights = (y - ys) / y
    cam = (weights[:, None, None] * a).sum(0)
    return {"layer_map": cam, "map": upsample(torch.relu(cam), x.shape[1])}


def layer_gradient(net, x, target, layer):
    xt = x[None].clone().requires_grad_(True)
    logits = net(xt)
    act = net.outs[layer]
    act.retain_grad()
    logits[0, target].backward()
    return act[0].detach(), act.grad[0]


def ref_eigengradcam(net, x, target, layer):
    """pytorch-grad-cam's Eigen-Grad-CAM: G * A as (positions, channels), centred per channel,
    projected on its first right singular vector. SVD leaves the sign free: the map is made to
    agree with the centred channel sum, cnnscope's convention for Eigen-CAM."""
    a, g = layer_gradient(net, x, target, layer)
    k, h, w = a.shape
    p = (g * a).reshape(k, -1).T
    p = p - p.mean(dim=0)
    _, _, vt = torch.linalg.svd(p, full_matrices=False)
    proj = p @ vt[0]
    if float((proj * p.sum(dim=1)).sum()) < 0:
        proj = -proj
    cam = proj.reshape(h, w)
    return {"layer_map": cam, "map": upsample(torch.relu(cam), x.shape[1])}


def ref_fullgrad(net, x, target, _layer):
    """pytorch-grad-cam's FullGrad: |dy/dx * x| and |b_k dy/dz_k| for every Conv2d with a bias
    and BatchNorm2d (bias beta - mean gamma / sqrt(var + eps)), each channel scaled to [0, 1]
    and resized to the input, summed, scaled to [0, 1]."""
    size = x.shape[1]
    xt = x[None].clone().requires_grad_(True)
    logits = net(xt)
    for out in net.outs.values():
        if out.requires_grad and out is not xt:
            out.retain_grad()
    logits[0, target].backward()
    total = sum(scale01((xt.grad[0] * x).abs()[c]) for c in range(x.shape[0]))
    for node in net.nodes:
        name = node["name"]
        if node["op"] == "conv2d" and net.tensor(node, "bias") is not None:
            bias = net.tensor(node, "bias").detach()
        elif node["op"] == "batchnorm":
            bias = (net.tensor(node, "bias") - net.tensor(node, "running_mean")
                    * net.tensor(node, "weight")
                    / torch.sqrt(net.tensor(node, "running_var") + node["eps"])).detach()
        else:
            continue
        g = net.outs[name].grad[0]
        for k in range(g.shape[0]):
            total = total + upsample(scale01((bias[k] * g[k]).abs()), size)
    return {"map": scale01(total)}


class _Multiplier(torch.autograd.Function):
    """Forward: y as it is; backward: the incoming gradient times the multiplier m."""

    @staticmethod
    def forward(ctx, x, y, m):
        ctx.save_for_backward(m)
        return y.clone()

    @staticmethod
    def backward(ctx, g):
        (m,) = ctx.saved_tensors
        return g * m, None, None


class _MaxPoolRescale(torch.autograd.Function):
    """Captum's DeepLIFT rule for max pooling (kernel = stride, no padding)."""

    @staticmethod
    def forward(ctx, x, y, x_ref, y_ref, k):
        ctx.save_for_backward(x, y, x_ref, y_ref)
        ctx.k = k
        return y.clone()

    @staticmethod
    def backward(ctx, g):
        x, y, x_ref, y_ref = ctx.saved_tensors
        k = ctx.k
        m = torch.max(y, y_ref)
        _, ix = F.max_pool2d(x, k, k, return_indices=True)
        _, ir = F.max_pool2d(x_ref, k, k, return_indices=True)
        size = x.shape[-2:]
        routed = (F.max_unpool2d(g * (m - y_ref), ix, k, k, output_size=size)
                  + F.max_unpool2d(g * (y - m), ir, k, k, output_size=size))
        plain = F.max_unpool2d(g, ix, k, k, output_size=size)
        delta = x - x_ref
        return (torch.where(delta.abs() < 1e-10, plain, routed / delta), None, None, None, None)


def _derivative(kind, x, y):
    if kind == "relu":
        return (x > 0).to(x.dtype)
    if kind == "sigmoid":
        return y * (1 - y)
    if kind == "tanh":
        return 1 - y * y
    raise ValueError("activation " + kind)


def ref_deeplift(net, x, target, opts):
    """Captum's DeepLift (rescale rule): a pass on the baseline records every activation's and
    max pool's input and output; on the input, their backward becomes the multiplier
    (y - y') / (x - x') (the derivative where |x - x'| < 1e-10) and Captum's max-pool rule;
    attribution (x - x') * dy/dx, summed over channels."""
    base = opts.get("baseline_t", torch.zeros_like(x))
    ref = {}

    def make_hook(node):
        name = node["name"]

        def hook(ins, y):
            if name not in ref:
                ref[name] = (ins[0].detach(), y.detach())
                return y
            x_ref, y_ref = ref[name]
            delta = ins[0] - x_ref
            if node["op"] == "maxpool":
                assert node["kernel"] == node["stride"] and not any(node["padding"])
                return _MaxPoolRescale.apply(ins[0], y, x_ref, y_ref, tuple(node["kernel"]))
            m = torch.where(delta.abs() < 1e-10, _derivative(node["kind"], ins[0], y),
                            (y - y_ref) / delta).detach()
            return _Multiplier.apply(ins[0], y, m)
        return hook
    for node in net.nodes:
        if node["op"] in ("activation", "maxpool"):
            net.hooks[node["name"]] = make_hook(node)
    with torch.no_grad():
        net(base[None])
    xt = x[None].clone().requires_grad_(True)
    net(xt)[0, target].backward()
    net.hooks.clear()
    attr = (x - base) * xt.grad[0]
    return {"map": attr.sum(0), "channels": attr}


class NnRng:
    """nn/core/nn-rng.c in Python (xoshiro128+ seeded by splitmix64, Box-Muller in float32),
    so that a reference draws GradientSHAP's samples as cnnscope does."""

    M32, M64 = 0xFFFFFFFF, 0xFFFFFFFFFFFFFFFF

    def __init__(self, seed):
        x = seed & self.M64
        out = []
        for _ in range(2):
            x = (x + 0x9E3779B97F4A7C15) & self.M64
            z = x
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & self.M64
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & self.M64
            out.append(z ^ (z >> 31))
        a, b = out
        self.s = [a & self.M32, a >> 32, b & self.M32, (b >> 32) | 1]
        self.spare = None

    def u32(self):
        s = self.s
        result = (s[0] + s[3]) & self.M32
        t = (s[1] << 9) & self.M32
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = ((s[3] << 11) | (s[3] >> 21)) & self.M32
        return result

    def uniform(self):
        return np.float32(self.u32() >> 8) * np.float32(1.0 / 16777216.0)

    def normal(self):
        if self.spare is not None:
            v, self.spare = self.spare, None
            return v
        u1 = self.uniform()
        while u1 <= np.float32(1e-7):
            u1 = self.uniform()
        u2 = self.uniform()
        r = np.sqrt(np.float32(-2.0) * np.log(u1))
        t = np.float32(6.28318530718) * u2
        self.spare = r * np.sin(t)
        return r * np.cos(t)


def ref_gradient_shap(net, x, target, opts):
    """Captum's GradientShap (NoiseTunnel's smoothgrad over InputBaselineXGradient): per
    sample a ~ U(0, 1), x + e with e ~ N(0, sigma), a baseline from the distribution (the given
    one, or uniform noise over [min x, max x]), the gradient at x' + a (x + e - x') times
    x + e - x', averaged. The draws follow cnnscope's order through NnRng."""
    xs = x.numpy().astype(np.float32).ravel()
    n, noise, seed = opts["samples"], np.float32(opts["noise"]), opts["seed"]
    base = opts["baseline_t"].numpy().astype(np.float32).ravel() if "baseline_t" in opts \
        else None
    lo, hi = xs.min(), xs.max()
    sigma = noise * (hi - lo)
    rng = NnRng(seed)
    points, diffs = [], []
    for _ in range(n):
        a = rng.uniform()
        diff = np.array([v + sigma * rng.normal() if sigma > 0 else v for v in xs],
                        dtype=np.float32)
        b = base if base is not None else np.array(
            [lo + (hi - lo) * rng.uniform() for _ in xs], dtype=np.float32)
        diff = diff - b
        points.append(b + a * diff)
        diffs.append(diff)
    z = torch.from_numpy(np.stack(points).reshape((n,) + x.shape)).to(x.dtype)
    z.requires_grad_(True)
    net(z)[:, target].sum().backward()
    attr = (z.grad * torch.from_numpy(np.stack(diffs).reshape(z.shape)).to(x.dtype)).mean(0)
    return {"map": attr.sum(0), "channels": attr}


def _stabilize(z, eps):
    """Zennit's stabilizer: add eps with the sign of z (+ for 0)."""
    return z + ((z == 0).to(z.dtype) + z.sign()) * eps


class _Rule:
    """Zennit's BasicHook: the layer f applied to modified inputs with modified parameters;
    the output gradient mapped onto the outputs, the input gradients of each reduced into the
    input's relevance."""

    def __init__(self, inputs, params, mapper, reducer):
        self.inputs, self.params, self.mapper, self.reducer = inputs, params, mapper, reducer

    def relevance(self, f, w, b, x, grad):
        ins, outs = [], []
        for in_mod, param_mod in zip(self.inputs, self.params):
            xi = in_mod(x).detach().requires_grad_(True)
            with torch.enable_grad():
                outs.append(f(xi, param_mod(w, "weight"), param_mod(b, "bias")))
            ins.append(xi)
        grads = torch.autograd.grad(outs, ins, self.mapper(grad, outs))
        return self.reducer(ins, grads)


def _param(mod, zero_bias=False):
    """A parameter modifier; the bias is kept (modified the same way) unless zero_bias."""
    def apply(p, name):
        if p is None:
            return None
        if name == "bias" and zero_bias:
            return torch.zeros_like(p)
        return mod(p)
    return apply


_same = _param(lambda p: p)


def _pos(x):
    return x.clamp(min=0)


def _neg(x):
    return x.clamp(max=0)


def rule_epsilon(eps):
    return _Rule([lambda x: x], [_same], lambda g, o: [g / _stabilize(o[0], eps)],
                 lambda i, g: i[0] * g[0])


def rule_zplus(stab):
    return _Rule([_pos, _neg], [_param(_pos), _param(_neg, True)],
                 lambda g, o: [g / _stabilize(o[0] + o[1], stab)] * 2,
                 lambda i, g: i[0] * g[0] + i[1] * g[1])


def rule_alpha_beta(alpha, beta, stab):
    return _Rule([_pos, _neg, _pos, _neg],
                 [_param(_pos), _param(_neg, True), _param(_neg), _param(_pos, True)],
                 lambda g, o: [g / _stabilize(o[0] + o[1], stab)] * 2
                 + [g / _stabilize(o[2] + o[3], stab)] * 2,
                 lambda i, g: alpha * (i[0] * g[0] + i[1] * g[1])
                 - beta * (i[2] * g[2] + i[3] * g[3]))


def rule_gamma(gamma, stab):
    gpos = lambda p: p + gamma * p.clamp(min=0)  # noqa: E731
    gneg = lambda p: p + gamma * p.clamp(max=0)  # noqa: E731
    return _Rule([_pos, _neg, _pos, _neg, lambda x: x],
                 [_param(gpos), _param(gneg, True), _param(gneg), _param(gpos, True), _same],
                 lambda g, o: [(o[4] > 0).to(g.dtype) * g / _stabilize(o[0] + o[1], stab)] * 2
                 + [(o[4] < 0).to(g.dtype) * g / _stabilize(o[2] + o[3], stab)] * 2
                 + [torch.zeros_like(g)],
                 lambda i, g: sum(a * b for a, b in zip(i[:4], g[:4])))


def rule_zbox(low, high, stab):
    return _Rule([lambda x: x, lambda x: low.expand_as(x), lambda x: high.expand_as(x)],
                 [_same, _param(_pos), _param(_neg)],
                 lambda g, o: [g / _stabilize(o[0] - o[1] - o[2], stab)] * 3,
                 lambda i, g: i[0] * g[0] - i[1] * g[1] - i[2] * g[2])


def rule_flat(stab):
    return _Rule([torch.ones_like], [_param(torch.ones_like, True)],
                 lambda g, o: [g / _stabilize(o[0], stab)], lambda i, g: g[0])


class _RuleFn(torch.autograd.Function):
    """Forward: the layer's output y; backward: the rule's relevance for the input x."""

    @staticmethod
    def forward(ctx, x, y, rule, f, w, b):
        ctx.save_for_backward(x)
        ctx.rule, ctx.f, ctx.w, ctx.b = rule, f, w, b
        return y.clone()

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return ctx.rule.relevance(ctx.f, ctx.w, ctx.b, x, g), None, None, None, None, None


class _PassFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, y):
        return y.clone()

    @staticmethod
    def backward(ctx, g):
        return g, None


class _NormSumFn(torch.autograd.Function):
    """Zennit's Norm on a sum: each input's share a_k g / stab(a + b)."""

    @staticmethod
    def forward(ctx, a, b, y):
        ctx.save_for_backward(a, b, y)
        return y.clone()

    @staticmethod
    def backward(ctx, g):
        a, b, y = ctx.saved_tensors
        s = g / _stabilize(y, 1e-6)
        return a * s, b * s, None


def _layer_fn(node):
    if node["op"] == "linear":
        return lambda x, w, b: F.linear(x.flatten(1), w, b)
    t, l, b_, r = node["padding"]

    def conv(x, w, b):
        return F.conv2d(F.pad(x, (l, r, t, b_)), w, b, stride=tuple(node["stride"]),
                        dilation=tuple(node["dilation"]), groups=node["groups"])
    return conv


def ref_lrp(composite):
    """Zennit's composites on the network with the batch-norm canonizer: EpsilonGammaBox (first
    conv z^B with each channel's min and max as the box, convs γ 0.25, linear ε 1e-6),
    EpsilonPlusFlat (first conv or linear flat, convs z+, linear ε), EpsilonAlpha2Beta1 (convs
    α2β1, linear ε); activations and batch norms pass, sums and average pools Norm, max pools
    the gradient; stabilizer 1e-6. The relevance starts as y_c at the target's logit."""
    def ref(net, x, target, opts):
        low = x.amin(dim=(1, 2))[None, :, None, None]
        high = x.amax(dim=(1, 2))[None, :, None, None]
        # Zennit's SequentialMergeBatchNorm: a batch norm that is a layer's only reader is
        # folded into the layer's weight and bias, and passes relevance on.
        readers = {}
        for node in net.nodes:
            for name in node.get("inputs", []):
                readers[name] = readers.get(name, 0) + 1
        folded = {}
        for node in net.nodes:
            if node["op"] == "batchnorm" and readers[node["inputs"][0]] == 1:
                folded[node["inputs"][0]] = node
        first = None
        for node in net.nodes:
            op = node["op"]
            name = node["name"]
            if op in ("conv2d", "linear"):
                is_first = first is None and (op == "conv2d" or composite == "plus-flat")
                if is_first:
                    first = name
                    rule = {"gamma-box": lambda: rule_zbox(low, high, 1e-6),
                            "plus-flat": lambda: rule_flat(1e-6),
                            "alpha2-beta1": lambda: rule_alpha_beta(2.0, 1.0, 1e-6)}[composite]()
                elif op == "linear":
                    rule = rule_epsilon(1e-6)
                else:
                    rule = {"gamma-box": lambda: rule_gamma(0.25, 1e-6),
                            "plus-flat": lambda: rule_zplus(1e-6),
                            "alpha2-beta1": lambda: rule_alpha_beta(2.0, 1.0, 1e-6)}[composite]()
                w = net.tensor(node, "weight").detach()
                b = net.tensor(node, "bias")
                b = b.detach() if b is not None else torch.zeros(w.shape[0], dtype=w.dtype)
                if name in folded:
                    bn = folded[name]
                    scale = (net.tensor(bn, "weight")
                             / torch.sqrt(net.tensor(bn, "running_var") + bn["eps"])).detach()
                    w = w * scale.reshape((-1,) + (1,) * (w.dim() - 1))
                    b = ((b - net.tensor(bn, "running_mean")) * scale
                         + net.tensor(bn, "bias")).detach()
                net.hooks[name] = (lambda rule, f, w, b: lambda ins, y:
                                   _RuleFn.apply(ins[0], y, rule, f, w, b))(
                                       rule, _layer_fn(node), w, b)
            elif op in ("activation", "batchnorm"):
                net.hooks[name] = lambda ins, y: _PassFn.apply(ins[0], y)
            elif op == "add":
                net.hooks[name] = lambda ins, y: _NormSumFn.apply(ins[0], ins[1], y)
            elif op == "global_avgpool":
                net.hooks[name] = lambda ins, y: _RuleFn.apply(
                    ins[0], y, _Rule([lambda v: v], [_same],
                                     lambda g, o: [g / _stabilize(o[0], 1e-6)],
                                     lambda i, g: i[0] * g[0]),
                    lambda v, w, b: v.mean(dim=(2, 3), keepdim=True), None, None)
            elif op == "avgpool":
                raise ValueError("no average pooling in the compared networks")
        xt = x[None].clone().requires_grad_(True)
        out = net(xt)[0, target]
        out.backward(out.detach())
        net.hooks.clear()
        return {"map": xt.grad[0].sum(0), "channels": xt.grad[0]}
    return ref


# (method, model, layer or "-", class or -1, options, reference)
CASES = [
    ("occlusion", "smallcnn", "-", -1, {"patch": 7, "stride": 3}, ref_occlusion),
    ("occlusion", "resnet18", "-", 3, {"patch": 8, "stride": 8, "baseline": True},
     ref_occlusion),
    ("occlusion", "vgg11_bn", "-", -1, {"patch": 5, "stride": 2}, ref_occlusion),
    ("ablationcam", "smallcnn", "relu2", -1, {}, ref_ablationcam),
    ("ablationcam", "resnet18", "layer4.1.relu2", -1, {}, ref_ablationcam),
    ("ablationcam", "resnet18", "layer3.0.relu1", 2, {}, ref_ablationcam),
    ("ablationcam", "vgg11_bn", "features.20", -1, {}, ref_ablationcam),
    ("eigengradcam", "smallcnn", "relu2", -1, {}, ref_eigengradcam),
    ("eigengradcam", "resnet18", "layer4.1.relu2", -1, {}, ref_eigengradcam),
    ("eigengradcam", "vgg11_bn", "features.27", 4, {}, ref_eigengradcam),
    ("fullgrad", "smallcnn", "-", -1, {}, ref_fullgrad),
    ("fullgrad", "resnet18", "-", -1, {}, ref_fullgrad),
    ("fullgrad", "vgg11_bn", "-", 1, {}, ref_fullgrad),
    # From zeros, a few of smallcnn's multipliers divide by a tiny x - x' whose float32 rounding
    # moves the map by 3.4e-3 of its maximum: the reference runs in float32, as Captum does.
    ("deeplift", "smallcnn", "-", -1, {"float32": True}, ref_deeplift),
    ("deeplift", "resnet18", "-", -1, {"baseline": True}, ref_deeplift),
    ("deeplift", "vgg11_bn", "-", 2, {"baseline": True}, ref_deeplift),
    ("gradientshap", "smallcnn", "-", -1, {"samples": 10, "noise": 0.1, "seed": 3},
     ref_gradient_shap),
    ("gradientshap", "resnet18", "-", -1, {"samples": 9, "noise": 0.05, "seed": 4,
                                           "baseline": True}, ref_gradient_shap),
    ("gradientshap", "vgg11_bn", "-", 5, {"samples": 6, "noise": 0.0, "seed": 5},
     ref_gradient_shap),
]
for _model in ("smallcnn", "resnet18", "vgg11_bn"):
    for _composite in ("gamma-box", "plus-flat", "alpha2-beta1"):
        CASES.append(("lrp-epsilon-" + _composite, _model, "-", -1, {}, ref_lrp(_composite)))


def draw_input(net, shape, seed):
    """A seeded input whose ReLU pre-activations all stay at least 2e-6 away from 0."""
    for attempt in range(50):
        rng = np.random.default_rng(seed + 1000 * attempt)
        x = rng.standard_normal(shape).astype(np.float32)
        with torch.no_grad():
            net(torch.from_numpy(x[None]).double())
        if net.relu_margin > 2e-6:
            return x
    raise ValueError("no input keeps its ReLU pre-activations away from 0")


def run_case(build, tmp, case, seed=11):
    method, model, layer, target, opts, ref = case
    arch, c, size, classes, width = MODELS[model]
    path = os.path.join(tmp, f"{model}.safetensors")
    if not os.path.exists(path):
        subprocess.run([os.path.join(build, "tests", "pytorch", "make-model"), arch, str(c),
                        str(size), str(size), str(classes), str(width), path, str(seed)],
                       check=True)
    net = cnnscope_torch.load(path).double()
    net.eval()
    x = draw_input(net, (c, size, size), seed)
    dtype = torch.float32 if opts.get("float32") else torch.float64
    net = net.to(dtype)
    x.tofile(os.path.join(tmp, "input.bin"))
    args = []
    opts = dict(opts)
    for key in ("patch", "stride", "samples", "noise", "seed"):
        if key in opts:
            args.append(f"{key}={opts[key]}")
    if opts.get("baseline"):
        base = np.random.default_rng(seed + 5).standard_normal(x.shape).astype(np.float32)
        base.tofile(os.path.join(tmp, "baseline.bin"))
        args.append("baseline=" + os.path.join(tmp, "baseline.bin"))
        opts["baseline_t"] = torch.from_numpy(base).to(dtype)
    out = tempfile.mkdtemp(dir=tmp)
    line = subprocess.run([os.path.join(build, "tests", "pytorch", "torch-methods"), path,
                           os.path.join(tmp, "input.bin"), method, layer, str(target), out]
                          + args, check=True, capture_output=True, text=True).stdout.split()
    name, target, lh, lw = line[0], int(line[1]), int(line[2]), int(line[3])
    xt = torch.from_numpy(x).to(dtype)
    if ref in (ref_occlusion, ref_deeplift, ref_gradient_shap) or method.startswith("lrp"):
        expect = ref(net, xt, target, opts)
    else:
        expect = ref(net, xt, target, name)
    read = lambda f, shape: np.fromfile(os.path.join(out, f), "<f4").reshape(shape)  # noqa: E731
    errors = {}
    if "layer_map" in expect:
        errors["layer map"] = rel_err(read("layer_map.bin", (lh, lw)),
                                      expect["layer_map"].detach().numpy())
    errors["map"] = rel_err(read("map.bin", (size, size)), expect["map"].detach().numpy())
    if "channels" in expect:
        errors["channels"] = rel_err(read("channels.bin", x.shape),
                                     expect["channels"].detach().numpy())
    return errors, name, target


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", default="build")
    parser.add_argument("--only", default=None, help="run only this method's cases")
    args = parser.parse_args()
    build = os.path.abspath(args.build)
    torch.manual_seed(0)
    passed = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for case in CASES:
            if args.only and not case[0].startswith(args.only):
                continue
            label = "{} {} layer {} class {} {}".format(case[0], case[1], case[2], case[3],
                                                       " ".join(f"{k}={v}" for k, v
                                                                in case[4].items()))
            try:
                errors, name, target = run_case(build, tmp, case)
            except (subprocess.CalledProcessError, ValueError, KeyError, OSError) as e:
                print(f"FAIL {label}: {e}")
                failed += 1
                continue
            ok = all(v <= TOLERANCE for v in errors.values())
            print("{} {} ({}, class {}): max relative error {}".format(
                "ok  " if ok else "FAIL", label, name, target,
                ", ".join(f"{k} {v:.2e}" for k, v in errors.items())))
            passed += ok
            failed += not ok
    print(f"compare-methods: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
