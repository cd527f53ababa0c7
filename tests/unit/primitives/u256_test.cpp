// SPDX-License-Identifier: Apache-2.0
// U256 against Boost.Multiprecision as the oracle: 100,000 seeded random operand sets per
// operation, drawn from a mix of shapes (full width, random width, small, powers of two, near
// max, limbs of 0/1/~0) so that every division path is taken, plus explicit edge cases.
#include "primitives/u256.hpp"

#include <array>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <boost/multiprecision/cpp_int.hpp>
#include <gtest/gtest.h>

namespace pel {
namespace {

namespace mp = boost::multiprecision;
using Wide = mp::uint512_t;  // fixed width, no allocation: every unsigned oracle fits 512 bits
using Signed = mp::cpp_int;  // two's-complement values are mapped into (-2^255, 2^255)

constexpr int kIters = 100'000;
constexpr uint64_t kSeed = 0x5eed'0256'0001ULL;

const Wide kOne = 1;
const Wide kMod = kOne << 256;
const Wide kMask = kMod - 1;

Wide to_wide(const U256& x) {
    Wide r = x.limbs[3];
    for (size_t i = 3; i-- > 0;) {
        r <<= 64;
        r |= x.limbs[i];
    }
    return r;
}

U256 from_wide(Wide x) {
    x &= kMask;
    U256 r;
    for (size_t i = 0; i < 4; ++i) {
        r.limbs[i] = static_cast<uint64_t>(x & ~uint64_t{0});
        x >>= 64;
    }
    return r;
}

Signed to_signed(const U256& x) {
    Signed v(to_wide(x));
    if (x.is_negative()) {
        v -= Signed(kMod);
    }
    return v;
}

U256 from_signed(Signed v) {
    if (v < 0) {
        v += Signed(kMod);
    }
    return from_wide(Wide(v));
}

const U256 kMin = U256{1} << 255;  // -2^255 as a signed value
const U256 kMax = U256::max();

/// Operands of deliberately varied shape. The divisor paths of Algorithm D depend on limb counts
/// and on limbs close to 0 or 2^64-1, which uniform random values almost never produce.
class Gen {
  public:
    explicit Gen(uint64_t seed) : rng_(seed) {}

    uint64_t u64() { return rng_(); }
    unsigned below(unsigned n) { return static_cast<unsigned>(rng_() % n); }

    U256 full() { return {u64(), u64(), u64(), u64()}; }

    uint64_t special_limb() {
        constexpr std::array<uint64_t, 8> kSpecial{0,
                                                   1,
                                                   2,
                                                   ~uint64_t{0},
                                                   ~uint64_t{0} - 1,
                                                   uint64_t{1} << 63,
                                                   (uint64_t{1} << 63) - 1,
                                                   0x8000'0000'0000'0001ULL};
        return below(3) == 0 ? u64() : kSpecial[below(kSpecial.size())];
    }

    U256 any() {
        switch (below(9)) {
            case 0:
                return full();
            case 1:
            case 2:
                return full() >> below(257);  // random bit width, all four limb counts
            case 3:
                return U256{u64() % 300};
            case 4:
                return U256{1} << below(256);
            case 5:
                return kMax - U256{u64() % 300};
            case 6:
                return (U256{1} << below(256)) + U256{u64() % 5} - U256{u64() % 5};
            case 7: {
                U256 x{special_limb(), special_limb(), special_limb(), special_limb()};
                return x >> (64 * below(4));
            }
            default:
                return {u64() >> below(64), 0, 0, 0};
        }
    }

    /// A divisor-like second operand: independent, or a shift/perturbation of `a` so that
    /// quotients of every size (including 0, 1 and 2^64-1 per step) appear.
    U256 related(const U256& a) {
        switch (below(6)) {
            case 0:
                return a >> below(257);
            case 1:
                return (a >> below(257)) + U256{u64() % 3};
            case 2:
                return a - U256{u64() % 3};
            default:
                return any();
        }
    }

  private:
    std::mt19937_64 rng_;
};

std::string lower(std::string s) {
    for (char& c : s) {
        if (c >= 'A' && c <= 'F') {
            c = static_cast<char>(c - 'A' + 'a');
        }
    }
    return s;
}

// --- random differential tests ------------------------------------------------------------------

TEST(U256, add_matches_oracle) {
    Gen g(kSeed + 1);
    for (int i = 0; i < kIters; ++i) {
        const U256 a = g.any();
        const U256 b = g.any();
        const Wide exact = to_wide(a) + to_wide(b);
        ASSERT_EQ(a + b, from_wide(exact)) << a.to_hex() << " " << b.to_hex();
        U256 out;
        ASSERT_EQ(add_overflow(a, b, out), exact > kMask);
        ASSERT_EQ(out, from_wide(exact));
    }
}

TEST(U256, sub_matches_oracle) {
    Gen g(kSeed + 2);
    for (int i = 0; i < kIters; ++i) {
        const U256 a = g.any();
        const U256 b = g.related(a);
        const Wide expect = (to_wide(a) + kMod - to_wide(b)) & kMask;
        ASSERT_EQ(a - b, from_wide(expect)) << a.to_hex() << " " << b.to_hex();
        U256 out;
        ASSERT_EQ(sub_overflow(a, b, out), to_wide(a) < to_wide(b));
        ASSERT_EQ(out, from_wide(expect));
        ASSERT_EQ(-b, from_wide((kMod - to_wide(b)) & kMask));
    }
}

TEST(U256, mul_matches_oracle) {
    Gen g(kSeed + 3);
    for (int i = 0; i < kIters; ++i) {
        const U256 a = g.any();
        const U256 b = g.any();
        const Wide p = to_wide(a) * to_wide(b);
        ASSERT_EQ(a * b, from_wide(p)) << a.to_hex() << " " << b.to_hex();
        const std::array<uint64_t, 8> full = mul_full(a, b);
        Wide hi = 0;
        for (size_t k = 8; k-- > 4;) {
            hi = (hi << 64) | full[k];
        }
        ASSERT_EQ(hi, p >> 256);
        ASSERT_EQ((U256{full[0], full[1], full[2], full[3]}), from_wide(p));
    }
}

TEST(U256, div_matches_oracle) {
    Gen g(kSeed + 4);
    for (int i = 0; i < kIters; ++i) {
        const U256 a = g.any();
        const U256 b = g.related(a);
        const Wide expect = b.is_zero() ? Wide(0) : to_wide(a) / to_wide(b);
        ASSERT_EQ(a / b, from_wide(expect)) << a.to_hex() << " / " << b.to_hex();
    }
}

TEST(U256, mod_matches_oracle) {
    Gen g(kSeed + 5);
    for (int i = 0; i < kIters; ++i) {
        const U256 a = g.any();
        const U256 b = g.related(a);
        const Wide expect = b.is_zero() ? Wide(0) : to_wide(a) % to_wide(b);
        ASSERT_EQ(a % b, from_wide(expect)) << a.to_hex() << " % " << b.to_hex();
        if (!b.is_zero()) {
            ASSERT_EQ((a / b) * b + a % b, a);
        }
    }
}

TEST(U256, sdiv_matches_oracle) {
    Gen g(kSeed + 6);
    for (int i = 0; i < kIters; ++i) {
        const U256 a = g.below(4) == 0 ? -g.any() : g.any();
        const U256 b = g.below(4) == 0 ? -g.related(a) : g.related(a);
        // Boost truncates toward zero, like the EVM; the one overflow (-2^255 / -1) wraps.
        const Signed expect = b.is_zero() ? Signed(0) : to_signed(a) / to_signed(b);
        ASSERT_EQ(sdiv(a, b), from_signed(expect)) << a.to_hex() << " sdiv " << b.to_hex();
    }
}

TEST(U256, smod_matches_oracle) {
    Gen g(kSeed + 7);
    for (int i = 0; i < kIters; ++i) {
        const U256 a = g.below(4) == 0 ? -g.any() : g.any();
        const U256 b = g.below(4) == 0 ? -g.related(a) : g.related(a);
        // Boost's % takes the sign of the dividend, as SMOD does.
        const Signed expect = b.is_zero() ? Signed(0) : to_signed(a) % to_signed(b);
        ASSERT_EQ(smod(a, b), from_signed(expect)) << a.to_hex() << " smod " << b.to_hex();
    }
}

TEST(U256, addmod_matches_oracle) {
    Gen g(kSeed + 8);
    for (int i = 0; i < kIters; ++i) {
        const U256 a = g.any();
        const U256 b = g.any();
        // Half the moduli are larger than both operands (the fast path), half are anything.
        U256 m = g.any();
        if (g.below(2) == 0) {
            m = std::max({a, b, m}) + U256{g.u64() % 3};
        }
        const Wide expect = m.is_zero() ? Wide(0) : (to_wide(a) + to_wide(b)) % to_wide(m);
        ASSERT_EQ(addmod(a, b, m), from_wide(expect))
            << a.to_hex() << " " << b.to_hex() << " " << m.to_hex();
    }
}

TEST(U256, mulmod_matches_oracle) {
    Gen g(kSeed + 9);
    for (int i = 0; i < kIters; ++i) {
        const U256 a = g.any();
        const U256 b = g.any();
        const U256 m = g.below(2) == 0 ? g.any() : g.related(a);
        const Wide expect = m.is_zero() ? Wide(0) : (to_wide(a) * to_wide(b)) % to_wide(m);
        ASSERT_EQ(mulmod(a, b, m), from_wide(expect))
            << a.to_hex() << " " << b.to_hex() << " " << m.to_hex();
    }
}

TEST(U256, exp_matches_oracle) {
    Gen g(kSeed + 10);
    for (int i = 0; i < kIters; ++i) {
        const U256 base = g.any();
        // Exponents: mostly small (the common case), some of every width.
        const U256 e = g.below(4) == 0 ? g.any() : U256{g.u64() % 70};
        // Oracle: right-to-left binary powering in Boost arithmetic, reduced mod 2^256.
        Wide r = 1;
        Wide b = to_wide(base);
        Wide x = to_wide(e);
        while (x != 0 && b != 0) {
            if ((x & 1) != 0) {
                r = (r * b) & kMask;
            }
            b = (b * b) & kMask;
            x >>= 1;
        }
        if (x != 0) {
            r = 0;  // the base reached zero with exponent bits left
        }
        ASSERT_EQ(exp(base, e), from_wide(r)) << base.to_hex() << " ** " << e.to_hex();
    }
}

TEST(U256, shifts_match_oracle) {
    Gen g(kSeed + 11);
    for (int i = 0; i < kIters; ++i) {
        const U256 a = g.any();
        const unsigned n = g.below(300);
        const U256 nn = g.below(8) == 0 ? g.any() : U256{n};
        const Wide shl = nn.fits_u64() && nn.low64() < 256
                             ? (to_wide(a) << static_cast<unsigned>(nn.low64())) & kMask
                             : Wide(0);
        const Wide shr = nn.fits_u64() && nn.low64() < 256
                             ? to_wide(a) >> static_cast<unsigned>(nn.low64())
                             : Wide(0);
        ASSERT_EQ(a << nn, from_wide(shl)) << a.to_hex() << " << " << nn.to_hex();
        ASSERT_EQ(a >> nn, from_wide(shr)) << a.to_hex() << " >> " << nn.to_hex();
        ASSERT_EQ(a << n, from_wide(n < 256 ? (to_wide(a) << n) & kMask : Wide(0)));
        ASSERT_EQ(a >> n, from_wide(n < 256 ? to_wide(a) >> n : Wide(0)));
    }
}

TEST(U256, sar_matches_oracle) {
    Gen g(kSeed + 12);
    for (int i = 0; i < kIters; ++i) {
        const U256 a = g.below(2) == 0 ? -g.any() : g.any();
        const U256 n = g.below(8) == 0 ? g.any() : U256{g.below(300)};
        const Signed sa = to_signed(a);
        Signed expect = sa < 0 ? Signed(-1) : Signed(0);
        if (n.fits_u64() && n.low64() < 256) {
            // Floor division by 2^n, built from Boost's truncating division.
            const Signed p = Signed(1) << static_cast<unsigned>(n.low64());
            expect = sa / p;
            if (sa < 0 && sa % p != 0) {
                expect -= 1;
            }
        }
        ASSERT_EQ(sar(a, n), from_signed(expect)) << a.to_hex() << " sar " << n.to_hex();
    }
}

TEST(U256, signextend_matches_oracle) {
    Gen g(kSeed + 13);
    for (int i = 0; i < kIters; ++i) {
        const U256 x = g.any();
        const U256 b = g.below(8) == 0 ? g.any() : U256{g.below(40)};
        Wide expect = to_wide(x);
        if (b.fits_u64() && b.low64() < 31) {
            const auto bits = static_cast<unsigned>(b.low64()) * 8 + 8;
            const Wide low = expect & ((kOne << bits) - 1);
            expect = (low >> (bits - 1)) != 0 ? (kMod - (kOne << bits) + low) : low;
        }
        ASSERT_EQ(signextend(b, x), from_wide(expect)) << b.to_hex() << " " << x.to_hex();
    }
}

TEST(U256, byte_matches_oracle) {
    Gen g(kSeed + 14);
    for (int i = 0; i < kIters; ++i) {
        const U256 x = g.any();
        const U256 idx = g.below(8) == 0 ? g.any() : U256{g.below(40)};
        Wide expect = 0;
        if (idx.fits_u64() && idx.low64() < 32) {
            expect = (to_wide(x) >> (8 * (31 - static_cast<unsigned>(idx.low64())))) & 0xff;
        }
        ASSERT_EQ(byte(idx, x), from_wide(expect)) << idx.to_hex() << " " << x.to_hex();
    }
}

TEST(U256, comparisons_match_oracle) {
    Gen g(kSeed + 15);
    for (int i = 0; i < kIters; ++i) {
        const U256 a = g.below(2) == 0 ? -g.any() : g.any();
        const U256 b = g.below(8) == 0 ? a : g.related(a);
        const Wide wa = to_wide(a);
        const Wide wb = to_wide(b);
        const Signed sa = to_signed(a);
        const Signed sb = to_signed(b);
        ASSERT_EQ(a < b, wa < wb);
        ASSERT_EQ(a > b, wa > wb);
        ASSERT_EQ(a <= b, wa <= wb);
        ASSERT_EQ(a == b, wa == wb);
        ASSERT_EQ(a != b, wa != wb);
        ASSERT_EQ(slt(a, b), sa < sb);
        ASSERT_EQ(sgt(a, b), sa > sb);
        ASSERT_EQ(a.is_negative(), sa < 0);
        ASSERT_EQ(a.bit_width(), wa == 0 ? 0U : static_cast<unsigned>(mp::msb(wa)) + 1);
    }
}

TEST(U256, bitwise_matches_oracle) {
    Gen g(kSeed + 16);
    for (int i = 0; i < kIters; ++i) {
        const U256 a = g.any();
        const U256 b = g.any();
        ASSERT_EQ(a & b, from_wide(to_wide(a) & to_wide(b)));
        ASSERT_EQ(a | b, from_wide(to_wide(a) | to_wide(b)));
        ASSERT_EQ(a ^ b, from_wide(to_wide(a) ^ to_wide(b)));
        ASSERT_EQ(~a, from_wide(kMask ^ to_wide(a)));
    }
}

TEST(U256, string_conversions_match_oracle) {
    Gen g(kSeed + 17);
    for (int i = 0; i < kIters; ++i) {
        const U256 a = g.any();
        const Wide w = to_wide(a);
        const std::string dec = a.to_string();
        ASSERT_EQ(dec, w.str());
        const std::string hex = a.to_hex();
        ASSERT_EQ(hex, "0x" + lower(w.str(0, std::ios_base::hex)));
        ASSERT_EQ(U256::from_hex(hex).value(), a);
        ASSERT_EQ(U256::from_dec(dec).value(), a);
        ASSERT_EQ(U256::from_string(hex).value(), a);
        ASSERT_EQ(U256::from_string(dec).value(), a);
        // Leading zeros (up to 64 hex digits in all) and upper case parse too.
        std::string padded = std::string(64 - (hex.size() - 2), '0') + hex.substr(2);
        for (char& c : padded) {
            if (c >= 'a' && c <= 'f' && g.below(2) == 0) {
                c = static_cast<char>(c - 'a' + 'A');
            }
        }
        ASSERT_EQ(U256::from_hex(padded).value(), a) << padded;
        ASSERT_EQ(U256::from_hex("0X" + padded).value(), a) << padded;
        ASSERT_EQ(U256::from_dec(std::string(g.below(5), '0') + dec).value(), a);
    }
}

TEST(U256, byte_conversions_match_oracle) {
    Gen g(kSeed + 18);
    for (int i = 0; i < kIters; ++i) {
        const U256 a = g.any();
        const Wide w = to_wide(a);
        std::array<uint8_t, 32> be{};
        a.to_be32(be.data());
        for (unsigned k = 0; k < 32; ++k) {
            ASSERT_EQ(be[k], static_cast<uint8_t>((w >> (8 * (31 - k))) & 0xff));
        }
        ASSERT_EQ(U256::from_be32(be.data()), a);
        ASSERT_EQ(a.to_hash().bytes, be);
        ASSERT_EQ(U256::from_hash(a.to_hash()), a);
        const Bytes trimmed = a.to_be_bytes_trimmed();
        ASSERT_EQ(trimmed.size(), a.byte_width());
        ASSERT_TRUE(trimmed.empty() || trimmed.front() != 0);
        ASSERT_TRUE(std::equal(trimmed.begin(), trimmed.end(), be.end() - trimmed.size()));
        ASSERT_EQ(U256::from_be_bytes(trimmed), a);
    }
}

// --- edge cases ---------------------------------------------------------------------------------

TEST(U256, edge_values_match_oracle_for_every_pair) {
    const std::vector<U256> edges{0,
                                  1,
                                  2,
                                  3,
                                  255,
                                  256,
                                  ~uint64_t{0},
                                  U256{0, 1, 0, 0},
                                  U256{0, 0, 1, 0},
                                  U256{0, 0, 0, 1},
                                  U256{1} << 255,
                                  (U256{1} << 255) - 1,
                                  (U256{1} << 255) + 1,
                                  kMax,
                                  kMax - 1,
                                  U256{~uint64_t{0}, ~uint64_t{0}, 0, 0},
                                  U256{0, 0, ~uint64_t{0}, ~uint64_t{0}}};
    for (const U256& a : edges) {
        for (const U256& b : edges) {
            const Wide wa = to_wide(a);
            const Wide wb = to_wide(b);
            EXPECT_EQ(a + b, from_wide(wa + wb));
            EXPECT_EQ(a * b, from_wide(wa * wb));
            EXPECT_EQ(a / b, from_wide(b.is_zero() ? Wide(0) : wa / wb));
            EXPECT_EQ(a % b, from_wide(b.is_zero() ? Wide(0) : wa % wb));
            EXPECT_EQ(sdiv(a, b),
                      from_signed(b.is_zero() ? Signed(0) : to_signed(a) / to_signed(b)));
            EXPECT_EQ(smod(a, b),
                      from_signed(b.is_zero() ? Signed(0) : to_signed(a) % to_signed(b)));
            for (const U256& m : edges) {
                const Wide wm = to_wide(m);
                EXPECT_EQ(addmod(a, b, m), from_wide(m.is_zero() ? Wide(0) : (wa + wb) % wm));
                EXPECT_EQ(mulmod(a, b, m), from_wide(m.is_zero() ? Wide(0) : (wa * wb) % wm));
            }
        }
    }
}

TEST(U256, div_by_zero_is_zero) {
    for (const U256& a : {U256{0}, U256{1}, kMin, kMax}) {
        EXPECT_EQ(a / U256{0}, U256{0});
        EXPECT_EQ(a % U256{0}, U256{0});
        EXPECT_EQ(sdiv(a, 0), U256{0});
        EXPECT_EQ(smod(a, 0), U256{0});
        EXPECT_EQ(addmod(a, kMax, 0), U256{0});
        EXPECT_EQ(mulmod(a, kMax, 0), U256{0});
    }
}

TEST(U256, sdiv_min_by_minus_one_is_min) {
    EXPECT_EQ(sdiv(kMin, kMax), kMin);  // -2^255 / -1 overflows back to -2^255
    EXPECT_EQ(smod(kMin, kMax), U256{0});
    EXPECT_EQ(sdiv(kMin, 1), kMin);
    EXPECT_EQ(sdiv(-U256{7}, 2), -U256{3});  // truncation toward zero
    EXPECT_EQ(smod(-U256{7}, 2), -U256{1});  // sign of the dividend
    EXPECT_EQ(smod(U256{7}, -U256{2}), U256{1});
}

TEST(U256, division_needing_add_back_step) {
    // Shapes for which the two-limb estimate of Algorithm D is one too large even after
    // refinement (the 64-bit analogue of the classic 32-bit test vector), so step D6 runs.
    const U256 a{0, 0, uint64_t{1} << 63, (uint64_t{1} << 63) - 1};
    const U256 b{1, 0, uint64_t{1} << 63, 0};
    EXPECT_EQ(a / b, from_wide(to_wide(a) / to_wide(b)));
    EXPECT_EQ(a % b, from_wide(to_wide(a) % to_wide(b)));
    const U256 c{3, 0, uint64_t{1} << 63, 0};
    const U256 d{1, 0, uint64_t{1} << 62, 0};
    EXPECT_EQ(c / d, from_wide(to_wide(c) / to_wide(d)));
    EXPECT_EQ(c % d, from_wide(to_wide(c) % to_wide(d)));
    EXPECT_EQ(mulmod(a, a, b), from_wide((to_wide(a) * to_wide(a)) % to_wide(b)));
}

TEST(U256, addmod_keeps_the_257th_bit) {
    EXPECT_EQ(addmod(kMax, kMax, kMax), U256{0});
    EXPECT_EQ(addmod(kMax, 1, 2), U256{0});  // 2^256 is even
    EXPECT_EQ(addmod(kMax, 1, 3), U256{1});  // 2^256 = 1 (mod 3)
    EXPECT_EQ(addmod(kMax, kMax, kMax - 1), U256{2});
    EXPECT_EQ(mulmod(kMax, kMax, kMax - 1), U256{1});
    EXPECT_EQ(mulmod(kMax, kMax, 12), U256{9});  // (2^256-1)^2 = 15^2 = 9 (mod 12)
}

TEST(U256, exp_edge_cases) {
    EXPECT_EQ(exp(0, 0), U256{1});
    EXPECT_EQ(exp(kMax, 0), U256{1});
    EXPECT_EQ(exp(0, kMax), U256{0});
    EXPECT_EQ(exp(2, 255), kMin);
    EXPECT_EQ(exp(2, 256), U256{0});
    EXPECT_EQ(exp(kMax, kMax), kMax);  // (-1)^odd
    EXPECT_EQ(exp(kMax, kMax - 1), U256{1});
    EXPECT_EQ(exp(3, kMax), from_wide(to_wide(exp(3, kMax - 1)) * 3));
}

TEST(U256, shifts_of_256_or_more_are_zero_or_sign) {
    for (const U256& n : {U256{256}, U256{257}, U256{1000}, U256{0, 1, 0, 0}, kMax}) {
        EXPECT_EQ(kMax << n, U256{0});
        EXPECT_EQ(kMax >> n, U256{0});
        EXPECT_EQ(sar(kMax, n), kMax);
        EXPECT_EQ(sar(kMin, n), kMax);
        EXPECT_EQ(sar(kMin - 1, n), U256{0});
    }
    EXPECT_EQ(kMax << 256U, U256{0});
    EXPECT_EQ(kMax >> 300U, U256{0});
    EXPECT_EQ(U256{1} << 255U, kMin);
    EXPECT_EQ(kMin >> 255U, U256{1});
    EXPECT_EQ(sar(kMin, 255), kMax);
    EXPECT_EQ(sar(kMin, 0), kMin);
}

TEST(U256, signextend_index_31_or_more_is_identity) {
    for (const U256& i : {U256{31}, U256{32}, U256{1000}, U256{0, 1, 0, 0}, kMax}) {
        EXPECT_EQ(signextend(i, kMin), kMin);
        EXPECT_EQ(signextend(i, U256{0x80}), U256{0x80});
    }
    EXPECT_EQ(signextend(0, 0xff), kMax);
    EXPECT_EQ(signextend(0, 0x7f), U256{0x7f});
    EXPECT_EQ(signextend(0, 0x1280), kMax - 0x7f);
    EXPECT_EQ(signextend(30, U256{1} << 247), kMax << 247U);
    EXPECT_EQ(signextend(7, (U256{0, 0x1, 0, 0})), U256{0});
    EXPECT_EQ(signextend(7, (U256{~uint64_t{0} >> 1, 5, 5, 5})), U256{~uint64_t{0} >> 1});
    EXPECT_EQ(signextend(7, (U256{uint64_t{1} << 63, 5, 5, 5})), -U256{uint64_t{1} << 63});
}

TEST(U256, byte_index_32_or_more_is_zero) {
    for (const U256& i : {U256{32}, U256{33}, U256{0, 1, 0, 0}, kMax}) {
        EXPECT_EQ(byte(i, kMax), U256{0});
    }
    const U256 x =
        U256::from_hex("0x0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20")
            .value();
    for (unsigned i = 0; i < 32; ++i) {
        EXPECT_EQ(byte(i, x), U256{i + 1});
    }
}

TEST(U256, add_and_sub_overflow_allow_aliasing) {
    U256 x = kMax;
    EXPECT_TRUE(add_overflow(x, 1, x));
    EXPECT_EQ(x, U256{0});
    x = 0;
    EXPECT_TRUE(sub_overflow(x, 1, x));
    EXPECT_EQ(x, kMax);
    U256 y = 5;
    EXPECT_FALSE(sub_overflow(7, y, y));
    EXPECT_EQ(y, U256{2});
}

TEST(U256, operations_are_constexpr) {
    static_assert(U256{2} + U256{3} == U256{5});
    static_assert(U256{2} - U256{3} == U256::max());
    static_assert(U256::max() * U256::max() == U256{1});
    static_assert(((U256{1} << 200U) >> 199U) == U256{2});
    static_assert(slt(U256::max(), U256{0}) && sgt(U256{0}, U256::max()));
    static_assert(U256{0, 0, 0, 1}.bit_width() == 193 && U256{0x100}.byte_width() == 2);
}

TEST(U256, conversion_edge_cases) {
    EXPECT_EQ(U256{0}.to_hex(), "0x0");
    EXPECT_EQ(U256{0}.to_string(), "0");
    EXPECT_EQ(U256{0x1a}.to_hex(), "0x1a");
    EXPECT_EQ(kMax.to_hex(), "0x" + std::string(64, 'f'));
    EXPECT_EQ(kMax.to_string(),
              "115792089237316195423570985008687907853269984665640564039457584007913129639935");
    EXPECT_EQ(U256{10'000'000'000'000'000'000ULL}.to_string(), "10000000000000000000");
    EXPECT_EQ((U256{0, 1, 0, 0}).to_string(), "18446744073709551616");
    EXPECT_TRUE(U256{0}.to_be_bytes_trimmed().empty());
    const Bytes expect_trimmed{0x12, 0x34};
    EXPECT_EQ(U256{0x1234}.to_be_bytes_trimmed(), expect_trimmed);
    EXPECT_EQ(U256::from_be_bytes({}), U256{0});
    const Bytes two{0x01, 0x02};
    EXPECT_EQ(U256::from_be_bytes(two), U256{0x102});
    Bytes long_input(40, 0xff);
    long_input[0] = 0x00;  // more than 32 bytes: the last 32 are kept
    long_input[39] = 0x01;
    EXPECT_EQ(U256::from_be_bytes(long_input), kMax - 0xfe);
    EXPECT_EQ(U256::from_hex("0").value(), U256{0});
    EXPECT_EQ(U256::from_hex("0x" + std::string(64, '0')).value(), U256{0});
    EXPECT_EQ(U256::from_hex("0xABCdef").value(), U256{0xabcdef});
    EXPECT_EQ(U256::from_dec(std::string(100, '0') + "1").value(), U256{1});
    EXPECT_EQ(U256::from_string("0X10").value(), U256{16});
    EXPECT_EQ(U256::from_string("10").value(), U256{10});
    EXPECT_EQ(U256::from_string("0").value(), U256{0});
    EXPECT_EQ(U256::from_string("010").value(), U256{10});  // decimal: only 0x marks hex
}

TEST(U256, parse_errors_say_why) {
    const auto message = [](const Result<U256>& r) {
        return r.has_value() ? std::string("(parsed)") : r.error().message;
    };
    EXPECT_NE(message(U256::from_hex("")).find("no digits"), std::string::npos);
    EXPECT_NE(message(U256::from_hex("0x")).find("no digits"), std::string::npos);
    EXPECT_NE(message(U256::from_hex("0x1" + std::string(64, '0'))).find("65 digits"),
              std::string::npos);
    EXPECT_NE(message(U256::from_hex(std::string(65, '0'))).find("65 digits"), std::string::npos);
    EXPECT_NE(message(U256::from_hex("0x12g4")).find("'g' at offset 4"), std::string::npos);
    EXPECT_NE(message(U256::from_hex("-1")).find("'-' at offset 0"), std::string::npos);
    EXPECT_NE(message(U256::from_hex("0x 1")).find("' ' at offset 2"), std::string::npos);
    EXPECT_NE(message(U256::from_hex("0xx1")).find("'x' at offset 2"), std::string::npos);
    EXPECT_NE(message(U256::from_dec("")).find("no digits"), std::string::npos);
    EXPECT_NE(message(U256::from_dec("12a")).find("'a' at offset 2"), std::string::npos);
    EXPECT_NE(message(U256::from_dec("-1")).find("'-' at offset 0"), std::string::npos);
    EXPECT_NE(message(U256::from_dec("+1")).find("'+' at offset 0"), std::string::npos);
    EXPECT_NE(message(U256::from_dec(" 1")).find("' ' at offset 0"), std::string::npos);
    EXPECT_NE(message(U256::from_dec("0x10")).find("'x' at offset 1"), std::string::npos);
    const std::string max_dec = kMax.to_string();
    EXPECT_EQ(U256::from_dec(max_dec).value(), kMax);
    std::string over = max_dec;
    over.back() = '6';  // 2^256
    EXPECT_NE(message(U256::from_dec(over)).find("exceeds 2^256-1"), std::string::npos);
    EXPECT_NE(message(U256::from_dec(max_dec + "0")).find("exceeds"), std::string::npos);
    EXPECT_NE(message(U256::from_dec("1" + std::string(78, '0'))).find("exceeds"),
              std::string::npos);
    EXPECT_NE(message(U256::from_string("0xzz")).find("'z' at offset 2"), std::string::npos);
    EXPECT_NE(message(U256::from_string("")).find("no digits"), std::string::npos);
}

}  // namespace
}  // namespace pel
