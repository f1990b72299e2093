#!/usr/bin/env python3
"""Peer for `granularity data bench`: the standard torchvision + PIL training pipeline on the same files.

RandomResizedCrop(224) + RandomHorizontalFlip + ToTensor + Normalize through a DataLoader. --threads 1 runs in the
main process (num_workers=0, torch.set_num_threads(1)); --threads N>1 uses N worker processes. Prints one JSON line
with images/s in steady state (after the first `threads` batches, so worker start-up is not counted), as the C# side.
Optional: the project never needs python; this script only exists to compare against Debian's python3-torchvision.
"""
import argparse, json, time

import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms


class Files(Dataset):
    def __init__(self, paths, transform):
        self.paths, self.transform = paths, transform

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, index):
        with open(self.paths[index], "rb") as f:
            image = Image.open(f).convert("RGB")
        return self.transform(image), 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", required=True, help="text file with one image path per line")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    paths = [line.strip() for line in open(args.files) if line.strip()]
    transform = transforms.Compose([
        transforms.RandomResizedCrop(224),
        transforms.RandomHorizontalFlip(),
        transforms.ToTensor(),
        transforms.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]),
    ])
    workers = 0 if args.threads <= 1 else args.threads
    extra = {"prefetch_factor": 2} if workers else {}
    loader = DataLoader(Files(paths, transform), batch_size=args.batch, shuffle=True, num_workers=workers, **extra)
    # Steady state, as the C# side: start the clock once the first `threads` batches (built in parallel at start-up)
    # have arrived, and count the images of the later batches.
    start, images, seen, warm = None, 0, 0, max(1, args.threads)
    for batch, _ in loader:
        seen += 1
        if seen <= warm:
            if seen == warm:
                start = time.perf_counter()
            continue
        images += batch.shape[0]
    seconds = time.perf_counter() - start
    print(json.dumps({"images": images, "seconds": seconds, "images_per_s": images / seconds, "threads": args.threads,
                      "torch": torch.__version__, "pil": Image.__version__}))


if __name__ == "__main__":
    main()
