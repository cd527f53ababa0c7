// SPDX-License-Identifier: Apache-2.0
// Deterministic validator keys and a validator set for the consensus unit tests.
#pragma once

#include <string>
#include <vector>

#include "consensus/validator_set.hpp"
#include "primitives/keccak.hpp"
#include "primitives/secp256k1.hpp"

namespace pel::consensus::testing {

inline Hash32 test_key(size_t i) { return keccak256(as_bytes("unit-key-" + std::to_string(i))); }

inline Address test_address(size_t i) {
    auto a = crypto::address_from_secret(test_key(i));
    PEL_ASSERT(a.has_value(), "test key");
    return *a;
}

inline ValidatorSet test_validators(size_t n, uint64_t power = 1) {
    std::vector<Validator> vs;
    for (size_t i = 0; i < n; ++i) vs.push_back({test_address(i), power});
    auto set = make_validator_set(vs);
    PEL_ASSERT(set.has_value(), "test validator set");
    return *set;
}

inline constexpr uint64_t kTestChain = 99;

}  // namespace pel::consensus::testing
