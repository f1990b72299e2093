#!/usr/bin/env bash
# The test command: build, then every unit, end-to-end and notebook test (each notebook executed through Jupyter in
# Quick mode, one client per notebook).
# Extra arguments go to `dotnet test`, e.g. `--filter Category!=Notebooks` (skip the slow notebook executions; Slurm
# tests are `Category=Slurm`) or `--filter FullyQualifiedName~Theory`.
# The tests get a private temporary folder; afterwards anything left there or new in the repository is listed and fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
eng/bootstrap.sh
results="artifacts/test-results"
rm -rf "$results"
# The Jupyter kernel registration (artifacts/jupyter) is made by the build on purpose, like the feed; so are the browser
# check's screenshots of the main job's executed notebooks (artifacts/notebooks/*.png, next to them).
untracked() { git status --porcelain --ignored --untracked-files=all 2>/dev/null | grep -Ev '(^|/)(bin|obj)/|artifacts/(test-results|feed|jupyter)/|artifacts/notebooks/[^/]*\.png$' | sort || true; }
before=$(untracked)
private_tmp=$(mktemp -d "${TMPDIR:-/tmp}/granularity-test-run-XXXXXX")
status=0
TMPDIR="$private_tmp" dotnet test Notebooks.sln -c "${CONFIGURATION:-Release}" --no-build -nologo \
  --logger "console;verbosity=normal" --logger "trx;LogFileName=tests.trx" --results-directory "$results" "$@" || status=$?
counters=$(grep -ho '<Counters [^>]*>' "$results"/*.trx 2>/dev/null | head -1 || true)
count() { sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p" <<<"$counters"; }
if [ -n "$counters" ]; then
  echo "$(count passed) passed, $(count failed) failed, $(( $(count total) - $(count executed) )) skipped"
fi
# Ours (granularity-*) must be gone; other tools' scratch files (NuGet, MSBuild) are listed and go with the folder.
leftovers=$(find "$private_tmp" -mindepth 1 -maxdepth 1 -name 'granularity-*' 2>/dev/null | sed "s#^$private_tmp/#  tmp: #" || true)
# What is inside them, so the test that left it can be found.
inside=$(find "$private_tmp" -mindepth 2 -maxdepth 4 -path "$private_tmp/granularity-*" 2>/dev/null | sed "s#^$private_tmp/#    #" | head -40 || true)
others=$(find "$private_tmp" -mindepth 1 -maxdepth 1 ! -name 'granularity-*' -printf '%f ' 2>/dev/null || true)
[ -n "$others" ] && echo "tool scratch files in the tests' temporary folder (removed with it): $others"
rm -rf "$private_tmp"
new_in_repository=$(comm -13 <(echo "$before") <(untracked) | sed 's/^/  repository: /')
if [ -n "$leftovers$new_in_repository" ]; then
  echo "the tests left files behind:"
  [ -n "$leftovers" ] && echo "$leftovers" && echo "$inside"
  [ -n "$new_in_repository" ] && echo "$new_in_repository"
  [ $status -eq 0 ] && status=1
fi
exit $status
