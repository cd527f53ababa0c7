// SPDX-License-Identifier: Apache-2.0
// Dispatch and gas for the Cancun precompiles 0x01-0x0a, with the hash-like ones (ecrecover,
// sha256, ripemd160, identity, blake2f) and modexp implemented here; the curve work lives in
// bn254.cpp and bls12_381.cpp.
#include "vm/precompiles.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <memory>

// RIPEMD160() is deprecated in OpenSSL 3 but, unlike EVP_ripemd160(), never needs the legacy
// provider (OpenSSL 3.0.0-3.0.6 had RIPEMD-160 there only). It is the fallback below.
#define OPENSSL_SUPPRESS_DEPRECATED  // NOLINT(readability-identifier-naming): OpenSSL's name
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/ripemd.h>

#include "primitives/secp256k1.hpp"
#include "primitives/u256.hpp"
#include "vm/precompiles/internal.hpp"

namespace pel::vm {
namespace {

using detail::u128;

PrecompileResult fail() noexcept { return {false, 0, {}}; }

/// Charges `cost` and returns a success result with no output yet, or failure when out of gas.
bool charge(int64_t gas, uint64_t cost, PrecompileResult& r) noexcept {
    if (gas < 0 || cost > static_cast<uint64_t>(gas)) {
        r = fail();
        return false;
    }
    r = {true, gas - static_cast<int64_t>(cost), {}};
    return true;
}

uint64_t words(size_t len) noexcept { return (static_cast<uint64_t>(len) + 31) / 32; }

/// input[offset, offset + len) with zeros past the end of input.
void read_padded(ByteView input, uint64_t offset, uint8_t* out, size_t len) noexcept {
    std::memset(out, 0, len);
    if (offset >= input.size()) {
        return;
    }
    const size_t avail = std::min<size_t>(len, input.size() - static_cast<size_t>(offset));
    std::memcpy(out, input.data() + offset, avail);  // NOLINT
}

// --- 0x01 ecrecover ------------------------------------------------------------------------------

PrecompileResult ecrecover(ByteView input, int64_t gas) noexcept {
    PrecompileResult r;
    if (!charge(gas, 3000, r)) {
        return r;
    }
    std::array<uint8_t, 128> in{};
    read_padded(input, 0, in.data(), in.size());
    // v is a full 32-byte word that must equal 27 or 28; anything else recovers nothing.
    const U256 v = U256::from_be32(in.data() + 32);  // NOLINT
    if (v != U256{27} && v != U256{28}) {
        return r;
    }
    Hash32 msg;
    std::memcpy(msg.data(), in.data(), 32);
    const crypto::Signature sig{U256::from_be32(in.data() + 64),  // NOLINT
                                U256::from_be32(in.data() + 96),  // NOLINT
                                static_cast<uint8_t>(v.low64() - 27)};
    auto addr = crypto::recover_address(msg, sig, /*require_low_s=*/false);
    if (!addr) {
        return r;  // invalid signature: success with empty output
    }
    r.output.assign(32, 0);
    std::memcpy(r.output.data() + 12, addr.value().data(), 20);  // NOLINT
    return r;
}

// --- 0x02 sha256, 0x03 ripemd160, 0x04 identity --------------------------------------------------

bool evp_digest(const EVP_MD* md, ByteView input, uint8_t* out) noexcept {
    unsigned int len = 0;
    return md != nullptr && EVP_Digest(input.data(), input.size(), out, &len, md, nullptr) == 1;
}

PrecompileResult sha256(ByteView input, int64_t gas) noexcept {
    PrecompileResult r;
    if (!charge(gas, 60 + 12 * words(input.size()), r)) {
        return r;
    }
    r.output.resize(32);
    if (!evp_digest(EVP_sha256(), input, r.output.data())) {
        return fail();
    }
    return r;
}

PrecompileResult ripemd160(ByteView input, int64_t gas) noexcept {
    PrecompileResult r;
    if (!charge(gas, 600 + 120 * words(input.size()), r)) {
        return r;
    }
    r.output.assign(32, 0);
    // Prefer a provider implementation (default provider since OpenSSL 3.0.7); fall back to the
    // built-in low-level function, which works whatever providers are loaded.
    static const EVP_MD* const md = EVP_MD_fetch(nullptr, "RIPEMD160", nullptr);
    if (!evp_digest(md, input, r.output.data() + 12)) {               // NOLINT
        RIPEMD160(input.data(), input.size(), r.output.data() + 12);  // NOLINT
    }
    return r;
}

PrecompileResult identity(ByteView input, int64_t gas) noexcept {
    PrecompileResult r;
    if (!charge(gas, 15 + 3 * words(input.size()), r)) {
        return r;
    }
    r.output.assign(input.begin(), input.end());
    return r;
}

// --- 0x05 modexp (EIP-198 with EIP-2565 pricing) ------------------------------------------------

/// A length word, saturated at 2^64 - 1 (any such length is out of gas unless it multiplies 0).
uint64_t read_len(ByteView input, uint64_t offset) noexcept {
    std::array<uint8_t, 32> w{};
    read_padded(input, offset, w.data(), w.size());
    const U256 v = U256::from_be32(w.data());
    return v.fits_u64() ? v.low64() : ~uint64_t{0};
}

uint64_t add_sat(uint64_t a, uint64_t b) noexcept { return a + b < a ? ~uint64_t{0} : a + b; }

/// EIP-2565 gas, saturated at 2^64 - 1.
uint64_t modexp_gas(ByteView input, uint64_t base_len, uint64_t exp_len,
                    uint64_t mod_len) noexcept {
    const uint64_t max_len = std::max(base_len, mod_len);
    const u128 w = (static_cast<u128>(max_len) + 7) / 8;
    if (w == 0) {
        return 200;  // complexity 0: the exponent does not matter
    }
    if (w > (u128{1} << 62)) {
        return ~uint64_t{0};
    }
    const u128 complexity = w * w;  // < 2^124
    // The first (at most) 32 bytes of the exponent, as the pricing reads them.
    std::array<uint8_t, 32> head{};
    const size_t head_len = static_cast<size_t>(std::min<uint64_t>(exp_len, 32));
    read_padded(input, add_sat(96, base_len), head.data() + (32 - head_len), head_len);
    const unsigned head_bits = U256::from_be32(head.data()).bit_width();
    u128 iterations = head_bits > 0 ? head_bits - 1 : 0;
    if (exp_len > 32) {
        iterations += static_cast<u128>(exp_len - 32) * 8;
    }
    iterations = std::max<u128>(iterations, 1);
    // complexity * iterations / 3 with saturation.
    if (iterations > (~u128{0}) / complexity) {
        return ~uint64_t{0};
    }
    const u128 gas = complexity * iterations / 3;
    if (gas > ~uint64_t{0}) {
        return ~uint64_t{0};
    }
    return std::max<uint64_t>(200, static_cast<uint64_t>(gas));
}

struct BnDeleter {
    void operator()(BIGNUM* b) const noexcept { BN_free(b); }
    void operator()(BN_CTX* c) const noexcept { BN_CTX_free(c); }
};
template <class T>
using BnPtr = std::unique_ptr<T, BnDeleter>;

/// The big-endian number input[offset, offset + len), zero padded on the right, without
/// materialising the padding: returns the present part and the count of missing bytes.
BIGNUM* read_bn(ByteView input, uint64_t offset, uint64_t len, uint64_t& missing) noexcept {
    size_t avail = 0;
    if (offset < input.size()) {
        avail = static_cast<size_t>(std::min<uint64_t>(len, input.size() - offset));
    }
    missing = len - avail;
    static constexpr uint8_t kNothing = 0;
    const uint8_t* p = avail > 0 ? input.data() + offset : &kNothing;  // NOLINT
    return BN_bin2bn(p, static_cast<int>(avail), nullptr);
}

PrecompileResult modexp(ByteView input, int64_t gas) noexcept {
    const uint64_t base_len = read_len(input, 0);
    const uint64_t exp_len = read_len(input, 32);
    const uint64_t mod_len = read_len(input, 64);
    PrecompileResult r;
    if (!charge(gas, modexp_gas(input, base_len, exp_len, mod_len), r)) {
        return r;
    }
    if (mod_len == 0) {
        return r;
    }
    // Paid gas bounds the lengths: words^2 / 3 <= gas for base_len and mod_len and
    // 8 (exp_len - 32) / 3 <= gas for exp_len, so the sums below cannot overflow. Lengths past
    // 2^28 would need over 10^14 gas; they fail rather than allocate (OpenSSL takes ints).
    if (base_len > INT32_MAX / 8 || mod_len > INT32_MAX / 8 || input.size() > INT32_MAX) {
        return fail();
    }
    const uint64_t exp_off = 96 + base_len;
    const uint64_t mod_off = exp_off + exp_len;

    // Each number is read from the bytes present; missing trailing bytes are zeros. An operand
    // cut short by the end of input leaves the modulus wholly past the end, hence zero, and the
    // result is then zeros (EIP-198: x mod 0 = 0), so only the modulus needs its padding.
    uint64_t missing = 0;
    const BnPtr<BIGNUM> mod{read_bn(input, mod_off, mod_len, missing)};
    if (!mod || BN_lshift(mod.get(), mod.get(), static_cast<int>(missing * 8)) != 1) {
        return fail();
    }
    r.output.assign(static_cast<size_t>(mod_len), 0);
    if (BN_is_zero(mod.get()) != 0) {
        return r;
    }
    const BnPtr<BIGNUM> base{read_bn(input, 96, base_len, missing)};
    const BnPtr<BIGNUM> exp{read_bn(input, exp_off, exp_len, missing)};
    const BnPtr<BN_CTX> ctx{BN_CTX_new()};
    const BnPtr<BIGNUM> res{BN_new()};
    if (!base || !exp || !ctx || !res) {
        return fail();
    }
    if (BN_mod_exp(res.get(), base.get(), exp.get(), mod.get(), ctx.get()) != 1) {
        return fail();
    }
    if (BN_bn2binpad(res.get(), r.output.data(), static_cast<int>(mod_len)) < 0) {
        return fail();
    }
    return r;
}

// --- 0x06-0x08 bn254 (EIP-196, EIP-197, EIP-1108 gas) -------------------------------------------

PrecompileResult bn254_add(ByteView input, int64_t gas) noexcept {
    PrecompileResult r;
    if (!charge(gas, 150, r)) {
        return r;
    }
    std::array<uint8_t, 128> in{};
    read_padded(input, 0, in.data(), in.size());
    r.output.resize(64);
    if (!internal::bn254_add(in.data(), r.output.data())) {
        return fail();
    }
    return r;
}

PrecompileResult bn254_mul(ByteView input, int64_t gas) noexcept {
    PrecompileResult r;
    if (!charge(gas, 6000, r)) {
        return r;
    }
    std::array<uint8_t, 96> in{};
    read_padded(input, 0, in.data(), in.size());
    r.output.resize(64);
    if (!internal::bn254_mul(in.data(), r.output.data())) {
        return fail();
    }
    return r;
}

PrecompileResult bn254_pairing(ByteView input, int64_t gas) noexcept {
    PrecompileResult r;
    if (!charge(gas, 45000 + 34000 * static_cast<uint64_t>(input.size() / 192), r)) {
        return r;
    }
    const auto ok = internal::bn254_pairing_check(input);
    if (!ok) {
        return fail();
    }
    r.output.assign(32, 0);
    r.output[31] = *ok ? 1 : 0;
    return r;
}

// --- 0x09 blake2f (EIP-152) ----------------------------------------------------------------------

constexpr std::array<uint64_t, 8> kBlake2bIv{
    0x6a09e667f3bcc908ULL, 0xbb67ae8584caa73bULL, 0x3c6ef372fe94f82bULL, 0xa54ff53a5f1d36f1ULL,
    0x510e527fade682d1ULL, 0x9b05688c2b3e6c1fULL, 0x1f83d9abfb41bd6bULL, 0x5be0cd19137e2179ULL};

// Message schedule of BLAKE2b (RFC 7693, section 2.7).
constexpr std::array<std::array<uint8_t, 16>, 10> kSigma{{
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
    {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
    {11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4},
    {7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8},
    {9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13},
    {2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9},
    {12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11},
    {13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10},
    {6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5},
    {10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0},
}};

uint64_t load_le64(const uint8_t* p) noexcept {
    uint64_t v = 0;
    for (size_t i = 8; i-- > 0;) v = (v << 8) | p[i];  // NOLINT
    return v;
}

void store_le64(uint64_t v, uint8_t* p) noexcept {
    for (size_t i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));  // NOLINT
}

void blake2b_g(std::array<uint64_t, 16>& v, size_t a, size_t b, size_t c, size_t d, uint64_t x,
               uint64_t y) noexcept {
    v[a] = v[a] + v[b] + x;
    v[d] = std::rotr(v[d] ^ v[a], 32);
    v[c] = v[c] + v[d];
    v[b] = std::rotr(v[b] ^ v[c], 24);
    v[a] = v[a] + v[b] + y;
    v[d] = std::rotr(v[d] ^ v[a], 16);
    v[c] = v[c] + v[d];
    v[b] = std::rotr(v[b] ^ v[c], 63);
}

PrecompileResult blake2f(ByteView input, int64_t gas) noexcept {
    if (input.size() != 213) {
        return fail();
    }
    const uint8_t flag = input[212];
    if (flag > 1) {
        return fail();
    }
    const uint32_t rounds = (uint32_t{input[0]} << 24) | (uint32_t{input[1]} << 16) |
                            (uint32_t{input[2]} << 8) | uint32_t{input[3]};
    PrecompileResult r;
    if (!charge(gas, rounds, r)) {
        return r;
    }
    const uint8_t* p = input.data();
    std::array<uint64_t, 8> h{};
    std::array<uint64_t, 16> m{};
    for (size_t i = 0; i < 8; ++i) h[i] = load_le64(p + 4 + 8 * i);    // NOLINT
    for (size_t i = 0; i < 16; ++i) m[i] = load_le64(p + 68 + 8 * i);  // NOLINT
    std::array<uint64_t, 16> v{};
    for (size_t i = 0; i < 8; ++i) {
        v[i] = h[i];
        v[i + 8] = kBlake2bIv[i];
    }
    v[12] ^= load_le64(p + 196);  // NOLINT
    v[13] ^= load_le64(p + 204);  // NOLINT
    if (flag != 0) {
        v[14] = ~v[14];
    }
    for (uint32_t round = 0; round < rounds; ++round) {
        const auto& s = kSigma[round % 10];
        blake2b_g(v, 0, 4, 8, 12, m[s[0]], m[s[1]]);
        blake2b_g(v, 1, 5, 9, 13, m[s[2]], m[s[3]]);
        blake2b_g(v, 2, 6, 10, 14, m[s[4]], m[s[5]]);
        blake2b_g(v, 3, 7, 11, 15, m[s[6]], m[s[7]]);
        blake2b_g(v, 0, 5, 10, 15, m[s[8]], m[s[9]]);
        blake2b_g(v, 1, 6, 11, 12, m[s[10]], m[s[11]]);
        blake2b_g(v, 2, 7, 8, 13, m[s[12]], m[s[13]]);
        blake2b_g(v, 3, 4, 9, 14, m[s[14]], m[s[15]]);
    }
    r.output.resize(64);
    for (size_t i = 0; i < 8; ++i) {
        store_le64(h[i] ^ v[i] ^ v[i + 8], r.output.data() + 8 * i);
    }
    return r;
}

// --- 0x0a point evaluation (EIP-4844) ------------------------------------------------------------

// BLS12-381 scalar field modulus r, big endian.
constexpr std::array<uint8_t, 32> kBlsModulus{
    0x73, 0xed, 0xa7, 0x53, 0x29, 0x9d, 0x7d, 0x48, 0x33, 0x39, 0xd8, 0x08, 0x09, 0xa1, 0xd8, 0x05,
    0x53, 0xbd, 0xa4, 0x02, 0xff, 0xfe, 0x5b, 0xfe, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x01};

PrecompileResult point_evaluation(ByteView input, int64_t gas) noexcept {
    PrecompileResult r;
    if (!charge(gas, 50000, r)) {
        return r;
    }
    if (input.size() != 192) {
        return fail();
    }
    const uint8_t* p = input.data();
    const uint8_t* versioned_hash = p;
    const uint8_t* z = p + 32;           // NOLINT
    const uint8_t* y = p + 64;           // NOLINT
    const uint8_t* commitment = p + 96;  // NOLINT
    const uint8_t* proof = p + 144;      // NOLINT
    const Hash32 h = kzg_to_versioned_hash(ByteView{commitment, kBytesPerKzgCommitment});
    if (std::memcmp(h.data(), versioned_hash, 32) != 0) {
        return fail();
    }
    const auto ok = internal::kzg_verify_proof(commitment, z, y, proof);
    if (!ok || !*ok) {
        return fail();
    }
    // FIELD_ELEMENTS_PER_BLOB (4096) and BLS_MODULUS as two words.
    r.output.assign(64, 0);
    r.output[30] = 0x10;
    std::memcpy(r.output.data() + 32, kBlsModulus.data(), 32);  // NOLINT
    return r;
}

}  // namespace

bool test_precompile_constants_valid() noexcept {
    return internal::test_bls12_381_constants_valid();
}

bool test_bn254_g2_membership_agrees(ByteView point) noexcept {
    return point.size() == 128 && internal::test_bn254_g2_checks_agree(point.data());
}

bool test_bn254_glv_matches(ByteView point, ByteView scalar) noexcept {
    return point.size() == 64 && scalar.size() == 32 &&
           internal::test_bn254_glv_matches_double_and_add(point.data(), scalar.data());
}

bool is_precompile(const Address& addr) noexcept {
    for (size_t i = 0; i < 19; ++i) {
        if (addr.bytes[i] != 0) {
            return false;
        }
    }
    return addr.bytes[19] >= 0x01 && addr.bytes[19] <= 0x0a;
}

PrecompileResult run_precompile(const Address& addr, ByteView input, int64_t gas) noexcept {
    if (!is_precompile(addr)) {
        return fail();
    }
    switch (addr.bytes[19]) {
        case 0x01:
            return ecrecover(input, gas);
        case 0x02:
            return sha256(input, gas);
        case 0x03:
            return ripemd160(input, gas);
        case 0x04:
            return identity(input, gas);
        case 0x05:
            return modexp(input, gas);
        case 0x06:
            return bn254_add(input, gas);
        case 0x07:
            return bn254_mul(input, gas);
        case 0x08:
            return bn254_pairing(input, gas);
        case 0x09:
            return blake2f(input, gas);
        case 0x0a:
            return point_evaluation(input, gas);
        default:
            return fail();
    }
}

}  // namespace pel::vm
