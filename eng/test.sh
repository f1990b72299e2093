#!/usr/bin/env bash
# The test command: build, then every unit, end-to-end and notebook test (each notebook executed through Jupyter in
# Quick mode, one client per notebook).
# Extra arguments go to `dotnet test` (e.g. --filter FullyQualifiedName~Theory).
set -euo pipefail
cd "$(dirname "$0")/.."
eng/bootstrap.sh
results="artifacts/test-results"
rm -rf "$results"
status=0
dotnet test Notebooks.sln -c "${CONFIGURATION:-Release}" --no-build -nologo \
  --logger "console;verbosity=normal" --logger "trx;LogFileName=tests.trx" --results-directory "$results" "$@" || status=$?
counters=$(grep -ho '<Counters [^>]*>' "$results"/*.trx 2>/dev/null | head -1 || true)
count() { sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p" <<<"$counters"; }
if [ -n "$counters" ]; then
  echo "$(count passed) passed, $(count failed) failed, $(( $(count total) - $(count executed) )) skipped"
fi
exit $status
