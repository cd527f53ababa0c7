// SPDX-License-Identifier: Apache-2.0
// Keccak-256 and RLP micro-benchmarks. BENCHMARK_MAIN lives in u256_bench.cpp.
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <benchmark/benchmark.h>

#include "primitives/bytes.hpp"
#include "primitives/hash.hpp"
#include "primitives/keccak.hpp"
#include "primitives/rlp.hpp"
#include "primitives/u256.hpp"

namespace pel {
namespace {

template <size_t N>
void keccak_fixed(benchmark::State& state) {
    std::array<uint8_t, N> in{};
    for (size_t i = 0; i < N; ++i) {
        in[i] = static_cast<uint8_t>(i * 7 + 1);
    }
    for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores)
        const Hash32 h = keccak256(in);
        benchmark::DoNotOptimize(h);
        in[0] = h.bytes[0];  // chain iterations so the hash cannot be hoisted out of the loop
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(N));
}

void BM_Keccak256_32B(benchmark::State& state) {  // NOLINT(readability-identifier-naming)
    keccak_fixed<32>(state);
}
BENCHMARK(BM_Keccak256_32B);

void BM_Keccak256_1KiB(benchmark::State& state) {  // NOLINT(readability-identifier-naming)
    keccak_fixed<1024>(state);
}
BENCHMARK(BM_Keccak256_1KiB);

// keccak256_many_with(lanes) over `count` 64-byte inputs (the size of a mapping slot's preimage,
// close to a short trie node's), per call; args: lanes (1, 4 or 8), count. Items are hashes.
void BM_Keccak256_many_64B(benchmark::State& state) {  // NOLINT(readability-identifier-naming)
    const auto lanes = static_cast<size_t>(state.range(0));
    const auto count = static_cast<size_t>(state.range(1));
    if (lanes > keccak256_many_lanes_supported()) {
        state.SkipWithError("lane count not supported on this CPU");
        return;
    }
    std::vector<std::array<uint8_t, 64>> in(count);
    for (size_t i = 0; i < count; ++i) {
        for (size_t j = 0; j < 64; ++j) in[i][j] = static_cast<uint8_t>(i * 64 + j * 7 + 1);
    }
    std::vector<ByteView> views(count);
    for (size_t i = 0; i < count; ++i) views[i] = ByteView(in[i]);
    std::vector<Hash32> out(count);
    for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores)
        keccak256_many_with(lanes, views, out);
        benchmark::DoNotOptimize(out.data());
        in[0][0] = out[count - 1].bytes[0];
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(count));
}
BENCHMARK(BM_Keccak256_many_64B)
    ->ArgNames({"lanes", "count"})
    ->Args({1, 8})
    ->Args({4, 2})
    ->Args({4, 4})
    ->Args({4, 8})
    ->Args({8, 2})
    ->Args({8, 8})
    ->Args({8, 64});

// The fields of a typical EIP-1559 ether transfer (type 2, no data, empty access list), in the
// order of the signed payload: [chain_id, nonce, max_priority_fee_per_gas, max_fee_per_gas,
// gas_limit, to, value, data, access_list, y_parity, r, s].
struct TransferFields {
    uint64_t chain_id = 1;
    uint64_t nonce = 42;
    U256 max_priority_fee_per_gas{2'000'000'000ULL};  // 2 gwei
    U256 max_fee_per_gas{30'000'000'000ULL};          // 30 gwei
    uint64_t gas_limit = 21'000;
    Address to;
    U256 value{1'000'000'000'000'000'000ULL};  // 1 ether
    Bytes data;
    uint64_t y_parity = 1;
    U256 r{0x1122334455667788ULL, 0x99aabbccddeeff00ULL, 0x0123456789abcdefULL,
           0xfedcba9876543210ULL};
    U256 s{0x0f1e2d3c4b5a6978ULL, 0x8796a5b4c3d2e1f0ULL, 0x1357924680aceb0dULL,
           0x2468ace013579bdfULL};

    TransferFields() {
        for (size_t i = 0; i < pel::Address::size(); ++i) {
            to.bytes[i] = static_cast<uint8_t>(0xa0 + i);
        }
    }
};

// Encodes the fields into `payload` (cleared first) and the whole list into `out`.
void encode_transfer(const TransferFields& f, Bytes& payload, Bytes& out) {
    payload.clear();
    rlp::encode_uint(payload, f.chain_id);
    rlp::encode_uint(payload, f.nonce);
    rlp::encode_uint(payload, f.max_priority_fee_per_gas);
    rlp::encode_uint(payload, f.max_fee_per_gas);
    rlp::encode_uint(payload, f.gas_limit);
    rlp::encode_bytes(payload, f.to.view());
    rlp::encode_uint(payload, f.value);
    rlp::encode_bytes(payload, f.data);
    rlp::encode_list(payload, {});  // access list
    rlp::encode_uint(payload, f.y_parity);
    rlp::encode_uint(payload, f.r);
    rlp::encode_uint(payload, f.s);
    out.clear();
    rlp::encode_list(out, payload);
}

// Reads every field back with the strict decoder; returns false on any error.
bool decode_transfer(ByteView in, TransferFields& f) {
    rlp::Decoder outer(in);
    auto list = outer.read_list();
    if (!list) {
        return false;
    }
    rlp::Decoder& d = *list;
    auto chain_id = d.read_u64();
    auto nonce = d.read_u64();
    auto tip = d.read_u256();
    auto fee_cap = d.read_u256();
    auto gas_limit = d.read_u64();
    auto to = d.read_address();
    auto value = d.read_u256();
    auto data = d.read_bytes();
    auto access_list = d.read_list();
    if (!chain_id || !nonce || !tip || !fee_cap || !gas_limit || !to || !value || !data ||
        !access_list) {
        return false;
    }
    while (!access_list->at_end()) {
        if (!access_list->read_raw_item()) {
            return false;
        }
    }
    auto y_parity = d.read_u64();
    auto r = d.read_u256();
    auto s = d.read_u256();
    if (!y_parity || !r || !s || !d.expect_end() || !outer.expect_end()) {
        return false;
    }
    f.chain_id = *chain_id;
    f.nonce = *nonce;
    f.max_priority_fee_per_gas = *tip;
    f.max_fee_per_gas = *fee_cap;
    f.gas_limit = *gas_limit;
    f.to = *to;
    f.value = *value;
    f.y_parity = *y_parity;
    f.r = *r;
    f.s = *s;
    return true;
}

void BM_Rlp_encode_txn(benchmark::State& state) {  // NOLINT(readability-identifier-naming)
    const TransferFields f;
    Bytes payload;
    Bytes out;
    for (auto _ : state) {                 // NOLINT(clang-analyzer-deadcode.DeadStores)
        encode_transfer(f, payload, out);  // buffers keep their capacity: measures the encoder
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                            static_cast<int64_t>(out.size()));
}
BENCHMARK(BM_Rlp_encode_txn);

void BM_Rlp_decode_txn(benchmark::State& state) {  // NOLINT(readability-identifier-naming)
    Bytes payload;
    Bytes encoded;
    encode_transfer(TransferFields{}, payload, encoded);
    TransferFields f;
    if (!decode_transfer(encoded, f)) {
        state.SkipWithError("the benchmark transaction does not decode");
        return;
    }
    for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores)
        const bool ok = decode_transfer(encoded, f);
        benchmark::DoNotOptimize(ok);
        benchmark::DoNotOptimize(f);
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                            static_cast<int64_t>(encoded.size()));
}
BENCHMARK(BM_Rlp_decode_txn);

}  // namespace
}  // namespace pel
