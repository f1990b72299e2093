#!/usr/bin/env bash
# Debian packages the tests and figure export use: Chromium (PNG/SVG figures); OpenBLAS (the theory step's
# matrix products, Granularity.Theory.Sgemm, and the PyTorch benchmark peers). Idempotent; needs root or sudo.
set -euo pipefail
packages=(chromium libopenblas0-pthread)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
$sudo_cmd apt-get update -qq
$sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "installed: ${missing[*]}"
