// SPDX-License-Identifier: Apache-2.0
// Cancun precompiled contracts 0x01-0x0a. Pure functions of their input; thread safe.
#pragma once

#include <cstdint>
#include <optional>

#include "primitives/bytes.hpp"
#include "primitives/hash.hpp"

namespace pel::vm {

struct PrecompileResult {
    bool success = false;  ///< false: exceptional halt, all gas consumed
    int64_t gas_left = 0;
    Bytes output;
};

/// True for 0x01..0x0a.
[[nodiscard]] bool is_precompile(const Address& addr) noexcept;

/// Runs the precompile at `addr` with `gas`. Out of gas or invalid input: success == false.
[[nodiscard]] PrecompileResult run_precompile(const Address& addr, ByteView input,
                                              int64_t gas) noexcept;

/// Test hook: the curve constants built into the precompiles (BLS12-381 generators and the KZG
/// trusted-setup point [tau]G2) are valid group elements. Slow (scalar multiplications).
[[nodiscard]] bool test_precompile_constants_valid() noexcept;

/// Test hook: `point` (128 bytes, EIP-197 G2 encoding) lies on the bn254 twist and the fast G2
/// membership test used by 0x08 agrees with the definition [r]Q == O.
[[nodiscard]] bool test_bn254_g2_membership_agrees(ByteView point) noexcept;

/// Test hook: 0x07's GLV scalar multiplication of `point` (64 bytes, a valid G1 encoding) by
/// `scalar` (32 bytes) equals plain double-and-add.
[[nodiscard]] bool test_bn254_glv_matches(ByteView point, ByteView scalar) noexcept;

}  // namespace pel::vm
