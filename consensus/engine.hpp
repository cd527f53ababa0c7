// SPDX-License-Identifier: Apache-2.0
// The Tendermint BFT engine (Buchman, Kwon, Milosevic, "The latest gossip on BFT consensus",
// 2018, Algorithm 1) as a pure state machine over the Transport, Clock and Application ports
// (ports.hpp). With n validators of which at most f (power below 1/3) are Byzantine it never
// decides two different values at one height (safety, through the locking rules), and once
// messages get through it decides (liveness, through timeouts that grow with the round).
//
// Driving it: construct with make_engine, call start(height) once, then feed every message
// received from the network to on_message() and every timeout the Clock delivers to
// on_timeout(). The engine reacts by calling the ports. It processes its own messages directly.
//
// Differences from the paper, all liveness aids under message loss (the paper assumes reliable
// delivery after GST):
//  - every rebroadcast_ms the engine re-broadcasts its own votes of the current height, its
//    proposal of the current round, every vote it holds (others' too) of the current and the
//    previous round (the evidence that moved it to its round: without it a validator that saw a
//    now-crashed validator's vote could move on alone and leave the others behind for good),
//    and the 2f+1 prevotes that justify its valid value (the "proof of lock" of validRound: the
//    paper's line 28 needs them at every validator, and their signers may have crashed since);
//    a proposer re-proposing its valid value sends that proof along with the proposal;
//  - a signed message of an older height from validator X is answered by sending X the Commit
//    messages (value + certificate) of that height and the next few, from Application::decided;
//  - messages of the next kFutureHeights heights are verified, buffered (bounded in count and
//    bytes) and replayed on arrival at their height.
//
// Invariants (between two calls into the engine):
//  - locked_round_ == kNilRound iff locked_value_ is empty; the same for valid_round_/valid_value_;
//    locked_round_ <= valid_round_ <= round_;
//  - every RoundState's vote sets hold only verified votes of height_ (VoteSet invariants);
//  - a RoundState's proposal, if set, is the first verified proposal of proposer(height_, round);
//  - decisions are made for heights in strictly increasing order, one per height;
//  - the local queue is empty (own messages have been applied).
// Thread safety: none. The engine is single-threaded by design: one thread (the node's consensus
// strand, or the simulator's loop) makes every call; the ports are called on that thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "consensus/message.hpp"
#include "consensus/ports.hpp"
#include "consensus/signature_cache.hpp"
#include "consensus/validator_set.hpp"
#include "consensus/vote_set.hpp"

namespace pel::consensus {

/// Timeout durations. timeoutX(r) = x_ms + r * x_delta_ms (linear growth with the round, as in
/// the paper, so that after GST some round lasts long enough for everyone to hear everyone).
struct TimeoutConfig {
    uint64_t propose_ms = 1000;
    uint64_t propose_delta_ms = 500;
    uint64_t prevote_ms = 500;
    uint64_t prevote_delta_ms = 250;
    uint64_t precommit_ms = 500;
    uint64_t precommit_delta_ms = 250;
    uint64_t rebroadcast_ms = 1000;

    [[nodiscard]] uint64_t duration(TimeoutKind kind, Round round) const noexcept;
};

struct EngineConfig {
    uint64_t chain_id = 0;
    ValidatorSet validators;
    Hash32 secret_key;  ///< this validator's key; its address must be in `validators`
    TimeoutConfig timeouts;
};

/// Evidence of a validator signing two conflicting messages (votes or proposals) at one
/// height/round/type. Kept for the node to report; the engine just ignores the second message.
struct Evidence {
    size_t validator_index = 0;
    Message first;
    Message second;
};

class Engine {
  public:
    /// Heights ahead of the current one whose messages are buffered.
    static constexpr Height kFutureHeights = 8;
    /// Messages buffered per future height (beyond that, later ones are dropped).
    static constexpr size_t kFutureMessagesPerHeight = 1024;
    /// Payload bytes buffered over all future heights (proposals and commits).
    static constexpr size_t kFutureBytes = size_t{64} << 20;
    /// Evidence entries kept until the host takes them (take_evidence); later ones are dropped.
    static constexpr size_t kMaxEvidence = 1024;
    /// Rounds ahead of the current one for which messages are accepted.
    static constexpr Round kMaxRoundsAhead = 1000;
    /// Commit messages sent in one answer to a validator that is behind. A restarted node catches
    /// up by one batch per message of its own (the node's host announces a new height at once),
    /// so this bounds the catch-up rate from above by batch / round trip; blocks are at most
    /// kMaxPayloadSize, and an answer stops early once it holds kCatchupBytes of payload (so
    /// that a batch of big blocks fits a peer's bounded send queue).
    static constexpr Height kCatchupBatch = 64;
    static constexpr size_t kCatchupBytes = size_t{16} << 20;

    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;
    ~Engine();

    /// Starts consensus at `height` (last committed block_num + 1), round 0. Call once.
    void start(Height height);

    /// Handles a message from the network. Errors (the message is then ignored and nothing
    /// changed): a bad signature, a signer that is not a validator, a proposal not from the
    /// round's proposer, an invalid certificate, a round too far ahead. Old, duplicate and
    /// conflicting (equivocating) messages are not errors: they are handled and return success.
    [[nodiscard]] Result<void> on_message(const Message& msg);

    /// Handles a timeout previously requested through Clock::schedule. Stale ones are ignored.
    void on_timeout(const Timeout& t);

    [[nodiscard]] Height height() const noexcept { return height_; }
    [[nodiscard]] Round round() const noexcept { return round_; }
    [[nodiscard]] Step step() const noexcept { return step_; }
    [[nodiscard]] Round locked_round() const noexcept { return locked_round_; }
    [[nodiscard]] std::optional<Hash32> locked_value_id() const noexcept;
    [[nodiscard]] Round valid_round() const noexcept { return valid_round_; }
    [[nodiscard]] size_t index() const noexcept { return index_; }
    [[nodiscard]] const Address& address() const noexcept { return address_; }
    /// Equivocations seen so far (at most kMaxEvidence are kept).
    [[nodiscard]] const std::vector<Evidence>& evidence() const noexcept { return evidence_; }
    /// Hands the evidence collected so far to the host (to log or report) and clears it.
    [[nodiscard]] std::vector<Evidence> take_evidence() noexcept { return std::move(evidence_); }
    [[nodiscard]] const ValidatorSet& validators() const noexcept { return cfg_.validators; }

    /// TEST ONLY: disables the locking rules (a validator then prevotes for any valid proposal,
    /// whatever it is locked on). This is a deliberate safety bug: the simulator's tests use it to
    /// prove they can find forks. Never set outside tests.
    void test_disable_locking(bool disabled) noexcept { test_no_locking_ = disabled; }

    friend Result<std::unique_ptr<Engine>> make_engine(EngineConfig cfg, Transport& transport,
                                                       Clock& clock, Application& app,
                                                       SignatureCache* shared_cache);

  private:
    struct Value {
        Bytes payload;
        Hash32 id;
    };
    struct RoundState {
        RoundState(const ValidatorSet& vs, Height h, Round r);
        std::optional<Proposal> proposal;
        VoteSet prevotes;
        VoteSet precommits;
        std::vector<bool> senders;  // validators heard from in this round (rule 55)
        uint64_t sender_power = 0;
        bool prevote_timeout_scheduled = false;    // rule 34's "for the first time"
        bool precommit_timeout_scheduled = false;  // rule 47's "for the first time"
        bool rule36_done = false;                  // rule 36's "for the first time"
    };

    Engine(EngineConfig cfg, Transport& transport, Clock& clock, Application& app,
           SignatureCache* shared_cache, size_t index, Address address);

    RoundState& round_state(Round r);
    void start_round(Round r);
    void enter_height(Height h);
    void emit(Message msg);
    void drain();
    void apply(size_t sender, const Message& msg);
    void run_rules();
    bool try_decide();
    bool try_skip_round();
    bool valid(const Proposal& p);
    bool locked_allows(const Hash32& id, Round vr) const noexcept;
    void prevote(const std::optional<Hash32>& id);
    void precommit(const std::optional<Hash32>& id);
    void decide(Bytes payload, const CommitCertificate& cert);
    void schedule(TimeoutKind kind, Round r);
    Result<size_t> signer_index(const Message& msg);
    void answer_old_height(size_t sender, Height their_height);
    Result<void> handle_commit(const CommitMessage& c);
    void buffer_future(Height h, const Message& msg, size_t payload_bytes);
    void add_evidence(Evidence e);
    void send_proof_of_lock();
    void rebroadcast();

    EngineConfig cfg_;
    Transport& transport_;
    Clock& clock_;
    Application& app_;
    std::unique_ptr<SignatureCache> own_cache_;
    SignatureCache* cache_;
    size_t index_;
    Address address_;

    bool started_ = false;
    Height height_ = 0;
    Round round_ = 0;
    Step step_ = Step::kPropose;
    std::optional<Value> locked_value_;
    Round locked_round_ = kNilRound;
    std::optional<Value> valid_value_;
    Round valid_round_ = kNilRound;

    std::map<Round, RoundState> rounds_;
    std::map<Hash32, bool> validity_;                        // valid(v) memo for this height
    std::vector<Message> own_messages_;                      // this height's, for re-broadcast
    std::deque<Message> local_;                              // own messages not yet applied
    std::map<Height, std::vector<Message>> future_;          // verified messages of later heights
    size_t future_bytes_ = 0;                                // payload bytes in future_
    std::vector<std::pair<Height, uint64_t>> last_catchup_;  // per validator: height, time sent
    std::vector<Evidence> evidence_;
    bool test_no_locking_ = false;
    bool in_call_ = false;
};

/// Builds an engine. Errors: the key is invalid or its address is not in the validator set.
/// `shared_cache` (optional, may be shared by engines on one thread) memoises signer recovery;
/// without one the engine uses its own. Ports and cache must outlive the engine.
[[nodiscard]] Result<std::unique_ptr<Engine>> make_engine(EngineConfig cfg, Transport& transport,
                                                          Clock& clock, Application& app,
                                                          SignatureCache* shared_cache = nullptr);

}  // namespace pel::consensus
