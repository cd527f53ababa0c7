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
    for (size_t i = 0; i + 1 < Len; ++i) msb[i] = lsb[Len - 2 - i];  // top digit (1) dropped
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

/// 64 bytes x || y; (0, 0) is infinity. False: a coordinate not below p or not on the curve.
bool decode_g1(const uint8_t* in, Affine<F>& out) noexcept {
    F x;
    F y;
    if (!F::from_be(in, x) || !F::from_be(in + 32, y)) return false;  // NOLINT
    if (x.is_zero() && y.is_zero()) {
        out = {};
        return true;
    }
    if (!on_curve(x, y, F::from_u64(3))) return false;
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
    if (lq.is_inf()) return false;
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
    if (!on_curve(x, y, Bn254Pairing::twist_b())) return false;
    const Affine<E2> q{x, y, false};
    if (!in_g2(q)) return false;
    out = q;
    return true;
}

}  // namespace

bool test_bn254_g2_checks_agree(const uint8_t* in) noexcept {
    E2 x;
    E2 y;
    if (!F::from_be(in, x.c1) || !F::from_be(in + 32, x.c0) ||       // NOLINT
        !F::from_be(in + 64, y.c1) || !F::from_be(in + 96, y.c0)) {  // NOLINT
        return false;
    }
    if (!on_curve(x, y, Bn254Pairing::twist_b())) return false;
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
    if (!decode_g1(in, a)) return false;
    const Limbs<4> k = limbs_from_be<4>(in + 64);  // NOLINT
    encode_g1(to_affine(scalar_mul(a, k)), out);
    return true;
}

std::optional<bool> bn254_pairing_check(ByteView in) noexcept {
    if (in.size() % 192 != 0) return std::nullopt;
    std::vector<BnPairing::Pair> pairs;
    pairs.reserve(in.size() / 192);
    for (size_t off = 0; off < in.size(); off += 192) {
        Affine<F> p;
        Affine<E2> q;
        if (!decode_g1(in.data() + off, p) || !decode_g2(in.data() + off + 64, q)) {  // NOLINT
            return std::nullopt;
        }
        if (p.inf || q.inf) continue;  // e(O, Q) = e(P, O) = 1
        pairs.push_back({p, q});
    }
    return BnPairing::check(pairs);
}

}  // namespace pel::vm::internal
