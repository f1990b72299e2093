#!/usr/bin/env bash
# Packs lib/Granularity into artifacts/feed (the NuGet.Config source "granularity-local") and removes the extracted copy
# from the NuGet cache, so the next notebook kernel picks up this build. Restart running kernels afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
configuration="${CONFIGURATION:-Release}"
version=$(sed -n 's:.*<GranularityVersion>\(.*\)</GranularityVersion>.*:\1:p' Directory.Build.props)
cache="${NUGET_PACKAGES:-$HOME/.nuget/packages}/granularity/$version"
mkdir -p artifacts/feed
dotnet pack lib/Granularity/Granularity.csproj -c "$configuration" --no-build -o artifacts/feed -nologo -v:q "$@"
rm -rf "$cache"
# dotnet-interactive caches resolved `#r "nuget:"` lines; drop it so kernels resolve the fresh package.
rm -rf "$HOME/.packagemanagement/nuget/Cache"
echo "packed Granularity $version into artifacts/feed"
