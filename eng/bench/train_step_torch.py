#!/usr/bin/python3
"""Peer for `granularity train bench`: the same ResNet-18 training step in PyTorch (Debian python3-torch / torchvision).

Prints one line: `median_ms=<float> steps=<n>`, or with `phases` `phases_ms=<forward>,<backward>,<update>` (medians).
With `cpu` the times are the process's CPU time (time.process_time) instead of wall-clock time: on a shared, loaded
machine CPU time is far less disturbed by other processes. Benchmark tooling only; nothing in the project needs Python.
usage: train_step_torch.py BATCH SIZE STEPS WARMUP THREADS [phases] [cpu]
"""
import statistics, sys, time
import torch, torchvision

batch, size, steps, warmup, threads = (int(a) for a in sys.argv[1:6])
phases = "phases" in sys.argv[6:]
clock = time.process_time if "cpu" in sys.argv[6:] else time.perf_counter
torch.set_num_threads(threads)
torch.manual_seed(0)
model = torchvision.models.resnet18(num_classes=100)
model.train()
optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
images = torch.rand(batch, 3, size, size)
labels = torch.randint(0, 100, (batch,))
times, forward, backward, update = [], [], [], []
for i in range(warmup + steps):
    start = clock()
    loss = torch.nn.functional.cross_entropy(model(images), labels)
    loss.item()
    after_forward = clock()
    optimizer.zero_grad()
    loss.backward()
    after_backward = clock()
    optimizer.step()
    end = clock()
    if i >= warmup:
        times.append((end - start) * 1000)
        forward.append((after_forward - start) * 1000)
        backward.append((after_backward - after_forward) * 1000)
        update.append((end - after_backward) * 1000)
if phases:
    print(f"phases_ms={statistics.median(forward):.3f},{statistics.median(backward):.3f},{statistics.median(update):.3f}")
else:
    print(f"median_ms={statistics.median(times):.3f} steps={steps}")
