// SPDX-License-Identifier: Apache-2.0
// Signature, transaction codec and hex costs. No BENCHMARK_MAIN here: the bench binary has one
// main.
#include <benchmark/benchmark.h>

#include "primitives/hex.hpp"
#include "primitives/keccak.hpp"
#include "primitives/secp256k1.hpp"
#include "primitives/transaction.hpp"

namespace pel {
namespace {

// The state tests' sender key.
Hash32 secret_key() {
    return Hash32::from_hex("0x45a915e4d060149eb4365960e6a7a45f334393093061116b197e3240065ff2d8")
        .value();
}

// A typical signed EIP-1559 value transfer.
Transaction make_transfer() {
    Transaction t;
    t.type = TxnType::kDynamicFee;
    t.chain_id = 1;
    t.nonce = 42;
    t.max_priority_fee_per_gas = U256{1'000'000'000ULL};
    t.max_fee_per_gas = U256{30'000'000'000ULL};
    t.gas_limit = 21000;
    t.to = Address::from_hex("0x095e7baea6a6c7c4c2dfeb977efac326af552d87").value();
    t.value = U256{1'000'000'000'000'000'000ULL};
    PEL_ASSERT(sign_transaction(t, secret_key()).has_value(), "bench: signing failed");
    return t;
}

void BM_Secp256k1_recover(benchmark::State& state) {
    const Hash32 msg = keccak256(as_bytes("pel bench"));
    const auto sig = crypto::sign(msg, secret_key()).value();
    for (auto _ : state) {
        auto addr = crypto::recover_address(msg, sig, true);
        benchmark::DoNotOptimize(addr);
    }
}
BENCHMARK(BM_Secp256k1_recover);

void BM_Txn_decode(benchmark::State& state) {
    const Bytes enc = encode_transaction(make_transfer());
    for (auto _ : state) {
        auto t = decode_transaction(enc);
        benchmark::DoNotOptimize(t);
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                            static_cast<int64_t>(enc.size()));
}
BENCHMARK(BM_Txn_decode);

void BM_Txn_recover_sender(benchmark::State& state) {
    const Transaction t = make_transfer();
    for (auto _ : state) {
        auto sender = recover_sender(t);
        benchmark::DoNotOptimize(sender);
    }
}
BENCHMARK(BM_Txn_recover_sender);

void BM_Txn_sign(benchmark::State& state) {
    Transaction t = make_transfer();
    const Hash32 key = secret_key();
    for (auto _ : state) {
        ++t.nonce;  // a fresh message each time
        auto r = sign_transaction(t, key);
        benchmark::DoNotOptimize(r);
    }
}
BENCHMARK(BM_Txn_sign);

// eth_sendRawTransaction's parameter: a signed ERC-20-sized transaction (150 bytes) in hex.
void BM_Hex_decode_raw_txn(benchmark::State& state) {
    const std::string text = to_hex(Bytes(150, 0xa7), true);
    for (auto _ : state) {
        auto b = from_hex(text);
        benchmark::DoNotOptimize(b);
    }
}
BENCHMARK(BM_Hex_decode_raw_txn);

// The answer's transaction hash.
void BM_Hex_encode_hash(benchmark::State& state) {
    const Hash32 h = keccak256(as_bytes("pel bench"));
    for (auto _ : state) {
        auto s = to_hex(h.view(), true);
        benchmark::DoNotOptimize(s);
    }
}
BENCHMARK(BM_Hex_encode_hash);

}  // namespace
}  // namespace pel
