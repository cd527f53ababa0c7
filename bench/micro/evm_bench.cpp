// SPDX-License-Identifier: Apache-2.0
// EVM speed on real contracts: OpenZeppelin's ERC-20 (contracts/src/BenchToken.sol) and a
// Solidity arithmetic loop (contracts/src/ArithLoop.sol), compiled by solc 0.8.28 for Cancun with
// the optimizer on (200 runs). The bytecode comes from the committed contracts/build/*.json
// through headers generated at configure time (contracts/PelContracts.cmake).
//
// Setup (once per process, not timed): a MemState with a funded sender, a coinbase and a token
// holder; the token is deployed by a real contract-creation transaction and the holder gets its
// first tokens by a real transfer transaction, both through exec::apply_transaction.
//
// What each benchmark includes:
//  - BM_Erc20_transfer_call: `transfer(holder, 1)` from the sender: one vm::Vm::execute on the
//    token's runtime code through exec::Host, over a fresh TxnState per iteration (so every call
//    starts cold: 2 cold SLOADs then SSTOREs nonzero->nonzero, one LOG3, 3 KECCAK256 of 64 bytes
//    for the mapping slots) with the sender and the token pre-warmed as at transaction start. The
//    TxnState construction and teardown (its hash maps) are included; intrinsic gas, fees, write
//    set and receipt are not. Jump-destination analysis is cached (one warm Vm). The gas counted
//    is the execution gas (msg.gas - gas_left, before refunds).
//  - BM_Erc20_transfer_call_reused: the same call on one long-lived TxnState reverted to its
//    start after every call. Gas and warm/cold accounting are identical, but the overlay's maps
//    keep their loaded entries: the difference to the benchmark above is the cost of the
//    per-transaction overlay (allocation and first reads from MemState).
//  - BM_Erc20_transfer_txn: exec::apply_transaction of a signed EIP-1559 transfer transaction:
//    validation, intrinsic gas, gas purchase, warm set, execution, refunds, fee payment, EIP-161
//    cleanup, receipt with logs and bloom, and the write set. Sender recovery (one ECDSA recovery,
//    ~45-80 us) is NOT included: it is done once in setup, as a block executor does it up front,
//    in parallel. The write set is discarded, so every iteration sees the same pre-state.
//  - BM_Erc20_transfer_txn_applied: as above plus apply_writes into the MemState, so the chain
//    advances (the nonce is bumped on the transaction each iteration; the signature no longer
//    matches then, which does not matter since the sender is given).
//  - BM_Arith_loop: ArithLoop.run(rounds) through vm::Vm::execute and exec::Host.
//
// Counters: gas/iter, and gas/s as a rate over CPU time (printed as e.g. 7.9G/s = 7,900 Mgas/s).
// Run: pel_evm_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string_view>
#include <utility>

#include <benchmark/benchmark.h>

#include "contracts/arith_loop.hpp"
#include "contracts/bench_token.hpp"
#include "execution/host.hpp"
#include "execution/sequential.hpp"
#include "execution/state_reader.hpp"
#include "execution/transition.hpp"
#include "execution/txn_state.hpp"
#include "primitives/bytes.hpp"
#include "primitives/hash.hpp"
#include "primitives/hex.hpp"
#include "primitives/keccak.hpp"
#include "primitives/secp256k1.hpp"
#include "primitives/transaction.hpp"
#include "primitives/u256.hpp"
#include "state/mem_state.hpp"
#include "vm/host.hpp"
#include "vm/vm.hpp"

namespace pel::exec {
namespace {

/// Setup failures are bugs in the benchmark or the code under test: print and abort so the
/// ctest smoke run fails.
void require(bool ok, const char* what) {
    if (!ok) {
        std::fputs("evm_bench setup: ", stderr);
        std::fputs(what, stderr);
        std::fputs("\n", stderr);
        std::abort();
    }
}

Bytes decode_hex(std::string_view hex) {
    Result<Bytes> r = from_hex(hex);
    require(r.has_value(), "bad hex in a generated contract header");
    return std::move(r).value();
}

void append_word(Bytes& out, const U256& v) { append(out, v.to_hash().view()); }

void append_address(Bytes& out, const Address& a) {
    out.insert(out.end(), 12, uint8_t{0});
    append(out, a.view());
}

void append_selector(Bytes& out, uint32_t selector) {
    require(selector != 0, "unknown method signature");
    for (int shift = 24; shift >= 0; shift -= 8) {
        out.push_back(static_cast<uint8_t>(selector >> shift));
    }
}

Address make_address(uint8_t tag) {
    Address a;
    a.bytes[0] = 0xbe;
    a.bytes[19] = tag;
    return a;
}

constexpr uint64_t kChainId = 1;
constexpr U256 kBaseFee{7};
constexpr U256 kMaxFee{10};
constexpr U256 kTip{1};
constexpr U256 kInitialSupply = U256{1'000'000'000} * U256{1'000'000'000'000'000'000ULL};  // 1e27

/// The prepared world, built once.
struct World {
    state::MemState state;
    BlockEnv env;
    Hash32 secret_key;
    Address sender;
    Address holder = make_address(0x01);
    Address token;
    Hash32 token_code_hash;
    /// Signed transfer(holder, 1) from the sender at its current nonce.
    Transaction transfer_txn;
    /// ABI-encoded transfer(holder, 1).
    Bytes transfer_input;
    Address arith;
    Hash32 arith_code_hash;

    World() {
        secret_key.bytes[31] = 0x42;
        Result<Address> sender_addr = crypto::address_from_secret(secret_key);
        require(sender_addr.has_value(), "address_from_secret");
        sender = *sender_addr;

        env.coinbase = make_address(0xcb);
        env.block_num = 1;
        env.timestamp = 1'700'000'000;
        env.gas_limit = 30'000'000;
        env.base_fee = kBaseFee;
        env.chain_id = U256{kChainId};

        state.set_balance(sender, U256{1'000'000'000'000'000'000ULL} * U256{1'000'000});
        state.set_balance(env.coinbase, U256{1});

        // Deploy both contracts by creation transactions, then give the holder its first tokens.
        vm::Vm vm;
        token = deploy(vm, contracts::bench_token::kCreationCodeHex, kInitialSupply);
        arith = deploy(vm, contracts::arith_loop::kCreationCodeHex, std::nullopt);

        append_selector(transfer_input,
                        contracts::bench_token::selector("transfer(address,uint256)"));
        append_address(transfer_input, holder);
        append_word(transfer_input, U256{1});
        run_txn(vm, make_txn(token, transfer_input, 100'000));

        const state::MemAccount* t = state.find(token);
        require(t != nullptr && t->code == decode_hex(contracts::bench_token::kRuntimeCodeHex),
                "deployed token code differs from the committed runtime code");
        token_code_hash = t->code_hash;
        const state::MemAccount* a = state.find(arith);
        require(a != nullptr && a->code == decode_hex(contracts::arith_loop::kRuntimeCodeHex),
                "deployed ArithLoop code differs from the committed runtime code");
        arith_code_hash = a->code_hash;

        transfer_txn = make_txn(token, transfer_input, 100'000);
        Result<Address> recovered = recover_sender(transfer_txn);
        require(recovered.has_value() && *recovered == sender, "sender recovery");
    }

    [[nodiscard]] Transaction make_txn(std::optional<Address> to, Bytes data,
                                       uint64_t gas_limit) const {
        Transaction txn;
        txn.type = TxnType::kDynamicFee;
        txn.chain_id = kChainId;
        const state::MemAccount* acc = state.find(sender);
        txn.nonce = acc != nullptr ? acc->nonce : 0;
        txn.max_priority_fee_per_gas = kTip;
        txn.max_fee_per_gas = kMaxFee;
        txn.gas_limit = gas_limit;
        txn.to = to;
        txn.data = std::move(data);
        require(sign_transaction(txn, secret_key).has_value(), "sign_transaction");
        return txn;
    }

    TxnResult run_txn(vm::Vm& vm, const Transaction& txn) {
        MemStateReader reader(state);
        Result<TxnResult, TxnError> r = apply_transaction(reader, vm, env, txn, sender);
        require(r.has_value(), "setup transaction invalid");
        require(r->receipt.success, "setup transaction failed");
        apply_writes(state, r->writes);
        return std::move(r).value();
    }

    Address deploy(vm::Vm& vm, std::string_view creation_hex, std::optional<U256> ctor_arg) {
        Bytes initcode = decode_hex(creation_hex);
        if (ctor_arg) {
            append_word(initcode, *ctor_arg);
        }
        const Transaction txn = make_txn(std::nullopt, std::move(initcode), 3'000'000);
        const Address addr = create_address(sender, txn.nonce);
        run_txn(vm, txn);
        return addr;
    }

    [[nodiscard]] vm::TxContext tx_context() const {
        vm::TxContext ctx;
        ctx.gas_price = kBaseFee + kTip;
        ctx.origin = sender;
        ctx.coinbase = env.coinbase;
        ctx.block_number = env.block_num;
        ctx.timestamp = env.timestamp;
        ctx.gas_limit = env.gas_limit;
        ctx.chain_id = env.chain_id;
        ctx.base_fee = env.base_fee;
        ctx.blob_base_fee = U256{1};
        return ctx;
    }
};

const World& world() {
    static const World w;
    return w;
}

void set_gas_counters(benchmark::State& state, int64_t gas) {
    state.counters["gas/s"] =
        benchmark::Counter(static_cast<double>(gas), benchmark::Counter::kIsRate);
    state.counters["gas/iter"] =
        benchmark::Counter(static_cast<double>(gas), benchmark::Counter::kAvgIterations);
}

/// True when `r` is a successful transfer returning ABI `true`.
bool transfer_ok(const vm::ExecResult& r) {
    return r.status == vm::Status::kSuccess && r.output.size() == 32 && r.output[31] == 1;
}

vm::Message transfer_message(const World& w) {
    vm::Message msg;
    msg.gas = 100'000;
    msg.recipient = w.token;
    msg.code_address = w.token;
    msg.sender = w.sender;
    msg.input = w.transfer_input;
    return msg;
}

// NOLINTNEXTLINE(readability-identifier-naming)
void BM_Erc20_transfer_call(benchmark::State& state) {
    const World& w = world();
    const ByteView code = w.state.find(w.token)->code;
    const vm::TxContext ctx = w.tx_context();
    const vm::Message msg = transfer_message(w);
    MemStateReader reader(w.state);
    vm::Vm vm;
    int64_t gas = 0;
    for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores)
        TxnState txn_state(reader);
        txn_state.access_account(w.sender);
        txn_state.access_account(w.token);
        Host host(txn_state, vm, ctx, nullptr);
        const vm::ExecResult r = vm.execute(host, msg, code, &w.token_code_hash);
        if (!transfer_ok(r)) {
            state.SkipWithError("transfer failed");
            break;
        }
        gas += msg.gas - r.gas_left;
        benchmark::DoNotOptimize(r.gas_left);
    }
    set_gas_counters(state, gas);
}
BENCHMARK(BM_Erc20_transfer_call);

// NOLINTNEXTLINE(readability-identifier-naming)
void BM_Erc20_transfer_call_reused(benchmark::State& state) {
    const World& w = world();
    const ByteView code = w.state.find(w.token)->code;
    const vm::TxContext ctx = w.tx_context();
    const vm::Message msg = transfer_message(w);
    MemStateReader reader(w.state);
    vm::Vm vm;
    TxnState txn_state(reader);
    const size_t start = txn_state.snapshot();
    int64_t gas = 0;
    for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores)
        txn_state.access_account(w.sender);
        txn_state.access_account(w.token);
        Host host(txn_state, vm, ctx, nullptr);
        const vm::ExecResult r = vm.execute(host, msg, code, &w.token_code_hash);
        if (!transfer_ok(r)) {
            state.SkipWithError("transfer failed");
            break;
        }
        gas += msg.gas - r.gas_left;
        benchmark::DoNotOptimize(r.gas_left);
        txn_state.revert(start);
    }
    set_gas_counters(state, gas);
}
BENCHMARK(BM_Erc20_transfer_call_reused);

// NOLINTNEXTLINE(readability-identifier-naming)
void BM_Erc20_transfer_txn(benchmark::State& state) {
    const World& w = world();
    vm::Vm vm;
    int64_t gas = 0;
    for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores)
        MemStateReader reader(w.state);
        const Result<TxnResult, TxnError> r =
            apply_transaction(reader, vm, w.env, w.transfer_txn, w.sender);
        if (!r.has_value() || !r->receipt.success) {
            state.SkipWithError("transfer transaction failed");
            break;
        }
        gas += static_cast<int64_t>(r->receipt.gas_used);
        benchmark::DoNotOptimize(r->writes.accounts.data());
    }
    set_gas_counters(state, gas);
}
BENCHMARK(BM_Erc20_transfer_txn);

// NOLINTNEXTLINE(readability-identifier-naming)
void BM_Erc20_transfer_txn_applied(benchmark::State& state) {
    const World& w = world();
    state::MemState mem = w.state;
    Transaction txn = w.transfer_txn;
    vm::Vm vm;
    int64_t gas = 0;
    for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores)
        MemStateReader reader(mem);
        const Result<TxnResult, TxnError> r = apply_transaction(reader, vm, w.env, txn, w.sender);
        if (!r.has_value() || !r->receipt.success) {
            state.SkipWithError("transfer transaction failed");
            break;
        }
        apply_writes(mem, r->writes);
        ++txn.nonce;
        gas += static_cast<int64_t>(r->receipt.gas_used);
    }
    set_gas_counters(state, gas);
}
BENCHMARK(BM_Erc20_transfer_txn_applied);

// NOLINTNEXTLINE(readability-identifier-naming)
void BM_Arith_loop(benchmark::State& state) {
    const World& w = world();
    const ByteView code = w.state.find(w.arith)->code;
    const vm::TxContext ctx = w.tx_context();
    Bytes input;
    append_selector(input, contracts::arith_loop::selector("run(uint256)"));
    append_word(input, U256{static_cast<uint64_t>(state.range(0))});
    vm::Message msg;
    msg.gas = 100'000'000;
    msg.recipient = w.arith;
    msg.code_address = w.arith;
    msg.sender = w.sender;
    msg.input = input;
    MemStateReader reader(w.state);
    vm::Vm vm;
    int64_t gas = 0;
    for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores)
        TxnState txn_state(reader);
        Host host(txn_state, vm, ctx, nullptr);
        const vm::ExecResult r = vm.execute(host, msg, code, &w.arith_code_hash);
        if (r.status != vm::Status::kSuccess) {
            state.SkipWithError("ArithLoop.run failed");
            break;
        }
        gas += msg.gas - r.gas_left;
        benchmark::DoNotOptimize(r.gas_left);
    }
    set_gas_counters(state, gas);
}
BENCHMARK(BM_Arith_loop)->Arg(10'000);

}  // namespace
}  // namespace pel::exec

BENCHMARK_MAIN();
