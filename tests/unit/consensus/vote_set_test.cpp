// SPDX-License-Identifier: Apache-2.0
#include "consensus/vote_set.hpp"

#include <gtest/gtest.h>

#include "tests/unit/consensus/test_keys.hpp"

namespace pel::consensus {
namespace {

using testing::kTestChain;
using testing::test_key;
using testing::test_validators;

Vote vote(size_t signer, std::optional<Hash32> id, Round round = 0) {
    return *make_vote(kTestChain, test_key(signer), VoteType::kPrevote, 1, round, id);
}

const Hash32 kA{{0xa}};
const Hash32 kB{{0xb}};

TEST(VoteSet, counts_power_per_value_and_detects_a_quorum) {
    const auto vs = test_validators(4);
    VoteSet set(vs, VoteType::kPrevote, 1, 0);
    EXPECT_EQ(set.add(0, vote(0, kA)), VoteSet::AddResult::kAdded);
    EXPECT_EQ(set.add(1, vote(1, kA)), VoteSet::AddResult::kAdded);
    EXPECT_FALSE(set.has_quorum_for(kA));
    EXPECT_FALSE(set.has_quorum_any());
    EXPECT_EQ(set.add(2, vote(2, std::nullopt)), VoteSet::AddResult::kAdded);
    EXPECT_TRUE(set.has_quorum_any());
    EXPECT_FALSE(set.has_quorum_for(kA));
    EXPECT_EQ(set.power_for(std::nullopt), 1U);
    EXPECT_EQ(set.add(3, vote(3, kA)), VoteSet::AddResult::kAdded);
    EXPECT_TRUE(set.has_quorum_for(kA));
    EXPECT_EQ(set.signatures_for(kA).size(), 3U);
    EXPECT_EQ(set.votes_for(kA).size(), 3U);
    EXPECT_EQ(set.count(), 4U);
}

TEST(VoteSet, duplicates_are_ignored) {
    const auto vs = test_validators(4);
    VoteSet set(vs, VoteType::kPrevote, 1, 0);
    EXPECT_EQ(set.add(0, vote(0, kA)), VoteSet::AddResult::kAdded);
    EXPECT_EQ(set.add(0, vote(0, kA)), VoteSet::AddResult::kDuplicate);
    EXPECT_EQ(set.power_for(kA), 1U);
    EXPECT_EQ(set.total_power(), 1U);
}

TEST(VoteSet, equivocation_is_reported_and_counted_once_per_value) {
    const auto vs = test_validators(4);
    VoteSet set(vs, VoteType::kPrevote, 1, 0);
    Equivocation ev;
    EXPECT_EQ(set.add(2, vote(2, kA)), VoteSet::AddResult::kAdded);
    EXPECT_EQ(set.add(2, vote(2, kB), &ev), VoteSet::AddResult::kEquivocation);
    EXPECT_EQ(ev.validator_index, 2U);
    EXPECT_EQ(ev.first.value_id, kA);
    EXPECT_EQ(ev.second.value_id, kB);
    // The equivocator counts towards each value it signed, but once in the total.
    EXPECT_EQ(set.power_for(kA), 1U);
    EXPECT_EQ(set.power_for(kB), 1U);
    EXPECT_EQ(set.total_power(), 1U);
    EXPECT_EQ(set.vote_of(2)->value_id, kA);
    EXPECT_EQ(set.add(2, vote(2, kB)), VoteSet::AddResult::kDuplicate);
    // Two quorums for different values are impossible with at most f equivocators:
    // 0 and 1 vote A; with the equivocator A has 3 = quorum, B has only 1.
    set.add(0, vote(0, kA));
    set.add(1, vote(1, kA));
    EXPECT_TRUE(set.has_quorum_for(kA));
    EXPECT_FALSE(set.has_quorum_for(kB));
}

TEST(VoteSet, an_equivocator_keeps_a_bounded_number_of_values) {
    const auto vs = test_validators(4);
    VoteSet set(vs, VoteType::kPrevote, 1, 0);
    for (uint8_t i = 0; i < 20; ++i) set.add(0, vote(0, Hash32{{i}}));
    size_t kept = 0;
    for (uint8_t i = 0; i < 20; ++i) kept += set.power_for(Hash32{{i}});
    EXPECT_EQ(kept, VoteSet::kMaxValuesPerValidator);
}

TEST(VoteSet, weighted_power) {
    auto vs = make_validator_set({{testing::test_address(0), 5},
                                  {testing::test_address(1), 1},
                                  {testing::test_address(2), 1},
                                  {testing::test_address(3), 1}});
    ASSERT_TRUE(vs.has_value());
    VoteSet set(*vs, VoteType::kPrevote, 1, 0);
    set.add(0, vote(0, kA));
    EXPECT_FALSE(set.has_quorum_for(kA));  // 5 of 8; quorum is 6
    set.add(1, vote(1, kA));
    EXPECT_TRUE(set.has_quorum_for(kA));
}

}  // namespace
}  // namespace pel::consensus
