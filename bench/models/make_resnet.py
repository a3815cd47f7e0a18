#!/usr/bin/python3
"""Writes a CIFAR-style ResNet-18 or ResNet-34 (He et al. 2016; 3x3 stem, no max-pool, 32x32 input) as ONNX,
for benchmarking only: the weights are random (seeded), the timing does not depend on them.

Input "input" [N,3,32,32] float32, output "logits" [N,10], opset 17, dynamic batch. Every
BatchNormalization stays a node (the S&I splits are the normalization outputs), as in the
fixture model.

Usage (Debian's torch: apt-get install -y python3-torch):
  /usr/bin/python3 bench/models/make_resnet.py --width 16 --out bench/models/resnet18-w16.onnx
  /usr/bin/python3 bench/models/make_resnet.py --width 64 --out out/resnet18.onnx   # 45 MB
  /usr/bin/python3 bench/models/make_resnet.py --depth 34 --width 64 --out out/resnet34.onnx
Width 64 is the standard ResNet-18 (11.2 M parameters); width 16 has the same graph and 1/16 of
the work, small enough to commit. Depth 34 (blocks 3-4-6-3, 21.3 M parameters at width 64) has
36 BatchNormalization nodes, so 36 S&I splits.
"""
import argparse

import torch
import torch.nn as nn
import torch.nn.functional as F


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout)
            )

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


BLOCKS = {18: [2, 2, 2, 2], 34: [3, 4, 6, 3]}


class ResNet(nn.Module):
    def __init__(self, width=64, classes=10, depth=18):
        super().__init__()
        w = width
        self.conv1 = nn.Conv2d(3, w, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(w)
        layers, cin = [], w
        for i, (stride, count) in enumerate(zip([1, 2, 2, 2], BLOCKS[depth])):
            cout = w * 2**i
            layers += [BasicBlock(cin, cout, stride)]
            layers += [BasicBlock(cout, cout, 1) for _ in range(count - 1)]
            cin = cout
        self.layers = nn.Sequential(*layers)
        self.linear = nn.Linear(cin, classes)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layers(out)
        out = F.adaptive_avg_pool2d(out, 1).flatten(1)
        return self.linear(out)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--width", type=int, default=16)
    p.add_argument("--depth", type=int, default=18, choices=sorted(BLOCKS))
    p.add_argument("--out", default="bench/models/resnet18-w16.onnx")
    args = p.parse_args()
    torch.manual_seed(0)
    model = ResNet(args.width, depth=args.depth)
    # Random affine parameters and statistics: BatchNormalization is not an identity, and no two
    # initializers are equal (the exporter would share equal ones through Identity nodes).
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.8, 1.2)
                m.bias.uniform_(-0.1, 0.1)
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
    model.eval()
    torch.onnx.export(
        model,
        torch.zeros(1, 3, 32, 32),
        args.out,
        input_names=["input"],
        output_names=["logits"],
        dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}},
        opset_version=17,
        # PRESERVE on an eval-mode model keeps BatchNormalization nodes in inference form
        # (EVAL folds them into the convolutions); constant folding would do the same.
        training=torch.onnx.TrainingMode.PRESERVE,
        do_constant_folding=False,
    )
    params = sum(p.numel() for p in model.parameters())
    print(f"wrote {args.out}: depth {args.depth}, width {args.width}, {params / 1e6:.2f} M parameters")


if __name__ == "__main__":
    main()
