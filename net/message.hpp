// SPDX-License-Identifier: Apache-2.0
// pel's peer-to-peer wire format: frames and the strict decoders of every message kind.
//
// Frame: u32 big-endian length L | kind byte | payload of L - 1 bytes. L counts the kind byte, so
// L >= 1; L above the configured maximum frame size is rejected from the 4 header bytes alone,
// before any of the body is read or buffered.
//
// Payloads (every decoder is strict: exact sizes, known enum values, no trailing bytes; every
// accepted payload re-encodes to the same bytes):
//   kHello      u32 protocol version | u64 chain id | genesis hash (32) | node id (20) | nonce (32)
//   kAuth       signature r (32) | s (32) | y_parity (1)   (the handshake response, see auth_hash)
//   kTxns       RLP list of byte strings, each a canonical encode_transaction() or, for a blob
//               transaction, its EIP-4844 network form with the sidecar (1..kMaxTxnsPerMsg)
//   kConsensus  opaque bytes, non-empty (consensus::encode() output; net does not look inside)
//   kBlock      opaque bytes, non-empty (an encoded block; net does not look inside)
//   kPing/kPong u64 nonce
//   kDisconnect reason byte (a DisconnectReason)
// Integers are big-endian.
//
// Thread safety: plain value types and pure functions.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "primitives/bytes.hpp"
#include "primitives/hash.hpp"
#include "primitives/result.hpp"
#include "primitives/secp256k1.hpp"
#include "primitives/transaction.hpp"

namespace pel::net {

/// Protocol version carried in Hello; peers with another version are refused.
inline constexpr uint32_t kProtocolVersion = 1;
/// Bytes of the frame header (the u32 length).
inline constexpr size_t kFrameHeaderSize = 4;
/// Default maximum frame length (kind byte + payload): 16 MiB, above the largest consensus payload.
inline constexpr uint32_t kDefaultMaxFrameSize = 16U * 1024U * 1024U;
/// Most transactions one kTxns message may carry.
inline constexpr size_t kMaxTxnsPerMsg = 4096;
/// Domain tag of the handshake signature (keeps it from being valid as any other signature).
inline constexpr std::string_view kAuthDomain = "pel/net/auth/v1";

/// The message kinds. Values are the wire's kind byte.
enum class MsgKind : uint8_t {
    kHello = 1,       ///< handshake: who I am + my challenge nonce
    kAuth = 2,        ///< handshake: my signature over your nonce and my hello
    kTxns = 3,        ///< gossip: transactions
    kConsensus = 4,   ///< gossip: one consensus message (opaque)
    kBlock = 5,       ///< gossip: one block (opaque)
    kPing = 6,        ///< liveness probe
    kPong = 7,        ///< answer to a ping (echoes its nonce)
    kDisconnect = 8,  ///< the sender is closing, with a reason
};
[[nodiscard]] std::string_view to_string(MsgKind k) noexcept;
/// Whether `b` is a known kind byte.
[[nodiscard]] bool is_known_kind(uint8_t b) noexcept;

/// Why a frame or payload was rejected. Every one disconnects the peer that sent it.
enum class DecodeError : uint8_t {
    kFrameTooShort,  ///< frame length 0 (no kind byte)
    kFrameTooLarge,  ///< frame length above the maximum frame size
    kTruncated,      ///< fewer bytes than the header or the frame length announce
    kUnknownKind,    ///< kind byte is not a MsgKind
    kBadLength,      ///< payload size differs from the kind's fixed size
    kEmptyPayload,   ///< consensus or block payload without bytes
    kBadRlp,         ///< kTxns is not a canonical RLP list of byte strings
    kBadTxn,         ///< a transaction does not decode or is not canonically encoded
    kTooManyTxns,    ///< kTxns with zero or more than kMaxTxnsPerMsg transactions
    kBadSignature,   ///< kAuth y_parity above 1 (ranges are checked at recovery)
    kUnknownReason,  ///< kDisconnect reason byte is not a DisconnectReason
    kTrailingBytes,  ///< bytes after a complete payload
};
[[nodiscard]] std::string_view to_string(DecodeError e) noexcept;

/// Why a connection is closed. Sent in kDisconnect (best effort) and logged.
enum class DisconnectReason : uint8_t {
    kRequested = 1,       ///< local stop / peer removal
    kProtocolError = 2,   ///< malformed or oversized frame, unexpected message
    kWrongChain = 3,      ///< chain id or genesis hash differs
    kWrongVersion = 4,    ///< protocol version differs
    kBadAuth = 5,         ///< handshake signature does not recover the claimed node id
    kNotAllowed = 6,      ///< node id not in the whitelist / not the expected static peer id
    kTimeout = 7,         ///< handshake or ping timeout
    kDuplicate = 8,       ///< another connection with the same node is kept
    kSelf = 9,            ///< connected to ourselves
    kQueueOverflow = 10,  ///< consensus messages overflowed the send queue
    kTooManyPeers = 11,   ///< peer limit reached
};
[[nodiscard]] std::string_view to_string(DisconnectReason r) noexcept;

/// A decoded frame header.
struct FrameHeader {
    MsgKind kind = MsgKind::kPing;
    uint32_t payload_size = 0;  ///< frame length minus the kind byte
};

/// Parses the 4 length bytes (and, if present, the kind byte) of a frame: the length is checked
/// against `max_frame_size` before anything else, so an oversized body is never read.
/// `header` must hold exactly 5 bytes (length + kind). Errors: kTruncated, kFrameTooShort,
/// kFrameTooLarge, kUnknownKind.
[[nodiscard]] Result<FrameHeader, DecodeError> decode_frame_header(ByteView header,
                                                                   uint32_t max_frame_size);
/// Checks only the 4 length bytes: kFrameTooShort / kFrameTooLarge / kTruncated. Returns L.
[[nodiscard]] Result<uint32_t, DecodeError> decode_frame_length(ByteView len4,
                                                                uint32_t max_frame_size);

/// Appends a frame (header + kind + payload). PEL_ASSERTs that the frame fits in u32.
void encode_frame(Bytes& out, MsgKind kind, ByteView payload);
[[nodiscard]] Bytes encode_frame(MsgKind kind, ByteView payload);

/// A whole frame decoded from a buffer: its kind, its payload (a view into the buffer) and how
/// many bytes it used.
struct FrameView {
    MsgKind kind = MsgKind::kPing;
    ByteView payload;
    size_t consumed = 0;
};
/// Decodes the first frame of `in` (more bytes may follow). Used by tests and the fuzzer; the
/// sessions read header and body separately with the same checks.
[[nodiscard]] Result<FrameView, DecodeError> decode_frame(ByteView in, uint32_t max_frame_size);

// --- messages ---------------------------------------------------------------------------------

struct Hello {
    uint32_t protocol_version = kProtocolVersion;
    uint64_t chain_id = 0;
    Hash32 genesis_hash;
    Address node_id;  ///< address of the sender's secp256k1 node key
    Hash32 nonce;     ///< fresh random challenge for the receiver to sign

    friend bool operator==(const Hello&, const Hello&) = default;
};
inline constexpr size_t kHelloSize = 4 + 8 + 32 + 20 + 32;
inline constexpr size_t kAuthSize = 65;

[[nodiscard]] Bytes encode_hello(const Hello& h);
[[nodiscard]] Result<Hello, DecodeError> decode_hello(ByteView payload);

/// The handshake hash a node signs: keccak256(kAuthDomain || peer_nonce || encode_hello(own)).
/// Signing the peer's fresh nonce proves possession of the key now (no replay); including the
/// signer's own hello binds the claimed node id, chain id and genesis to the signature.
[[nodiscard]] Hash32 auth_hash(const Hash32& peer_nonce, const Hello& own);

[[nodiscard]] Bytes encode_auth(const crypto::Signature& sig);
[[nodiscard]] Result<crypto::Signature, DecodeError> decode_auth(ByteView payload);

/// A transaction received by gossip with its hash (keccak of its canonical encoding).
struct GossipTxn {
    Transaction txn;
    Hash32 hash;
    Bytes
        encoded;  ///< as received and re-gossiped: canonical, or a blob transaction's network form
};
/// Encodes already-encoded transactions (encode_transaction() outputs) as a kTxns payload.
[[nodiscard]] Bytes encode_txns(const std::vector<Bytes>& encoded_txns);
/// Strict: a canonical RLP list of 1..kMaxTxnsPerMsg byte strings, each a transaction (or a blob
/// transaction's network form) that decodes and re-encodes byte for byte. Errors: kBadRlp, kBadTxn,
/// kTooManyTxns, kTrailingBytes.
[[nodiscard]] Result<std::vector<GossipTxn>, DecodeError> decode_txns(ByteView payload);

/// kConsensus / kBlock payloads are opaque but never empty.
[[nodiscard]] Result<ByteView, DecodeError> decode_opaque(ByteView payload);

[[nodiscard]] Bytes encode_ping(uint64_t nonce);
/// Also decodes kPong.
[[nodiscard]] Result<uint64_t, DecodeError> decode_ping(ByteView payload);

[[nodiscard]] Bytes encode_disconnect(DisconnectReason r);
[[nodiscard]] Result<DisconnectReason, DecodeError> decode_disconnect(ByteView payload);

/// Runs the strict decoder of `kind` on `payload` and discards the result (the fuzzer and the
/// session's pre-dispatch check use it).
[[nodiscard]] Result<void, DecodeError> validate_payload(MsgKind kind, ByteView payload);

}  // namespace pel::net
