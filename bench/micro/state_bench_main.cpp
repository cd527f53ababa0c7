// SPDX-License-Identifier: Apache-2.0
// The single main of pel_state_bench (the benchmarks live in state_bench.cpp).
#include <benchmark/benchmark.h>

BENCHMARK_MAIN();
