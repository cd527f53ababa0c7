// SPDX-License-Identifier: Apache-2.0
// sort_by_spread_key sorts exactly as std::sort with the same order would, whatever the spread of
// the keys: hash-like keys, keys all equal (ties decided by the tie-break alone), keys packed in a
// narrow range, two clusters far apart, the extremes of uint64_t, sizes around its small-input
// cut-off, and duplicates of whole items. entries_by_spread_key visits a map in key order.
#include "primitives/sorted.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <random>
#include <unordered_map>
#include <vector>

#include <gtest/gtest.h>

namespace pel {
namespace {

struct Item {
    uint64_t key;
    uint32_t tie;
    friend bool operator==(const Item&, const Item&) = default;
};

bool tie_less(const Item& a, const Item& b) { return a.tie < b.tie; }

std::vector<Item> sorted_both_ways(std::vector<Item> items) {
    std::vector<Item> expected = items;
    std::sort(expected.begin(), expected.end(), [](const Item& a, const Item& b) {
        return a.key != b.key ? a.key < b.key : a.tie < b.tie;
    });
    std::vector<Item> scratch;
    sort_by_spread_key(items, scratch, tie_less);
    EXPECT_EQ(items, expected);
    return items;
}

std::vector<Item> make(size_t n, std::mt19937_64& rng, uint64_t (*key)(std::mt19937_64&, size_t)) {
    std::vector<Item> v(n);
    for (size_t i = 0; i < n; ++i) {
        v[i] = Item{key(rng, i), static_cast<uint32_t>(rng() % 1000)};
    }
    return v;
}

TEST(SortBySpreadKey, hash_like_keys_at_many_sizes) {
    std::mt19937_64 rng(1);
    for (const size_t n : {0U, 1U, 2U, 17U, 63U, 64U, 65U, 100U, 1000U, 5000U}) {
        sorted_both_ways(make(n, rng, [](std::mt19937_64& r, size_t) { return r(); }));
    }
}

TEST(SortBySpreadKey, equal_keys_are_ordered_by_the_tie_break) {
    std::mt19937_64 rng(2);
    sorted_both_ways(make(3000, rng, [](std::mt19937_64&, size_t) { return uint64_t{42}; }));
}

TEST(SortBySpreadKey, skewed_spreads) {
    std::mt19937_64 rng(3);
    // A narrow range (fewer distinct keys than items).
    sorted_both_ways(make(2000, rng, [](std::mt19937_64& r, size_t) { return 1000 + r() % 50; }));
    // Two clusters at the ends of the range: nearly every item in the first and last bucket.
    sorted_both_ways(make(2000, rng, [](std::mt19937_64& r, size_t i) {
        return i % 2 == 0 ? r() % 100 : std::numeric_limits<uint64_t>::max() - r() % 100;
    }));
    // The extremes themselves, and a run of consecutive keys.
    sorted_both_ways(make(500, rng, [](std::mt19937_64& r, size_t) {
        return r() % 2 == 0 ? uint64_t{0} : std::numeric_limits<uint64_t>::max();
    }));
    sorted_both_ways(make(700, rng, [](std::mt19937_64&, size_t i) { return uint64_t{700 - i}; }));
}

TEST(SortBySpreadKey, duplicate_items_are_kept) {
    std::mt19937_64 rng(4);
    std::vector<Item> v = make(300, rng, [](std::mt19937_64& r, size_t) { return r() % 7; });
    v.insert(v.end(), v.begin(), v.end());
    const std::vector<Item> out = sorted_both_ways(v);
    EXPECT_EQ(out.size(), 600U);
}

TEST(EntriesBySpreadKey, visits_a_map_in_key_order) {
    std::mt19937_64 rng(5);
    std::unordered_map<uint64_t, int> map;
    for (int i = 0; i < 4000; ++i) {
        map[rng() >> (i % 3 == 0 ? 40 : 0)] = i;  // some keys crowd the low end
    }
    const auto order = entries_by_spread_key(map, [](uint64_t k) { return k; });
    ASSERT_EQ(order.size(), map.size());
    for (size_t i = 1; i < order.size(); ++i) {
        EXPECT_LT(order[i - 1]->first, order[i]->first);
    }
}

}  // namespace
}  // namespace pel
