#!/usr/bin/env bash
# The README's test command: installs what is missing, builds the release preset and runs every
# test (unit, spec fixtures, benchmark smoke runs). Extra arguments go to ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh release
ctest --preset release "$@"
