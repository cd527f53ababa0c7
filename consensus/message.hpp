// SPDX-License-Identifier: Apache-2.0
// Consensus messages, their signatures and their wire codec.
//
// Signing: every Proposal and Vote is signed with the validator's secp256k1 key over
//   keccak256(rlp([ "pel/consensus/v1", chain_id, type, height, round, value_id, valid_round+1 ]))
// (valid_round+1 only for proposals; value_id is the empty string for a nil vote). The domain tag
// and the chain id keep a consensus signature from ever being valid as a transaction signature,
// for another chain, or as another message type. A proposal signs the value id (keccak256 of the
// payload), not the payload: the payload is hashed once and the signature stays small.
//
// Wire format (RLP, decoded strictly; every accepted message re-encodes to the same bytes):
//   Proposal:  [1, height, round, payload, valid_round+1, y_parity, r, s]
//   Prevote:   [2, height, round, value_id | "", y_parity, r, s]
//   Precommit: [3, height, round, value_id | "", y_parity, r, s]
//   Commit:    [4, certificate, payload]      (certificate as in certificate.hpp; unsigned: the
//                                              certificate authenticates it)
// The decoder rejects (with a message naming the rule and offset): anything that is not exactly
// one list, an unknown type, a wrong field count, non-canonical integers, rounds above
// kMaxRound, a proposal whose valid round is not below its round, a value id that is neither
// empty nor 32 bytes, a payload above kMaxPayloadSize, y_parity > 1, r or s zero or not below
// the curve order, high s (malleable), and trailing bytes. Signatures are not checked by the
// decoder (that needs the chain id and the validator set): see signer() below.
//
// Thread safety: plain value types and pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <variant>
#include <vector>

#include "consensus/types.hpp"
#include "primitives/bytes.hpp"
#include "primitives/hash.hpp"
#include "primitives/result.hpp"
#include "primitives/secp256k1.hpp"

namespace pel::consensus {

/// Largest validator set (bounds certificates and vote arrays).
inline constexpr size_t kMaxValidators = 1024;
/// Largest payload (an encoded block) a Proposal or Commit may carry.
inline constexpr size_t kMaxPayloadSize = size_t{32} << 20;

enum class MessageType : uint8_t { kProposal = 1, kPrevote = 2, kPrecommit = 3, kCommit = 4 };
enum class VoteType : uint8_t { kPrevote = 2, kPrecommit = 3 };

/// The id of a proposed value: keccak256 of its payload.
[[nodiscard]] Hash32 value_id_of(ByteView payload) noexcept;

/// <PROPOSAL, height, round, v, validRound> from proposer(height, round).
/// Invariant (checked by the decoder and by make_proposal): kNilRound <= valid_round < round.
struct Proposal {
    Height height = 0;
    Round round = 0;
    Bytes payload;
    Round valid_round = kNilRound;
    Hash32 value_id;  ///< keccak256(payload); not on the wire, filled by decode/make_proposal
    crypto::Signature signature;

    friend bool operator==(const Proposal&, const Proposal&) = default;
};

/// <PREVOTE|PRECOMMIT, height, round, id(v) or nil>.
struct Vote {
    VoteType type = VoteType::kPrevote;
    Height height = 0;
    Round round = 0;
    std::optional<Hash32> value_id;  ///< nullopt is a nil vote
    crypto::Signature signature;

    friend bool operator==(const Vote&, const Vote&) = default;
};

/// Proof that `value_id` was decided at `height`: 2f+1 (by voting power) precommit signatures
/// for it in `round`. All precommits share height, round and value, so only the signatures are
/// kept; each signer is recovered from its signature (see certificate.hpp for verification).
/// Wire: [height, round, value_id, [[y_parity, r, s], ...]], at most kMaxValidators signatures.
struct CommitCertificate {
    Height height = 0;
    Round round = 0;
    Hash32 value_id;
    std::vector<crypto::Signature> signatures;  ///< in validator-index order when we build it

    friend bool operator==(const CommitCertificate&, const CommitCertificate&) = default;
};

/// A decided value with its commit certificate: how a validator that fell behind learns a
/// decision it missed (the engine answers messages of an old height with this).
/// Invariant (checked by the decoder): value_id_of(payload) == certificate.value_id.
struct CommitMessage {
    CommitCertificate certificate;
    Bytes payload;

    friend bool operator==(const CommitMessage&, const CommitMessage&) = default;
};

using Message = std::variant<Proposal, Vote, CommitMessage>;

/// Digest a proposal's signature covers.
[[nodiscard]] Hash32 proposal_digest(uint64_t chain_id, Height height, Round round,
                                     const Hash32& value_id, Round valid_round);
/// Digest a vote's signature covers.
[[nodiscard]] Hash32 vote_digest(uint64_t chain_id, VoteType type, Height height, Round round,
                                 const std::optional<Hash32>& value_id);

/// Builds and signs a proposal. Errors: bad key, round/valid_round out of range, payload too big.
[[nodiscard]] Result<Proposal> make_proposal(uint64_t chain_id, const Hash32& secret_key,
                                             Height height, Round round, Bytes payload,
                                             Round valid_round);
/// Builds and signs a vote. Errors: bad key, round out of range.
[[nodiscard]] Result<Vote> make_vote(uint64_t chain_id, const Hash32& secret_key, VoteType type,
                                     Height height, Round round,
                                     const std::optional<Hash32>& value_id);

/// Appends the wire encoding of a message.
void encode(Bytes& out, const Message& msg);
[[nodiscard]] Bytes encode(const Message& msg);
/// Strict decoder (rules at the top of this file). Error messages start with "consensus: ".
[[nodiscard]] Result<Message> decode_message(ByteView in);

/// Certificate codec (the ledger stores certificates with blocks; sync will ship them).
void encode_certificate(Bytes& out, const CommitCertificate& cert);
[[nodiscard]] Result<CommitCertificate> decode_certificate(ByteView in);

[[nodiscard]] std::string_view to_string(MessageType t) noexcept;
[[nodiscard]] MessageType type_of(const Message& msg) noexcept;

}  // namespace pel::consensus
