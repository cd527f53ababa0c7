// SPDX-License-Identifier: Apache-2.0
// pel_block_stm_bench: Block-STM against the sequential executor on deterministic signed blocks.
//
//   pel_block_stm_bench [--txns N] [--accounts N] [--runs R] [--threads T] [--only WORKLOAD]
//
// Workloads (fixed seeds):
//   transfers  N plain value transfers among `accounts` accounts (each sender once while
//              possible, random recipients)
//   token      N ERC-20-style transfer calls among `accounts` holders (balances in one
//              contract's storage, one slot per holder, a LOG2 per transfer)
//   chain      N transfers between 2 accounts, alternating: every transaction depends on the
//              previous one
//   hot        N token transfers from distinct holders all to one holder: every transaction
//              reads and writes the same storage slot (like swaps in one hot AMM pool), which
//              the pre-execution rule cannot see (contract calls): the runtime rule must fall
//              back early
// For each workload: the sequential executor and the parallel executor at 1 and T threads
// (default 2), run interleaved after one warm-up run each, median wall time of R runs each
// (default 5), and the ratio sequential/parallel.
// Sender recovery is not part of any of these (senders are recovered once, beforehand); it is
// measured separately at 1 and T threads on the transfers block. Every parallel result is checked
// against the sequential one (gas and diff); a mismatch exits with status 1.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "execution/block_executor.hpp"
#include "primitives/keccak.hpp"
#include "primitives/transaction.hpp"
#include "state/mem_state.hpp"

namespace {

using pel::Address;
using pel::Bytes;
using pel::Hash32;
using pel::Transaction;
using pel::U256;
namespace exec = pel::exec;

struct Config {
    size_t txns = 10'000;
    size_t accounts = 10'000;
    size_t runs = 5;
    size_t threads = 2;
    std::string only;  ///< run just this workload (transfers, token, hot, chain)
};

struct Workload {
    std::string name;
    pel::state::MemState state;
    exec::BlockEnv env;
    std::vector<Transaction> txns;
    std::vector<Address> senders;
};

Hash32 secret(size_t i) {
    Hash32 k;
    const Hash32 h = pel::keccak256(pel::as_bytes(std::to_string(i + 1)));
    k = h;
    return k;
}

/// Token: transfer(to = calldata[0], amount = calldata[32]); balances at slot = holder address.
Bytes token_code() {
    // PUSH1 32 CALLDATALOAD CALLER SLOAD DUP2 DUP2 LT PUSH2 fail JUMPI DUP2 SWAP1 SUB CALLER
    // SSTORE PUSH1 0 CALLDATALOAD DUP1 SLOAD DUP3 ADD SWAP1 SSTORE PUSH1 0 MSTORE PUSH1 0
    // CALLDATALOAD CALLER PUSH1 32 PUSH1 0 LOG2 STOP fail: JUMPDEST PUSH1 0 PUSH1 0 REVERT
    Bytes c = {0x60, 0x20, 0x35, 0x33, 0x54, 0x81, 0x81, 0x10, 0x61, 0x00, 0x00, 0x57,
               0x81, 0x90, 0x03, 0x33, 0x55, 0x60, 0x00, 0x35, 0x80, 0x54, 0x82, 0x01,
               0x90, 0x55, 0x60, 0x00, 0x52, 0x60, 0x00, 0x35, 0x33, 0x60, 0x20, 0x60,
               0x00, 0xa2, 0x00, 0x5b, 0x60, 0x00, 0x60, 0x00, 0xfd};
    c[10] = 39;  // offset of the JUMPDEST
    return c;
}

Bytes word(const Address& a) {
    Bytes b(32, 0);
    std::copy(a.bytes.begin(), a.bytes.end(), b.begin() + 12);
    return b;
}

exec::BlockEnv make_env() {
    exec::BlockEnv env;
    env.coinbase = Address::from_hex("0xc0ffee0000000000000000000000000000000000").value();
    env.block_num = 1;
    env.timestamp = 1000;
    env.gas_limit = 4'000'000'000;
    env.base_fee = 7;
    env.chain_id = 1;
    return env;
}

Transaction base_txn(uint64_t nonce) {
    Transaction t;
    t.type = pel::TxnType::kDynamicFee;
    t.chain_id = 1;
    t.nonce = nonce;
    t.max_priority_fee_per_gas = 2;
    t.max_fee_per_gas = 20;
    t.gas_limit = 21000;
    return t;
}

/// Signs every transaction with the key of `key_of[i]`; fills the senders by recovery.
void sign_all(Workload& w, const std::vector<size_t>& key_of) {
    for (size_t i = 0; i < w.txns.size(); ++i) {
        if (!pel::sign_transaction(w.txns[i], secret(key_of[i]))) {
            std::fprintf(stderr, "signing failed\n");
            std::exit(2);
        }
    }
    auto senders = exec::recover_senders(w.txns, 2);
    if (!senders) {
        std::fprintf(stderr, "recovery failed at %zu\n", senders.error());
        std::exit(2);
    }
    w.senders = std::move(*senders);
}

/// The address of key i (one recovery of a dummy signature).
std::vector<Address> addresses(size_t n) {
    std::vector<Transaction> probe(n, base_txn(0));
    for (size_t i = 0; i < n; ++i) {
        if (!pel::sign_transaction(probe[i], secret(i))) {
            std::exit(2);
        }
    }
    auto r = exec::recover_senders(probe, 2);
    if (!r) {
        std::exit(2);
    }
    return std::move(*r);
}

Workload transfers(const Config& cfg, const std::vector<Address>& addrs, bool token,
                   bool hot = false) {
    Workload w;
    w.name = hot ? "hot" : token ? "token" : "transfers";
    w.env = make_env();
    const Address token_addr =
        Address::from_hex("0x70ce000000000000000000000000000000000000").value();
    for (const Address& a : addrs) {
        w.state.set_balance(a, U256{1'000'000'000'000'000'000ULL});
    }
    if (token) {
        w.state.set_code(token_addr, token_code());
        w.state.set_nonce(token_addr, 1);
        for (const Address& a : addrs) {
            w.state.set_storage(token_addr, U256::from_be32(word(a).data()), U256{1'000'000});
        }
    }
    std::mt19937_64 rng(token ? 7 : 5);
    std::vector<size_t> order(addrs.size());
    for (size_t i = 0; i < order.size(); ++i) {
        order[i] = i;
    }
    std::shuffle(order.begin(), order.end(), rng);
    std::vector<uint64_t> nonces(addrs.size(), 0);
    std::vector<size_t> key_of;
    for (size_t i = 0; i < cfg.txns; ++i) {
        const size_t from = order[i % order.size()];
        size_t to =
            hot ? order[0] : std::uniform_int_distribution<size_t>(0, addrs.size() - 1)(rng);
        if (to == from) {
            to = hot ? order[1] : (to + 1) % addrs.size();
        }
        Transaction t = base_txn(nonces[from]++);
        if (token) {
            t.to = token_addr;
            t.gas_limit = 80'000;
            t.data = word(addrs[to]);
            const Bytes amount = word(Address{});
            t.data.insert(t.data.end(), amount.begin(), amount.end());
            t.data.back() = static_cast<uint8_t>(1 + i % 100);
        } else {
            t.to = addrs[to];
            t.value = 1 + i % 1000;
        }
        w.txns.push_back(std::move(t));
        key_of.push_back(from);
    }
    sign_all(w, key_of);
    return w;
}

Workload chain(const Config& cfg, const std::vector<Address>& addrs) {
    Workload w;
    w.name = "chain";
    w.env = make_env();
    w.state.set_balance(addrs[0], U256{1'000'000'000'000'000'000ULL});
    w.state.set_balance(addrs[1], U256{1'000'000'000'000'000'000ULL});
    std::vector<size_t> key_of;
    for (size_t i = 0; i < cfg.txns; ++i) {
        const size_t from = i % 2;
        Transaction t = base_txn(i / 2);
        t.to = addrs[1 - from];
        t.value = 1'000'000 + i;  // reads the balance the previous transaction credited
        w.txns.push_back(std::move(t));
        key_of.push_back(from);
    }
    sign_all(w, key_of);
    return w;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

double time_ms(const std::function<void()>& f) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

bool run(const Config& cfg, Workload& w) {
    exec::MemStateConcurrentReader base(w.state);
    exec::SequentialExecutor seq;
    const auto want = seq.execute(w.env, w.txns, w.senders, base);
    if (!want) {
        std::fprintf(stderr, "%s: block invalid at %zu\n", w.name.c_str(), want.error().txn_idx);
        return false;
    }
    // The runs are interleaved (sequential, parallel x1, parallel xT, then again), so that a
    // change in the machine's load affects every configuration alike.
    const std::vector<size_t> thread_counts = {size_t{1}, cfg.threads};
    std::vector<std::unique_ptr<exec::ParallelExecutor>> pars;
    for (const size_t threads : thread_counts) {
        pars.push_back(
            std::make_unique<exec::ParallelExecutor>(exec::ParallelOptions{threads, true, 16}));
        (void)pars.back()->execute(w.env, w.txns, w.senders, base);  // warm-up
    }
    std::vector<double> seq_ms;
    std::vector<std::vector<double>> par_ms(pars.size());
    std::vector<exec::BlockStats> stats(pars.size());
    bool ok = true;
    for (size_t r = 0; r < cfg.runs; ++r) {
        seq_ms.push_back(time_ms([&] { (void)seq.execute(w.env, w.txns, w.senders, base); }));
        for (size_t k = 0; k < pars.size(); ++k) {
            pel::Result<exec::BlockOutput, exec::BlockError> got =
                pel::unexpected(exec::BlockError{});
            par_ms[k].push_back(
                time_ms([&] { got = pars[k]->execute(w.env, w.txns, w.senders, base); }));
            if (!got || got->gas_used != want->gas_used ||
                got->diff.accounts != want->diff.accounts) {
                std::fprintf(stderr, "%s: parallel result differs from sequential\n",
                             w.name.c_str());
                ok = false;
            } else {
                stats[k] = got->stats;
            }
        }
    }
    const double s = median(seq_ms);
    std::printf("%-10s %6zu txns  sequential %9.2f ms\n", w.name.c_str(), w.txns.size(), s);
    for (size_t k = 0; k < pars.size(); ++k) {
        const double p = median(par_ms[k]);
        const exec::BlockStats& st = stats[k];
        std::printf(
            "%-10s %6zu txns  parallel x%-2zu %9.2f ms  speedup %.2fx  (re-executions %llu, "
            "validations %llu, aborts %llu, dependency waits %llu, fallback %s)\n",
            w.name.c_str(), w.txns.size(), thread_counts[k], p, s / p,
            static_cast<unsigned long long>(st.re_executions),
            static_cast<unsigned long long>(st.validations),
            static_cast<unsigned long long>(st.aborts),
            static_cast<unsigned long long>(st.dependency_waits),
            st.fallback.empty() ? "none" : st.fallback.c_str());
        if (st.fallback.empty()) {
            std::printf(
                "%-10s %6s       phases: setup %.2f ms, workers %.2f ms, fold %.2f ms, "
                "teardown %.2f ms (last run)\n",
                w.name.c_str(), "", st.setup_ms, st.workers_ms, st.finish_ms, st.teardown_ms);
        }
    }
    return ok;
}

void time_recovery(const Config& cfg, const Workload& w) {
    for (const size_t threads : {size_t{1}, cfg.threads}) {
        std::vector<double> ms;
        for (size_t r = 0; r < std::max<size_t>(1, cfg.runs / 2); ++r) {
            ms.push_back(time_ms([&] { (void)exec::recover_senders(w.txns, threads); }));
        }
        std::printf("recovery   %6zu txns  %2zu threads %9.2f ms\n", w.txns.size(), threads,
                    median(ms));
    }
}

}  // namespace

int main(int argc, char** argv) {
    Config cfg;
    const std::vector<std::string_view> args(argv + 1, argv + argc);
    for (size_t i = 0; i + 1 < args.size(); i += 2) {
        const size_t v = std::strtoull(std::string(args[i + 1]).c_str(), nullptr, 10);
        if (args[i] == "--txns") {
            cfg.txns = v;
        } else if (args[i] == "--accounts") {
            cfg.accounts = v;
        } else if (args[i] == "--runs") {
            cfg.runs = v;
        } else if (args[i] == "--threads") {
            cfg.threads = v;
        } else if (args[i] == "--only") {
            cfg.only = std::string(args[i + 1]);
        } else {
            std::fprintf(stderr,
                         "usage: pel_block_stm_bench [--txns N] [--accounts N] [--runs R] "
                         "[--threads T] [--only transfers|token|hot|chain]\n");
            return 2;
        }
    }
    if (args.size() % 2 != 0 || cfg.txns == 0 || cfg.accounts < 2 || cfg.runs == 0 ||
        cfg.threads == 0) {
        std::fprintf(stderr, "bad arguments\n");
        return 2;
    }
    const std::vector<Address> addrs = addresses(cfg.accounts);
    bool ok = true;
    const auto wanted = [&](std::string_view name) { return cfg.only.empty() || cfg.only == name; };
    if (wanted("transfers")) {
        Workload t = transfers(cfg, addrs, false);
        ok = run(cfg, t) && ok;
        time_recovery(cfg, t);
    }
    if (wanted("token")) {
        Workload tok = transfers(cfg, addrs, true);
        ok = run(cfg, tok) && ok;
    }
    if (wanted("hot")) {
        Workload hot = transfers(cfg, addrs, true, true);
        ok = run(cfg, hot) && ok;
    }
    if (wanted("chain")) {
        Workload c = chain(cfg, addrs);
        ok = run(cfg, c) && ok;
    }
    return ok ? 0 : 1;
}
