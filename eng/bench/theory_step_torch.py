#!/usr/bin/python3
"""Peer for `granularity theory bench`: the theory experiment's SGD step written independently in plain PyTorch.

One step: draw a fresh batch of the hierarchical multi-view data (2 superclasses x k subclasses, P patches, common and
fine features on shuffled patches, Gaussian noise), then one SGD step of the coarse model (2 outputs) and one of the
fine model (2k outputs), each F_j(X) = sum_p sum_r relu(<w_jr, x_p>) on softmax cross-entropy.

Prints one line: `steps_per_second=<float> steps=<n> blas=<name>`. Benchmark tooling only.
usage: theory_step_torch.py D K STEPS WARMUP THREADS [P M BATCH]
"""
import sys, time
import torch

args = [int(a) for a in sys.argv[1:]]
d, k, steps, warmup, threads = args[:5]
patches, m, batch = (args[5:8] + [8, 10, 64][len(args[5:8]):])
common_patches, fine_patches, sigma, strength, lr, init_std = 2, 2, 0.15, 1.0, 0.3, 0.01
torch.set_num_threads(threads)
generator = torch.Generator().manual_seed(0)
subclasses = 2 * k
features = torch.zeros(2 + subclasses, d)
features[torch.arange(2 + subclasses), torch.randperm(d, generator=generator)[: 2 + subclasses]] = 1.0


def sample():
    fine = torch.randint(0, subclasses, (batch,), generator=generator)
    coarse = fine // k
    positions = torch.rand(batch, patches, generator=generator).argsort(1)
    x = torch.randn(batch, patches, d, generator=generator) * sigma
    rows = torch.arange(batch).unsqueeze(1)
    x[rows, positions[:, :common_patches]] += strength * features[coarse].unsqueeze(1)
    x[rows, positions[:, common_patches:common_patches + fine_patches]] += strength * features[2 + fine].unsqueeze(1)
    return x, coarse, fine


def model(outputs):
    w = (torch.randn(outputs, m, d, generator=generator) * init_std).requires_grad_()
    return w, torch.optim.SGD([w], lr=lr)


def step(w, optimizer, x, labels):
    outputs = w.shape[0]
    logits = torch.relu(x.reshape(batch * patches, d) @ w.reshape(outputs * m, d).T).reshape(batch, patches, outputs, m).sum((1, 3))
    loss = torch.nn.functional.cross_entropy(logits, labels)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()


coarse_model, fine_model = model(2), model(subclasses)
for i in range(warmup):
    x, coarse, fine = sample()
    step(*coarse_model, x, coarse)
    step(*fine_model, x, fine)
start = time.perf_counter()
for i in range(steps):
    x, coarse, fine = sample()
    step(*coarse_model, x, coarse)
    step(*fine_model, x, fine)
elapsed = time.perf_counter() - start
config = torch.__config__.show()
blas = "openblas" if "openblas" in config.lower() else "unknown"
try:
    import ctypes, os
    maps = open(f"/proc/{os.getpid()}/maps").read()
    blas = next((name for name in ("libopenblas", "libblis", "libmkl", "libblas.so") if name in maps), blas)
    openblas = next((line.split()[-1] for line in maps.splitlines() if "libopenblas" in line and line.split()[-1].startswith("/")), None)
    if openblas:
        corename = ctypes.CDLL(openblas).openblas_get_corename
        corename.restype = ctypes.c_char_p
        blas += f"({corename().decode()})"
except (OSError, AttributeError):
    pass
print(f"steps_per_second={steps / elapsed:.3f} steps={steps} blas={blas}")
