#!/usr/bin/env bash
# Debian packages the tests and figure export use: Chromium (PNG/SVG figures).
# --bench adds the benchmark peers (docs/benchmarks.md): Debian's PyTorch and torchvision, and OpenBLAS, without which
# Debian's torch falls back to the reference BLAS and runs 10–20x slower. Idempotent; needs root or sudo.
set -euo pipefail
packages=(chromium)
if [ "${1:-}" = "--bench" ]; then packages+=(libopenblas0-pthread python3-torch python3-torchvision); fi
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
$sudo_cmd apt-get update -qq
$sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "installed: ${missing[*]}"
