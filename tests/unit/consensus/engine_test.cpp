// SPDX-License-Identifier: Apache-2.0
// The engine's upon-rules, one at a time, with fake ports (Tendermint paper, Algorithm 1).
#include "consensus/engine.hpp"

#include <gtest/gtest.h>

#include "consensus/certificate.hpp"
#include "tests/unit/consensus/test_keys.hpp"

namespace pel::consensus {
namespace {

using testing::kTestChain;
using testing::test_key;
using testing::test_validators;

struct FakeTransport : Transport {
    std::vector<Message> broadcasts;
    std::vector<std::pair<Address, Message>> sent;
    void broadcast(const Message& m) override { broadcasts.push_back(m); }
    void send(const Address& to, const Message& m) override { sent.emplace_back(to, m); }
};

struct FakeClock : Clock {
    uint64_t now = 1000;
    std::vector<std::pair<Timeout, uint64_t>> scheduled;
    uint64_t now_ms() const override { return now; }
    void schedule(const Timeout& t, uint64_t delay) override { scheduled.emplace_back(t, delay); }
    [[nodiscard]] std::optional<uint64_t> delay_of(TimeoutKind k, Round r) const {
        for (const auto& [t, d] : scheduled) {
            if (t.kind == k && t.round == r) return d;
        }
        return std::nullopt;
    }
};

struct FakeApp : Application {
    std::vector<std::pair<Height, Bytes>> commits;
    std::vector<CommitCertificate> certs;
    size_t validations = 0;
    Result<Bytes> propose(Height h) override { return Bytes{0xb0, static_cast<uint8_t>(h)}; }
    Result<void> validate(Height, ByteView payload) override {
        ++validations;
        if (!payload.empty() && payload[0] == 0xba) return make_error("bad block");
        return {};
    }
    void commit(Height h, ByteView payload, const CommitCertificate& cert) override {
        commits.emplace_back(h, Bytes(payload.begin(), payload.end()));
        certs.push_back(cert);
    }
    std::optional<DecidedBlock> decided(Height h) override {
        for (size_t i = 0; i < commits.size(); ++i) {
            if (commits[i].first == h) return DecidedBlock{commits[i].second, certs[i]};
        }
        return std::nullopt;
    }
};

class EngineTest : public ::testing::Test {
  protected:
    // Validator 0 runs the engine; at height 1 the proposer of round r is validator (1 + r) % 4.
    void SetUp() override { make(0); }
    void make(size_t me) {
        EngineConfig cfg{kTestChain, vs_, test_key(me), TimeoutConfig{}};
        auto e = make_engine(cfg, transport_, clock_, app_);
        ASSERT_TRUE(e.has_value()) << e.error().message;
        engine_ = std::move(*e);
    }
    Proposal proposal(size_t from, Round r, Bytes payload, Round vr = kNilRound, Height h = 1) {
        return *make_proposal(kTestChain, test_key(from), h, r, std::move(payload), vr);
    }
    Vote vote(size_t from, VoteType t, Round r, std::optional<Hash32> id, Height h = 1) {
        return *make_vote(kTestChain, test_key(from), t, h, r, id);
    }
    void deliver(const Message& m) {
        auto r = engine_->on_message(m);
        ASSERT_TRUE(r.has_value()) << r.error().message;
    }
    // The last vote of a type this engine broadcast.
    std::optional<Vote> last_vote(VoteType t) const {
        for (auto it = transport_.broadcasts.rbegin(); it != transport_.broadcasts.rend(); ++it) {
            if (const auto* v = std::get_if<Vote>(&*it); v != nullptr && v->type == t) return *v;
        }
        return std::nullopt;
    }
    void prevotes(Round r, std::optional<Hash32> id, std::initializer_list<size_t> from) {
        for (size_t i : from) deliver(Message{vote(i, VoteType::kPrevote, r, id)});
    }
    void precommits(Round r, std::optional<Hash32> id, std::initializer_list<size_t> from) {
        for (size_t i : from) deliver(Message{vote(i, VoteType::kPrecommit, r, id)});
    }

    ValidatorSet vs_ = test_validators(4);
    FakeTransport transport_;
    FakeClock clock_;
    FakeApp app_;
    std::unique_ptr<Engine> engine_;
    const Bytes block_{0xb0, 1};
    const Hash32 id_ = value_id_of(Bytes{0xb0, 1});
    const Bytes other_{0xb0, 0x77};
    const Hash32 other_id_ = value_id_of(Bytes{0xb0, 0x77});
};

TEST_F(EngineTest, make_engine_rejects_a_key_outside_the_set) {
    EngineConfig cfg{kTestChain, vs_, test_key(9), TimeoutConfig{}};
    auto e = make_engine(cfg, transport_, clock_, app_);
    ASSERT_FALSE(e.has_value());
    EXPECT_NE(e.error().message.find("not a validator"), std::string::npos);
}

TEST_F(EngineTest, proposer_proposes_and_prevotes_its_block) {
    make(1);
    engine_->start(1);
    ASSERT_GE(transport_.broadcasts.size(), 2U);
    const auto& p = std::get<Proposal>(transport_.broadcasts[0]);
    EXPECT_EQ(p.height, 1U);
    EXPECT_EQ(p.round, 0);
    EXPECT_EQ(p.valid_round, kNilRound);
    EXPECT_EQ(last_vote(VoteType::kPrevote)->value_id, p.value_id);
    EXPECT_EQ(engine_->step(), Step::kPrevote);
}

TEST_F(EngineTest, non_proposer_waits_with_a_propose_timeout_then_prevotes_the_proposal) {
    engine_->start(1);
    EXPECT_TRUE(clock_.delay_of(TimeoutKind::kPropose, 0).has_value());
    EXPECT_EQ(engine_->step(), Step::kPropose);
    deliver(Message{proposal(1, 0, block_)});  // line 22
    EXPECT_EQ(last_vote(VoteType::kPrevote)->value_id, id_);
    EXPECT_EQ(engine_->step(), Step::kPrevote);
}

TEST_F(EngineTest, proposal_from_a_non_proposer_is_an_error) {
    engine_->start(1);
    auto r = engine_->on_message(Message{proposal(2, 0, block_)});
    ASSERT_FALSE(r.has_value());
    EXPECT_NE(r.error().message.find("not the proposer"), std::string::npos);
    EXPECT_EQ(engine_->step(), Step::kPropose);
}

TEST_F(EngineTest, invalid_block_gets_a_nil_prevote) {
    engine_->start(1);
    deliver(Message{proposal(1, 0, Bytes{0xba, 0xd})});
    EXPECT_EQ(last_vote(VoteType::kPrevote)->value_id, std::nullopt);
}

TEST_F(EngineTest, propose_timeout_prevotes_nil_and_prevote_timeout_precommits_nil) {
    engine_->start(1);
    engine_->on_timeout(Timeout{TimeoutKind::kPropose, 1, 0});  // line 57
    EXPECT_EQ(last_vote(VoteType::kPrevote)->value_id, std::nullopt);
    EXPECT_FALSE(clock_.delay_of(TimeoutKind::kPrevote, 0).has_value());
    prevotes(0, id_, {1, 2});  // 2f+1 prevotes of any kind: line 34 schedules the timeout
    ASSERT_TRUE(clock_.delay_of(TimeoutKind::kPrevote, 0).has_value());
    engine_->on_timeout(Timeout{TimeoutKind::kPrevote, 1, 0});  // line 61
    EXPECT_EQ(last_vote(VoteType::kPrecommit)->value_id, std::nullopt);
    EXPECT_EQ(engine_->step(), Step::kPrecommit);
}

TEST_F(EngineTest, stale_timeouts_are_ignored) {
    engine_->start(1);
    const size_t before = transport_.broadcasts.size();
    engine_->on_timeout(Timeout{TimeoutKind::kPropose, 1, 5});
    engine_->on_timeout(Timeout{TimeoutKind::kPrevote, 1, 0});  // step is still propose
    EXPECT_EQ(transport_.broadcasts.size(), before);
    EXPECT_EQ(engine_->step(), Step::kPropose);
}

TEST_F(EngineTest, quorum_of_prevotes_locks_and_precommits) {
    engine_->start(1);
    deliver(Message{proposal(1, 0, block_)});
    prevotes(0, id_, {1, 2});  // with our own: 3 = 2f+1 (line 36)
    EXPECT_EQ(last_vote(VoteType::kPrecommit)->value_id, id_);
    EXPECT_EQ(engine_->locked_round(), 0);
    EXPECT_EQ(engine_->locked_value_id(), id_);
    EXPECT_EQ(engine_->valid_round(), 0);
}

TEST_F(EngineTest, quorum_of_nil_prevotes_precommits_nil) {
    engine_->start(1);
    engine_->on_timeout(Timeout{TimeoutKind::kPropose, 1, 0});
    prevotes(0, std::nullopt, {1, 2});  // line 44
    EXPECT_EQ(last_vote(VoteType::kPrecommit)->value_id, std::nullopt);
}

TEST_F(EngineTest, quorum_of_precommits_commits_with_a_verifying_certificate) {
    engine_->start(1);
    deliver(Message{proposal(1, 0, block_)});
    prevotes(0, id_, {1, 2});
    precommits(0, id_, {1, 2});  // line 49
    ASSERT_EQ(app_.commits.size(), 1U);
    EXPECT_EQ(app_.commits[0].first, 1U);
    EXPECT_EQ(app_.commits[0].second, block_);
    EXPECT_TRUE(verify_certificate(app_.certs[0], vs_, kTestChain).has_value());
    EXPECT_EQ(app_.certs[0].signatures.size(), 3U);
    EXPECT_EQ(engine_->height(), 2U);
    EXPECT_EQ(engine_->round(), 0);
    EXPECT_EQ(engine_->locked_round(), kNilRound);
}

TEST_F(EngineTest, decides_from_precommits_of_an_earlier_round) {
    engine_->start(1);
    deliver(Message{proposal(1, 0, block_)});
    engine_->on_timeout(Timeout{TimeoutKind::kPropose, 1, 0});
    precommits(0, std::nullopt, {3});
    precommits(1, std::nullopt, {1, 2});  // f+1 in round 1: skip there (line 55)
    EXPECT_EQ(engine_->round(), 1);
    precommits(0, id_, {1, 2, 3});  // round 0 still decides (line 49 holds for any round)
    ASSERT_EQ(app_.commits.size(), 1U);
    EXPECT_EQ(app_.certs[0].round, 0);
}

TEST_F(EngineTest, f_plus_one_messages_of_a_higher_round_skip_to_it) {
    engine_->start(1);
    deliver(Message{vote(2, VoteType::kPrevote, 5, std::nullopt)});
    EXPECT_EQ(engine_->round(), 0);
    deliver(Message{vote(3, VoteType::kPrecommit, 5, std::nullopt)});
    EXPECT_EQ(engine_->round(), 5);
    EXPECT_EQ(engine_->step(), Step::kPropose);
}

TEST_F(EngineTest, timeouts_grow_with_the_round) {
    engine_->start(1);
    deliver(Message{vote(2, VoteType::kPrevote, 4, std::nullopt)});
    deliver(Message{vote(3, VoteType::kPrevote, 4, std::nullopt)});
    ASSERT_EQ(engine_->round(), 4);
    const auto d0 = clock_.delay_of(TimeoutKind::kPropose, 0);
    const auto d3 = clock_.delay_of(TimeoutKind::kPropose, 4);
    ASSERT_TRUE(d0 && d3);
    EXPECT_GT(*d3, *d0);
    TimeoutConfig t;
    EXPECT_EQ(t.duration(TimeoutKind::kPrecommit, 2), t.precommit_ms + 2 * t.precommit_delta_ms);
}

TEST_F(EngineTest, locked_validator_prevotes_nil_for_another_value) {
    engine_->start(1);
    deliver(Message{proposal(1, 0, block_)});
    prevotes(0, id_, {1, 2});
    ASSERT_EQ(engine_->locked_round(), 0);
    precommits(0, std::nullopt, {1, 2});
    engine_->on_timeout(Timeout{TimeoutKind::kPrecommit, 1, 0});  // line 65
    ASSERT_EQ(engine_->round(), 1);
    deliver(Message{proposal(2, 1, other_)});  // line 22 with lockedValue != v
    const auto pv = last_vote(VoteType::kPrevote);
    EXPECT_EQ(pv->round, 1);
    EXPECT_EQ(pv->value_id, std::nullopt);
}

TEST_F(EngineTest, disabling_locking_makes_a_locked_validator_prevote_another_value) {
    engine_->test_disable_locking(true);
    engine_->start(1);
    deliver(Message{proposal(1, 0, block_)});
    prevotes(0, id_, {1, 2});
    precommits(0, std::nullopt, {1, 2});
    engine_->on_timeout(Timeout{TimeoutKind::kPrecommit, 1, 0});
    deliver(Message{proposal(2, 1, other_)});
    EXPECT_EQ(last_vote(VoteType::kPrevote)->value_id, other_id_);
}

TEST_F(EngineTest, locked_validator_follows_a_newer_proof_of_lock) {
    engine_->start(1);
    deliver(Message{proposal(1, 0, block_)});
    prevotes(0, id_, {1, 2});
    ASSERT_EQ(engine_->locked_round(), 0);
    precommits(0, std::nullopt, {1, 2});
    engine_->on_timeout(Timeout{TimeoutKind::kPrecommit, 1, 0});
    ASSERT_EQ(engine_->round(), 1);
    // Round 1: others saw 2f+1 prevotes for other_ (we prevoted nil and missed the proposal).
    prevotes(1, other_id_, {1, 2, 3});
    precommits(1, std::nullopt, {1, 2, 3});
    engine_->on_timeout(Timeout{TimeoutKind::kPropose, 1, 1});
    engine_->on_timeout(Timeout{TimeoutKind::kPrevote, 1, 1});
    engine_->on_timeout(Timeout{TimeoutKind::kPrecommit, 1, 1});
    ASSERT_EQ(engine_->round(), 2);
    // Round 2's proposer (3) re-proposes other_ with valid round 1: line 28, lockedRound 0 <= 1.
    deliver(Message{proposal(3, 2, other_, 1)});
    const auto pv = last_vote(VoteType::kPrevote);
    EXPECT_EQ(pv->round, 2);
    EXPECT_EQ(pv->value_id, other_id_);
}

TEST_F(EngineTest, proposal_with_valid_round_waits_for_its_proof_of_lock) {
    engine_->start(1);
    engine_->on_timeout(Timeout{TimeoutKind::kPropose, 1, 0});
    precommits(1, std::nullopt, {1, 2});  // skip to round 1 (proposer 2)
    ASSERT_EQ(engine_->round(), 1);
    deliver(Message{proposal(2, 1, block_, 0)});
    EXPECT_EQ(engine_->step(), Step::kPropose);  // no 2f+1 prevotes for it in round 0 yet
    prevotes(0, id_, {1, 2, 3});
    EXPECT_EQ(last_vote(VoteType::kPrevote)->round, 1);
    EXPECT_EQ(last_vote(VoteType::kPrevote)->value_id, id_);
}

TEST_F(EngineTest, equivocation_is_recorded_as_evidence) {
    engine_->start(1);
    deliver(Message{vote(2, VoteType::kPrevote, 0, id_)});
    deliver(Message{vote(2, VoteType::kPrevote, 0, other_id_)});
    ASSERT_EQ(engine_->evidence().size(), 1U);
    EXPECT_EQ(engine_->evidence()[0].validator_index, 2U);
    deliver(Message{proposal(1, 0, block_)});
    deliver(Message{proposal(1, 0, other_)});
    EXPECT_EQ(engine_->evidence().size(), 2U);
}

TEST_F(EngineTest, bad_signature_and_outsider_are_rejected_without_effect) {
    engine_->start(1);
    Vote v = vote(2, VoteType::kPrevote, 0, id_);
    v.value_id = other_id_;  // signature no longer matches: recovers another address
    EXPECT_FALSE(engine_->on_message(Message{v}).has_value());
    EXPECT_FALSE(engine_->on_message(Message{vote(7, VoteType::kPrevote, 0, id_)}).has_value());
    EXPECT_TRUE(engine_->evidence().empty());
}

TEST_F(EngineTest, answers_a_validator_behind_with_commit_messages) {
    engine_->start(1);
    deliver(Message{proposal(1, 0, block_)});
    prevotes(0, id_, {1, 2});
    precommits(0, id_, {1, 2});
    ASSERT_EQ(engine_->height(), 2U);
    deliver(Message{vote(3, VoteType::kPrevote, 4, std::nullopt, 1)});  // 3 is still at 1
    ASSERT_EQ(transport_.sent.size(), 1U);
    EXPECT_EQ(transport_.sent[0].first, testing::test_address(3));
    const auto& c = std::get<CommitMessage>(transport_.sent[0].second);
    EXPECT_EQ(c.certificate.height, 1U);
    EXPECT_EQ(c.payload, block_);
    // Rate limited: the same question right away gets no second answer.
    deliver(Message{vote(3, VoteType::kPrecommit, 4, std::nullopt, 1)});
    EXPECT_EQ(transport_.sent.size(), 1U);
}

TEST_F(EngineTest, catchup_answer_is_bounded_by_count_and_bytes) {
    // Decided heights 1..99 (as a restarted store would hold them); we are at 100.
    for (Height h = 1; h < 100; ++h) {
        app_.commits.emplace_back(h, Bytes{0xb0, static_cast<uint8_t>(h)});
        app_.certs.push_back(CommitCertificate{h, 0, value_id_of(app_.commits.back().second), {}});
    }
    engine_->start(100);
    deliver(Message{vote(3, VoteType::kPrevote, 0, std::nullopt, 10)});
    ASSERT_EQ(transport_.sent.size(), Engine::kCatchupBatch);
    for (size_t i = 0; i < transport_.sent.size(); ++i) {
        EXPECT_EQ(std::get<CommitMessage>(transport_.sent[i].second).certificate.height, 10 + i);
    }
    // Big blocks: the answer stops once it holds kCatchupBytes.
    const size_t big = Engine::kCatchupBytes / 3 + 1;
    for (auto& [h, payload] : app_.commits) {
        if (h >= 20 && h < 25) payload.assign(big, 0xb0);
    }
    transport_.sent.clear();
    deliver(Message{vote(3, VoteType::kPrevote, 0, std::nullopt, 20)});
    EXPECT_EQ(transport_.sent.size(), 3U);
}

TEST_F(EngineTest, commit_message_with_a_valid_certificate_decides) {
    engine_->start(1);
    CommitCertificate cert{1, 3, id_, {}};
    for (size_t i : {size_t{1}, size_t{2}, size_t{3}}) {
        cert.signatures.push_back(vote(i, VoteType::kPrecommit, 3, id_).signature);
    }
    CommitCertificate weak = cert;
    weak.signatures.pop_back();
    auto r = engine_->on_message(Message{CommitMessage{weak, block_}});
    ASSERT_FALSE(r.has_value());
    EXPECT_TRUE(app_.commits.empty());
    deliver(Message{CommitMessage{cert, block_}});
    ASSERT_EQ(app_.commits.size(), 1U);
    EXPECT_EQ(engine_->height(), 2U);
}

TEST_F(EngineTest, messages_of_the_next_height_are_replayed_on_arrival) {
    engine_->start(1);
    // Height 2's proposer for round 0 is validator 2; its proposal arrives early.
    deliver(Message{proposal(2, 0, other_, kNilRound, 2)});
    deliver(Message{proposal(1, 0, block_)});
    prevotes(0, id_, {1, 2});
    precommits(0, id_, {1, 2});
    ASSERT_EQ(engine_->height(), 2U);
    const auto pv = last_vote(VoteType::kPrevote);
    EXPECT_EQ(pv->height, 2U);
    EXPECT_EQ(pv->value_id, other_id_);
}

TEST_F(EngineTest, rebroadcast_resends_own_messages) {
    engine_->start(1);
    deliver(Message{proposal(1, 0, block_)});
    const size_t before = transport_.broadcasts.size();
    ASSERT_EQ(before, 1U);  // our prevote
    engine_->on_timeout(Timeout{TimeoutKind::kRebroadcast, 1, 0});
    EXPECT_EQ(transport_.broadcasts.size(), 2U);
    EXPECT_TRUE(std::holds_alternative<Vote>(transport_.broadcasts[1]));
}

// Regression (simulator seed 1954): a validator that moved to a round on the evidence of a
// validator that then crashed must pass that evidence on, or the others never follow it.
TEST_F(EngineTest, rebroadcast_relays_the_votes_that_moved_us_to_our_round) {
    engine_->start(1);
    deliver(Message{vote(2, VoteType::kPrevote, 1, std::nullopt)});
    deliver(Message{vote(3, VoteType::kPrecommit, 1, std::nullopt)});
    ASSERT_EQ(engine_->round(), 1);
    transport_.broadcasts.clear();
    engine_->on_timeout(Timeout{TimeoutKind::kRebroadcast, 1, 0});
    bool relayed2 = false;
    bool relayed3 = false;
    for (const auto& m : transport_.broadcasts) {
        if (const auto* v = std::get_if<Vote>(&m)) {
            relayed2 |= *v == vote(2, VoteType::kPrevote, 1, std::nullopt);
            relayed3 |= *v == vote(3, VoteType::kPrecommit, 1, std::nullopt);
        }
    }
    EXPECT_TRUE(relayed2);
    EXPECT_TRUE(relayed3);
}

TEST_F(EngineTest, validates_each_value_once_per_height) {
    engine_->start(1);
    deliver(Message{proposal(1, 0, block_)});
    prevotes(0, id_, {1, 2});
    EXPECT_EQ(app_.validations, 1U);
}

}  // namespace
}  // namespace pel::consensus
