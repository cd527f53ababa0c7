// SPDX-License-Identifier: Apache-2.0
// Interpreter micro-benchmarks against a host that does nothing, and blob KZG proof verification.
// BENCHMARK_MAIN lives in vm_bench_main.cpp.
#include <cstdint>
#include <optional>
#include <span>

#include <benchmark/benchmark.h>

#include "primitives/bytes.hpp"
#include "primitives/hash.hpp"
#include "primitives/hex.hpp"
#include "primitives/keccak.hpp"
#include "primitives/u256.hpp"
#include "vm/host.hpp"
#include "vm/precompiles.hpp"
#include "vm/vm.hpp"

namespace pel::vm {
namespace {

/// A host with empty state: everything is absent, warm and zero.
class NullHost final : public Host {
  public:
    bool account_exists(const Address& /*addr*/) noexcept override { return false; }
    U256 get_balance(const Address& /*addr*/) noexcept override { return {}; }
    size_t get_code_size(const Address& /*addr*/) noexcept override { return 0; }
    Hash32 get_code_hash(const Address& /*addr*/) noexcept override { return {}; }
    ByteView get_code(const Address& /*addr*/) noexcept override { return {}; }
    U256 get_storage(const Address& /*addr*/, const U256& /*key*/) noexcept override { return {}; }
    StorageStatus set_storage(const Address& /*addr*/, const U256& /*key*/,
                              const U256& /*value*/) noexcept override {
        return StorageStatus::kAssigned;
    }
    U256 get_transient_storage(const Address& /*addr*/, const U256& /*key*/) noexcept override {
        return {};
    }
    void set_transient_storage(const Address& /*addr*/, const U256& /*key*/,
                               const U256& /*value*/) noexcept override {}
    bool selfdestruct(const Address& /*addr*/, const Address& /*beneficiary*/) noexcept override {
        return false;
    }
    ExecResult call(const Message& msg) noexcept override {
        ExecResult r;
        r.gas_left = msg.gas;
        return r;
    }
    const TxContext& get_tx_context() noexcept override { return tx_; }
    Hash32 get_block_hash(int64_t /*block_number*/) noexcept override { return {}; }
    void emit_log(const Address& /*addr*/, ByteView /*data*/,
                  std::span<const Hash32> /*topics*/) noexcept override {}
    AccessStatus access_account(const Address& /*addr*/) noexcept override {
        return AccessStatus::kWarm;
    }
    AccessStatus access_storage(const Address& /*addr*/, const U256& /*key*/) noexcept override {
        return AccessStatus::kWarm;
    }

  private:
    TxContext tx_;
};

/// Runs `code` once per iteration and reports gas throughput as Mgas/s.
void run_code(benchmark::State& state, const Bytes& code, ByteView input = {}) {
    Vm vm;
    NullHost host;
    const Hash32 hash = keccak256(code);
    Message msg;
    msg.gas = 100'000'000;
    msg.input = input;
    int64_t gas_used = 0;
    for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores)
        const ExecResult r = vm.execute(host, msg, code, &hash);
        if (r.status != Status::kSuccess) {
            state.SkipWithError("execution failed");
            break;
        }
        gas_used += msg.gas - r.gas_left;
        benchmark::DoNotOptimize(r.gas_left);
    }
    state.counters["Mgas/s"] =
        benchmark::Counter(static_cast<double>(gas_used) / 1e6, benchmark::Counter::kIsRate);
    state.counters["gas/iter"] =
        benchmark::Counter(static_cast<double>(gas_used), benchmark::Counter::kAvgIterations);
}

// Counts down from 10,000; each round does DUP/MUL/ADD work, decrements and branches back.
//   0: PUSH2 0x2710          counter
//   3: JUMPDEST
//   4: DUP1 DUP1 MUL DUP2 ADD POP        counter^2 + counter, discarded
//  10: PUSH1 1 SWAP1 SUB                 counter - 1
//  14: DUP1 PUSH1 3 JUMPI                loop while non-zero
//  18: STOP
// 45 gas per round.
void BM_Vm_arith_loop(benchmark::State& state) {
    const Bytes code = {0x61, 0x27, 0x10, 0x5b, 0x80, 0x80, 0x02, 0x81, 0x01, 0x50,
                        0x60, 0x01, 0x90, 0x03, 0x80, 0x60, 0x03, 0x57, 0x00};
    run_code(state, code);
}
BENCHMARK(BM_Vm_arith_loop);

// The same loop shape over memory: MSTORE then MLOAD of the counter at a fixed word.
//   0: PUSH2 0x2710, 3: JUMPDEST, 4: DUP1 PUSH1 0x40 MSTORE, 8: PUSH1 0x40 MLOAD POP,
//  12: PUSH1 1 SWAP1 SUB, 16: DUP1 PUSH1 3 JUMPI, 20: STOP
void BM_Vm_memory_loop(benchmark::State& state) {
    const Bytes code = {0x61, 0x27, 0x10, 0x5b, 0x80, 0x60, 0x40, 0x52, 0x60, 0x40, 0x51,
                        0x50, 0x60, 0x01, 0x90, 0x03, 0x80, 0x60, 0x03, 0x57, 0x00};
    run_code(state, code);
}
BENCHMARK(BM_Vm_memory_loop);

// Per-execution overhead: a frame that does one PUSH and returns.
void BM_Vm_tiny_frame(benchmark::State& state) {
    const Bytes code = {0x60, 0x01, 0x00};
    run_code(state, code);
}
BENCHMARK(BM_Vm_tiny_frame);

// A token transfer's VM work with storage served by the no-op host: two mapping slots hashed,
// read, updated and written, one LOG3, RETURN true. Measures per-transaction interpreter overhead
// apart from state access.
void BM_Vm_token_transfer(benchmark::State& state) {
    Bytes code = {
        0x60, 0x24, 0x35,              // PUSH1 36 CALLDATALOAD          amount
        0x60, 0x04, 0x35,              // PUSH1 4 CALLDATALOAD           to, amount
        0x33, 0x60, 0x00, 0x52,        // CALLER PUSH1 0 MSTORE          mem[0] = from
        0x60, 0x00, 0x60, 0x20, 0x52,  // PUSH1 0 PUSH1 32 MSTORE        mem[32] = slot 0
        0x60, 0x40, 0x60, 0x00, 0x20,  // KECCAK256(0, 64)               slot_from
        0x80, 0x54,                    // DUP1 SLOAD
        0x83, 0x90, 0x03,              // DUP4 SWAP1 SUB                 balance - amount
        0x90, 0x55,                    // SWAP1 SSTORE                   to, amount
        0x80, 0x60, 0x00, 0x52,        // DUP1 PUSH1 0 MSTORE            mem[0] = to
        0x60, 0x40, 0x60, 0x00, 0x20,  // KECCAK256(0, 64)               slot_to
        0x80, 0x54,                    // DUP1 SLOAD
        0x83, 0x01,                    // DUP4 ADD                       balance + amount
        0x90, 0x55,                    // SWAP1 SSTORE                   to, amount
        0x81, 0x60, 0x00, 0x52,        // DUP2 PUSH1 0 MSTORE            mem[0] = amount
        0x90, 0x50,                    // SWAP1 POP                      to
        0x33,                          // CALLER                         from, to
        0x7f,                          // PUSH32 Transfer signature
    };
    for (uint8_t i = 0; i < 32; ++i) {
        code.push_back(static_cast<uint8_t>(0xdd - i));
    }
    const Bytes tail = {
        0x60, 0x20, 0x60, 0x00, 0xa3,  // LOG3(0, 32, sig, from, to)
        0x60, 0x01, 0x60, 0x00, 0x52,  // MSTORE(0, 1)
        0x60, 0x20, 0x60, 0x00, 0xf3,  // RETURN(0, 32)
    };
    code.insert(code.end(), tail.begin(), tail.end());
    Bytes input(68, 0);
    input[35] = 0x42;  // to
    input[67] = 0x07;  // amount
    run_code(state, code, input);
}
BENCHMARK(BM_Vm_token_transfer);

// EIP-4844 blob sidecar check: verify_blob_kzg_proof on a valid blob (element i = i*i*31337 + 7;
// commitment and proof from kzg-wasm, the "quadratic" vector of tests/unit/precompiles/
// blob_kzg_test.cpp). One SHA-256 of 128 KiB, the barycentric evaluation and one KZG pairing check.
void BM_verify_blob_kzg_proof(benchmark::State& state) {
    Bytes blob(kBytesPerBlob, 0);
    for (size_t i = 0; i < kFieldElementsPerBlob; ++i) {
        const uint64_t v = static_cast<uint64_t>(i) * i * 31337 + 7;
        for (size_t j = 0; j < 8; ++j) {
            blob[32 * i + 31 - j] = static_cast<uint8_t>(v >> (8 * j));
        }
    }
    const auto commitment = from_hex(
        "8267f4ff77735b449caafe433e58901e411fefc0267c0761f2ba4c564e9e45c95ee1308f790e32951ddc620ae3"
        "5de8d4");
    const auto proof = from_hex(
        "82acded4df98676e2bb41bc81e0659bdee351cf8f01a6bfe5ecb59f85a1da2e2f6d3e962bdaac849f6c20a9ccf"
        "e53ecd");
    if (!commitment || !proof) {
        state.SkipWithError("bad hex");
        return;
    }
    for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores)
        const auto ok = verify_blob_kzg_proof(blob, commitment.value(), proof.value());
        if (ok != std::optional<bool>(true)) {
            state.SkipWithError("the proof does not verify");
            break;
        }
        benchmark::DoNotOptimize(ok);
    }
}
BENCHMARK(BM_verify_blob_kzg_proof)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace pel::vm
