#!/usr/bin/env bash
# The main job: build, then execute every notebook (Quick; --full for the paper-scale runs) into artifacts/notebooks,
# exporting every figure into artifacts/figures, through Jupyter (nbclient + the .NET Interactive kernel). Extra options
# go to `granularity notebooks run` (e.g. --only 03, --client repl, --timings for the per-notebook benchmark).
set -euo pipefail
cd "$(dirname "$0")/.."
eng/bootstrap.sh
exec eng/granularity notebooks run "$@"
