// SPDX-License-Identifier: Apache-2.0
// RLP encoding vectors (Yellow Paper appendix B and the Ethereum wiki's RLP page), random round
// trips, and one test per rule of the strict decoder.
#include "primitives/rlp.hpp"

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <gtest/gtest.h>

#include "primitives/hex.hpp"

namespace pel::rlp {
namespace {

Bytes hex(std::string_view text) {
    auto r = from_hex(text);
    PEL_ASSERT(r.has_value(), "bad hex in a test vector");
    return std::move(r).value();
}

std::string enc_bytes(ByteView v) {
    Bytes out;
    encode_bytes(out, v);
    return to_hex(out);
}

std::string enc_u64(uint64_t v) {
    Bytes out;
    encode_uint(out, v);
    return to_hex(out);
}

std::string enc_u256(const U256& v) {
    Bytes out;
    encode_uint(out, v);
    return to_hex(out);
}

// Asserts that `r` failed and its message contains every one of `parts`.
template <class T>
void expect_error(const Result<T>& r, std::initializer_list<std::string_view> parts) {
    ASSERT_FALSE(r.has_value()) << "expected an error containing \"" << *parts.begin() << "\"";
    for (const auto part : parts) {
        EXPECT_NE(r.error().message.find(part), std::string::npos)
            << "message \"" << r.error().message << "\" lacks \"" << part << "\"";
    }
}

// --- encoding vectors --------------------------------------------------------------------------

TEST(RlpEncode, strings) {
    EXPECT_EQ(enc_bytes(as_bytes("dog")), "0x83646f67");
    EXPECT_EQ(enc_bytes({}), "0x80");
    EXPECT_EQ(enc_bytes(hex("0x00")), "0x00");
    EXPECT_EQ(enc_bytes(hex("0x0f")), "0x0f");
    EXPECT_EQ(enc_bytes(hex("0x7f")), "0x7f");
    EXPECT_EQ(enc_bytes(hex("0x80")), "0x8180");
    EXPECT_EQ(enc_bytes(hex("0x0400")), "0x820400");
}

TEST(RlpEncode, fifty_five_byte_string_uses_the_short_form) {
    const std::string s(55, 'x');
    const std::string e = enc_bytes(as_bytes(s));
    EXPECT_EQ(e.substr(0, 4), "0xb7");
    EXPECT_EQ(e.size(), 2 + 2 * 56);
}

TEST(RlpEncode, fifty_six_byte_string_uses_the_long_form) {
    const std::string_view lorem = "Lorem ipsum dolor sit amet, consectetur adipisicing elit";
    ASSERT_EQ(lorem.size(), 56);
    EXPECT_EQ(enc_bytes(as_bytes(lorem)), "0xb838" + to_hex(as_bytes(lorem), false));
}

TEST(RlpEncode, long_lengths_are_big_endian_without_leading_zeros) {
    const Bytes s1024(1024, 0xaa);
    EXPECT_EQ(enc_bytes(s1024).substr(0, 8), "0xb90400");
    const Bytes s256(256, 0xaa);
    EXPECT_EQ(enc_bytes(s256).substr(0, 8), "0xb90100");
    const Bytes s255(255, 0xaa);
    EXPECT_EQ(enc_bytes(s255).substr(0, 6), "0xb8ff");
    const Bytes s65536(65536, 0xaa);
    EXPECT_EQ(enc_bytes(s65536).substr(0, 10), "0xba010000");
}

TEST(RlpEncode, integers) {
    EXPECT_EQ(enc_u64(0), "0x80");
    EXPECT_EQ(enc_u64(1), "0x01");
    EXPECT_EQ(enc_u64(15), "0x0f");
    EXPECT_EQ(enc_u64(127), "0x7f");
    EXPECT_EQ(enc_u64(128), "0x8180");
    EXPECT_EQ(enc_u64(1024), "0x820400");
    EXPECT_EQ(enc_u64(0xffffffffffffffffULL), "0x88ffffffffffffffff");
}

TEST(RlpEncode, u256_integers) {
    EXPECT_EQ(enc_u256(U256{}), "0x80");
    EXPECT_EQ(enc_u256(U256{15}), "0x0f");
    EXPECT_EQ(enc_u256(U256{1024}), "0x820400");
    EXPECT_EQ(enc_u256(U256{0, 1, 0, 0}), "0x89010000000000000000");  // 2^64
    EXPECT_EQ(enc_u256(U256{0, 0, 0, 0x8000000000000000ULL}),
              "0xa08000000000000000000000000000000000000000000000000000000000000000");
    EXPECT_EQ(enc_u256(U256::max()),
              "0xa0ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff");
    EXPECT_EQ(enc_u256(U256{0x0102030405060708ULL, 0x090a0b0c0d0e0f10ULL, 0x11, 0}),
              "0x9111090a0b0c0d0e0f100102030405060708");
}

TEST(RlpEncode, lists) {
    Bytes payload;
    encode_bytes(payload, as_bytes("cat"));
    encode_bytes(payload, as_bytes("dog"));
    Bytes out;
    encode_list(out, payload);
    EXPECT_EQ(to_hex(out), "0xc88363617483646f67");

    Bytes empty;
    encode_list(empty, {});
    EXPECT_EQ(to_hex(empty), "0xc0");
}

TEST(RlpEncode, set_theoretic_representation_of_three) {
    // [ [], [[]], [ [], [[]] ] ]
    Bytes empty_list;
    encode_list(empty_list, {});  // c0
    Bytes one;
    encode_list(one, empty_list);  // c1c0
    Bytes two_payload = empty_list;
    append(two_payload, one);
    Bytes two;
    encode_list(two, two_payload);  // c3c0c1c0
    Bytes three_payload = empty_list;
    append(three_payload, one);
    append(three_payload, two);
    Bytes three;
    encode_list(three, three_payload);
    EXPECT_EQ(to_hex(three), "0xc7c0c1c0c3c0c1c0");
}

TEST(RlpEncode, long_list_header) {
    Bytes out;
    encode_list_header(out, 56);
    EXPECT_EQ(to_hex(out), "0xf838");
    out.clear();
    encode_list_header(out, 55);
    EXPECT_EQ(to_hex(out), "0xf7");
    out.clear();
    encode_list_header(out, 0x10000);
    EXPECT_EQ(to_hex(out), "0xfa010000");
}

TEST(RlpEncode, header_size) {
    EXPECT_EQ(header_size(0), 1);
    EXPECT_EQ(header_size(55), 1);
    EXPECT_EQ(header_size(56), 2);
    EXPECT_EQ(header_size(255), 2);
    EXPECT_EQ(header_size(256), 3);
    EXPECT_EQ(header_size(0xffffff), 4);
    EXPECT_EQ(header_size(0x1000000), 5);
}

// --- decoding ----------------------------------------------------------------------------------

TEST(RlpDecode, reads_the_wiki_vectors_back) {
    const Bytes in = hex("0xc88363617483646f67");
    Decoder d(in);
    auto list = d.read_list();
    ASSERT_TRUE(list);
    auto cat = list->read_bytes();
    ASSERT_TRUE(cat);
    EXPECT_EQ(std::string(cat->begin(), cat->end()), "cat");
    auto dog = list->read_bytes();
    ASSERT_TRUE(dog);
    EXPECT_EQ(std::string(dog->begin(), dog->end()), "dog");
    EXPECT_TRUE(list->expect_end());
    EXPECT_TRUE(d.expect_end());
}

TEST(RlpDecode, headers) {
    const Bytes single = hex("0x7f");
    auto h = Decoder(single).peek_header();
    ASSERT_TRUE(h);
    EXPECT_FALSE(h->is_list);
    EXPECT_EQ(h->header_len, 0);
    EXPECT_EQ(h->payload_len, 1);

    Bytes long_list;
    encode_list_header(long_list, 60);
    long_list.resize(long_list.size() + 60, 0x01);
    auto lh = Decoder(long_list).peek_header();
    ASSERT_TRUE(lh);
    EXPECT_TRUE(lh->is_list);
    EXPECT_EQ(lh->header_len, 2);
    EXPECT_EQ(lh->payload_len, 60);
}

TEST(RlpDecode, integers_round_trip) {
    for (const uint64_t v : {0ULL, 1ULL, 0x7fULL, 0x80ULL, 0xffULL, 0x100ULL, 1024ULL,
                             0xffffffffULL, 0x100000000ULL, 0xffffffffffffffffULL}) {
        Bytes out;
        encode_uint(out, v);
        Decoder d(out);
        auto r = d.read_u64();
        ASSERT_TRUE(r) << r.error().message;
        EXPECT_EQ(*r, v);
        EXPECT_TRUE(d.at_end());
    }
    for (const U256& v : {U256{}, U256{1}, U256{0, 1, 0, 0}, U256::max(),
                          U256{0x0102030405060708ULL, 0, 0, 0x00ff000000000000ULL}}) {
        Bytes out;
        encode_uint(out, v);
        Decoder d(out);
        auto r = d.read_u256();
        ASSERT_TRUE(r) << r.error().message;
        EXPECT_EQ(*r, v);
        EXPECT_TRUE(d.at_end());
    }
}

TEST(RlpDecode, address_and_hash) {
    Address a;
    for (size_t i = 0; i < pel::Address::size(); ++i) {
        a.bytes[i] = static_cast<uint8_t>(i + 1);
    }
    Hash32 h;
    for (size_t i = 0; i < pel::Hash32::size(); ++i) {
        h.bytes[i] = static_cast<uint8_t>(0xff - i);
    }
    Bytes out;
    encode_bytes(out, a.view());
    encode_bytes(out, h.view());
    Decoder d(out);
    auto ra = d.read_address();
    ASSERT_TRUE(ra);
    EXPECT_EQ(*ra, a);
    auto rh = d.read_hash();
    ASSERT_TRUE(rh);
    EXPECT_EQ(*rh, h);
    EXPECT_TRUE(d.expect_end());
}

TEST(RlpDecode, raw_items_include_their_prefix) {
    const Bytes in = hex("0xc88363617483646f6705");
    Decoder d(in);
    auto item = d.read_raw_item();
    ASSERT_TRUE(item);
    EXPECT_EQ(to_hex(*item), "0xc88363617483646f67");
    auto single = d.read_raw_item();
    ASSERT_TRUE(single);
    EXPECT_EQ(to_hex(*single), "0x05");
    EXPECT_TRUE(d.at_end());
    EXPECT_EQ(d.offset(), in.size());
}

// A random RLP structure: either a string or a list of structures. RLP is recursive, and so are
// the helpers over it (bounded by the depth limit of random_node).
// NOLINTBEGIN(misc-no-recursion)
struct Node {
    std::variant<Bytes, std::vector<Node>> v;
    friend bool operator==(const Node&, const Node&) = default;
};

Node random_node(std::mt19937_64& rng, int depth) {
    const auto pick = rng() % 8;
    if (depth < 4 && pick < 3) {
        std::vector<Node> items(rng() % 6);
        for (auto& item : items) {
            item = random_node(rng, depth + 1);
        }
        return Node{std::move(items)};
    }
    // Lengths cluster around the encoding edges: 0, 1, 55, 56, 255, 256, and some longer.
    static constexpr size_t kLens[] = {0, 1, 1, 2, 20, 32, 55, 56, 57, 255, 256, 1000};
    Bytes b(kLens[rng() % std::size(kLens)]);
    for (auto& x : b) {
        x = static_cast<uint8_t>(rng());
    }
    return Node{std::move(b)};
}

void encode_node(Bytes& out, const Node& n) {
    if (const auto* b = std::get_if<Bytes>(&n.v)) {
        encode_bytes(out, *b);
        return;
    }
    Bytes payload;
    for (const auto& item : std::get<std::vector<Node>>(n.v)) {
        encode_node(payload, item);
    }
    encode_list(out, payload);
}

Result<Node> decode_node(Decoder& d) {
    PEL_TRY(const Header h, d.peek_header());
    if (!h.is_list) {
        PEL_TRY(const ByteView b, d.read_bytes());
        return Node{Bytes(b.begin(), b.end())};
    }
    PEL_TRY(Decoder inner, d.read_list());
    std::vector<Node> items;
    while (!inner.at_end()) {
        PEL_TRY(Node item, decode_node(inner));
        items.push_back(std::move(item));
    }
    return Node{std::move(items)};
}
// NOLINTEND(misc-no-recursion)

TEST(RlpDecode, random_structures_round_trip) {
    std::mt19937_64 rng(20261121);
    for (int i = 0; i < 500; ++i) {
        const Node n = random_node(rng, 0);
        Bytes enc;
        encode_node(enc, n);
        Decoder d(enc);
        auto back = decode_node(d);
        ASSERT_TRUE(back) << back.error().message;
        ASSERT_TRUE(d.expect_end());
        EXPECT_EQ(*back, n);
        Bytes again;
        encode_node(again, *back);
        EXPECT_EQ(again, enc);
    }
}

// --- rejections: one test per rule ----------------------------------------------------------

TEST(RlpReject, empty_input) {
    const Bytes in;
    Decoder d(in);
    expect_error(d.read_bytes(), {"truncated", "offset 0"});
    expect_error(d.read_list(), {"truncated", "offset 0"});
}

TEST(RlpReject, truncated_short_string) {
    const Bytes in = hex("0x83646f");  // "dog" missing its last byte
    expect_error(Decoder(in).read_bytes(),
                 {"truncated", "offset 0", "3 payload bytes", "2 remain"});
}

TEST(RlpReject, truncated_length_of_long_form) {
    const Bytes in = hex("0xb904");  // 0xb9 needs two length bytes, only one is present
    expect_error(Decoder(in).read_bytes(), {"truncated", "2 length bytes", "offset 0"});
}

TEST(RlpReject, truncated_long_payload) {
    Bytes in = hex("0xb840");
    in.resize(in.size() + 10, 0xaa);
    expect_error(Decoder(in).read_bytes(), {"truncated", "64 payload bytes", "10 remain"});
}

TEST(RlpReject, truncated_list) {
    const Bytes in = hex("0xc48363");
    expect_error(Decoder(in).read_list(), {"truncated", "list at offset 0"});
}

TEST(RlpReject, truncated_item_inside_a_list_reports_the_absolute_offset) {
    // c5 [ 83 'c' 'a' 't' , 82 'd' ] : the list is complete but its second item is cut short.
    const Bytes in = hex("0xc5836361748264");
    Decoder d(in);
    auto list = d.read_list();
    ASSERT_TRUE(list) << list.error().message;
    ASSERT_TRUE(list->read_bytes());
    expect_error(list->read_bytes(), {"truncated", "offset 5"});
}

TEST(RlpReject, long_form_for_a_short_string) {
    const Bytes in = hex("0xb803646f67");  // "dog" with a long-form length
    expect_error(Decoder(in).read_bytes(), {"non-canonical length", "long form", "offset 0"});
}

TEST(RlpReject, long_form_for_a_short_list) {
    Bytes in = hex("0xf837");
    in.resize(in.size() + 55, 0x01);
    expect_error(Decoder(in).read_list(), {"non-canonical length", "long form", "list"});
}

TEST(RlpReject, length_with_a_leading_zero_byte) {
    Bytes in = hex("0xb90040");
    in.resize(in.size() + 64, 0xaa);
    expect_error(Decoder(in).read_bytes(), {"non-canonical length", "leading zero", "offset 0"});
    Bytes list = hex("0xf90040");
    list.resize(list.size() + 64, 0x01);
    expect_error(Decoder(list).read_list(), {"leading zero", "list"});
}

TEST(RlpReject, single_byte_below_0x80_in_a_one_byte_string) {
    const Bytes in = hex("0x8105");
    expect_error(Decoder(in).read_bytes(), {"non-canonical single byte", "offset 0"});
    const Bytes zero = hex("0x8100");
    expect_error(Decoder(zero).read_u64(), {"non-canonical single byte"});
    const Bytes ok = hex("0x8180");
    auto r = Decoder(ok).read_bytes();
    ASSERT_TRUE(r);
    EXPECT_EQ(to_hex(*r), "0x80");
}

TEST(RlpReject, integer_with_leading_zero_bytes) {
    const Bytes in = hex("0x820001");
    expect_error(Decoder(in).read_u64(), {"non-canonical integer", "leading zero", "offset 0"});
    expect_error(Decoder(in).read_u256(), {"non-canonical integer", "leading zero"});
}

TEST(RlpReject, zero_must_be_0x80_not_0x00) {
    const Bytes in = hex("0x00");
    expect_error(Decoder(in).read_u64(), {"non-canonical integer", "0x80", "offset 0"});
    expect_error(Decoder(in).read_u256(), {"non-canonical integer", "0x80"});
    const Bytes ok = hex("0x80");
    auto r = Decoder(ok).read_u64();
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, 0);
}

TEST(RlpReject, integer_too_wide_for_u64) {
    const Bytes in = hex("0x89010000000000000000");
    expect_error(Decoder(in).read_u64(), {"too wide", "u64", "9 bytes", "offset 0"});
    auto ok = Decoder(in).read_u256();
    ASSERT_TRUE(ok);
    EXPECT_EQ(*ok, (U256{0, 1, 0, 0}));
}

TEST(RlpReject, integer_too_wide_for_u256) {
    Bytes in = hex("0xa101");
    in.resize(in.size() + 32, 0x00);
    expect_error(Decoder(in).read_u256(), {"too wide", "u256", "33 bytes"});
}

TEST(RlpReject, address_of_the_wrong_size) {
    for (const size_t n : {size_t{0}, size_t{1}, size_t{19}, size_t{21}, size_t{32}}) {
        Bytes in;
        encode_bytes(in, Bytes(n, 0x11));
        expect_error(Decoder(in).read_address(),
                     {"20-byte address", "got " + std::to_string(n) + " bytes", "offset 0"});
    }
}

TEST(RlpReject, hash_of_the_wrong_size) {
    for (const size_t n : {size_t{0}, size_t{20}, size_t{31}, size_t{33}}) {
        Bytes in;
        encode_bytes(in, Bytes(n, 0x22));
        expect_error(Decoder(in).read_hash(),
                     {"32-byte hash", "got " + std::to_string(n) + " bytes", "offset 0"});
    }
}

TEST(RlpReject, length_that_overflows_size_t) {
    const Bytes in = hex("0xbfffffffffffffffff");
    expect_error(Decoder(in).read_bytes(), {"overflows size_t", "offset 0"});
    const Bytes list = hex("0xffffffffffffffffff");
    expect_error(Decoder(list).read_list(), {"overflows size_t", "list"});
    // Huge but representable: an ordinary truncation, not a wrap-around.
    const Bytes big = hex("0xbf7fffffffffffffff00");
    expect_error(Decoder(big).read_bytes(), {"truncated", "9223372036854775807 payload bytes"});
}

TEST(RlpReject, trailing_bytes) {
    const Bytes in = hex("0x83646f670000");
    Decoder d(in);
    ASSERT_TRUE(d.read_bytes());
    expect_error(d.expect_end(), {"2 trailing bytes", "offset 4"});
}

TEST(RlpReject, trailing_bytes_inside_a_list) {
    const Bytes in = hex("0xc3010203");
    Decoder d(in);
    auto list = d.read_list();
    ASSERT_TRUE(list);
    ASSERT_TRUE(list->read_u64());
    expect_error(list->expect_end(), {"2 trailing bytes", "offset 2"});
}

TEST(RlpReject, string_where_a_list_is_expected) {
    const Bytes in = hex("0x83646f67");
    expect_error(Decoder(in).read_list(), {"expected a list", "string", "offset 0"});
    const Bytes single = hex("0x05");
    expect_error(Decoder(single).read_list(), {"expected a list"});
}

TEST(RlpReject, list_where_a_string_is_expected) {
    const Bytes in = hex("0xc0");
    expect_error(Decoder(in).read_bytes(), {"expected a string", "list", "offset 0"});
    expect_error(Decoder(in).read_u64(), {"expected a string"});
    expect_error(Decoder(in).read_u256(), {"expected a string"});
    expect_error(Decoder(in).read_address(), {"expected a string"});
    expect_error(Decoder(in).read_hash(), {"expected a string"});
}

TEST(RlpReject, a_failed_read_leaves_the_position_unchanged) {
    const Bytes in = hex("0x8200018180");  // a non-canonical integer, then 0x80 as a string
    Decoder d(in);
    EXPECT_FALSE(d.read_u64());
    EXPECT_FALSE(d.read_u256());
    EXPECT_FALSE(d.read_address());
    EXPECT_FALSE(d.read_hash());
    EXPECT_FALSE(d.read_list());
    EXPECT_EQ(d.offset(), 0);
    auto raw = d.read_bytes();  // the bytes themselves are fine
    ASSERT_TRUE(raw);
    EXPECT_EQ(to_hex(*raw), "0x0001");
    EXPECT_EQ(d.offset(), 3);
}

TEST(RlpReject, base_offset_is_added_to_messages) {
    const Bytes in = hex("0x8105");
    expect_error(Decoder(in, 1000).read_bytes(), {"offset 1000"});
}

TEST(RlpReject, every_truncation_of_a_valid_encoding_fails_cleanly) {
    Bytes enc;
    Bytes payload;
    encode_uint(payload, 1024);
    encode_bytes(payload, Bytes(60, 0x33));
    encode_list(payload, hex("0xc0c1c0"));
    encode_list(enc, payload);
    for (size_t n = 0; n < enc.size(); ++n) {
        Decoder d(ByteView(enc).first(n));
        auto r = decode_node(d);
        EXPECT_FALSE(r.has_value() && d.at_end() && n != 0) << "prefix of " << n << " bytes";
    }
}

TEST(RlpBytesList, encodes_as_a_list_of_strings_and_decodes_back) {
    const std::vector<Bytes> items{{}, {0x01}, {0x80}, Bytes(56, 0xaa)};
    Bytes out{0xff};  // appends
    encode_bytes_list(out, items);
    Bytes payload;
    for (const Bytes& b : items) encode_bytes(payload, b);
    Bytes expected{0xff};
    encode_list(expected, payload);
    EXPECT_EQ(out, expected);
    auto back = decode_bytes_list(ByteView(out).subspan(1));
    ASSERT_TRUE(back.has_value()) << back.error().message;
    EXPECT_EQ(*back, items);
    Bytes empty;
    encode_bytes_list(empty, {});
    EXPECT_EQ(to_hex(empty), "0xc0");
    // Long payload: a long-form list header.
    const std::vector<Bytes> big(3, Bytes(100, 0x11));
    Bytes long_form;
    encode_bytes_list(long_form, big);
    EXPECT_EQ(long_form[0], 0xf9);
    EXPECT_EQ(decode_bytes_list(long_form).value(), big);
}

TEST(RlpBytesList, rejects_a_string_a_nested_list_and_trailing_bytes) {
    for (const char* bad : {"0x", "0x80", "0xc1c0", "0xc08080", "0xc281"}) {
        auto r = decode_bytes_list(hex(bad));
        ASSERT_FALSE(r.has_value()) << bad;
        EXPECT_EQ(r.error().message.rfind("rlp: ", 0), 0U) << r.error().message;
    }
}

}  // namespace
}  // namespace pel::rlp
