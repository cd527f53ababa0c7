// SPDX-License-Identifier: Apache-2.0
// Private to vm/precompiles: the curve-specific halves of the precompiles in precompiles.cpp.
// Every function is a pure function of its input and thread safe.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "primitives/bytes.hpp"

namespace pel::vm::internal {

/// The order r of the BLS12-381 groups G1 and G2 (BLS_MODULUS of EIP-4844), 64-bit limbs least
/// significant first: the KZG scalar field of bls12_381.cpp and kzg.cpp.
inline constexpr std::array<uint64_t, 4> kBls12381Order{
    0xffffffff00000001ULL, 0x53bda402fffe5bfeULL, 0x3339d80809a1d805ULL, 0x73eda753299d7d48ULL};

/// 0x06: `in` is exactly 128 bytes (two G1 points). Writes 64 bytes; false on invalid points.
[[nodiscard]] bool bn254_add(const uint8_t* in, uint8_t* out) noexcept;

/// 0x07: `in` is exactly 96 bytes (a G1 point and a 256-bit scalar). Writes 64 bytes.
[[nodiscard]] bool bn254_mul(const uint8_t* in, uint8_t* out) noexcept;

/// 0x08: `in` holds k 192-byte (G1, G2) pairs. The product of the pairings is one, or nullopt
/// for invalid input (length, coordinates, curve or subgroup membership).
[[nodiscard]] std::optional<bool> bn254_pairing_check(ByteView in) noexcept;

/// 0x0a: KZG proof verification of EIP-4844 over BLS12-381. `commitment` and `proof` are 48-byte
/// compressed G1 points, `z` and `y` 32-byte big-endian field elements. nullopt: invalid
/// encoding (not canonical, not on the curve or not in the subgroup, z or y not below r).
[[nodiscard]] std::optional<bool> kzg_verify_proof(const uint8_t* commitment, const uint8_t* z,
                                                   const uint8_t* y, const uint8_t* proof) noexcept;

/// Test hook: for a 128-byte G2 encoding of a point on the twist, the fast G2 membership test
/// agrees with [r]Q == O. False for points off the curve.
[[nodiscard]] bool test_bn254_g2_checks_agree(const uint8_t* in) noexcept;

/// Test hook: GLV multiplication equals plain double-and-add for a 64-byte G1 point and a
/// 32-byte scalar. False for invalid points.
[[nodiscard]] bool test_bn254_glv_matches_double_and_add(const uint8_t* point,
                                                         const uint8_t* scalar) noexcept;

/// Self-check of the built-in BLS12-381 constants (generators, [tau]G2): on the curve and in the
/// subgroup. Backs vm::test_precompile_constants_valid().
[[nodiscard]] bool test_bls12_381_constants_valid() noexcept;

}  // namespace pel::vm::internal
