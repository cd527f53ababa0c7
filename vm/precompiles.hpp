// SPDX-License-Identifier: Apache-2.0
// Cancun precompiled contracts 0x01-0x0a and EIP-4844 blob KZG proof verification. Pure
// functions of their input; thread safe.
#pragma once

#include <cstddef>
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

// --- EIP-4844 blobs (consensus-specs deneb polynomial-commitments.md) ----------------------------

/// FIELD_ELEMENTS_PER_BLOB and BYTES_PER_BLOB: a blob is 4096 32-byte big-endian field elements.
inline constexpr size_t kFieldElementsPerBlob = 4096;
inline constexpr size_t kBytesPerBlob = 32 * kFieldElementsPerBlob;
/// BYTES_PER_COMMITMENT and BYTES_PER_PROOF: compressed G1 points (ZCash encoding).
inline constexpr size_t kBytesPerKzgCommitment = 48;
inline constexpr size_t kBytesPerKzgProof = 48;

/// verify_blob_kzg_proof: whether `proof` shows that `commitment` commits to the polynomial whose
/// evaluations over the bit-reversed 4096th roots of unity are the elements of `blob`, checked at
/// the Fiat-Shamir challenge derived from blob and commitment with the mainnet trusted setup.
/// nullopt when the spec's asserts fail: a size (blob kBytesPerBlob, commitment and proof 48
/// bytes), a field element not below r (BLS_MODULUS), or a commitment or proof that is not a
/// canonical compressed encoding of a point on the curve in the subgroup G1. Costs about a
/// pairing check plus 4096 field multiplications in a few passes; nothing is cached per call.
/// Thread safe (the roots of unity are built once, on first use).
[[nodiscard]] std::optional<bool> verify_blob_kzg_proof(ByteView blob, ByteView commitment,
                                                        ByteView proof) noexcept;

/// kzg_to_versioned_hash of EIP-4844: 0x01 (VERSIONED_HASH_VERSION_KZG) || sha256(commitment)[1:].
/// A KZG commitment is 48 bytes; the hash is taken over `commitment` whatever its size. Aborts
/// (PEL_ASSERT) only if OpenSSL cannot compute SHA-256. Thread safe.
[[nodiscard]] Hash32 kzg_to_versioned_hash(ByteView commitment) noexcept;

/// Test hook: evaluate_polynomial_in_evaluation_form of the spec for `blob` (kBytesPerBlob bytes)
/// at `z` (32 bytes big endian): 32 big-endian bytes, or empty when a size is wrong or z or an
/// element of the blob is not below r.
[[nodiscard]] Bytes test_evaluate_blob_polynomial(ByteView blob, ByteView z) noexcept;

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
