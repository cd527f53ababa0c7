// SPDX-License-Identifier: Apache-2.0
// Trie-root micro-benchmarks: the streaming HashBuilder over state-trie-sized inputs, the general
// trie_root() for comparison, MemState::state_root() end to end (keccak of keys included), and the
// StateStore's first commit into a contract's storage after open, with and without trie records.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <benchmark/benchmark.h>

#include "primitives/bytes.hpp"
#include "primitives/hash.hpp"
#include "primitives/u256.hpp"
#include "state/account.hpp"
#include "state/mem_state.hpp"
#include "state/state_view.hpp"
#include "state/trie.hpp"

namespace pel::state {
namespace {

// n sorted random 32-byte keys with account RLP values (about 70-110 bytes), fixed seed.
std::vector<std::pair<Hash32, Bytes>> account_leaves(size_t n) {
    std::mt19937_64 rng(42);
    std::vector<std::pair<Hash32, Bytes>> out;
    out.reserve(n);
    for (size_t i = 0; i < n; ++i) {
        Hash32 key;
        for (auto& b : key.bytes) b = static_cast<uint8_t>(rng());
        Account a;
        a.nonce = rng() % 1000;
        a.balance = U256{rng(), rng() % 1000, 0, 0};
        if (i % 4 == 0) a.code_hash.bytes[0] = static_cast<uint8_t>(i);
        out.emplace_back(key, encode_account(a));
    }
    std::sort(out.begin(), out.end());
    return out;
}

void BM_Trie_root_10k_accounts(benchmark::State& state) {
    const auto leaves = account_leaves(10'000);
    HashBuilder hb;
    for (auto _ : state) {
        for (const auto& [k, v] : leaves) hb.add(k, v);
        benchmark::DoNotOptimize(hb.root());
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * 10'000);
}
BENCHMARK(BM_Trie_root_10k_accounts)->Unit(benchmark::kMillisecond);

// The general recursive builder on the same input, to show what the streaming one saves.
void BM_Trie_root_10k_accounts_general(benchmark::State& state) {
    const auto leaves = account_leaves(10'000);
    for (auto _ : state) {
        std::vector<std::pair<Bytes, Bytes>> entries;
        entries.reserve(leaves.size());
        for (const auto& [k, v] : leaves)
            entries.emplace_back(Bytes(k.bytes.begin(), k.bytes.end()), v);
        benchmark::DoNotOptimize(trie_root(std::move(entries)));
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * 10'000);
}
BENCHMARK(BM_Trie_root_10k_accounts_general)->Unit(benchmark::kMillisecond);

// 1,000 accounts; one in four is a contract with 8 storage slots and 100 bytes of code.
void BM_MemState_state_root_1k(benchmark::State& state) {
    std::mt19937_64 rng(7);
    MemState s;
    for (size_t i = 0; i < 1000; ++i) {
        Address a;
        for (auto& b : a.bytes) b = static_cast<uint8_t>(rng());
        s.set_nonce(a, rng() % 100);
        s.set_balance(a, U256{rng()});
        if (i % 4 == 0) {
            s.set_code(a, Bytes(100, static_cast<uint8_t>(i)));
            for (uint64_t slot = 0; slot < 8; ++slot) s.set_storage(a, U256{slot}, U256{rng()});
        }
    }
    for (auto _ : state) benchmark::DoNotOptimize(s.state_root());
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * 1000);
}
BENCHMARK(BM_MemState_state_root_1k)->Unit(benchmark::kMicrosecond);

// The first commit that touches a contract's storage after the store was opened (its storage
// trie not resident in memory): one slot of a contract with range(0) slots rewritten, its storage
// trie kept without records (range(1) == 0: small_storage_trie_slots at the contract's size, so
// the trie is rebuilt from the flat slots) or with records (1: small_storage_trie_slots 0, so the
// trie is read by one scan of its records when it has at most 256 of them, else node by node).
// LevelDB in a temporary directory under $TMPDIR, no fsync; reopening the store is not timed.
void BM_StateStore_cold_storage_touch(benchmark::State& state) {
    const auto slots = static_cast<uint64_t>(state.range(0));
    const bool records = state.range(1) != 0;
    const char* tmp = std::getenv("TMPDIR");
    std::string tmpl =
        std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/pel-state-bench-XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) {
        state.SkipWithError("mkdtemp failed");
        return;
    }
    const std::string dir = tmpl + "/db";
    StateStoreOptions o;
    o.sync = false;
    o.small_storage_trie_slots = records ? 0 : slots;
    Address contract;
    contract.bytes[0] = 0xc0;
    {
        auto store = StateStore::open(dir, o);
        StateDiff d;
        AccountDiff& a = d.accounts[contract];
        a.balance = U256{1};
        for (uint64_t i = 0; i < slots; ++i) a.storage[U256{i * 7919}] = U256{i + 1};
        if (!store || !(*store)->commit(0, d)) {
            state.SkipWithError("setup commit failed");
            std::filesystem::remove_all(tmpl);
            return;
        }
    }
    uint64_t block = 1;
    for (auto _ : state) {
        state.PauseTiming();
        auto store = StateStore::open(dir, o);  // nothing resident
        StateDiff d;
        d.accounts[contract].storage[U256{(block % slots) * 7919}] = U256{block + 1000};
        state.ResumeTiming();
        const bool ok = store && (*store)->commit(block, d).has_value();
        state.PauseTiming();
        store = {};
        state.ResumeTiming();
        if (!ok) {
            state.SkipWithError("commit failed");
            break;
        }
        ++block;
    }
    std::filesystem::remove_all(tmpl);
}
BENCHMARK(BM_StateStore_cold_storage_touch)
    ->ArgNames({"slots", "records"})
    ->ArgsProduct({{16, 64, 256}, {0, 1}})
    ->Iterations(200)
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace pel::state
