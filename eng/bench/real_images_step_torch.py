#!/usr/bin/python3
"""Peer for `granularity experiment real-images bench`: the real-image experiment's small CNN and training step in PyTorch.

The same network as lib/Granularity/Training/Models/SmallCnn.cs (conv3x3-BN-ReLU-maxpool twice, conv3x3-BN-ReLU, global
max pool, linear head), Adam at a constant rate, cross-entropy, batch BATCH of CHANNELS×SIZE×SIZE, CLASSES outputs.
Prints one line: `median_ms=<float> steps=<n>`. Benchmark tooling only; nothing in the project needs Python to run.
usage: real_images_step_torch.py BATCH CHANNELS SIZE WIDTH CLASSES STEPS WARMUP THREADS
"""
import statistics, sys, time
import torch
from torch import nn

batch, channels, size, width, classes, steps, warmup, threads = (int(a) for a in sys.argv[1:9])
torch.set_num_threads(threads)
torch.manual_seed(0)


class SmallCnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(channels, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU())
        self.head = nn.Linear(width, classes)

    def forward(self, x):
        return self.head(self.features(x).amax(dim=(2, 3)))


model = SmallCnn()
model.train()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
images = torch.randn(batch, channels, size, size)
labels = torch.randint(0, classes, (batch,))
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
