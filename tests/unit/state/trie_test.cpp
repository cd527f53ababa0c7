// SPDX-License-Identifier: Apache-2.0
// Merkle Patricia Trie roots: node encoding, known roots, the ethereum/tests TrieTests vectors, and
// HashBuilder checked against the independent recursive trie_root() on random key sets.
#include "state/trie.hpp"

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "primitives/hash.hpp"
#include "primitives/hex.hpp"
#include "primitives/keccak.hpp"
#include "primitives/rlp.hpp"
#include "state/trie_node.hpp"

namespace pel::state {
namespace {

using Entries = std::vector<std::pair<Bytes, Bytes>>;

Bytes bytes_of(std::string_view s) {
    const ByteView v = as_bytes(s);
    return {v.begin(), v.end()};
}

Bytes unhex(std::string_view s) {
    auto r = from_hex(s);
    EXPECT_TRUE(r.has_value()) << s;
    return r ? *r : Bytes{};
}

Hash32 h32(std::string_view s) {
    auto r = Hash32::from_hex(s);
    EXPECT_TRUE(r.has_value()) << s;
    return r ? *r : Hash32{};
}

// TrieTests convention: a string starting with "0x" is hex, anything else is its raw bytes.
Bytes test_bytes(std::string_view s) { return s.starts_with("0x") ? unhex(s) : bytes_of(s); }

Entries string_entries(const std::vector<std::pair<std::string, std::string>>& in) {
    Entries out;
    for (const auto& [k, v] : in) out.emplace_back(test_bytes(k), test_bytes(v));
    return out;
}

// --- hex-prefix and node encoding ------------------------------------------------------------

std::string hp(std::vector<uint8_t> nibbles, bool leaf) {
    Bytes out;
    hex_prefix_encode(out, nibbles, leaf);
    return to_hex(out, false);
}

TEST(HexPrefix, yellow_paper_examples) {
    EXPECT_EQ(hp({1, 2, 3, 4, 5}, false), "112345");
    EXPECT_EQ(hp({0, 1, 2, 3, 4, 5}, false), "00012345");
    EXPECT_EQ(hp({0, 15, 1, 12, 11, 8}, true), "200f1cb8");
    EXPECT_EQ(hp({15, 1, 12, 11, 8}, true), "3f1cb8");
    EXPECT_EQ(hp({}, false), "00");
    EXPECT_EQ(hp({}, true), "20");
    EXPECT_EQ(hp({7}, true), "37");
}

TEST(HexPrefix, decode_round_trips) {
    for (const bool leaf : {false, true}) {
        for (size_t len = 0; len <= 64; ++len) {
            std::vector<uint8_t> path(len);
            for (size_t i = 0; i < len; ++i) path[i] = static_cast<uint8_t>((i * 7 + len) % 16);
            Bytes enc;
            hex_prefix_encode(enc, path, leaf);
            ASSERT_EQ(enc.size(), hex_prefix_size(len));
            auto dec = hex_prefix_decode(enc);
            ASSERT_TRUE(dec.has_value()) << dec.error().message;
            EXPECT_EQ(dec->leaf, leaf);
            EXPECT_EQ(dec->nibbles, Bytes(path.begin(), path.end()));
        }
    }
}

TEST(HexPrefix, decode_rejects_malformed) {
    EXPECT_FALSE(hex_prefix_decode({}).has_value());
    EXPECT_FALSE(hex_prefix_decode(unhex("40")).has_value());  // flag 4
    EXPECT_FALSE(hex_prefix_decode(unhex("f1")).has_value());  // flag 15
    EXPECT_FALSE(hex_prefix_decode(unhex("01")).has_value());  // even path, pad nibble 1
    EXPECT_FALSE(hex_prefix_decode(unhex("2a12")).has_value());
}

TEST(TrieNode, short_nodes_are_embedded_long_nodes_hashed) {
    Bytes leaf;
    encode_leaf(leaf, std::vector<uint8_t>{1, 2}, as_bytes("x"));
    // [0x20 0x12 as a 2-byte string, 'x']: c4 82 2012 78
    EXPECT_EQ(to_hex(leaf, false), "c482201278");
    const NodeRef small = make_node_ref(leaf);
    EXPECT_FALSE(small.is_hash());
    EXPECT_TRUE(equal(small.view(), leaf));

    Bytes big;
    encode_leaf(big, std::vector<uint8_t>(20, 3), Bytes(20, 0xaa));
    ASSERT_GE(big.size(), 32U);
    const NodeRef hashed = make_node_ref(big);
    ASSERT_TRUE(hashed.is_hash());
    EXPECT_EQ(hashed.data[0], 0xa0);
    EXPECT_TRUE(equal(hashed.view().subspan(1), keccak256(big).view()));
}

TEST(TrieNode, node_of_exactly_32_bytes_is_hashed_31_embedded) {
    // Leaf [HP(empty path, leaf) = 0x20, value]: list header 1 + 1 + value item.
    Bytes v29(28, 0x11);  // value item 29 bytes -> payload 30 -> node 31 bytes
    Bytes n31;
    encode_leaf(n31, {}, v29);
    ASSERT_EQ(n31.size(), 31U);
    EXPECT_FALSE(make_node_ref(n31).is_hash());
    Bytes v30(29, 0x11);
    Bytes n32;
    encode_leaf(n32, {}, v30);
    ASSERT_EQ(n32.size(), 32U);
    EXPECT_TRUE(make_node_ref(n32).is_hash());
}

TEST(TrieNode, branch_encoding) {
    std::array<ByteView, 16> children{};
    Bytes child;
    encode_leaf(child, {}, as_bytes("a"));  // c2 20 61
    children[3] = child;
    Bytes out;
    encode_branch(out, children, as_bytes("v"));
    // payload: 15 x 0x80 + c22061 (3) + 'v' (1) = 19
    EXPECT_EQ(to_hex(out, false),
              "d3808080c22061808080808080808080808080"
              "76");
}

// --- trie_root: known roots -------------------------------------------------------------------

TEST(TrieRoot, empty_trie) {
    EXPECT_EQ(trie_root({}), kEmptyTrieRoot);
    EXPECT_EQ(kEmptyTrieRoot,
              h32("0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421"));
    EXPECT_EQ(keccak256(unhex("80")), kEmptyTrieRoot);
    HashBuilder hb;
    EXPECT_EQ(hb.root(), kEmptyTrieRoot);
}

TEST(TrieRoot, do_dog_doge_horse) {
    const Entries e =
        string_entries({{"do", "verb"}, {"dog", "puppy"}, {"doge", "coin"}, {"horse", "stallion"}});
    EXPECT_EQ(trie_root(e),
              h32("0x5991bb8c6514148a29db676a14ac506cd2cd5775ace63c30a4fe457715e9ac84"));
}

TEST(TrieRoot, order_does_not_matter) {
    Entries e =
        string_entries({{"horse", "stallion"}, {"doge", "coin"}, {"do", "verb"}, {"dog", "puppy"}});
    const Hash32 expected =
        h32("0x5991bb8c6514148a29db676a14ac506cd2cd5775ace63c30a4fe457715e9ac84");
    for (int i = 0; i < 24; ++i) {
        EXPECT_EQ(trie_root(e), expected);
        std::next_permutation(e.begin(), e.end());
    }
}

TEST(TrieRoot, single_key_is_a_hashed_leaf_even_when_short) {
    // One entry: the root node is the leaf [HP(nibbles of key, leaf), value], hashed although it
    // is shorter than 32 bytes.
    Bytes leaf;
    Bytes nibbles;
    unpack_nibbles(nibbles, as_bytes("A"));
    encode_leaf(leaf, nibbles, as_bytes("b"));
    ASSERT_LT(leaf.size(), 32U);
    EXPECT_EQ(trie_root(string_entries({{"A", "b"}})), keccak256(leaf));
}

TEST(TrieRoot, duplicates_last_wins_and_empty_values_are_absent) {
    const Hash32 base = trie_root(string_entries({{"do", "verb"}, {"dog", "puppy"}}));
    EXPECT_EQ(trie_root(string_entries({{"do", "noun"}, {"dog", "puppy"}, {"do", "verb"}})), base);
    Entries with_deleted = string_entries({{"do", "verb"}, {"dog", "puppy"}, {"cat", "x"}});
    with_deleted.emplace_back(bytes_of("cat"), Bytes{});
    EXPECT_EQ(trie_root(with_deleted), base);
    Entries only_empty;
    only_empty.emplace_back(bytes_of("a"), Bytes{});
    EXPECT_EQ(trie_root(only_empty), kEmptyTrieRoot);
}

// --- ethereum/tests TrieTests ---------------------------------------------------------------
// Vectors from https://github.com/ethereum/tests, TrieTests/trietest.json (commit e489c3c),
// TrieTests/trieanyorder.json (commit 7d66cbf) and TrieTests/hex_encoded_securetrie_test.json
// (commit 089e346), MIT licensed. Keys and values starting with "0x" are hex; a missing value
// (std::nullopt, null in the JSON) deletes the key.

struct TrieVector {
    const char* name;
    std::vector<std::pair<std::string, std::optional<std::string>>> in;
    const char* root;
};

Hash32 sequence_root(const TrieVector& v) {
    Entries e;
    for (const auto& [k, val] : v.in)
        e.emplace_back(test_bytes(k), val ? test_bytes(*val) : Bytes{});
    return trie_root(std::move(e));
}

TEST(TrieTests, trietest_json) {
    const std::vector<TrieVector> vectors = {
        {"emptyValues",
         {{"do", "verb"},
          {"ether", "wookiedoo"},
          {"horse", "stallion"},
          {"shaman", "horse"},
          {"doge", "coin"},
          {"ether", std::nullopt},
          {"dog", "puppy"},
          {"shaman", std::nullopt}},
         "0x5991bb8c6514148a29db676a14ac506cd2cd5775ace63c30a4fe457715e9ac84"},
        {"jeff",
         {{"0x0000000000000000000000000000000000000000000000000000000000000045",
           "0x22b224a1420a802ab51d326e29fa98e34c4f24ea"},
          {"0x0000000000000000000000000000000000000000000000000000000000000046",
           "0x67706c2076330000000000000000000000000000000000000000000000000000"},
          {"0x0000000000000000000000000000000000000000000000000000001234567890",
           "0x697c7b8c961b56f675d570498424ac8de1a918f6"},
          {"0x000000000000000000000000697c7b8c961b56f675d570498424ac8de1a918f6", "0x1234567890"},
          {"0x0000000000000000000000007ef9e639e2733cb34e4dfc576d4b23f72db776b2",
           "0x4655474156000000000000000000000000000000000000000000000000000000"},
          {"0x000000000000000000000000ec4f34c97e43fbb2816cfd95e388353c7181dab1",
           "0x4e616d6552656700000000000000000000000000000000000000000000000000"},
          {"0x4655474156000000000000000000000000000000000000000000000000000000",
           "0x7ef9e639e2733cb34e4dfc576d4b23f72db776b2"},
          {"0x4e616d6552656700000000000000000000000000000000000000000000000000",
           "0xec4f34c97e43fbb2816cfd95e388353c7181dab1"},
          {"0x0000000000000000000000000000000000000000000000000000001234567890", std::nullopt},
          {"0x000000000000000000000000697c7b8c961b56f675d570498424ac8de1a918f6",
           "0x6f6f6f6820736f2067726561742c207265616c6c6c793f000000000000000000"},
          {"0x6f6f6f6820736f2067726561742c207265616c6c6c793f000000000000000000",
           "0x697c7b8c961b56f675d570498424ac8de1a918f6"}},
         "0x9f6221ebb8efe7cff60a716ecb886e67dd042014be444669f0159d8e68b42100"},
        {"insert-middle-leaf",
         {{"key1aa", "0123456789012345678901234567890123456789xxx"},
          {"key1", "0123456789012345678901234567890123456789Very_Long"},
          {"key2bb", "aval3"},
          {"key2", "short"},
          {"key3cc", "aval3"},
          {"key3", "1234567890123456789012345678901"}},
         "0xcb65032e2f76c48b82b5c24b3db8f670ce73982869d38cd39a624f23d62a9e89"},
    };
    for (const auto& v : vectors) {
        EXPECT_EQ(sequence_root(v), h32(v.root)) << v.name;
    }
}

TEST(TrieTests, trietest_json_branching_inserts_then_deletes_everything) {
    const std::vector<std::string> keys = {
        "0x04110d816c380812a427968ece99b1c963dfbce6", "0x095e7baea6a6c7c4c2dfeb977efac326af552d87",
        "0x0a517d755cebbf66312b30fff713666a9cb917e0", "0x24dd378f51adc67a50e339e8031fe9bd4aafab36",
        "0x293f982d000532a7861ab122bdc4bbfd26bf9030", "0x2cf5732f017b0cf1b1f13a1478e10239716bf6b5",
        "0x31c640b92c21a1f1465c91070b4b3b4d6854195f", "0x37f998764813b136ddf5a754f34063fd03065e36",
        "0x37fa399a749c121f8a15ce77e3d9f9bec8020d7a", "0x4f36659fa632310b6ec438dea4085b522a2dd077",
        "0x62c01474f089b07dae603491675dc5b5748f7049", "0x729af7294be595a0efd7d891c9e51f89c07950c7",
        "0x83e3e5a16d3b696a0314b30b2534804dd5e11197", "0x8703df2417e0d7c59d063caa9583cb10a4d20532",
        "0x8dffcd74e5b5923512916c6a64b502689cfa65e1", "0x95a4d7cccb5204733874fa87285a176fe1e9e240",
        "0x99b2fcba8120bedd048fe79f5262a6690ed38c39", "0xa4202b8b8afd5354e3e40a219bdc17f6001bf2cf",
        "0xa94f5374fce5edbc8e2a8697c15331677e6ebf0b", "0xa9647f4a0a14042d91dc33c0328030a7157c93ae",
        "0xaa6cffe5185732689c18f37a7f86170cb7304c2a", "0xaae4a2e3c51c04606dcb3723456e58f3ed214f45",
        "0xc37a43e940dfb5baf581a0b82b351d48305fc885", "0xd2571607e241ecf590ed94b12d87c94babe36db6",
        "0xf735071cbee190d76b704ce68384fc21e389fbe7"};
    TrieVector v{
        "branchingTests", {}, "0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421"};
    for (const auto& k : keys) v.in.emplace_back(k, "something");
    // Before the deletes the trie is non-empty.
    EXPECT_NE(sequence_root(v), kEmptyTrieRoot);
    for (const auto& k : keys) v.in.emplace_back(k, std::nullopt);
    EXPECT_EQ(sequence_root(v), h32(v.root));
}

TEST(TrieTests, trieanyorder_json) {
    const std::vector<TrieVector> vectors = {
        {"singleItem",
         {{"A", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}},
         "0xd23786fb4a010da3ce639d66d5e904a11dbc02746d1ce25029e53290cabf28ab"},
        {"dogs",
         {{"doe", "reindeer"}, {"dog", "puppy"}, {"dogglesworth", "cat"}},
         "0x8aad789dff2f538bca5d8ea56e8abe10f4c7ba3a5dea95fea4cd6e7c3a1168d3"},
        {"puppy",
         {{"do", "verb"}, {"horse", "stallion"}, {"doge", "coin"}, {"dog", "puppy"}},
         "0x5991bb8c6514148a29db676a14ac506cd2cd5775ace63c30a4fe457715e9ac84"},
        {"foo",
         {{"foo", "bar"}, {"food", "bass"}},
         "0x17beaa1648bafa633cda809c90c04af50fc8aed3cb40d16efbddee6fdf63c4c3"},
        {"smallValues",
         {{"be", "e"}, {"dog", "puppy"}, {"bed", "d"}},
         "0x3f67c7a47520f79faa29255d2d3c084a7a6df0453116ed7232ff10277a8be68b"},
        {"testy",
         {{"test", "test"}, {"te", "testy"}},
         "0x8452568af70d8d140f58d941338542f645fcca50094b20f3c3d8c3df49337928"},
        {"hex",
         {{"0x0045", "0x0123456789"}, {"0x4500", "0x9876543210"}},
         "0x285505fcabe84badc8aa310e2aae17eddc7d120aabec8a476902c8184b3a3503"},
    };
    for (const auto& v : vectors) {
        EXPECT_EQ(sequence_root(v), h32(v.root)) << v.name;
        // Any order: reversed input gives the same root.
        TrieVector rev = v;
        std::reverse(rev.in.begin(), rev.in.end());
        EXPECT_EQ(sequence_root(rev), h32(v.root)) << v.name << " reversed";
    }
}

// Secure trie: keys are keccak256(address); values are account RLP.
const std::vector<std::pair<std::string, std::string>> kSecureTrieTest1 = {
    {"0xa94f5374fce5edbc8e2a8697c15331677e6ebf0b",
     "0xf848018405f446a7a056e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421a0c5d246"
     "0186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"},
    {"0x095e7baea6a6c7c4c2dfeb977efac326af552d87",
     "0xf8440101a056e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421a004bccc5d94f4d1"
     "f99aab44369a910179931772f2a5c001c3229f57831c102769"},
    {"0xd2571607e241ecf590ed94b12d87c94babe36db6",
     "0xf8440180a0ba4b47865c55a341a4a78759bb913cd15c3ee8eaf30a62fa8d1c8863113d84e8a0c5d2460186f7"
     "233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"},
    {"0x62c01474f089b07dae603491675dc5b5748f7049",
     "0xf8448080a056e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421a0c5d2460186f7"
     "233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"},
    {"0x2adc25665018aa1fe0e6bc666dac8fc2697ff9ba",
     "0xf8478083019a59a056e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421a0c5d246"
     "0186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"},
};
constexpr const char* kSecureTrieTest1Root =
    "0x730a444e08ab4b8dee147c9b232fc52d34a223d600031c1e9d25bfc985cbd797";

TEST(TrieTests, hex_encoded_securetrie_test_json) {
    Entries e;
    std::vector<std::pair<Hash32, Bytes>> sorted;
    for (const auto& [k, v] : kSecureTrieTest1) {
        const Hash32 key = keccak256(unhex(k));
        e.emplace_back(Bytes(key.bytes.begin(), key.bytes.end()), unhex(v));
        sorted.emplace_back(key, unhex(v));
    }
    EXPECT_EQ(trie_root(e), h32(kSecureTrieTest1Root));

    std::sort(sorted.begin(), sorted.end());
    HashBuilder hb;
    for (const auto& [k, v] : sorted) hb.add(k, v);
    EXPECT_EQ(hb.root(), h32(kSecureTrieTest1Root));
}

// --- ordered_trie_root ----------------------------------------------------------------------

TEST(OrderedTrieRoot, matches_trie_root_with_rlp_index_keys) {
    EXPECT_EQ(ordered_trie_root({}), kEmptyTrieRoot);
    for (const size_t n : {1U, 2U, 15U, 16U, 127U, 128U, 129U, 300U}) {
        std::vector<Bytes> values;
        Entries e;
        for (size_t i = 0; i < n; ++i) {
            Bytes v(1 + (i * 13) % 90, static_cast<uint8_t>(i));
            values.push_back(v);
            Bytes key;
            rlp::encode_uint(key, static_cast<uint64_t>(i));
            e.emplace_back(std::move(key), std::move(v));
        }
        EXPECT_EQ(ordered_trie_root(values), trie_root(e)) << n;
    }
}

TEST(OrderedTrieRoot, single_value_root_is_hashed_leaf_under_key_0x80) {
    const std::vector<Bytes> values = {unhex("0xdeadbeef")};
    Bytes nibbles;
    unpack_nibbles(nibbles, unhex("80"));
    Bytes leaf;
    encode_leaf(leaf, nibbles, values[0]);
    EXPECT_EQ(ordered_trie_root(values), keccak256(leaf));
}

// --- HashBuilder vs trie_root ---------------------------------------------------------------

Hash32 builder_root(HashBuilder& hb, const std::map<Hash32, Bytes>& kv) {
    for (const auto& [k, v] : kv) hb.add(k, v);
    return hb.root();
}

Hash32 reference_root(const std::map<Hash32, Bytes>& kv) {
    Entries e;
    for (const auto& [k, v] : kv) e.emplace_back(Bytes(k.bytes.begin(), k.bytes.end()), v);
    return trie_root(std::move(e));
}

// Key shapes that exercise different node mixes.
enum class KeyShape {
    kUniform,     // random bytes: branches near the top, long leaves
    kNarrow,      // nibbles from {0, 1}: deep branches and many extensions
    kSharedHead,  // a long common prefix: an extension at the root
    kLastNibble,  // differ only in the final nibbles: embedded leaves with empty paths
};

Hash32 make_key(std::mt19937_64& rng, KeyShape shape) {
    Hash32 k;
    switch (shape) {
        case KeyShape::kUniform:
            for (auto& b : k.bytes) b = static_cast<uint8_t>(rng());
            break;
        case KeyShape::kNarrow:
            for (auto& b : k.bytes) b = static_cast<uint8_t>(((rng() & 1U) << 4) | (rng() & 1U));
            break;
        case KeyShape::kSharedHead:
            for (size_t i = 0; i < 32; ++i) {
                k.bytes[i] = i < 20 ? static_cast<uint8_t>(0x5a) : static_cast<uint8_t>(rng());
            }
            break;
        case KeyShape::kLastNibble:
            k.bytes.fill(0x33);
            k.bytes[31] = static_cast<uint8_t>(rng());
            k.bytes[30] = static_cast<uint8_t>(0x30 | (rng() & 1U));
            break;
    }
    return k;
}

TEST(HashBuilder, matches_trie_root_on_random_key_sets) {
    std::mt19937_64 rng(20261121);
    HashBuilder hb;  // reused: root() must reset it completely
    int cases = 0;
    for (int iter = 0; iter < 4000; ++iter) {
        const auto shape = static_cast<KeyShape>(iter % 4);
        const size_t n = iter % 50 == 0 ? 1 + rng() % 2000 : 1 + rng() % 80;
        const bool small_values = (iter / 4) % 2 == 0;
        std::map<Hash32, Bytes> kv;
        for (size_t i = 0; i < n; ++i) {
            const size_t len = small_values ? 1 + rng() % 4 : 1 + rng() % 120;
            Bytes v(len);
            for (auto& b : v) b = static_cast<uint8_t>(rng());
            kv[make_key(rng, shape)] = std::move(v);
        }
        ASSERT_EQ(builder_root(hb, kv), reference_root(kv))
            << "iteration " << iter << " shape " << static_cast<int>(shape) << " keys "
            << kv.size();
        ++cases;
    }
    EXPECT_EQ(cases, 4000);
}

TEST(HashBuilder, extreme_keys) {
    HashBuilder hb;
    Hash32 zero;
    Hash32 ones;
    ones.bytes.fill(0xff);
    Hash32 almost = ones;
    almost.bytes[31] = 0xfe;
    std::map<Hash32, Bytes> kv = {{zero, {1}}, {almost, {2}}, {ones, {3}}};
    EXPECT_EQ(builder_root(hb, kv), reference_root(kv));
    std::map<Hash32, Bytes> one = {{ones, Bytes(100, 7)}};
    EXPECT_EQ(builder_root(hb, one), reference_root(one));
    // All 16 values of the last nibble: a full branch at depth 63 under a 63-nibble extension.
    std::map<Hash32, Bytes> full;
    for (uint8_t i = 0; i < 16; ++i) {
        Hash32 k;
        k.bytes[31] = i;
        full[k] = {i, i};
    }
    EXPECT_EQ(builder_root(hb, full), reference_root(full));
}

TEST(HashBuilderDeathTest, keys_out_of_order_or_repeated_abort) {
    Hash32 a;
    a.bytes[0] = 2;
    Hash32 b;
    b.bytes[0] = 1;
    EXPECT_DEATH(
        {
            HashBuilder hb;
            hb.add(a, Bytes{1});
            hb.add(b, Bytes{1});
        },
        "strictly ascending");
    EXPECT_DEATH(
        {
            HashBuilder hb;
            hb.add(a, Bytes{1});
            hb.add(a, Bytes{2});
        },
        "strictly ascending");
}

TEST(HashBuilder, reset_discards_added_keys) {
    HashBuilder hb;
    Hash32 k;
    k.bytes[0] = 1;
    hb.add(k, Bytes{1, 2, 3});
    hb.reset();
    EXPECT_EQ(hb.root(), kEmptyTrieRoot);
}

}  // namespace
}  // namespace pel::state
