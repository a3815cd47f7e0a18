#!/usr/bin/python3
"""Exports a BiT-style ResNetV2 (pre-activation bottlenecks, GroupNorm(32), weight-standardised
convolutions, the layout of BiT-S-R101x1: 44.5 M parameters, 104 convolutions) with RANDOM weights
as ONNX, for the start-up benchmark (`deno task bench --startup`). Nothing is downloaded; the file
is reproducible from the seed.

Weight standardisation is computed in the graph from the raw weight, as the authors' BiT code and
its exports do: per output channel (w - mean) / sqrt(var + 1e-10), biased variance, so the exported
graph has ReduceMean/Sub/Mul/Sqrt/Div over every kernel (folded once by src/engine/constant_fold.ts).
GroupNorm exports as Reshape -> InstanceNormalization -> Reshape -> Mul -> Add. The root is BiT's:
a 7x7 standardised conv, ConstantPad2d(1, 0), MaxPool(3, 2).

Input "input" [N,3,224,224] float32, output "logits" [N,1000], opset 17, dynamic batch.

Usage (Debian: apt-get install -y python3-torch):
  /usr/bin/python3 tools/export/make_bit.py [OUT_DIR] [--depth 50|101]   # default bench/models/gen, 101
Writes OUT_DIR/bit_r101.onnx (~178 MB; do not commit it).
"""
import os
import sys
import time

import torch
from torch import nn
import torch.nn.functional as F

BLOCKS = {50: [3, 4, 6, 3], 101: [3, 4, 23, 3]}


class StdConv2d(nn.Conv2d):
    def forward(self, x):
        w = self.weight
        m = w.mean(dim=[1, 2, 3], keepdim=True)
        v = ((w - m) * (w - m)).mean(dim=[1, 2, 3], keepdim=True)
        w = (w - m) / torch.sqrt(v + 1e-10)
        return F.conv2d(x, w, self.bias, self.stride, self.padding, self.dilation, self.groups)


def conv(cin, cout, k, stride=1):
    return StdConv2d(cin, cout, k, stride=stride, padding=k // 2, bias=False)


class Unit(nn.Module):
    """BiT's pre-activation bottleneck (PreActBottleneck)."""

    def __init__(self, cin, cout, mid, stride):
        super().__init__()
        self.gn1, self.conv1 = nn.GroupNorm(32, cin), conv(cin, mid, 1)
        self.gn2, self.conv2 = nn.GroupNorm(32, mid), conv(mid, mid, 3, stride)
        self.gn3, self.conv3 = nn.GroupNorm(32, mid), conv(mid, cout, 1)
        self.downsample = conv(cin, cout, 1, stride) if stride != 1 or cin != cout else None

    def forward(self, x):
        a = F.relu(self.gn1(x))
        shortcut = self.downsample(a) if self.downsample is not None else x
        y = self.conv1(a)
        y = self.conv2(F.relu(self.gn2(y)))
        y = self.conv3(F.relu(self.gn3(y)))
        return y + shortcut


class ResNetV2(nn.Module):
    def __init__(self, depth=101, width=1, classes=1000):
        super().__init__()
        w = 64 * width
        self.root = nn.Sequential(conv(3, w, 7, 2), nn.ConstantPad2d(1, 0), nn.MaxPool2d(3, 2))
        units, cin = [], w
        for i, n in enumerate(BLOCKS[depth]):
            mid = w * 2**i
            for j in range(n):
                units.append(Unit(cin, mid * 4, mid, 2 if (j == 0 and i > 0) else 1))
                cin = mid * 4
        self.body = nn.Sequential(*units)
        self.before_head = nn.GroupNorm(32, cin)
        self.head = nn.Conv2d(cin, classes, 1)

    def forward(self, x):
        x = self.body(self.root(x))
        x = F.adaptive_avg_pool2d(F.relu(self.before_head(x)), 1)
        return self.head(x).flatten(1)


def build(depth=101):
    torch.manual_seed(0)
    model = ResNetV2(depth)
    with torch.no_grad():  # GroupNorm affine spread a little: distinct initializers
        for m in model.modules():
            if isinstance(m, nn.GroupNorm):
                m.weight.uniform_(0.8, 1.2)
                m.bias.uniform_(-0.1, 0.1)
    return model.eval()


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    depth = int(sys.argv[sys.argv.index("--depth") + 1]) if "--depth" in sys.argv else 101
    if "--depth" in sys.argv:
        args.remove(str(depth))
    out_dir = args[0] if args else "bench/models/gen"
    os.makedirs(out_dir, exist_ok=True)
    torch.set_num_threads(2)
    model = build(depth)
    path = os.path.join(out_dir, f"bit_r{depth}.onnx")
    start = time.time()
    torch.onnx.export(
        model,
        torch.zeros(1, 3, 224, 224),
        path,
        input_names=["input"],
        output_names=["logits"],
        dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}},
        opset_version=17,
        do_constant_folding=False,
    )
    params = sum(p.numel() for p in model.parameters())
    convs = sum(isinstance(m, nn.Conv2d) for m in model.modules())
    print(f"wrote {path}: {params / 1e6:.2f} M parameters, {convs} convolutions, "
          f"{time.time() - start:.1f} s")


if __name__ == "__main__":
    main()
