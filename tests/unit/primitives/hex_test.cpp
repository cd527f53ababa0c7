// SPDX-License-Identifier: Apache-2.0
#include "primitives/hex.hpp"

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

}  // namespace
}  // namespace pel
