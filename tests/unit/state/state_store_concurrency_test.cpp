// SPDX-License-Identifier: Apache-2.0
// Concurrent readers during commits: every block sets a group of probe accounts and slots to the
// block number, so a view that mixed two blocks would show two different numbers. Readers take
// views and read all probes while the writer commits; old views are re-read after later commits.
#include <atomic>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "state/state_view.hpp"
#include "tests/unit/state/state_gen.hpp"

namespace pel::state {
namespace {

constexpr uint64_t kProbes = 24;
constexpr uint64_t kBlocks = 250;
constexpr int kReaders = 6;

Address probe(uint64_t i) { return storetest::pool_address(100'000 + i); }

StateDiff block_with_probes(uint64_t n) {
    StateDiff diff = storetest::make_block(9, n);
    for (uint64_t i = 0; i < kProbes; ++i) {
        AccountDiff& d = diff.accounts[probe(i)];
        d.balance = U256{n};
        d.storage[U256{1}] = U256{n + 1};
        d.storage[U256{2 + n % 3}] = U256{n + 1};
    }
    return diff;
}

TEST(StateStore, concurrent_readers_never_see_a_mix_of_blocks) {
    storetest::TempDir dir;
    StateStoreOptions o;
    o.sync = false;
    o.cache_bytes = size_t{256} << 10;  // small: evictions and refills race with commits
    o.leveldb_write_buffer_bytes = size_t{1} << 20;
    auto opened = StateStore::open(dir.sub("db"), o);
    ASSERT_TRUE(opened.has_value()) << opened.error().message;
    StateStore& store = **opened;
    ASSERT_TRUE(store.commit(0, block_with_probes(0)).has_value());

    std::atomic<bool> done{false};
    std::atomic<uint64_t> reads{0};
    std::atomic<uint64_t> mismatches{0};
    std::atomic<uint64_t> errors{0};
    auto check_view = [&](const StateView& v) {
        const uint64_t b = v.block_num().value_or(~0ULL);
        for (uint64_t i = 0; i < kProbes; ++i) {
            auto acc = v.account(probe(i));
            auto s1 = v.storage(probe(i), U256{1});
            auto s2 = v.storage(probe(i), U256{2 + b % 3});
            if (!acc || !s1 || !s2) {
                errors.fetch_add(1);
                continue;
            }
            if (!acc->has_value() || (*acc)->balance != U256{b} || *s1 != U256{b + 1} ||
                *s2 != U256{b + 1}) {
                mismatches.fetch_add(1);
            }
            reads.fetch_add(3, std::memory_order_relaxed);
        }
    };
    std::vector<std::thread> readers;
    for (int r = 0; r < kReaders; ++r) {
        readers.emplace_back([&, r] {
            std::mt19937_64 rng(static_cast<uint64_t>(r));
            std::vector<std::shared_ptr<const StateView>> held;
            while (!done.load()) {
                auto v = store.view();
                check_view(*v);
                if (rng() % 8 == 0) held.push_back(v);
                if (held.size() > 4) {  // an old view, read again blocks later
                    check_view(*held.front());
                    held.erase(held.begin());
                }
            }
            for (const auto& v : held) check_view(*v);
        });
    }
    for (uint64_t n = 1; n < kBlocks; ++n) {
        auto root = store.commit(n, block_with_probes(n));
        ASSERT_TRUE(root.has_value()) << root.error().message;
    }
    done.store(true);
    for (auto& t : readers) t.join();
    EXPECT_EQ(errors.load(), 0U);
    EXPECT_EQ(mismatches.load(), 0U);
    EXPECT_GT(reads.load(), 10'000U);
    std::cout << "[ readers  ] " << reads.load() << " reads by " << kReaders << " threads over "
              << kBlocks << " blocks, " << mismatches.load() << " mixed\n";
}

}  // namespace
}  // namespace pel::state
