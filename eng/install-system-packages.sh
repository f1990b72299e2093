#!/usr/bin/env bash
# Debian packages the tests and figure export use: Chromium (PNG/SVG/PDF figures, the real-browser notebook check),
# Python's nbclient, nbformat and nbconvert (notebooks executed through Jupyter's own machinery, nbformat validation,
# executed notebooks exported to HTML for the browser check) and OpenBLAS (the theory step's matrix
# products, Granularity.Theory.Sgemm; without it they fall back to libtorch's, about half as fast on AMD CPUs).
# --bench adds the benchmark peers (docs/benchmarks.md): Debian's PyTorch and torchvision, which also need OpenBLAS,
# without which Debian's torch falls back to the reference BLAS and runs 10–20x slower. Idempotent; needs root or sudo.
# eng/bootstrap.sh (so both README commands) runs it when something is missing.
set -euo pipefail
packages=(chromium python3-nbclient python3-nbformat python3-nbconvert libopenblas0-pthread)
if [ "${1:-}" = "--bench" ]; then packages+=(python3-torch python3-torchvision); fi
# --check: exit 1, naming what is missing, without installing.
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "${1:-}" = "--check" ]; then echo "missing Debian packages: ${missing[*]} (run eng/install-system-packages.sh)" >&2; exit 1; fi
sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
$sudo_cmd apt-get update -qq
$sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "installed: ${missing[*]}"
