#!/usr/bin/python3
"""Independent PyTorch reference for the Omniglot Standard protocol (fine-to-coarse on real images).

Reads the committed small subsets (data/omniglot/*.zip) directly with zipfile + PIL: 8 alphabets, 242 characters,
20 drawers each (Greek and Latin, present in both zips, are kept once). Drawer split: drawings 1-14 train, 15-16
validation, 17-20 test. Target task: the alphabet. Arms (alphabet error on the test split):
  baseline          the body + an alphabet head trained on alphabet labels
  leaf_mapped_up    trained on character labels; alphabet of the best character logit
  leaf_ft           the character model, a fresh alphabet head, everything fine-tuned on alphabet labels
  instance_ft       one label per training image, then fine-tuned as leaf_ft
  leaf_lp           the character model's frozen features, a fresh alphabet head (linear probe)
  leaf_lp_then_ft   the linear probe's head as the start of leaf_ft
Written from the protocol's description, not from the C#. Writes the headline JSON read by compare.py.

usage: omniglot_reference.py --out FILE [--seeds 0,1,2] [--image-size 28 --channels 32,64,64 ...] [--threads 1]
       omniglot_reference.py --self-test
"""
import argparse
import hashlib
import io
import json
import math
import os
import sys
import time
import zipfile

ARMS = ["baseline", "leaf_mapped_up", "leaf_ft", "instance_ft", "leaf_lp", "leaf_lp_then_ft"]
REQUIRED_ARMS = ["baseline", "leaf_mapped_up", "leaf_ft", "instance_ft"]


def default_data_folder():
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "data", "omniglot")


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", help="headline JSON to write")
    p.add_argument("--seeds", default="0,1,2", help="comma-separated seeds (default 0,1,2)")
    p.add_argument("--arms", default=",".join(ARMS), help=f"comma-separated arms (default all: {','.join(ARMS)})")
    p.add_argument("--data", default=None, help="folder holding images_background_small1.zip and ..._small2.zip")
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    p.add_argument("--self-test", action="store_true", help="check the reader, split, preprocessing and readouts, then exit")
    p.add_argument("--quiet", action="store_true")
    g = p.add_argument_group("protocol (every value an option, so the protocol study's choice needs no code change)")
    g.add_argument("--image-size", type=int, default=28, help="side in pixels after resizing the 105 px drawings")
    g.add_argument("--resize", choices=["box", "bilinear", "lanczos"], default="box",
                   help="PIL resampling filter (box: area average, the C# protocol)")
    g.add_argument("--channels", default="32,64,64", help="conv block widths; each block conv3x3-BN-ReLU-maxpool2")
    g.add_argument("--pool", choices=["max", "avg", "flatten"], default="max",
                   help="global max pool, global average pool or flattened map after the last block")
    g.add_argument("--batch-norm", type=int, choices=[0, 1], default=1)
    g.add_argument("--shift", type=int, default=2, help="random shift of up to N px in x and y (zero padding); 0: none")
    g.add_argument("--epochs", type=int, default=12, help="baseline and pretraining epochs")
    g.add_argument("--ft-epochs", type=int, default=4, help="fine-tuning epochs (leaf_ft, instance_ft, lp_then_ft)")
    g.add_argument("--lp-epochs", type=int, default=20, help="linear-probe epochs on frozen features")
    g.add_argument("--pretrain-epochs", type=int, default=None,
                   help="epochs of the leaf and instance pretraining (default: --epochs); the same-total-budget protocol passes --epochs minus --ft-epochs")
    g.add_argument("--lp-then-ft-epochs", type=int, default=None, help="fine-tuning epochs after the probe (default: --ft-epochs)")
    g.add_argument("--lp-then-ft-lr", type=float, default=None, help="fine-tuning rate after the probe (default: --ft-lr)")
    g.add_argument("--batch-size", type=int, default=64)
    g.add_argument("--optimizer", choices=["adam", "sgd"], default="adam")
    g.add_argument("--lr", type=float, default=1e-3, help="learning rate of baseline and pretraining")
    g.add_argument("--ft-lr", type=float, default=None, help="fine-tuning learning rate (default: --lr)")
    g.add_argument("--lp-lr", type=float, default=None, help="linear-probe learning rate (default: 10 x --lr)")
    g.add_argument("--momentum", type=float, default=0.9, help="SGD momentum")
    g.add_argument("--weight-decay", type=float, default=0.0)
    g.add_argument("--schedule", choices=["constant", "cosine"], default="cosine", help="learning-rate schedule per run")
    g.add_argument("--train-drawers", default="1-14")
    g.add_argument("--validation-drawers", default="15-16")
    g.add_argument("--test-drawers", default="17-20")
    args = p.parse_args(argv)
    args.data = args.data or default_data_folder()
    args.ft_lr = args.lr if args.ft_lr is None else args.ft_lr
    args.lp_lr = 10 * args.lr if args.lp_lr is None else args.lp_lr
    args.lp_then_ft_lr = args.ft_lr if args.lp_then_ft_lr is None else args.lp_then_ft_lr
    try:
        args.seed_list = [int(s) for s in args.seeds.split(",") if s.strip()]
    except ValueError:
        p.error(f"--seeds: expected comma-separated integers, got '{args.seeds}'")
    try:
        args.channel_list = [int(c) for c in args.channels.split(",") if c.strip()]
    except ValueError:
        p.error(f"--channels: expected comma-separated integers, got '{args.channels}'")
    args.arm_list = [a.strip() for a in args.arms.split(",") if a.strip()]
    unknown = [a for a in args.arm_list if a not in ARMS]
    if unknown:
        p.error(f"--arms: unknown arm(s) {unknown}; expected some of {ARMS}")
    for field in ("train_drawers", "validation_drawers", "test_drawers"):
        try:
            setattr(args, field + "_set", drawer_range(getattr(args, field)))
        except ValueError as e:
            p.error(f"--{field.replace('_', '-')}: {e}")
    if args.train_drawers_set & (args.validation_drawers_set | args.test_drawers_set) or \
            args.validation_drawers_set & args.test_drawers_set:
        p.error("--train-drawers/--validation-drawers/--test-drawers: the splits must not share drawers")
    checks = [("image_size", args.image_size >= 2 ** len(args.channel_list), "at least 2^blocks pixels"),
              ("channels", len(args.channel_list) >= 1 and min(args.channel_list) >= 1, "at least one block"),
              ("epochs", args.epochs >= 1, ">= 1"), ("ft_epochs", args.ft_epochs >= 0, ">= 0"),
              ("lp_epochs", args.lp_epochs >= 0, ">= 0"), ("batch_size", args.batch_size >= 1, ">= 1"),
              ("shift", args.shift >= 0, ">= 0"), ("lr", args.lr > 0, "> 0"), ("seeds", bool(args.seed_list), "a seed")]
    if args.pretrain_epochs is None:
        args.pretrain_epochs = args.epochs
    if args.lp_then_ft_epochs is None:
        args.lp_then_ft_epochs = args.ft_epochs
    checks += [("pretrain_epochs", args.pretrain_epochs >= 1, ">= 1"), ("lp_then_ft_epochs", args.lp_then_ft_epochs >= 0, ">= 0")]
    for field, ok, expected in checks:
        if not ok:
            p.error(f"--{field.replace('_', '-')}: expected {expected}")
    if not args.self_test and not args.out:
        p.error("--out FILE is required (or --self-test)")
    return args


def drawer_range(text):
    out = set()
    for part in text.split(","):
        a, _, b = part.partition("-")
        lo, hi = int(a), int(b or a)
        if not 1 <= lo <= hi <= 20:
            raise ValueError(f"expected drawers within 1-20 like '1-14', got '{text}'")
        out.update(range(lo, hi + 1))
    return out


def read_drawings(folder):
    """Every distinct drawing of the small subsets: list of (alphabet, character, drawer, png bytes), sorted."""
    names = ["images_background_small1.zip", "images_background_small2.zip"]
    seen = {}
    for name in names:
        path = os.path.join(folder, name)
        if not os.path.isfile(path):
            raise SystemExit(f"omniglot_reference.py: {path}: missing (expected the committed Omniglot small subset)")
        with zipfile.ZipFile(path) as z:
            for entry in z.namelist():
                parts = entry.split("/")
                if len(parts) != 4 or not parts[3].endswith(".png"):
                    continue
                _, alphabet, character, file = parts
                stem = file[:-4]
                try:
                    drawer = int(stem.split("_")[1])
                except (IndexError, ValueError):
                    raise SystemExit(f"omniglot_reference.py: {path}: entry '{entry}': expected NNNN_DD.png")
                key = (alphabet, character, drawer)
                data = z.read(entry)
                if key in seen and hashlib.sha1(seen[key]).digest() != hashlib.sha1(data).digest():
                    raise SystemExit(f"omniglot_reference.py: {path}: '{entry}' differs from the same drawing in "
                                     "the other zip")
                seen[key] = data
    return [(a, c, d, seen[(a, c, d)]) for (a, c, d) in sorted(seen)]


def preprocess(png, size, resample):
    """Ink = 1, background = 0, resized to size x size with an antialiasing filter; float32 tensor [1, size, size]."""
    from PIL import Image
    filters = {"box": Image.BOX, "bilinear": Image.BILINEAR, "lanczos": Image.LANCZOS}
    image = Image.open(io.BytesIO(png)).convert("L")
    if image.size != (size, size):
        image = image.resize((size, size), filters[resample], reducing_gap=None)
    x = torch.frombuffer(bytearray(image.tobytes()), dtype=torch.uint8).float().reshape(1, size, size)
    return 1.0 - x / 255.0


class Dataset:
    """Images and three label sets (alphabet, character, one label per training image) per split."""

    def __init__(self, args):
        drawings = read_drawings(args.data)
        alphabets = sorted({a for a, _, _, _ in drawings})
        characters = sorted({(a, c) for a, c, _, _ in drawings})
        self.alphabet_of_character = torch.tensor([alphabets.index(a) for a, _ in characters])
        character_index = {c: i for i, c in enumerate(characters)}
        self.counts = dict(alphabets=len(alphabets), characters=len(characters), drawings=len(drawings))
        self.splits = {}
        for split, drawers in (("train", args.train_drawers_set), ("validation", args.validation_drawers_set),
                               ("test", args.test_drawers_set)):
            chosen = [d for d in drawings if d[2] in drawers]
            x = torch.stack([preprocess(png, args.image_size, args.resize) for _, _, _, png in chosen])
            character = torch.tensor([character_index[(a, c)] for a, c, _, _ in chosen])
            self.splits[split] = dict(x=x, character=character, alphabet=self.alphabet_of_character[character],
                                      instance=torch.arange(len(chosen)))
        self.alphabets, self.characters = len(alphabets), len(characters)


def make_body(args):
    nn = torch.nn
    layers, inputs, side = [], 1, args.image_size
    for width in args.channel_list:
        layers += [nn.Conv2d(inputs, width, 3, padding=1, bias=not args.batch_norm)]
        if args.batch_norm:
            layers += [nn.BatchNorm2d(width)]
        layers += [nn.ReLU(inplace=True), nn.MaxPool2d(2)]
        inputs, side = width, side // 2
    if args.pool == "max":
        layers += [nn.AdaptiveMaxPool2d(1), nn.Flatten()]
        features = inputs
    elif args.pool == "avg":
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
        features = inputs
    else:
        layers += [nn.Flatten()]
        features = inputs * side * side
    return nn.Sequential(*layers), features


def shifted(x, shift, generator):
    """Each image moved by a random integer offset in [-shift, shift] along both axes, zeros filled in."""
    if shift == 0:
        return x
    n, _, h, w = x.shape
    padded = torch.nn.functional.pad(x, (shift, shift, shift, shift))
    dy = torch.randint(0, 2 * shift + 1, (n,), generator=generator)
    dx = torch.randint(0, 2 * shift + 1, (n,), generator=generator)
    rows = (dy.view(n, 1, 1, 1) + torch.arange(h).view(1, 1, h, 1)).expand(n, 1, h, w + 2 * shift)
    cols = (dx.view(n, 1, 1, 1) + torch.arange(w).view(1, 1, 1, w)).expand(n, 1, h, w)
    return padded.gather(2, rows).gather(3, cols)


def make_optimizer(parameters, args, lr):
    if args.optimizer == "adam":
        return torch.optim.Adam(parameters, lr=lr, weight_decay=args.weight_decay)
    return torch.optim.SGD(parameters, lr=lr, momentum=args.momentum, weight_decay=args.weight_decay)


def train(body, head, x, labels, epochs, lr, args, generator, train_body=True):
    """Minibatch training with shifts; cross-entropy; the schedule runs over this call's steps."""
    if epochs == 0:
        return
    parameters = list(head.parameters()) + (list(body.parameters()) if train_body else [])
    optimizer = make_optimizer(parameters, args, lr)
    n = len(x)
    per_epoch = math.ceil(n / args.batch_size)
    total, step = epochs * per_epoch, 0
    body.train(train_body)
    head.train()
    for _ in range(epochs):
        order = torch.randperm(n, generator=generator)
        for i in range(0, n, args.batch_size):
            idx = order[i:i + args.batch_size]
            if args.schedule == "cosine":
                for group in optimizer.param_groups:
                    group["lr"] = lr * 0.5 * (1 + math.cos(math.pi * step / total))
            batch = shifted(x[idx], args.shift, generator)
            if train_body:
                logits = head(body(batch))
            else:
                with torch.no_grad():
                    features = body(batch)
                logits = head(features)
            loss = torch.nn.functional.cross_entropy(logits, labels[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            step += 1
    body.eval()
    head.eval()


def predict(body, head, x, chunk=512):
    body.eval()
    head.eval()
    with torch.no_grad():
        return torch.cat([head(body(x[i:i + chunk])) for i in range(0, len(x), chunk)])


def error(predictions, labels):
    return float((predictions != labels).float().mean())


def run_seed(data, args, seed, log):
    import copy
    nn = torch.nn
    torch.manual_seed(seed * 7919 + 11)
    generator = torch.Generator().manual_seed(seed * 7919 + 13)
    tr, va, te = data.splits["train"], data.splits["validation"], data.splits["test"]
    results, validation, seconds = {}, {}, {}
    arms = set(args.arm_list)

    def score(name, body, head, mapped_up=False):
        for split, store in ((va, validation), (te, results)):
            logits = predict(body, head, split["x"])
            guess = data.alphabet_of_character[logits.argmax(1)] if mapped_up else logits.argmax(1)
            store[f"{name}.{'test' if split is te else 'validation'}"] = error(guess, split["alphabet"])

    if "baseline" in arms:
        start = time.perf_counter()
        body, features = make_body(args)
        head = nn.Linear(features, data.alphabets)
        train(body, head, tr["x"], tr["alphabet"], args.epochs, args.lr, args, generator)
        score("baseline", body, head)
        seconds["baseline"] = time.perf_counter() - start

    leaf_arms = {"leaf_mapped_up", "leaf_ft", "leaf_lp", "leaf_lp_then_ft"} & arms
    if leaf_arms:
        start = time.perf_counter()
        leaf_body, features = make_body(args)
        leaf_head = nn.Linear(features, data.characters)
        train(leaf_body, leaf_head, tr["x"], tr["character"], args.pretrain_epochs, args.lr, args, generator)
        seconds["leaf_pretrain"] = time.perf_counter() - start
        if "leaf_mapped_up" in arms:
            score("leaf_mapped_up", leaf_body, leaf_head, mapped_up=True)
        if "leaf_ft" in arms:
            start = time.perf_counter()
            body, head = copy.deepcopy(leaf_body), nn.Linear(features, data.alphabets)
            train(body, head, tr["x"], tr["alphabet"], args.ft_epochs, args.ft_lr, args, generator)
            score("leaf_ft", body, head)
            seconds["leaf_ft"] = time.perf_counter() - start
        if {"leaf_lp", "leaf_lp_then_ft"} & arms:
            start = time.perf_counter()
            body, head = copy.deepcopy(leaf_body), nn.Linear(features, data.alphabets)
            train(body, head, tr["x"], tr["alphabet"], args.lp_epochs, args.lp_lr, args, generator, train_body=False)
            if "leaf_lp" in arms:
                score("leaf_lp", body, head)
            seconds["leaf_lp"] = time.perf_counter() - start
            if "leaf_lp_then_ft" in arms:
                start = time.perf_counter()
                train(body, head, tr["x"], tr["alphabet"], args.lp_then_ft_epochs, args.lp_then_ft_lr, args, generator)
                score("leaf_lp_then_ft", body, head)
                seconds["leaf_lp_then_ft"] = time.perf_counter() - start

    if "instance_ft" in arms:
        start = time.perf_counter()
        body, features = make_body(args)
        head = nn.Linear(features, len(tr["x"]))
        train(body, head, tr["x"], tr["instance"], args.pretrain_epochs, args.lr, args, generator)
        head = nn.Linear(features, data.alphabets)
        train(body, head, tr["x"], tr["alphabet"], args.ft_epochs, args.ft_lr, args, generator)
        score("instance_ft", body, head)
        seconds["instance_ft"] = time.perf_counter() - start
    log(f"seed {seed}: " + ", ".join(f"{k}={v:.4f}" for k, v in results.items())
        + " | validation " + ", ".join(f"{k.split('.')[0]}={v:.4f}" for k, v in validation.items())
        + " | seconds " + ", ".join(f"{k}={v:.0f}" for k, v in seconds.items()))
    return results, validation, seconds


def bootstrap_interval(values, resamples=10000, seed=20260407):
    import numpy as np
    v = np.asarray(values, dtype=float)
    means = v[np.random.default_rng(seed).integers(0, len(v), size=(resamples, len(v)))].mean(axis=1)
    return float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def summarise(series_per_seed):
    numbers = {}
    for name in series_per_seed[0]:
        series = [r[name] for r in series_per_seed]
        low, high = bootstrap_interval(series)
        numbers[name] = {"per_seed": series, "mean": sum(series) / len(series), "low": low, "high": high}
    return numbers


def config_of(args, data):
    return {"dataset": "omniglot-small", "image_size": args.image_size, "resize": args.resize,
            "channels": args.channel_list, "pool": args.pool, "batch_norm": bool(args.batch_norm),
            "shift": args.shift, "epochs": args.epochs, "ft_epochs": args.ft_epochs, "lp_epochs": args.lp_epochs,
            "pretrain_epochs": args.pretrain_epochs, "lp_then_ft_epochs": args.lp_then_ft_epochs, "lp_then_ft_lr": args.lp_then_ft_lr,
            "batch_size": args.batch_size, "optimizer": args.optimizer, "learning_rate": args.lr,
            "ft_learning_rate": args.ft_lr, "lp_learning_rate": args.lp_lr, "momentum": args.momentum,
            "weight_decay": args.weight_decay, "schedule": args.schedule, "train_drawers": args.train_drawers,
            "validation_drawers": args.validation_drawers, "test_drawers": args.test_drawers,
            "alphabets": data.alphabets, "characters": data.characters,
            "train_images": len(data.splits["train"]["x"]), "validation_images": len(data.splits["validation"]["x"]),
            "test_images": len(data.splits["test"]["x"]), "arms": args.arm_list}


def self_test(args):
    data_args = argparse.Namespace(**vars(args))
    drawings = read_drawings(args.data)
    assert len(drawings) == 4840, f"expected 4,840 distinct drawings, got {len(drawings)}"
    assert len({(a, c) for a, c, _, _ in drawings}) == 242 and len({a for a, _, _, _ in drawings}) == 8
    assert {d for _, _, d, _ in drawings} == set(range(1, 21)), "drawers 1-20"
    x = preprocess(drawings[0][3], 28, "bilinear")
    assert x.shape == (1, 28, 28) and 0.0 <= float(x.min()) and float(x.max()) <= 1.0
    assert float(x.mean()) < 0.5, "ink is the minority: strokes map to 1 on a 0 background"
    big = preprocess(drawings[0][3], 105, "bilinear")
    assert set(big.unique().tolist()) <= {0.0, 1.0} and float(big.sum()) > 0
    g = torch.Generator().manual_seed(0)
    image = torch.zeros(3, 1, 8, 8)
    image[:, 0, 4, 4] = 1.0
    moved = shifted(image, 2, g)
    for i in range(3):
        (r, c), = torch.nonzero(moved[i, 0]).tolist()
        assert abs(r - 4) <= 2 and abs(c - 4) <= 2 and float(moved[i].sum()) == 1.0
    assert torch.equal(shifted(image, 0, g), image)
    data_args.image_size, data_args.channel_list = 16, [8, 8]
    body, features = make_body(data_args)
    assert body(torch.zeros(2, 1, 16, 16)).shape == (2, features)
    # A body whose features are one-hot characters: LP and mapped-up must then both be perfect.
    characters, alphabets = 12, 3
    alphabet_of = torch.arange(characters) % alphabets
    onehot = torch.eye(characters)
    mapped = alphabet_of[onehot.argmax(1)]
    assert error(mapped, alphabet_of) == 0.0
    head = torch.nn.Linear(characters, alphabets)
    opt = torch.optim.Adam(head.parameters(), lr=0.1)
    for _ in range(200):
        loss = torch.nn.functional.cross_entropy(head(onehot), alphabet_of)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert error(head(onehot).argmax(1), alphabet_of) == 0.0, "a linear probe on one-hot characters is exact"
    print("omniglot_reference self-test: ok")


def main(argv):
    args = parse_args(argv)
    if args.self_test:
        self_test(args)
        return 0
    log = (lambda s: None) if args.quiet else (lambda s: print(s, file=sys.stderr, flush=True))
    start = time.perf_counter()
    data = Dataset(args)
    log(f"omniglot_reference: {data.counts}, splits " +
        ", ".join(f"{k} {len(v['x'])}" for k, v in data.splits.items()) + f", read in {time.perf_counter() - start:.1f} s")
    per_seed = [run_seed(data, args, seed, log) for seed in args.seed_list]
    seconds = time.perf_counter() - start
    result = {"implementation": "pytorch", "protocol": "omniglot-standard", "config": config_of(args, data),
              "seeds": args.seed_list, "numbers": summarise([r for r, _, _ in per_seed]), "seconds": seconds,
              "validation": summarise([v for _, v, _ in per_seed]),
              "arm_seconds": [s for _, _, s in per_seed], "runtime": runtime_info(args.threads)}
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(result, f, indent=2)
    log(f"wrote {args.out} ({seconds:.0f} s)")
    return 0


def runtime_info(threads):
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), cpu)
    except OSError:
        pass
    return {"torch": torch.__version__, "threads": threads, "cpu": cpu, "python": sys.version.split()[0],
            "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


if __name__ == "__main__":
    _threads = "1"
    for _i, _a in enumerate(sys.argv):
        if _a == "--threads" and _i + 1 < len(sys.argv):
            _threads = sys.argv[_i + 1]
        elif _a.startswith("--threads="):
            _threads = _a.split("=", 1)[1]
    for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_name, str(_threads))
    import torch
    torch.set_num_threads(int(_threads) if str(_threads).isdigit() else 1)
    sys.exit(main(sys.argv[1:]))
