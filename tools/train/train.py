#!/usr/bin/env python3
"""Train Wide-ResNet-40-2 on Fashion-MNIST and export it to ONNX with BatchNormalization kept.

Reproduces the bundled model (models/fmnist-wrn40, fixture recipe):
  12 epochs of SGD (Nesterov momentum 0.9, weight decay 5e-4, batch 256), one-cycle learning
  rate peaking at 0.1, random 32x32 crops of the 4-pixel-padded input and horizontal flips;
  every weight rounded to float16 and back before export.

Needs only Debian packages: python3-torch (1.13, CPU) and dataset-fashion-mnist.
No torchvision: data loading and augmentation are a few tensor operations below.

  python3 tools/train/train.py --out /tmp/wrn                # full run (hours on a CPU)
  python3 tools/train/train.py --smoke --out /tmp/wrn-smoke  # 50 steps, small net, ~1 min

Writes <out>/model.onnx and <out>/train.json (settings, accuracy, sha256, BN node count).
"""
import argparse
import gzip
import hashlib
import json
import os
import struct
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

FMNIST_DIR = "/usr/share/datasets/fashion-mnist"
MEAN, STD = 0.2860, 0.3530  # Fashion-MNIST training-set pixel mean/std on the 0..1 scale


# ---------------------------------------------------------------- data

def read_idx(path):
    """An IDX ubyte file (gzipped or not) as a uint8 tensor of its declared shape."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return torch.frombuffer(bytearray(data[4 + 4 * ndim:]), dtype=torch.uint8).reshape(dims)


def load_split(data_dir, split):
    prefix = "train" if split == "train" else "t10k"
    images = read_idx(os.path.join(data_dir, f"{prefix}-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(data_dir, f"{prefix}-labels-idx1-ubyte.gz")).long()
    return images, labels


def preprocess(u8):
    """uint8 [N,28,28] -> float32 [N,3,32,32], exactly as the service's manifest does it:
    /255 (ToTensor), pad 2 of 0, (x - mean)/std (Normalize), gray replicated to 3 channels."""
    x = u8.float().div(255)
    x = F.pad(x, (2, 2, 2, 2), value=0.0)
    x = (x - torch.tensor(MEAN)) / torch.tensor(STD)
    return x.unsqueeze(1).expand(-1, 3, -1, -1).contiguous()


def augment(x, gen):
    """Random 32x32 crops of the 4-pixel zero-padded (in pixel space) input, random h-flips.
    Padding uses the normalized value of a black pixel so that it matches padding the image."""
    n = x.shape[0]
    black = (0.0 - MEAN) / STD
    padded = F.pad(x, (4, 4, 4, 4), value=black)
    dx = torch.randint(0, 9, (n,), generator=gen)
    dy = torch.randint(0, 9, (n,), generator=gen)
    out = torch.stack([padded[i, :, dy[i]:dy[i] + 32, dx[i]:dx[i] + 32] for i in range(n)])
    flip = torch.rand(n, generator=gen) < 0.5
    out[flip] = out[flip].flip(3)
    return out


# ---------------------------------------------------------------- model
# Wide-ResNet with pre-activation blocks (Zagoruyko & Komodakis; the layout used by the OOD
# literature, e.g. Hendrycks et al.). Module names match the bundled model's ONNX node names.

class BasicBlock(nn.Module):
    def __init__(self, in_planes, out_planes, stride):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_planes)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(in_planes, out_planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_planes)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(out_planes, out_planes, 3, 1, 1, bias=False)
        self.equal_in_out = in_planes == out_planes
        self.convShortcut = None if self.equal_in_out else nn.Conv2d(
            in_planes, out_planes, 1, stride, 0, bias=False)

    def forward(self, x):
        if self.equal_in_out:
            out = self.relu1(self.bn1(x))
            out = self.conv2(self.relu2(self.bn2(self.conv1(out))))
            return torch.add(x, out)
        x = self.relu1(self.bn1(x))
        out = self.conv2(self.relu2(self.bn2(self.conv1(x))))
        return torch.add(self.convShortcut(x), out)


class NetworkBlock(nn.Module):
    def __init__(self, n, in_planes, out_planes, stride):
        super().__init__()
        self.layer = nn.Sequential(*[
            BasicBlock(in_planes if i == 0 else out_planes, out_planes, stride if i == 0 else 1)
            for i in range(n)])

    def forward(self, x):
        return self.layer(x)


class WideResNet(nn.Module):
    def __init__(self, depth=40, widen=2, num_classes=10):
        super().__init__()
        if (depth - 4) % 6 != 0:
            raise ValueError("depth must be 6n + 4")
        n = (depth - 4) // 6
        ch = [16, 16 * widen, 32 * widen, 64 * widen]
        self.conv1 = nn.Conv2d(3, ch[0], 3, 1, 1, bias=False)
        self.block1 = NetworkBlock(n, ch[0], ch[1], 1)
        self.block2 = NetworkBlock(n, ch[1], ch[2], 2)
        self.block3 = NetworkBlock(n, ch[2], ch[3], 2)
        self.bn1 = nn.BatchNorm2d(ch[3])
        self.relu = nn.ReLU(inplace=True)
        self.AdaptAvgPool = nn.AdaptiveAvgPool2d(1)  # exports as GlobalAveragePool
        self.fc = nn.Linear(ch[3], num_classes)
        self.channels = ch[3]
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                m.weight.data.fill_(1)
                m.bias.data.zero_()
            elif isinstance(m, nn.Linear):
                m.bias.data.zero_()

    def forward(self, x):
        out = self.block3(self.block2(self.block1(self.conv1(x))))
        out = self.AdaptAvgPool(self.relu(self.bn1(out)))
        # A constant target shape exports as Constant + Reshape (no Shape/Gather chain).
        return self.fc(out.reshape(-1, self.channels))


# ---------------------------------------------------------------- train / evaluate / export

@torch.no_grad()
def accuracy(model, images, labels, batch=500):
    model.eval()
    correct = 0
    for i in range(0, len(images), batch):
        logits = model(preprocess(images[i:i + batch]))
        correct += (logits.argmax(1) == labels[i:i + batch]).sum().item()
    return correct / len(images)


def export_onnx(model, path):
    """Export with every BatchNormalization kept as a node.

    With the default training=EVAL, torch 1.13 runs its eval peephole pass, which folds each
    BatchNormalization that follows a Conv into that Conv (the fixture's model.folded.onnx:
    18 of 37 left). On an eval-mode model, training=PRESERVE skips that pass and still emits
    inference-mode BatchNormalization (running statistics, one output). Measured on a
    depth-10 net (7 BN): default 4, do_constant_folding=False alone 4, PRESERVE 7 with or
    without constant folding. So PRESERVE is what matters; do_constant_folding=False is kept
    only so that nothing else is pre-computed out of the graph.
    """
    model.eval()
    dummy = torch.zeros(1, 3, 32, 32)
    torch.onnx.export(
        model, dummy, path,
        opset_version=17,
        input_names=["input"], output_names=["logits"],
        dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
        training=torch.onnx.TrainingMode.PRESERVE,
        do_constant_folding=False,
    )


def count_ops(path):
    """Op-type counts of an ONNX file, read with a minimal protobuf walk (no onnx package)."""
    with open(path, "rb") as f:
        buf = f.read()
    counts = {}

    def varint(b, i):
        shift = result = 0
        while True:
            c = b[i]
            i += 1
            result |= (c & 0x7F) << shift
            if c < 0x80:
                return result, i
            shift += 7

    def fields(b):
        i = 0
        while i < len(b):
            key, i = varint(b, i)
            num, wt = key >> 3, key & 7
            if wt == 0:
                _, i = varint(b, i)
            elif wt == 1:
                i += 8
            elif wt == 5:
                i += 4
            elif wt == 2:
                n, i = varint(b, i)
                yield num, b[i:i + n]
                i += n
            else:
                raise ValueError("unexpected wire type")

    for num, graph in fields(buf):
        if num != 7:  # ModelProto.graph
            continue
        for gnum, node in fields(graph):
            if gnum != 1:  # GraphProto.node
                continue
            for nnum, val in fields(node):
                if nnum == 4:  # NodeProto.op_type
                    op = val.decode()
                    counts[op] = counts.get(op, 0) + 1
    return counts


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=FMNIST_DIR, help="folder with the Fashion-MNIST IDX files")
    ap.add_argument("--out", required=True, help="output folder for model.onnx and train.json")
    ap.add_argument("--depth", type=int, default=40)
    ap.add_argument("--widen", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--lr", type=float, default=0.1, help="one-cycle peak learning rate")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0 = torch default)")
    ap.add_argument("--smoke", action="store_true",
                    help="50 steps of batch 64 on a 3200-image subset with a depth-10 width-1 net")
    args = ap.parse_args()

    steps_limit = None
    if args.smoke:
        args.depth, args.widen, args.batch, args.epochs = 10, 1, 64, 1
        steps_limit = 50
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)

    train_x, train_y = load_split(args.data, "train")
    test_x, test_y = load_split(args.data, "test")
    if args.smoke:
        train_x, train_y = train_x[:3200], train_y[:3200]
        test_x, test_y = test_x[:1000], test_y[:1000]

    model = WideResNet(args.depth, args.widen)
    steps_per_epoch = len(train_x) // args.batch  # drop the last partial batch
    total = steps_limit or steps_per_epoch * args.epochs
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, nesterov=True,
                          weight_decay=5e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=total)
    step = 0
    t0 = time.time()
    while step < total:
        model.train()
        perm = torch.randperm(len(train_x), generator=gen)
        for b in range(steps_per_epoch):
            if step >= total:
                break
            idx = perm[b * args.batch:(b + 1) * args.batch]
            x = augment(preprocess(train_x[idx]), gen)
            loss = F.cross_entropy(model(x), train_y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            if step % 10 == 0 or step == total:
                print(f"step {step}/{total} loss {loss.item():.4f} {time.time() - t0:.0f}s", flush=True)

    # The bundled model's weights were rounded to float16 and back (smaller diffs, same accuracy).
    with torch.no_grad():
        for p in model.state_dict().values():
            if p.is_floating_point():
                p.copy_(p.half().float())

    acc = accuracy(model, test_x, test_y)
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "model.onnx")
    export_onnx(model, path)
    ops = count_ops(path)
    n = (args.depth - 4) // 6
    expected_bn = 3 * n * 2 + 1
    with open(path, "rb") as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    report = {
        "depth": args.depth, "widen": args.widen, "epochs": args.epochs, "steps": total,
        "batch": args.batch, "lr": args.lr, "seed": args.seed, "smoke": args.smoke,
        "test_images": len(test_x), "test_accuracy": acc, "sha256": sha, "ops": ops,
        "torch": torch.__version__,
    }
    with open(os.path.join(args.out, "train.json"), "w") as f:
        json.dump(report, f, indent=2)
    print(json.dumps(report, indent=2))
    if ops.get("BatchNormalization", 0) != expected_bn:
        print(f"error: expected {expected_bn} BatchNormalization nodes, found "
              f"{ops.get('BatchNormalization', 0)}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
