// SPDX-License-Identifier: Apache-2.0
// Rule numbers in comments are the line numbers of Algorithm 1 in the Tendermint paper.
#include "consensus/engine.hpp"

#include <type_traits>
#include <utility>

#include "consensus/certificate.hpp"

namespace pel::consensus {

uint64_t TimeoutConfig::duration(TimeoutKind kind, Round round) const noexcept {
    const auto r = static_cast<uint64_t>(round < 0 ? 0 : round);
    switch (kind) {
        case TimeoutKind::kPropose:
            return propose_ms + r * propose_delta_ms;
        case TimeoutKind::kPrevote:
            return prevote_ms + r * prevote_delta_ms;
        case TimeoutKind::kPrecommit:
            return precommit_ms + r * precommit_delta_ms;
        case TimeoutKind::kRebroadcast:
            return rebroadcast_ms;
    }
    return propose_ms;
}

Engine::RoundState::RoundState(const ValidatorSet& vs, Height h, Round r)
    : prevotes(vs, VoteType::kPrevote, h, r),
      precommits(vs, VoteType::kPrecommit, h, r),
      senders(vs.size(), false) {}

Result<std::unique_ptr<Engine>> make_engine(EngineConfig cfg, Transport& transport, Clock& clock,
                                            Application& app, SignatureCache* shared_cache) {
    if (cfg.validators.size() == 0) {
        return make_error("consensus: engine needs a non-empty validator set");
    }
    PEL_TRY(const Address address, crypto::address_from_secret(cfg.secret_key));
    const auto index = cfg.validators.index_of(address);
    if (!index) {
        return make_error("consensus: key ", address.to_hex(), " is not a validator's");
    }
    return std::unique_ptr<Engine>(
        new Engine(std::move(cfg), transport, clock, app, shared_cache, *index, address));
}

Engine::Engine(EngineConfig cfg, Transport& transport, Clock& clock, Application& app,
               SignatureCache* shared_cache, size_t index, Address address)
    : cfg_(std::move(cfg)),
      transport_(transport),
      clock_(clock),
      app_(app),
      own_cache_(shared_cache == nullptr ? std::make_unique<SignatureCache>() : nullptr),
      cache_(shared_cache == nullptr ? own_cache_.get() : shared_cache),
      index_(index),
      address_(address),
      last_catchup_(cfg_.validators.size(), {0, 0}) {}

Engine::~Engine() = default;

std::optional<Hash32> Engine::locked_value_id() const noexcept {
    if (!locked_value_) return std::nullopt;
    return locked_value_->id;
}

Engine::RoundState& Engine::round_state(Round r) {
    auto it = rounds_.find(r);
    if (it == rounds_.end()) {
        it = rounds_.try_emplace(r, cfg_.validators, height_, r).first;
    }
    return it->second;
}

void Engine::schedule(TimeoutKind kind, Round r) {
    clock_.schedule(Timeout{kind, height_, r}, cfg_.timeouts.duration(kind, r));
}

void Engine::start(Height height) {
    PEL_ASSERT(!started_, "Engine::start called twice");
    started_ = true;
    in_call_ = true;
    clock_.schedule(Timeout{TimeoutKind::kRebroadcast, height, 0}, cfg_.timeouts.rebroadcast_ms);
    enter_height(height);
    drain();
    in_call_ = false;
}

void Engine::enter_height(Height h) {
    height_ = h;
    rounds_.clear();
    validity_.clear();
    own_messages_.clear();
    local_.clear();
    locked_value_.reset();
    locked_round_ = kNilRound;
    valid_value_.reset();
    valid_round_ = kNilRound;
    start_round(0);
    // Replay what arrived early for this height (signatures are checked now).
    std::vector<Message> early;
    if (auto it = future_.find(h); it != future_.end()) {
        early = std::move(it->second);
    }
    future_.erase(future_.begin(), future_.upper_bound(h));
    future_bytes_ = 0;
    for (const auto& [fh, q] : future_) {
        for (const auto& m : q) {
            if (const auto* p = std::get_if<Proposal>(&m)) future_bytes_ += p->payload.size();
            if (const auto* c = std::get_if<CommitMessage>(&m)) future_bytes_ += c->payload.size();
        }
    }
    for (const auto& m : early) {
        if (height_ != h) break;  // a replayed Commit moved us on; the rest is stale
        static_cast<void>(on_message(m));
    }
}

// StartRound(round), line 11.
void Engine::start_round(Round r) {
    round_ = r;
    step_ = Step::kPropose;
    if (cfg_.validators.proposer(height_, r) == index_) {
        Bytes payload;
        if (valid_value_) {
            payload = valid_value_->payload;
        } else {
            auto proposed = app_.propose(height_);
            if (!proposed) {
                // Nothing to propose: behave as if the proposal were lost.
                schedule(TimeoutKind::kPropose, r);
                return;
            }
            payload = std::move(*proposed);
        }
        auto p = make_proposal(cfg_.chain_id, cfg_.secret_key, height_, r, std::move(payload),
                               valid_round_);
        PEL_ASSERT(p.has_value(), "signing our own proposal failed");
        validity_[p->value_id] = true;  // we built it (or it was already found valid)
        emit(Message{std::move(*p)});
        send_proof_of_lock();
    } else {
        schedule(TimeoutKind::kPropose, r);
    }
}

void Engine::rebroadcast() {
    // Every vote we hold for the current and the previous round, ours and others'. Our round
    // was entered on evidence (f+1 messages of it, line 55, or 2f+1 precommits of the previous
    // round, lines 47 and 65) that may have come from a validator that has crashed since;
    // relaying it lets every honest validator follow us (the paper gets this from gossip).
    const Round from = round_ > 0 ? round_ - 1 : 0;
    for (auto it = rounds_.lower_bound(from); it != rounds_.end() && it->first <= round_; ++it) {
        for (const VoteSet* set : {&it->second.prevotes, &it->second.precommits}) {
            for (auto& v : set->all_votes()) transport_.broadcast(Message{std::move(v)});
        }
    }
    for (const auto& m : own_messages_) {
        // Our votes of older rounds (those of the last two went above). Proposals carry whole
        // blocks: only the current round's is repeated; an older one is only needed to decide
        // its round, and whoever decided it answers us with a Commit message instead.
        if (const auto* p = std::get_if<Proposal>(&m)) {
            if (p->round == round_) transport_.broadcast(m);
        } else if (std::get<Vote>(m).round < from) {
            transport_.broadcast(m);
        }
    }
}

void Engine::send_proof_of_lock() {
    if (valid_round_ == kNilRound || !valid_value_) return;
    const auto it = rounds_.find(valid_round_);
    if (it == rounds_.end()) return;
    for (auto& v : it->second.prevotes.votes_for(valid_value_->id)) {
        transport_.broadcast(Message{std::move(v)});
    }
}

void Engine::emit(Message msg) {
    transport_.broadcast(msg);
    own_messages_.push_back(msg);
    local_.push_back(std::move(msg));
}

void Engine::drain() {
    for (;;) {
        run_rules();
        if (local_.empty()) return;
        Message m = std::move(local_.front());
        local_.pop_front();
        const bool current = std::visit(
            [&](const auto& x) {
                if constexpr (std::is_same_v<std::decay_t<decltype(x)>, CommitMessage>) {
                    return false;
                } else {
                    return x.height == height_;
                }
            },
            m);
        if (current) apply(index_, m);
    }
}

void Engine::prevote(const std::optional<Hash32>& id) {
    auto v = make_vote(cfg_.chain_id, cfg_.secret_key, VoteType::kPrevote, height_, round_, id);
    PEL_ASSERT(v.has_value(), "signing our own prevote failed");
    emit(Message{std::move(*v)});
    step_ = Step::kPrevote;
}

void Engine::precommit(const std::optional<Hash32>& id) {
    auto v = make_vote(cfg_.chain_id, cfg_.secret_key, VoteType::kPrecommit, height_, round_, id);
    PEL_ASSERT(v.has_value(), "signing our own precommit failed");
    emit(Message{std::move(*v)});
    step_ = Step::kPrecommit;
}

bool Engine::valid(const Proposal& p) {
    if (auto it = validity_.find(p.value_id); it != validity_.end()) return it->second;
    const bool ok = app_.validate(height_, p.payload).has_value();
    validity_[p.value_id] = ok;
    return ok;
}

// The lock condition of lines 23 and 29: lockedRound <= vr or lockedValue = v (vr = -1 for
// line 23, where the condition reads lockedRound = -1 or lockedValue = v).
bool Engine::locked_allows(const Hash32& id, Round vr) const noexcept {
    if (test_no_locking_) return true;
    return locked_round_ <= vr || (locked_value_ && locked_value_->id == id);
}

Result<size_t> Engine::signer_index(const Message& msg) {
    Hash32 digest;
    const crypto::Signature* sig = nullptr;
    if (const auto* p = std::get_if<Proposal>(&msg)) {
        digest = proposal_digest(cfg_.chain_id, p->height, p->round, p->value_id, p->valid_round);
        sig = &p->signature;
    } else {
        const auto& v = std::get<Vote>(msg);
        digest = vote_digest(cfg_.chain_id, v.type, v.height, v.round, v.value_id);
        sig = &v.signature;
    }
    PEL_TRY(const Address signer, cache_->recover(digest, *sig));
    const auto idx = cfg_.validators.index_of(signer);
    if (!idx) {
        return make_error("consensus: ", to_string(type_of(msg)), " signed by ", signer.to_hex(),
                          ", not a validator");
    }
    return *idx;
}

void Engine::buffer_future(Height h, const Message& msg, size_t payload_bytes) {
    if (h > height_ + kFutureHeights || future_bytes_ + payload_bytes > kFutureBytes) return;
    auto& q = future_[h];
    if (q.size() >= kFutureMessagesPerHeight) return;
    q.push_back(msg);
    future_bytes_ += payload_bytes;
}

void Engine::add_evidence(Evidence e) {
    if (evidence_.size() < kMaxEvidence) evidence_.push_back(std::move(e));
}

Result<void> Engine::on_message(const Message& msg) {
    PEL_ASSERT(started_, "Engine::on_message before start");
    const bool outer = !in_call_;
    in_call_ = true;
    struct Reset {
        bool* flag;
        bool active;
        ~Reset() {
            if (active) *flag = false;
        }
    } reset{&in_call_, outer};

    if (const auto* c = std::get_if<CommitMessage>(&msg)) {
        auto r = handle_commit(*c);
        if (outer) drain();
        return r;
    }
    const auto* proposal = std::get_if<Proposal>(&msg);
    const Height h = proposal != nullptr ? proposal->height : std::get<Vote>(msg).height;
    const Round r = proposal != nullptr ? proposal->round : std::get<Vote>(msg).round;
    if (h > height_ + kFutureHeights) return {};  // too far ahead to keep; it will come again
    if (h == height_ && r > round_ + kMaxRoundsAhead) {
        return make_error("consensus: round ", r, " is too far ahead of our round ", round_);
    }
    // Verify before anything else, so that only validators' messages are buffered or answered.
    PEL_TRY(const size_t sender, signer_index(msg));
    if (proposal != nullptr && cfg_.validators.proposer(h, r) != sender) {
        return make_error("consensus: proposal for height ", h, " round ", r, " from validator ",
                          sender, ", not the proposer");
    }
    if (h < height_) {
        answer_old_height(sender, h);
        return {};
    }
    if (h > height_) {
        buffer_future(h, msg, proposal != nullptr ? proposal->payload.size() : 0);
        return {};
    }
    apply(sender, msg);
    if (outer) drain();
    return {};
}

void Engine::apply(size_t sender, const Message& msg) {
    if (const auto* p = std::get_if<Proposal>(&msg)) {
        RoundState& rs = round_state(p->round);
        if (!rs.proposal) {
            rs.proposal = *p;
        } else if (rs.proposal->value_id != p->value_id ||
                   rs.proposal->valid_round != p->valid_round) {
            add_evidence(Evidence{sender, Message{*rs.proposal}, msg});
        }
        if (!rs.senders[sender]) {
            rs.senders[sender] = true;
            rs.sender_power += cfg_.validators.at(sender).power;
        }
        return;
    }
    const auto& v = std::get<Vote>(msg);
    RoundState& rs = round_state(v.round);
    VoteSet& set = v.type == VoteType::kPrevote ? rs.prevotes : rs.precommits;
    Equivocation eq;
    if (set.add(sender, v, &eq) == VoteSet::AddResult::kEquivocation) {
        add_evidence(Evidence{sender, Message{eq.first}, Message{eq.second}});
    }
    if (!rs.senders[sender]) {
        rs.senders[sender] = true;
        rs.sender_power += cfg_.validators.at(sender).power;
    }
}

void Engine::answer_old_height(size_t sender, Height their_height) {
    if (sender == index_) return;
    auto& [last_h, last_t] = last_catchup_[sender];
    const uint64_t now = clock_.now_ms();
    if (last_h == their_height && last_t != 0 && now < last_t + cfg_.timeouts.rebroadcast_ms) {
        return;  // answered recently; they re-broadcast, so we will hear again if it got lost
    }
    last_h = their_height;
    last_t = now == 0 ? 1 : now;
    const Address& to = cfg_.validators.at(sender).address;
    size_t bytes = 0;
    for (Height h = their_height; h < height_ && h < their_height + kCatchupBatch; ++h) {
        if (bytes >= kCatchupBytes)
            break;  // big blocks: fewer per answer (send queues are bounded)
        auto d = app_.decided(h);
        if (!d) break;
        bytes += d->payload.size();
        transport_.send(to,
                        Message{CommitMessage{std::move(d->certificate), std::move(d->payload)}});
    }
}

Result<void> Engine::handle_commit(const CommitMessage& c) {
    const Height h = c.certificate.height;
    if (h < height_ || h > height_ + kFutureHeights) return {};
    if (h > height_) {
        if (auto it = future_.find(h); it != future_.end()) {
            for (const auto& m : it->second) {
                if (std::holds_alternative<CommitMessage>(m)) return {};  // one is enough
            }
        }
    }
    PEL_TRY_VOID(verify_certificate(c.certificate, cfg_.validators, cfg_.chain_id, cache_));
    if (h > height_) {
        buffer_future(h, Message{c}, c.payload.size());
        return {};
    }
    if (value_id_of(c.payload) != c.certificate.value_id) {
        return make_error("consensus: commit payload does not match its certificate");
    }
    if (auto it = validity_.find(c.certificate.value_id); it == validity_.end() || !it->second) {
        if (!app_.validate(height_, c.payload)) {
            // 2f+1 precommits mean at least one honest validator found it valid: with a
            // deterministic validate() this is only possible if more than f are faulty.
            validity_[c.certificate.value_id] = false;
            return make_error("consensus: certified value at height ", h, " fails our validation");
        }
        validity_[c.certificate.value_id] = true;
    }
    decide(c.payload, c.certificate);
    return {};
}

void Engine::on_timeout(const Timeout& t) {
    PEL_ASSERT(started_, "Engine::on_timeout before start");
    in_call_ = true;
    switch (t.kind) {
        case TimeoutKind::kRebroadcast:
            rebroadcast();
            send_proof_of_lock();
            clock_.schedule(Timeout{TimeoutKind::kRebroadcast, height_, round_},
                            cfg_.timeouts.rebroadcast_ms);
            break;
        case TimeoutKind::kPropose:  // OnTimeoutPropose, line 57
            if (t.height == height_ && t.round == round_ && step_ == Step::kPropose) {
                prevote(std::nullopt);
            }
            break;
        case TimeoutKind::kPrevote:  // OnTimeoutPrevote, line 61
            if (t.height == height_ && t.round == round_ && step_ == Step::kPrevote) {
                precommit(std::nullopt);
            }
            break;
        case TimeoutKind::kPrecommit:  // OnTimeoutPrecommit, line 65
            if (t.height == height_ && t.round == round_) {
                start_round(round_ + 1);
            }
            break;
    }
    drain();
    in_call_ = false;
}

void Engine::decide(Bytes payload, const CommitCertificate& cert) {
    PEL_ASSERT(cert.height == height_, "deciding a height other than the current one");
    app_.commit(height_, payload, cert);
    enter_height(height_ + 1);
}

// Line 49: upon <PROPOSAL, h, r, v, *> from proposer(h, r) and 2f+1 <PRECOMMIT, h, r, id(v)>
// while decision[h] = nil: if valid(v), decide v. Checked for every round of the height.
bool Engine::try_decide() {
    for (auto& [r, rs] : rounds_) {
        if (!rs.proposal || !rs.precommits.has_quorum_for(rs.proposal->value_id)) continue;
        if (!valid(*rs.proposal)) continue;
        CommitCertificate cert{height_, r, rs.proposal->value_id,
                               rs.precommits.signatures_for(rs.proposal->value_id)};
        Bytes payload = rs.proposal->payload;
        decide(std::move(payload), cert);
        return true;
    }
    return false;
}

// Line 55: upon f+1 messages <*, h, round, *, *> with round > round_p: StartRound(round).
bool Engine::try_skip_round() {
    for (auto it = rounds_.rbegin(); it != rounds_.rend() && it->first > round_; ++it) {
        if (it->second.sender_power >= cfg_.validators.skip_power()) {
            start_round(it->first);
            return true;
        }
    }
    return false;
}

void Engine::run_rules() {
    for (;;) {
        if (try_decide() || try_skip_round()) continue;
        RoundState& rs = round_state(round_);
        bool changed = false;
        const Proposal* p = rs.proposal ? &*rs.proposal : nullptr;

        if (p != nullptr && step_ == Step::kPropose) {
            if (p->valid_round == kNilRound) {
                // Line 22.
                if (valid(*p) && locked_allows(p->value_id, kNilRound)) {
                    prevote(p->value_id);
                } else {
                    prevote(std::nullopt);
                }
                changed = true;
            } else if (p->valid_round < round_) {
                // Line 28: needs 2f+1 prevotes for v in the proposal's valid round.
                auto vr_it = rounds_.find(p->valid_round);
                if (vr_it != rounds_.end() && vr_it->second.prevotes.has_quorum_for(p->value_id)) {
                    if (valid(*p) && locked_allows(p->value_id, p->valid_round)) {
                        prevote(p->value_id);
                    } else {
                        prevote(std::nullopt);
                    }
                    changed = true;
                }
            }
        }
        // Line 34.
        if (step_ == Step::kPrevote && !rs.prevote_timeout_scheduled &&
            rs.prevotes.has_quorum_any()) {
            rs.prevote_timeout_scheduled = true;
            schedule(TimeoutKind::kPrevote, round_);
        }
        // Line 36.
        if (p != nullptr && step_ >= Step::kPrevote && !rs.rule36_done &&
            rs.prevotes.has_quorum_for(p->value_id) && valid(*p)) {
            rs.rule36_done = true;
            if (step_ == Step::kPrevote) {
                if (!test_no_locking_) {
                    locked_value_ = Value{p->payload, p->value_id};
                    locked_round_ = round_;
                }
                precommit(p->value_id);
            }
            valid_value_ = Value{p->payload, p->value_id};
            valid_round_ = round_;
            changed = true;
        }
        // Line 44.
        if (step_ == Step::kPrevote && rs.prevotes.has_quorum_for(std::nullopt)) {
            precommit(std::nullopt);
            changed = true;
        }
        // Line 47.
        if (!rs.precommit_timeout_scheduled && rs.precommits.has_quorum_any()) {
            rs.precommit_timeout_scheduled = true;
            schedule(TimeoutKind::kPrecommit, round_);
        }
        if (!changed) return;
    }
}

}  // namespace pel::consensus
