// SPDX-License-Identifier: Apache-2.0
#include "primitives/secp256k1.hpp"

#include <cstdint>
#include <random>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "primitives/keccak.hpp"

namespace pel::crypto {
namespace {

Hash32 h32(std::string_view hex) { return Hash32::from_hex(hex).value(); }

// A valid random secret key (below n, non-zero) drawn from a seeded generator.
Hash32 random_secret(std::mt19937_64& rng) {
    for (;;) {
        Hash32 k;
        for (size_t i = 0; i < 32; i += 8) {
            const uint64_t v = rng();
            for (size_t j = 0; j < 8; ++j) {
                k.bytes[i + j] = static_cast<uint8_t>(v >> (8 * j));
            }
        }
        const U256 u = U256::from_hash(k);
        if (!u.is_zero() && u < kSecp256k1N) {
            return k;
        }
    }
}

Hash32 message(uint64_t i) {
    const std::string s = "pel message " + std::to_string(i);
    return keccak256(as_bytes(s));
}

TEST(Secp256k1, known_secret_gives_known_address) {
    // The sender key of the Ethereum state tests.
    const auto addr = address_from_secret(
        h32("0x45a915e4d060149eb4365960e6a7a45f334393093061116b197e3240065ff2d8"));
    ASSERT_TRUE(addr) << addr.error().message;
    EXPECT_EQ(addr->to_hex(), "0xa94f5374fce5edbc8e2a8697c15331677e6ebf0b");
}

TEST(Secp256k1, sign_then_recover_round_trips_over_random_keys) {
    std::mt19937_64 rng(20240601);
    for (uint64_t i = 0; i < 200; ++i) {
        const Hash32 key = random_secret(rng);
        const Hash32 msg = message(i);
        const auto sig = sign(msg, key);
        ASSERT_TRUE(sig) << sig.error().message;
        EXPECT_LE(sig->s, kSecp256k1HalfN) << "sign must produce low s";
        EXPECT_LE(sig->y_parity, 1);
        const auto expected = address_from_secret(key);
        ASSERT_TRUE(expected);
        const auto strict = recover_address(msg, *sig, true);
        ASSERT_TRUE(strict) << strict.error().message;
        EXPECT_EQ(*strict, *expected);
        const auto lax = recover_address(msg, *sig, false);
        ASSERT_TRUE(lax);
        EXPECT_EQ(*lax, *expected);
        // A different message recovers some other key.
        const auto other = recover_address(message(i + 1000000), *sig, true);
        if (other) {
            EXPECT_NE(*other, *expected);
        }
    }
}

TEST(Secp256k1, signing_is_deterministic_rfc6979) {
    const Hash32 key = h32("0x4646464646464646464646464646464646464646464646464646464646464646");
    const Hash32 msg = message(7);
    const auto a = sign(msg, key);
    const auto b = sign(msg, key);
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->r, b->r);
    EXPECT_EQ(a->s, b->s);
    EXPECT_EQ(a->y_parity, b->y_parity);
}

TEST(Secp256k1, high_s_is_rejected_only_when_required) {
    const Hash32 key = h32("0x45a915e4d060149eb4365960e6a7a45f334393093061116b197e3240065ff2d8");
    const Hash32 msg = message(42);
    const auto sig = sign(msg, key);
    ASSERT_TRUE(sig);
    // (r, n - s) with the opposite parity is the same signature in its high-s form.
    Signature high = *sig;
    high.s = kSecp256k1N - sig->s;
    high.y_parity = static_cast<uint8_t>(1 - sig->y_parity);
    ASSERT_GT(high.s, kSecp256k1HalfN);

    const auto lax = recover_address(msg, high, false);
    ASSERT_TRUE(lax) << lax.error().message;
    EXPECT_EQ(lax->to_hex(), "0xa94f5374fce5edbc8e2a8697c15331677e6ebf0b");

    const auto strict = recover_address(msg, high, true);
    ASSERT_FALSE(strict);
    EXPECT_NE(strict.error().message.find("EIP-2"), std::string::npos) << strict.error().message;
}

TEST(Secp256k1, s_equal_to_half_n_is_low) {
    Signature sig{U256{1}, kSecp256k1HalfN, 0};
    // Whatever key this recovers, the range check must let it through to recovery.
    const auto r = recover_address(message(1), sig, true);
    if (!r) {
        EXPECT_EQ(r.error().message.find("EIP-2"), std::string::npos) << r.error().message;
    }
}

TEST(Secp256k1, out_of_range_signatures_are_rejected) {
    const Hash32 key = h32("0x45a915e4d060149eb4365960e6a7a45f334393093061116b197e3240065ff2d8");
    const Hash32 msg = message(3);
    const auto good = sign(msg, key);
    ASSERT_TRUE(good);

    auto expect_rejected = [&](Signature s, std::string_view why) {
        for (const bool strict : {false, true}) {
            const auto r = recover_address(msg, s, strict);
            ASSERT_FALSE(r) << why;
            EXPECT_NE(r.error().message.find(why), std::string::npos) << r.error().message;
        }
    };
    Signature s = *good;
    s.r = 0;
    expect_rejected(s, "r out of range");
    s = *good;
    s.s = 0;
    expect_rejected(s, "s out of range");
    s = *good;
    s.r = kSecp256k1N;
    expect_rejected(s, "r out of range");
    s = *good;
    s.r = U256::max();
    expect_rejected(s, "r out of range");
    s = *good;
    s.s = kSecp256k1N;
    expect_rejected(s, "s out of range");
    s = *good;
    s.y_parity = 2;
    expect_rejected(s, "y_parity");
}

TEST(Secp256k1, invalid_secret_keys_are_rejected) {
    const Hash32 zero{};
    EXPECT_FALSE(sign(message(0), zero));
    EXPECT_FALSE(address_from_secret(zero));
    const Hash32 n = kSecp256k1N.to_hash();
    EXPECT_FALSE(sign(message(0), n));
    EXPECT_FALSE(address_from_secret(n));
    const Hash32 n_minus_1 = (kSecp256k1N - 1).to_hash();
    EXPECT_TRUE(sign(message(0), n_minus_1));
    EXPECT_TRUE(address_from_secret(n_minus_1));
}

TEST(Secp256k1, concurrent_sign_and_recover_agree) {
    constexpr int kThreads = 4;
    std::vector<std::thread> threads;
    threads.reserve(kThreads);
    std::vector<int> failures(kThreads, 0);
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([t, &failures] {
            std::mt19937_64 rng(static_cast<uint64_t>(t) + 1);
            for (uint64_t i = 0; i < 50; ++i) {
                const Hash32 key = random_secret(rng);
                const Hash32 msg = message(i);
                const auto sig = sign(msg, key);
                const auto want = address_from_secret(key);
                const auto got = sig ? recover_address(msg, *sig, true) : Result<Address>{};
                if (!sig || !want || !got || *got != *want) {
                    ++failures[static_cast<size_t>(t)];
                }
            }
        });
    }
    for (auto& th : threads) {
        th.join();
    }
    for (const int f : failures) {
        EXPECT_EQ(f, 0);
    }
}

}  // namespace
}  // namespace pel::crypto
