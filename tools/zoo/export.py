#!/usr/bin/python3
"""Exports the torchvision 0.14 model zoo (23 ImageNet architectures) with RANDOM weights as ONNX
and computes torch's own energy (logsumexp of the logits) on a few photos, for the zoo sweep
(tools/zoo/sweep.sh) and tests/zoo/zoo_test.ts. Nothing is downloaded (`weights=None`).

Per architecture, reproducible from the seed:
- torch.manual_seed(0), `weights=None`;
- BatchNorm running statistics estimated on seeded Gaussian noise (as
  tools/export/make_imagenet_models.py: with mean 0 / variance 1 deep residual sums blow up), on
  the photos and their mirror images for the architectures in PHOTO_BN_ARCHS; the
  affine parameters keep torchvision's initial values, so the exporter de-duplicates equal ones
  into Identity nodes exactly as on a user's export;
- the last layer (the last Linear or Conv2d module: the classifier) re-drawn from N(0, 1), bias 0,
  then scaled so the logits' standard deviation over classes is 2 on average over the photos (the
  head of a randomly initialised MobileNet/EfficientNet sees tiny features, ViT's starts at zero,
  so the logits would otherwise be uniform to float32 precision). The logits are homogeneous of
  degree 1 in that weight (SqueezeNet's ReLU + average pool included), so one rescale is exact;
- exported at opset 17, dynamic batch, input "input" [N,3,H,W], output "logits" [N,1000],
  BatchNormalization kept as nodes (`TrainingMode.PRESERVE`, as models/README.md says).

Torch's energy uses torchvision's evaluation transform on the PIL image: Resize(round(S·256/224),
bilinear, antialias) → CenterCrop(S) → ToTensor → Normalize(ImageNet), S = 224 (299 for
inception_v3) — what `deno task import --preset imagenet` drafts.

Usage (Debian: apt-get install -y python3-torchvision):
  /usr/bin/python3 tools/zoo/export.py OUT_DIR PHOTO_DIR [arch,arch,...]
Writes OUT_DIR/<arch>.onnx and OUT_DIR/<arch>.json ({arch, params, size, logit_std, energy:
{photo: value}}).
"""
import json
import os
import sys
import time

import torch
import torchvision
from PIL import Image
from torch import nn
from torchvision import transforms as T

ARCHS = [
    "resnet18", "resnet50", "resnext50_32x4d", "wide_resnet50_2", "vgg11_bn", "alexnet",
    "squeezenet1_0", "googlenet", "inception_v3", "mobilenet_v2", "mobilenet_v3_small",
    "mobilenet_v3_large", "mnasnet1_0", "efficientnet_b0", "efficientnet_v2_s", "regnet_y_400mf",
    "regnet_x_400mf", "shufflenet_v2_x1_0", "densenet121", "convnext_tiny", "swin_t", "vit_b_16",
    "maxvit_t",
]
LOGIT_STD = 2.0


def input_size(arch):
    return 299 if arch == "inception_v3" else 224


def load_photos(photo_dir, size):
    tf = T.Compose([
        T.Resize(round(size * 256 / 224), interpolation=T.InterpolationMode.BILINEAR,
                 antialias=True),
        T.CenterCrop(size),
        T.ToTensor(),
        T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
    ])
    names = sorted(f for f in os.listdir(photo_dir) if f.lower().endswith((".png", ".jpg")))
    return names, torch.stack([tf(Image.open(os.path.join(photo_dir, n)).convert("RGB"))
                               for n in names])


# Architectures whose BatchNorm statistics come from the photos (and their mirror images) instead
# of noise: with noise statistics efficientnet_v2_s is ill-conditioned on photos in float32 (one
# ulp of input moved its float32 logits by 0.29; torch float32 vs float64 differ by 2.4 %;
# docs/zoo.md, "efficientnet_v2_s: ill-conditioned, not mis-differentiated"), as no trained
# network is: a trained network's statistics come from natural images.
PHOTO_BN_ARCHS = {"efficientnet_v2_s"}


def calibrate_batchnorm(model, size, photos=None, batches=2, batch=8):
    """Cumulative running statistics (momentum=None: a plain average) over seeded noise, or over
    `photos` and their mirror images when given."""
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not bns:
        return
    gen = torch.Generator().manual_seed(1)
    for m in bns:
        m.reset_running_stats()
        m.momentum = None
    model.train()
    with torch.no_grad():
        if photos is not None:
            model(torch.cat([photos, photos.flip(3)]))
        else:
            for _ in range(batches):
                model(torch.randn(batch, 3, size, size, generator=gen))
    model.eval()


def redraw_head(model, photos):
    head = [m for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv2d))][-1]
    gen = torch.Generator().manual_seed(2)
    with torch.no_grad():
        head.weight.copy_(torch.randn(head.weight.shape, generator=gen))
        if head.bias is not None:
            head.bias.zero_()
        std = model(photos).std(dim=1).mean().item()
        head.weight.mul_(LOGIT_STD / std)
        return model(photos)


def export(arch, out_dir, photo_dir):
    t0 = time.time()
    size = input_size(arch)
    torch.manual_seed(0)
    model = getattr(torchvision.models, arch)(weights=None)
    names, photos = load_photos(photo_dir, size)
    calibrate_batchnorm(model, size, photos if arch in PHOTO_BN_ARCHS else None)
    model.eval()
    logits = redraw_head(model, photos)
    path = os.path.join(out_dir, f"{arch}.onnx")
    torch.onnx.export(
        model, torch.zeros(1, 3, size, size), path, input_names=["input"],
        output_names=["logits"], dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}},
        opset_version=17, training=torch.onnx.TrainingMode.PRESERVE)
    energy = torch.logsumexp(logits.double(), dim=1)
    facts = {
        "arch": arch,
        "params": sum(p.numel() for p in model.parameters()),
        "size": size,
        "logit_std": [round(v, 4) for v in logits.std(dim=1).tolist()],
        "energy": dict(zip(names, energy.tolist())),
        "versions": {"torch": torch.__version__, "torchvision": torchvision.__version__},
    }
    with open(os.path.join(out_dir, f"{arch}.json"), "w") as f:
        json.dump(facts, f, indent=1)
    print(f"{arch}: {facts['params']} parameters, logit std {facts['logit_std']}, "
          f"{time.time() - t0:.1f} s", flush=True)


def main():
    out_dir, photo_dir = sys.argv[1], sys.argv[2]
    archs = sys.argv[3].split(",") if len(sys.argv) > 3 else ARCHS
    unknown = [a for a in archs if a not in ARCHS]
    if unknown:
        sys.exit(f"unknown architecture(s) {unknown}; known: {','.join(ARCHS)}")
    os.makedirs(out_dir, exist_ok=True)
    torch.set_num_threads(1)
    for arch in archs:
        export(arch, out_dir, photo_dir)


if __name__ == "__main__":
    main()
