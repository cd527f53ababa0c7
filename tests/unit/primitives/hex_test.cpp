// SPDX-License-Identifier: Apache-2.0
#include "primitives/hex.hpp"

#include <compare>
#include <cstring>
#include <random>

#include <gtest/gtest.h>

#include "primitives/hash.hpp"

namespace pel {
namespace {

TEST(Hex, round_trips_bytes) {
    const Bytes b{0x00, 0x01, 0xab, 0xff};
    EXPECT_EQ(to_hex(b), "0x0001abff");
    EXPECT_EQ(to_hex(b, false), "0001abff");
    auto back = from_hex("0x0001ABff");
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, b);
}

TEST(Hex, empty_input_is_empty_bytes) {
    ASSERT_TRUE(from_hex("0x"));
    EXPECT_TRUE(from_hex("0x")->empty());
    EXPECT_TRUE(from_hex("")->empty());
    EXPECT_EQ(to_hex(Bytes{}), "0x");
}

TEST(Hex, odd_length_is_an_error) {
    auto r = from_hex("0xabc");
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("odd"), std::string::npos);
}

TEST(Hex, invalid_character_names_its_offset) {
    auto r = from_hex("0x00zz");
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("'z' at offset 4"), std::string::npos) << r.error().message;
    auto r2 = from_hex("0g");
    ASSERT_FALSE(r2);
    EXPECT_NE(r2.error().message.find("offset 1"), std::string::npos) << r2.error().message;
}

TEST(Hex, fixed_size_parse_checks_length) {
    auto a = Address::from_hex("0xa94f5374fce5edbc8e2a8697c15331677e6ebf0b");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->to_hex(), "0xa94f5374fce5edbc8e2a8697c15331677e6ebf0b");
    EXPECT_FALSE(Address::from_hex("0xa94f5374fce5edbc8e2a8697c15331677e6ebf"));
    EXPECT_FALSE(Hash32::from_hex("0x00"));
}

TEST(FixedBytes, padded_view_keeps_low_order_bytes) {
    const Bytes b{0x12, 0x34};
    const auto h = Hash32::from_view_padded(b);
    EXPECT_EQ(h.bytes[30], 0x12);
    EXPECT_EQ(h.bytes[31], 0x34);
    EXPECT_EQ(h.bytes[0], 0);
}

TEST(FixedBytes, padded_empty_view_is_zero) {
    // An empty view may hold a null pointer ("0x" as an RPC quantity): nothing is copied from it
    // (UBSan, as the fuzz build runs it, reports a null memcpy source even for zero bytes).
    EXPECT_EQ(Hash32::from_view_padded(ByteView{}), Hash32{});
    EXPECT_EQ(Address::from_view_padded(ByteView{}), Address{});
}

/// Equality and order of FixedBytes<N> against memcmp's, for values that differ in exactly one
/// byte (each position, both directions) and for random pairs; N covers the word, half-word and
/// byte tails of the comparison.
template <class T>
void check_order_matches_memcmp() {
    std::mt19937_64 rng(7);
    const auto random_value = [&rng] {
        T v;
        for (auto& b : v.bytes) {
            b = static_cast<uint8_t>(rng());
        }
        return v;
    };
    const auto sign = [](int c) { return c < 0 ? -1 : (c > 0 ? 1 : 0); };
    const auto order = [](std::strong_ordering o) { return o < 0 ? -1 : (o > 0 ? 1 : 0); };
    for (int round = 0; round < 200; ++round) {
        const T a = random_value();
        T b = random_value();
        if (round % 4 == 0) {
            b = a;  // equal values
        }
        EXPECT_EQ(a == b, std::memcmp(a.data(), b.data(), T::size()) == 0);
        EXPECT_EQ(order(a <=> b), sign(std::memcmp(a.data(), b.data(), T::size())));
        for (size_t i = 0; i < T::size(); ++i) {
            T c = a;
            c.bytes[i] = static_cast<uint8_t>(c.bytes[i] + 1 + round % 255);  // NOLINT
            ASSERT_FALSE(a == c) << "byte " << i;
            ASSERT_EQ(order(a <=> c), sign(std::memcmp(a.data(), c.data(), T::size())))
                << "byte " << i;
            ASSERT_EQ(order(c <=> a), -order(a <=> c)) << "byte " << i;
        }
    }
}

struct OddTag {};

TEST(FixedBytes, equality_and_order_match_memcmp) {
    check_order_matches_memcmp<Hash32>();
    check_order_matches_memcmp<Address>();
    check_order_matches_memcmp<FixedBytes<7, OddTag>>();
    check_order_matches_memcmp<FixedBytes<13, OddTag>>();
    // The same operators at compile time.
    static_assert(Address{{1}} < Address{{2}} && Address{{0, 0, 0, 0, 0, 0, 0, 0, 1}} > Address{});
    static_assert(kEmptyCodeHash == kEmptyCodeHash && kEmptyCodeHash != kEmptyTrieRoot);
}

}  // namespace
}  // namespace pel
