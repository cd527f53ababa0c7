// SPDX-License-Identifier: Apache-2.0
// Division follows Knuth, TAOCP vol. 2, section 4.3.1, Algorithm D, with 64-bit digits. Every
// buffer is a fixed-size array on the stack: arithmetic never allocates.
#include "primitives/u256.hpp"

#include <algorithm>
#include <bit>
#include <cstddef>

namespace pel {
namespace {

using detail::u128;

constexpr uint64_t lo64(u128 x) noexcept { return static_cast<uint64_t>(x); }
constexpr uint64_t hi64(u128 x) noexcept { return static_cast<uint64_t>(x >> 64); }

/// (hi:lo) / d with hi < d, so that the quotient fits 64 bits; the remainder goes to `rem`.
inline uint64_t div_2by1(uint64_t hi, uint64_t lo, uint64_t d, uint64_t& rem) noexcept {
#if defined(__x86_64__)
    // One DIVQ. The compiler would call __udivti3 for the u128 form, which is several times
    // slower because it cannot assume the quotient fits.
    uint64_t q = 0;
    uint64_t r = 0;
    asm("divq %4" : "=a"(q), "=d"(r) : "a"(lo), "d"(hi), "rm"(d) : "cc");
    rem = r;
    return q;
#else
    const u128 n = (static_cast<u128>(hi) << 64) | lo;
    rem = static_cast<uint64_t>(n % d);
    return static_cast<uint64_t>(n / d);
#endif
}

/// Number of limbs up to and including the most significant non-zero one.
constexpr size_t significant_limbs(const uint64_t* x, size_t n) noexcept {
    while (n > 0 && x[n - 1] == 0) {
        --n;  // NOLINT(*-pointer-arithmetic)
    }
    return n;
}

/// u[0..n) / d for a single-limb divisor d != 0: quotient into q[0..n) (may be null), remainder
/// returned. The running remainder is always below d, which is what DIVQ needs.
uint64_t div_by_limb(const uint64_t* u, size_t n, uint64_t d, uint64_t* q) noexcept {
    uint64_t r = 0;
    for (size_t i = n; i-- > 0;) {
        const uint64_t qi = div_2by1(r, u[i], d, r);  // NOLINT(*-pointer-arithmetic)
        if (q != nullptr) {
            q[i] = qi;  // NOLINT(*-pointer-arithmetic)
        }
    }
    return r;
}

/// Algorithm D. u[0..m) / v[0..kN) with n <= m <= kMaxU and v[kN-1] != 0. Writes m - kN + 1
/// quotient limbs to q (may be null) and kN remainder limbs to r. The divisor size is a template
/// parameter so that the inner loops unroll completely.
template <size_t kMaxU, size_t kN>
void knuth_div_n(const uint64_t* u, size_t m, const uint64_t* v, uint64_t* q,
                 uint64_t* r) noexcept {
    static_assert(kN >= 2 && kN <= 4 && kN <= kMaxU);
    const size_t n = kN;  // Knuth's name
    // D1: normalise so that the divisor's top bit is set; the dividend grows by one limb.
    std::array<uint64_t, kN> vn{};
    std::array<uint64_t, kMaxU + 1> un{};
    const auto s = static_cast<unsigned>(std::countl_zero(v[n - 1]));  // NOLINT
    if (s == 0) {
        for (size_t i = 0; i < n; ++i) vn[i] = v[i];  // NOLINT
        for (size_t i = 0; i < m; ++i) un[i] = u[i];  // NOLINT
        un[m] = 0;
    } else {
        const unsigned rs = 64 - s;
        for (size_t i = n - 1; i > 0; --i) vn[i] = (v[i] << s) | (v[i - 1] >> rs);  // NOLINT
        vn[0] = v[0] << s;
        un[m] = u[m - 1] >> rs;                                                     // NOLINT
        for (size_t i = m - 1; i > 0; --i) un[i] = (u[i] << s) | (u[i - 1] >> rs);  // NOLINT
        un[0] = u[0] << s;
    }

    const uint64_t d1 = vn[n - 1];
    const uint64_t d0 = vn[n - 2];
    for (size_t j = m - n + 1; j-- > 0;) {
        // D3: estimate qhat from the top two dividend limbs and refine it with the third, after
        // which it is exact or one too large. un[j+n] <= d1 always holds (invariant of D).
        const uint64_t uh = un[j + n];
        const uint64_t um = un[j + n - 1];
        const uint64_t ul = un[j + n - 2];
        uint64_t qhat = 0;
        uint64_t rhat = 0;
        bool rhat_overflow = false;
        if (uh >= d1) {
            qhat = ~uint64_t{0};
            rhat = um + d1;
            rhat_overflow = rhat < d1;
        } else {
            qhat = div_2by1(uh, um, d1, rhat);
        }
        while (!rhat_overflow &&
               static_cast<u128>(qhat) * d0 > ((static_cast<u128>(rhat) << 64) | ul)) {
            --qhat;
            rhat += d1;
            rhat_overflow = rhat < d1;
        }

        // D4: un[j..j+n] -= qhat * vn.
        uint64_t mul_carry = 0;
        uint64_t borrow = 0;
        for (size_t i = 0; i < n; ++i) {
            const u128 p = static_cast<u128>(qhat) * vn[i] + mul_carry;
            mul_carry = hi64(p);
            const uint64_t pl = lo64(p);
            const uint64_t x = un[i + j];
            const uint64_t t = x - pl;
            const uint64_t t2 = t - borrow;
            borrow = static_cast<uint64_t>(x < pl) | static_cast<uint64_t>(t < borrow);
            un[i + j] = t2;
        }
        const uint64_t top = un[j + n];
        const uint64_t t = top - mul_carry;
        const bool negative = (top < mul_carry) || (t < borrow);
        un[j + n] = t - borrow;

        // D6: qhat was one too large (probability about 2/2^64): add the divisor back once.
        if (negative) [[unlikely]] {
            --qhat;
            uint64_t c = 0;
            for (size_t i = 0; i < n; ++i) {
                const u128 sum = static_cast<u128>(un[i + j]) + vn[i] + c;
                un[i + j] = lo64(sum);
                c = hi64(sum);
            }
            un[j + n] += c;  // wraps back to zero: the carry cancels the borrow above
        }
        if (q != nullptr) {
            q[j] = qhat;  // NOLINT(*-pointer-arithmetic)
        }
    }

    // D8: un[0..n) holds the normalised remainder.
    if (s == 0) {
        for (size_t i = 0; i < n; ++i) r[i] = un[i];  // NOLINT
    } else {
        const unsigned ls = 64 - s;
        for (size_t i = 0; i + 1 < n; ++i) r[i] = (un[i] >> s) | (un[i + 1] << ls);  // NOLINT
        r[n - 1] = (un[n - 1] >> s) | (un[n] << ls);                                 // NOLINT
    }
}

/// Dispatches on the divisor's limb count, 2 <= n <= 4.
template <size_t kMaxU>
void knuth_div(const uint64_t* u, size_t m, const uint64_t* v, size_t n, uint64_t* q,
               uint64_t* r) noexcept {
    switch (n) {
        case 2:
            return knuth_div_n<kMaxU, 2>(u, m, v, q, r);
        case 3:
            return knuth_div_n<kMaxU, 3>(u, m, v, q, r);
        default:
            return knuth_div_n<kMaxU, 4>(u, m, v, q, r);
    }
}

struct DivMod {
    U256 quot;
    U256 rem;
};

/// Quotient and remainder together; b == 0 gives {0, 0}.
DivMod divmod(const U256& a, const U256& b) noexcept {
    DivMod out;
    const size_t n = significant_limbs(b.limbs.data(), 4);
    if (n <= 1) {
        const uint64_t d = b.limbs[0];
        if (d == 0) {
            return out;
        }
        if (a.fits_u64()) {
            out.quot.limbs[0] = a.limbs[0] / d;
            out.rem.limbs[0] = a.limbs[0] % d;
            return out;
        }
        const size_t m = significant_limbs(a.limbs.data(), 4);
        out.rem.limbs[0] = div_by_limb(a.limbs.data(), m, d, out.quot.limbs.data());
        return out;
    }
    if (a < b) {
        out.rem = a;
        return out;
    }
    const size_t m = significant_limbs(a.limbs.data(), 4);
    knuth_div<4>(a.limbs.data(), m, b.limbs.data(), n, out.quot.limbs.data(), out.rem.limbs.data());
    return out;
}

/// u[0..m) mod the non-zero divisor, for dividends of up to 8 limbs (addmod, mulmod).
U256 mod_wide(const uint64_t* u, size_t m, const U256& divisor) noexcept {
    U256 r;
    const size_t n = significant_limbs(divisor.limbs.data(), 4);
    m = significant_limbs(u, m);
    if (n <= 1) {
        r.limbs[0] = div_by_limb(u, m, divisor.limbs[0], nullptr);
        return r;
    }
    if (m < n) {
        for (size_t i = 0; i < m; ++i) {
            r.limbs[i] = u[i];  // NOLINT(*-pointer-arithmetic)
        }
        return r;
    }
    knuth_div<8>(u, m, divisor.limbs.data(), n, nullptr, r.limbs.data());
    return r;
}

constexpr uint64_t load_be64(const uint8_t* p) noexcept {
    uint64_t v = 0;
    for (size_t i = 0; i < 8; ++i) {
        v = (v << 8) | p[i];  // NOLINT(*-pointer-arithmetic)
    }
    return v;
}

constexpr void store_be64(uint8_t* p, uint64_t v) noexcept {
    for (size_t i = 0; i < 8; ++i) {
        p[7 - i] = static_cast<uint8_t>(v >> (8 * i));  // NOLINT(*-pointer-arithmetic)
    }
}

constexpr int hex_digit_value(char c) noexcept {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

constexpr bool has_hex_prefix(std::string_view text) noexcept {
    return text.size() >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X');
}

/// v = v * mul + add; returns false when the result does not fit 256 bits.
constexpr bool mul_add_small(U256& v, uint64_t mul, uint64_t add) noexcept {
    uint64_t carry = add;
    for (size_t i = 0; i < 4; ++i) {
        const u128 t = static_cast<u128>(v.limbs[i]) * mul + carry;
        v.limbs[i] = lo64(t);
        carry = hi64(t);
    }
    return carry == 0;
}

/// a * a mod 2^256. The cross products a_i*a_j (i != j) appear twice, so they are summed once
/// and doubled: 4 full and 2 low-half multiplications instead of the general product's 6 and 4.
constexpr U256 square(const U256& a) noexcept {
    const auto& x = a.limbs;
    const u128 p00 = static_cast<u128>(x[0]) * x[0];
    const u128 p01 = static_cast<u128>(x[0]) * x[1];
    const u128 p02 = static_cast<u128>(x[0]) * x[2];
    const u128 p11 = static_cast<u128>(x[1]) * x[1];
    const uint64_t l03 = x[0] * x[3];  // only the low halves reach below 2^256
    const uint64_t l12 = x[1] * x[2];
    // Cross terms at limbs 1..3: p01 + p02 * 2^64 + (l03 + l12) * 2^128.
    const uint64_t c1 = lo64(p01);
    const u128 t2 = static_cast<u128>(hi64(p01)) + lo64(p02);
    const uint64_t c2 = lo64(t2);
    const uint64_t c3 = hi64(p02) + l03 + l12 + hi64(t2);
    // Doubled, plus the squares on the diagonal.
    U256 r;
    r.limbs[0] = lo64(p00);
    const u128 s1 = static_cast<u128>(c1 << 1) + hi64(p00);
    r.limbs[1] = lo64(s1);
    const u128 s2 = static_cast<u128>((c2 << 1) | (c1 >> 63)) + lo64(p11) + hi64(s1);
    r.limbs[2] = lo64(s2);
    r.limbs[3] = ((c3 << 1) | (c2 >> 63)) + hi64(p11) + hi64(s2);
    return r;
}
static_assert(square(U256::max()) == U256{1});
static_assert(square(U256{0, 0, 1, 0}) == U256{0});
static_assert(square(U256{3, 5, 7, 11}) == U256{3, 5, 7, 11} * U256{3, 5, 7, 11});

constexpr uint64_t kTen19 = 10'000'000'000'000'000'000ULL;  // the largest power of 10 in a limb

}  // namespace

U256 detail::udiv_wide(const U256& a, const U256& b) noexcept { return divmod(a, b).quot; }

U256 detail::umod_wide(const U256& a, const U256& b) noexcept {
    // Same as divmod but without storing the quotient.
    const size_t n = significant_limbs(b.limbs.data(), 4);
    if (n <= 1) {
        const uint64_t d = b.limbs[0];
        if (d == 0) {
            return {};
        }
        if (a.fits_u64()) {
            return a.limbs[0] % d;
        }
        return div_by_limb(a.limbs.data(), significant_limbs(a.limbs.data(), 4), d, nullptr);
    }
    if (a < b) {
        return a;
    }
    U256 r;
    knuth_div<4>(a.limbs.data(), significant_limbs(a.limbs.data(), 4), b.limbs.data(), n, nullptr,
                 r.limbs.data());
    return r;
}

U256 sdiv(const U256& a, const U256& b) noexcept {
    const bool na = a.is_negative();
    const bool nb = b.is_negative();
    const U256 q = divmod(na ? -a : a, nb ? -b : b).quot;
    // -2^255 / -1: |a| = 2^255, q = 2^255, and negating it wraps back to -2^255, as the EVM wants.
    return na != nb ? -q : q;
}

U256 smod(const U256& a, const U256& b) noexcept {
    const bool na = a.is_negative();
    const U256 r = (na ? -a : a) % (b.is_negative() ? -b : b);
    return na ? -r : r;
}

U256 addmod(const U256& a, const U256& b, const U256& m) noexcept {
    if (m.is_zero()) {
        return {};
    }
    U256 sum;
    const bool carry = add_overflow(a, b, sum);
    if (a < m && b < m) {
        // Common case (field arithmetic): a + b < 2m, so one subtraction suffices. With a carry,
        // the true sum is 2^256 + sum >= m and the wrapping subtraction still gives the answer.
        return (carry || sum >= m) ? sum - m : sum;
    }
    const std::array<uint64_t, 5> wide{sum.limbs[0], sum.limbs[1], sum.limbs[2], sum.limbs[3],
                                       carry ? uint64_t{1} : uint64_t{0}};
    return mod_wide(wide.data(), wide.size(), m);
}

U256 mulmod(const U256& a, const U256& b, const U256& m) noexcept {
    if (m.is_zero()) {
        return {};
    }
    if (a.fits_u64() && b.fits_u64() && m.fits_u64()) {
        const u128 p = static_cast<u128>(a.limbs[0]) * b.limbs[0];
        return static_cast<uint64_t>(p % m.limbs[0]);
    }
    const std::array<uint64_t, 8> p = mul_full(a, b);
    return mod_wide(p.data(), p.size(), m);
}

U256 exp(U256 base, U256 exponent) noexcept {
    U256 result{1};
    const unsigned bits = exponent.bit_width();
    for (unsigned i = 0; i < bits; ++i) {
        if (((exponent.limbs[i / 64] >> (i % 64)) & 1) != 0) {
            result *= base;
        }
        if (i + 1 < bits) {
            base = square(base);
            if (base.is_zero()) {
                return {};  // an even base reaches zero after at most 8 squarings
            }
        }
    }
    return result;
}

U256 sar(const U256& a, const U256& shift) noexcept {
    const bool neg = a.is_negative();
    if (!shift.fits_u64() || shift.limbs[0] >= 256) {
        return neg ? U256::max() : U256{};
    }
    const auto n = static_cast<unsigned>(shift.limbs[0]);
    // For a negative value, shifting the complement in zeros and complementing back shifts ones in.
    return neg ? ~(~a >> n) : a >> n;
}

U256 signextend(const U256& byte_index, const U256& x) noexcept {
    if (!byte_index.fits_u64() || byte_index.limbs[0] >= 31) {
        return x;
    }
    const auto bit = static_cast<unsigned>(byte_index.limbs[0]) * 8 + 7;  // the sign bit
    const unsigned limb = bit / 64;
    const unsigned off = bit % 64;
    const bool neg = ((x.limbs[limb] >> off) & 1) != 0;
    // Bits at and below `bit` in the sign bit's limb are kept, everything above is the sign.
    const uint64_t keep = off == 63 ? ~uint64_t{0} : (uint64_t{2} << off) - 1;
    const uint64_t fill = neg ? ~uint64_t{0} : 0;
    U256 r = x;
    r.limbs[limb] = (x.limbs[limb] & keep) | (fill & ~keep);
    for (unsigned i = limb + 1; i < 4; ++i) {
        r.limbs[i] = fill;
    }
    return r;
}

U256 byte(const U256& index, const U256& x) noexcept {
    if (!index.fits_u64() || index.limbs[0] >= 32) {
        return {};
    }
    const auto from_lsb = 31 - static_cast<unsigned>(index.limbs[0]);
    return (x.limbs[from_lsb / 8] >> (8 * (from_lsb % 8))) & 0xff;
}

std::array<uint64_t, 8> mul_full(const U256& a, const U256& b) noexcept {
    std::array<uint64_t, 8> r{};
    for (size_t i = 0; i < 4; ++i) {
        uint64_t carry = 0;
        for (size_t j = 0; j < 4; ++j) {
            const u128 t = static_cast<u128>(a.limbs[i]) * b.limbs[j] + r[i + j] + carry;
            r[i + j] = lo64(t);
            carry = hi64(t);
        }
        r[i + 4] = carry;
    }
    return r;
}

// --- conversions --------------------------------------------------------------------------------

U256 U256::from_be_bytes(ByteView be) noexcept {
    if (be.size() > 32) {
        be = be.last(32);
    }
    if (be.empty()) {
        return {};  // an empty span may hold a null pointer, which memcpy must not get
    }
    std::array<uint8_t, 32> buf{};
    std::memcpy(buf.data() + (32 - be.size()), be.data(), be.size());  // NOLINT
    return from_be32(buf.data());
}

U256 U256::from_be32(const uint8_t* p) noexcept {
    // NOLINTBEGIN(*-pointer-arithmetic)
    return {load_be64(p + 24), load_be64(p + 16), load_be64(p + 8), load_be64(p)};
    // NOLINTEND(*-pointer-arithmetic)
}

void U256::to_be32(uint8_t* out) const noexcept {
    // NOLINTBEGIN(*-pointer-arithmetic)
    store_be64(out, limbs[3]);
    store_be64(out + 8, limbs[2]);
    store_be64(out + 16, limbs[1]);
    store_be64(out + 24, limbs[0]);
    // NOLINTEND(*-pointer-arithmetic)
}

Hash32 U256::to_hash() const noexcept {
    Hash32 h;
    to_be32(h.data());
    return h;
}

Bytes U256::to_be_bytes_trimmed() const {
    std::array<uint8_t, 32> buf{};
    to_be32(buf.data());
    const size_t n = byte_width();
    return {buf.end() - static_cast<std::ptrdiff_t>(n), buf.end()};
}

Result<U256> U256::from_hex(std::string_view text) {
    const size_t prefix = has_hex_prefix(text) ? 2 : 0;
    const std::string_view digits = text.substr(prefix);
    if (digits.empty()) {
        return make_error("u256: hex quantity has no digits");
    }
    if (digits.size() > 64) {
        return make_error("u256: hex quantity has ", digits.size(), " digits, at most 64 fit");
    }
    U256 v;
    for (size_t i = 0; i < digits.size(); ++i) {
        const int d = hex_digit_value(digits[i]);
        if (d < 0) {
            return make_error("u256: invalid hex digit '", digits[i], "' at offset ", prefix + i);
        }
        // Digit k from the right lands in limb k/16 at bit 4*(k%16); at most 64 digits, so no
        // digit is ever shifted out.
        const size_t k = digits.size() - 1 - i;
        v.limbs[k / 16] |= static_cast<uint64_t>(d) << (4 * (k % 16));
    }
    return v;
}

Result<U256> U256::from_dec(std::string_view text) {
    if (text.empty()) {
        return make_error("u256: decimal number has no digits");
    }
    U256 v;
    // Nineteen digits at a time: one limb-by-limb multiply per chunk instead of per digit.
    size_t i = 0;
    while (i < text.size()) {
        const size_t end = std::min(text.size(), i + 19);
        uint64_t chunk = 0;
        uint64_t scale = 1;
        for (; i < end; ++i) {
            const char c = text[i];
            if (c < '0' || c > '9') {
                return make_error("u256: invalid decimal digit '", c, "' at offset ", i);
            }
            chunk = chunk * 10 + static_cast<uint64_t>(c - '0');
            scale *= 10;
        }
        if (!mul_add_small(v, scale, chunk)) {
            return make_error("u256: decimal number ", text.substr(0, 80),
                              text.size() > 80 ? "..." : "", " exceeds 2^256-1");
        }
    }
    return v;
}

Result<U256> U256::from_string(std::string_view text) {
    return has_hex_prefix(text) ? from_hex(text) : from_dec(text);
}

std::string U256::to_hex() const {
    constexpr char kDigits[] = "0123456789abcdef";
    const unsigned nd = is_zero() ? 1 : (bit_width() + 3) / 4;
    std::string s(2 + nd, '0');
    s[1] = 'x';
    for (unsigned k = 0; k < nd; ++k) {
        const auto d = (limbs[k / 16] >> (4 * (k % 16))) & 0xf;
        s[2 + nd - 1 - k] = kDigits[d];  // NOLINT(*-constant-array-index)
    }
    return s;
}

std::string U256::to_string() const {
    // 2^256 - 1 has 78 digits; peel off 19 at a time from the least significant end.
    std::array<char, 80> buf{};
    size_t pos = buf.size();
    U256 v = *this;
    do {
        uint64_t chunk = div_by_limb(v.limbs.data(), significant_limbs(v.limbs.data(), 4), kTen19,
                                     v.limbs.data());
        const bool last = v.is_zero();
        for (int i = 0; i < 19 && (!last || chunk != 0 || pos == buf.size()); ++i) {
            buf[--pos] = static_cast<char>('0' + chunk % 10);
            chunk /= 10;
        }
    } while (!v.is_zero());
    return {buf.data() + pos, buf.size() - pos};  // NOLINT(*-pointer-arithmetic)
}

}  // namespace pel
