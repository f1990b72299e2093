#!/usr/bin/python3
"""Peer for `granularity train bench`: the same ResNet-18 training step in PyTorch (Debian python3-torch / torchvision).

Prints one line: `median_ms=<float> steps=<n>`. Benchmark tooling only; nothing in the project needs Python to run.
usage: train_step_torch.py BATCH SIZE STEPS WARMUP THREADS
"""
import statistics, sys, time
import torch, torchvision

batch, size, steps, warmup, threads = (int(a) for a in sys.argv[1:6])
torch.set_num_threads(threads)
torch.manual_seed(0)
model = torchvision.models.resnet18(num_classes=100)
model.train()
optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
images = torch.rand(batch, 3, size, size)
labels = torch.randint(0, 100, (batch,))
times = []
for i in range(warmup + steps):
    start = time.perf_counter()
    loss = torch.nn.functional.cross_entropy(model(images), labels)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    loss.item()
    if i >= warmup:
        times.append((time.perf_counter() - start) * 1000)
print(f"median_ms={statistics.median(times):.3f} steps={steps}")
