// SPDX-License-Identifier: Apache-2.0
#include "vm/precompiles.hpp"

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "primitives/hex.hpp"
#include "tests/unit/precompiles/vectors.hpp"

namespace pel::vm {
namespace {

Address precompile(uint8_t n) {
    Address a;
    a.bytes[19] = n;
    return a;
}

Bytes hex(std::string_view h) {
    auto r = from_hex(h);
    EXPECT_TRUE(r.has_value()) << h;
    return r ? r.value() : Bytes{};
}

std::string hex_out(const Bytes& b) { return to_hex(b, false); }

/// Best-of-n thread CPU time of fn in microseconds (the build machines are shared, so wall time
/// says little); informational only.
template <class Fn>
double best_cpu_us(int runs, Fn fn) {
    double best = 1e300;
    for (int i = 0; i < runs; ++i) {
        timespec t0{};
        timespec t1{};
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
        fn();
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
        const double us = static_cast<double>(t1.tv_sec - t0.tv_sec) * 1e6 +
                          static_cast<double>(t1.tv_nsec - t0.tv_nsec) / 1e3;
        best = std::min(best, us);
    }
    return best;
}

/// Runs every vector with exactly its gas (success, nothing left, expected output) and with one
/// gas less (failure, everything consumed).
void run_vectors(uint8_t addr, std::span<const test::PrecompileVector> vectors) {
    for (const auto& v : vectors) {
        SCOPED_TRACE(std::string(v.name));
        const Bytes input = hex(v.input);
        const auto r = run_precompile(precompile(addr), input, v.gas);
        EXPECT_TRUE(r.success);
        EXPECT_EQ(r.gas_left, 0);
        EXPECT_EQ(hex_out(r.output), v.expected);
        const auto extra = run_precompile(precompile(addr), input, v.gas + 1000);
        EXPECT_TRUE(extra.success);
        EXPECT_EQ(extra.gas_left, 1000);
        if (v.gas > 0) {
            const auto oog = run_precompile(precompile(addr), input, v.gas - 1);
            EXPECT_FALSE(oog.success);
            EXPECT_EQ(oog.gas_left, 0);
        }
    }
}

TEST(Precompiles, addresses_one_to_ten_only) {
    for (unsigned n = 0; n < 256; ++n) {
        EXPECT_EQ(is_precompile(precompile(static_cast<uint8_t>(n))), n >= 1 && n <= 10) << n;
    }
    Address high = precompile(1);
    high.bytes[0] = 1;
    EXPECT_FALSE(is_precompile(high));
    EXPECT_FALSE(run_precompile(precompile(0x0b), {}, 100000).success);
}

// --- 0x01 ----------------------------------------------------------------------------------------

TEST(Precompiles, ecrecover_vectors) { run_vectors(0x01, test::kEcrecoverVectors); }

TEST(Precompiles, ecrecover_invalid_is_success_with_empty_output) {
    // r = s = 0: no signature; v = 27 as a word. Empty output, 3000 gas charged.
    Bytes in(128, 0);
    in[63] = 27;
    const auto r = run_precompile(precompile(0x01), in, 5000);
    EXPECT_TRUE(r.success);
    EXPECT_EQ(r.gas_left, 2000);
    EXPECT_TRUE(r.output.empty());
    EXPECT_TRUE(run_precompile(precompile(0x01), {}, 3000).success);
    EXPECT_FALSE(run_precompile(precompile(0x01), {}, 2999).success);
}

// --- 0x02-0x04 -----------------------------------------------------------------------------------

TEST(Precompiles, sha256_ripemd160_identity) {
    auto r = run_precompile(precompile(0x02), {}, 60);
    EXPECT_TRUE(r.success);
    EXPECT_EQ(hex_out(r.output),
              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    r = run_precompile(precompile(0x02), as_bytes("abc"), 72);
    EXPECT_TRUE(r.success);
    EXPECT_EQ(r.gas_left, 0);
    EXPECT_EQ(hex_out(r.output),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_FALSE(run_precompile(precompile(0x02), as_bytes("abc"), 71).success);

    r = run_precompile(precompile(0x03), {}, 600);
    EXPECT_TRUE(r.success);
    EXPECT_EQ(hex_out(r.output),
              "0000000000000000000000009c1185a5c5e9fc54612808977ee8f548b2258d31");
    r = run_precompile(precompile(0x03), as_bytes("abc"), 720);
    EXPECT_TRUE(r.success);
    EXPECT_EQ(r.gas_left, 0);
    EXPECT_EQ(hex_out(r.output),
              "0000000000000000000000008eb208f7e05d987a9b044a8e98c6b087f15a0bfc");
    EXPECT_FALSE(run_precompile(precompile(0x03), as_bytes("abc"), 719).success);

    const Bytes in(33, 0xab);  // two words
    r = run_precompile(precompile(0x04), in, 21);
    EXPECT_TRUE(r.success);
    EXPECT_EQ(r.gas_left, 0);
    EXPECT_EQ(r.output, in);
    EXPECT_FALSE(run_precompile(precompile(0x04), in, 20).success);
    r = run_precompile(precompile(0x04), {}, 15);
    EXPECT_TRUE(r.success);
    EXPECT_TRUE(r.output.empty());
}

// --- 0x05 ----------------------------------------------------------------------------------------

TEST(Precompiles, modexp_eip2565_vectors) { run_vectors(0x05, test::kModexpVectors); }

TEST(Precompiles, modexp_random_vectors) { run_vectors(0x05, test::kModexpRandomVectors); }

Bytes modexp_input(uint64_t base_len, uint64_t exp_len, uint64_t mod_len, std::string_view rest) {
    Bytes in(96, 0);
    for (size_t i = 0; i < 8; ++i) {
        in[31 - i] = static_cast<uint8_t>(base_len >> (8 * i));
        in[63 - i] = static_cast<uint8_t>(exp_len >> (8 * i));
        in[95 - i] = static_cast<uint8_t>(mod_len >> (8 * i));
    }
    append(in, hex(rest));
    return in;
}

TEST(Precompiles, modexp_edge_cases) {
    // Zero modulus: mod_len zero bytes.
    auto r = run_precompile(precompile(0x05), modexp_input(1, 1, 3, "0203000000"), 200);
    EXPECT_TRUE(r.success);
    EXPECT_EQ(hex_out(r.output), "000000");
    // 3^5 mod 100 = 43, modulus padded to 2 bytes; inputs past the end read as zero.
    r = run_precompile(precompile(0x05), modexp_input(1, 1, 2, "03050064"), 200);
    EXPECT_TRUE(r.success);
    EXPECT_EQ(hex_out(r.output), "002b");
    // The modulus is cut short: its missing byte is zero, so m = 0x0100 = 256; 3^5 mod 256 = 243.
    r = run_precompile(precompile(0x05), modexp_input(1, 1, 2, "030501"), 200);
    EXPECT_EQ(hex_out(r.output), "00f3");
    // 0^0 = 1 (mod 7).
    r = run_precompile(precompile(0x05), modexp_input(0, 0, 1, "07"), 200);
    EXPECT_EQ(hex_out(r.output), "01");
    // mod_len 0: empty output for 200 gas even with a huge exponent length.
    Bytes huge = modexp_input(0, 0, 0, "");
    std::fill(huge.begin() + 32, huge.begin() + 64, 0xff);
    r = run_precompile(precompile(0x05), huge, 200);
    EXPECT_TRUE(r.success);
    EXPECT_TRUE(r.output.empty());
    EXPECT_FALSE(run_precompile(precompile(0x05), huge, 199).success);
    // Huge lengths with a nonzero modulus length: out of gas, no allocation.
    huge[95] = 1;
    EXPECT_FALSE(run_precompile(precompile(0x05), huge, INT64_MAX).success);
    Bytes huge_mod = modexp_input(1, 1, 0, "");
    std::fill(huge_mod.begin() + 64, huge_mod.begin() + 96, 0xff);
    EXPECT_FALSE(run_precompile(precompile(0x05), huge_mod, INT64_MAX).success);
    // Exponent longer than 32 bytes: iterations = 8 * (len - 32) + bitlen(head) - 1.
    // base 1 byte, exp 40 bytes with head 0x01.., mod 1 byte: 8*8 + 255 = 319 -> 319/3 = 106 ->
    // 200. With a 64-byte modulus: words 8 -> 64 * 319 / 3 = 6805.
    Bytes e = modexp_input(1, 40, 64, "02");
    Bytes exp_bytes(40, 0);
    exp_bytes[0] = 0x80;
    append(e, exp_bytes);
    Bytes mod_bytes(64, 0);
    mod_bytes[63] = 0x07;
    append(e, mod_bytes);
    r = run_precompile(precompile(0x05), e, 6805);
    EXPECT_TRUE(r.success);
    EXPECT_EQ(r.gas_left, 0);
    EXPECT_FALSE(run_precompile(precompile(0x05), e, 6804).success);
    // 2^(2^319) mod 7: 2^k mod 7 cycles with period 3; 2^319 mod 3 = 2, so 2^2 = 4.
    EXPECT_EQ(r.output.back(), 4);
}

TEST(Precompiles, modexp_truncated_input_is_zero_padded) {
    // A cut-short exponent means the modulus lies wholly past the end: m = 0, output zeros.
    auto r = run_precompile(precompile(0x05), modexp_input(1, 3, 2, "0301"), 1000);
    EXPECT_TRUE(r.success);
    EXPECT_EQ(hex_out(r.output), "0000");
    // 3^65536 mod 1000 = 121 with everything present.
    r = run_precompile(precompile(0x05),
                       modexp_input(1, 3, 2,
                                    "030100000"
                                    "3e8"),
                       1000);
    EXPECT_TRUE(r.success);
    EXPECT_EQ(hex_out(r.output), "0079");
}

// --- 0x06-0x08 -----------------------------------------------------------------------------------

TEST(Precompiles, bn254_add_vectors) { run_vectors(0x06, test::kBn254AddVectors); }
TEST(Precompiles, bn254_mul_vectors) { run_vectors(0x07, test::kBn254MulVectors); }
TEST(Precompiles, bn254_pairing_vectors) { run_vectors(0x08, test::kBn254PairingVectors); }

TEST(Precompiles, bn254_short_input_is_zero_padded) {
    // Empty input: 0 * O and O + O, both the zero point.
    auto r = run_precompile(precompile(0x07), {}, 6000);
    EXPECT_TRUE(r.success);
    EXPECT_EQ(r.output, Bytes(64, 0));
    // The generator (1, 2) with the scalar cut short after its first byte 0x02: the missing 31
    // bytes are zeros, so the result equals the explicit 96-byte input with scalar 2^249.
    Bytes g(64, 0);
    g[31] = 1;
    g[63] = 2;
    Bytes short_in = g;
    short_in.push_back(0x02);
    Bytes full_in = g;
    full_in.push_back(0x02);
    full_in.resize(96, 0);
    r = run_precompile(precompile(0x07), short_in, 6000);
    const auto full = run_precompile(precompile(0x07), full_in, 6000);
    EXPECT_TRUE(r.success);
    EXPECT_EQ(r.output, full.output);
    EXPECT_NE(r.output, Bytes(64, 0));
}

TEST(Precompiles, bn254_glv_matches_double_and_add) {
    // Points: the generator and the vectors' points; scalars: edge cases around r and 2^256 and
    // a deterministic pseudo-random stream (splitmix64).
    std::vector<Bytes> points{
        hex("0000000000000000000000000000000000000000000000000000000000000001"
            "0000000000000000000000000000000000000000000000000000000000000002")};
    for (const auto& v : test::kBn254MulVectors) {
        points.push_back(hex(v.input.substr(0, 128)));
    }
    const std::string_view edge[] = {
        "0000000000000000000000000000000000000000000000000000000000000000",
        "0000000000000000000000000000000000000000000000000000000000000001",
        "30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000000",
        "30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001",
        "30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000002",
        "183227397098d014dc2822db40c0ac2e9419f4243cdcb848a1f0fac9f8000000",
        "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    };
    uint64_t state = 0x9e3779b97f4a7c15ULL;
    const auto next = [&state] {
        uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    };
    for (const auto& p : points) {
        for (const auto e : edge) {
            EXPECT_TRUE(test_bn254_glv_matches(p, hex(e))) << e;
        }
        for (int i = 0; i < 40; ++i) {
            Bytes k(32);
            for (size_t j = 0; j < 32; j += 8) {
                const uint64_t w = next();
                for (size_t b = 0; b < 8; ++b) {
                    k[j + b] = static_cast<uint8_t>(w >> (8 * b));
                }
            }
            if (i % 4 == 1) {
                k[0] &= 0x3f;  // below 2^254
            }
            if (i % 4 == 2) {
                std::fill(k.begin(), k.begin() + 16, 0);  // 128-bit
            }
            EXPECT_TRUE(test_bn254_glv_matches(p, k)) << to_hex(k);
        }
    }
}

TEST(Precompiles, bn254_invalid_points_fail) {
    // (1, 3) is not on y^2 = x^3 + 3.
    const Bytes bad =
        hex("0000000000000000000000000000000000000000000000000000000000000001"
            "0000000000000000000000000000000000000000000000000000000000000003");
    EXPECT_FALSE(run_precompile(precompile(0x06), bad, 150).success);
    EXPECT_FALSE(run_precompile(precompile(0x07), bad, 6000).success);
    // x = p (not reduced) with y = 2: the generator shifted by p is rejected.
    const Bytes unreduced =
        hex("30644e72e131a029b85045b68181585d97816a916871ca8d3c208c16d87cfd48"
            "0000000000000000000000000000000000000000000000000000000000000002");
    EXPECT_FALSE(run_precompile(precompile(0x06), unreduced, 150).success);
    // Pairing input that is not a multiple of 192 bytes.
    EXPECT_FALSE(run_precompile(precompile(0x08), Bytes(191, 0), 100000).success);
    // A G2 point with a coordinate >= p.
    Bytes pair = hex(test::kBn254PairingVectors[3].input);  // one_point
    pair[64] = 0xff;
    EXPECT_FALSE(run_precompile(precompile(0x08), pair, 79000).success);
    // A valid G1 with the zero G2 point contributes 1.
    Bytes p_inf(192, 0);
    p_inf[31] = 1;
    p_inf[63] = 2;
    const auto r = run_precompile(precompile(0x08), p_inf, 79000);
    EXPECT_TRUE(r.success);
    EXPECT_EQ(r.output.back(), 1);
}

TEST(Precompiles, bn254_g2_not_in_subgroup_fails) {
    // Q = (1 + 0u, y) lies on the twist y^2 = x^3 + 3/(9 + u) (y computed with an independent
    // script) but not in the order-r subgroup; EIP-197 requires rejecting it.
    Bytes pair(64, 0);
    pair[31] = 1;
    pair[63] = 2;
    append(pair, hex("0000000000000000000000000000000000000000000000000000000000000000"
                     "0000000000000000000000000000000000000000000000000000000000000001"
                     "0d1271953ed9ea0836846e70a1934187998c7f790cb4d7511b7f8da82de048a4"
                     "2869111d5381f072f8e2728fdb825a51aadd70e52c9830e9ab4b871c0531f1bb"));
    EXPECT_FALSE(run_precompile(precompile(0x08), pair, 79000).success);
    // Flipping one bit of y takes it off the curve: also rejected.
    pair[191] ^= 1;
    EXPECT_FALSE(run_precompile(precompile(0x08), pair, 79000).success);
}

TEST(Precompiles, bn254_g2_fast_membership_matches_definition) {
    // Twist points from an independent script: (1 + 0u, y), then alternately a point with a
    // small x (outside G2) and the same point times the cofactor 2p - r (inside G2).
    // Each point is four concatenated 32-byte words.
    // NOLINTBEGIN(bugprone-suspicious-missing-comma)
    const std::string_view points[] = {
        "0000000000000000000000000000000000000000000000000000000000000000"
        "0000000000000000000000000000000000000000000000000000000000000001"
        "0d1271953ed9ea0836846e70a1934187998c7f790cb4d7511b7f8da82de048a4"
        "2869111d5381f072f8e2728fdb825a51aadd70e52c9830e9ab4b871c0531f1bb",
        "0000000000000000000000000000000000000000000000000000000000000024"
        "0000000000000000000000000000000000000000000000000000000000000005"
        "17860426a96b226d520d0cd780fc745c1a48a1abb33e26471c0f934491c69423"
        "23ab2c21466c5adec1f4e0f1b43ddeff4f1096f5c7f0eca71690925fead14a52",
        "2b901ee6e481118b4619d35f9df88bf13e207b1ad031ee637da39823cfae83e9"
        "2ef72778dcb1ef31bdaff8abcd149519494104e80da612183725f0a0b45c27f9"
        "1d667e24089587596360ae900df327acdf2745aab6dd4c15b8320f5c8fb2b816"
        "023e0b349d8b489e6f457c27007150dc6406e6dbb44271f2fabeefec8c7e72b2",
        "0000000000000000000000000000000000000000000000000000000000000040"
        "0000000000000000000000000000000000000000000000000000000000000009"
        "260cd5c99f12550da1d344ee2aaa8684ab0f41dcbe89d5aea89df382263b07aa"
        "0d30e0c7098728ae3e7c5e9fc00dbc6366b264d620301656930feb48991934ba",
        "0cc7a7dc2b78a44ca3e9bf5073c892f6574cf01fd67782e85adfb1223b09a16a"
        "2afb2ac380b0dc3d614fcee3135e60a8686feada471cfcd236ed1e78ef3e9c1d"
        "0a4758b822cdcd61077695d982b045dd392dec3b82af8d8a1aad5bdef27359ca"
        "1043443aec0c93a96853f746057d5323efd7f9e7cc2af3a3cbdd9c4307af15b7",
        "0000000000000000000000000000000000000000000000000000000000000047"
        "000000000000000000000000000000000000000000000000000000000000000a"
        "06d59fb9de89b5cf84c7d951ec4e7abe2fc7ae74ebc3b3de7c87f799b9ae91c8"
        "146882812a766020eba22281157f0db6c70f1cad78fc6d1e72f27dc4edf5bc40",
        "20773e68b98b63dd7c4b8710e0238af9b4f1835bfd116157cc2517197d81d887"
        "09df76b6bfbf08a17184145e83651865614ebb85dced23884c713948cdb7bae6"
        "111174aa6863058cb1e0152a19f03ebfd212ca879cce17d7f07add3f0ba78d83"
        "0bdd46cc35bd8be46814d10b927b96ee26d77b321f46561d95c129ed862a0479",
    };
    // NOLINTEND(bugprone-suspicious-missing-comma)
    for (size_t i = 0; i < std::size(points); ++i) {
        const Bytes q = hex(points[i]);
        EXPECT_TRUE(test_bn254_g2_membership_agrees(q)) << i;
        // Through the precompile: paired with the G1 generator, only G2 members are accepted.
        Bytes pair(64, 0);
        pair[31] = 1;
        pair[63] = 2;
        append(pair, q);
        const bool in_g2 = i % 2 == 0 && i > 0;
        EXPECT_EQ(run_precompile(precompile(0x08), pair, 79000).success, in_g2) << i;
    }
    // The vectors' G2 points are members.
    const Bytes jeff1 = hex(test::kBn254PairingVectors[0].input);
    EXPECT_TRUE(test_bn254_g2_membership_agrees(ByteView(jeff1).subspan(64, 128)));
    EXPECT_TRUE(test_bn254_g2_membership_agrees(ByteView(jeff1).subspan(256, 128)));
}

TEST(Precompiles, bn254_pairing_timing) {
    const Bytes in = hex(test::kBn254PairingVectors[0].input);  // jeff1, two pairs
    const double us =
        best_cpu_us(10, [&] { EXPECT_TRUE(run_precompile(precompile(0x08), in, 113000).success); });
    std::cout << "bn254 pairing check, 2 pairs: " << us << " us CPU\n";
    const Bytes mul = hex(test::kBn254MulVectors[3].input);  // 256-bit scalar
    const double mul_us =
        best_cpu_us(10, [&] { EXPECT_TRUE(run_precompile(precompile(0x07), mul, 6000).success); });
    std::cout << "bn254 scalar multiplication: " << mul_us << " us CPU\n";
}

// --- 0x09 ----------------------------------------------------------------------------------------

TEST(Precompiles, blake2f_eip152_vectors) { run_vectors(0x09, test::kBlake2fVectors); }

TEST(Precompiles, blake2f_eip152_failures) {
    const Bytes good = hex(test::kBlake2fVectors[1].input);  // vector 5
    // Vectors 0-2: wrong length.
    EXPECT_FALSE(run_precompile(precompile(0x09), {}, 100).success);
    EXPECT_FALSE(run_precompile(precompile(0x09), ByteView(good).first(212), 100).success);
    Bytes longer = good;
    longer.push_back(0);
    EXPECT_FALSE(run_precompile(precompile(0x09), longer, 100).success);
    // Vector 3: final flag 2.
    Bytes bad_flag = good;
    bad_flag[212] = 2;
    EXPECT_FALSE(run_precompile(precompile(0x09), bad_flag, 100).success);
}

// --- 0x0a ----------------------------------------------------------------------------------------

TEST(Precompiles, point_evaluation_constants_are_valid) {
    EXPECT_TRUE(test_precompile_constants_valid());
}

TEST(Precompiles, point_evaluation_vectors) { run_vectors(0x0a, test::kPointEvaluationVectors); }

TEST(Precompiles, point_evaluation_rejects) {
    const Bytes good = hex(test::kPointEvaluationVectors[0].input);
    // Wrong versioned hash.
    Bytes bad = good;
    bad[5] ^= 1;
    EXPECT_FALSE(run_precompile(precompile(0x0a), bad, 50000).success);
    // Wrong claimed value y.
    bad = good;
    bad[95] ^= 1;
    EXPECT_FALSE(run_precompile(precompile(0x0a), bad, 50000).success);
    // z not below the BLS modulus.
    bad = good;
    std::fill(bad.begin() + 32, bad.begin() + 64, 0xff);
    EXPECT_FALSE(run_precompile(precompile(0x0a), bad, 50000).success);
    // Wrong length.
    EXPECT_FALSE(run_precompile(precompile(0x0a), ByteView(good).first(191), 50000).success);
    // Out of gas.
    EXPECT_FALSE(run_precompile(precompile(0x0a), good, 49999).success);
}

/// A point evaluation input with a correct versioned hash (computed through precompile 0x02).
Bytes point_evaluation_input(const Bytes& z, const Bytes& y, const Bytes& commitment,
                             const Bytes& proof) {
    const auto h = run_precompile(precompile(0x02), commitment, 1000);
    Bytes in = h.output;
    in[0] = 0x01;
    append(in, z);
    append(in, y);
    append(in, commitment);
    append(in, proof);
    return in;
}

TEST(Precompiles, point_evaluation_zero_polynomial_and_subgroup) {
    Bytes infinity(48, 0);
    infinity[0] = 0xc0;
    Bytes z(32, 0);
    z[31] = 7;
    // The zero polynomial: commitment and proof are the point at infinity, p(z) = 0.
    auto r = run_precompile(precompile(0x0a),
                            point_evaluation_input(z, Bytes(32, 0), infinity, infinity), 50000);
    EXPECT_TRUE(r.success);
    EXPECT_EQ(r.output.size(), 64U);
    // ... but not p(z) = 1.
    Bytes one(32, 0);
    one[31] = 1;
    EXPECT_FALSE(
        run_precompile(precompile(0x0a), point_evaluation_input(z, one, infinity, infinity), 50000)
            .success);
    // Infinity with the sign bit set is not canonical.
    Bytes bad_inf = infinity;
    bad_inf[0] |= 0x20;
    EXPECT_FALSE(run_precompile(precompile(0x0a),
                                point_evaluation_input(z, Bytes(32, 0), bad_inf, infinity), 50000)
                     .success);
    // (4, y) is on the curve but outside G1 (found with an independent script).
    const Bytes outside =
        hex("80000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
            "0000000"
            "004");
    EXPECT_FALSE(run_precompile(precompile(0x0a),
                                point_evaluation_input(z, Bytes(32, 0), outside, infinity), 50000)
                     .success);
    EXPECT_FALSE(run_precompile(precompile(0x0a),
                                point_evaluation_input(z, Bytes(32, 0), infinity, outside), 50000)
                     .success);
    // Uncompressed flag (top bit clear) is rejected.
    Bytes uncompressed = infinity;
    uncompressed[0] = 0x40;
    EXPECT_FALSE(run_precompile(precompile(0x0a),
                                point_evaluation_input(z, Bytes(32, 0), uncompressed, infinity),
                                50000)
                     .success);
}

/// The execution-spec-tests fixture that runs c-kzg/go-kzg verify_kzg_proof vectors through the
/// precompile (GeneralStateTests/Pyspecs/cancun/eip4844_blobs). Its state roots are the state-test
/// runner's business; here each case's transaction data goes straight to 0x0a, and the expected
/// outcome is the case name: correct_proof* succeeds, everything else fails.
TEST(Precompiles, point_evaluation_fixture_vectors) {
    const std::filesystem::path file = std::filesystem::path(PEL_FIXTURES_DIR) /
                                       "GeneralStateTests/Pyspecs/cancun/eip4844_blobs" /
                                       "point_evaluation_precompile_external_vectors.json";
    std::ifstream in(file);
    if (!in) {
        GTEST_SKIP() << "fixture not found: " << file;
    }
    std::stringstream buf;
    buf << in.rdbuf();
    const std::string text = buf.str();
    constexpr std::string_view kCase = "verify_kzg_proof_case_";
    constexpr std::string_view kData = "\"data\"";
    size_t cases = 0;
    for (size_t pos = text.find(kCase); pos != std::string::npos; pos = text.find(kCase, pos)) {
        pos += kCase.size();
        const std::string name = text.substr(pos, text.find(']', pos) - pos);
        const size_t data = text.find(kData, text.find("\"transaction\"", pos));
        ASSERT_NE(data, std::string::npos);
        const size_t open = text.find("\"0x", data);
        const size_t close = text.find('"', open + 1);
        const Bytes input = hex(std::string_view(text).substr(open + 1, close - open - 1));
        const bool expected = name.starts_with("correct_proof");
        const auto r = run_precompile(precompile(0x0a), input, 60000);
        EXPECT_EQ(r.success, expected) << name;
        if (expected) {
            EXPECT_EQ(r.gas_left, 10000) << name;
        }
        ++cases;
    }
    EXPECT_EQ(cases, 122U);
}

TEST(Precompiles, point_evaluation_timing) {
    const Bytes in = hex(test::kPointEvaluationVectors[0].input);
    const double us =
        best_cpu_us(10, [&] { EXPECT_TRUE(run_precompile(precompile(0x0a), in, 50000).success); });
    std::cout << "point evaluation: " << us << " us CPU\n";
}

}  // namespace
}  // namespace pel::vm
