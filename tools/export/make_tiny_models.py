#!/usr/bin/python3
"""Exports the tiny PyTorch test models in tests/fixtures/tiny/ (see its README).

Run with Debian's CPU torch (apt-get install -y python3-torch python3-onnx):
    /usr/bin/python3 tools/export/make_tiny_models.py [OUT_DIR]

torch 1.13 exports opsets up to 17. The opset-18 files are the opset-17 export rewritten by
`to_opset18`: the only ops these models use whose signature changed at 18 are the Reduce* ops
other than ReduceSum (axes move from an attribute to an int64 input).
"""
import io
import os
import sys

import onnx
import torch
from torch import nn
from onnx import helper, numpy_helper
import numpy as np


class TinyCnn(nn.Module):
    """conv/bn/relu/maxpool/avgpool/linear."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.pool1 = nn.MaxPool2d(3, stride=2, padding=1)
        self.conv2 = nn.Conv2d(8, 12, 3, stride=2, padding=1)
        self.bn2 = nn.BatchNorm2d(12)
        self.pool2 = nn.AvgPool2d(2)
        self.fc = nn.Linear(12 * 2 * 2, 5)

    def forward(self, x):
        x = self.pool1(torch.relu(self.bn1(self.conv1(x))))
        x = self.pool2(torch.relu(self.bn2(self.conv2(x))))
        return self.fc(torch.flatten(x, 1))


class TinyGroupNorm(nn.Module):
    """conv/GroupNorm/relu, exported by torch 1.13 as Reshape+InstanceNormalization+Mul+Add."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.gn1 = nn.GroupNorm(2, 8)
        self.conv2 = nn.Conv2d(8, 8, 3, stride=2, padding=1)
        self.gn2 = nn.GroupNorm(4, 8)
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        x = torch.relu(self.gn1(self.conv1(x)))
        x = torch.relu(self.gn2(self.conv2(x)))
        return self.fc(x.mean((2, 3)))


class TinyMobile(nn.Module):
    """Depthwise conv + BN + hardswish + squeeze-excitation Mul (ReduceMean, hardsigmoid)."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False)
        self.bn0 = nn.BatchNorm2d(8)
        self.dw = nn.Conv2d(8, 8, 3, padding=1, groups=8, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.se_reduce = nn.Conv2d(8, 4, 1)
        self.se_expand = nn.Conv2d(4, 8, 1)
        self.pw = nn.Conv2d(8, 16, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(16)
        self.fc = nn.Linear(16, 6)

    def forward(self, x):
        x = nn.functional.hardswish(self.bn0(self.stem(x)))
        x = nn.functional.hardswish(self.bn1(self.dw(x)))
        s = x.mean((2, 3), keepdim=True)
        s = nn.functional.hardsigmoid(self.se_expand(torch.relu(self.se_reduce(s))))
        x = nn.functional.relu6(self.bn2(self.pw(x * s)))
        return self.fc(nn.functional.adaptive_avg_pool2d(x, 1).flatten(1))


def randomize_bn(model):
    """Non-trivial running statistics, so folded and unfolded exports differ from identity BN."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            with torch.no_grad():
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.3, 0.3)


def export(model, opset, folded, dynamic):
    """ONNX bytes. Unfolded: TrainingMode.PRESERVE on an eval-mode model skips torch 1.13's
    eval-only Conv+BN fusion pass but still exports inference-mode BatchNormalization."""
    model.eval()
    buf = io.BytesIO()
    kwargs = {}
    if dynamic:
        kwargs["dynamic_axes"] = {"input": {0: "batch"}, "logits": {0: "batch"}}
    torch.onnx.export(
        model,
        torch.randn(1, 3, 16, 16),
        buf,
        opset_version=opset,
        input_names=["input"],
        output_names=["logits"],
        training=torch.onnx.TrainingMode.EVAL if folded else torch.onnx.TrainingMode.PRESERVE,
        do_constant_folding=True,
        **kwargs,
    )
    return onnx.load_from_string(buf.getvalue())


def to_opset18(model):
    """Rewrites an opset-17 model to opset 18 (Reduce* axes attribute → int64 input)."""
    graph = model.graph
    for i, node in enumerate(graph.node):
        if not node.op_type.startswith("Reduce") or node.op_type == "ReduceSum":
            continue
        axes = [a for a in node.attribute if a.name == "axes"]
        if not axes:
            continue
        name = f"{node.name or node.output[0]}_axes"
        graph.initializer.append(numpy_helper.from_array(np.array(axes[0].ints, np.int64), name))
        node.attribute.remove(axes[0])
        node.input.append(name)
    for o in model.opset_import:
        if o.domain in ("", "ai.onnx"):
            o.version = 18
    return model


VARIANTS = [
    # (name, class, opset, folded, dynamic)
    ("cnn-op13-folded-dyn", TinyCnn, 13, True, True),
    ("cnn-op13-bn-static", TinyCnn, 13, False, False),
    ("cnn-op17-folded-static", TinyCnn, 17, True, False),
    ("cnn-op17-bn-dyn", TinyCnn, 17, False, True),
    ("cnn-op18-bn-dyn", TinyCnn, 18, False, True),
    ("groupnorm-op13-dyn", TinyGroupNorm, 13, True, True),
    ("groupnorm-op17-static", TinyGroupNorm, 17, True, False),
    ("groupnorm-op18-dyn", TinyGroupNorm, 18, True, True),
    ("mobile-op13-folded-dyn", TinyMobile, 13, True, True),
    ("mobile-op17-bn-static", TinyMobile, 17, False, False),
    ("mobile-op17-folded-dyn", TinyMobile, 17, True, True),
    ("mobile-op18-bn-dyn", TinyMobile, 18, False, True),
]


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/tiny"
    os.makedirs(out, exist_ok=True)
    models = {}
    seeds = {TinyCnn: 1, TinyGroupNorm: 2, TinyMobile: 3}
    for name, cls, opset, folded, dynamic in VARIANTS:
        if cls not in models:
            torch.manual_seed(seeds[cls])
            models[cls] = cls()
            randomize_bn(models[cls])
        m = export(models[cls], min(opset, 17), folded, dynamic)
        if opset == 18:
            m = to_opset18(m)
        path = os.path.join(out, f"{name}.onnx")
        onnx.save(m, path)
        ops = sorted({n.op_type for n in m.graph.node})
        print(f"{path}: {os.path.getsize(path)} bytes, ops {' '.join(ops)}")


if __name__ == "__main__":
    main()
