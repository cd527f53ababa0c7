// SPDX-License-Identifier: Apache-2.0
#include "consensus/message.hpp"

#include <string>
#include <utility>

#include "primitives/keccak.hpp"
#include "primitives/rlp.hpp"

namespace pel::consensus {
namespace {

constexpr std::string_view kDomainTag = "pel/consensus/v1";

void encode_round(Bytes& out, Round r) {
    PEL_ASSERT(r >= 0 && r <= kMaxRound, "round out of range");
    rlp::encode_uint(out, static_cast<uint64_t>(r));
}

// valid_round travels as valid_round + 1 so that kNilRound (-1) is the integer 0.
void encode_valid_round(Bytes& out, Round vr) {
    PEL_ASSERT(vr >= kNilRound && vr < kMaxRound, "valid round out of range");
    rlp::encode_uint(out, static_cast<uint64_t>(vr + 1));
}

void encode_value_id(Bytes& out, const std::optional<Hash32>& id) {
    if (id) {
        rlp::encode_bytes(out, id->view());
    } else {
        rlp::encode_bytes(out, ByteView{});
    }
}

void encode_signature(Bytes& out, const crypto::Signature& sig) {
    rlp::encode_uint(out, uint64_t{sig.y_parity});
    rlp::encode_uint(out, sig.r);
    rlp::encode_uint(out, sig.s);
}

Hash32 digest_of(const Bytes& fields) {
    Bytes msg;
    rlp::encode_list(msg, fields);
    return keccak256(msg);
}

Bytes domain_prefix(uint64_t chain_id, MessageType type, Height height, Round round) {
    Bytes f;
    rlp::encode_bytes(f, as_bytes(kDomainTag));
    rlp::encode_uint(f, chain_id);
    rlp::encode_uint(f, uint64_t{static_cast<uint8_t>(type)});
    rlp::encode_uint(f, height);
    encode_round(f, round);
    return f;
}

Result<Round> read_round(rlp::Decoder& d, const char* what) {
    const size_t at = d.offset();
    PEL_TRY(const uint64_t v, d.read_u64());
    if (v > static_cast<uint64_t>(kMaxRound)) {
        return make_error("consensus: ", what, " ", v, " above the maximum round at offset ", at);
    }
    return static_cast<Round>(v);
}

Result<crypto::Signature> read_signature(rlp::Decoder& d) {
    const size_t at = d.offset();
    crypto::Signature sig;
    PEL_TRY(const uint64_t y, d.read_u64());
    if (y > 1) {
        return make_error("consensus: signature y_parity ", y, " is not 0 or 1 at offset ", at);
    }
    sig.y_parity = static_cast<uint8_t>(y);
    PEL_TRY(sig.r, d.read_u256());
    PEL_TRY(sig.s, d.read_u256());
    if (sig.r.is_zero() || sig.r >= crypto::kSecp256k1N) {
        return make_error("consensus: signature r is zero or not below the curve order at offset ",
                          at);
    }
    if (sig.s.is_zero() || sig.s > crypto::kSecp256k1HalfN) {
        return make_error("consensus: signature s is zero or high (malleable) at offset ", at);
    }
    return sig;
}

Result<std::optional<Hash32>> read_value_id(rlp::Decoder& d) {
    const size_t at = d.offset();
    PEL_TRY(const ByteView v, d.read_bytes());
    if (v.empty()) {
        return std::optional<Hash32>{};
    }
    if (v.size() != Hash32::kSize) {
        return make_error("consensus: value id of ", v.size(),
                          " bytes (expected 32, or empty for nil) at offset ", at);
    }
    return std::optional<Hash32>{Hash32::from_view_padded(v)};
}

Result<ByteView> read_payload(rlp::Decoder& d) {
    const size_t at = d.offset();
    PEL_TRY(const ByteView v, d.read_bytes());
    if (v.size() > kMaxPayloadSize) {
        return make_error("consensus: payload of ", v.size(), " bytes above the limit at offset ",
                          at);
    }
    return v;
}

Result<void> expect_fields(rlp::Decoder d, size_t want, const char* what, size_t at) {
    size_t n = 0;
    while (!d.at_end()) {
        PEL_TRY_VOID(d.read_raw_item());
        ++n;
    }
    if (n != want) {
        return make_error("consensus: ", what, " has ", n, " fields, expected ", want,
                          " (list at offset ", at, ")");
    }
    return {};
}

Result<CommitCertificate> read_certificate(rlp::Decoder& outer) {
    const size_t at = outer.offset();
    PEL_TRY(rlp::Decoder d, outer.read_list());
    PEL_TRY_VOID(expect_fields(d, 4, "certificate", at));
    CommitCertificate cert;
    PEL_TRY(cert.height, d.read_u64());
    PEL_TRY(cert.round, read_round(d, "certificate round"));
    PEL_TRY(cert.value_id, d.read_hash());
    const size_t sigs_at = d.offset();
    PEL_TRY(rlp::Decoder sigs, d.read_list());
    while (!sigs.at_end()) {
        if (cert.signatures.size() == kMaxValidators) {
            return make_error("consensus: certificate has more than ", kMaxValidators,
                              " signatures (list at offset ", sigs_at, ")");
        }
        const size_t sig_at = sigs.offset();
        PEL_TRY(rlp::Decoder s, sigs.read_list());
        PEL_TRY_VOID(expect_fields(s, 3, "certificate signature", sig_at));
        PEL_TRY(auto sig, read_signature(s));
        cert.signatures.push_back(sig);
    }
    if (cert.signatures.empty()) {
        return make_error("consensus: certificate without signatures (list at offset ", sigs_at,
                          ")");
    }
    return cert;
}

void encode_certificate_item(Bytes& out, const CommitCertificate& cert) {
    Bytes sigs;
    for (const auto& sig : cert.signatures) {
        Bytes one;
        encode_signature(one, sig);
        rlp::encode_list(sigs, one);
    }
    Bytes f;
    rlp::encode_uint(f, cert.height);
    encode_round(f, cert.round);
    rlp::encode_bytes(f, cert.value_id.view());
    rlp::encode_list(f, sigs);
    rlp::encode_list(out, f);
}

}  // namespace

std::string_view to_string(Step s) noexcept {
    switch (s) {
        case Step::kPropose:
            return "propose";
        case Step::kPrevote:
            return "prevote";
        case Step::kPrecommit:
            return "precommit";
    }
    return "?";
}

std::string_view to_string(TimeoutKind k) noexcept {
    switch (k) {
        case TimeoutKind::kPropose:
            return "propose";
        case TimeoutKind::kPrevote:
            return "prevote";
        case TimeoutKind::kPrecommit:
            return "precommit";
        case TimeoutKind::kRebroadcast:
            return "rebroadcast";
    }
    return "?";
}

std::string_view to_string(MessageType t) noexcept {
    switch (t) {
        case MessageType::kProposal:
            return "proposal";
        case MessageType::kPrevote:
            return "prevote";
        case MessageType::kPrecommit:
            return "precommit";
        case MessageType::kCommit:
            return "commit";
    }
    return "?";
}

MessageType type_of(const Message& msg) noexcept {
    if (std::holds_alternative<Proposal>(msg)) return MessageType::kProposal;
    if (const auto* v = std::get_if<Vote>(&msg)) {
        return v->type == VoteType::kPrevote ? MessageType::kPrevote : MessageType::kPrecommit;
    }
    return MessageType::kCommit;
}

Hash32 value_id_of(ByteView payload) noexcept { return keccak256(payload); }

Hash32 proposal_digest(uint64_t chain_id, Height height, Round round, const Hash32& value_id,
                       Round valid_round) {
    Bytes f = domain_prefix(chain_id, MessageType::kProposal, height, round);
    rlp::encode_bytes(f, value_id.view());
    encode_valid_round(f, valid_round);
    return digest_of(f);
}

Hash32 vote_digest(uint64_t chain_id, VoteType type, Height height, Round round,
                   const std::optional<Hash32>& value_id) {
    Bytes f = domain_prefix(chain_id, static_cast<MessageType>(type), height, round);
    encode_value_id(f, value_id);
    return digest_of(f);
}

Result<Proposal> make_proposal(uint64_t chain_id, const Hash32& secret_key, Height height,
                               Round round, Bytes payload, Round valid_round) {
    if (round < 0 || round > kMaxRound) {
        return make_error("consensus: proposal round ", round, " out of range");
    }
    if (valid_round < kNilRound || valid_round >= round) {
        return make_error("consensus: proposal valid round ", valid_round,
                          " must be -1 or below the round ", round);
    }
    if (payload.size() > kMaxPayloadSize) {
        return make_error("consensus: payload of ", payload.size(), " bytes above the limit");
    }
    Proposal p;
    p.height = height;
    p.round = round;
    p.value_id = value_id_of(payload);
    p.payload = std::move(payload);
    p.valid_round = valid_round;
    PEL_TRY(p.signature,
            crypto::sign(proposal_digest(chain_id, height, round, p.value_id, valid_round),
                         secret_key));
    return p;
}

Result<Vote> make_vote(uint64_t chain_id, const Hash32& secret_key, VoteType type, Height height,
                       Round round, const std::optional<Hash32>& value_id) {
    if (round < 0 || round > kMaxRound) {
        return make_error("consensus: vote round ", round, " out of range");
    }
    Vote v;
    v.type = type;
    v.height = height;
    v.round = round;
    v.value_id = value_id;
    PEL_TRY(v.signature,
            crypto::sign(vote_digest(chain_id, type, height, round, value_id), secret_key));
    return v;
}

void encode(Bytes& out, const Message& msg) {
    Bytes f;
    rlp::encode_uint(f, uint64_t{static_cast<uint8_t>(type_of(msg))});
    if (const auto* p = std::get_if<Proposal>(&msg)) {
        rlp::encode_uint(f, p->height);
        encode_round(f, p->round);
        rlp::encode_bytes(f, p->payload);
        encode_valid_round(f, p->valid_round);
        encode_signature(f, p->signature);
    } else if (const auto* v = std::get_if<Vote>(&msg)) {
        rlp::encode_uint(f, v->height);
        encode_round(f, v->round);
        encode_value_id(f, v->value_id);
        encode_signature(f, v->signature);
    } else {
        const auto& c = std::get<CommitMessage>(msg);
        encode_certificate_item(f, c.certificate);
        rlp::encode_bytes(f, c.payload);
    }
    rlp::encode_list(out, f);
}

Bytes encode(const Message& msg) {
    Bytes out;
    encode(out, msg);
    return out;
}

Result<Message> decode_message(ByteView in) {
    rlp::Decoder top(in);
    PEL_TRY(rlp::Decoder d, top.read_list());
    PEL_TRY_VOID(top.expect_end());
    const size_t type_at = d.offset();
    PEL_TRY(const uint64_t type, d.read_u64());
    switch (type) {
        case uint64_t{static_cast<uint8_t>(MessageType::kProposal)}: {
            PEL_TRY_VOID(expect_fields(d, 7, "proposal", 0));
            Proposal p;
            PEL_TRY(p.height, d.read_u64());
            PEL_TRY(p.round, read_round(d, "round"));
            PEL_TRY(const ByteView payload, read_payload(d));
            const size_t vr_at = d.offset();
            PEL_TRY(const uint64_t vr1, d.read_u64());
            if (vr1 > static_cast<uint64_t>(p.round)) {
                // vr1 > round >= 0, so the valid round vr1 - 1 is not nil: in uint64_t it cannot
                // overflow (as int64_t, a vr1 of 2^63 did: found by pel_consensus_fuzz, UBSan).
                return make_error("consensus: proposal valid round ", vr1 - 1,
                                  " is not below its round ", p.round, " at offset ", vr_at);
            }
            p.valid_round = static_cast<Round>(vr1) - 1;
            PEL_TRY(p.signature, read_signature(d));
            p.payload.assign(payload.begin(), payload.end());
            p.value_id = value_id_of(p.payload);
            return Message{std::move(p)};
        }
        case uint64_t{static_cast<uint8_t>(MessageType::kPrevote)}:
        case uint64_t{static_cast<uint8_t>(MessageType::kPrecommit)}: {
            PEL_TRY_VOID(expect_fields(d, 6, "vote", 0));
            Vote v;
            v.type = static_cast<VoteType>(type);
            PEL_TRY(v.height, d.read_u64());
            PEL_TRY(v.round, read_round(d, "round"));
            PEL_TRY(v.value_id, read_value_id(d));
            PEL_TRY(v.signature, read_signature(d));
            return Message{std::move(v)};
        }
        case uint64_t{static_cast<uint8_t>(MessageType::kCommit)}: {
            PEL_TRY_VOID(expect_fields(d, 2, "commit", 0));
            CommitMessage c;
            PEL_TRY(c.certificate, read_certificate(d));
            const size_t payload_at = d.offset();
            PEL_TRY(const ByteView payload, read_payload(d));
            if (value_id_of(payload) != c.certificate.value_id) {
                return make_error(
                    "consensus: commit payload does not hash to the certificate's value id at "
                    "offset ",
                    payload_at);
            }
            c.payload.assign(payload.begin(), payload.end());
            return Message{std::move(c)};
        }
        default:
            return make_error("consensus: unknown message type ", type, " at offset ", type_at);
    }
}

void encode_certificate(Bytes& out, const CommitCertificate& cert) {
    encode_certificate_item(out, cert);
}

Result<CommitCertificate> decode_certificate(ByteView in) {
    rlp::Decoder top(in);
    PEL_TRY(auto cert, read_certificate(top));
    PEL_TRY_VOID(top.expect_end());
    return cert;
}

}  // namespace pel::consensus
