// SPDX-License-Identifier: Apache-2.0
#include "primitives/transaction.hpp"

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "primitives/hex.hpp"
#include "primitives/keccak.hpp"
#include "primitives/rlp.hpp"

namespace pel {
namespace {

Bytes hex(std::string_view s) { return from_hex(s).value(); }
Hash32 h32(std::string_view s) { return Hash32::from_hex(s).value(); }
Address addr(std::string_view s) { return Address::from_hex(s).value(); }

const Hash32 kKey = h32("0x45a915e4d060149eb4365960e6a7a45f334393093061116b197e3240065ff2d8");

// EIP-155's worked example (eips.ethereum.org/EIPS/eip-155, "Example").
constexpr std::string_view kEip155SigningData =
    "0xec098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a764000080018080";
constexpr std::string_view kEip155SigningHash =
    "0xdaf5a779ae972f972197303d7b574746c7ef83eadac0f2791ad23db92e4c8e53";
constexpr std::string_view kEip155Signed =
    "0xf86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a76400008025a0"
    "28ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276a067cbe9d8997f761aecb70330"
    "4b3800ccf555c9f3dc64214b297fb1966a3b6d83";

Transaction eip155_example() {
    Transaction t;
    t.type = TxnType::kLegacy;
    t.chain_id = 1;
    t.nonce = 9;
    t.max_fee_per_gas = U256{20'000'000'000ULL};
    t.max_priority_fee_per_gas = t.max_fee_per_gas;
    t.gas_limit = 21000;
    t.to = addr("0x3535353535353535353535353535353535353535");
    t.value = U256{1'000'000'000'000'000'000ULL};
    return t;
}

std::string decode_error(ByteView b) {
    const auto r = decode_transaction(b);
    if (r) {
        return "<decoded>";
    }
    return r.error().message;
}

TEST(Transaction, eip155_example_signing_hash_and_signed_bytes) {
    Transaction t = eip155_example();
    EXPECT_EQ(signing_hash(t).to_hex(), kEip155SigningHash);
    // The signing hash is keccak of EIP-155's signing data.
    EXPECT_EQ(signing_hash(t), keccak256(hex(kEip155SigningData)));

    const Hash32 key = h32("0x4646464646464646464646464646464646464646464646464646464646464646");
    ASSERT_TRUE(sign_transaction(t, key));
    EXPECT_EQ(t.signature.y_parity, 0);  // v = 37 = 1 * 2 + 35 + 0
    EXPECT_EQ(
        t.signature.r,
        U256::from_hash(h32("0x28ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276")));
    EXPECT_EQ(to_hex(encode_transaction(t)), kEip155Signed);

    const auto decoded = decode_transaction(hex(kEip155Signed));
    ASSERT_TRUE(decoded) << decoded.error().message;
    EXPECT_EQ(*decoded, t);
    const auto sender = recover_sender(*decoded);
    ASSERT_TRUE(sender) << sender.error().message;
    EXPECT_EQ(*sender, crypto::address_from_secret(key).value());
    EXPECT_EQ(transaction_hash(*decoded), keccak256(hex(kEip155Signed)));
}

void expect_round_trip(Transaction t, uint8_t first_byte) {
    ASSERT_TRUE(sign_transaction(t, kKey));
    const Bytes enc = encode_transaction(t);
    ASSERT_FALSE(enc.empty());
    EXPECT_EQ(enc[0], first_byte);
    const auto dec = decode_transaction(enc);
    ASSERT_TRUE(dec) << dec.error().message;
    EXPECT_EQ(*dec, t);
    EXPECT_EQ(encode_transaction(*dec), enc);
    const auto sender = recover_sender(*dec);
    ASSERT_TRUE(sender) << sender.error().message;
    EXPECT_EQ(sender->to_hex(), "0xa94f5374fce5edbc8e2a8697c15331677e6ebf0b");
    EXPECT_EQ(transaction_hash(*dec), keccak256(enc));
}

AccessList sample_access_list() {
    return {{addr("0x00000000000000000000000000000000000000aa"),
             {h32("0x0000000000000000000000000000000000000000000000000000000000000001"),
              h32("0x00000000000000000000000000000000000000000000000000000000000000ff")}},
            {addr("0x00000000000000000000000000000000000000bb"), {}}};
}

TEST(Transaction, legacy_without_chain_id_round_trips) {
    Transaction t;
    t.nonce = 0;
    t.max_fee_per_gas = t.max_priority_fee_per_gas = U256{10};
    t.gas_limit = 100000;
    t.to = std::nullopt;  // contract creation
    t.data = hex("0x6000600055");
    expect_round_trip(t, 0xf8);
    ASSERT_TRUE(sign_transaction(t, kKey));
    const auto dec = decode_transaction(encode_transaction(t));
    ASSERT_TRUE(dec);
    EXPECT_FALSE(dec->chain_id.has_value());
}

TEST(Transaction, legacy_eip155_with_large_chain_id_round_trips) {
    Transaction t = eip155_example();
    t.chain_id = 0xffffffffffffffffULL;  // v needs 65 bits
    expect_round_trip(t, 0xf8);
}

TEST(Transaction, access_list_txn_round_trips) {
    Transaction t;
    t.type = TxnType::kAccessList;
    t.chain_id = 1;
    t.nonce = 1;
    t.max_fee_per_gas = t.max_priority_fee_per_gas = U256{10};
    t.gas_limit = 50000;
    t.to = addr("0x095e7baea6a6c7c4c2dfeb977efac326af552d87");
    t.value = U256{5};
    t.access_list = sample_access_list();
    expect_round_trip(t, 0x01);
}

TEST(Transaction, dynamic_fee_txn_round_trips) {
    Transaction t;
    t.type = TxnType::kDynamicFee;
    t.chain_id = 1;
    t.nonce = 0x1234;
    t.max_priority_fee_per_gas = U256{2};
    t.max_fee_per_gas = U256{1000};
    t.gas_limit = 21000;
    t.to = addr("0x095e7baea6a6c7c4c2dfeb977efac326af552d87");
    t.value = U256::max();
    t.data = hex("0xdeadbeef");
    expect_round_trip(t, 0x02);
}

TEST(Transaction, blob_txn_round_trips) {
    Transaction t;
    t.type = TxnType::kBlob;
    t.chain_id = 1;
    t.nonce = 3;
    t.max_priority_fee_per_gas = U256{1};
    t.max_fee_per_gas = U256{100};
    t.gas_limit = 100000;
    t.to = addr("0x095e7baea6a6c7c4c2dfeb977efac326af552d87");
    t.access_list = sample_access_list();
    t.max_fee_per_blob_gas = U256{7};
    t.blob_versioned_hashes = {
        h32("0x0100000000000000000000000000000000000000000000000000000000000001"),
        h32("0x0100000000000000000000000000000000000000000000000000000000000002")};
    expect_round_trip(t, 0x03);
}

Transaction sample_blob_txn(size_t blobs) {
    Transaction t;
    t.type = TxnType::kBlob;
    t.chain_id = 31337;
    t.nonce = 5;
    t.max_priority_fee_per_gas = U256{1};
    t.max_fee_per_gas = U256{1'000'000'000};
    t.gas_limit = 21000;
    t.to = addr("0x095e7baea6a6c7c4c2dfeb977efac326af552d87");
    t.max_fee_per_blob_gas = U256{9};
    for (size_t i = 0; i < blobs; ++i) {
        Hash32 h;
        h.bytes[0] = 0x01;
        h.bytes[31] = static_cast<uint8_t>(i);
        t.blob_versioned_hashes.push_back(h);
    }
    return t;
}

// A sidecar of `n` blobs whose bytes differ by blob (their content is not checked here).
struct Sidecar {
    std::vector<Bytes> blobs, commitments, proofs;
    std::vector<ByteView> views(const std::vector<Bytes>& v) const { return {v.begin(), v.end()}; }
    Bytes encode(const Transaction& t) const {
        const auto b = views(blobs);
        const auto c = views(commitments);
        const auto p = views(proofs);
        return encode_blob_network_form(t, b, c, p);
    }
};

Sidecar sample_sidecar(size_t n) {
    Sidecar s;
    for (size_t i = 0; i < n; ++i) {
        s.blobs.emplace_back(kBlobBytes, static_cast<uint8_t>(0x10 + i));
        s.commitments.emplace_back(kKzgBytes, static_cast<uint8_t>(0xa0 + i));
        s.proofs.emplace_back(kKzgBytes, static_cast<uint8_t>(0xb0 + i));
    }
    return s;
}

TEST(Transaction, blob_network_form_round_trips_and_yields_the_canonical_form) {
    const Transaction t = sample_blob_txn(2);
    const Sidecar s = sample_sidecar(2);
    const Bytes net = s.encode(t);
    EXPECT_TRUE(is_blob_network_form(net));
    EXPECT_FALSE(is_blob_network_form(encode_transaction(t)));
    // The canonical form is not the network form, and decode_transaction refuses the latter.
    EXPECT_FALSE(decode_transaction(net).has_value());
    const auto got = decode_blob_network_form(net);
    ASSERT_TRUE(got.has_value()) << got.error().message;
    EXPECT_EQ(got->txn, t);
    EXPECT_TRUE(equal(got->canonical, encode_transaction(t)));
    EXPECT_EQ(keccak256(got->canonical), transaction_hash(t));
    ASSERT_EQ(got->blobs.size(), 2U);
    ASSERT_EQ(got->commitments.size(), 2U);
    ASSERT_EQ(got->proofs.size(), 2U);
    for (size_t i = 0; i < 2; ++i) {
        EXPECT_TRUE(equal(got->blobs[i], s.blobs[i]));
        EXPECT_TRUE(equal(got->commitments[i], s.commitments[i]));
        EXPECT_TRUE(equal(got->proofs[i], s.proofs[i]));
        // Views into the input, not copies.
        EXPECT_GE(got->blobs[i].data(), net.data());
        EXPECT_LT(got->blobs[i].data(), net.data() + net.size());
    }
    // The counts are the caller's to check: the decoder takes a sidecar that does not match.
    const Bytes odd = sample_sidecar(1).encode(t);
    ASSERT_TRUE(decode_blob_network_form(odd).has_value());
    EXPECT_EQ(decode_blob_network_form(odd)->blobs.size(), 1U);
}

TEST(Transaction, malformed_blob_network_forms_are_rejected_with_the_part_named) {
    const Transaction t = sample_blob_txn(1);
    const auto error = [](ByteView b) {
        const auto r = decode_blob_network_form(b);
        return r ? std::string("<decoded>") : r.error().message;
    };
    Sidecar s = sample_sidecar(1);
    s.blobs[0].pop_back();
    EXPECT_NE(error(s.encode(t)).find("'blobs' item 0: 131071 bytes, expected 131072"),
              std::string::npos);
    s = sample_sidecar(1);
    s.proofs[0].push_back(0);
    EXPECT_NE(error(s.encode(t)).find("'proofs' item 0: 49 bytes"), std::string::npos);
    s = sample_sidecar(1);
    s.commitments[0].resize(32);
    EXPECT_NE(error(s.encode(t)).find("'commitments' item 0"), std::string::npos);

    // Not type 3, the canonical form, a missing part, an extra part, trailing bytes.
    Transaction d = t;
    d.type = TxnType::kDynamicFee;
    d.max_fee_per_blob_gas = U256{};
    d.blob_versioned_hashes.clear();
    EXPECT_NE(error(encode_transaction(d)).find("not a blob transaction"), std::string::npos);
    EXPECT_NE(error(encode_transaction(t)).find("tx_payload_body is not a list"),
              std::string::npos);
    const Bytes canonical = encode_transaction(t);
    const Bytes body(canonical.begin() + 1, canonical.end());
    const auto wrap = [&](std::initializer_list<ByteView> items) {
        Bytes payload(body);
        for (const ByteView i : items) payload.insert(payload.end(), i.begin(), i.end());
        Bytes out{0x03};
        rlp::encode_list(out, payload);
        return out;
    };
    const Bytes empty_list{0xc0};
    EXPECT_NE(error(wrap({empty_list, empty_list})).find("'proofs': missing"), std::string::npos);
    EXPECT_NE(error(wrap({empty_list, empty_list, empty_list, empty_list})).find("extra item"),
              std::string::npos);
    Bytes trailing = s.encode(t);
    trailing.push_back(0x00);
    EXPECT_FALSE(decode_blob_network_form(trailing).has_value());
    EXPECT_FALSE(is_blob_network_form(Bytes{0x03}));
    EXPECT_FALSE(decode_blob_network_form(Bytes{0x03}).has_value());
    // A payload body that the canonical decoder refuses (a blob transaction without `to`).
    Transaction create = t;
    create.to.reset();
    EXPECT_NE(error(sample_sidecar(1).encode(create)).find("cannot create a contract"),
              std::string::npos);
}

TEST(Transaction, signing_hash_differs_by_type) {
    Transaction a;
    a.type = TxnType::kDynamicFee;
    a.chain_id = 1;
    Transaction b = a;
    b.type = TxnType::kAccessList;
    EXPECT_NE(signing_hash(a), signing_hash(b));
    // The signature is not part of the signing hash, but is part of the txn hash.
    Transaction c = a;
    c.signature.r = 1;
    EXPECT_EQ(signing_hash(a), signing_hash(c));
    EXPECT_NE(transaction_hash(a), transaction_hash(c));
}

TEST(Transaction, truncated_input_is_rejected) {
    const Bytes good = hex(kEip155Signed);
    for (size_t n = 0; n < good.size(); ++n) {
        EXPECT_FALSE(decode_transaction(ByteView{good.data(), n})) << "length " << n;
    }
    const std::string msg = decode_error(ByteView{good.data(), good.size() - 1});
    EXPECT_EQ(msg.rfind("txn: ", 0), 0U) << msg;
    EXPECT_NE(msg.find("truncated"), std::string::npos) << msg;
    EXPECT_EQ(decode_error({}), "txn: empty input");
}

TEST(Transaction, trailing_bytes_are_rejected) {
    Bytes b = hex(kEip155Signed);
    b.push_back(0x00);
    const std::string msg = decode_error(b);
    EXPECT_EQ(msg.rfind("txn: ", 0), 0U) << msg;
    EXPECT_NE(msg.find("trailing"), std::string::npos) << msg;

    Transaction t = eip155_example();
    t.type = TxnType::kDynamicFee;
    ASSERT_TRUE(sign_transaction(t, kKey));
    Bytes typed = encode_transaction(t);
    typed.push_back(0x80);
    const std::string typed_msg = decode_error(typed);
    EXPECT_NE(typed_msg.find("trailing"), std::string::npos) << typed_msg;
}

TEST(Transaction, leading_zeros_in_nonce_are_rejected) {
    // The EIP-155 example with nonce 9 written as 0x820009 (the list grows by two bytes).
    Bytes b = hex(kEip155Signed);
    ASSERT_EQ(b[1], 0x6c);
    ASSERT_EQ(b[2], 0x09);
    b[1] = 0x6e;
    b[2] = 0x82;
    b.insert(b.begin() + 3, {0x00, 0x09});
    const std::string msg = decode_error(b);
    EXPECT_NE(msg.find("txn: field 'nonce': "), std::string::npos) << msg;
}

TEST(Transaction, unknown_type_is_rejected) {
    const Bytes b = hex("0x05c0");
    EXPECT_EQ(decode_error(b), "txn: unsupported transaction type 0x05");
    EXPECT_EQ(decode_error(hex("0x00c0")), "txn: unsupported transaction type 0x00");
    EXPECT_NE(decode_error(hex("0x8180")).find("neither a type byte"), std::string::npos);
}

TEST(Transaction, blob_txn_without_to_is_rejected) {
    Transaction t;
    t.type = TxnType::kBlob;
    t.chain_id = 1;
    t.gas_limit = 100000;
    t.to = std::nullopt;
    t.blob_versioned_hashes = {
        h32("0x0100000000000000000000000000000000000000000000000000000000000001")};
    ASSERT_TRUE(sign_transaction(t, kKey));
    const std::string msg = decode_error(encode_transaction(t));
    EXPECT_NE(msg.find("txn: field 'to': "), std::string::npos) << msg;
    EXPECT_NE(msg.find("EIP-4844"), std::string::npos) << msg;
}

TEST(Transaction, legacy_v_29_is_rejected) {
    Bytes b = hex(kEip155Signed);
    const size_t v_pos = b.size() - 67;
    ASSERT_EQ(b[v_pos], 0x25);
    b[v_pos] = 0x1d;  // 29
    const std::string msg = decode_error(b);
    EXPECT_NE(msg.find("txn: field 'v': invalid legacy v 29"), std::string::npos) << msg;
    for (const uint8_t v : std::initializer_list<uint8_t>{0x00, 0x01, 0x1a, 0x22}) {
        b[v_pos] = v == 0 ? 0x80 : v;
        EXPECT_FALSE(decode_transaction(b)) << int{v};
    }
}

TEST(Transaction, typed_y_parity_above_one_is_rejected) {
    Transaction t = eip155_example();
    t.type = TxnType::kDynamicFee;
    ASSERT_TRUE(sign_transaction(t, kKey));
    t.signature.y_parity = 2;
    const std::string msg = decode_error(encode_transaction(t));
    EXPECT_NE(msg.find("txn: field 'y_parity': must be 0 or 1"), std::string::npos) << msg;
}

TEST(Transaction, missing_and_extra_fields_are_rejected) {
    // An EIP-1559 list with only the chain id.
    EXPECT_NE(decode_error(hex("0x02c101")).find("txn: field 'nonce': missing"), std::string::npos);
    // The EIP-155 example with an extra empty item appended inside the list.
    Bytes b = hex(kEip155Signed);
    b[1] = 0x6d;
    b.push_back(0x80);
    EXPECT_NE(decode_error(b).find("too many fields"), std::string::npos) << decode_error(b);
}

TEST(Transaction, malformed_fields_are_named) {
    // `to` of 19 bytes.
    Transaction t = eip155_example();
    ASSERT_TRUE(sign_transaction(t, kKey));
    Bytes b = encode_transaction(t);
    // to is at: f86c 09 8504a817c800 825208 94<20 bytes>
    const size_t to_pos = 1 + 1 + 1 + 6 + 3;
    ASSERT_EQ(b[to_pos], 0x94);
    b[to_pos] = 0x93;
    b.erase(b.begin() + static_cast<std::ptrdiff_t>(to_pos) + 1);
    b[1] = static_cast<uint8_t>(b[1] - 1);
    EXPECT_NE(decode_error(b).find("txn: field 'to': expected 0 or 20 bytes"), std::string::npos)
        << decode_error(b);
    // A legacy list whose `to` is a list.
    EXPECT_NE(decode_error(hex("0xc4808080c0")).find("txn: field 'to'"), std::string::npos)
        << decode_error(hex("0xc4808080c0"));
}

TEST(Transaction, high_s_signature_fails_sender_recovery) {
    Transaction t = eip155_example();
    ASSERT_TRUE(sign_transaction(t, kKey));
    t.signature.s = crypto::kSecp256k1N - t.signature.s;
    t.signature.y_parity = static_cast<uint8_t>(1 - t.signature.y_parity);
    const auto sender = recover_sender(t);
    ASSERT_FALSE(sender);
    EXPECT_NE(sender.error().message.find("EIP-2"), std::string::npos);
}

// The batched recovery answers exactly what recover_sender answers one by one, errors in place,
// for every type and for more transactions than one keccak group holds.
TEST(Transaction, recover_sender_many_matches_recover_sender) {
    std::vector<Transaction> txns;
    for (uint64_t i = 0; i < 21; ++i) {
        Transaction t = eip155_example();
        t.nonce = i;
        t.type = static_cast<TxnType>(i % 3);  // legacy, access list, dynamic fee
        if (i == 4) {
            t.chain_id = std::nullopt;  // pre-EIP-155 legacy
            t.type = TxnType::kLegacy;
        }
        if (i % 5 == 1) {
            t.data = Bytes(300 + i, static_cast<uint8_t>(i));  // several keccak blocks
        }
        Hash32 key = kKey;
        key.bytes[31] = static_cast<uint8_t>(key.bytes[31] + i);
        ASSERT_TRUE(sign_transaction(t, key));
        txns.push_back(t);
    }
    txns[3].signature.s = crypto::kSecp256k1N - txns[3].signature.s;  // high s: EIP-2
    txns[10].signature.r = U256{};                                    // r zero
    txns[20].signature.y_parity = 2;
    std::vector<const Transaction*> ptrs;
    for (const Transaction& t : txns) ptrs.push_back(&t);
    const auto got = recover_sender_many(ptrs);
    ASSERT_EQ(got.size(), txns.size());
    size_t failed = 0;
    for (size_t i = 0; i < txns.size(); ++i) {
        const auto want = recover_sender(txns[i]);
        ASSERT_EQ(got[i].has_value(), want.has_value()) << i;
        if (want) {
            EXPECT_EQ(*got[i], *want) << i;
        } else {
            ++failed;
            EXPECT_EQ(got[i].error().message, want.error().message) << i;
        }
    }
    EXPECT_EQ(failed, 3u);
    EXPECT_TRUE(recover_sender_many({}).empty());
}

}  // namespace
}  // namespace pel
