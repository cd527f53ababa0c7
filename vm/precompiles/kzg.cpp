// SPDX-License-Identifier: Apache-2.0
// EIP-4844 blob verification: verify_blob_kzg_proof of consensus-specs deneb
// polynomial-commitments.md, built on the KZG check of bls12_381.cpp, and kzg_to_versioned_hash.
//
// Spec map (the spec's asserts are the nullopt results):
//  - blob_to_polynomial: a blob is FIELD_ELEMENTS_PER_BLOB = 4096 big-endian 32-byte elements,
//    each below r (BLS_MODULUS).
//  - compute_challenge: z = int(sha256(b"FSBLOBVERIFY_V1_" || to_bytes(4096, 16, "big") || blob
//    || commitment), "big") % r.
//  - evaluate_polynomial_in_evaluation_form: element i is p(w_i), w_i = roots_of_unity_brp[i], the
//    powers of omega = 7^((r - 1)/4096) (PRIMITIVE_ROOT_OF_UNITY) in bit-reversed order. p(z) is
//    (z^4096 - 1)/4096 * sum_i p(w_i) w_i/(z - w_i), or p(w_i) itself when z = w_i.
//  - bytes_to_kzg_commitment, bytes_to_kzg_proof and verify_kzg_proof_impl(commitment, z, p(z),
//    proof): internal::kzg_verify_proof. The spec validates the commitment before the evaluation;
//    here it is validated after, which changes only what a bad commitment costs, not the result.
//
// Invariants: every Fr value is in Montgomery form and below r. The roots table is built once
// (function-local static, so initialisation is thread safe) and is read-only afterwards; it holds
// omega^k at index reverse_bits(k), and omega has order exactly 4096 (asserted when it is built).
// Each call keeps its scratch space (the batch inversion's prefix products) to itself.
#include <array>
#include <initializer_list>
#include <string_view>
#include <vector>

#include <openssl/evp.h>

#include "primitives/assert.hpp"
#include "primitives/transaction.hpp"
#include "vm/precompiles.hpp"
#include "vm/precompiles/field.hpp"
#include "vm/precompiles/internal.hpp"

namespace pel::vm {
namespace internal {
namespace {

struct BlsScalarCfg {
    static constexpr size_t kLimbs = 4;
    static constexpr Limbs<4> kModulus = kBls12381Order;
};

/// The BLS12-381 scalar field (BLSFieldElement).
using Fr = Fp<BlsScalarCfg>;

constexpr size_t kLogWidth = 12;
static_assert(kFieldElementsPerBlob == size_t{1} << kLogWidth);
static_assert(kBytesPerBlob == 32 * kFieldElementsPerBlob);
// The sidecar sizes the transaction codec checks (primitives/transaction.hpp).
static_assert(kBytesPerBlob == kBlobBytes && kBytesPerKzgCommitment == kKzgBytes &&
              kBytesPerKzgProof == kKzgBytes);

/// reverse_bits(k, 4096) of the spec.
constexpr size_t reverse_bits(size_t k) noexcept {
    size_t r = 0;
    for (size_t i = 0; i < kLogWidth; ++i) {
        r = (r << 1) | ((k >> i) & 1);
    }
    return r;
}
static_assert(reverse_bits(1) == 2048 && reverse_bits(2) == 1024 && reverse_bits(4095) == 4095);

/// roots_of_unity_brp and 1/4096, computed once.
class RootsOfUnity {
  public:
    RootsOfUnity() noexcept {
        Limbs<4> e = kBls12381Order;
        e[0] -= 1;  // r - 1; r is odd, so no borrow
        const Fr omega = Fr::from_u64(7).pow(limbs_div_small(e, kFieldElementsPerBlob));
        Fr w = Fr::one();
        for (size_t k = 0; k < kFieldElementsPerBlob; ++k) {
            brp_[reverse_bits(k)] = w;
            w *= omega;
        }
        // omega^4096 = 1 and omega^2048 = -1 (stored at reverse_bits(2048) = 1): order 4096.
        PEL_ASSERT(w == Fr::one() && brp_[1] == -Fr::one(), "omega is not a 4096th root of unity");
        inv_width_ = Fr::from_u64(kFieldElementsPerBlob).inv();
    }

    [[nodiscard]] const Fr& operator[](size_t i) const noexcept { return brp_[i]; }
    [[nodiscard]] const Fr& inv_width() const noexcept { return inv_width_; }

  private:
    std::array<Fr, kFieldElementsPerBlob> brp_{};
    Fr inv_width_;
};

const RootsOfUnity& roots_of_unity() noexcept {
    static const RootsOfUnity roots;
    return roots;
}

/// SHA-256 of the concatenation of `parts`. OpenSSL fails here only when it cannot allocate or
/// its providers are broken, which is an environment fault, not bad input.
void sha256(std::initializer_list<ByteView> parts, uint8_t* out) noexcept {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    bool ok = ctx != nullptr && EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) == 1;
    for (const ByteView part : parts) {
        ok = ok && EVP_DigestUpdate(ctx, part.data(), part.size()) == 1;
    }
    unsigned int len = 0;
    ok = ok && EVP_DigestFinal_ex(ctx, out, &len) == 1 && len == 32;
    EVP_MD_CTX_free(ctx);
    PEL_ASSERT(ok, "OpenSSL SHA-256 failed");
}

/// Element i of a blob as canonical limbs (not yet checked against r).
Limbs<4> element(const uint8_t* blob, size_t i) noexcept {
    return limbs_from_be<4>(blob + 32 * i);  // NOLINT
}

/// blob_to_polynomial's check: every element is below r.
bool blob_is_canonical(const uint8_t* blob) noexcept {
    for (size_t i = 0; i < kFieldElementsPerBlob; ++i) {
        if (limbs_geq(element(blob, i), kBls12381Order)) {
            return false;
        }
    }
    return true;
}

/// compute_challenge as canonical limbs (below r).
Limbs<4> compute_challenge(const uint8_t* blob, const uint8_t* commitment) noexcept {
    constexpr std::string_view kDomain = "FSBLOBVERIFY_V1_";
    static_assert(kDomain.size() == 16 && kFieldElementsPerBlob <= 0xffff);
    // FIAT_SHAMIR_PROTOCOL_DOMAIN || int.to_bytes(FIELD_ELEMENTS_PER_BLOB, 16, "big").
    std::array<uint8_t, 32> head{};
    for (size_t i = 0; i < kDomain.size(); ++i) {
        head[i] = static_cast<uint8_t>(kDomain[i]);
    }
    head[30] = static_cast<uint8_t>(kFieldElementsPerBlob >> 8);
    head[31] = static_cast<uint8_t>(kFieldElementsPerBlob & 0xff);
    std::array<uint8_t, 32> digest{};
    sha256({ByteView{head}, ByteView{blob, kBytesPerBlob},
            ByteView{commitment, kBytesPerKzgCommitment}},
           digest.data());
    // hash_to_bls_field: the digest mod r; 2^256 < 3r, so at most two subtractions.
    Limbs<4> z = limbs_from_be<4>(digest.data());
    while (limbs_geq(z, kBls12381Order)) {
        limbs_sub(z, kBls12381Order);
    }
    return z;
}

/// evaluate_polynomial_in_evaluation_form for a canonical blob at z.
Fr evaluate(const uint8_t* blob, const Fr& z) noexcept {
    const RootsOfUnity& w = roots_of_unity();
    // Montgomery's batch inversion of d_i = z - w_i: prefix[i] = d_0 ... d_(i-1), one inversion
    // of the whole product, then a backward pass peels off one 1/d_i at a time (d_i is cheaper
    // to recompute than to store).
    std::vector<Fr> prefix(kFieldElementsPerBlob);
    Fr acc = Fr::one();
    for (size_t i = 0; i < kFieldElementsPerBlob; ++i) {
        const Fr d = z - w[i];
        if (d.is_zero()) {
            return Fr::from_limbs(element(blob, i));  // z = w_i: the blob stores p(w_i)
        }
        prefix[i] = acc;
        acc *= d;
    }
    Fr inv = acc.inv();  // 1/(d_0 ... d_i) at the top of each step below
    Fr sum = Fr::zero();
    for (size_t i = kFieldElementsPerBlob; i-- > 0;) {
        const Fr inv_d = inv * prefix[i];
        inv *= z - w[i];
        sum += Fr::from_limbs(element(blob, i)) * w[i] * inv_d;
    }
    Fr z_pow = z;
    for (size_t k = 0; k < kLogWidth; ++k) {
        z_pow = z_pow.sqr();
    }
    return sum * (z_pow - Fr::one()) * w.inv_width();
}

}  // namespace
}  // namespace internal

std::optional<bool> verify_blob_kzg_proof(ByteView blob, ByteView commitment,
                                          ByteView proof) noexcept {
    if (blob.size() != kBytesPerBlob || commitment.size() != kBytesPerKzgCommitment ||
        proof.size() != kBytesPerKzgProof || !internal::blob_is_canonical(blob.data())) {
        return std::nullopt;
    }
    const internal::Limbs<4> z = internal::compute_challenge(blob.data(), commitment.data());
    const internal::Fr y = internal::evaluate(blob.data(), internal::Fr::from_limbs(z));
    std::array<uint8_t, 32> z_be{};
    std::array<uint8_t, 32> y_be{};
    internal::limbs_to_be(z, z_be.data());
    y.to_be(y_be.data());
    return internal::kzg_verify_proof(commitment.data(), z_be.data(), y_be.data(), proof.data());
}

Hash32 kzg_to_versioned_hash(ByteView commitment) noexcept {
    Hash32 h;
    internal::sha256({commitment}, h.data());
    h.bytes[0] = 0x01;  // VERSIONED_HASH_VERSION_KZG
    return h;
}

Bytes test_evaluate_blob_polynomial(ByteView blob, ByteView z) noexcept {
    if (blob.size() != kBytesPerBlob || z.size() != 32 ||
        !internal::blob_is_canonical(blob.data())) {
        return {};
    }
    const internal::Limbs<4> zl = internal::limbs_from_be<4>(z.data());
    if (internal::limbs_geq(zl, internal::kBls12381Order)) {
        return {};
    }
    Bytes out(32);
    internal::evaluate(blob.data(), internal::Fr::from_limbs(zl)).to_be(out.data());
    return out;
}

}  // namespace pel::vm
