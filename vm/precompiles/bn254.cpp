// SPDX-License-Identifier: Apache-2.0
// alt_bn128 (bn254) for the 0x06-0x08 precompiles: EIP-196 (add, scalar multiplication) and
// EIP-197 (pairing check). Curve: y^2 = x^3 + 3 over Fp; G2 on the D-type twist
// y^2 = x^3 + 3/(9 + u) over Fp2; BN parameter x = 4965661367192848881.
#include <algorithm>
#include <vector>

#include "vm/precompiles/curve.hpp"
#include "vm/precompiles/field.hpp"
#include "vm/precompiles/internal.hpp"

namespace pel::vm::internal {
namespace {

struct Bn254Cfg {
    static constexpr size_t kLimbs = 4;
    static constexpr Limbs<4> kModulus{0x3c208c16d87cfd47ULL, 0x97816a916871ca8dULL,
                                       0xb85045b68181585dULL, 0x30644e72e131a029ULL};
    static constexpr uint64_t kXiA = 9;
};

using F = Fp<Bn254Cfg>;
using E2 = Fp2<Bn254Cfg>;

/// The group order r.
constexpr Limbs<4> kOrder{0x43e1f593f0000001ULL, 0x2833e84879b97091ULL, 0xb85045b68181585dULL,
                          0x30644e72e131a029ULL};

constexpr uint64_t kBnX = 4965661367192848881ULL;

/// 6x^2 = p - r, the eigenvalue of psi on G2 (below 2^127).
constexpr auto kSixXSquaredNaf =
    make_naf(Limbs<2>{static_cast<uint64_t>(static_cast<u128>(kBnX) * kBnX * 6),
                      static_cast<uint64_t>((static_cast<u128>(kBnX) * kBnX * 6) >> 64)});

/// Non-adjacent form of 6x + 2, most significant digit first.
constexpr size_t naf_len() {
    u128 n = static_cast<u128>(kBnX) * 6 + 2;
    size_t len = 0;
    while (n != 0) {
        if ((n & 1) != 0) {
            const int d = (n & 3) == 1 ? 1 : -1;
            n = d == 1 ? n - 1 : n + 1;
        }
        n >>= 1;
        ++len;
    }
    return len;
}

template <size_t Len>
constexpr std::array<int8_t, Len - 1> make_loop() {
    std::array<int8_t, Len> lsb{};
    u128 n = static_cast<u128>(kBnX) * 6 + 2;
    for (size_t i = 0; i < Len; ++i) {
        int8_t d = 0;
        if ((n & 1) != 0) {
            d = (n & 3) == 1 ? 1 : -1;
            n = d == 1 ? n - 1 : n + 1;
        }
        lsb[i] = d;
        n >>= 1;
    }
    std::array<int8_t, Len - 1> msb{};
    for (size_t i = 0; i + 1 < Len; ++i) {
        msb[i] = lsb[Len - 2 - i];  // top digit (1) dropped
    }
    return msb;
}

struct Bn254Pairing {
    using Cfg = Bn254Cfg;
    static constexpr bool kDTwist = true;
    static constexpr auto kLoop = make_loop<naf_len()>();
    static constexpr bool kNegativeX = false;
    static constexpr bool kBnFinalLines = true;
    static constexpr uint64_t kX = kBnX;

    static E2 twist_b() noexcept {
        static const E2 b = E2{F::from_u64(3), F::zero()} * E2{F::from_u64(9), F::one()}.inv();
        return b;
    }
};

static_assert(Bn254Pairing::kLoop.size() == 65);
static_assert(Bn254Pairing::kLoop[0] == 0 && Bn254Pairing::kLoop[1] == -1);

using BnPairing = Pairing<Bn254Pairing>;

// --- GLV scalar multiplication on G1 ---------------------------------------------------------
// Gallant, Lambert and Vanstone, "Faster point multiplication on elliptic curves with efficient
// endomorphisms" (CRYPTO 2001). phi(x, y) = (beta x, y) acts on G1 as [lambda] with
// lambda^2 + lambda + 1 = 0 (mod r). Every k splits as k1 + k2 lambda (mod r) with |k1|, |k2| below
// 2^127, so [k]P = [k1]P + [k2]phi(P) costs 127 doublings instead of 254. Constants computed
// with an independent script: beta and lambda matched on the generator, and the short basis
// (a1, b1), (a2, b2) of {(x, y) : x + y lambda = 0 (mod r)} from the extended Euclidean algorithm
// on (r, lambda); g1 = round(2^320 b2 / r), g2 = round(2^320 (-b1) / r).

constexpr Limbs<4> kBeta{0x5763473177fffffeULL, 0xd4f263f1acdb5c4fULL, 0x59e26bcea0d48bacULL, 0};
constexpr Limbs<4> kGlvA1{0x89d3256894d213e3ULL, 0, 0, 0};  // = b2
constexpr Limbs<4> kGlvA2{0x0be4e1541221250bULL, 0x6f4d8248eeb859fdULL, 0, 0};
constexpr Limbs<4> kGlvNegB1{0x8211bbeb7d4f1128ULL, 0x6f4d8248eeb859fcULL, 0, 0};
constexpr Limbs<4> kGlvG1{0x6eb9c714773a6ef3ULL, 0xd91d232ec7e0b3d7ULL, 2, 0};
constexpr Limbs<4> kGlvG2{0xa5e38cfb5eaa26daULL, 0x7a7bd9d4391eb18dULL, 0x4ccef014a773d2cfULL, 2};

/// a * b mod 2^256.
Limbs<4> mul_low(const Limbs<4>& a, const Limbs<4>& b) noexcept {
    Limbs<4> r{};
    for (size_t i = 0; i < 4; ++i) {
        uint64_t carry = 0;
        for (size_t j = 0; i + j < 4; ++j) {
            const u128 t = static_cast<u128>(a[i]) * b[j] + r[i + j] + carry;
            r[i + j] = static_cast<uint64_t>(t);
            carry = static_cast<uint64_t>(t >> 64);
        }
    }
    return r;
}

/// round(k * g / 2^320) for k < 2^254 and g < 2^196 (the product stays below 2^512).
Limbs<4> mul_round_shift320(const Limbs<4>& k, const Limbs<4>& g) noexcept {
    std::array<uint64_t, 8> w{};
    for (size_t i = 0; i < 4; ++i) {
        uint64_t carry = 0;
        for (size_t j = 0; j < 4; ++j) {
            const u128 t = static_cast<u128>(k[i]) * g[j] + w[i + j] + carry;
            w[i + j] = static_cast<uint64_t>(t);
            carry = static_cast<uint64_t>(t >> 64);
        }
        w[i + 4] = carry;
    }
    // + 2^319, then drop five words.
    u128 t = static_cast<u128>(w[4]) + (uint64_t{1} << 63);
    for (size_t i = 5; i < 8; ++i) {
        t = static_cast<u128>(w[i]) + static_cast<uint64_t>(t >> 64);
        w[i] = static_cast<uint64_t>(t);
    }
    return {w[5], w[6], w[7], 0};
}

/// Magnitude and sign of a two's-complement 256-bit value.
Limbs<4> abs_signed(Limbs<4> v, bool& negative) noexcept {
    negative = (v[3] >> 63) != 0;
    if (negative) {
        Limbs<4> zero{};
        limbs_sub(zero, v);
        v = zero;
    }
    return v;
}

/// [k]p for any 256-bit k (p has order r: every curve point does, the cofactor being 1).
Jacobian<F> glv_mul(const Affine<F>& p, Limbs<4> k) noexcept {
    if (p.inf) {
        return {F::one(), F::one(), F::zero()};
    }
    while (limbs_geq(k, kOrder)) {
        limbs_sub(k, kOrder);  // at most five times
    }
    const Limbs<4> c1 = mul_round_shift320(k, kGlvG1);
    const Limbs<4> c2 = mul_round_shift320(k, kGlvG2);
    // k1 = k - c1 a1 - c2 a2 and k2 = c1 (-b1) - c2 b2, exact in wrapping 256-bit arithmetic
    // because the true values are below 2^127 in magnitude.
    Limbs<4> k1 = k;
    limbs_sub(k1, mul_low(c1, kGlvA1));
    limbs_sub(k1, mul_low(c2, kGlvA2));
    Limbs<4> k2 = mul_low(c1, kGlvNegB1);
    limbs_sub(k2, mul_low(c2, kGlvA1));
    bool neg1 = false;
    bool neg2 = false;
    k1 = abs_signed(k1, neg1);
    k2 = abs_signed(k2, neg2);
    const Affine<F> p1{p.x, neg1 ? -p.y : p.y, false};
    const Affine<F> p2{F::from_limbs(kBeta) * p.x, neg2 ? -p.y : p.y, false};
    return double_scalar_mul(p1, k1, p2, k2);
}

/// 64 bytes x || y; (0, 0) is infinity. False: a coordinate not below p or not on the curve.
bool decode_g1(const uint8_t* in, Affine<F>& out) noexcept {
    F x;
    F y;
    if (!F::from_be(in, x) || !F::from_be(in + 32, y)) return false;  // NOLINT
    if (x.is_zero() && y.is_zero()) {
        out = {};
        return true;
    }
    if (!on_curve(x, y, F::from_u64(3))) {
        return false;
    }
    out = {x, y, false};  // the cofactor is 1: every curve point is in G1
    return true;
}

void encode_g1(const Affine<F>& p, uint8_t* out) noexcept {
    if (p.inf) {
        std::fill(out, out + 64, uint8_t{0});  // NOLINT
        return;
    }
    p.x.to_be(out);
    p.y.to_be(out + 32);  // NOLINT
}

/// G2 membership of a finite twist point: psi(Q) == [6x^2]Q, psi the untwist-Frobenius-twist
/// endomorphism. Why this suffices: psi satisfies psi^2 - t psi + p = 0 with t = 6x^2 + 1, so a
/// point R with psi(R) = [t - 1]R has [(t - 1)^2 - t(t - 1) + p]R = [p + 1 - t]R = [r]R = O
/// (#E(Fp) = r for BN curves). Split Q into parts of order r and of order coprime to r
/// (r^2 does not divide #E'(Fp2) = r(2p - r)); psi keeps the parts, so the second part is
/// killed by r and by a number coprime to r: it is O. Conversely psi acts on G2 as
/// p = 6x^2 (mod r). The scalar has 127 bits where r has 254 (El Housni, Guillevic and
/// Piellard, "Co-factor clearing and subgroup membership testing on pairing-friendly curves",
/// 2022, discuss such tests).
bool in_g2(const Affine<E2>& q) noexcept {
    const Jacobian<E2> lq = scalar_mul_naf(q, kSixXSquaredNaf);
    if (lq.is_inf()) {
        return false;
    }
    const Affine<E2> pq = BnPairing::twist_frobenius(q);
    const E2 z2 = lq.z.sqr();
    return lq.x == pq.x * z2 && lq.y == pq.y * z2 * lq.z;
}

/// 128 bytes x_im || x_re || y_im || y_re (EIP-197); all zero is infinity.
bool decode_g2(const uint8_t* in, Affine<E2>& out) noexcept {
    E2 x;
    E2 y;
    if (!F::from_be(in, x.c1) || !F::from_be(in + 32, x.c0) ||       // NOLINT
        !F::from_be(in + 64, y.c1) || !F::from_be(in + 96, y.c0)) {  // NOLINT
        return false;
    }
    if (x.is_zero() && y.is_zero()) {
        out = {};
        return true;
    }
    if (!on_curve(x, y, Bn254Pairing::twist_b())) {
        return false;
    }
    const Affine<E2> q{x, y, false};
    if (!in_g2(q)) {
        return false;
    }
    out = q;
    return true;
}

}  // namespace

bool test_bn254_glv_matches_double_and_add(const uint8_t* point, const uint8_t* scalar) noexcept {
    Affine<F> p;
    if (!decode_g1(point, p)) {
        return false;
    }
    const Limbs<4> k = limbs_from_be<4>(scalar);
    const Affine<F> a = to_affine(glv_mul(p, k));
    const Affine<F> b = to_affine(scalar_mul(p, k));
    return a.inf == b.inf && (a.inf || (a.x == b.x && a.y == b.y));
}

bool test_bn254_g2_checks_agree(const uint8_t* in) noexcept {
    E2 x;
    E2 y;
    if (!F::from_be(in, x.c1) || !F::from_be(in + 32, x.c0) ||       // NOLINT
        !F::from_be(in + 64, y.c1) || !F::from_be(in + 96, y.c0)) {  // NOLINT
        return false;
    }
    if (!on_curve(x, y, Bn254Pairing::twist_b())) {
        return false;
    }
    const Affine<E2> q{x, y, false};
    return in_g2(q) == scalar_mul(q, kOrder).is_inf();
}

bool bn254_add(const uint8_t* in, uint8_t* out) noexcept {
    Affine<F> a;
    Affine<F> b;
    if (!decode_g1(in, a) || !decode_g1(in + 64, b)) return false;  // NOLINT
    encode_g1(to_affine(jac_add(to_jacobian(a), to_jacobian(b))), out);
    return true;
}

bool bn254_mul(const uint8_t* in, uint8_t* out) noexcept {
    Affine<F> a;
    if (!decode_g1(in, a)) {
        return false;
    }
    const Limbs<4> k = limbs_from_be<4>(in + 64);  // NOLINT
    encode_g1(to_affine(glv_mul(a, k)), out);
    return true;
}

std::optional<bool> bn254_pairing_check(ByteView in) noexcept {
    if (in.size() % 192 != 0) {
        return std::nullopt;
    }
    std::vector<BnPairing::Pair> pairs;
    pairs.reserve(in.size() / 192);
    for (size_t off = 0; off < in.size(); off += 192) {
        Affine<F> p;
        Affine<E2> q;
        if (!decode_g1(in.data() + off, p) || !decode_g2(in.data() + off + 64, q)) {  // NOLINT
            return std::nullopt;
        }
        if (p.inf || q.inf) {
            continue;  // e(O, Q) = e(P, O) = 1
        }
        pairs.push_back({p, q});
    }
    return BnPairing::check(pairs);
}

}  // namespace pel::vm::internal
