// SPDX-License-Identifier: Apache-2.0
#include "state/account.hpp"

#include <string>

#include <gtest/gtest.h>

#include "primitives/hex.hpp"
#include "primitives/keccak.hpp"

namespace pel::state {
namespace {

Bytes unhex(std::string_view s) {
    auto r = from_hex(s);
    EXPECT_TRUE(r.has_value()) << s;
    return r ? *r : Bytes{};
}

// Account RLP taken from ethereum/tests TrieTests/hex_encoded_securetrie_test.json (MIT).
constexpr const char* kAccountNonce1Balance1 =
    "0xf8440101a056e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421a004bccc5d94f4d1"
    "f99aab44369a910179931772f2a5c001c3229f57831c102769";
constexpr const char* kAccountBalance0x05f446a7 =
    "0xf848018405f446a7a056e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421a0c5d246"
    "0186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470";

TEST(Account, decodes_and_reencodes_known_accounts) {
    auto a = decode_account(unhex(kAccountNonce1Balance1));
    ASSERT_TRUE(a.has_value()) << a.error().message;
    EXPECT_EQ(a->nonce, 1U);
    EXPECT_EQ(a->balance, U256{1});
    EXPECT_EQ(a->storage_root, kEmptyTrieRoot);
    EXPECT_EQ(a->code_hash.to_hex(),
              "0x04bccc5d94f4d1f99aab44369a910179931772f2a5c001c3229f57831c102769");
    EXPECT_EQ(to_hex(encode_account(*a)), kAccountNonce1Balance1);

    auto b = decode_account(unhex(kAccountBalance0x05f446a7));
    ASSERT_TRUE(b.has_value()) << b.error().message;
    EXPECT_EQ(b->nonce, 1U);
    EXPECT_EQ(b->balance, U256{0x05f446a7});
    EXPECT_EQ(b->code_hash, kEmptyCodeHash);
    EXPECT_TRUE(!b->is_empty());
    EXPECT_EQ(to_hex(encode_account(*b)), kAccountBalance0x05f446a7);
}

TEST(Account, default_account_encoding) {
    const Account a;
    EXPECT_TRUE(a.is_empty());
    // [0x80, 0x80, 0xa0 || empty trie root, 0xa0 || empty code hash]
    EXPECT_EQ(to_hex(encode_account(a)),
              "0xf8448080a056e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421a0c5d246"
              "0186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
}

TEST(Account, round_trips_and_size_is_exact) {
    const std::vector<uint64_t> nonces = {0, 1, 0x7f, 0x80, 0xff, 0x100, ~0ULL};
    const std::vector<U256> balances = {U256{},     U256{1},          U256{0x7f},
                                        U256{0x80}, U256{0, 1, 0, 0}, U256::max()};
    for (const uint64_t n : nonces) {
        for (const U256& bal : balances) {
            Account a;
            a.nonce = n;
            a.balance = bal;
            a.storage_root.bytes[5] = 9;
            a.code_hash.bytes[31] = 1;
            const Bytes enc = encode_account(a);
            EXPECT_EQ(enc.size(), encoded_account_size(a));
            auto dec = decode_account(enc);
            ASSERT_TRUE(dec.has_value()) << dec.error().message;
            EXPECT_EQ(*dec, a);
        }
    }
}

TEST(Account, strict_decoding_rejects_malformed_input) {
    const Bytes good = unhex(kAccountNonce1Balance1);
    // Trailing byte after the list.
    Bytes trailing = good;
    trailing.push_back(0x00);
    EXPECT_FALSE(decode_account(trailing).has_value());
    // Truncated.
    EXPECT_FALSE(decode_account(ByteView(good).first(good.size() - 1)).has_value());
    EXPECT_FALSE(decode_account({}).has_value());
    // Not a list.
    EXPECT_FALSE(decode_account(unhex("0x80")).has_value());
    // Three items.
    EXPECT_FALSE(decode_account(unhex("0xe30101a0" + std::string(64, '0'))).has_value());
    // Five items.
    EXPECT_FALSE(decode_account(unhex("0xf846"
                                      "0101a0" +
                                      std::string(64, '1') + "a0" + std::string(64, '2') + "0101"))
                     .has_value());
    // Nonce with a leading zero byte (0x820001).
    EXPECT_FALSE(decode_account(
                     unhex("0xf84682000101a0" + std::string(64, '1') + "a0" + std::string(64, '2')))
                     .has_value());
    // Storage root of 31 bytes.
    EXPECT_FALSE(decode_account(unhex("0xf8430101"
                                      "9f" +
                                      std::string(62, '1') + "a0" + std::string(64, '2')))
                     .has_value());
    // Nonce wider than 64 bits.
    EXPECT_FALSE(decode_account(unhex("0xf84d"
                                      "89010000000000000000"
                                      "01a0" +
                                      std::string(64, '1') + "a0" + std::string(64, '2')))
                     .has_value());
    // A list where the balance should be.
    EXPECT_FALSE(
        decode_account(unhex("0xf84401c0a0" + std::string(64, '1') + "a0" + std::string(64, '2')))
            .has_value());
}

// The stored form: an account without storage and code loses its two empty hashes, every
// other account is its RLP; each decodes back, and only its own form is accepted. The byte-level
// shortening of the trie's leaves takes the same 66 bytes off an account RLP.
TEST(Account, stored_form_drops_the_empty_hashes_of_plain_accounts) {
    const Account plain{7, U256{0x05f446a7}};
    Account contract = plain;
    contract.code_hash = keccak256(Bytes{0x60, 0x00});
    Account with_storage = plain;
    with_storage.storage_root = keccak256(Bytes{1});
    for (const Account& a : {plain, contract, with_storage, Account{}}) {
        Bytes stored;
        encode_stored_account(stored, a);
        const bool is_plain = a.storage_root == kEmptyTrieRoot && a.code_hash == kEmptyCodeHash;
        const Bytes rlp = encode_account(a);
        // 66 bytes of hashes, and the list header shrinks to one byte.
        EXPECT_EQ(stored.size(), is_plain ? rlp.size() - 67 : rlp.size());
        auto back = decode_stored_account(stored);
        ASSERT_TRUE(back.has_value()) << back.error().message;
        EXPECT_EQ(*back, a);
        // The full form of a plain account is not its stored form.
        EXPECT_EQ(decode_stored_account(rlp).has_value(), !is_plain);

        const auto middle = shortened_account_rlp(rlp);
        ASSERT_EQ(middle.has_value(), is_plain);
        if (middle) {
            Bytes again;
            append_lengthened_account_rlp(again, *middle);
            EXPECT_EQ(again, rlp);
        }
    }
    // The known accounts from the trie tests: one without code, shortened to RLP(nonce) ||
    // RLP(balance), and one with code, left whole.
    const Bytes known = unhex(kAccountBalance0x05f446a7);
    const auto known_middle = shortened_account_rlp(known);
    ASSERT_TRUE(known_middle.has_value());
    EXPECT_EQ(to_hex(*known_middle), "0x018405f446a7");
    const Bytes with_code = unhex(kAccountNonce1Balance1);
    EXPECT_FALSE(shortened_account_rlp(with_code).has_value());
    // Not the framing: short list, wrong length byte, a different tail.
    EXPECT_FALSE(shortened_account_rlp(unhex("0xc20101")).has_value());
    Bytes wrong_len = unhex(kAccountNonce1Balance1);
    wrong_len[1] ^= 1;
    EXPECT_FALSE(shortened_account_rlp(wrong_len).has_value());
    Bytes other_tail = unhex(kAccountNonce1Balance1);
    other_tail.back() ^= 1;
    EXPECT_FALSE(shortened_account_rlp(other_tail).has_value());
    // Stored forms that are not an account: trailing bytes, three items, a non-canonical nonce.
    for (const char* bad : {"0xc2010100", "0xc3010101", "0xc3820001"}) {
        EXPECT_FALSE(decode_stored_account(unhex(bad)).has_value()) << bad;
    }
}

}  // namespace
}  // namespace pel::state
