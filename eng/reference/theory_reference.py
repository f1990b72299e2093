#!/usr/bin/python3
"""Independent PyTorch reference for the theory base point: data model, two-layer conv ReLU net, coarse and fine
pretraining by online SGD, and five transfers of the fine model to the superclass task, each scored on easy and hard
samples. Written from the protocol's prose (hierarchical multi-view data, second layer fixed at 1), not from the C#.

Writes the headline JSON (implementation "pytorch", protocol "theory-base") read by eng/reference/compare.py.

usage: theory_reference.py --out FILE [--quick|--full] [--seeds 0,1,2] [--d 1000 --k 16 ...] [--threads 1]
       theory_reference.py --self-test
"""
import argparse
import json
import math
import os
import sys
import time

PRESETS = {
    "quick": dict(d=200, k=6, steps=400, transfer_samples=1000, transfer_steps=200, final_test_samples_per_kind=2000,
                  seeds="0,1,2"),
    "full": dict(d=1000, k=16, steps=1000, transfer_samples=2000, transfer_steps=300, final_test_samples_per_kind=10000,
                 seeds="0,1,2,3,4"),
}
COMMON = dict(patches=8, common_patches=2, fine_patches=2, feature_strength=1.0, noise_norm=1.5, neurons_per_output=10, init_std=0.01,
              learning_rate=0.3, batch_size=64, transfer_batch=64, transfer_learning_rate=0.1, grouped_sgd_learning_rate=0.3)
TRANSFERS = ["grouped", "grouped_sgd", "linear_head", "head_first_layer", "max_subclass"]


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    preset = parser.add_mutually_exclusive_group()
    preset.add_argument("--quick", dest="preset", action="store_const", const="quick", help="Quick base point (d=200, k=6)")
    preset.add_argument("--full", dest="preset", action="store_const", const="full", help="Full base point (default)")
    parser.add_argument("--out", help="headline JSON to write")
    parser.add_argument("--seeds", help="comma-separated seeds (Quick 0,1,2; Full 0,1,2,3,4)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--self-test", action="store_true", help="check the data model and the transfers' algebra, then exit")
    parser.add_argument("--quiet", action="store_true")
    for name, value in list(COMMON.items()) + [(n, v) for n, v in PRESETS["full"].items() if n != "seeds"]:
        if name == "noise_norm":
            continue
        parser.add_argument("--" + name.replace("_", "-"), dest=name, type=type(value), default=None,
                            help=f"(Full {PRESETS['full'].get(name, value)}, Quick {PRESETS['quick'].get(name, value)})")
    noise = parser.add_mutually_exclusive_group()
    noise.add_argument("--noise-norm", type=float, default=None,
                       help="root-mean-square norm of a patch's noise; sigma = norm/sqrt(d) (default 1.5)")
    noise.add_argument("--noise-std", type=float, default=None,
                       help="per-coordinate noise sigma, fixed at every d (the robustness study); excludes --noise-norm")
    args = parser.parse_args(argv)
    args.preset = args.preset or "full"
    values = dict(COMMON, **{n: v for n, v in PRESETS[args.preset].items() if n != "seeds"})
    for name in values:
        if getattr(args, name, None) is not None:
            values[name] = getattr(args, name)
    if args.noise_std is not None:
        values.pop("noise_norm")
        values["noise_std"] = args.noise_std
    seeds_text = args.seeds or PRESETS[args.preset]["seeds"]
    try:
        seeds = [int(s) for s in seeds_text.split(",") if s.strip() != ""]
    except ValueError:
        parser.error(f"--seeds: expected comma-separated integers, got '{seeds_text}'")
    if not seeds:
        parser.error("--seeds: no seed given")
    checks = [("d", values["d"] >= 2 + 4 * values["k"], "d must hold 2 + 2k orthogonal features"),
              ("k", values["k"] >= 1, "k >= 1"),
              ("patches", values["common_patches"] + values["fine_patches"] <= values["patches"],
               "common + fine patches must fit into the patches"),
              ("neurons_per_output", values["neurons_per_output"] >= 1, "m >= 1"),
              ("batch_size", values["batch_size"] >= 1, "batch >= 1"),
              ("transfer_batch", 1 <= values["transfer_batch"] <= values["transfer_samples"],
               "1 <= transfer batch <= transfer samples"),
              ("steps", values["steps"] >= 0 and values["transfer_steps"] >= 0, "steps >= 0"),
              ("final_test_samples_per_kind", values["final_test_samples_per_kind"] >= 1, ">= 1"),
              ("noise", values.get("noise_norm", values.get("noise_std", 0)) >= 0, "noise >= 0")]
    for field, ok, expected in checks:
        if not ok:
            parser.error(f"--{field.replace('_', '-')}: {expected} (got {values})")
    if not args.self_test and not args.out:
        parser.error("--out FILE is required (or --self-test)")
    return args, values, seeds


def sigma_of(values):
    return values["noise_std"] if "noise_std" in values else values["noise_norm"] / math.sqrt(values["d"])


class DataModel:
    """2 superclasses x k subclasses; 2 + 2k standard-basis features at random coordinates; P noisy patches."""

    def __init__(self, values, generator):
        self.v = values
        self.k, self.d, self.P = values["k"], values["d"], values["patches"]
        self.sigma = sigma_of(values)
        self.coordinates = torch.randperm(self.d, generator=generator)[: 2 + 2 * self.k]

    def sample(self, n, hard, generator):
        """Returns (x [n, P, d], superclass [n], subclass [n]); hard samples have noise-only common patches."""
        subclass = torch.randint(0, 2 * self.k, (n,), generator=generator)
        superclass = torch.div(subclass, self.k, rounding_mode="floor")
        x = torch.randn(n, self.P, self.d, generator=generator) * self.sigma
        order = torch.rand(n, self.P, generator=generator).argsort(dim=1)
        common, fine, strength = self.v["common_patches"], self.v["fine_patches"], self.v["feature_strength"]
        rows = torch.arange(n).unsqueeze(1)
        if not hard and common > 0:
            slots = order[:, :common]
            x[rows, slots, self.coordinates[superclass].unsqueeze(1)] += strength
        if fine > 0:
            slots = order[:, common:common + fine]
            x[rows, slots, self.coordinates[2 + subclass].unsqueeze(1)] += strength
        return x, superclass, subclass


def pooled(weights, x):
    """Pooled activations h_{j,r}(X) = sum_p relu(<w_{j,r}, x_p>): weights [J, m, d], x [n, P, d] -> [n, J*m]."""
    n, P, d = x.shape
    flat = weights.reshape(-1, d)
    return torch.relu(x.reshape(n * P, d) @ flat.T).reshape(n, P, flat.shape[0]).sum(dim=1)


def logits_of(weights, x):
    """F_j(X) = sum_r h_{j,r}(X) (second layer fixed at 1)."""
    return pooled(weights, x).reshape(x.shape[0], weights.shape[0], weights.shape[1]).sum(dim=2)


def sgd_step(parameters, loss, lr):
    grads = torch.autograd.grad(loss, parameters)
    with torch.no_grad():
        for p, g in zip(parameters, grads):
            p -= lr * g


def minibatches(n, batch, steps, generator):
    """Index batches without replacement from random permutations; a new permutation when fewer than batch remain."""
    out, order, used = [], torch.randperm(n, generator=generator), 0
    for _ in range(steps):
        if n - used < batch:
            order, used = torch.randperm(n, generator=generator), 0
        out.append(order[used:used + batch])
        used += batch
    return out


def generators(seed):
    names = ["features", "init_coarse", "init_fine", "train", "target", "transfer", "test_easy", "test_hard"]
    return {name: torch.Generator().manual_seed(seed * 1009 + 17 * i + 1) for i, name in enumerate(names)}


def run_seed(values, seed, log):
    F = torch.nn.functional
    g = generators(seed)
    data = DataModel(values, g["features"])
    k, m, d = values["k"], values["neurons_per_output"], values["d"]
    coarse = (torch.randn(2, m, d, generator=g["init_coarse"]) * values["init_std"]).requires_grad_()
    fine = (torch.randn(2 * k, m, d, generator=g["init_fine"]) * values["init_std"]).requires_grad_()
    start = time.perf_counter()
    for step in range(values["steps"]):
        x, superclass, subclass = data.sample(values["batch_size"], False, g["train"])
        sgd_step([coarse], F.cross_entropy(logits_of(coarse, x), superclass), values["learning_rate"])
        sgd_step([fine], F.cross_entropy(logits_of(fine, x), subclass), values["learning_rate"])
    pretrain_seconds = time.perf_counter() - start
    coarse, fine = coarse.detach(), fine.detach()

    x_target, y_target, _ = data.sample(values["transfer_samples"], False, g["target"])
    batches = minibatches(values["transfer_samples"], values["transfer_batch"], values["transfer_steps"], g["transfer"])

    grouped = fine.reshape(2, k * m, d).clone().requires_grad_()
    for idx in batches:
        sgd_step([grouped], F.cross_entropy(logits_of(grouped, x_target[idx]), y_target[idx]), values["grouped_sgd_learning_rate"])
    grouped = grouped.detach()

    with torch.no_grad():
        h_target = pooled(fine, x_target)
        mean = h_target.mean(dim=0)
        scale = h_target.std(dim=0, unbiased=True).clamp_min(1e-6)
    head = torch.zeros(2 * k * m, 2, requires_grad=True)
    bias = torch.zeros(2, requires_grad=True)
    for idx in batches:
        sgd_step([head, bias], F.cross_entropy(((h_target[idx] - mean) / scale) @ head + bias, y_target[idx]),
                 values["transfer_learning_rate"])
    head, bias = head.detach(), bias.detach()

    layer = fine.clone().requires_grad_()
    joint_head = torch.zeros(2 * k * m, 2, requires_grad=True)
    joint_bias = torch.zeros(2, requires_grad=True)
    for idx in batches:
        z = (pooled(layer, x_target[idx]) - mean) / scale
        sgd_step([layer, joint_head, joint_bias], F.cross_entropy(z @ joint_head + joint_bias, y_target[idx]),
                 values["transfer_learning_rate"])
    layer, joint_head, joint_bias = layer.detach(), joint_head.detach(), joint_bias.detach()
    del x_target, h_target

    wrong = {}
    chunk = 1000
    with torch.no_grad():
        for kind, hard in (("easy", False), ("hard", True)):
            generator, left = g["test_" + kind], values["final_test_samples_per_kind"]
            counts = {name: 0 for name in ["coarse"] + TRANSFERS}
            while left > 0:
                n = min(chunk, left)
                left -= n
                x, y, _ = data.sample(n, hard, generator)
                fine_logits = logits_of(fine, x)
                h = pooled(fine, x)
                predictions = {
                    "coarse": logits_of(coarse, x).argmax(1),
                    "grouped": fine_logits.reshape(n, 2, k).sum(2).argmax(1),
                    "grouped_sgd": logits_of(grouped, x).argmax(1),
                    "linear_head": (((h - mean) / scale) @ head + bias).argmax(1),
                    "head_first_layer": (((pooled(layer, x) - mean) / scale) @ joint_head + joint_bias).argmax(1),
                    "max_subclass": torch.div(fine_logits.argmax(1), k, rounding_mode="floor"),
                }
                for name, p in predictions.items():
                    counts[name] += int((p != y).sum())
            for name, c in counts.items():
                wrong[f"{name}.{kind}"] = c / values["final_test_samples_per_kind"]
    seconds = time.perf_counter() - start
    log(f"seed {seed}: pretrain {pretrain_seconds:.1f} s, total {seconds:.1f} s; "
        + ", ".join(f"{n}={v:.4f}" for n, v in wrong.items()))
    return wrong


def bootstrap_interval(values, resamples=10000, seed=20260407):
    """95% percentile bootstrap interval of the mean over seeds (resampling the seeds)."""
    import numpy as np
    v = np.asarray(values, dtype=float)
    rng = np.random.default_rng(seed)
    means = v[rng.integers(0, len(v), size=(resamples, len(v)))].mean(axis=1)
    return float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def headline(protocol, config, seeds, per_seed, seconds, runtime):
    numbers = {}
    for name in per_seed[0]:
        series = [r[name] for r in per_seed]
        low, high = bootstrap_interval(series)
        numbers[name] = {"per_seed": series, "mean": sum(series) / len(series), "low": low, "high": high}
    return {"implementation": "pytorch", "protocol": protocol, "config": config, "seeds": seeds, "numbers": numbers,
            "seconds": seconds, "runtime": runtime}


def runtime_info(threads):
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), cpu)
    except OSError:
        pass
    return {"torch": torch.__version__, "threads": threads, "cpu": cpu, "python": sys.version.split()[0],
            "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def self_test():
    """Checks that can fail: the data model's roles, the noise norm, grouped = sum of subclass logits, minibatches."""
    values = dict(COMMON, d=400, k=4, steps=0, transfer_samples=100, transfer_steps=0, final_test_samples_per_kind=10)
    g = torch.Generator().manual_seed(1)
    data = DataModel(values, g)
    assert len(set(data.coordinates.tolist())) == 2 + 2 * values["k"], "features must be distinct coordinates"
    quiet = dict(values, noise_norm=0.0)
    clean = DataModel(quiet, torch.Generator().manual_seed(1))
    x, y, s = clean.sample(500, False, g)
    assert torch.equal(y, torch.div(s, values["k"], rounding_mode="floor"))
    common_hits = x[torch.arange(500), :, clean.coordinates[y]].sum(1)
    fine_hits = x[torch.arange(500), :, clean.coordinates[2 + s]].sum(1)
    assert torch.allclose(common_hits, torch.full((500,), 2.0)) and torch.allclose(fine_hits, torch.full((500,), 2.0))
    assert abs(float(x.abs().sum()) - 500 * 4) < 1e-3, "an easy clean sample holds exactly 4 unit features"
    xh, yh, sh = clean.sample(500, True, g)
    assert float(xh[torch.arange(500), :, clean.coordinates[yh]].abs().sum()) == 0.0, "hard samples lack the common feature"
    assert torch.allclose(xh[torch.arange(500), :, clean.coordinates[2 + sh]].sum(1), torch.full((500,), 2.0))
    noisy, _, _ = DataModel(dict(values, feature_strength=0.0), torch.Generator().manual_seed(2)).sample(2000, False, g)
    rms = float(noisy.pow(2).sum(-1).mean().sqrt())
    assert abs(rms - values["noise_norm"]) < 0.02, f"noise rms norm {rms} != {values['noise_norm']}"
    w = torch.randn(2 * values["k"], values["neurons_per_output"], values["d"], generator=g)
    xs, _, _ = data.sample(7, False, g)
    grouped = logits_of(w.reshape(2, values["k"] * values["neurons_per_output"], values["d"]), xs)
    summed = logits_of(w, xs).reshape(7, 2, values["k"]).sum(2)
    assert torch.allclose(grouped, summed, rtol=1e-4, atol=1e-3), "grouped logits must equal summed subclass logits"
    manual = torch.relu(torch.einsum("npd,jrd->npjr", xs, w)).sum((1, 3))
    assert torch.allclose(logits_of(w, xs), manual, rtol=1e-4, atol=1e-3)
    bs = minibatches(10, 4, 5, g)
    assert [len(b) for b in bs] == [4] * 5 and len(set(bs[0].tolist() + bs[1].tolist())) == 8, "without replacement"
    low, high = bootstrap_interval([0.1, 0.2, 0.3])
    assert 0.1 <= low < 0.2 < high <= 0.3
    assert bootstrap_interval([0.25, 0.25]) == (0.25, 0.25)
    print("theory_reference self-test: ok")


def main(argv):
    args, values, seeds = parse_args(argv)
    if args.self_test:
        self_test()
        return 0
    log = (lambda s: None) if args.quiet else (lambda s: print(s, file=sys.stderr, flush=True))
    config = dict(values, sigma=sigma_of(values), basis="standard", hard_share_in_training=0.0, study=args.preset, fresh_samples=True)
    log(f"theory_reference: {json.dumps(config)} seeds={seeds} threads={args.threads}")
    start = time.perf_counter()
    per_seed = [run_seed(values, seed, log) for seed in seeds]
    seconds = time.perf_counter() - start
    result = headline("theory-base", config, seeds, per_seed, seconds, runtime_info(args.threads))
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(result, f, indent=2)
    log(f"wrote {args.out} ({seconds:.1f} s)")
    return 0


if __name__ == "__main__":
    _threads = 1
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
