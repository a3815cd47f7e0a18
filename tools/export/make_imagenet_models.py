#!/usr/bin/python3
"""Exports torchvision's ResNet-50 and MobileNetV2 (ImageNet topology, 224x224, 1000 classes) with
RANDOM weights as ONNX, for benchmarking and end-to-end checks of the 224-pixel path. Nothing is
downloaded (`weights=None`); the files are reproducible from the seed.

Input "input" [N,3,224,224] float32, output "logits" [N,1000], opset 17, dynamic batch,
BatchNormalization kept as nodes (the S&I split points). The BatchNorm running statistics are
estimated on a few batches of seeded Gaussian noise so that activations keep a realistic scale
through 50 layers (with torchvision's initial statistics, mean 0 and variance 1, the residual sums
grow until the softmax saturates and every gradient vanishes).

Usage (Debian: apt-get install -y python3-torchvision):
  /usr/bin/python3 tools/export/make_imagenet_models.py [OUT_DIR]      # default bench/models/gen
Writes OUT_DIR/resnet50.onnx (~100 MB) and OUT_DIR/mobilenet_v2.onnx (~14 MB): do not commit them.
"""
import os
import sys

import torch
from torch import nn
import torchvision

ARCHS = {"resnet50": torchvision.models.resnet50, "mobilenet_v2": torchvision.models.mobilenet_v2}


def calibrate_batchnorm(model, batches=3, batch=8):
    """Cumulative running statistics over seeded noise (momentum=None: a plain average)."""
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.reset_running_stats()
                m.momentum = None
                # Distinct affine parameters: the exporter shares equal initializers via Identity.
                m.weight.uniform_(0.8, 1.2)
                m.bias.uniform_(-0.1, 0.1)
        model.train()
        for _ in range(batches):
            model(torch.randn(batch, 3, 224, 224, generator=gen))
    model.eval()


def export(name, out_dir):
    torch.manual_seed(0)
    model = ARCHS[name](weights=None)
    calibrate_batchnorm(model)
    path = os.path.join(out_dir, f"{name}.onnx")
    torch.onnx.export(
        model,
        torch.zeros(1, 3, 224, 224),
        path,
        input_names=["input"],
        output_names=["logits"],
        dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}},
        opset_version=17,
        # PRESERVE on an eval-mode model keeps BatchNormalization nodes in inference form.
        training=torch.onnx.TrainingMode.PRESERVE,
        do_constant_folding=False,
    )
    params = sum(p.numel() for p in model.parameters())
    print(f"wrote {path}: {params / 1e6:.2f} M parameters")


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else "bench/models/gen"
    os.makedirs(out_dir, exist_ok=True)
    torch.set_num_threads(2)
    for name in ARCHS:
        export(name, out_dir)


if __name__ == "__main__":
    main()
