#!/usr/bin/python3
"""Agreement table of two headline files (the C# side and the PyTorch reference, see the headline format).

For every headline number: is each side's mean inside the other side's 95% interval? Prints a Markdown table.
Exit code 0 whenever both files are well-formed headline files of the same protocol; 2 (with an error naming the file
and field) when a file is malformed or the two files describe different protocols or configurations.

usage: compare.py A.json B.json [--tolerance 0] [--allow-config-difference]
       compare.py --self-test
"""
import json
import math
import re
import sys

IMPLEMENTATIONS = ("csharp", "pytorch")
LABELS = {"csharp": "C#", "pytorch": "PyTorch"}


class HeadlineError(Exception):
    pass


def load(path):
    """Reads and validates one headline file; raises HeadlineError naming the file and field."""
    def fail(field, expected, got):
        raise HeadlineError(f"{path}: field '{field}': expected {expected}, got {json.dumps(got)[:80]}")

    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except OSError as e:
        raise HeadlineError(f"{path}: cannot read: {e.strerror}")
    except json.JSONDecodeError as e:
        raise HeadlineError(f"{path}: not JSON (line {e.lineno}, column {e.colno}: {e.msg})")
    if not isinstance(data, dict):
        fail("(top level)", "an object", data)
    for field in ("implementation", "protocol", "config", "seeds", "numbers"):
        if field not in data:
            raise HeadlineError(f"{path}: field '{field}' is missing")
    if data["implementation"] not in IMPLEMENTATIONS:
        fail("implementation", " or ".join(IMPLEMENTATIONS), data["implementation"])
    if not isinstance(data["protocol"], str) or not data["protocol"]:
        fail("protocol", "a non-empty string", data["protocol"])
    if not isinstance(data["config"], dict):
        fail("config", "an object", data["config"])
    seeds = data["seeds"]
    if not isinstance(seeds, list) or not seeds or not all(isinstance(s, int) and not isinstance(s, bool) for s in seeds):
        fail("seeds", "a non-empty list of integers", seeds)
    if not isinstance(data["numbers"], dict) or not data["numbers"]:
        fail("numbers", "a non-empty object", data["numbers"])
    if "seconds" in data and not is_number(data["seconds"]):
        fail("seconds", "a number", data["seconds"])
    for name, entry in data["numbers"].items():
        where = f"numbers.{name}"
        if not isinstance(entry, dict):
            fail(where, "an object with per_seed, mean, low, high", entry)
        for key in ("mean", "low", "high"):
            if key not in entry:
                raise HeadlineError(f"{path}: field '{where}.{key}' is missing")
            if not is_number(entry[key]) or not 0.0 <= entry[key] <= 1.0:
                fail(f"{where}.{key}", "an error rate in [0, 1]", entry[key])
        per_seed = entry.get("per_seed")
        if not isinstance(per_seed, list) or len(per_seed) != len(seeds):
            fail(f"{where}.per_seed", f"a list of {len(seeds)} values (one per seed)", per_seed)
        for i, v in enumerate(per_seed):
            if not is_number(v) or not 0.0 <= v <= 1.0:
                fail(f"{where}.per_seed[{i}]", "an error rate in [0, 1]", v)
        slack = 1e-9
        if not entry["low"] - slack <= entry["mean"] <= entry["high"] + slack:
            fail(where, "low <= mean <= high", [entry["low"], entry["mean"], entry["high"]])
        if abs(sum(per_seed) / len(per_seed) - entry["mean"]) > 1e-6:
            fail(f"{where}.mean", f"the mean of per_seed ({sum(per_seed) / len(per_seed):.6f})", entry["mean"])
    return data


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def normal_key(key):
    return re.sub(r"[^a-z0-9]", "", key.lower())


def same_value(a, b):
    if is_number(a) and is_number(b):
        return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-12)
    if isinstance(a, str) and isinstance(b, str):
        return normal_key(a) == normal_key(b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b))
    return a == b


def config_differences(a, b):
    """Keys present in both configs (compared ignoring case and '_'), whose values differ."""
    nb = {normal_key(k): (k, v) for k, v in b["config"].items()}
    out = []
    for key, value in a["config"].items():
        other = nb.get(normal_key(key))
        if other is not None and not same_value(value, other[1]):
            out.append(f"{key}: {json.dumps(value)} vs {other[0]}: {json.dumps(other[1])}")
    return out


def inside(x, entry, tolerance):
    return entry["low"] - tolerance <= x <= entry["high"] + tolerance


def permutation_p(xs, ys, exhaustive_limit=200000, resamples=20000):
    """Two-sided permutation test of equal means over the seeds (exact when the splits are few, else seeded)."""
    import itertools
    import random
    pooled, n = list(xs) + list(ys), len(xs)
    observed = abs(sum(xs) / len(xs) - sum(ys) / len(ys))
    total = sum(pooled)

    def gap(chosen):
        a = sum(pooled[i] for i in chosen)
        return abs(a / n - (total - a) / len(ys))

    if math.comb(len(pooled), n) <= exhaustive_limit:
        splits = list(itertools.combinations(range(len(pooled)), n))
    else:
        rng = random.Random(20261207)
        splits = [rng.sample(range(len(pooled)), n) for _ in range(resamples)]
    return sum(1 for c in splits if gap(c) >= observed - 1e-12) / len(splits)


def cell(entry):
    return f"{entry['mean']:.4f} [{entry['low']:.4f}, {entry['high']:.4f}]"


def table(a, b, tolerance=0.0):
    """Markdown agreement table; the C# file's column comes first when one of the two is C#."""
    if a["implementation"] == "pytorch" and b["implementation"] == "csharp":
        a, b = b, a
    la, lb = LABELS[a["implementation"]], LABELS[b["implementation"]]
    if la == lb:
        la, lb = la + " (A)", lb + " (B)"
    names = list(a["numbers"]) + [n for n in b["numbers"] if n not in a["numbers"]]
    lines = [f"| name | {la} mean [95%] | {lb} mean [95%] | {la} inside {lb}'s | {lb} inside {la}'s | agree | permutation p |",
             "|---|---|---|---|---|---|---|"]
    agree = 0
    for name in names:
        ea, eb = a["numbers"].get(name), b["numbers"].get(name)
        if ea is None or eb is None:
            lines.append(f"| {name} | {cell(ea) if ea else '—'} | {cell(eb) if eb else '—'} | — | — | missing | — |")
            continue
        ab, ba = inside(ea["mean"], eb, tolerance), inside(eb["mean"], ea, tolerance)
        agree += ab and ba
        yes = lambda v: "yes" if v else "no"
        p = permutation_p(ea["per_seed"], eb["per_seed"])
        lines.append(f"| {name} | {cell(ea)} | {cell(eb)} | {yes(ab)} | {yes(ba)} | {yes(ab and ba)} | {p:.3f} |")
    both = sum(1 for n in names if n in a["numbers"] and n in b["numbers"])
    seconds = lambda d: f"{d['seconds']:.0f} s" if "seconds" in d else "unknown"
    summary = (f"{agree} of {both} numbers agree (each mean inside the other side's 95% interval"
               + (f", tolerance {tolerance}" if tolerance else "") + f"); protocol {a['protocol']}; "
               f"seeds {la} {a['seeds']}, {lb} {b['seeds']}; wall time {la} {seconds(a)}, {lb} {seconds(b)}. "
               "permutation p: two-sided test of equal means, permuting the per-seed values between the sides.")
    return "\n".join(lines) + "\n\n" + summary + "\n", agree, both


def compare(path_a, path_b, tolerance=0.0, allow_config_difference=False):
    a, b = load(path_a), load(path_b)
    if a["protocol"] != b["protocol"]:
        raise HeadlineError(f"different protocols: {path_a} has '{a['protocol']}', {path_b} has '{b['protocol']}'")
    differences = config_differences(a, b)
    if differences and not allow_config_difference:
        raise HeadlineError(f"different configurations ({path_a} vs {path_b}): " + "; ".join(differences)
                            + " (--allow-config-difference compares anyway)")
    text, _, _ = table(a, b, tolerance)
    if differences:
        text += "\nConfig differences (compared anyway): " + "; ".join(differences) + "\n"
    return text


def self_test():
    """Builds headline files in a temporary folder and checks the table, the refusals and the error messages."""
    import os
    import tempfile

    def entry(per_seed, low, high):
        return {"per_seed": per_seed, "mean": sum(per_seed) / len(per_seed), "low": low, "high": high}

    def headline(impl, protocol="theory-base", config=None, numbers=None):
        return {"implementation": impl, "protocol": protocol, "config": config or {"d": 1000, "noise_norm": 1.5},
                "seeds": [0, 1], "numbers": numbers or {}, "seconds": 12.0}

    with tempfile.TemporaryDirectory() as folder:
        def write(name, data):
            path = os.path.join(folder, name)
            with open(path, "w") as f:
                f.write(data if isinstance(data, str) else json.dumps(data))
            return path

        cs = write("cs.json", headline("csharp", numbers={
            "coarse.hard": entry([0.20, 0.30], 0.20, 0.30), "grouped.hard": entry([0.01, 0.03], 0.01, 0.03),
            "only_cs.hard": entry([0.1, 0.1], 0.1, 0.1)}))
        py = write("py.json", headline("pytorch", config={"D": 1000, "NoiseNorm": 1.5000000001, "extra": 1}, numbers={
            "coarse.hard": entry([0.24, 0.26], 0.24, 0.26), "grouped.hard": entry([0.05, 0.07], 0.05, 0.07)}))
        text = compare(py, cs)
        rows = {line.split(" | ")[0].strip("| "): line for line in text.splitlines() if line.startswith("| ")}
        assert text.splitlines()[0].startswith("| name | C# mean"), "the C# column comes first"
        assert rows["coarse.hard"].endswith("| yes | yes | yes | 1.000 |"), rows["coarse.hard"]
        assert rows["grouped.hard"].endswith("| no | no | no | 0.333 |"), rows["grouped.hard"]
        assert rows["only_cs.hard"].endswith("| missing | — |"), rows["only_cs.hard"]
        assert "0.2500 [0.2000, 0.3000]" in rows["coarse.hard"]
        assert "1 of 2 numbers agree" in text, text
        assert abs(permutation_p([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]) - 2 / 252) < 1e-12
        assert permutation_p([0.1] * 3, [0.1] * 3) == 1.0
        assert abs(permutation_p(list(range(12)), list(range(100, 112))) - 0.0) < 1e-3, "sampled test on many seeds"
        assert "| yes | yes | yes |" in compare(py, cs, tolerance=0.035).split("grouped.hard")[1].splitlines()[0]
        assert compare(py, cs) == compare(cs, py), "the table does not depend on the argument order"

        def refused(path_a, path_b, *needles):
            try:
                compare(path_a, path_b)
            except HeadlineError as e:
                assert all(n in str(e) for n in needles), f"{e} lacks {needles}"
                return
            raise AssertionError(f"not refused: {needles}")

        refused(cs, write("other.json", headline("pytorch", protocol="omniglot-standard",
                                                 numbers={"baseline.test": entry([0.1, 0.2], 0.1, 0.2)})),
                "different protocols", "omniglot-standard")
        refused(cs, write("d.json", headline("pytorch", config={"d": 200}, numbers={"x": entry([0.1, 0.1], 0.1, 0.1)})),
                "different configurations", "d: 1000 vs d: 200")
        refused(cs, write("bad.json", "{not json"), "bad.json", "not JSON")
        refused(cs, write("nofield.json", {"implementation": "pytorch"}), "nofield.json", "'protocol' is missing")
        bad = headline("pytorch", numbers={"coarse.hard": {"per_seed": [0.2, 0.3], "mean": 0.25, "low": 0.2, "high": 1.5}})
        refused(cs, write("range.json", bad), "range.json", "numbers.coarse.hard.high", "[0, 1]")
        bad = headline("pytorch", numbers={"coarse.hard": {"per_seed": [0.2], "mean": 0.2, "low": 0.2, "high": 0.2}})
        refused(cs, write("seeds.json", bad), "seeds.json", "numbers.coarse.hard.per_seed", "2 values")
        bad = headline("pytorch", numbers={"coarse.hard": {"per_seed": [0.2, 0.3], "mean": 0.4, "low": 0.2, "high": 0.5}})
        refused(cs, write("mean.json", bad), "mean.json", "numbers.coarse.hard.mean")
        bad = headline("fortran", numbers={"coarse.hard": entry([0.2, 0.3], 0.2, 0.3)})
        refused(cs, write("impl.json", bad), "impl.json", "implementation")
        refused(cs, os.path.join(folder, "absent.json"), "absent.json", "cannot read")
    print("compare self-test: ok")


def main(argv):
    if argv == ["--self-test"]:
        self_test()
        return 0
    tolerance, allow, paths = 0.0, False, []
    i = 0
    while i < len(argv):
        if argv[i] == "--tolerance" and i + 1 < len(argv):
            try:
                tolerance = float(argv[i + 1])
            except ValueError:
                print(f"compare.py: --tolerance: expected a number, got '{argv[i + 1]}'", file=sys.stderr)
                return 2
            i += 2
            continue
        if argv[i] == "--allow-config-difference":
            allow = True
        elif argv[i] in ("-h", "--help"):
            print(__doc__)
            return 0
        else:
            paths.append(argv[i])
        i += 1
    if len(paths) != 2:
        print("usage: compare.py A.json B.json [--tolerance T] [--allow-config-difference] | --self-test", file=sys.stderr)
        return 2
    try:
        print(compare(paths[0], paths[1], tolerance, allow), end="")
    except HeadlineError as e:
        print(f"compare.py: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
