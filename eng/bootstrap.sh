#!/usr/bin/env bash
# Restores the pinned tools and packages, builds the solution (the build marks TorchSharp's GLIBCXX_3.4.32 need weak
# where the system lacks it) and packs the library into the local feed notebooks reference.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
configuration="${CONFIGURATION:-Release}"
# Chromium, nbclient/nbformat/nbconvert and OpenBLAS from Debian, when missing (root or sudo; otherwise it says what to install).
if ! eng/install-system-packages.sh --check >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ] || sudo -n true 2>/dev/null; then eng/install-system-packages.sh
  else echo "bootstrap: system packages missing and no root/sudo: $(eng/install-system-packages.sh --check 2>&1 || true)" >&2; fi
fi
mkdir -p artifacts/feed
dotnet tool restore >/dev/null
dotnet build Notebooks.sln -c "$configuration" -nologo -clp:NoSummary -v:q "$@"
eng/pack-notebook-library.sh
