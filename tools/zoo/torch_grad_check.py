#!/usr/bin/python3
"""Compares our compiled input gradient (tools/zoo/grad_dump.ts) with torch's autograd gradient of
the same scalar f(x) = sum(R * logits(x)) at the same float32 points, in float32 and float64, and
tells a gradient-rule bug from an ill-conditioned network (docs/zoo.md, efficientnet_v2_s):

- logits and gradient: ours (onnxruntime, optimised and not) against torch float32 and float64;
- float64 sensitivity: the relative change of the logits when the input moves by 6e-8 relative
  (float32 rounding);
- float64 central differences of f along v = g/max|g| + 0.3 noise for h = 1e-2 ... 1e-12, against
  float64 autograd (where they only agree at tiny h, f is linear only on a tiny ball);
- with --photo-bn, the same network with its BatchNorm statistics estimated on the last two photos
  (with flips and a shift) instead of noise: per photo, the float64 sensitivity and torch float32
  against float64 (the first two photos are held out);
- with --blocks, per block of `model.features` (torchvision's EfficientNet/MobileNet layout): the
  activations' RMS and the norm of df/d(activation), in float64, for every point.

Usage: /usr/bin/python3 tools/zoo/torch_grad_check.py ARCH DUMP_DIR PHOTO_DIR [--blocks] [--photo-bn]
The model is rebuilt exactly as tools/zoo/export.py builds it (seed 0, noise BatchNorm statistics,
re-drawn head); the agreement of ours and torch's logits on the noise point confirms it is the same.
"""
import copy
import os
import sys

import numpy as np
import torch
import torchvision

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import export  # noqa: E402  (tools/zoo/export.py)


def build(arch, photo_dir):
    size = export.input_size(arch)
    torch.manual_seed(0)
    model = getattr(torchvision.models, arch)(weights=None)
    export.calibrate_batchnorm(model, size)
    model.eval()
    _, photos = export.load_photos(photo_dir, size)
    export.redraw_head(model, photos)
    return model, size


def photo_bn(arch, photo_dir):
    """As build(), BatchNorm statistics from the last two photos (+ flips, a shift) instead of noise."""
    size = export.input_size(arch)
    torch.manual_seed(0)
    model = getattr(torchvision.models, arch)(weights=None)
    names, photos = export.load_photos(photo_dir, size)
    for m in model.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.reset_running_stats()
            m.momentum = None
    calib = photos[-2:]
    model.train()
    with torch.no_grad():
        model(torch.cat([calib, calib.flip(3), calib.flip(2), calib.roll(50, 3)]))
    model.eval()
    export.redraw_head(model, photos)
    m64 = copy.deepcopy(model).double()
    rng = np.random.default_rng(3)
    print("== BatchNorm statistics from photos " + ", ".join(names[-2:]))
    for i, name in enumerate(names):
        x = photos[i:i + 1]
        with torch.no_grad():
            y64 = m64(x.double()).numpy()[0]
            yp = m64(x.double() * (1 + 6e-8 * torch.tensor(rng.uniform(-1, 1, x.shape)))).numpy()[0]
            y32 = model(x).double().numpy()[0]
        print(f"  {name}: float64 logits move {rel(yp, y64):.2g} (input moved by 6e-8 relative); "
              f"torch float32 vs float64 logits {rel(y32, y64):.2g}")


def rel(a, b):
    return np.linalg.norm(a - b) / np.linalg.norm(b)


def f_and_grad(model, x, r):
    xt = torch.tensor(x, requires_grad=True)
    y = model(xt)
    f = (y * torch.tensor(r, dtype=y.dtype)).sum()
    f.backward()
    return f.item(), y.detach().double().numpy()[0], xt.grad.double().numpy()


def f_only(model, x, r):
    with torch.no_grad():
        return (model(torch.tensor(x)) * torch.tensor(r, dtype=torch.float64)).sum().item()


def compare(name, dump, m32, m64, r, shape):
    load = lambda f: np.fromfile(os.path.join(dump, f), np.float32).astype(np.float64)
    x = np.fromfile(os.path.join(dump, f"x_{name}.bin"), np.float32).reshape(shape)
    _, y32, g32 = f_and_grad(m32, x, r)
    _, y64, g64 = f_and_grad(m64, x.astype(np.float64), r)
    print(f"== {name}: |df/dx| torch float32 {np.linalg.norm(g32):.3g}, "
          f"float64 {np.linalg.norm(g64):.3g}")
    for tag, label in [("", "ours"), ("noopt_", "ours, onnxruntime optimisation off")]:
        yo, go = load(f"y_{tag}{name}.bin"), load(f"g_{tag}{name}.bin").reshape(shape)
        print(f"  {label}: |df/dx| {np.linalg.norm(go):.3g}; logits rel. diff vs torch float32 "
              f"{rel(yo, y32):.2g}, float64 {rel(yo, y64):.2g}; gradient vs float32 "
              f"{rel(go, g32):.2g}, float64 {rel(go, g64):.2g}")
    print(f"  torch float32 vs float64: logits {rel(y32, y64):.2g}, gradient {rel(g32, g64):.2g}")
    rng = np.random.default_rng(3)
    x64 = x.astype(np.float64)
    with torch.no_grad():
        yp = m64(torch.tensor(x64 * (1 + 6e-8 * rng.uniform(-1, 1, shape)))).numpy()[0]
    print(f"  float64, input moved by 6e-8 relative: logits move {rel(yp, y64):.2g} relative")
    v = g64 / np.abs(g64).max() + 0.3 * rng.uniform(-1, 1, shape)
    fds = [f"h={h:g}: {(f_only(m64, x64 + h * v, r) - f_only(m64, x64 - h * v, r)) / (2 * h):.4g}"
           for h in [1e-2, 1e-4, 1e-6, 1e-8, 1e-10, 1e-12]]
    print(f"  float64 df/dv: autograd {(g64 * v).sum():.4g}; central differences {', '.join(fds)}")


def block_table(m64, dump, names, r, shape):
    blocks = []
    for i, stage in enumerate(m64.features):
        inner = isinstance(stage, torch.nn.Sequential) and not isinstance(stage[0], torch.nn.Conv2d)
        blocks += [(f"features.{i}.{j}", b) for j, b in enumerate(stage)] if inner else [
            (f"features.{i}", stage)]
    cols = {}
    for name in names:
        acts = []

        def hook(_mod, _inp, out, acts=acts):
            out.retain_grad()
            acts.append(out)

        handles = [b.register_forward_hook(hook) for _, b in blocks]
        x = np.fromfile(os.path.join(dump, f"x_{name}.bin"), np.float32).reshape(shape)
        f_and_grad(m64, x.astype(np.float64), r)
        for h in handles:
            h.remove()
        cols[name] = [(a.detach().pow(2).mean().sqrt().item(), a.grad.norm().item()) for a in acts]
    print("block            " + "".join(f"{'rms ' + n:>16}{'|df/da| ' + n:>20}" for n in names))
    for k, (label, _) in enumerate(blocks):
        print(f"{label:16} " + "".join(f"{cols[n][k][0]:16.3g}{cols[n][k][1]:20.3g}" for n in names))


def main():
    arch, dump, photo_dir = sys.argv[1:4]
    torch.set_num_threads(1)
    m32, size = build(arch, photo_dir)
    m64 = copy.deepcopy(m32).double()
    r = np.fromfile(os.path.join(dump, "r.bin"), np.float32)
    shape = (1, 3, size, size)
    names = sorted({f[2:-4] for f in os.listdir(dump) if f.startswith("x_")})
    for name in names:
        compare(name, dump, m32, m64, r, shape)
    if "--blocks" in sys.argv:
        block_table(m64, dump, names, r, shape)
    if "--photo-bn" in sys.argv:
        photo_bn(arch, photo_dir)


if __name__ == "__main__":
    main()
