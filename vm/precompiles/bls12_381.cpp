// SPDX-License-Identifier: Apache-2.0
// BLS12-381 for the EIP-4844 point evaluation precompile (0x0a): compressed G1 decoding with
// subgroup checks and the KZG check e(C - [y]G1, -G2) * e(proof, [tau]G2 - [z]G2) == 1
// (consensus-specs deneb polynomial-commitments.md, verify_kzg_proof_impl).
// Curve: y^2 = x^3 + 4 over Fp; G2 on the M-type twist y^2 = x^3 + 4(1 + u);
// BLS parameter x = -0xd201000000010000.
#include "vm/precompiles/curve.hpp"
#include "vm/precompiles/field.hpp"
#include "vm/precompiles/internal.hpp"

namespace pel::vm::internal {
namespace {

struct Bls381Cfg {
    static constexpr size_t kLimbs = 6;
    static constexpr Limbs<6> kModulus{0xb9feffffffffaaabULL, 0x1eabfffeb153ffffULL,
                                       0x6730d2a0f6b0f624ULL, 0x64774b84f38512bfULL,
                                       0x4b1ba7b6434bacd7ULL, 0x1a0111ea397fe69aULL};
    static constexpr uint64_t kXiA = 1;
};

using F = Fp<Bls381Cfg>;
using E2 = Fp2<Bls381Cfg>;

/// The scalar field modulus r (the order of G1 and G2).
constexpr Limbs<4> kOrder = kBls12381Order;

constexpr uint64_t kBlsAbsX = 0xd201000000010000ULL;

constexpr std::array<int8_t, 63> make_loop() {
    std::array<int8_t, 63> d{};
    for (size_t i = 0; i < 63; ++i) {
        d[i] = static_cast<int8_t>((kBlsAbsX >> (62 - i)) & 1);
    }
    return d;
}
static_assert((kBlsAbsX >> 63) == 1);

struct Bls381Pairing {
    using Cfg = Bls381Cfg;
    static constexpr bool kDTwist = false;
    static constexpr auto kLoop = make_loop();
    static constexpr bool kNegativeX = true;
    static constexpr bool kBnFinalLines = false;
    static constexpr uint64_t kX = kBlsAbsX;

    static E2 twist_b() noexcept { return {F::from_u64(4), F::from_u64(4)}; }
};

using BlsPairing = Pairing<Bls381Pairing>;

F fp(const Limbs<6>& canonical) noexcept { return F::from_limbs(canonical); }

/// The standard generators (IETF pairing-friendly-curves draft, section 4.2.1; ZCash spec).
Affine<F> g1_generator() noexcept {
    return {fp({0xfb3af00adb22c6bbULL, 0x6c55e83ff97a1aefULL, 0xa14e3a3f171bac58ULL,
                0xc3688c4f9774b905ULL, 0x2695638c4fa9ac0fULL, 0x17f1d3a73197d794ULL}),
            fp({0x0caa232946c5e7e1ULL, 0xd03cc744a2888ae4ULL, 0x00db18cb2c04b3edULL,
                0xfcf5e095d5d00af6ULL, 0xa09e30ed741d8ae4ULL, 0x08b3f481e3aaa0f1ULL}),
            false};
}

Affine<E2> g2_generator() noexcept {
    return {{fp({0xd48056c8c121bdb8ULL, 0x0bac0326a805bbefULL, 0xb4510b647ae3d177ULL,
                 0xc6e47ad4fa403b02ULL, 0x260805272dc51051ULL, 0x024aa2b2f08f0a91ULL}),
             fp({0xe5ac7d055d042b7eULL, 0x334cf11213945d57ULL, 0xb5da61bbdc7f5049ULL,
                 0x596bd0d09920b61aULL, 0x7dacd3a088274f65ULL, 0x13e02b6052719f60ULL})},
            {fp({0xe193548608b82801ULL, 0x923ac9cc3baca289ULL, 0x6d429a695160d12cULL,
                 0xadfd9baa8cbdd3a7ULL, 0x8cc9cdc6da2e351aULL, 0x0ce5d527727d6e11ULL}),
             fp({0xaaa9075ff05f79beULL, 0x3f370d275cec1da1ULL, 0x267492ab572e99abULL,
                 0xcb3e287e85a763afULL, 0x32acd2b02bc28b99ULL, 0x0606c4a02ea734ccULL})},
            false};
}

/// [tau]G2 of the mainnet KZG ceremony: g2_monomial[1] of consensus-specs
/// presets/mainnet/trusted_setups/trusted_setup_4096.json (also line 4100 of c-kzg-4844's
/// src/trusted_setup.txt), compressed
/// b5bfd7dd8cdeb128843bc287230af38926187075cbfbefa81009a2ce615ac53d2914e5870cb452d2afaaab24f3499f72
/// 185cbfee53492714734429b7b38608e23926c911cceceac9a36851477ba4c60b087041de621000edc98edada20c1def2,
/// stored here decompressed (y chosen by the sign bit).
Affine<E2> tau_g2() noexcept {
    return {{fp({0xc98edada20c1def2ULL, 0x087041de621000edULL, 0xa36851477ba4c60bULL,
                 0x3926c911cceceac9ULL, 0x734429b7b38608e2ULL, 0x185cbfee53492714ULL}),
             fp({0xafaaab24f3499f72ULL, 0x2914e5870cb452d2ULL, 0x1009a2ce615ac53dULL,
                 0x26187075cbfbefa8ULL, 0x843bc287230af389ULL, 0x15bfd7dd8cdeb128ULL})},
            {fp({0xee689bfbbb832a99ULL, 0x4ce26d105941f383ULL, 0xe82451a496a9c979ULL,
                 0x131569490e28de18ULL, 0xd7d5ee8599d1fca2ULL, 0x014353bdb96b626dULL}),
             fp({0x23048ef30d0a154fULL, 0x9495346f3d7ac9cdULL, 0xda5ed1ba9bfa0789ULL,
                 0xef79de09fc63671fULL, 0x03432fcae0181b4bULL, 0x1666c54b0a325295ULL})},
            false};
}

/// A primitive cube root of unity in Fp: phi(x, y) = (beta x, y) acts on G1 as [-x^2].
constexpr Limbs<6> kBeta{0x2e01fffffffefffeULL, 0xde17d813620a0002ULL, 0xddb3a93be6f89688ULL,
                         0xba69c6076a0f77eaULL, 0x5f19672fdf76ce51ULL, 0};

/// G1 membership of a finite curve point: phi(P) == -[x^2]P (Bowe, "Faster subgroup checks for
/// BLS12-381", ePrint 2019/814; Scott, ePrint 2021/1130), two 64-bit multiplications instead of
/// one by r. Why: phi^2 + phi + 1 = 0, so phi(R) = [-x^2]R gives [x^4 - x^2 + 1]R = [r]R = O;
/// the part of P of order coprime to r (r^2 does not divide #E(Fp)) is then O. On G1, phi acts
/// as -x^2 for this choice of beta (checked on the generator by the test hook).
bool in_g1(const Affine<F>& p) noexcept {
    const Limbs<1> abs_x{kBlsAbsX};
    const Affine<F> xp = to_affine(scalar_mul(p, abs_x));
    if (xp.inf) {
        return false;  // x is not a multiple of r: only O would give O
    }
    const Jacobian<F> xxp = scalar_mul(xp, abs_x);
    if (xxp.is_inf()) {
        return false;
    }
    // -[x^2]P = (X/Z^2, -Y/Z^3) against (beta x, y).
    const F z2 = xxp.z.sqr();
    return xxp.x == fp(kBeta) * p.x * z2 && -xxp.y == p.y * z2 * xxp.z;
}

/// [k]P for P in G1 and k < r: k = k2 x^2 + k1 with k1 < x^2 (two divisions by |x|), and
/// [x^2]P = -phi(P), so [k]P = [k1]P + [k2](beta x, -y) with 128-bit halves (GLV without a
/// lattice: the endomorphism's eigenvalue is itself a square of the curve parameter).
Jacobian<F> g1_mul(const Affine<F>& p, const Limbs<4>& k) noexcept {
    if (p.inf) {
        return {F::one(), F::one(), F::zero()};
    }
    const auto divmod = [](const Limbs<4>& a, Limbs<4>& rem) {
        const Limbs<4> q = limbs_div_small(a, kBlsAbsX);
        // rem = a - q |x| (below |x|).
        u128 prod = static_cast<u128>(q[0]) * kBlsAbsX;
        rem = {static_cast<uint64_t>(a[0] - static_cast<uint64_t>(prod)), 0, 0, 0};
        return q;
    };
    Limbs<4> r1;
    Limbs<4> r2;
    const Limbs<4> q1 = divmod(k, r1);
    const Limbs<4> k2 = divmod(q1, r2);
    // k1 = r2 |x| + r1 < x^2.
    const u128 k1v = static_cast<u128>(r2[0]) * kBlsAbsX + r1[0];
    const Limbs<4> k1{static_cast<uint64_t>(k1v), static_cast<uint64_t>(k1v >> 64), 0, 0};
    const Affine<F> phi_neg{fp(kBeta) * p.x, -p.y, false};
    return double_scalar_mul(p, k1, phi_neg, k2);
}

/// ZCash serialisation of a compressed G1 point (48 bytes, flags in the top three bits):
/// compressed, infinity (then every other bit zero) and sign (y is the larger root).
bool decode_g1_compressed(const uint8_t* in, Affine<F>& out) noexcept {
    const uint8_t flags = in[0];
    if ((flags & 0x80) == 0) {
        return false;
    }
    const bool inf = (flags & 0x40) != 0;
    const bool sign = (flags & 0x20) != 0;
    std::array<uint8_t, 48> xb{};
    std::copy(in, in + 48, xb.begin());  // NOLINT
    xb[0] &= 0x1f;
    if (inf) {
        if (sign) {
            return false;
        }
        for (const uint8_t b : xb) {
            if (b != 0) {
                return false;
            }
        }
        out = {};
        return true;
    }
    F x;
    if (!F::from_be(xb.data(), x)) {
        return false;
    }
    const F rhs = x.sqr() * x + F::from_u64(4);
    // p = 3 mod 4: the candidate root is rhs^((p + 1)/4).
    Limbs<6> e = F::kP;
    limbs_add(e, Limbs<6>{1, 0, 0, 0});
    e = limbs_div_small(e, 4);
    F y = rhs.pow(e);
    if (!(y.sqr() == rhs)) {
        return false;
    }
    // y is "larger" when y > (p - 1)/2, i.e. y > p - y.
    const Limbs<6> yl = y.to_limbs();
    const Limbs<6> nyl = (-y).to_limbs();
    const bool larger = !y.is_zero() && !limbs_geq(nyl, yl);
    if (larger != sign) {
        y = -y;
    }
    const Affine<F> p{x, y, false};
    if (!in_g1(p)) {
        return false;
    }
    out = p;
    return true;
}

/// A 32-byte big-endian scalar below r.
bool decode_scalar(const uint8_t* in, Limbs<4>& out) noexcept {
    out = limbs_from_be<4>(in);
    return !limbs_geq(out, kOrder);
}

}  // namespace

std::optional<bool> kzg_verify_proof(const uint8_t* commitment, const uint8_t* z, const uint8_t* y,
                                     const uint8_t* proof) noexcept {
    Limbs<4> zs;
    Limbs<4> ys;
    Affine<F> c;
    Affine<F> pi;
    if (!decode_scalar(z, zs) || !decode_scalar(y, ys) || !decode_g1_compressed(commitment, c) ||
        !decode_g1_compressed(proof, pi)) {
        return std::nullopt;
    }
    // The specification's check e(P - [y]G1, -G2) * e(proof, [tau]G2 - [z]G2) == 1, rewritten by
    // bilinearity as e(P - [y]G1 + [z]proof, -G2) * e(proof, [tau]G2) == 1 so that both scalar
    // multiplications happen in G1 (three times cheaper than in G2) and the G2 side is fixed.
    const Jacobian<F> lhs =
        jac_add(jac_add(to_jacobian(c), jac_neg(g1_mul(g1_generator(), ys))), g1_mul(pi, zs));
    const Affine<F> a = to_affine(lhs);
    // The G2 side is fixed: its Miller-loop lines are computed once.
    static const BlsPairing::Prepared neg_g2 = [] {
        Affine<E2> q = g2_generator();
        q.y = -q.y;
        return BlsPairing::prepare(q);
    }();
    static const BlsPairing::Prepared tau = BlsPairing::prepare(tau_g2());

    std::array<Affine<F>, 2> ps{};
    std::array<const BlsPairing::Prepared*, 2> qs{};
    size_t n = 0;
    if (!a.inf) {
        ps[n] = a;
        qs[n++] = &neg_g2;
    }
    if (!pi.inf) {
        ps[n] = pi;
        qs[n++] = &tau;
    }
    if (n == 0) {
        return true;
    }
    const auto f =
        BlsPairing::miller_loop(std::span<const Affine<F>>(ps.data(), n),
                                std::span<const BlsPairing::Prepared* const>(qs.data(), n));
    return BlsPairing::final_exponentiation(f).is_one();
}

/// Test hook: the generators and [tau]G2 are on their curves and in the r-torsion.
bool test_bls12_381_constants_valid() noexcept {
    const auto in_group = [](const auto& p, const auto& b) {
        return on_curve(p.x, p.y, b) && scalar_mul(p, kOrder).is_inf();
    };
    // The split multiplication agrees with double-and-add (r - 1 exercises both halves).
    Limbs<4> k = kOrder;
    k[0] -= 1;
    const Affine<F> a = to_affine(g1_mul(g1_generator(), k));
    const Affine<F> b = to_affine(scalar_mul(g1_generator(), k));
    if (a.inf || b.inf || !(a.x == b.x) || !(a.y == b.y)) {
        return false;
    }
    return in_group(g1_generator(), F::from_u64(4)) && in_g1(g1_generator()) &&
           in_group(g2_generator(), Bls381Pairing::twist_b()) &&
           in_group(tau_g2(), Bls381Pairing::twist_b());
}

}  // namespace pel::vm::internal
