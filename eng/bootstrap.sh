#!/usr/bin/env bash
# Restores the pinned tools and packages, builds the solution (the build marks TorchSharp's GLIBCXX_3.4.32 need weak
# where the system lacks it) and packs the library into the local feed notebooks reference.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
configuration="${CONFIGURATION:-Release}"
mkdir -p artifacts/feed
dotnet tool restore >/dev/null
dotnet build Notebooks.sln -c "$configuration" -nologo -clp:NoSummary -v:q "$@"
eng/pack-notebook-library.sh
