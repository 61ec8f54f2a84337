# SPDX-License-Identifier: MIT
# Reads a cnnscope .safetensors model (docs/model-format.md) with json + numpy only and builds
# the same network as a torch.nn.Module, for comparisons and benchmarks against PyTorch.
import json
import struct

import numpy as np
import torch
import torch.nn.functional as F


def read_safetensors(path):
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    data = blob[8 + n:]
    meta = header.pop("__metadata__")
    tensors = {}
    for name, t in header.items():
        begin, end = t["data_offsets"]
        tensors[name] = np.frombuffer(data[begin:end], dtype="<f4").reshape(t["shape"]).copy()
    return meta, tensors


def _pad(node):
    t, l, b, r = node["padding"]
    return t, l, b, r


class CnnscopeNet(torch.nn.Module):
    """Interprets the graph of a cnnscope model; parameters keep cnnscope's names."""

    def __init__(self, meta, tensors):
        super().__init__()
        self.nodes = json.loads(meta["graph"])
        self.params = torch.nn.ParameterDict()
        self.buffers_ = {}
        self.names = {}
        # Per node name: fn(inputs, output) -> the output used from there on (ablation,
        # DeepLIFT's multipliers, LRP's rules in compare-methods.py).
        self.hooks = {}
        for name, value in tensors.items():
            key = name.replace(".", "__")
            if name.endswith("running_mean") or name.endswith("running_var"):
                self.register_buffer(key, torch.from_numpy(value))
            else:
                self.params[key] = torch.nn.Parameter(torch.from_numpy(value))
            self.names[key] = name

    def tensor(self, node, what):
        key = (node["name"] + "." + what).replace(".", "__")
        if key in self.params:
            return self.params[key]
        return getattr(self, key, None)

    def forward(self, x):
        # The smallest non-zero |input| of any ReLU: gradients are only comparable between two
        # implementations when no pre-activation lies within rounding distance of the kink
        # (exact zeros, such as a ReLU of a ReLU, are zero in both).
        self.relu_margin = float("inf")
        outs = {}
        for node in self.nodes:
            op = node["op"]
            ins = [outs[i] for i in node.get("inputs", [])]
            if op == "input":
                y = x
            elif op == "conv2d":
                t, l, b, r = _pad(node)
                z = ins[0]
                if (t, l) != (b, r) or t != l:
                    z = F.pad(z, (l, r, t, b))
                    pad = 0
                else:
                    pad = t
                y = F.conv2d(z, self.tensor(node, "weight"), self.tensor(node, "bias"),
                             stride=tuple(node["stride"]), padding=pad,
                             dilation=tuple(node["dilation"]), groups=node["groups"])
            elif op == "linear":
                y = F.linear(ins[0].flatten(1), self.tensor(node, "weight"),
                             self.tensor(node, "bias"))
            elif op == "batchnorm":
                y = F.batch_norm(ins[0], self.tensor(node, "running_mean"),
                                 self.tensor(node, "running_var"), self.tensor(node, "weight"),
                                 self.tensor(node, "bias"), training=self.training,
                                 momentum=node["momentum"], eps=node["eps"])
            elif op == "instancenorm":
                y = F.instance_norm(ins[0], weight=self.tensor(node, "weight"),
                                    bias=self.tensor(node, "bias"), eps=node["eps"])
            elif op == "activation":
                kind = node["kind"]
                if kind == "relu":
                    nonzero = ins[0].detach().abs()
                    nonzero = nonzero[nonzero > 0]
                    if nonzero.numel():
                        self.relu_margin = min(self.relu_margin, float(nonzero.min()))
                    y = F.leaky_relu(ins[0], node["slope"]) if node["slope"] else F.relu(ins[0])
                elif kind == "sigmoid":
                    y = torch.sigmoid(ins[0])
                elif kind == "tanh":
                    y = torch.tanh(ins[0])
                else:
                    raise ValueError("activation " + kind)
            elif op in ("maxpool", "avgpool"):
                t, l, b, r = _pad(node)
                k = tuple(node["kernel"])
                s = tuple(node["stride"])
                if op == "maxpool":
                    z = F.pad(ins[0], (l, r, t, b), value=float("-inf")) if t or l or b or r \
                        else ins[0]
                    y = F.max_pool2d(z, k, s)
                elif t == b and l == r:
                    y = F.avg_pool2d(ins[0], k, s, padding=(t, l),
                                     count_include_pad=node["count_include_pad"])
                else:
                    raise ValueError("asymmetric average pooling")
            elif op == "global_avgpool":
                y = ins[0].mean(dim=(2, 3), keepdim=True)
            elif op == "add":
                y = ins[0] + ins[1]
            elif op == "mul":
                y = ins[0] * ins[1]
            elif op == "concat":
                y = torch.cat(ins, dim=1)
            elif op == "flatten":
                y = ins[0].flatten(1)
            elif op == "softmax":
                y = F.softmax(ins[0].flatten(1), dim=1)
            elif op == "dropout":
                y = ins[0]
            else:
                raise ValueError("op " + op)
            if node["name"] in self.hooks:
                y = self.hooks[node["name"]](ins, y)
            outs[node["name"]] = y
        # Every node's output by name, for hooks such as Grad-CAM's.
        self.outs = outs
        out = outs[self.nodes[-1]["name"]]
        return out.flatten(1)

    def named_cnnscope_parameters(self):
        for key, p in self.params.items():
            yield self.names[key], p


def load(path):
    meta, tensors = read_safetensors(path)
    return CnnscopeNet(meta, tensors)
