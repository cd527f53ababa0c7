// SPDX-License-Identifier: Apache-2.0
// Message codec, signatures, validator set and commit certificates.
#include <gtest/gtest.h>

#include "consensus/certificate.hpp"
#include "consensus/message.hpp"
#include "consensus/validator_set.hpp"
#include "primitives/rlp.hpp"
#include "tests/unit/consensus/test_keys.hpp"

namespace pel::consensus {
namespace {

using testing::kTestChain;
using testing::test_address;
using testing::test_key;
using testing::test_validators;

Proposal sample_proposal(Round round = 3, Round vr = 1) {
    auto p = make_proposal(kTestChain, test_key(0), 7, round, Bytes{1, 2, 3, 4}, vr);
    EXPECT_TRUE(p.has_value());
    return *p;
}

Vote sample_vote(VoteType t, std::optional<Hash32> id) {
    auto v = make_vote(kTestChain, test_key(1), t, 7, 2, id);
    EXPECT_TRUE(v.has_value());
    return *v;
}

std::string decode_error(const Bytes& b) {
    auto r = decode_message(b);
    return r ? std::string("accepted") : r.error().message;
}

TEST(ConsensusCodec, proposal_round_trips) {
    const Proposal p = sample_proposal();
    const Bytes wire = encode(Message{p});
    auto back = decode_message(wire);
    ASSERT_TRUE(back.has_value()) << back.error().message;
    ASSERT_TRUE(std::holds_alternative<Proposal>(*back));
    EXPECT_EQ(std::get<Proposal>(*back), p);
    EXPECT_EQ(std::get<Proposal>(*back).value_id, value_id_of(Bytes{1, 2, 3, 4}));
    EXPECT_EQ(encode(*back), wire);
}

TEST(ConsensusCodec, votes_round_trip_with_value_and_nil) {
    for (const auto t : {VoteType::kPrevote, VoteType::kPrecommit}) {
        for (const auto& id : {std::optional<Hash32>{}, std::optional<Hash32>{Hash32{{7}}}}) {
            const Vote v = sample_vote(t, id);
            auto back = decode_message(encode(Message{v}));
            ASSERT_TRUE(back.has_value()) << back.error().message;
            EXPECT_EQ(std::get<Vote>(*back), v);
        }
    }
}

TEST(ConsensusCodec, proposal_without_valid_round_round_trips) {
    const Proposal p = sample_proposal(0, kNilRound);
    auto back = decode_message(encode(Message{p}));
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(std::get<Proposal>(*back).valid_round, kNilRound);
}

TEST(ConsensusCodec, commit_message_round_trips_and_checks_payload_hash) {
    const auto vs = test_validators(4);
    const Bytes payload{9, 9, 9};
    CommitCertificate cert{5, 1, value_id_of(payload), {}};
    for (size_t i = 0; i < 3; ++i) {
        cert.signatures.push_back(
            make_vote(kTestChain, test_key(i), VoteType::kPrecommit, 5, 1, cert.value_id)
                ->signature);
    }
    const CommitMessage c{cert, payload};
    const Bytes wire = encode(Message{c});
    auto back = decode_message(wire);
    ASSERT_TRUE(back.has_value()) << back.error().message;
    EXPECT_EQ(std::get<CommitMessage>(*back), c);

    CommitMessage wrong{cert, Bytes{1}};
    EXPECT_NE(decode_error(encode(Message{wrong})).find("does not hash"), std::string::npos);
}

TEST(ConsensusCodec, rejects_trailing_bytes_unknown_type_and_wrong_field_count) {
    Bytes wire = encode(Message{sample_vote(VoteType::kPrevote, std::nullopt)});
    Bytes trailing = wire;
    trailing.push_back(0);
    EXPECT_NE(decode_error(trailing).find("trailing"), std::string::npos);

    Bytes f;
    rlp::encode_uint(f, 9);
    Bytes unknown;
    rlp::encode_list(unknown, f);
    EXPECT_NE(decode_error(unknown).find("unknown message type 9"), std::string::npos);

    Bytes g;
    rlp::encode_uint(g, 2);
    rlp::encode_uint(g, 1);
    Bytes short_vote;
    rlp::encode_list(short_vote, g);
    EXPECT_NE(decode_error(short_vote).find("has 1 fields, expected 6"), std::string::npos);

    EXPECT_NE(decode_error(Bytes{0x80}).find("rlp"), std::string::npos);  // not a list
    EXPECT_NE(decode_error(Bytes{}).find("rlp"), std::string::npos);
}

TEST(ConsensusCodec, every_truncation_is_rejected) {
    const Bytes wire = encode(Message{sample_proposal()});
    for (size_t n = 0; n < wire.size(); ++n) {
        EXPECT_FALSE(decode_message(ByteView(wire).first(n)).has_value()) << n;
    }
}

// Rebuilds a vote's wire form with chosen fields.
Bytes vote_wire(uint64_t type, uint64_t round, ByteView value, uint64_t y, const U256& r,
                const U256& s) {
    Bytes f;
    rlp::encode_uint(f, type);
    rlp::encode_uint(f, 7);
    rlp::encode_uint(f, round);
    rlp::encode_bytes(f, value);
    rlp::encode_uint(f, y);
    rlp::encode_uint(f, r);
    rlp::encode_uint(f, s);
    Bytes out;
    rlp::encode_list(out, f);
    return out;
}

TEST(ConsensusCodec, rejects_bad_signatures_value_ids_and_rounds) {
    const Vote v = sample_vote(VoteType::kPrevote, Hash32{{1}});
    const auto& sig = v.signature;
    const Bytes id = Bytes(32, 1);
    ASSERT_TRUE(decode_message(vote_wire(2, 2, id, sig.y_parity, sig.r, sig.s)).has_value());
    EXPECT_NE(decode_error(vote_wire(2, 2, id, 2, sig.r, sig.s)).find("y_parity"),
              std::string::npos);
    EXPECT_NE(decode_error(vote_wire(2, 2, id, 0, U256{0}, sig.s)).find("r is zero"),
              std::string::npos);
    const U256 high_s = crypto::kSecp256k1N - sig.s;
    EXPECT_NE(decode_error(vote_wire(2, 2, id, 0, sig.r, high_s)).find("high"), std::string::npos);
    EXPECT_NE(decode_error(vote_wire(2, 2, Bytes(31, 1), 0, sig.r, sig.s)).find("31 bytes"),
              std::string::npos);
    EXPECT_NE(decode_error(vote_wire(2, uint64_t{1} << 40, id, 0, sig.r, sig.s))
                  .find("above the maximum round"),
              std::string::npos);
}

TEST(ConsensusCodec, proposal_valid_round_must_be_below_round) {
    EXPECT_FALSE(make_proposal(kTestChain, test_key(0), 1, 2, Bytes{1}, 2).has_value());
    EXPECT_FALSE(make_proposal(kTestChain, test_key(0), 1, 2, Bytes{1}, -2).has_value());
    // Hand-made wire form with valid_round == round.
    const Proposal p = sample_proposal(3, 1);
    Bytes f;
    rlp::encode_uint(f, 1);
    rlp::encode_uint(f, 7);
    rlp::encode_uint(f, 3);
    rlp::encode_bytes(f, p.payload);
    rlp::encode_uint(f, 4);  // valid_round + 1 = 4, i.e. valid_round 3 == round
    rlp::encode_uint(f, p.signature.y_parity);
    rlp::encode_uint(f, p.signature.r);
    rlp::encode_uint(f, p.signature.s);
    Bytes wire;
    rlp::encode_list(wire, f);
    EXPECT_NE(decode_error(wire).find("is not below its round"), std::string::npos);

    // valid_round + 1 = 2^63: the error names valid round 2^63 - 1 (computed in int64_t, the
    // message itself was a signed overflow; found by pel_consensus_fuzz under UBSan).
    Bytes g;
    rlp::encode_uint(g, 1);
    rlp::encode_uint(g, 7);
    rlp::encode_uint(g, 3);
    rlp::encode_bytes(g, p.payload);
    rlp::encode_uint(g, uint64_t{1} << 63);
    rlp::encode_uint(g, p.signature.y_parity);
    rlp::encode_uint(g, p.signature.r);
    rlp::encode_uint(g, p.signature.s);
    Bytes huge;
    rlp::encode_list(huge, g);
    EXPECT_NE(decode_error(huge).find("valid round 9223372036854775807 is not below its round 3"),
              std::string::npos)
        << decode_error(huge);
}

TEST(ConsensusSignatures, digests_are_domain_separated) {
    const Hash32 id{{5}};
    EXPECT_NE(vote_digest(1, VoteType::kPrevote, 1, 0, id),
              vote_digest(1, VoteType::kPrecommit, 1, 0, id));
    EXPECT_NE(vote_digest(1, VoteType::kPrevote, 1, 0, id),
              vote_digest(2, VoteType::kPrevote, 1, 0, id));
    EXPECT_NE(vote_digest(1, VoteType::kPrevote, 1, 0, id),
              vote_digest(1, VoteType::kPrevote, 1, 0, std::nullopt));
    EXPECT_NE(proposal_digest(1, 1, 1, id, kNilRound), proposal_digest(1, 1, 1, id, 0));
    const Vote v = sample_vote(VoteType::kPrecommit, id);
    auto signer = crypto::recover_address(
        vote_digest(kTestChain, v.type, v.height, v.round, v.value_id), v.signature, true);
    ASSERT_TRUE(signer.has_value());
    EXPECT_EQ(*signer, test_address(1));
}

TEST(ValidatorSet, quorum_and_fault_thresholds) {
    EXPECT_EQ(test_validators(4).quorum_power(), 3U);
    EXPECT_EQ(test_validators(4).skip_power(), 2U);
    EXPECT_EQ(test_validators(4).max_faulty(), 1U);
    EXPECT_EQ(test_validators(7).quorum_power(), 5U);
    EXPECT_EQ(test_validators(7).skip_power(), 3U);
    EXPECT_EQ(test_validators(7).max_faulty(), 2U);
    EXPECT_EQ(test_validators(1).quorum_power(), 1U);
    // Weighted: powers 10 + 1 + 1 + 1 = 13; quorum > 26/3.
    auto w = make_validator_set(
        {{test_address(0), 10}, {test_address(1), 1}, {test_address(2), 1}, {test_address(3), 1}});
    ASSERT_TRUE(w.has_value());
    EXPECT_EQ(w->quorum_power(), 9U);
    EXPECT_EQ(w->skip_power(), 5U);
}

TEST(ValidatorSet, rejects_bad_sets_and_rotates_proposers) {
    EXPECT_FALSE(make_validator_set({}).has_value());
    auto dup = make_validator_set({{test_address(0), 1}, {test_address(0), 1}});
    ASSERT_FALSE(dup.has_value());
    EXPECT_NE(dup.error().message.find("repeats the address"), std::string::npos);
    EXPECT_FALSE(make_validator_set({{test_address(0), 0}}).has_value());
    EXPECT_FALSE(make_validator_set({{Address{}, 1}}).has_value());
    const auto vs = test_validators(4);
    EXPECT_EQ(vs.proposer(1, 0), 1U);
    EXPECT_EQ(vs.proposer(1, 1), 2U);
    EXPECT_EQ(vs.proposer(2, 0), 2U);
    EXPECT_EQ(vs.proposer(1, 7), 0U);
    EXPECT_EQ(vs.index_of(test_address(3)), 3U);
    EXPECT_FALSE(vs.index_of(test_address(9)).has_value());
}

CommitCertificate certificate_by(std::initializer_list<size_t> signers,
                                 uint64_t chain = kTestChain) {
    CommitCertificate cert{4, 2, Hash32{{0xaa}}, {}};
    for (size_t i : signers) {
        cert.signatures.push_back(
            make_vote(chain, test_key(i), VoteType::kPrecommit, 4, 2, cert.value_id)->signature);
    }
    return cert;
}

TEST(CommitCertificate, verifies_a_quorum_and_rejects_the_rest) {
    const auto vs = test_validators(4);
    EXPECT_TRUE(verify_certificate(certificate_by({0, 1, 2}), vs, kTestChain).has_value());
    EXPECT_TRUE(verify_certificate(certificate_by({3, 1, 0, 2}), vs, kTestChain).has_value());

    auto few = verify_certificate(certificate_by({0, 1}), vs, kTestChain);
    ASSERT_FALSE(few.has_value());
    EXPECT_NE(few.error().message.find("below the quorum"), std::string::npos);

    auto dup = verify_certificate(certificate_by({0, 1, 1}), vs, kTestChain);
    ASSERT_FALSE(dup.has_value());
    EXPECT_NE(dup.error().message.find("repeats validator"), std::string::npos);

    auto outsider = verify_certificate(certificate_by({0, 1, 5}), vs, kTestChain);
    ASSERT_FALSE(outsider.has_value());
    EXPECT_NE(outsider.error().message.find("not a validator"), std::string::npos);

    // Signatures for another chain recover to other addresses: not validators.
    EXPECT_FALSE(
        verify_certificate(certificate_by({0, 1, 2}, kTestChain + 1), vs, kTestChain).has_value());
    // Another value under the same signatures fails too.
    auto moved = certificate_by({0, 1, 2});
    moved.value_id.bytes[0] ^= 1;
    EXPECT_FALSE(verify_certificate(moved, vs, kTestChain).has_value());

    SignatureCache cache;
    EXPECT_TRUE(verify_certificate(certificate_by({0, 1, 2}), vs, kTestChain, &cache).has_value());
    EXPECT_TRUE(verify_certificate(certificate_by({0, 1, 2}), vs, kTestChain, &cache).has_value());
    EXPECT_EQ(cache.hits(), 3U);
}

TEST(CommitCertificate, codec_round_trips_and_rejects_empty) {
    const auto cert = certificate_by({0, 1, 2});
    Bytes wire;
    encode_certificate(wire, cert);
    auto back = decode_certificate(wire);
    ASSERT_TRUE(back.has_value()) << back.error().message;
    EXPECT_EQ(*back, cert);
    Bytes empty;
    encode_certificate(empty, CommitCertificate{1, 0, Hash32{}, {}});
    auto e = decode_certificate(empty);
    ASSERT_FALSE(e.has_value());
    EXPECT_NE(e.error().message.find("without signatures"), std::string::npos);
}

}  // namespace
}  // namespace pel::consensus
