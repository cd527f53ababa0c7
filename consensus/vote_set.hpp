// SPDX-License-Identifier: Apache-2.0
// The votes of one (height, round, type): who voted for what, the power behind each value, and
// equivocation evidence (one validator, two different votes in the same set).
//
// Counting. "2f+1 votes for v" means: validators holding a quorum of power signed a vote for v.
// An equivocating validator that signed votes for v and for w counts towards both (its first
// vote is kept for vote_of()); total_power() counts each validator once. This is safe (two
// quorums for different values share more than f power, so some honest validator would have
// signed both, which no honest validator does) and it is needed for liveness: a proof of lock
// gossiped to us may include a Byzantine validator's vote for v although that validator sent us
// a vote for w (Tendermint's implementation keeps such votes too, via its peer-maj23 claims).
//
// Invariants:
//  - a validator's votes for distinct values are counted once each; the same value twice is a
//    duplicate; at most kMaxValuesPerValidator distinct values are kept per validator (a bound
//    on memory; further conflicting votes are reported but not kept);
//  - power_for(x) = sum of the powers of validators with a kept vote for x (nil included) and
//    total_power() = sum over validators with at least one kept vote; both only grow;
//  - every vote stored has the set's height, round and type and a signature already verified by
//    the caller (the engine) to come from validators.at(index).
// Thread safety: none (owned by the single-threaded engine).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "consensus/message.hpp"
#include "consensus/validator_set.hpp"

namespace pel::consensus {

/// Two conflicting signed votes from one validator: proof of Byzantine behaviour.
struct Equivocation {
    size_t validator_index = 0;
    Vote first;
    Vote second;
};

class VoteSet {
  public:
    static constexpr size_t kMaxValuesPerValidator = 8;

    enum class AddResult : uint8_t {
        kAdded,         ///< counted
        kDuplicate,     ///< a vote for a value this validator already voted for: ignored
        kEquivocation,  ///< a vote for another value than this validator's earlier vote(s)
    };

    VoteSet(const ValidatorSet& validators, VoteType type, Height height, Round round);

    /// Adds a vote already verified to be signed by validators.at(index). On kEquivocation the
    /// evidence (first vote, this vote) is written to `evidence` if given. Asserts (a bug, not
    /// input) that the vote belongs to this set and that index is in range.
    AddResult add(size_t index, const Vote& vote, Equivocation* evidence = nullptr);

    [[nodiscard]] uint64_t power_for(const std::optional<Hash32>& value_id) const noexcept;
    [[nodiscard]] uint64_t total_power() const noexcept { return total_; }
    [[nodiscard]] bool has_quorum_for(const std::optional<Hash32>& value_id) const noexcept;
    [[nodiscard]] bool has_quorum_any() const noexcept;
    /// The first vote received from a validator, if any.
    [[nodiscard]] const Vote* vote_of(size_t index) const noexcept;
    /// Signatures of the votes for `value_id`, in validator-index order.
    [[nodiscard]] std::vector<crypto::Signature> signatures_for(const Hash32& value_id) const;
    /// The votes for `value_id` (nil included), in validator-index order.
    [[nodiscard]] std::vector<Vote> votes_for(const std::optional<Hash32>& value_id) const;
    /// Every kept vote (equivocating ones included), grouped by value.
    [[nodiscard]] std::vector<Vote> all_votes() const;
    /// Number of validators with at least one vote here.
    [[nodiscard]] size_t count() const noexcept { return count_; }

  private:
    struct ValueVotes {
        uint64_t power = 0;
        std::map<size_t, Vote> by_validator;
    };
    const ValidatorSet* validators_;
    VoteType type_;
    Height height_;
    Round round_;
    std::vector<std::optional<Vote>> first_;  // by validator index
    std::vector<uint8_t> values_of_;          // distinct values kept, by validator index
    std::map<std::optional<Hash32>, ValueVotes> by_value_;
    uint64_t total_ = 0;
    size_t count_ = 0;
};

}  // namespace pel::consensus
