// SPDX-License-Identifier: Apache-2.0
// json_identical: two nlohmann values equal with equal types at every node. nlohmann's == treats
// 0 and 0u, 1 and 1.0 as equal, and -0.0 as 0.0; parse_json must match nlohmann's parse exactly.
// Used by the parse_json unit tests and the RPC fuzzer.
#pragma once

#include <cstddef>

#include <nlohmann/json.hpp>

namespace pel::node::test {

inline bool json_identical(const nlohmann::json& a, const nlohmann::json& b) {
    if (a.type() != b.type() || a.size() != b.size()) {
        return false;
    }
    if (a.is_array()) {
        for (size_t i = 0; i < a.size(); ++i) {
            if (!json_identical(a[i], b[i])) {
                return false;
            }
        }
        return true;
    }
    if (a.is_object()) {
        for (auto it = a.begin(); it != a.end(); ++it) {
            const auto other = b.find(it.key());
            if (other == b.end() || !json_identical(it.value(), *other)) {
                return false;
            }
        }
        return true;
    }
    return a.is_number_float() ? a.dump() == b.dump() : a == b;
}

}  // namespace pel::node::test
