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
  nice -n 10 "$peer" "$root/eng/reference/omniglot_reference.py" --seeds "$seeds" --threads 1 ${OMNIGLOT_REFERENCE_ARGS:-} --out "$out/omniglot-pytorch.json"
  "$peer" "$root/eng/reference/compare.py" --allow-config-difference "$out/omniglot-csharp.json" "$out/omniglot-pytorch.json"
fi
