#!/usr/bin/python3
"""Reference tensors for the photo pre-processing (resize shorter side + center crop + normalize),
computed ONCE with torchvision's own transforms and committed as
tests/fixtures/preprocess/torchvision.json. The TypeScript tests compare src/image/preprocess.ts
against these numbers; they never come from our code.

Cases: small synthetic RGB images (pixels stored in the JSON) through
  "pil":    Resize(S, interpolation, antialias=True) on the PIL image (Pillow's 8-bit resampling)
            → CenterCrop → ToTensor → Normalize
  "tensor": ToTensor → Resize(S, interpolation, antialias=True) on the float tensor
            → CenterCrop → Normalize
with ImageNet's mean/std. Sizes are chosen so that torchvision's crop offsets hit Python's
round-half-to-even (1.5 → 2, 3.5 → 4, 4.5 → 4, 0.5 → 0) and one case enlarges.

Usage (Debian: apt-get install -y python3-torchvision):
  /usr/bin/python3 tools/reference/preprocess_reference.py [OUT_JSON]
"""
import json
import sys

import numpy as np
import PIL
import torch
import torchvision
from PIL import Image
from torchvision import transforms as T
from torchvision.transforms import InterpolationMode

MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]

# (name, width, height, shorter side, crop [h, w], interpolation)
CASES = [
    ("landscape-bilinear", 17, 11, 8, [5, 5], "bilinear"),
    ("portrait-bicubic", 9, 20, 7, [6, 4], "bicubic"),
    ("enlarge-bicubic", 5, 4, 6, [6, 6], "bicubic"),
    ("shrink4x-bilinear", 40, 30, 7, [7, 7], "bilinear"),
]
MODES = {"bilinear": InterpolationMode.BILINEAR, "bicubic": InterpolationMode.BICUBIC}


def pixels(width, height):
    """A deterministic RGB pattern with edges, gradients and both extremes (0 and 255)."""
    y, x = np.mgrid[0:height, 0:width]
    planes = [
        (x * 37 + y * 91 + (x * y) % 7 * 20) % 256,
        np.where((x // 3 + y // 2) % 2 == 0, 255, 0),
        (x * 255) // max(1, width - 1),
    ]
    return np.stack(planes, axis=-1).astype(np.uint8)


def run(name, width, height, shorter, crop, interp):
    rgb = pixels(width, height)
    img = Image.fromarray(rgb, mode="RGB")
    norm = T.Normalize(MEAN, STD)
    resize = T.Resize(shorter, interpolation=MODES[interp], antialias=True)
    pil = T.Compose([resize, T.CenterCrop(crop), T.ToTensor(), norm])(img)
    tensor = T.Compose([T.ToTensor(), resize, T.CenterCrop(crop), norm])(img)
    return {
        "name": name,
        "width": width,
        "height": height,
        "shorter": shorter,
        "crop": {"height": crop[0], "width": crop[1]},
        "method": interp,
        "rgb": rgb.reshape(-1).tolist(),
        "pil": [float(v) for v in pil.reshape(-1).tolist()],
        "tensor": [float(v) for v in tensor.reshape(-1).tolist()],
    }


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/preprocess/torchvision.json"
    doc = {
        "generator": "tools/reference/preprocess_reference.py",
        "versions": {
            "torch": torch.__version__,
            "torchvision": torchvision.__version__,
            "pillow": PIL.__version__,
        },
        "mean": MEAN,
        "std": STD,
        "layout": "rgb: row-major HxWx3 uint8; pil/tensor: CHW float32 after Normalize",
        "cases": [run(*c) for c in CASES],
    }
    with open(out, "w") as f:
        json.dump(doc, f)
        f.write("\n")
    print(f"wrote {out}: {len(CASES)} cases")


if __name__ == "__main__":
    main()
