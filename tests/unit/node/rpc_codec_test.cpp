// SPDX-License-Identifier: Apache-2.0
// Quantity / data codec rules (geth's hexutil) and revert reason decoding.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "node/json_codec.hpp"
#include "primitives/hex.hpp"

namespace pel::node::json {
namespace {

Bytes hex(std::string_view s) { return from_hex(s).value(); }

TEST(JsonCodec, quantities_encode_shortest) {
    EXPECT_EQ(quantity(uint64_t{0}), "0x0");
    EXPECT_EQ(quantity(uint64_t{1}), "0x1");
    EXPECT_EQ(quantity(uint64_t{0x400}), "0x400");
    EXPECT_EQ(quantity(U256::max()), "0x" + std::string(64, 'f'));
}

TEST(JsonCodec, data_encodes_with_prefix_and_even_length) {
    EXPECT_EQ(json::data(Bytes{}), "0x");
    EXPECT_EQ(json::data(Bytes{0x00, 0x0a}), "0x000a");
}

TEST(JsonCodec, quantity_decoding_rules) {
    EXPECT_EQ(parse_quantity(Json("0x0")).value(), U256(0));
    EXPECT_EQ(parse_quantity(Json("0x1a")).value(), U256(26));
    EXPECT_EQ(parse_quantity(Json("0X1A")).value(), U256(26));
    EXPECT_EQ(parse_quantity(Json("0x" + std::string(64, 'f'))).value(), U256::max());
    // The rules, each with geth's message.
    EXPECT_EQ(parse_quantity(Json("12")).error().message, "hex string without 0x prefix");
    EXPECT_EQ(parse_quantity(Json("0x")).error().message, "hex string \"0x\"");
    EXPECT_EQ(parse_quantity(Json("0x01")).error().message, "hex number with leading zero digits");
    EXPECT_EQ(parse_quantity(Json("0x00")).error().message, "hex number with leading zero digits");
    EXPECT_EQ(parse_quantity(Json("0xg1")).error().message, "invalid hex string");
    EXPECT_FALSE(parse_quantity(Json("0x1" + std::string(64, '0'))));  // 257 bits
    EXPECT_FALSE(parse_quantity(Json(5)));                             // numbers are not quantities
    EXPECT_FALSE(parse_quantity(Json()));
}

TEST(JsonCodec, u64_quantities_reject_overflow) {
    EXPECT_EQ(parse_quantity_u64(Json("0xffffffffffffffff")).value(), ~uint64_t{0});
    EXPECT_FALSE(parse_quantity_u64(Json("0x10000000000000000")));
}

TEST(JsonCodec, data_decoding_rules) {
    EXPECT_EQ(parse_data(Json("0x")).value(), Bytes{});
    EXPECT_EQ(parse_data(Json("0x00ff")).value(), (Bytes{0x00, 0xff}));
    EXPECT_EQ(parse_data(Json("0x0")).error().message, "hex string of odd length");
    EXPECT_EQ(parse_data(Json("00ff")).error().message, "hex string without 0x prefix");
    EXPECT_FALSE(parse_data(Json("0xzz")));
    EXPECT_FALSE(parse_data(Json("0x0x12")));  // one prefix only
    EXPECT_FALSE(parse_data(Json::array()));
}

TEST(JsonCodec, addresses_and_hashes_have_exact_lengths) {
    const std::string a = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266";
    EXPECT_EQ(address(parse_address(Json(a)).value()), a);
    EXPECT_EQ(address(parse_address(Json("0xF39FD6E51AAD88F6F4CE6AB8827279CFFFB92266")).value()),
              a);
    EXPECT_FALSE(parse_address(Json(a.substr(0, 40))));
    EXPECT_FALSE(parse_address(Json(a + "00")));
    EXPECT_FALSE(parse_hash(Json(a)));
    EXPECT_TRUE(parse_hash(Json("0x" + std::string(64, '1'))));
}

TEST(JsonCodec, storage_slots_are_left_padded) {
    EXPECT_EQ(U256::from_hash(parse_slot(Json("0x0")).value()), U256(0));
    EXPECT_EQ(U256::from_hash(parse_slot(Json("0x101")).value()), U256(0x101));
    EXPECT_EQ(U256::from_hash(parse_slot(Json("0x" + std::string(63, '0') + "2")).value()),
              U256(2));
    EXPECT_FALSE(parse_slot(Json("0x" + std::string(65, '1'))));
    EXPECT_FALSE(parse_slot(Json("5")));
}

TEST(JsonCodec, block_params) {
    using K = BlockParam::Kind;
    EXPECT_EQ(parse_block_param(Json("latest")).value().kind, K::kLatest);
    EXPECT_EQ(parse_block_param(Json("pending")).value().kind, K::kPending);
    EXPECT_EQ(parse_block_param(Json("earliest")).value().kind, K::kEarliest);
    EXPECT_EQ(parse_block_param(Json("safe")).value().kind, K::kSafe);
    EXPECT_EQ(parse_block_param(Json("finalized")).value().kind, K::kFinalized);
    const auto n = parse_block_param(Json("0x10")).value();
    EXPECT_EQ(n.kind, K::kNumber);
    EXPECT_EQ(n.number, 16u);
    const std::string h = "0x" + std::string(64, 'a');
    EXPECT_EQ(parse_block_param(Json(h)).value().kind, K::kHash);
    EXPECT_FALSE(parse_block_param(Json(h), /*allow_hash=*/false));
    EXPECT_EQ(parse_block_param(Json{{"blockHash", h}}).value().kind, K::kHash);
    EXPECT_EQ(parse_block_param(Json{{"blockNumber", "0x2"}}).value().number, 2u);
    EXPECT_FALSE(parse_block_param(Json{{"blockNumber", "0x2"}, {"blockHash", h}}));
    EXPECT_FALSE(parse_block_param(Json("newest")));
    EXPECT_FALSE(parse_block_param(Json("0x01")));
    EXPECT_FALSE(parse_block_param(Json(16)));
}

TEST(RevertReason, error_string_is_decoded) {
    // Error("Not enough") as solc encodes it.
    const Bytes out =
        hex("08c379a0"
            "0000000000000000000000000000000000000000000000000000000000000020"
            "000000000000000000000000000000000000000000000000000000000000000a"
            "4e6f7420656e6f75676800000000000000000000000000000000000000000000");
    EXPECT_EQ(decode_revert_reason(out), "Not enough");
    EXPECT_EQ(revert_message(out), "execution reverted: Not enough");
}

TEST(RevertReason, panic_codes_as_geth_names_them) {
    auto panic = [](std::string_view code) {
        return hex("4e487b71" + std::string(64 - code.size(), '0') + std::string(code));
    };
    EXPECT_EQ(revert_message(panic("01")), "execution reverted: assert(false)");
    EXPECT_EQ(revert_message(panic("11")), "execution reverted: arithmetic underflow or overflow");
    EXPECT_EQ(revert_message(panic("12")), "execution reverted: division or modulo by zero");
    EXPECT_EQ(revert_message(panic("32")),
              "execution reverted: out-of-bounds access of an array or bytesN");
    EXPECT_EQ(revert_message(panic("99")), "execution reverted: unknown panic code: 0x99");
}

TEST(RevertReason, other_data_gives_no_reason) {
    EXPECT_EQ(revert_message(Bytes{}), "execution reverted");
    EXPECT_EQ(revert_message(hex("deadbeef")), "execution reverted");  // a custom error
    // Error(string) whose length runs past the data.
    const Bytes bad =
        hex("08c379a0"
            "0000000000000000000000000000000000000000000000000000000000000020"
            "00000000000000000000000000000000000000000000000000000000000000ff"
            "4e6f7420656e6f75676800000000000000000000000000000000000000000000");
    EXPECT_EQ(decode_revert_reason(bad), std::nullopt);
    // Offset past the end.
    const Bytes bad_offset =
        hex("08c379a0"
            "00000000000000000000000000000000000000000000000000000000000fffff");
    EXPECT_EQ(decode_revert_reason(bad_offset), std::nullopt);
    EXPECT_EQ(decode_revert_reason(hex("08c379a0")), std::nullopt);
    EXPECT_EQ(decode_revert_reason(hex("4e487b71")), std::nullopt);
}

}  // namespace
}  // namespace pel::node::json
