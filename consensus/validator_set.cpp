// SPDX-License-Identifier: Apache-2.0
#include "consensus/validator_set.hpp"

#include <algorithm>
#include <utility>

#include "consensus/message.hpp"

namespace pel::consensus {

std::optional<size_t> ValidatorSet::index_of(const Address& a) const noexcept {
    // Validator sets are small (at most kMaxValidators); a linear scan beats a map here.
    for (size_t i = 0; i < validators_.size(); ++i) {
        if (validators_[i].address == a) return i;
    }
    return std::nullopt;
}

size_t ValidatorSet::proposer(Height height, Round round) const noexcept {
    PEL_ASSERT(round >= 0 && !validators_.empty(), "proposer of a negative round or empty set");
    const uint64_t n = validators_.size();
    return static_cast<size_t>((height % n + static_cast<uint64_t>(round) % n) % n);
}

Result<ValidatorSet> make_validator_set(std::vector<Validator> validators) {
    if (validators.empty()) {
        return make_error("consensus: empty validator set");
    }
    if (validators.size() > kMaxValidators) {
        return make_error("consensus: ", validators.size(), " validators, at most ",
                          kMaxValidators);
    }
    constexpr uint64_t kMaxTotal = uint64_t{1} << 62;
    ValidatorSet set;
    for (size_t i = 0; i < validators.size(); ++i) {
        const Validator& v = validators[i];
        if (v.address.is_zero()) {
            return make_error("consensus: validator ", i, " has the zero address");
        }
        if (v.power == 0) {
            return make_error("consensus: validator ", i, " (", v.address.to_hex(),
                              ") has zero voting power");
        }
        if (v.power > kMaxTotal - set.total_) {
            return make_error("consensus: total voting power overflows at validator ", i);
        }
        for (size_t j = 0; j < i; ++j) {
            if (validators[j].address == v.address) {
                return make_error("consensus: validator ", i, " repeats the address ",
                                  v.address.to_hex(), " of validator ", j);
            }
        }
        set.total_ += v.power;
    }
    set.validators_ = std::move(validators);
    return set;
}

}  // namespace pel::consensus
