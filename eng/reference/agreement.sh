#!/usr/bin/env bash
# `eng/reference/agreement.sh theory|omniglot [--quick]`: the C# headline, the PyTorch reference with the same seeds
# and parameters, and compare.py's agreement table. Files land in artifacts/agreement/.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
what="${1:-}"; quick="${2:-}"
case "$what" in theory|omniglot) ;; *) echo "usage: agreement.sh theory|omniglot [--quick]" >&2; exit 2 ;; esac
peer="${GRANULARITY_PYTHON:-/usr/bin/python3}"
out="$root/artifacts/agreement"; mkdir -p "$out"
if ! command -v "$peer" >/dev/null 2>&1; then
  echo "agreement.sh: the peer interpreter '$peer' is missing: no PyTorch run, no agreement reported" >&2; exit 1
fi
if ! "$peer" -c "import torch" 2>/dev/null; then
  echo "agreement.sh: torch is missing for '$peer' (Debian: apt-get install python3-torch): no PyTorch run, no agreement reported" >&2; exit 1
fi
if [ "$what" = theory ]; then
  mode=--full; seeds=0,1,2,3,4
  if [ "$quick" = --quick ]; then mode=--quick; seeds=0,1,2; fi
  "$root/eng/granularity" theory headline --out "$out/theory-csharp.json" "$mode" --seeds "$seeds"
  nice -n 10 "$peer" "$root/eng/reference/theory_reference.py" "$mode" --seeds "$seeds" --threads 1 --out "$out/theory-pytorch.json"
  "$peer" "$root/eng/reference/compare.py" "$out/theory-csharp.json" "$out/theory-pytorch.json"
else
  seeds=0,1,2,3,4; [ "$quick" = --quick ] && seeds=0,1,2
  "$root/eng/granularity" experiment real-images --standard --headline "$out/omniglot-csharp.json" --seeds "$seeds"
  # The reference gets Standard's protocol from the C# headline's config block (every value an option of its own).
  # Its leaf pretraining serves every readout, so it pretrains epochs - ft_epochs, the fine-tuning readout's budget.
  read -r -a protocol < <("$peer" - "$out/omniglot-csharp.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))["config"]
args = ["--image-size", c["image_size"], "--channels", c["channels"], "--pool", c["pool"], "--shift", c["shift"],
        "--epochs", c["epochs"], "--pretrain-epochs", c["epochs"] - c["ft_epochs"], "--ft-epochs", c["ft_epochs"],
        "--ft-lr", c["ft_lr"], "--lp-then-ft-epochs", c["lp_then_ft_epochs"], "--lp-then-ft-lr", c["lp_then_ft_lr"],
        "--lp-epochs", c["lp_epochs"], "--lp-lr", c["lp_lr"], "--lr", c["lr"], "--batch-size", c["batch_size"],
        "--optimizer", c["optimizer"], "--schedule", c["schedule"]]
print(" ".join(str(a) for a in args))
PY
)
  nice -n 10 "$peer" "$root/eng/reference/omniglot_reference.py" --seeds "$seeds" --threads "${REFERENCE_THREADS:-1}" "${protocol[@]}" ${OMNIGLOT_REFERENCE_ARGS:-} --out "$out/omniglot-pytorch.json"
  "$peer" "$root/eng/reference/compare.py" --allow-config-difference "$out/omniglot-csharp.json" "$out/omniglot-pytorch.json"
fi
