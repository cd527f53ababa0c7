// SPDX-License-Identifier: Apache-2.0
// Private to vm/precompiles: prime-field arithmetic in Montgomery form over N 64-bit limbs and the
// pairing-friendly tower Fp2 = Fp[u]/(u^2 + 1), Fp6 = Fp2[v]/(v^3 - xi), Fp12 = Fp6[w]/(w^2 - v)
// with xi = k + u, shared by bn254 (k = 9) and BLS12-381 (k = 1). Values are plain value types;
// nothing here is secret, so nothing is constant time.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

namespace pel::vm::internal {

__extension__ using u128 = unsigned __int128;

template <size_t N>
using Limbs = std::array<uint64_t, N>;

// --- multi-limb helpers (least significant limb first) -------------------------------------------

template <size_t N>
[[nodiscard]] constexpr bool limbs_geq(const Limbs<N>& a, const Limbs<N>& b) noexcept {
    for (size_t i = N; i-- > 0;) {
        if (a[i] != b[i]) {
            return a[i] > b[i];
        }
    }
    return true;
}

template <size_t N>
[[nodiscard]] constexpr bool limbs_is_zero(const Limbs<N>& a) noexcept {
    uint64_t acc = 0;
    for (size_t i = 0; i < N; ++i) {
        acc |= a[i];
    }
    return acc == 0;
}

/// a += b, returns the carry out.
template <size_t N>
constexpr uint64_t limbs_add(Limbs<N>& a, const Limbs<N>& b) noexcept {
#if defined(__x86_64__)
    if (!std::is_constant_evaluated()) {
        // Compiles to one add/adc chain, which the u128 form below does not.
        unsigned char c = 0;
        for (size_t i = 0; i < N; ++i) {
            unsigned long long r = 0;  // NOLINT(google-runtime-int): the intrinsic's type
            c = _addcarry_u64(c, a[i], b[i], &r);
            a[i] = r;
        }
        return c;
    }
#endif
    uint64_t carry = 0;
    for (size_t i = 0; i < N; ++i) {
        const u128 t = static_cast<u128>(a[i]) + b[i] + carry;
        a[i] = static_cast<uint64_t>(t);
        carry = static_cast<uint64_t>(t >> 64);
    }
    return carry;
}

/// a -= b, returns the borrow out.
template <size_t N>
constexpr uint64_t limbs_sub(Limbs<N>& a, const Limbs<N>& b) noexcept {
#if defined(__x86_64__)
    if (!std::is_constant_evaluated()) {
        unsigned char c = 0;
        for (size_t i = 0; i < N; ++i) {
            unsigned long long r = 0;  // NOLINT(google-runtime-int)
            c = _subborrow_u64(c, a[i], b[i], &r);
            a[i] = r;
        }
        return c;
    }
#endif
    uint64_t borrow = 0;
    for (size_t i = 0; i < N; ++i) {
        const u128 t = static_cast<u128>(a[i]) - b[i] - borrow;
        a[i] = static_cast<uint64_t>(t);
        borrow = static_cast<uint64_t>(t >> 64) & 1;
    }
    return borrow;
}

/// a / d for a small divisor (exact or truncating).
template <size_t N>
[[nodiscard]] constexpr Limbs<N> limbs_div_small(const Limbs<N>& a, uint64_t d) noexcept {
    Limbs<N> q{};
    u128 rem = 0;
    for (size_t i = N; i-- > 0;) {
        const u128 cur = (rem << 64) | a[i];
        q[i] = static_cast<uint64_t>(cur / d);
        rem = cur % d;
    }
    return q;
}

template <size_t N>
[[nodiscard]] constexpr bool limbs_bit(const Limbs<N>& a, size_t i) noexcept {
    return ((a[i / 64] >> (i % 64)) & 1) != 0;
}

template <size_t N>
[[nodiscard]] constexpr size_t limbs_bit_width(const Limbs<N>& a) noexcept {
    for (size_t i = N; i-- > 0;) {
        if (a[i] != 0) {
            size_t w = 0;
            for (uint64_t v = a[i]; v != 0; v >>= 1) {
                ++w;
            }
            return i * 64 + w;
        }
    }
    return 0;
}

/// Big-endian bytes (exactly 8N) to limbs.
template <size_t N>
[[nodiscard]] constexpr Limbs<N> limbs_from_be(const uint8_t* p) noexcept {
    Limbs<N> r{};
    for (size_t i = 0; i < N; ++i) {
        uint64_t w = 0;
        for (size_t j = 0; j < 8; ++j) w = (w << 8) | p[(N - 1 - i) * 8 + j];  // NOLINT
        r[i] = w;
    }
    return r;
}

template <size_t N>
constexpr void limbs_to_be(const Limbs<N>& a, uint8_t* out) noexcept {
    for (size_t i = 0; i < N; ++i) {
        for (size_t j = 0; j < 8; ++j) {
            out[(N - 1 - i) * 8 + j] = static_cast<uint8_t>(a[i] >> (56 - 8 * j));  // NOLINT
        }
    }
}

/// -p^-1 mod 2^64 by Newton iteration (p odd).
[[nodiscard]] constexpr uint64_t mont_neg_inv(uint64_t p0) noexcept {
    uint64_t inv = 1;
    for (int i = 0; i < 7; ++i) {
        inv *= 2 - p0 * inv;
    }
    return 0 - inv;
}

/// 2^k mod p by doubling (p below 2^(64N)).
template <size_t N>
[[nodiscard]] constexpr Limbs<N> pow2_mod(const Limbs<N>& p, size_t k) noexcept {
    Limbs<N> x{};
    x[0] = 1;
    for (size_t i = 0; i < k; ++i) {
        Limbs<N> y = x;
        const uint64_t carry = limbs_add(y, x);
        if (carry != 0 || limbs_geq(y, p)) {
            limbs_sub(y, p);
        }
        x = y;
    }
    return x;
}

// --- Fp -----------------------------------------------------------------------------------------

/// Cfg provides `static constexpr size_t kLimbs` and `static constexpr Limbs<kLimbs> kModulus`
/// (odd, top bit of the top limb clear).
template <class Cfg>
class Fp {
  public:
    static constexpr size_t kN = Cfg::kLimbs;
    using L = Limbs<kN>;
    static constexpr L kP = Cfg::kModulus;
    static constexpr uint64_t kInv = mont_neg_inv(kP[0]);
    static constexpr L kR = pow2_mod(kP, 64 * kN);
    static constexpr L kR2 = pow2_mod(kP, 128 * kN);

    L v{};  // Montgomery form: v = x * R mod p

    /// d += p & mask, one carry chain (the mask applied limb by limb in the chain keeps GCC from
    /// vectorising it through the stack).
    static constexpr void add_p_masked(L& d, uint64_t mask) noexcept {
#if defined(__x86_64__)
        if (!std::is_constant_evaluated()) {
            unsigned char c = 0;
            for (size_t i = 0; i < kN; ++i) {
                unsigned long long r = 0;  // NOLINT(google-runtime-int): the intrinsic's type
                c = _addcarry_u64(c, d[i], kP[i] & mask, &r);
                d[i] = r;
            }
            return;
        }
#endif
        L pm{};
        for (size_t i = 0; i < kN; ++i) {
            pm[i] = kP[i] & mask;
        }
        limbs_add(d, pm);
    }

    /// `borrow` (0 or 1) ? x : y, without branching.
    [[nodiscard]] static constexpr L select(uint64_t borrow, const L& x, const L& y) noexcept {
        const uint64_t mask = 0 - borrow;
        L r{};
        for (size_t i = 0; i < kN; ++i) {
            r[i] = (x[i] & mask) | (y[i] & ~mask);
        }
        return r;
    }

    [[nodiscard]] static constexpr Fp zero() noexcept { return {}; }
    [[nodiscard]] static constexpr Fp one() noexcept { return raw(kR); }
    [[nodiscard]] static constexpr Fp raw(const L& m) noexcept {
        Fp r;
        r.v = m;
        return r;
    }
    /// From canonical limbs (must be < p).
    [[nodiscard]] static constexpr Fp from_limbs(const L& x) noexcept { return raw(x) * raw(kR2); }
    [[nodiscard]] static constexpr Fp from_u64(uint64_t x) noexcept {
        L l{};
        l[0] = x;
        return from_limbs(l);
    }
    /// Parses 8N big-endian bytes; false when the value is not below p.
    [[nodiscard]] static constexpr bool from_be(const uint8_t* p, Fp& out) noexcept {
        const L x = limbs_from_be<kN>(p);
        if (limbs_geq(x, kP)) {
            return false;
        }
        out = from_limbs(x);
        return true;
    }
    [[nodiscard]] constexpr L to_limbs() const noexcept {
        L one_l{};
        one_l[0] = 1;
        return (*this * raw(one_l)).v;
    }
    constexpr void to_be(uint8_t* out) const noexcept { limbs_to_be(to_limbs(), out); }

    [[nodiscard]] constexpr bool is_zero() const noexcept { return limbs_is_zero(v); }
    friend constexpr bool operator==(const Fp& a, const Fp& b) noexcept { return a.v == b.v; }

    // p < 2^(64N - 1) for both curves: a + b never carries out of N limbs, and the Montgomery
    // product below needs no extra carry word (the "no-carry" CIOS variant).
    static_assert(kP[kN - 1] < (~uint64_t{0} >> 1) - 1);

    friend constexpr Fp operator+(const Fp& a, const Fp& b) noexcept {
        // a + b = a - (p - b): two borrow chains and a masked correction, no comparison.
        L nb = kP;
        limbs_sub(nb, b.v);
        L d = a.v;
        const uint64_t borrow = limbs_sub(d, nb);
        add_p_masked(d, 0 - borrow);
        return raw(d);
    }
    friend constexpr Fp operator-(const Fp& a, const Fp& b) noexcept {
        L d = a.v;
        const uint64_t borrow = limbs_sub(d, b.v);
        add_p_masked(d, 0 - borrow);
        return raw(d);
    }
    friend constexpr Fp operator-(const Fp& a) noexcept { return zero() - a; }
    [[nodiscard]] constexpr Fp dbl() const noexcept { return *this + *this; }

    /// Montgomery product, finely integrated product scanning (Koc, Acar and Kaliski, "Analyzing
    /// and comparing Montgomery multiplication algorithms", 1996): column by column with a
    /// three-word accumulator, which keeps few values live and compiles to mul/add/adc runs.
    friend constexpr Fp operator*(const Fp& a, const Fp& b) noexcept {
        L m{};
        L t{};
        u128 acc = 0;  // the low two words of the accumulator
        uint64_t top = 0;
        const auto mac = [&acc, &top](uint64_t x, uint64_t y) {
            const u128 pr = static_cast<u128>(x) * y;
            acc += pr;
            top += acc < pr ? 1 : 0;
        };
        const auto shift = [&acc, &top]() {
            acc = (acc >> 64) | (static_cast<u128>(top) << 64);
            top = 0;
        };
        for (size_t i = 0; i < kN; ++i) {
            for (size_t j = 0; j < i; ++j) {
                mac(a.v[j], b.v[i - j]);
                mac(m[j], kP[i - j]);
            }
            mac(a.v[i], b.v[0]);
            m[i] = static_cast<uint64_t>(acc) * kInv;
            mac(m[i], kP[0]);  // clears the low word
            shift();
        }
        for (size_t i = kN; i < 2 * kN - 1; ++i) {
            for (size_t j = i - kN + 1; j < kN; ++j) {
                mac(a.v[j], b.v[i - j]);
                mac(m[j], kP[i - j]);
            }
            t[i - kN] = static_cast<uint64_t>(acc);
            shift();
        }
        t[kN - 1] = static_cast<uint64_t>(acc);  // below 2p < 2^(64N): nothing above
        L red = t;
        const uint64_t borrow = limbs_sub(red, kP);
        return raw(select(borrow, t, red));
    }

    [[nodiscard]] constexpr Fp sqr() const noexcept { return *this * *this; }

    Fp& operator+=(const Fp& b) noexcept { return *this = *this + b; }
    Fp& operator-=(const Fp& b) noexcept { return *this = *this - b; }
    Fp& operator*=(const Fp& b) noexcept { return *this = *this * b; }

    template <size_t M>
    [[nodiscard]] constexpr Fp pow(const Limbs<M>& e) const noexcept {
        Fp r = one();
        for (size_t i = limbs_bit_width(e); i-- > 0;) {
            r = r.sqr();
            if (limbs_bit(e, i)) {
                r *= *this;
            }
        }
        return r;
    }
    /// a^(p-2); zero maps to zero.
    [[nodiscard]] constexpr Fp inv() const noexcept {
        L e = kP;
        L two{};
        two[0] = 2;
        limbs_sub(e, two);
        return pow(e);
    }
};

// --- Fp2 = Fp[u]/(u^2 + 1); Cfg adds `static constexpr uint64_t kXiA` (xi = kXiA + u) ------------

template <class Cfg>
struct Fp2 {
    using F = Fp<Cfg>;
    F c0, c1;

    [[nodiscard]] static constexpr Fp2 zero() noexcept { return {}; }
    [[nodiscard]] static constexpr Fp2 one() noexcept { return {F::one(), F::zero()}; }
    [[nodiscard]] constexpr bool is_zero() const noexcept { return c0.is_zero() && c1.is_zero(); }
    friend constexpr bool operator==(const Fp2& a, const Fp2& b) noexcept {
        return a.c0 == b.c0 && a.c1 == b.c1;
    }
    friend constexpr Fp2 operator+(const Fp2& a, const Fp2& b) noexcept {
        return {a.c0 + b.c0, a.c1 + b.c1};
    }
    friend constexpr Fp2 operator-(const Fp2& a, const Fp2& b) noexcept {
        return {a.c0 - b.c0, a.c1 - b.c1};
    }
    friend constexpr Fp2 operator-(const Fp2& a) noexcept { return {-a.c0, -a.c1}; }
    friend constexpr Fp2 operator*(const Fp2& a, const Fp2& b) noexcept {
        const F v0 = a.c0 * b.c0;
        const F v1 = a.c1 * b.c1;
        return {v0 - v1, (a.c0 + a.c1) * (b.c0 + b.c1) - v0 - v1};
    }
    friend constexpr Fp2 operator*(const Fp2& a, const F& b) noexcept {
        return {a.c0 * b, a.c1 * b};
    }
    [[nodiscard]] constexpr Fp2 sqr() const noexcept {
        const F t = c0 * c1;
        return {(c0 + c1) * (c0 - c1), t + t};
    }
    [[nodiscard]] constexpr Fp2 dbl() const noexcept { return {c0.dbl(), c1.dbl()}; }
    [[nodiscard]] constexpr Fp2 conj() const noexcept { return {c0, -c1}; }
    /// Multiplication by xi = k + u: (k a0 - a1) + (a0 + k a1) u.
    [[nodiscard]] constexpr Fp2 mul_by_xi() const noexcept {
        if constexpr (Cfg::kXiA == 1) {
            return {c0 - c1, c0 + c1};
        } else {
            static_assert(Cfg::kXiA == 9);
            const F a8 = c0.dbl().dbl().dbl();
            const F b8 = c1.dbl().dbl().dbl();
            return {a8 + c0 - c1, c0 + b8 + c1};
        }
    }
    [[nodiscard]] constexpr Fp2 inv() const noexcept {
        const F t = (c0.sqr() + c1.sqr()).inv();
        return {c0 * t, -(c1 * t)};
    }
    Fp2& operator+=(const Fp2& b) noexcept { return *this = *this + b; }
    Fp2& operator-=(const Fp2& b) noexcept { return *this = *this - b; }
    Fp2& operator*=(const Fp2& b) noexcept { return *this = *this * b; }

    template <size_t M>
    [[nodiscard]] constexpr Fp2 pow(const Limbs<M>& e) const noexcept {
        Fp2 r = one();
        for (size_t i = limbs_bit_width(e); i-- > 0;) {
            r = r.sqr();
            if (limbs_bit(e, i)) {
                r *= *this;
            }
        }
        return r;
    }
};

// --- Fp6 = Fp2[v]/(v^3 - xi)
// ----------------------------------------------------------------------

template <class Cfg>
struct Fp6 {
    using E2 = Fp2<Cfg>;
    E2 c0, c1, c2;

    [[nodiscard]] static constexpr Fp6 zero() noexcept { return {}; }
    [[nodiscard]] static constexpr Fp6 one() noexcept { return {E2::one(), {}, {}}; }
    [[nodiscard]] constexpr bool is_zero() const noexcept {
        return c0.is_zero() && c1.is_zero() && c2.is_zero();
    }
    friend constexpr bool operator==(const Fp6& a, const Fp6& b) noexcept {
        return a.c0 == b.c0 && a.c1 == b.c1 && a.c2 == b.c2;
    }
    friend constexpr Fp6 operator+(const Fp6& a, const Fp6& b) noexcept {
        return {a.c0 + b.c0, a.c1 + b.c1, a.c2 + b.c2};
    }
    friend constexpr Fp6 operator-(const Fp6& a, const Fp6& b) noexcept {
        return {a.c0 - b.c0, a.c1 - b.c1, a.c2 - b.c2};
    }
    friend constexpr Fp6 operator-(const Fp6& a) noexcept { return {-a.c0, -a.c1, -a.c2}; }
    friend constexpr Fp6 operator*(const Fp6& a, const Fp6& b) noexcept {
        const E2 t0 = a.c0 * b.c0;
        const E2 t1 = a.c1 * b.c1;
        const E2 t2 = a.c2 * b.c2;
        return {t0 + ((a.c1 + a.c2) * (b.c1 + b.c2) - t1 - t2).mul_by_xi(),
                (a.c0 + a.c1) * (b.c0 + b.c1) - t0 - t1 + t2.mul_by_xi(),
                (a.c0 + a.c2) * (b.c0 + b.c2) - t0 - t2 + t1};
    }
    /// a * (b0 + b1 v) (b2 = 0), used by sparse line multiplication.
    [[nodiscard]] constexpr Fp6 mul_by_01(const E2& b0, const E2& b1) const noexcept {
        const E2 t0 = c0 * b0;
        const E2 t1 = c1 * b1;
        return {t0 + ((c1 + c2) * b1 - t1).mul_by_xi(), (c0 + c1) * (b0 + b1) - t0 - t1,
                (c0 + c2) * b0 - t0 + t1};
    }
    /// a * b1 v.
    [[nodiscard]] constexpr Fp6 mul_by_1(const E2& b1) const noexcept {
        return {(c2 * b1).mul_by_xi(), c0 * b1, c1 * b1};
    }
    [[nodiscard]] constexpr Fp6 sqr() const noexcept { return *this * *this; }
    /// Multiplication by v: (a0, a1, a2) v = (xi a2, a0, a1).
    [[nodiscard]] constexpr Fp6 mul_by_v() const noexcept { return {c2.mul_by_xi(), c0, c1}; }
    [[nodiscard]] constexpr Fp6 inv() const noexcept {
        const E2 a = c0.sqr() - (c1 * c2).mul_by_xi();
        const E2 b = c2.sqr().mul_by_xi() - c0 * c1;
        const E2 c = c1.sqr() - c0 * c2;
        const E2 f = (c0 * a + (c2 * b + c1 * c).mul_by_xi()).inv();
        return {a * f, b * f, c * f};
    }
};

// --- Fp12 = Fp6[w]/(w^2 - v)
// ----------------------------------------------------------------------

template <class Cfg>
struct Fp12 {
    using E2 = Fp2<Cfg>;
    using E6 = Fp6<Cfg>;
    E6 c0, c1;

    [[nodiscard]] static constexpr Fp12 one() noexcept { return {E6::one(), {}}; }
    [[nodiscard]] constexpr bool is_one() const noexcept { return *this == one(); }
    friend constexpr bool operator==(const Fp12& a, const Fp12& b) noexcept {
        return a.c0 == b.c0 && a.c1 == b.c1;
    }
    friend constexpr Fp12 operator*(const Fp12& a, const Fp12& b) noexcept {
        const E6 t0 = a.c0 * b.c0;
        const E6 t1 = a.c1 * b.c1;
        return {t0 + t1.mul_by_v(), (a.c0 + a.c1) * (b.c0 + b.c1) - t0 - t1};
    }
    Fp12& operator*=(const Fp12& b) noexcept { return *this = *this * b; }
    [[nodiscard]] constexpr Fp12 sqr() const noexcept {
        const E6 t = c0 * c1;
        return {(c0 + c1) * (c0 + c1.mul_by_v()) - t - t.mul_by_v(), t + t};
    }
    [[nodiscard]] constexpr Fp12 conj() const noexcept { return {c0, -c1}; }
    [[nodiscard]] constexpr Fp12 inv() const noexcept {
        const E6 t = (c0.sqr() - c1.sqr().mul_by_v()).inv();
        return {c0 * t, -(c1 * t)};
    }
    /// Squaring in the cyclotomic subgroup (elements with f^(p^6 + 1) = 1, such as any f after
    /// the easy part of the final exponentiation), after Granger and Scott, "Faster squaring in
    /// the cyclotomic subgroup of sixth degree extensions" (PKC 2010). With s = w^3 (s^2 = xi),
    /// f = A0 + A1 w + A2 w^2 over Fp4 = Fp2[s], A0 = (c0.c0, c1.c1), A1 = (c1.c0, c0.c2),
    /// A2 = (c0.c1, c1.c2), and f^2 = (3 A0^2 - 2 conj A0) + (3 s A2^2 + 2 conj A1) w
    /// + (3 A1^2 - 2 conj A2) w^2.
    [[nodiscard]] constexpr Fp12 cyclotomic_sqr() const noexcept {
        // (a + b s)^2 = (a^2 + xi b^2) + 2ab s.
        const auto fp4_sqr = [](const E2& a, const E2& b, E2& r0, E2& r1) {
            const E2 ab = a * b;
            r0 = (a + b) * (a + b.mul_by_xi()) - ab - ab.mul_by_xi();
            r1 = ab.dbl();
        };
        E2 t0;
        E2 t1;
        E2 t2;
        E2 t3;
        E2 t4;
        E2 t5;
        fp4_sqr(c0.c0, c1.c1, t0, t1);
        fp4_sqr(c1.c0, c0.c2, t2, t3);
        fp4_sqr(c0.c1, c1.c2, t4, t5);
        const auto three_minus_two = [](const E2& t, const E2& z) { return (t - z).dbl() + t; };
        const auto three_plus_two = [](const E2& t, const E2& z) { return (t + z).dbl() + t; };
        const E2 xt5 = t5.mul_by_xi();
        return {
            {three_minus_two(t0, c0.c0), three_minus_two(t2, c0.c1), three_minus_two(t4, c0.c2)},
            {three_plus_two(xt5, c1.c0), three_plus_two(t1, c1.c1), three_plus_two(t3, c1.c2)}};
    }

    /// Multiplication by a line with nonzero coefficients at 1, v and v w (M-type twist).
    [[nodiscard]] constexpr Fp12 mul_by_014(const E2& o0, const E2& o1,
                                            const E2& o4) const noexcept {
        const E6 a = c0.mul_by_01(o0, o1);
        const E6 b = c1.mul_by_1(o4);
        const E2 s1 = o1 + o4;
        return {a + b.mul_by_v(), (c0 + c1).mul_by_01(o0, s1) - a - b};
    }
    /// Multiplication by a line with nonzero coefficients at 1, w and v w (D-type twist).
    [[nodiscard]] constexpr Fp12 mul_by_034(const E2& o0, const E2& o3,
                                            const E2& o4) const noexcept {
        const E6 a{c0.c0 * o0, c0.c1 * o0, c0.c2 * o0};
        const E6 b = c1.mul_by_01(o3, o4);
        const E2 s0 = o0 + o3;
        return {a + b.mul_by_v(), (c0 + c1).mul_by_01(s0, o4) - a - b};
    }
};

}  // namespace pel::vm::internal
