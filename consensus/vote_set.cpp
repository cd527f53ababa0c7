// SPDX-License-Identifier: Apache-2.0
#include "consensus/vote_set.hpp"

namespace pel::consensus {

VoteSet::VoteSet(const ValidatorSet& validators, VoteType type, Height height, Round round)
    : validators_(&validators),
      type_(type),
      height_(height),
      round_(round),
      first_(validators.size()),
      values_of_(validators.size(), 0) {}

VoteSet::AddResult VoteSet::add(size_t index, const Vote& vote, Equivocation* evidence) {
    PEL_ASSERT(index < first_.size(), "vote from a validator index out of range");
    PEL_ASSERT(vote.type == type_ && vote.height == height_ && vote.round == round_,
               "vote added to the wrong vote set");
    auto existing = by_value_.find(vote.value_id);
    if (existing != by_value_.end() && existing->second.by_validator.count(index) != 0) {
        return AddResult::kDuplicate;
    }
    const uint64_t p = validators_->at(index).power;
    auto& first = first_[index];
    if (first) {
        if (evidence != nullptr) *evidence = Equivocation{index, *first, vote};
        if (values_of_[index] >= kMaxValuesPerValidator) return AddResult::kEquivocation;
    } else {
        first = vote;
        total_ += p;
        ++count_;
    }
    ++values_of_[index];
    auto& vv = by_value_[vote.value_id];
    vv.power += p;
    vv.by_validator.emplace(index, vote);
    return values_of_[index] == 1 ? AddResult::kAdded : AddResult::kEquivocation;
}

uint64_t VoteSet::power_for(const std::optional<Hash32>& value_id) const noexcept {
    const auto it = by_value_.find(value_id);
    return it == by_value_.end() ? 0 : it->second.power;
}

bool VoteSet::has_quorum_for(const std::optional<Hash32>& value_id) const noexcept {
    return power_for(value_id) >= validators_->quorum_power();
}

bool VoteSet::has_quorum_any() const noexcept { return total_ >= validators_->quorum_power(); }

const Vote* VoteSet::vote_of(size_t index) const noexcept {
    if (index >= first_.size() || !first_[index]) return nullptr;
    return &*first_[index];
}

std::vector<crypto::Signature> VoteSet::signatures_for(const Hash32& value_id) const {
    std::vector<crypto::Signature> out;
    const auto it = by_value_.find(value_id);
    if (it == by_value_.end()) return out;
    for (const auto& [idx, v] : it->second.by_validator) out.push_back(v.signature);
    return out;
}

std::vector<Vote> VoteSet::votes_for(const std::optional<Hash32>& value_id) const {
    std::vector<Vote> out;
    const auto it = by_value_.find(value_id);
    if (it == by_value_.end()) return out;
    for (const auto& [idx, v] : it->second.by_validator) out.push_back(v);
    return out;
}

std::vector<Vote> VoteSet::all_votes() const {
    std::vector<Vote> out;
    for (const auto& [value, vv] : by_value_) {
        for (const auto& [idx, v] : vv.by_validator) out.push_back(v);
    }
    return out;
}

}  // namespace pel::consensus
