// SPDX-License-Identifier: Apache-2.0
// exec::internal::VersionTable / VersionChain against std::map and std::vector as oracles.
#include "execution/internal/version_table.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace pel::exec::internal {
namespace {

struct Entry {
    uint32_t txn_idx = 0;
    uint64_t value = 0;
    friend bool operator==(const Entry&, const Entry&) = default;
};

/// Few distinct low bits: keys collide in the cells, so probing is exercised.
struct PoorHash {
    size_t operator()(uint64_t k) const noexcept { return static_cast<size_t>(k % 7); }
};

using Table = VersionTable<uint64_t, Entry, PoorHash, std::equal_to<>>;

std::vector<Entry> entries(const Table::Chain& c) { return {c.begin(), c.end()}; }

TEST(VersionTable, finds_inserts_and_grows_like_a_map) {
    ReusableArena arena;
    Table table;
    table.reset(arena);
    std::map<uint64_t, std::vector<Entry>> oracle;
    std::mt19937_64 rng(7);
    std::vector<const Table::Chain*> first_seen;
    for (uint32_t i = 0; i < 5000; ++i) {
        const uint64_t key = rng() % 1500;
        auto& chain = table.find_or_insert(key);
        EXPECT_EQ(chain.key(), key);
        chain.push_back(Entry{i, key * 3 + i}, arena);
        oracle[key].push_back(Entry{i, key * 3 + i});
        if (oracle[key].size() == 1) {
            first_seen.push_back(&chain);
        }
    }
    EXPECT_EQ(table.size(), oracle.size());
    for (const auto& [key, want] : oracle) {
        const Table::Chain* c = table.find(key);
        ASSERT_NE(c, nullptr) << key;
        EXPECT_EQ(entries(*c), want) << key;
        EXPECT_EQ(c->back(), want.back());
    }
    EXPECT_EQ(table.find(1500), nullptr);
    EXPECT_EQ(table.find(99999), nullptr);
    // Chains never move as the table grows.
    for (const Table::Chain* c : first_seen) {
        EXPECT_EQ(table.find(c->key()), c);
    }
    size_t visited = 0;
    EXPECT_TRUE(table.all_of([&](const Table::Chain& c) {
        ++visited;
        return entries(c) == oracle.at(c.key());
    }));
    EXPECT_EQ(visited, oracle.size());
    EXPECT_FALSE(table.all_of([](const Table::Chain&) { return false; }));
}

TEST(VersionTable, reset_empties_the_table_for_the_next_block) {
    ReusableArena arena;
    Table table;
    table.reset(arena);
    for (uint64_t k = 0; k < 100; ++k) {
        table.find_or_insert(k).push_back(Entry{1, k}, arena);
    }
    arena.rewind();
    table.reset(arena);
    EXPECT_EQ(table.size(), 0U);
    for (uint64_t k = 0; k < 100; ++k) {
        EXPECT_EQ(table.find(k), nullptr);
    }
    auto& c = table.find_or_insert(5);
    EXPECT_TRUE(c.empty());
}

TEST(VersionTable, chains_come_from_the_arena_the_insert_names) {
    // MvMemory's tables take their cells from the shard's arena and each chain from the arena
    // of the worker that wrote its first entry.
    ReusableArena cells;
    std::array<ReusableArena, 2> workers;
    Table table;
    table.reset(cells);
    std::map<uint64_t, std::vector<Entry>> oracle;
    for (uint32_t i = 0; i < 600; ++i) {
        const uint64_t key = (i * 7919U) % 200;  // every key three times
        ReusableArena& a = workers[i % 2];
        auto& chain = table.find_or_insert(key, PoorHash{}(key), a);
        if (oracle[key].empty()) {
            // The chain lies just below the worker arena's cursor (one chunk: far less than its
            // 64 KiB is used here).
            const auto* at = reinterpret_cast<const std::byte*>(&chain);
            const auto* next = static_cast<const std::byte*>(a.next_free());
            EXPECT_LT(at, next);
            EXPECT_GE(at + 65536, next);
        }
        chain.push_back(Entry{i, key + i}, a);  // growth from the writer's arena too
        oracle[key].push_back(Entry{i, key + i});
    }
    ASSERT_EQ(table.size(), oracle.size());
    for (const auto& [key, want] : oracle) {
        const Table::Chain* c = table.find(key);
        ASSERT_NE(c, nullptr) << key;
        EXPECT_EQ(entries(*c), want) << key;
    }
}

TEST(VersionChain, insert_and_erase_anywhere_match_a_vector) {
    ReusableArena arena;
    Table table;
    table.reset(arena);
    auto& chain = table.find_or_insert(1);
    std::vector<Entry> oracle;
    std::mt19937 rng(3);
    for (int step = 0; step < 3000; ++step) {
        const bool erase = !oracle.empty() && rng() % 3 == 0;
        if (erase) {
            const size_t at = rng() % oracle.size();
            chain.erase(chain.begin() + at);
            oracle.erase(oracle.begin() + static_cast<std::ptrdiff_t>(at));
        } else {
            const size_t at = rng() % (oracle.size() + 1);
            const Entry e{static_cast<uint32_t>(step), rng()};
            chain.insert(chain.begin() + at, e, arena);
            oracle.insert(oracle.begin() + static_cast<std::ptrdiff_t>(at), e);
        }
        ASSERT_EQ(entries(chain), oracle) << "step " << step;
    }
    // Reverse iteration sees the same entries from the newest down.
    std::vector<Entry> reversed(chain.rbegin(), chain.rend());
    std::reverse(reversed.begin(), reversed.end());
    EXPECT_EQ(reversed, oracle);
}

}  // namespace
}  // namespace pel::exec::internal
