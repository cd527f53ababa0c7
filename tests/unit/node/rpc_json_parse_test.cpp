// SPDX-License-Identifier: Apache-2.0
// parse_json (simdjson scanning, nlohmann values) against nlohmann::json::parse, the arbiter:
// the same value with the same types at every node, or an error for both, on texts chosen where
// the two libraries differ (big integers, -0, a byte order mark, surrogates, deep nesting,
// duplicate keys) and on ordinary JSON-RPC bodies.
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "node/json_parse.hpp"
#include "tests/unit/node/json_identical.hpp"

namespace pel::node::rpc {
namespace {

using Json = nlohmann::json;

void expect_as_nlohmann(std::string_view text) {
    const Json want = Json::parse(text, nullptr, false);
    const Json got = parse_json(text);
    if (want.is_discarded()) {
        EXPECT_TRUE(got.is_discarded()) << "accepted what nlohmann refuses: " << text;
        return;
    }
    ASSERT_FALSE(got.is_discarded()) << "refused what nlohmann accepts: " << text;
    EXPECT_TRUE(test::json_identical(want, got))
        << text << "\n nlohmann: " << want.dump() << "\n parse_json: " << got.dump();
}

TEST(ParseJson, AgreesWithNlohmannWhereTheLibrariesDiffer) {
    const std::vector<std::string> texts = {
        // numbers: nlohmann types non-negative integers unsigned, negative ones signed, and
        // makes doubles of integers beyond 64 bits (simdjson refuses them)
        "0",
        "-0",
        "[0,-0]",
        "[0, \"-0\"]",
        "-0.0",
        "1",
        "-1",
        "1.0",
        "1e2",
        "1E-400",
        "-1e-400",
        "18446744073709551615",
        "18446744073709551616",
        "-9223372036854775808",
        "-9223372036854775809",
        "123456789012345678901234567890",
        "9007199254740993",
        "1e400",
        "0.1",
        "-1.5e-320",
        "01",
        "1.",
        "-",
        "2.5e+3",
        // strings: escapes, surrogate pairs and lone halves, control characters, bad UTF-8
        R"("\u0000")",
        R"("\/")",
        R"("\ud83d\ude00")",
        R"("\uD800\uDC00")",
        R"("\udc00")",
        R"("\ud800")",
        R"("\ud800\u0041")",
        "\"a\x01\"",
        "\"\xed\xa0\x80\"",
        "\"\xc0\xaf\"",
        "\"\xe2\x82\xac\"",
        R"("tab\there")",
        // structure
        "{\"a\":1,\"a\":2}",
        "{\"b\":1,\"a\":[true,false,null]}",
        "[]",
        "{}",
        "[1,]",
        "[1 2]",
        "{\"a\" 1}",
        "  [1]  ",
        "[1] x",
        "nul",
        "true",
        "",
        "   ",
        // a UTF-8 byte order mark (nlohmann skips it)
        "\xef\xbb\xbf[1]",
        // NUL bytes outside and inside the value
        std::string("[1]\0", 4),
        std::string("[1,\0 2]", 7),
        // nesting beyond simdjson's 1,024 levels
        std::string(1500, '[') + std::string(1500, ']'),
        std::string(1000, '[') + std::string(1000, ']'),
        // an ordinary batch
        R"([{"jsonrpc":"2.0","id":1,"method":"eth_sendRawTransaction","params":["0x02f8"]},)"
        R"({"jsonrpc":"2.0","id":"x","method":"eth_chainId"},{"jsonrpc":"2.0","id":null,)"
        R"("method":"eth_getBalance","params":["0x00000000000000000000000000000000000000aa",)"
        R"("latest"]}])",
    };
    for (const std::string& t : texts) {
        expect_as_nlohmann(t);
    }
}

TEST(ParseJson, LargeTextsUseTheirOwnParser) {
    // Above the size the thread's parser is kept for: same answer, and the thread's parser
    // still works afterwards.
    std::string big = "[";
    for (int i = 0; i < 60000; ++i) {
        big += (i != 0 ? ",\"" : "\"") + std::string(16, 'a') + "\"";
    }
    big += "]";
    ASSERT_GT(big.size(), size_t{1} << 20);
    expect_as_nlohmann(big);
    expect_as_nlohmann(R"({"small":[1,2,3]})");
}

}  // namespace
}  // namespace pel::node::rpc
