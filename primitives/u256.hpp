// SPDX-License-Identifier: Apache-2.0
// U256: 256-bit unsigned integer with EVM semantics (wrapping arithmetic, division by zero is 0).
// Four 64-bit limbs, least significant first. No allocation anywhere. A plain value type.
#pragma once

#include <array>
#include <bit>
#include <compare>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

#include "primitives/bytes.hpp"
#include "primitives/hash.hpp"
#include "primitives/result.hpp"

namespace pel {

namespace detail {
// GCC's -Wpedantic rejects a bare __int128; __extension__ on the alias silences it for every use.
__extension__ using u128 = unsigned __int128;
}  // namespace detail

class U256;
namespace detail {
/// The out-of-line parts of U256's operator/ and operator% (u256.cpp), for operands that do not
/// both fit 64 bits. Same contract as the operators; not for direct use.
[[nodiscard]] U256 udiv_wide(const U256& a, const U256& b) noexcept;
[[nodiscard]] U256 umod_wide(const U256& a, const U256& b) noexcept;
}  // namespace detail

class U256 {
  public:
    /// limbs[0] is the least significant 64 bits.
    std::array<uint64_t, 4> limbs{};

    constexpr U256() noexcept = default;
    constexpr U256(uint64_t v) noexcept
        : limbs{v, 0, 0, 0} {}  // NOLINT(google-explicit-constructor)
    constexpr U256(uint64_t l0, uint64_t l1, uint64_t l2, uint64_t l3) noexcept
        : limbs{l0, l1, l2, l3} {}

    [[nodiscard]] static constexpr U256 max() noexcept { return {~0ULL, ~0ULL, ~0ULL, ~0ULL}; }

    // --- conversions -----------------------------------------------------------------------
    /// Big-endian bytes, at most 32 (shorter input is left-padded with zeros). Longer input keeps
    /// the last 32 bytes; callers that must reject it check the size first.
    [[nodiscard]] static U256 from_be_bytes(ByteView be) noexcept;
    /// Exactly 32 big-endian bytes at `p`.
    [[nodiscard]] static U256 from_be32(const uint8_t* p) noexcept;
    void to_be32(uint8_t* out) const noexcept;
    [[nodiscard]] Hash32 to_hash() const noexcept;
    [[nodiscard]] static U256 from_hash(const Hash32& h) noexcept { return from_be32(h.data()); }
    /// Minimal big-endian bytes (no leading zeros; zero is empty), as RLP encodes integers.
    [[nodiscard]] Bytes to_be_bytes_trimmed() const;
    /// "0x"-prefixed (optional) hex, at most 64 digits, leading zeros allowed. Errors say why.
    [[nodiscard]] static Result<U256> from_hex(std::string_view text);
    /// Decimal digits, at most 2^256-1.
    [[nodiscard]] static Result<U256> from_dec(std::string_view text);
    /// Parses "0x..." as hex and anything else as decimal.
    [[nodiscard]] static Result<U256> from_string(std::string_view text);
    /// Shortest "0x" hex ("0x0" for zero), the JSON-RPC quantity form.
    [[nodiscard]] std::string to_hex() const;
    /// Decimal.
    [[nodiscard]] std::string to_string() const;

    [[nodiscard]] constexpr bool is_zero() const noexcept {
        return (limbs[0] | limbs[1] | limbs[2] | limbs[3]) == 0;
    }
    constexpr explicit operator bool() const noexcept { return !is_zero(); }
    [[nodiscard]] constexpr bool fits_u64() const noexcept {
        return (limbs[1] | limbs[2] | limbs[3]) == 0;
    }
    [[nodiscard]] constexpr uint64_t low64() const noexcept { return limbs[0]; }
    /// Number of significant bits (0 for zero).
    [[nodiscard]] constexpr unsigned bit_width() const noexcept {
        for (int i = 3; i >= 0; --i) {
            const auto idx = static_cast<size_t>(i);
            if (limbs[idx] != 0) {
                return static_cast<unsigned>(i) * 64 +
                       static_cast<unsigned>(std::bit_width(limbs[idx]));
            }
        }
        return 0;
    }
    /// Number of significant bytes (0 for zero).
    [[nodiscard]] constexpr unsigned byte_width() const noexcept { return (bit_width() + 7) / 8; }
    [[nodiscard]] constexpr bool is_negative() const noexcept { return (limbs[3] >> 63) != 0; }

    /// a + b + carry_in mod 2^256. On x86-64 one ADD/ADC chain (GCC 12 does not turn the portable
    /// form into one); the portable form is what runs in constant evaluation.
    [[nodiscard]] static constexpr U256 add_with_carry(const U256& a, const U256& b,
                                                       bool carry_in) noexcept {
#if defined(__x86_64__)
        if (!std::is_constant_evaluated()) {
            unsigned long long r0 = 0;  // NOLINT(google-runtime-int): the builtin's type
            unsigned long long r1 = 0;  // NOLINT(google-runtime-int)
            unsigned long long r2 = 0;  // NOLINT(google-runtime-int)
            unsigned long long r3 = 0;  // NOLINT(google-runtime-int)
            unsigned char c = carry_in ? 1 : 0;
            c = __builtin_ia32_addcarryx_u64(c, a.limbs[0], b.limbs[0], &r0);
            c = __builtin_ia32_addcarryx_u64(c, a.limbs[1], b.limbs[1], &r1);
            c = __builtin_ia32_addcarryx_u64(c, a.limbs[2], b.limbs[2], &r2);
            static_cast<void>(__builtin_ia32_addcarryx_u64(c, a.limbs[3], b.limbs[3], &r3));
            return {r0, r1, r2, r3};
        }
#endif
        U256 r;
        detail::u128 carry = carry_in ? 1 : 0;
        for (size_t i = 0; i < 4; ++i) {
            carry += static_cast<detail::u128>(a.limbs[i]) + b.limbs[i];
            r.limbs[i] = static_cast<uint64_t>(carry);
            carry >>= 64;
        }
        return r;
    }

    // --- comparison ------------------------------------------------------------------------
    // Limb-wise, branch-free: the defaulted operator compiles to a libc memcmp call (hash-map
    // lookups of storage keys spend most of their comparison time in that call).
    friend constexpr bool operator==(const U256& a, const U256& b) noexcept {
        return ((a.limbs[0] ^ b.limbs[0]) | (a.limbs[1] ^ b.limbs[1]) | (a.limbs[2] ^ b.limbs[2]) |
                (a.limbs[3] ^ b.limbs[3])) == 0;
    }
    friend constexpr std::strong_ordering operator<=>(const U256& a, const U256& b) noexcept {
        for (int i = 3; i >= 0; --i) {
            const auto idx = static_cast<size_t>(i);
            if (a.limbs[idx] != b.limbs[idx]) {
                return a.limbs[idx] <=> b.limbs[idx];
            }
        }
        return std::strong_ordering::equal;
    }

    // --- arithmetic (wrapping mod 2^256) ----------------------------------------------------
    friend constexpr U256 operator+(const U256& a, const U256& b) noexcept {
        return add_with_carry(a, b, false);
    }
    friend constexpr U256 operator-(const U256& a, const U256& b) noexcept {
        // a - b == a + ~b + 1 (mod 2^256): one carry chain serves both.
        return add_with_carry(a, ~b, true);
    }
    friend constexpr U256 operator-(const U256& a) noexcept { return U256{} - a; }
    /// Product mod 2^256, row by row (schoolbook). Partial products below 2^192 are taken in
    /// full; those landing in the top limb only in their low halves (6 MUL + 4 IMUL).
    friend constexpr U256 operator*(const U256& a, const U256& b) noexcept {
        using detail::u128;
        const auto& x = a.limbs;
        const auto& y = b.limbs;
        // Each step is at most (2^64-1)^2 + 2(2^64-1) < 2^128: no carry is lost.
        u128 t = static_cast<u128>(x[0]) * y[0];
        const auto r0 = static_cast<uint64_t>(t);
        t = static_cast<u128>(x[0]) * y[1] + static_cast<uint64_t>(t >> 64);
        auto r1 = static_cast<uint64_t>(t);
        t = static_cast<u128>(x[0]) * y[2] + static_cast<uint64_t>(t >> 64);
        auto r2 = static_cast<uint64_t>(t);
        uint64_t r3 = x[0] * y[3] + static_cast<uint64_t>(t >> 64);

        t = static_cast<u128>(x[1]) * y[0] + r1;
        r1 = static_cast<uint64_t>(t);
        t = static_cast<u128>(x[1]) * y[1] + r2 + static_cast<uint64_t>(t >> 64);
        r2 = static_cast<uint64_t>(t);
        r3 += x[1] * y[2] + static_cast<uint64_t>(t >> 64);

        t = static_cast<u128>(x[2]) * y[0] + r2;
        r2 = static_cast<uint64_t>(t);
        r3 += x[2] * y[1] + static_cast<uint64_t>(t >> 64) + x[3] * y[0];
        return {r0, r1, r2, r3};
    }
    /// Unsigned division; x / 0 == 0 (EVM DIV). Inline when both operands fit 64 bits (the
    /// common case in contracts), Knuth's Algorithm D out of line otherwise.
    friend U256 operator/(const U256& a, const U256& b) noexcept {
        if (a.fits_u64() && b.fits_u64()) {
            return b.limbs[0] != 0 ? U256{a.limbs[0] / b.limbs[0]} : U256{};
        }
        return detail::udiv_wide(a, b);
    }
    /// Unsigned remainder; x % 0 == 0 (EVM MOD).
    friend U256 operator%(const U256& a, const U256& b) noexcept {
        if (a.fits_u64() && b.fits_u64()) {
            return b.limbs[0] != 0 ? U256{a.limbs[0] % b.limbs[0]} : U256{};
        }
        return detail::umod_wide(a, b);
    }

    U256& operator+=(const U256& b) noexcept { return *this = *this + b; }
    U256& operator-=(const U256& b) noexcept { return *this = *this - b; }
    U256& operator*=(const U256& b) noexcept { return *this = *this * b; }
    U256& operator/=(const U256& b) noexcept { return *this = *this / b; }
    U256& operator%=(const U256& b) noexcept { return *this = *this % b; }

    // --- bitwise ---------------------------------------------------------------------------
    friend constexpr U256 operator&(const U256& a, const U256& b) noexcept {
        return {a.limbs[0] & b.limbs[0], a.limbs[1] & b.limbs[1], a.limbs[2] & b.limbs[2],
                a.limbs[3] & b.limbs[3]};
    }
    friend constexpr U256 operator|(const U256& a, const U256& b) noexcept {
        return {a.limbs[0] | b.limbs[0], a.limbs[1] | b.limbs[1], a.limbs[2] | b.limbs[2],
                a.limbs[3] | b.limbs[3]};
    }
    friend constexpr U256 operator^(const U256& a, const U256& b) noexcept {
        return {a.limbs[0] ^ b.limbs[0], a.limbs[1] ^ b.limbs[1], a.limbs[2] ^ b.limbs[2],
                a.limbs[3] ^ b.limbs[3]};
    }
    friend constexpr U256 operator~(const U256& a) noexcept {
        return {~a.limbs[0], ~a.limbs[1], ~a.limbs[2], ~a.limbs[3]};
    }
    /// Logical shifts; a shift of 256 or more gives 0.
    friend constexpr U256 operator<<(const U256& a, unsigned n) noexcept {
        if (n >= 256) {
            return {};
        }
        U256 r;
        const unsigned limb = n / 64;
        const unsigned bit = n % 64;
        for (unsigned i = limb; i < 4; ++i) {
            const unsigned src = i - limb;
            uint64_t v = a.limbs[src] << bit;
            if (bit != 0 && src > 0) {
                v |= a.limbs[src - 1] >> (64 - bit);
            }
            r.limbs[i] = v;
        }
        return r;
    }
    friend constexpr U256 operator>>(const U256& a, unsigned n) noexcept {
        if (n >= 256) {
            return {};
        }
        U256 r;
        const unsigned limb = n / 64;
        const unsigned bit = n % 64;
        for (unsigned i = 0; i + limb < 4; ++i) {
            uint64_t v = a.limbs[i + limb] >> bit;
            if (bit != 0 && i + limb + 1 < 4) {
                v |= a.limbs[i + limb + 1] << (64 - bit);
            }
            r.limbs[i] = v;
        }
        return r;
    }
    /// Shift by a U256 amount, as the EVM does (amount >= 256 gives 0).
    friend constexpr U256 operator<<(const U256& a, const U256& n) noexcept {
        return n.fits_u64() && n.limbs[0] < 256 ? a << static_cast<unsigned>(n.limbs[0]) : U256{};
    }
    friend constexpr U256 operator>>(const U256& a, const U256& n) noexcept {
        return n.fits_u64() && n.limbs[0] < 256 ? a >> static_cast<unsigned>(n.limbs[0]) : U256{};
    }
};

static_assert(sizeof(U256) == 32);
static_assert(std::is_trivially_copyable_v<U256>);

// --- EVM operations (all total: no input is undefined) ------------------------------------------
/// a + b with the carry out of bit 256.
[[nodiscard]] constexpr bool add_overflow(const U256& a, const U256& b, U256& out) noexcept {
    const U256 sum = a + b;  // not written to `out` first: `out` may alias `a`
    const bool carry = sum < a;
    out = sum;
    return carry;
}
/// a - b with the borrow.
[[nodiscard]] constexpr bool sub_overflow(const U256& a, const U256& b, U256& out) noexcept {
    const bool borrow = a < b;  // computed first: `out` may alias `a` or `b`
    out = a - b;
    return borrow;
}
/// Two's-complement signed division (SDIV): x / 0 == 0, -2^255 / -1 == -2^255.
[[nodiscard]] U256 sdiv(const U256& a, const U256& b) noexcept;
/// Two's-complement signed remainder (SMOD), sign of the dividend; x % 0 == 0.
[[nodiscard]] U256 smod(const U256& a, const U256& b) noexcept;
/// (a + b) mod m with a 257-bit intermediate; m == 0 gives 0.
[[nodiscard]] U256 addmod(const U256& a, const U256& b, const U256& m) noexcept;
/// (a * b) mod m with a 512-bit intermediate; m == 0 gives 0.
[[nodiscard]] U256 mulmod(const U256& a, const U256& b, const U256& m) noexcept;
/// base^exponent mod 2^256 (EXP).
[[nodiscard]] U256 exp(U256 base, U256 exponent) noexcept;
/// Arithmetic shift right (SAR): shifts >= 256 give 0 or all ones by the sign.
[[nodiscard]] U256 sar(const U256& a, const U256& shift) noexcept;
/// SIGNEXTEND: extends the sign of byte `byte_index` (0 = least significant); index >= 31 is
/// identity.
[[nodiscard]] U256 signextend(const U256& byte_index, const U256& x) noexcept;
/// BYTE: the `index`-th byte counting from the most significant (0); index >= 32 gives 0.
[[nodiscard]] U256 byte(const U256& index, const U256& x) noexcept;
/// Signed comparisons (SLT, SGT).
[[nodiscard]] constexpr bool slt(const U256& a, const U256& b) noexcept {
    const bool na = a.is_negative();
    const bool nb = b.is_negative();
    return na != nb ? na : a < b;
}
[[nodiscard]] constexpr bool sgt(const U256& a, const U256& b) noexcept { return slt(b, a); }

/// Full 256x256 -> 512-bit product, limbs least significant first.
[[nodiscard]] std::array<uint64_t, 8> mul_full(const U256& a, const U256& b) noexcept;

}  // namespace pel

template <>
struct std::hash<pel::U256> {
    size_t operator()(const pel::U256& v) const noexcept {
        uint64_t h = v.limbs[0] * 0x9e3779b97f4a7c15ULL;
        h ^= v.limbs[1] + 0x7f4a7c159e3779b9ULL + (h << 6) + (h >> 2);
        h ^= v.limbs[2] + 0x94d049bb133111ebULL + (h << 6) + (h >> 2);
        h ^= v.limbs[3] + 0xbf58476d1ce4e5b9ULL + (h << 6) + (h >> 2);
        return static_cast<size_t>(h);
    }
};
