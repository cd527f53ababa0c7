// SPDX-License-Identifier: Apache-2.0
#include "net/message.hpp"

#include <cstring>

#include "primitives/keccak.hpp"
#include "primitives/rlp.hpp"

namespace pel::net {

namespace {

void put_u32(Bytes& out, uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) {
        out.push_back(static_cast<uint8_t>(v >> s));
    }
}
void put_u64(Bytes& out, uint64_t v) {
    for (int s = 56; s >= 0; s -= 8) {
        out.push_back(static_cast<uint8_t>(v >> s));
    }
}
uint32_t get_u32(const uint8_t* p) {
    return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) |  // NOLINT
           uint32_t{p[3]};                                                            // NOLINT
}
uint64_t get_u64(const uint8_t* p) {
    uint64_t v = 0;
    for (size_t i = 0; i < 8; ++i) v = (v << 8) | p[i];  // NOLINT
    return v;
}

Result<void, DecodeError> expect_size(ByteView payload, size_t n) {
    if (payload.size() < n) {
        return unexpected(DecodeError::kBadLength);
    }
    if (payload.size() > n) {
        return unexpected(DecodeError::kTrailingBytes);
    }
    return {};
}

}  // namespace

std::string_view to_string(MsgKind k) noexcept {
    switch (k) {
        case MsgKind::kHello:
            return "hello";
        case MsgKind::kAuth:
            return "auth";
        case MsgKind::kTxns:
            return "txns";
        case MsgKind::kConsensus:
            return "consensus";
        case MsgKind::kBlock:
            return "block";
        case MsgKind::kPing:
            return "ping";
        case MsgKind::kPong:
            return "pong";
        case MsgKind::kDisconnect:
            return "disconnect";
    }
    return "unknown";
}

bool is_known_kind(uint8_t b) noexcept {
    return b >= static_cast<uint8_t>(MsgKind::kHello) &&
           b <= static_cast<uint8_t>(MsgKind::kDisconnect);
}

std::string_view to_string(DecodeError e) noexcept {
    switch (e) {
        case DecodeError::kFrameTooShort:
            return "net: frame length 0 (no kind byte)";
        case DecodeError::kFrameTooLarge:
            return "net: frame above the maximum frame size";
        case DecodeError::kTruncated:
            return "net: truncated frame";
        case DecodeError::kUnknownKind:
            return "net: unknown message kind";
        case DecodeError::kBadLength:
            return "net: payload shorter than its kind's size";
        case DecodeError::kEmptyPayload:
            return "net: empty consensus/block payload";
        case DecodeError::kBadRlp:
            return "net: txns payload is not an RLP list of strings";
        case DecodeError::kBadTxn:
            return "net: undecodable or non-canonical transaction";
        case DecodeError::kTooManyTxns:
            return "net: txns count outside 1..kMaxTxnsPerMsg";
        case DecodeError::kBadSignature:
            return "net: auth signature y_parity above 1";
        case DecodeError::kUnknownReason:
            return "net: unknown disconnect reason";
        case DecodeError::kTrailingBytes:
            return "net: trailing bytes after the payload";
    }
    return "net: unknown decode error";
}

std::string_view to_string(DisconnectReason r) noexcept {
    switch (r) {
        case DisconnectReason::kRequested:
            return "requested";
        case DisconnectReason::kProtocolError:
            return "protocol error";
        case DisconnectReason::kWrongChain:
            return "wrong chain id or genesis";
        case DisconnectReason::kWrongVersion:
            return "wrong protocol version";
        case DisconnectReason::kBadAuth:
            return "bad handshake signature";
        case DisconnectReason::kNotAllowed:
            return "node id not allowed";
        case DisconnectReason::kTimeout:
            return "timeout";
        case DisconnectReason::kDuplicate:
            return "duplicate connection";
        case DisconnectReason::kSelf:
            return "connected to self";
        case DisconnectReason::kQueueOverflow:
            return "send queue overflow";
        case DisconnectReason::kTooManyPeers:
            return "too many peers";
    }
    return "unknown";
}

Result<uint32_t, DecodeError> decode_frame_length(ByteView len4, uint32_t max_frame_size) {
    if (len4.size() < kFrameHeaderSize) {
        return unexpected(DecodeError::kTruncated);
    }
    const uint32_t len = get_u32(len4.data());
    if (len == 0) {
        return unexpected(DecodeError::kFrameTooShort);
    }
    if (len > max_frame_size) {
        return unexpected(DecodeError::kFrameTooLarge);
    }
    return len;
}

Result<FrameHeader, DecodeError> decode_frame_header(ByteView header, uint32_t max_frame_size) {
    PEL_TRY(const uint32_t len, decode_frame_length(header, max_frame_size));
    if (header.size() < kFrameHeaderSize + 1) {
        return unexpected(DecodeError::kTruncated);
    }
    const uint8_t kind = header[kFrameHeaderSize];
    if (!is_known_kind(kind)) {
        return unexpected(DecodeError::kUnknownKind);
    }
    return FrameHeader{static_cast<MsgKind>(kind), len - 1};
}

void encode_frame(Bytes& out, MsgKind kind, ByteView payload) {
    PEL_ASSERT(payload.size() < 0xffffffffULL, "net: frame payload above 4 GiB");
    out.reserve(out.size() + kFrameHeaderSize + 1 + payload.size());
    put_u32(out, static_cast<uint32_t>(payload.size() + 1));
    out.push_back(static_cast<uint8_t>(kind));
    append(out, payload);
}

Bytes encode_frame(MsgKind kind, ByteView payload) {
    Bytes out;
    encode_frame(out, kind, payload);
    return out;
}

Result<FrameView, DecodeError> decode_frame(ByteView in, uint32_t max_frame_size) {
    PEL_TRY(const uint32_t len, decode_frame_length(in, max_frame_size));
    if (in.size() < kFrameHeaderSize + 1) {
        return unexpected(DecodeError::kTruncated);
    }
    PEL_TRY(const FrameHeader h,
            decode_frame_header(in.first(kFrameHeaderSize + 1), max_frame_size));
    if (in.size() - kFrameHeaderSize < len) {
        return unexpected(DecodeError::kTruncated);
    }
    return FrameView{h.kind, in.subspan(kFrameHeaderSize + 1, h.payload_size),
                     kFrameHeaderSize + size_t{len}};
}

Bytes encode_hello(const Hello& h) {
    Bytes out;
    out.reserve(kHelloSize);
    put_u32(out, h.protocol_version);
    put_u64(out, h.chain_id);
    append(out, h.genesis_hash.view());
    append(out, h.node_id.view());
    append(out, h.nonce.view());
    return out;
}

Result<Hello, DecodeError> decode_hello(ByteView p) {
    PEL_TRY_VOID(expect_size(p, kHelloSize));
    Hello h;
    h.protocol_version = get_u32(p.data());
    h.chain_id = get_u64(p.data() + 4);                     // NOLINT
    std::memcpy(h.genesis_hash.data(), p.data() + 12, 32);  // NOLINT
    std::memcpy(h.node_id.data(), p.data() + 44, 20);       // NOLINT
    std::memcpy(h.nonce.data(), p.data() + 64, 32);         // NOLINT
    return h;
}

Hash32 auth_hash(const Hash32& peer_nonce, const Hello& own) {
    Keccak256 k;
    k.update(as_bytes(kAuthDomain));
    k.update(peer_nonce.view());
    k.update(encode_hello(own));
    return k.finalize();
}

Bytes encode_auth(const crypto::Signature& sig) {
    Bytes out(kAuthSize);
    sig.r.to_be32(out.data());
    sig.s.to_be32(out.data() + 32);  // NOLINT
    out[64] = sig.y_parity;
    return out;
}

Result<crypto::Signature, DecodeError> decode_auth(ByteView p) {
    PEL_TRY_VOID(expect_size(p, kAuthSize));
    if (p[64] > 1) {
        return unexpected(DecodeError::kBadSignature);
    }
    crypto::Signature sig;
    sig.r = U256::from_be32(p.data());
    sig.s = U256::from_be32(p.data() + 32);  // NOLINT
    sig.y_parity = p[64];
    return sig;
}

Bytes encode_txns(const std::vector<Bytes>& encoded_txns) {
    Bytes out;
    rlp::encode_bytes_list(out, encoded_txns);
    return out;
}

Result<std::vector<GossipTxn>, DecodeError> decode_txns(ByteView payload) {
    rlp::Decoder outer(payload);
    auto list = outer.read_list();
    if (!list) {
        return unexpected(DecodeError::kBadRlp);
    }
    if (!outer.at_end()) {
        return unexpected(DecodeError::kTrailingBytes);
    }
    std::vector<GossipTxn> txns;
    rlp::Decoder items = *list;
    while (!items.at_end()) {
        if (txns.size() == kMaxTxnsPerMsg) {
            return unexpected(DecodeError::kTooManyTxns);
        }
        auto raw = items.read_bytes();
        if (!raw) {
            return unexpected(DecodeError::kBadRlp);
        }
        if (is_blob_network_form(*raw)) {
            // EIP-4844: a blob transaction travels with its sidecar; its hash is the canonical
            // form's. (Whether the sidecar's proofs hold is the receiving pool's check.)
            auto pooled = decode_blob_network_form(*raw);
            if (!pooled || !equal(encode_blob_network_form(pooled->txn, pooled->blobs,
                                                           pooled->commitments, pooled->proofs),
                                  *raw)) {
                return unexpected(DecodeError::kBadTxn);
            }
            const Hash32 hash = keccak256(pooled->canonical);
            txns.push_back(
                GossipTxn{std::move(pooled->txn), hash, Bytes(raw->begin(), raw->end())});
            continue;
        }
        auto txn = decode_transaction(*raw);
        if (!txn) {
            return unexpected(DecodeError::kBadTxn);
        }
        Bytes encoded = encode_transaction(*txn);
        if (!equal(encoded, *raw)) {
            return unexpected(DecodeError::kBadTxn);
        }
        const Hash32 hash = keccak256(encoded);
        txns.push_back(GossipTxn{std::move(*txn), hash, std::move(encoded)});
    }
    if (txns.empty()) {
        return unexpected(DecodeError::kTooManyTxns);
    }
    return txns;
}

Result<ByteView, DecodeError> decode_opaque(ByteView payload) {
    if (payload.empty()) {
        return unexpected(DecodeError::kEmptyPayload);
    }
    return payload;
}

Bytes encode_ping(uint64_t nonce) {
    Bytes out;
    put_u64(out, nonce);
    return out;
}

Result<uint64_t, DecodeError> decode_ping(ByteView p) {
    PEL_TRY_VOID(expect_size(p, 8));
    return get_u64(p.data());
}

Bytes encode_disconnect(DisconnectReason r) { return Bytes{static_cast<uint8_t>(r)}; }

Result<DisconnectReason, DecodeError> decode_disconnect(ByteView p) {
    PEL_TRY_VOID(expect_size(p, 1));
    if (p[0] < static_cast<uint8_t>(DisconnectReason::kRequested) ||
        p[0] > static_cast<uint8_t>(DisconnectReason::kTooManyPeers)) {
        return unexpected(DecodeError::kUnknownReason);
    }
    return static_cast<DisconnectReason>(p[0]);
}

Result<void, DecodeError> validate_payload(MsgKind kind, ByteView payload) {
    switch (kind) {
        case MsgKind::kHello: {
            PEL_TRY_VOID(decode_hello(payload));
            return {};
        }
        case MsgKind::kAuth: {
            PEL_TRY_VOID(decode_auth(payload));
            return {};
        }
        case MsgKind::kTxns: {
            PEL_TRY_VOID(decode_txns(payload));
            return {};
        }
        case MsgKind::kConsensus:
        case MsgKind::kBlock: {
            PEL_TRY_VOID(decode_opaque(payload));
            return {};
        }
        case MsgKind::kPing:
        case MsgKind::kPong: {
            PEL_TRY_VOID(decode_ping(payload));
            return {};
        }
        case MsgKind::kDisconnect: {
            PEL_TRY_VOID(decode_disconnect(payload));
            return {};
        }
    }
    return unexpected(DecodeError::kUnknownKind);
}

}  // namespace pel::net
