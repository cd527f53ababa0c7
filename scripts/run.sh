#!/usr/bin/env bash
# The README's main command. pel's main job will be the node (pel-node) and, until it exists, the
# parallel-vs-sequential block benchmark (pel-bench). Neither exists yet: for now this runs the
# micro benchmarks of the parts that do exist. Extra arguments go to Google Benchmark.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh release
for b in build/release/bench/pel_*_bench; do
  echo "== ${b##*/}"
  "$b" "$@"
done
