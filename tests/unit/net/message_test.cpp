// SPDX-License-Identifier: Apache-2.0
#include "net/message.hpp"

#include <gtest/gtest.h>

#include "net/network.hpp"
#include "net/seen_set.hpp"
#include "primitives/keccak.hpp"
#include "primitives/rlp.hpp"
#include "tests/unit/net/net_test_util.hpp"

namespace pel::net {
namespace {

using test::signed_txn;

Bytes frame_with_length(uint32_t len, ByteView rest) {
    Bytes out;
    out.reserve(4 + rest.size());
    for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<uint8_t>(len >> s));
    for (const uint8_t b : rest) out.push_back(b);
    return out;
}

TEST(NetFrame, round_trips_every_kind_and_consecutive_frames) {
    Bytes stream;
    const Bytes p1{1, 2, 3};
    const Bytes p2;
    encode_frame(stream, MsgKind::kConsensus, p1);
    encode_frame(stream, MsgKind::kPong, p2);
    auto f1 = decode_frame(stream, kDefaultMaxFrameSize);
    ASSERT_TRUE(f1);
    EXPECT_EQ(f1->kind, MsgKind::kConsensus);
    EXPECT_TRUE(equal(f1->payload, p1));
    EXPECT_EQ(f1->consumed, 8U);
    auto f2 = decode_frame(ByteView(stream).subspan(f1->consumed), kDefaultMaxFrameSize);
    ASSERT_TRUE(f2);
    EXPECT_EQ(f2->kind, MsgKind::kPong);
    EXPECT_TRUE(f2->payload.empty());
    EXPECT_EQ(f1->consumed + f2->consumed, stream.size());
    for (uint8_t k = 1; k <= 8; ++k) {
        const Bytes payload(k, k);
        const Bytes f = encode_frame(static_cast<MsgKind>(k), payload);
        auto d = decode_frame(f, kDefaultMaxFrameSize);
        ASSERT_TRUE(d) << int{k};
        EXPECT_EQ(d->kind, static_cast<MsgKind>(k));
        EXPECT_TRUE(equal(d->payload, payload));
    }
}

TEST(NetFrame, rejects_zero_oversized_truncated_and_unknown_kind) {
    EXPECT_EQ(decode_frame(frame_with_length(0, Bytes{}), 100).error(),
              DecodeError::kFrameTooShort);
    // Oversized: rejected from the four length bytes alone, with no body present.
    EXPECT_EQ(decode_frame_length(frame_with_length(101, Bytes{}), 100).error(),
              DecodeError::kFrameTooLarge);
    EXPECT_EQ(decode_frame(frame_with_length(0xffffffffU, Bytes{}), 100).error(),
              DecodeError::kFrameTooLarge);
    EXPECT_TRUE(decode_frame_length(frame_with_length(100, Bytes{}), 100));
    EXPECT_EQ(decode_frame(Bytes{0, 0, 0}, 100).error(), DecodeError::kTruncated);
    EXPECT_EQ(decode_frame(frame_with_length(5, Bytes{6, 0, 0}), 100).error(),
              DecodeError::kTruncated);
    EXPECT_EQ(decode_frame(frame_with_length(1, Bytes{}), 100).error(), DecodeError::kTruncated);
    EXPECT_EQ(decode_frame(frame_with_length(1, Bytes{0}), 100).error(), DecodeError::kUnknownKind);
    EXPECT_EQ(decode_frame(frame_with_length(1, Bytes{9}), 100).error(), DecodeError::kUnknownKind);
    EXPECT_EQ(decode_frame_header(frame_with_length(3, Bytes{0xff}), 100).error(),
              DecodeError::kUnknownKind);
    // Garbage such as an HTTP request reads as a huge length.
    EXPECT_EQ(decode_frame(as_bytes("GET / HTTP/1.1\r\n\r\n"), kDefaultMaxFrameSize).error(),
              DecodeError::kFrameTooLarge);
    for (int e = 0; e <= static_cast<int>(DecodeError::kTrailingBytes); ++e) {
        EXPECT_TRUE(to_string(static_cast<DecodeError>(e)).starts_with("net: "));
    }
}

TEST(NetMessage, hello_round_trip_and_exact_size) {
    Hello h;
    h.chain_id = 0x0102030405060708ULL;
    h.genesis_hash.bytes.fill(7);
    h.node_id.bytes.fill(9);
    h.nonce.bytes.fill(3);
    const Bytes enc = encode_hello(h);
    ASSERT_EQ(enc.size(), kHelloSize);
    auto d = decode_hello(enc);
    ASSERT_TRUE(d);
    EXPECT_EQ(*d, h);
    EXPECT_EQ(decode_hello(ByteView(enc).first(kHelloSize - 1)).error(), DecodeError::kBadLength);
    Bytes longer = enc;
    longer.push_back(0);
    EXPECT_EQ(decode_hello(longer).error(), DecodeError::kTrailingBytes);
}

TEST(NetMessage, auth_round_trip_signature_binds_nonce_and_hello) {
    Hello h;
    h.chain_id = 7;
    h.node_id = test::id_of(test::key(1));
    Hash32 nonce;
    nonce.bytes.fill(1);
    auto sig = crypto::sign(auth_hash(nonce, h), test::key(1));
    ASSERT_TRUE(sig);
    auto d = decode_auth(encode_auth(*sig));
    ASSERT_TRUE(d);
    EXPECT_EQ(*d, *sig);
    EXPECT_EQ(*crypto::recover_address(auth_hash(nonce, h), *d, true), h.node_id);
    // Another nonce or another hello gives another hash (no replay, no field swapping).
    Hash32 other = nonce;
    other.bytes[0] = 2;
    EXPECT_NE(auth_hash(other, h), auth_hash(nonce, h));
    Hello h2 = h;
    h2.chain_id = 8;
    EXPECT_NE(auth_hash(nonce, h2), auth_hash(nonce, h));
    Bytes bad = encode_auth(*sig);
    bad[64] = 2;
    EXPECT_EQ(decode_auth(bad).error(), DecodeError::kBadSignature);
    EXPECT_EQ(decode_auth(ByteView(bad).first(64)).error(), DecodeError::kBadLength);
}

TEST(NetMessage, txns_round_trip_with_hashes) {
    const std::vector<Bytes> raw{signed_txn(0), signed_txn(1), signed_txn(2)};
    const Bytes payload = encode_txns(raw);
    auto d = decode_txns(payload);
    ASSERT_TRUE(d);
    ASSERT_EQ(d->size(), 3U);
    for (size_t i = 0; i < 3; ++i) {
        EXPECT_EQ((*d)[i].encoded, raw[i]);
        EXPECT_EQ((*d)[i].hash, keccak256(raw[i]));
        EXPECT_EQ((*d)[i].txn.nonce, i);
    }
}

TEST(NetMessage, blob_txns_travel_in_their_network_form_with_the_canonical_hash) {
    Transaction t = *decode_transaction(signed_txn(3));
    t.type = TxnType::kBlob;
    t.max_fee_per_blob_gas = 1;
    Hash32 vh;
    vh.bytes[0] = 1;
    t.blob_versioned_hashes = {vh};
    ASSERT_TRUE(sign_transaction(t, test::key(200)).has_value());
    const Bytes blob(kBlobBytes, 0);
    const Bytes point(kKzgBytes, 0xc0);
    const std::vector<ByteView> blobs{blob};
    const std::vector<ByteView> points{point};
    const Bytes net = encode_blob_network_form(t, blobs, points, points);
    auto d = decode_txns(encode_txns({signed_txn(0), net}));
    ASSERT_TRUE(d);
    ASSERT_EQ(d->size(), 2U);
    EXPECT_EQ((*d)[1].encoded, net);  // re-gossiped with its sidecar
    EXPECT_EQ((*d)[1].hash, keccak256(encode_transaction(t)));
    EXPECT_EQ((*d)[1].txn, t);
    // A truncated blob is a bad transaction.
    Bytes cut = net;
    cut.resize(cut.size() - 1);
    EXPECT_EQ(decode_txns(encode_txns({cut})).error(), DecodeError::kBadTxn);
}

TEST(NetMessage, txns_rejections) {
    EXPECT_EQ(decode_txns(Bytes{}).error(), DecodeError::kBadRlp);
    EXPECT_EQ(decode_txns(Bytes{0x80}).error(), DecodeError::kBadRlp);       // a string, not a list
    EXPECT_EQ(decode_txns(Bytes{0xc0}).error(), DecodeError::kTooManyTxns);  // empty list
    Bytes trailing = encode_txns({signed_txn(0)});
    trailing.push_back(0);
    EXPECT_EQ(decode_txns(trailing).error(), DecodeError::kTrailingBytes);
    // A list nested in the list instead of a byte string.
    Bytes nested;
    rlp::encode_list(nested, Bytes{0xc0});
    EXPECT_EQ(decode_txns(nested).error(), DecodeError::kBadRlp);
    // A byte string that is not a transaction.
    EXPECT_EQ(decode_txns(encode_txns({Bytes{1, 2, 3}})).error(), DecodeError::kBadTxn);
    // Too many transactions.
    std::vector<Bytes> many(kMaxTxnsPerMsg + 1, signed_txn(0));
    EXPECT_EQ(decode_txns(encode_txns(many)).error(), DecodeError::kTooManyTxns);
    std::vector<Bytes> max(kMaxTxnsPerMsg, signed_txn(0));
    EXPECT_TRUE(decode_txns(encode_txns(max)));
}

TEST(NetMessage, opaque_ping_disconnect_and_validate_payload) {
    EXPECT_EQ(decode_opaque(Bytes{}).error(), DecodeError::kEmptyPayload);
    EXPECT_TRUE(decode_opaque(Bytes{1}));
    EXPECT_EQ(*decode_ping(encode_ping(0xdeadbeefcafeULL)), 0xdeadbeefcafeULL);
    EXPECT_EQ(decode_ping(Bytes(7)).error(), DecodeError::kBadLength);
    EXPECT_EQ(decode_ping(Bytes(9)).error(), DecodeError::kTrailingBytes);
    EXPECT_EQ(*decode_disconnect(encode_disconnect(DisconnectReason::kBadAuth)),
              DisconnectReason::kBadAuth);
    EXPECT_EQ(decode_disconnect(Bytes{0}).error(), DecodeError::kUnknownReason);
    EXPECT_EQ(decode_disconnect(Bytes{12}).error(), DecodeError::kUnknownReason);
    EXPECT_EQ(decode_disconnect(Bytes{}).error(), DecodeError::kBadLength);
    EXPECT_TRUE(validate_payload(MsgKind::kPing, encode_ping(1)));
    EXPECT_EQ(validate_payload(MsgKind::kHello, Bytes{1}).error(), DecodeError::kBadLength);
    EXPECT_EQ(validate_payload(MsgKind::kBlock, Bytes{}).error(), DecodeError::kEmptyPayload);
}

TEST(NetSeenSet, dedups_and_evicts_oldest_first) {
    SeenSet s(2);
    Hash32 a, b, c;
    a.bytes[0] = 1;
    b.bytes[0] = 2;
    c.bytes[0] = 3;
    EXPECT_TRUE(s.insert(a));
    EXPECT_FALSE(s.insert(a));
    EXPECT_TRUE(s.insert(b));
    EXPECT_TRUE(s.insert(c));  // evicts a
    EXPECT_EQ(s.size(), 2U);
    EXPECT_FALSE(s.contains(a));
    EXPECT_TRUE(s.contains(b));
    EXPECT_TRUE(s.insert(a));  // seen long ago: accepted again
    EXPECT_FALSE(s.contains(b));
}

TEST(NetPeerAddress, parses_and_rejects) {
    auto p = parse_peer_address("127.0.0.1:30303");
    ASSERT_TRUE(p);
    EXPECT_EQ(p->host, "127.0.0.1");
    EXPECT_EQ(p->port, 30303);
    EXPECT_FALSE(p->node_id);
    const Address id = test::id_of(test::key(3));
    auto q = parse_peer_address("node-b:1@" + id.to_hex());
    ASSERT_TRUE(q);
    EXPECT_EQ(q->host, "node-b");
    EXPECT_EQ(*q->node_id, id);
    auto v6 = parse_peer_address("[::1]:9");
    ASSERT_TRUE(v6);
    EXPECT_EQ(v6->host, "::1");
    for (const char* bad :
         {"", "host", ":1", "h:", "h:0", "h:65536", "h:1x", "h:1@0x12", "[::1:9"}) {
        EXPECT_FALSE(parse_peer_address(bad)) << bad;
    }
    auto list = parse_peer_list("a:1,b:2@" + id.to_hex() + ",");
    ASSERT_TRUE(list);
    ASSERT_EQ(list->size(), 2U);
    EXPECT_EQ((*list)[1].node_id, id);
    EXPECT_TRUE(parse_peer_list("")->empty());
    EXPECT_FALSE(parse_peer_list("a:1,b"));
}

}  // namespace
}  // namespace pel::net
