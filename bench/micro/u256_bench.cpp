// SPDX-License-Identifier: Apache-2.0
// U256 arithmetic. Each iteration takes the next operands from a pre-generated table (seeded, so
// runs are comparable) and the index mask keeps the table in L1, so the figures are per operation
// and the compiler cannot fold or hoist anything out of the loop.
#include <array>
#include <cstddef>
#include <cstdint>
#include <random>

#include <benchmark/benchmark.h>

#include "primitives/u256.hpp"

namespace {

using pel::U256;

constexpr size_t kTableSize = 256;  // power of two: the index wraps with a mask

struct Operands {
    std::array<U256, kTableSize> a;
    std::array<U256, kTableSize> b;
    std::array<U256, kTableSize> m;
};

U256 random_u256(std::mt19937_64& rng) { return {rng(), rng(), rng(), rng()}; }

/// Full-width a and m; b of a random width from 64 to 256 bits, so that division sees every
/// divisor size it meets in practice and the branches cannot be predicted perfectly.
const Operands& operands() {
    static const Operands ops = [] {
        Operands o;
        std::mt19937_64 rng(0x75'32'56'b3'00'00'00'01ULL);
        for (size_t i = 0; i < kTableSize; ++i) {
            o.a[i] = random_u256(rng);
            o.b[i] = random_u256(rng) >> static_cast<unsigned>(rng() % 193);
            o.m[i] = random_u256(rng) | U256{1};
        }
        return o;
    }();
    return ops;
}

template <class Op>
void run_binary(benchmark::State& state, Op op) {
    const Operands& o = operands();
    size_t i = 0;
    for (auto _ : state) {
        U256 r = op(o.a[i], o.b[i], o.m[i]);
        benchmark::DoNotOptimize(r);
        i = (i + 1) & (kTableSize - 1);
    }
    state.SetItemsProcessed(state.iterations());
}

void BM_U256_add(benchmark::State& state) {  // NOLINT(readability-identifier-naming)
    run_binary(state, [](const U256& a, const U256& b, const U256&) { return a + b; });
}
BENCHMARK(BM_U256_add);

void BM_U256_mul(benchmark::State& state) {  // NOLINT(readability-identifier-naming)
    run_binary(state, [](const U256& a, const U256& b, const U256&) { return a * b; });
}
BENCHMARK(BM_U256_mul);

void BM_U256_div(benchmark::State& state) {  // NOLINT(readability-identifier-naming)
    run_binary(state, [](const U256& a, const U256& b, const U256&) { return a / b; });
}
BENCHMARK(BM_U256_div);

void BM_U256_mod(benchmark::State& state) {  // NOLINT(readability-identifier-naming)
    run_binary(state, [](const U256& a, const U256& b, const U256&) { return a % b; });
}
BENCHMARK(BM_U256_mod);

void BM_U256_addmod(benchmark::State& state) {  // NOLINT(readability-identifier-naming)
    // Operands of both sizes relative to m, so both the subtract-once and the 257-bit paths run.
    run_binary(state, [](const U256& a, const U256& b, const U256& m) { return addmod(a, b, m); });
}
BENCHMARK(BM_U256_addmod);

void BM_U256_mulmod(benchmark::State& state) {  // NOLINT(readability-identifier-naming)
    run_binary(state, [](const U256& a, const U256& b, const U256& m) { return mulmod(a, b, m); });
}
BENCHMARK(BM_U256_mulmod);

void BM_U256_exp(benchmark::State& state) {  // NOLINT(readability-identifier-naming)
    // Full 256-bit exponents: the worst case, 256 squarings and about 128 multiplications.
    run_binary(state, [](const U256& a, const U256&, const U256& m) { return exp(a, m); });
}
BENCHMARK(BM_U256_exp);

}  // namespace

BENCHMARK_MAIN();
