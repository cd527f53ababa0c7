// SPDX-License-Identifier: Apache-2.0
// Helpers shared by the execution tests.
#pragma once

#include <cstdint>

#include "primitives/hash.hpp"

namespace pel::exec::test {

/// The address 0x00..00nn.
[[nodiscard]] inline Address addr(uint8_t n) {
    Address a;
    a.bytes[19] = n;
    return a;
}

}  // namespace pel::exec::test
