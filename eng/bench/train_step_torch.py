#!/usr/bin/python3
"""Peer for `granularity train bench`: the same ResNet-18 training step in PyTorch (Debian python3-torch / torchvision).

Prints one line: `median_ms=<float> steps=<n>`, or with PHASES `phases_ms=<forward>,<backward>,<update>` (medians).
Benchmark tooling only; nothing in the project needs Python to run.
usage: train_step_torch.py BATCH SIZE STEPS WARMUP THREADS [phases]
"""
import statistics, sys, time
import torch, torchvision

batch, size, steps, warmup, threads = (int(a) for a in sys.argv[1:6])
phases = len(sys.argv) > 6 and sys.argv[6] == "phases"
torch.set_num_threads(threads)
torch.manual_seed(0)
model = torchvision.models.resnet18(num_classes=100)
model.train()
optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
images = torch.rand(batch, 3, size, size)
labels = torch.randint(0, 100, (batch,))
times, forward, backward, update = [], [], [], []
for i in range(warmup + steps):
    start = time.perf_counter()
    loss = torch.nn.functional.cross_entropy(model(images), labels)
    loss.item()
    after_forward = time.perf_counter()
    optimizer.zero_grad()
    loss.backward()
    after_backward = time.perf_counter()
    optimizer.step()
    end = time.perf_counter()
    if i >= warmup:
        times.append((end - start) * 1000)
        forward.append((after_forward - start) * 1000)
        backward.append((after_backward - after_forward) * 1000)
        update.append((end - after_backward) * 1000)
if phases:
    print(f"phases_ms={statistics.median(forward):.3f},{statistics.median(backward):.3f},{statistics.median(update):.3f}")
else:
    print(f"median_ms={statistics.median(times):.3f} steps={steps}")
