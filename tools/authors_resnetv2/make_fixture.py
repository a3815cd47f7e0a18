"""The authors'-ResNetV2 parity fixture: a small BiT ResNetV2 built with the S&I authors' own code
(vendored under authors/), random weights from a fixed seed, exported to ONNX opset 17, and the
authors' S&I-A (cal_method_imagenet_bit.cal_grad_value), GAIA-A (cal_method.cal_grad_value) and
energy on the photographs of tests/fixtures/photos/.

    /usr/bin/python3 tools/authors_resnetv2/make_fixture.py OUT_DIR [--model-only]

writes OUT_DIR/model.onnx and, unless --model-only, OUT_DIR/scores.json. Needs Debian's
python3-torch (1.13) and python3-pil. The model (16.9 M parameters, 68 MB) is not committed:
tests/si/authors_resnetv2_test.ts regenerates it with --model-only and checks its SHA-256
against scores.json. See README.md beside this file.
"""
import hashlib
import json
import math
import os
import sys

import torch
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "authors"))

import resnetv2  # noqa: E402  (vendored)
from cal_methods import Grad_all_hook, Grad_feature_hook, cal_grad_value  # noqa: E402
from cal_methods import gaia_cal_grad_value  # noqa: E402

ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
PHOTOS = ["astronaut.png", "chelsea.png", "coffee.png", "rocket.png", "hubble.png"]
UNITS = [1, 1, 1, 3]  # block4 needs three units: the authors' ten splits live there
CLASSES = 10
SIZE = 96  # input H = W
RESIZE = round(SIZE / (224 / 256))  # torchvision's ImageNet recipe: Resize(256), CenterCrop(224)
MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]
ALPHA = 0.001  # the authors' ImageNet setting; T = 2 iterations, CE loss, add integration


def build_model():
    """ResNetV2(UNITS, width 1), default init, GroupNorm affine and head re-drawn (seeded)."""
    torch.manual_seed(0)
    net = resnetv2.ResNetV2(UNITS, 1, head_size=CLASSES)
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, torch.nn.GroupNorm):
                m.weight.copy_(torch.rand(m.weight.shape, generator=g) + 0.5)
                m.bias.copy_((torch.rand(m.bias.shape, generator=g) - 0.5) * 0.4)
    return net.eval()


def load_photos():
    """torchvision's evaluation transform on PIL images, as `ImageFolder` loads them."""
    import torchvision.transforms as T

    tf = T.Compose([
        T.Resize(RESIZE, interpolation=T.InterpolationMode.BILINEAR),
        T.CenterCrop(SIZE),
        T.ToTensor(),
        T.Normalize(MEAN, STD),
    ])
    photos = os.path.join(ROOT, "tests", "fixtures", "photos")
    return torch.stack([tf(Image.open(os.path.join(photos, f)).convert("RGB")) for f in PHOTOS])


def spread_head(net, x):
    """Scales the random head so the logits on the photos spread (std 2), not near-uniform."""
    with torch.no_grad():
        std = net(x).std().item()
        net.head.conv.weight.mul_(2.0 / std)
        net.head.conv.bias.mul_(2.0 / std)


def export(net, path):
    torch.onnx.export(
        net, torch.zeros(1, 3, SIZE, SIZE), path, opset_version=17,
        input_names=["input"], output_names=["logits"],
        dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}},
    )
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


class _GroupNormLast:
    """What the S&I-A code reads of `hooks`: that the last one is a GroupNorm (before_head.gn)."""
    module_name = "GroupNorm"


def scores(net, x):
    target = torch.zeros(len(x), dtype=torch.long)  # unused: the code takes the argmax
    si_a = cal_grad_value(net, (x, target), "cpu", [_GroupNormLast()], "CE", ALPHA, "add")
    hooks = [Grad_all_hook(m) for m in net.body.block4.modules()
             if isinstance(m, torch.nn.GroupNorm)]
    hooks.append(Grad_feature_hook(net.before_head))
    gaia_a = gaia_cal_grad_value(net, x, "cpu", hooks)
    for h in hooks:
        h.close()
    with torch.no_grad():
        logits = net(x).double()
    energy = torch.logsumexp(logits, dim=1)
    # Higher = more in-distribution, as the product: S&I-A and GAIA-A are the negated values.
    return {
        "si_a": [-float(v) for v in si_a],
        "gaia_a": [-float(v) for v in gaia_a],
        "energy": [float(v) for v in energy],
        "logits": [[float(v) for v in row] for row in logits],
    }


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    net = build_model()
    x = load_photos()
    spread_head(net, x)
    sha = export(net, os.path.join(out, "model.onnx"))
    if "--model-only" in sys.argv:
        print(f"model.onnx sha256 {sha}")
        return
    result = {
        "generator": "tools/authors_resnetv2/make_fixture.py",
        "versions": {"torch": torch.__version__},
        "model_sha256": sha,
        "parameters": sum(p.numel() for p in net.parameters()),
        "units": UNITS, "classes": CLASSES, "input": [3, SIZE, SIZE], "resize": RESIZE,
        "settings": {"alpha": ALPHA, "iterations": 2, "loss": "ce", "integrate": "add"},
        "photos": PHOTOS,
        **scores(net, x),
        # The same code in float64: how far the float32 reference itself is from exact.
        "float64": {k: v for k, v in scores(net.double(), x.double()).items() if k != "logits"},
    }
    with open(os.path.join(out, "scores.json"), "w") as f:
        json.dump(result, f, indent=1)
    print(json.dumps({k: result[k] for k in ("si_a", "gaia_a", "energy")}, indent=1))
    assert all(math.isfinite(v) for v in result["si_a"] + result["gaia_a"])


if __name__ == "__main__":
    main()
