#!/usr/bin/env bash
# The README's main command. pel's main job will be the node (pel-node); until it exists it is the
# parallel-vs-sequential block benchmark: pel_block_stm_bench (10,000-transaction blocks of
# transfers, token transfers and a dependent chain; sequential vs Block-STM at 1 and 2 threads),
# followed by the micro benchmarks. Extra arguments go to pel_block_stm_bench
# (--txns N --accounts N --runs R --threads T --only WORKLOAD).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh release
build/release/bench/pel_block_stm_bench "$@"
for b in build/release/bench/pel_*_bench; do
  [[ "$b" == */pel_block_stm_bench ]] && continue
  echo "== ${b##*/}"
  "$b" --benchmark_min_time=0.1
done
