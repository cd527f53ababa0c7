// SPDX-License-Identifier: Apache-2.0
// EIP-191 and EIP-712 digests (node/eip712.hpp). Expected values come from outside this repo: the
// EIP-712 specification's Mail example, and ethers 6.17.0's hashMessage / TypedDataEncoder.hash
// for the other inputs (computed once with the e2e suite's pinned ethers and written here).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "node/eip712.hpp"
#include "primitives/bytes.hpp"
#include "tests/unit/node/eip712_examples.hpp"

namespace pel::node {
namespace {

using Json = nlohmann::json;

Json mail() { return test::eip712_mail(); }

// ethers' TypedDataEncoder.getPayload output (ints as decimal strings, chainId as hex).
Json rich() {
    return Json::parse(R"({
      "types": {
        "Item": [{"name": "id", "type": "uint8"}, {"name": "tags", "type": "string[]"},
                 {"name": "delta", "type": "int16"}],
        "Order": [{"name": "maker", "type": "address"}, {"name": "items", "type": "Item[]"},
                  {"name": "pair", "type": "uint256[2]"}, {"name": "sel", "type": "bytes4"},
                  {"name": "blob", "type": "bytes"}, {"name": "ok", "type": "bool"},
                  {"name": "min", "type": "int256"}, {"name": "grid", "type": "int8[2][]"}],
        "EIP712Domain": [{"name": "name", "type": "string"}, {"name": "chainId", "type": "uint256"},
                         {"name": "salt", "type": "bytes32"}]
      },
      "domain": {"name": "Rich", "chainId": "0x7a69",
                 "salt": "0xabababababababababababababababababababababababababababababababab"},
      "primaryType": "Order",
      "message": {
        "maker": "0x00000000000000000000000000000000000000aa",
        "items": [{"id": "7", "tags": ["a", "bc"], "delta": "-300"},
                  {"id": "255", "tags": [], "delta": "32767"}],
        "pair": ["1", "115792089237316195423570985008687907853269984665640564039457584007913129639935"],
        "sel": "0xa9059cbb", "blob": "0x0102030405", "ok": true,
        "min": "-57896044618658097711785492504343953926634992332820282019728792003956564819968",
        "grid": [["-128", "127"], ["0", "-1"]]
      }
    })");
}

std::string digest_hex(const Json& td) {
    auto d = typed_data_digest(td);
    EXPECT_TRUE(d.has_value()) << (d ? "" : d.error().message);
    return d ? d->to_hex() : "";
}

std::string error_of(const Json& td) {
    auto d = typed_data_digest(td);
    EXPECT_FALSE(d.has_value());
    return d ? "" : d.error().message;
}

TEST(Eip191, personal_message_digest_matches_ethers_hash_message) {
    EXPECT_EQ(personal_message_digest(as_bytes("Hello World")).to_hex(),
              "0xa1de988600a42c4b4ab089b619297c17d53cffae5d5120d82d8a92d0bb3b78f2");
}

TEST(Eip712, mail_example_of_the_specification) {
    const Json td = mail();
    auto enc = typed_data_encode_type(td["types"], "Mail");
    ASSERT_TRUE(enc.has_value());
    EXPECT_EQ(*enc,
              "Mail(Person from,Person to,string contents)Person(string name,address wallet)");
    EXPECT_EQ(digest_hex(td), test::kEip712MailDigest);
}

TEST(Eip712, missing_domain_type_is_derived_from_the_domain) {
    Json td = mail();
    td["types"].erase("EIP712Domain");
    EXPECT_EQ(digest_hex(td), test::kEip712MailDigest);
}

TEST(Eip712, arrays_signed_ints_bytes_and_bools_match_ethers) {
    const Json td = rich();
    auto enc = typed_data_encode_type(td["types"], "Order");
    ASSERT_TRUE(enc.has_value());
    EXPECT_EQ(*enc,
              "Order(address maker,Item[] items,uint256[2] pair,bytes4 sel,bytes blob,bool ok,"
              "int256 min,int8[2][] grid)Item(uint8 id,string[] tags,int16 delta)");
    EXPECT_EQ(digest_hex(td), "0x8e3db692dd3af02699696c089681d027a69d3b8caac089f8709c71540fe8af1a");
}

TEST(Eip712, integers_as_json_numbers_and_hex_encode_alike) {
    Json td = rich();
    td["domain"]["chainId"] = 31337;
    td["message"]["items"][0]["id"] = 7;
    td["message"]["items"][0]["delta"] = -300;
    td["message"]["pair"][0] = "0x1";
    td["message"]["grid"][0][0] = -128;
    EXPECT_EQ(digest_hex(td), "0x8e3db692dd3af02699696c089681d027a69d3b8caac089f8709c71540fe8af1a");
}

TEST(Eip712, recursive_types_are_allowed) {
    const Json td = Json::parse(R"({
      "types": {"Node": [{"name": "v", "type": "uint256"}, {"name": "kids", "type": "Node[]"}]},
      "primaryType": "Node", "domain": {},
      "message": {"v": 1, "kids": [{"v": 2, "kids": []}, {"v": 3, "kids": [{"v": 4, "kids": []}]}]}
    })");
    auto enc = typed_data_encode_type(td["types"], "Node");
    ASSERT_TRUE(enc.has_value());
    EXPECT_EQ(*enc, "Node(uint256 v,Node[] kids)");
    EXPECT_EQ(digest_hex(td).size(), 66U);
}

TEST(Eip712, bad_values_are_refused_with_their_place) {
    const auto with = [](const char* ptr, const Json& v) {
        Json td = rich();
        td[Json::json_pointer(ptr)] = v;
        return td;
    };
    EXPECT_NE(error_of(with("/message/items/0/id", "256"))
                  .find("message.items[0].id: value out "
                        "of range for uint8"),
              std::string::npos);
    EXPECT_NE(error_of(with("/message/items/0/id", "-1")).find("negative value for uint8"),
              std::string::npos);
    EXPECT_NE(error_of(with("/message/items/1/delta", "32768")).find("out of range for int16"),
              std::string::npos);
    EXPECT_NE(error_of(with("/message/grid/0/0", -129)).find("message.grid[0][0]"),
              std::string::npos);
    EXPECT_NE(error_of(with("/message/items/0/id", 1.5)).find("expected an integer"),
              std::string::npos);
    EXPECT_NE(error_of(with("/message/pair", Json::array({1}))).find("expected 2 elements"),
              std::string::npos);
    EXPECT_NE(error_of(with("/message/sel", "0xa9059c")).find("expected 4 bytes"),
              std::string::npos);
    EXPECT_NE(error_of(with("/message/ok", 1)).find("expected true or false"), std::string::npos);
    EXPECT_NE(error_of(with("/message/maker", "0x12")).find("message.maker"), std::string::npos);
    EXPECT_NE(error_of(with("/message/blob", "zz")).find("message.blob"), std::string::npos);
    EXPECT_NE(error_of(with("/message/extra", 1)).find("field 'extra' is not in type Order"),
              std::string::npos);
    Json missing = rich();
    missing["message"].erase("ok");
    EXPECT_NE(error_of(missing).find("message.ok: missing value of type bool"), std::string::npos);
}

TEST(Eip712, malformed_typed_data_is_refused) {
    EXPECT_NE(error_of(Json::array()).find("expected an object"), std::string::npos);
    Json td = mail();
    td.erase("primaryType");
    EXPECT_NE(error_of(td).find("missing \"primaryType\""), std::string::npos);
    td = mail();
    td["primaryType"] = "Letter";
    EXPECT_NE(error_of(td).find("primaryType 'Letter' is not in types"), std::string::npos);
    td = mail();
    td["types"]["Mail"][2]["type"] = "strng";
    EXPECT_NE(error_of(td).find("unknown type 'strng'"), std::string::npos);
    td = mail();
    td["types"]["Mail"][2]["type"] = "uint7";
    EXPECT_NE(error_of(td).find("unknown type 'uint7'"), std::string::npos);
    td = mail();
    td["types"]["Mail"][2]["type"] = "string[x]";
    EXPECT_NE(error_of(td).find("bad array length"), std::string::npos);
    td = mail();
    td["types"]["Mail"].push_back(Json{{"name", "to"}, {"type", "string"}});
    EXPECT_NE(error_of(td).find("field 'to' appears twice"), std::string::npos);
    td = mail();
    td["types"]["Person"] = Json::object();
    EXPECT_NE(error_of(td).find("expected an array"), std::string::npos);
    td = mail();
    td.erase("message");
    EXPECT_NE(error_of(td).find("missing \"message\""), std::string::npos);
}

TEST(Eip712, deep_nesting_and_long_type_chains_are_bounded) {
    // A message nested deeper than the encoder's limit: an error, not a stack overflow.
    Json td = Json::parse(R"({"types": {"N": [{"name": "k", "type": "N[]"}]},
                              "primaryType": "N", "domain": {}})");
    Json m = Json{{"k", Json::array()}};
    for (int i = 0; i < 200; ++i) {
        m = Json{{"k", Json::array({m})}};
    }
    td["message"] = m;
    EXPECT_NE(error_of(td).find("nested too deeply"), std::string::npos);
    // A chain of 100,000 struct types: encodeType walks it without recursion.
    Json types = Json::object();
    const int n = 100'000;
    const auto name = [](int i) {
        std::string s(1, 'T');
        s += std::to_string(i);
        return s;
    };
    for (int i = 0; i < n; ++i) {
        const std::string next = i + 1 < n ? name(i + 1) : std::string("uint8");
        types[name(i)] = Json::array({Json{{"name", "x"}, {"type", next}}});
    }
    auto enc = typed_data_encode_type(types, "T0");
    ASSERT_TRUE(enc.has_value());
    EXPECT_EQ(enc->rfind("T99999(uint8 x)"), enc->size() - std::string("T99999(uint8 x)").size());
}

}  // namespace
}  // namespace pel::node
