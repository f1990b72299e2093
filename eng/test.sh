#!/usr/bin/env bash
# The test command: build, then every unit, end-to-end and notebook test (each notebook executed headless in Quick mode).
set -euo pipefail
cd "$(dirname "$0")/.."
eng/bootstrap.sh
dotnet test Notebooks.sln -c "${CONFIGURATION:-Release}" --no-build -nologo --logger "console;verbosity=normal" "$@"
