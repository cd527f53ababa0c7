// SPDX-License-Identifier: Apache-2.0
// Private to vm/precompiles: short-Weierstrass curves y^2 = x^3 + b (a = 0) over Fp or Fp2, and
// the optimal ate pairing shared by bn254 and BLS12-381. Formulas: Jacobian doubling dbl-2009-l
// and addition add-2007-bl (Explicit-Formulas Database); Miller-loop steps in homogeneous
// projective twist coordinates after Costello, Lange and Naehrig, "Faster pairing computations
// on curves with high-degree twists" (PKC 2010). Plain value types; not constant time.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "vm/precompiles/field.hpp"

namespace pel::vm::internal {

template <class F>
struct Affine {
    F x, y;
    bool inf = true;
};

/// Jacobian coordinates: (X/Z^2, Y/Z^3); Z == 0 is the point at infinity.
template <class F>
struct Jacobian {
    F x, y, z;

    [[nodiscard]] bool is_inf() const noexcept { return z.is_zero(); }
};

template <class F>
[[nodiscard]] bool on_curve(const F& x, const F& y, const F& b) noexcept {
    return y.sqr() == x.sqr() * x + b;
}

template <class F>
[[nodiscard]] Jacobian<F> to_jacobian(const Affine<F>& p) noexcept {
    if (p.inf) {
        return {F::one(), F::one(), F::zero()};
    }
    return {p.x, p.y, F::one()};
}

template <class F>
[[nodiscard]] Affine<F> to_affine(const Jacobian<F>& p) noexcept {
    if (p.is_inf()) {
        return {};
    }
    const F zi = p.z.inv();
    const F zi2 = zi.sqr();
    return {p.x * zi2, p.y * zi2 * zi, false};
}

template <class F>
[[nodiscard]] Jacobian<F> jac_double(const Jacobian<F>& p) noexcept {
    if (p.is_inf()) {
        return p;
    }
    const F a = p.x.sqr();
    const F b = p.y.sqr();
    const F c = b.sqr();
    const F d = ((p.x + b).sqr() - a - c).dbl();
    const F e = a.dbl() + a;
    const F f = e.sqr();
    const F x3 = f - d.dbl();
    const F c8 = c.dbl().dbl().dbl();
    return {x3, e * (d - x3) - c8, (p.y * p.z).dbl()};
}

template <class F>
[[nodiscard]] Jacobian<F> jac_add(const Jacobian<F>& p, const Jacobian<F>& q) noexcept {
    if (p.is_inf()) {
        return q;
    }
    if (q.is_inf()) {
        return p;
    }
    const F z1z1 = p.z.sqr();
    const F z2z2 = q.z.sqr();
    const F u1 = p.x * z2z2;
    const F u2 = q.x * z1z1;
    const F s1 = p.y * q.z * z2z2;
    const F s2 = q.y * p.z * z1z1;
    const F h = u2 - u1;
    const F r = (s2 - s1).dbl();
    if (h.is_zero()) {
        if (r.is_zero()) {
            return jac_double(p);
        }
        return {F::one(), F::one(), F::zero()};
    }
    const F i = h.dbl().sqr();
    const F j = h * i;
    const F v = u1 * i;
    const F x3 = r.sqr() - j - v.dbl();
    return {x3, r * (v - x3) - (s1 * j).dbl(), ((p.z + q.z).sqr() - z1z1 - z2z2) * h};
}

template <class F>
[[nodiscard]] Jacobian<F> jac_neg(const Jacobian<F>& p) noexcept {
    return {p.x, -p.y, p.z};
}

/// p + q for an affine q (madd-2007-bl), cheaper than jac_add.
template <class F>
[[nodiscard]] Jacobian<F> jac_add_affine(const Jacobian<F>& p, const Affine<F>& q) noexcept {
    if (q.inf) {
        return p;
    }
    if (p.is_inf()) {
        return to_jacobian(q);
    }
    const F z1z1 = p.z.sqr();
    const F u2 = q.x * z1z1;
    const F s2 = q.y * p.z * z1z1;
    const F h = u2 - p.x;
    const F r = (s2 - p.y).dbl();
    if (h.is_zero()) {
        if (r.is_zero()) {
            return jac_double(p);
        }
        return {F::one(), F::one(), F::zero()};
    }
    const F hh = h.sqr();
    const F i = hh.dbl().dbl();
    const F j = h * i;
    const F v = p.x * i;
    const F x3 = r.sqr() - j - v.dbl();
    return {x3, r * (v - x3) - (p.y * j).dbl(), (p.z + h).sqr() - z1z1 - hh};
}

/// [k]p by double-and-add, most significant bit first.
template <class F, size_t M>
[[nodiscard]] Jacobian<F> scalar_mul(const Affine<F>& p, const Limbs<M>& k) noexcept {
    Jacobian<F> r{F::one(), F::one(), F::zero()};
    for (size_t i = limbs_bit_width(k); i-- > 0;) {
        r = jac_double(r);
        if (limbs_bit(k, i)) {
            r = jac_add_affine(r, p);
        }
    }
    return r;
}

/// [k1]p1 + [k2]p2 with shared doublings (Straus-Shamir), affine inputs.
template <class F, size_t M>
[[nodiscard]] Jacobian<F> double_scalar_mul(const Affine<F>& p1, const Limbs<M>& k1,
                                            const Affine<F>& p2, const Limbs<M>& k2) noexcept {
    const Affine<F> p12 = to_affine(jac_add_affine(to_jacobian(p1), p2));
    Jacobian<F> r{F::one(), F::one(), F::zero()};
    for (size_t i = std::max(limbs_bit_width(k1), limbs_bit_width(k2)); i-- > 0;) {
        r = jac_double(r);
        const bool b1 = limbs_bit(k1, i);
        const bool b2 = limbs_bit(k2, i);
        if (b1 && b2) {
            r = jac_add_affine(r, p12);
        } else if (b1) {
            r = jac_add_affine(r, p1);
        } else if (b2) {
            r = jac_add_affine(r, p2);
        }
    }
    return r;
}

/// The non-adjacent form of a constant (for fixed scalars such as a group order): digits in
/// {-1, 0, 1}, least significant first, about a third of them nonzero.
template <size_t M>
struct Naf {
    std::array<int8_t, 64 * M + 1> digits{};
    size_t len = 0;
};

template <size_t M>
[[nodiscard]] constexpr Naf<M> make_naf(Limbs<M> k) noexcept {
    Naf<M> naf;
    Limbs<M> one{};
    one[0] = 1;
    while (!limbs_is_zero(k)) {
        int8_t d = 0;
        if ((k[0] & 1) != 0) {
            d = (k[0] & 3) == 1 ? 1 : -1;
            if (d == 1) {
                limbs_sub(k, one);
            } else {
                limbs_add(k, one);
            }
        }
        naf.digits[naf.len++] = d;
        for (size_t i = 0; i < M; ++i) {
            k[i] = (k[i] >> 1) | (i + 1 < M ? k[i + 1] << 63 : 0);
        }
    }
    return naf;
}

/// [k]p for a constant k given as its NAF.
template <class F, size_t M>
[[nodiscard]] Jacobian<F> scalar_mul_naf(const Affine<F>& p, const Naf<M>& naf) noexcept {
    const Affine<F> neg{p.x, -p.y, p.inf};
    Jacobian<F> r{F::one(), F::one(), F::zero()};
    for (size_t i = naf.len; i-- > 0;) {
        r = jac_double(r);
        if (naf.digits[i] > 0) {
            r = jac_add_affine(r, p);
        }
        if (naf.digits[i] < 0) {
            r = jac_add_affine(r, neg);
        }
    }
    return r;
}

// --- pairing ------------------------------------------------------------------------------------

/// PC (pairing config) provides:
///   using Cfg;                            field config of Fp/Fp2/... (kLimbs, kModulus, kXiA)
///   static constexpr bool kDTwist;        E': y^2 = x^3 + b/xi (D) or x^3 + b*xi (M)
///   static constexpr std::array<int8_t, K> kLoop;   Miller-loop digits, most significant first,
///                                         the leading 1 excluded
///   static constexpr bool kNegativeX;     conjugate f after the loop (BLS12-381)
///   static constexpr bool kBnFinalLines;  add the lines through pi(Q) and -pi^2(Q) (BN curves)
///   static constexpr uint64_t kX;        |x|, the curve family parameter
///   static Fp2 twist_b();                 b of E'
template <class PC>
class Pairing {
  public:
    using Cfg = typename PC::Cfg;
    using F = Fp<Cfg>;
    using E2 = Fp2<Cfg>;
    using E6 = Fp6<Cfg>;
    using E12 = Fp12<Cfg>;

    struct Pair {
        Affine<F> p;   // in G1, not infinity
        Affine<E2> q;  // in G2 (on the twist), not infinity
    };

    /// The Frobenius constants xi^(i (p-1)/6), i = 0..5.
    static const std::array<E2, 6>& gammas() noexcept {
        static const std::array<E2, 6> g = [] {
            Limbs<F::kN> e = F::kP;
            e[0] -= 1;  // p is odd
            e = limbs_div_small(e, 6);
            const E2 xi{F::from_u64(Cfg::kXiA), F::one()};
            const E2 g1 = xi.pow(e);
            std::array<E2, 6> out{};
            out[0] = E2::one();
            for (size_t i = 1; i < 6; ++i) {
                out[i] = out[i - 1] * g1;
            }
            return out;
        }();
        return g;
    }

    [[nodiscard]] static E12 frobenius(const E12& a) noexcept {
        const auto& g = gammas();
        return {{a.c0.c0.conj(), a.c0.c1.conj() * g[2], a.c0.c2.conj() * g[4]},
                {a.c1.c0.conj() * g[1], a.c1.c1.conj() * g[3], a.c1.c2.conj() * g[5]}};
    }

    /// The p-power Frobenius endomorphism on twist points (valid for the D-type twist).
    [[nodiscard]] static Affine<E2> twist_frobenius(const Affine<E2>& q) noexcept {
        const auto& g = gammas();
        return {q.x.conj() * g[2], q.y.conj() * g[3], q.inf};
    }

    /// A line evaluated at P as a*yP + b*xP + c, with the terms placed per the twist type.
    struct Line {
        E2 a, b, c;
    };

    /// The Miller-loop lines of one G2 point, independent of P: compute once for a fixed Q.
    struct Prepared {
        std::vector<Line> lines;
    };

    [[nodiscard]] static Prepared prepare(const Affine<E2>& q) noexcept {
        Prepared out;
        out.lines.reserve(PC::kLoop.size() * 2 + 2);
        Proj t{q.x, q.y, E2::one()};
        const E2 b3 = PC::twist_b() * F::from_u64(3);
        const F two_inv = F::from_u64(2).inv();
        const Affine<E2> neg_q{q.x, -q.y, false};
        for (const int8_t digit : PC::kLoop) {
            out.lines.push_back(double_step(t, b3, two_inv));
            if (digit > 0) {
                out.lines.push_back(add_step(t, q));
            }
            if (digit < 0) {
                out.lines.push_back(add_step(t, neg_q));
            }
        }
        if constexpr (PC::kBnFinalLines) {
            const Affine<E2> q1 = twist_frobenius(q);
            Affine<E2> q2 = twist_frobenius(q1);
            q2.y = -q2.y;
            out.lines.push_back(add_step(t, q1));
            out.lines.push_back(add_step(t, q2));
        }
        return out;
    }

    /// prod f_{Q_k}(P_k), sharing the squarings; `ps` and `qs` have the same length.
    [[nodiscard]] static E12 miller_loop(std::span<const Affine<F>> ps,
                                         std::span<const Prepared* const> qs) noexcept {
        E12 f = E12::one();
        size_t idx = 0;
        const auto mul_lines = [&]() {
            for (size_t k = 0; k < ps.size(); ++k) {
                f = mul_line(f, qs[k]->lines[idx], ps[k]);
            }
            ++idx;
        };
        for (const int8_t digit : PC::kLoop) {
            f = f.sqr();
            mul_lines();
            if (digit != 0) {
                mul_lines();
            }
        }
        if constexpr (PC::kBnFinalLines) {
            mul_lines();
            mul_lines();
        }
        if constexpr (PC::kNegativeX) {
            f = f.conj();
        }
        return f;
    }

    [[nodiscard]] static E12 miller_loop(std::span<const Pair> pairs) noexcept {
        std::vector<Affine<F>> ps(pairs.size());
        std::vector<Prepared> prepared(pairs.size());
        std::vector<const Prepared*> qs(pairs.size());
        for (size_t k = 0; k < pairs.size(); ++k) {
            ps[k] = pairs[k].p;
            prepared[k] = prepare(pairs[k].q);
            qs[k] = &prepared[k];
        }
        return miller_loop(ps, qs);
    }

    /// f^e in the cyclotomic subgroup, e > 0.
    [[nodiscard]] static E12 cyclotomic_pow(const E12& f, uint64_t e) noexcept {
        E12 r = f;
        for (int i = 62 - std::countl_zero(e); i >= 0; --i) {
            r = r.cyclotomic_sqr();
            if (((e >> i) & 1) != 0) {
                r *= f;
            }
        }
        return r;
    }

    /// f^((p^12 - 1)/r) up to a fixed exponent coprime to r (which a pairing check may ignore):
    /// BN: 2x(6x^2 + 3x + 1); BLS12: 3.
    [[nodiscard]] static E12 final_exponentiation(const E12& f) noexcept {
        // Easy part: f^((p^6 - 1)(p^2 + 1)); the result lies in the cyclotomic subgroup, where
        // the inverse is the conjugate.
        E12 t = f.conj() * f.inv();
        t = frobenius(frobenius(t)) * t;
        if constexpr (PC::kBnFinalLines) {
            return hard_part_bn(t);
        } else {
            return hard_part_bls12(t);
        }
    }

    /// BN hard part after Fuentes-Castaneda, Knapp and Rodriguez-Henriquez, "Faster hashing to
    /// G2" (SAC 2011): f^(l0 + l1 p + l2 p^2 + l3 p^3) = f^(2x(6x^2 + 3x + 1)(p^4 - p^2 + 1)/r)
    /// with l1 = 12x^3 + 6x^2 + 4x, l0 = l1 + 6x^2 + 2x + 1, l2 = l1 + 2x, l3 = l1 - 1 (x > 0).
    [[nodiscard]] static E12 hard_part_bn(const E12& f) noexcept {
        const E12 a = cyclotomic_pow(f, PC::kX);  // f^x
        const E12 b = cyclotomic_pow(a, PC::kX);  // f^(x^2)
        const E12 c = cyclotomic_pow(b, PC::kX);  // f^(x^3)
        const E12 a2 = a.cyclotomic_sqr();
        const E12 b2 = b.cyclotomic_sqr();
        const E12 b6 = b2.cyclotomic_sqr() * b2;
        const E12 c4 = c.cyclotomic_sqr().cyclotomic_sqr();
        const E12 c12 = c4.cyclotomic_sqr() * c4;
        const E12 l1 = c12 * b6 * a2.cyclotomic_sqr();
        const E12 l0 = l1 * b6 * a2 * f;
        const E12 l2 = l1 * a2;
        const E12 l3 = l1 * f.conj();
        return l0 * frobenius(l1) * frobenius(frobenius(l2)) * frobenius(frobenius(frobenius(l3)));
    }

    /// BLS12 hard part (x < 0): 3 (p^4 - p^2 + 1)/r = (x - 1)^2 (x + p)(x^2 + p^2 - 1) + 3
    /// (Hayashida, Hayasaka and Teruya, "Efficient final exponentiation via cyclotomic
    /// structure for pairings over families of elliptic curves", 2020).
    [[nodiscard]] static E12 hard_part_bls12(const E12& f) noexcept {
        const auto pow_x = [](const E12& g) { return cyclotomic_pow(g, PC::kX).conj(); };  // g^x
        const E12 y1 = pow_x(f) * f.conj();                                      // f^(x-1)
        const E12 y2 = pow_x(y1) * y1.conj();                                    // f^((x-1)^2)
        const E12 y3 = pow_x(y2) * frobenius(y2);                                // ..^(x+p)
        const E12 y4 = pow_x(pow_x(y3)) * frobenius(frobenius(y3)) * y3.conj();  // ..^(x^2+p^2-1)
        return y4 * f.cyclotomic_sqr() * f;
    }

    /// prod e(p_i, q_i) == 1. Pairs are assumed valid (on curve, in the subgroups, finite).
    [[nodiscard]] static bool check(std::span<const Pair> pairs) noexcept {
        if (pairs.empty()) {
            return true;
        }
        return final_exponentiation(miller_loop(pairs)).is_one();
    }

  private:
    struct Proj {
        E2 x, y, z;
    };

    static Line double_step(Proj& t, const E2& b3, const F& two_inv) noexcept {
        const E2 a = t.x * t.y * two_inv;
        const E2 b = t.y.sqr();
        const E2 c = t.z.sqr();
        const E2 e = b3 * c;
        const E2 f3 = e.dbl() + e;
        const E2 g = (b + f3) * two_inv;
        const E2 h = (t.y + t.z).sqr() - (b + c);
        const E2 i = e - b;
        const E2 j = t.x.sqr();
        const E2 e2 = e.sqr();
        t.x = a * (b - f3);
        t.y = g.sqr() - (e2.dbl() + e2);
        t.z = b * h;
        return {-h, j.dbl() + j, i};
    }

    static Line add_step(Proj& t, const Affine<E2>& q) noexcept {
        const E2 theta = t.y - q.y * t.z;
        const E2 lambda = t.x - q.x * t.z;
        const E2 c = theta.sqr();
        const E2 d = lambda.sqr();
        const E2 e = lambda * d;
        const E2 ff = t.z * c;
        const E2 g = t.x * d;
        const E2 h = e + ff - g.dbl();
        const E2 j = theta * q.x - lambda * q.y;
        t.x = lambda * h;
        t.y = theta * (g - h) - t.y * e;
        t.z = t.z * e;
        return {lambda, -theta, j};
    }

    /// f * line(P).
    static E12 mul_line(const E12& f, const Line& l, const Affine<F>& p) noexcept {
        if constexpr (PC::kDTwist) {
            return f.mul_by_034(l.a * p.y, l.b * p.x, l.c);
        } else {
            return f.mul_by_014(l.c, l.b * p.x, l.a * p.y);
        }
    }
};

}  // namespace pel::vm::internal
