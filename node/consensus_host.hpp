// SPDX-License-Identifier: Apache-2.0
// The consensus host: runs consensus::Engine on one thread of its own and connects its ports to
// the node. Transport = net::Network (kConsensus gossip), Clock = steady_clock milliseconds plus a
// timer heap, Application = the node's block builder/validator/store (node.cpp).
//
// Events reach the engine through one queue: consensus messages from the network's I/O threads
// (decoded there: undecodable ones are logged at debug and dropped), timeouts that fall due, and
// stop. Before an own Proposal or Vote leaves, the double-sign guard (SignMark) persists its
// (height, round); after a restart, own messages at or below the mark read at startup are
// suppressed, so a validator that crashed after voting cannot sign a conflicting message for the
// same round.
//
// Catch-up: a validator that is behind learns it from the heights of messages it receives (kept as
// max_seen_height); when a Commit message from a peer moves it to a new height while others are
// still ahead, or when others are two or more heights ahead, the host fires the current round's
// propose timeout at once (once per height and round), so that its nil prevote (a message of its
// height) asks the others for the next batch of commits (Engine::kCatchupBatch) without waiting
// for the timeout. A timeout is a liveness device: firing it early never affects safety.
//
// Thread safety / Invariants:
//  - The engine, the transport and clock adapters and the sign mark are used only on the
//    consensus thread (after start() and before stop() returns).
//  - mu_ guards events_, timers_, stopping_ and status_; it is never held while the engine,
//    the application or the network is called (the network may call post() from inside send()).
//  - Timers are never cancelled (the engine ignores stale ones); the heap holds at most a few per
//    round.
//  - status() may be called from any thread; it returns a copy taken after the last event.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <queue>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "consensus/engine.hpp"
#include "consensus/ports.hpp"
#include "net/network.hpp"
#include "primitives/result.hpp"

namespace pel::node {

/// The double-sign guard: the highest (height, round) at which this validator signed, in a small
/// file (written to a temporary file, fsynced, renamed). Not thread safe (consensus thread only).
class SignMark {
  public:
    /// Reads the mark file (a missing file is "never signed"). Error: unreadable or corrupt file.
    [[nodiscard]] static Result<SignMark> open(const std::string& path);

    /// Whether an own message at (h, r) may be sent: false when (h, r) <= the mark read at
    /// startup (logged once). Otherwise persists (h, r) first when it is above the current mark.
    /// Error: the mark could not be written (the message must not be sent).
    [[nodiscard]] Result<bool> allow(consensus::Height h, consensus::Round r);

    /// The mark read at open(), nullopt if none.
    [[nodiscard]] std::optional<std::pair<consensus::Height, consensus::Round>> startup_mark()
        const {
        return startup_;
    }
    [[nodiscard]] uint64_t suppressed() const { return suppressed_; }

  private:
    std::string path_;
    std::optional<std::pair<consensus::Height, consensus::Round>> startup_;
    std::optional<std::pair<consensus::Height, consensus::Round>> current_;
    uint64_t suppressed_ = 0;
    bool logged_ = false;
};

/// What pel_consensusStatus reports.
struct HostStatus {
    consensus::Height height = 0;
    consensus::Round round = 0;
    consensus::Step step = consensus::Step::kPropose;
    size_t validators = 0;
    bool proposer = false;
};

class ConsensusHost {
  public:
    /// `app` and `network` must outlive the host. `on_fatal` is called (on the consensus thread)
    /// when the engine cannot be built.
    ConsensusHost(consensus::EngineConfig config, consensus::Application& app,
                  net::Network& network, SignMark mark);
    ~ConsensusHost();  ///< stop()s
    ConsensusHost(const ConsensusHost&) = delete;
    ConsensusHost& operator=(const ConsensusHost&) = delete;
    ConsensusHost(ConsensusHost&&) = delete;
    ConsensusHost& operator=(ConsensusHost&&) = delete;

    /// Builds the engine and starts the consensus thread at `height` (head + 1). Error: the key
    /// is not a validator, already started.
    [[nodiscard]] Result<void> start(consensus::Height height);
    /// Stops the thread after the event in progress. Idempotent.
    void stop();

    /// A kConsensus payload from `from` (any thread; does not block).
    void on_network_message(const Address& from, ByteView payload);

    [[nodiscard]] HostStatus status() const;
    /// The highest height seen in any received message (0 if none).
    [[nodiscard]] consensus::Height max_seen_height() const;
    /// Own messages suppressed by the sign mark (tests).
    [[nodiscard]] uint64_t suppressed() const;

  private:
    class TransportAdapter;
    class ClockAdapter;
    struct Timer {
        uint64_t due_ms;
        uint64_t seq;
        consensus::Timeout timeout;
        bool operator>(const Timer& o) const {
            return due_ms != o.due_ms ? due_ms > o.due_ms : seq > o.seq;
        }
    };

    void run();
    [[nodiscard]] uint64_t now_ms() const;
    void schedule(const consensus::Timeout& t, uint64_t delay_ms);
    void broadcast(const consensus::Message& m);
    void send(const Address& to, const consensus::Message& m);
    bool own_allowed(const consensus::Message& m);
    void publish_status();

    consensus::EngineConfig config_;
    consensus::Application& app_;
    net::Network& network_;
    SignMark mark_;
    consensus::SignatureCache cache_;  // consensus thread only (engine and own-message check)
    std::unique_ptr<TransportAdapter> transport_;
    std::unique_ptr<ClockAdapter> clock_;
    std::unique_ptr<consensus::Engine> engine_;
    std::chrono::steady_clock::time_point epoch_;
    std::thread thread_;
    std::pair<consensus::Height, consensus::Round> last_announce_{0, -1};  // consensus thread

    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::deque<consensus::Message> events_;                                  // guarded by mu_
    std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers_;  // guarded by mu_
    uint64_t timer_seq_ = 0;                                                 // guarded by mu_
    bool stopping_ = false;                                                  // guarded by mu_
    bool started_ = false;                                                   // guarded by mu_
    HostStatus status_;                                                      // guarded by mu_
    consensus::Height max_seen_ = 0;                                         // guarded by mu_
    uint64_t suppressed_ = 0;                                                // guarded by mu_
};

}  // namespace pel::node
