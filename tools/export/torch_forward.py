#!/usr/bin/python3
"""PyTorch's side of the start-up benchmark (bench/startup.ts): builds an architecture with random
weights as the authors' code would (torchvision ResNet-50 / MobileNetV2, or tools/export/make_bit.py's
BiT ResNetV2), runs one forward at batch 1, then times forwards. 2 threads, no gradients,
OMP_WAIT_POLICY=PASSIVE unless set (see below).

Prints one JSON line: {"arch", "firstForwardS" (process start -> first forward done, from the
interpreter's start), "forwardMs" (median of the timed forwards), "runs"}.

Usage: /usr/bin/python3 tools/export/torch_forward.py resnet50|mobilenet_v2|bit_r101 [RUNS]
"""
import json
import os
import sys
import time

START = time.time()

# Threads that wait passively: on a shared machine (the benchmark's 2 cores run other jobs) the
# default spin-waiting of OpenMP's barriers made ResNet-50's forward 7x slower (1197 vs 168 ms at a
# load average of 8); on a quiet machine the two policies time alike.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402


def build(arch):
    if arch == "bit_r101":
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from make_bit import build as build_bit
        return build_bit(101)
    import torchvision
    return getattr(torchvision.models, arch)(weights=None).eval()


def main():
    arch = sys.argv[1]
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    torch.set_num_threads(2)
    model = build(arch)
    x = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        model(x)
        first = time.time() - START
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            model(x)
            times.append((time.perf_counter() - t) * 1000)
    times.sort()
    print(json.dumps({"arch": arch, "firstForwardS": round(first, 3),
                      "forwardMs": round(times[len(times) // 2], 1), "runs": runs}))


if __name__ == "__main__":
    main()
