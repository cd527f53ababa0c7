// SPDX-License-Identifier: Apache-2.0
// The ports through which the consensus engine reaches the outside world. The engine is a pure
// state machine: it never reads a real clock, opens a socket or touches storage; it calls these
// interfaces, and its host (node/ in production, tests/sim in the simulator) calls back into
// Engine::on_message and Engine::on_timeout. All calls happen on the engine's single thread;
// an implementation must not call back into the engine from inside a port call (queue the event
// and deliver it after the port call returns).
#pragma once

#include <cstdint>
#include <optional>

#include "consensus/message.hpp"
#include "consensus/types.hpp"
#include "primitives/bytes.hpp"
#include "primitives/hash.hpp"
#include "primitives/result.hpp"

namespace pel::consensus {

/// Delivery of consensus messages to the other validators. Best effort: messages may be lost,
/// delayed, duplicated or reordered; the engine tolerates all of it (it re-broadcasts its own
/// messages of the current height on a timer, and answers validators that fell behind with
/// Commit messages). Production: net/ encodes with consensus::encode() and gossips.
class Transport {
  public:
    virtual ~Transport() = default;
    /// Sends `msg` to every other validator. The engine processes its own messages itself.
    virtual void broadcast(const Message& msg) = 0;
    /// Sends `msg` to one validator (used to answer a validator that is behind).
    virtual void send(const Address& to, const Message& msg) = 0;
};

/// Time and timers. Times are milliseconds on any monotonic scale.
class Clock {
  public:
    virtual ~Clock() = default;
    [[nodiscard]] virtual uint64_t now_ms() const = 0;
    /// Delivers `t` to Engine::on_timeout after `delay_ms` (or later). Timers are never
    /// cancelled: the engine ignores timeouts that no longer match its height/round/step.
    virtual void schedule(const Timeout& t, uint64_t delay_ms) = 0;
};

/// A decided block with its finality proof.
struct DecidedBlock {
    Bytes payload;
    CommitCertificate certificate;
};

/// The ledger/application: builds, checks and stores the values consensus agrees on. A value's
/// payload is an opaque byte string to the engine (the node puts an encoded block there); its
/// id is keccak256(payload).
class Application {
  public:
    virtual ~Application() = default;
    /// getValue() of the paper: the payload to propose at `height` (the node builds a block on
    /// top of the last committed one with the parallel executor). An error means "propose
    /// nothing this round" (the other validators will time out and move on).
    [[nodiscard]] virtual Result<Bytes> propose(Height height) = 0;
    /// valid(v) of the paper: whether `payload` is a valid value at `height` (the node decodes
    /// the block, re-executes it in parallel on top of the last committed state and compares the
    /// state root). Must be deterministic: every honest validator gets the same answer for the
    /// same payload. The engine memoises the answer per value for the height.
    [[nodiscard]] virtual Result<void> validate(Height height, ByteView payload) = 0;
    /// Stores the decided value of `height` with its certificate. Called exactly once per height,
    /// in height order, before the engine moves to height + 1. Must be durable on return; a
    /// storage failure is fatal for the node (consensus cannot continue without the block).
    virtual void commit(Height height, ByteView payload, const CommitCertificate& cert) = 0;
    /// A previously committed value and its certificate, nullopt if not (or no longer) stored.
    [[nodiscard]] virtual std::optional<DecidedBlock> decided(Height height) = 0;
};

}  // namespace pel::consensus
