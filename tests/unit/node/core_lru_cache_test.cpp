// SPDX-License-Identifier: Apache-2.0
#include <cstdint>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "node/lru_cache.hpp"

namespace pel::node {
namespace {

using Cache = LruCache<uint64_t, std::string>;

std::shared_ptr<const std::string> val(const std::string& s) {
    return std::make_shared<const std::string>(s);
}

TEST(LruCache, GetReturnsWhatWasPutAndNullForAbsentKeys) {
    Cache c(4, 100);
    EXPECT_EQ(c.get(1), nullptr);
    c.put(1, val("one"), 1);
    ASSERT_NE(c.get(1), nullptr);
    EXPECT_EQ(*c.get(1), "one");
    c.put(1, val("uno"), 3);
    EXPECT_EQ(*c.get(1), "uno");
    EXPECT_EQ(c.size(), 1U);
    EXPECT_EQ(c.weight(), 3U);
}

TEST(LruCache, ClearDropsEveryEntryAndItsWeight) {
    Cache c(4, 100);
    c.put(1, val("one"), 5);
    c.put(2, val("two"), 7);
    c.clear();
    EXPECT_EQ(c.size(), 0U);
    EXPECT_EQ(c.weight(), 0U);
    EXPECT_EQ(c.get(1), nullptr);
    c.put(2, val("deux"), 1);  // usable afterwards
    EXPECT_EQ(*c.get(2), "deux");
    EXPECT_EQ(c.weight(), 1U);
}

TEST(LruCache, EvictsTheLeastRecentlyUsedNotTheLowestKey) {
    Cache c(3, 100);
    c.put(10, val("a"), 1);
    c.put(20, val("b"), 1);
    c.put(30, val("c"), 1);
    ASSERT_NE(c.get(10), nullptr);  // 20 is now the least recently used
    c.put(5, val("d"), 1);          // a lower key than all: still kept
    EXPECT_EQ(c.get(20), nullptr);
    EXPECT_NE(c.get(10), nullptr);
    EXPECT_NE(c.get(30), nullptr);
    EXPECT_NE(c.get(5), nullptr);
    EXPECT_EQ(c.size(), 3U);
}

TEST(LruCache, ASequentialSweepOfOldKeysKeepsEachLoadedKey) {
    // A reader walking old blocks in order must find the block it just loaded on its next read.
    Cache c(1000, 8);
    for (uint64_t k = 100; k < 108; ++k) c.put(k, val("new"), 1);
    for (uint64_t k = 0; k < 20; ++k) {
        c.put(k, val("old"), 1);
        EXPECT_NE(c.get(k), nullptr) << k;
    }
    EXPECT_EQ(c.weight(), 8U);
}

TEST(LruCache, WeightBoundEvictsSeveralButKeepsTheEntryJustPut) {
    Cache c(100, 10);
    c.put(1, val("a"), 4);
    c.put(2, val("b"), 4);
    c.put(3, val("c"), 6);  // 14 > 10: 1 goes, then 8 + ... = 10 fits
    EXPECT_EQ(c.get(1), nullptr);
    EXPECT_NE(c.get(2), nullptr);
    EXPECT_NE(c.get(3), nullptr);
    EXPECT_EQ(c.weight(), 10U);
    c.put(4, val("huge"), 50);  // heavier than the bound alone: everything else goes, it stays
    EXPECT_EQ(c.size(), 1U);
    EXPECT_NE(c.get(4), nullptr);
    EXPECT_EQ(c.weight(), 50U);
    c.put(4, val("small"), 2);  // replacing updates the weight
    EXPECT_EQ(c.weight(), 2U);
}

TEST(LruCache, EntryBoundKeepsTheNewestEntries) {
    Cache c(2, 1000);
    for (uint64_t k = 1; k <= 5; ++k) c.put(k, val(std::to_string(k)), 0);
    EXPECT_EQ(c.size(), 2U);
    for (uint64_t k = 1; k <= 3; ++k) EXPECT_EQ(c.get(k), nullptr) << k;
    EXPECT_EQ(*c.get(4), "4");
    EXPECT_EQ(*c.get(5), "5");
}

}  // namespace
}  // namespace pel::node
