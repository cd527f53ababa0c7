// SPDX-License-Identifier: Apache-2.0
// Interpreter micro-benchmarks against a host that does nothing. BENCHMARK_MAIN lives in
// vm_bench_main.cpp.
#include <cstdint>
#include <span>

#include <benchmark/benchmark.h>

#include "primitives/bytes.hpp"
#include "primitives/hash.hpp"
#include "primitives/keccak.hpp"
#include "primitives/u256.hpp"
#include "vm/host.hpp"
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
void run_code(benchmark::State& state, const Bytes& code) {
    Vm vm;
    NullHost host;
    const Hash32 hash = keccak256(code);
    Message msg;
    msg.gas = 100'000'000;
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

}  // namespace
}  // namespace pel::vm
