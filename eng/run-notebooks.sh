#!/usr/bin/env bash
# The main job: build, then execute every notebook (Quick; --full for the paper-scale runs) into artifacts/notebooks,
# exporting every figure into artifacts/figures. Extra options go to `granularity notebooks run`.
set -euo pipefail
cd "$(dirname "$0")/.."
eng/bootstrap.sh
exec eng/granularity notebooks run "$@"
