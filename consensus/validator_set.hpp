// SPDX-License-Identifier: Apache-2.0
// The fixed validator set from genesis: addresses with voting power, the quorum thresholds and
// the proposer rotation.
//
// Invariants (established by make_validator_set, never changed afterwards):
//  - 1 <= size() <= kMaxValidators; addresses are unique and non-zero; every power is >= 1;
//    the total power fits in 63 bits.
//  - quorum_power() = floor(2 * total / 3) + 1: the smallest power strictly above 2/3 of the
//    total ("2f+1"). With n = 3f+1 validators of power 1 this is exactly 2f+1.
//  - skip_power() = floor(total / 3) + 1: the smallest power strictly above 1/3 ("f+1"); any set
//    this large contains at least one honest validator.
//  - Two quorums always intersect in more than 1/3 of the power, i.e. in an honest validator
//    while faulty power stays at most f: the basis of Tendermint's safety.
// Thread safety: immutable after construction; share freely.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "consensus/types.hpp"
#include "primitives/assert.hpp"
#include "primitives/hash.hpp"
#include "primitives/result.hpp"

namespace pel::consensus {

struct Validator {
    Address address;
    uint64_t power = 1;

    friend bool operator==(const Validator&, const Validator&) = default;
};

class ValidatorSet {
  public:
    ValidatorSet() = default;

    [[nodiscard]] size_t size() const noexcept { return validators_.size(); }
    /// The validator at `index`; an index out of range is a bug (asserts, never throws).
    [[nodiscard]] const Validator& at(size_t index) const {
        PEL_ASSERT(index < validators_.size(), "validator index out of range");
        return validators_[index];
    }
    [[nodiscard]] const std::vector<Validator>& validators() const noexcept { return validators_; }
    /// Index of a validator by address, nullopt if it is not a member.
    [[nodiscard]] std::optional<size_t> index_of(const Address& a) const noexcept;

    [[nodiscard]] uint64_t total_power() const noexcept { return total_; }
    /// Power strictly above 2/3 of the total (the paper's 2f+1).
    [[nodiscard]] uint64_t quorum_power() const noexcept { return total_ * 2 / 3 + 1; }
    /// Power strictly above 1/3 of the total (the paper's f+1).
    [[nodiscard]] uint64_t skip_power() const noexcept { return total_ / 3 + 1; }
    /// Faulty validators tolerated by count: f = floor((n - 1) / 3).
    [[nodiscard]] size_t max_faulty() const noexcept { return (validators_.size() - 1) / 3; }

    /// proposer(height, round): round robin over the validators in the order given (pel-node
    /// gives them in ascending address order, the order its genesis commits to), shifted by
    /// the height so that round 0 of consecutive heights has different proposers. Rotation is by
    /// count, not weighted by power (every genesis validator proposes equally often).
    [[nodiscard]] size_t proposer(Height height, Round round) const noexcept;

    friend Result<ValidatorSet> make_validator_set(std::vector<Validator> validators);

  private:
    std::vector<Validator> validators_;
    uint64_t total_ = 0;
};

/// Validates and builds a set (invariants above). Errors name the offending entry.
[[nodiscard]] Result<ValidatorSet> make_validator_set(std::vector<Validator> validators);

}  // namespace pel::consensus
