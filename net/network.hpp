// SPDX-License-Identifier: Apache-2.0
// net::Network: pel's peer-to-peer transport (the module's front door).
//
// TCP with length-prefixed frames (net/message.hpp), an authenticated handshake, one strand and
// one bounded send queue per peer, static peers dialled with exponential backoff, an accept loop
// and gossip of transactions, consensus messages and blocks. Boost.Asio is private to net/: this
// header exposes no Asio type. The Network owns its io_context and `threads` I/O threads (node
// does not pass one in), so node only sees the callbacks below.
//
// Handshake (both sides at once, on every new connection):
//   1. each side sends Hello{protocol version, chain id, genesis hash, node id, random nonce};
//   2. on the peer's Hello: refuse (logged disconnect) a different version, chain id or genesis,
//      our own node id, a node id outside `allowed_ids` (when set) or other than the one a static
//      peer entry names with "@nodeid"; otherwise send Auth = sign(keccak256(kAuthDomain ||
//      peer's nonce || our Hello)) with the node key;
//   3. on the peer's Auth: the signature must recover the node id the peer's Hello claimed
//      (low s required), else disconnect. Then the peer is active.
//   Anything else before the handshake completes, or no completion within handshake_timeout,
//   disconnects.
//
// Duplicate connections (both nodes dial each other): per node id at most one active session.
// The kept one is the connection dialled by the smaller node id (both ends agree without
// talking); if both were dialled by the same side, the newer one replaces the older (stale) one.
//
// Backpressure (per-peer send queue, bounded by send_queue_max_msgs and send_queue_max_bytes):
// when a message does not fit, the oldest queued gossip (kTxns, kBlock) is dropped until it
// does; a gossip message that still does not fit is itself dropped; a consensus message (or a
// control message) that still does not fit disconnects the peer (kQueueOverflow): a validator
// that cannot keep up with consensus traffic is better reconnected (and caught up by consensus's
// own re-broadcast) than silently starved. Drops are counted in PeerInfo::dropped.
//
// Gossip: kTxns are deduplicated per transaction hash, kConsensus and kBlock per keccak256 of the
// payload, in bounded SeenSets. A received gossip message with at least one new item is
// delivered once to on_message (kTxns re-encoded with the new transactions only) and, when
// relaying is on for its kind, forwarded to every other active peer (a message sent with send()
// to one peer is relayed the same way: net does not tell gossip from direct sends). Messages this
// node broadcasts are marked seen, so they are never delivered back to it.
//
// Errors: oversized or malformed frames, failed handshakes and bad signatures disconnect that
// peer and are logged (spdlog warn); they never affect other peers or the process.
//
// Thread safety: every public method may be called from any thread, including from inside
// on_message. on_message and on_peer are called on the I/O threads (one peer's messages in
// order, on that peer's strand; different peers' callbacks may run at the same time on different
// threads when threads > 1); they must not block and must not call stop() or destroy the
// Network. Invariant: after stop() returns no callback runs and no callback is running.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/message.hpp"
#include "primitives/bytes.hpp"
#include "primitives/hash.hpp"
#include "primitives/result.hpp"

namespace pel::net {

/// A static peer: "host:port" or "host:port@0x<node id>" (the id is then required at handshake).
struct PeerAddress {
    std::string host;
    uint16_t port = 0;
    std::optional<Address> node_id;

    friend bool operator==(const PeerAddress&, const PeerAddress&) = default;
};
/// Parses one "host:port[@nodeid]" (host may be "[v6]"). Errors name the problem.
[[nodiscard]] Result<PeerAddress> parse_peer_address(std::string_view text);
/// Parses a comma-separated list (the `--peers` flag); empty text gives an empty list.
[[nodiscard]] Result<std::vector<PeerAddress>> parse_peer_list(std::string_view text);

struct Config {
    uint64_t chain_id = 1;
    Hash32 genesis_hash;
    Hash32 node_key;  ///< secp256k1 secret key; node id = its address
    std::string listen_host = "127.0.0.1";
    uint16_t listen_port = 0;  ///< 0 picks a free port (see Network::listen_port())
    bool listen = true;        ///< false: outbound only
    std::vector<PeerAddress> static_peers;
    std::vector<Address> allowed_ids;  ///< empty: any node id may connect
    uint32_t max_frame_size = kDefaultMaxFrameSize;
    size_t send_queue_max_msgs = 4096;
    size_t send_queue_max_bytes = size_t{64} * 1024 * 1024;
    size_t max_peers = 64;
    size_t seen_capacity = 1U << 16;  ///< per SeenSet (txns, consensus, blocks)
    /// Forward new gossip of each kind to the other peers. In a full mesh of validators the
    /// consensus relay only adds duplicates (dropped by the seen sets); in a partial mesh it is
    /// what carries messages across.
    bool relay_txns = true;
    bool relay_consensus = true;
    bool relay_blocks = true;
    std::chrono::milliseconds handshake_timeout{5000};
    /// An active peer is pinged every ping_interval; one that sent nothing (no message, no pong)
    /// for idle_timeout is disconnected (kTimeout): catches peers that vanish without a FIN.
    std::chrono::milliseconds ping_interval{5000};
    std::chrono::milliseconds idle_timeout{20000};
    std::chrono::milliseconds backoff_initial{100};
    std::chrono::milliseconds backoff_max{10000};
    size_t threads = 1;  ///< I/O threads
};

struct PeerInfo {
    Address node_id;
    std::string remote;  ///< "ip:port"
    bool outbound = false;
    uint64_t msgs_in = 0;
    uint64_t msgs_out = 0;
    uint64_t bytes_in = 0;
    uint64_t bytes_out = 0;
    uint64_t dropped = 0;  ///< gossip dropped by the send-queue policy
    size_t queued = 0;     ///< messages waiting in the send queue
};

/// Network-wide counters (tests and metrics).
struct NetStats {
    uint64_t handshakes_ok = 0;
    uint64_t handshakes_failed = 0;
    uint64_t protocol_errors = 0;  ///< malformed/oversized frames, unexpected messages
    uint64_t duplicates_closed = 0;
    uint64_t gossip_duplicates = 0;  ///< received gossip items already seen
    uint64_t dials = 0;
};

/// kind is kTxns, kConsensus or kBlock; payload is valid only during the call.
using MessageHandler = std::function<void(const Address& from, MsgKind kind, ByteView payload)>;
/// Called when a peer becomes active (connected = true) and when it goes away (false).
using PeerHandler = std::function<void(const Address& peer, bool connected)>;

class Network {
  public:
    explicit Network(Config config);
    ~Network();  ///< stop()s
    Network(const Network&) = delete;
    Network& operator=(const Network&) = delete;
    Network(Network&&) = delete;
    Network& operator=(Network&&) = delete;

    /// Set before start(); not changed afterwards.
    void on_message(MessageHandler h);
    void on_peer(PeerHandler h);

    /// Binds (when `listen`), starts the I/O threads, the accept loop and the dialers.
    /// Errors: bad key, bind/listen failure, already started.
    [[nodiscard]] Result<void> start();
    /// Disconnects every peer (kRequested), stops the threads. Idempotent.
    void stop();

    /// The bound port (after a successful start with listen).
    [[nodiscard]] uint16_t listen_port() const;
    [[nodiscard]] const Address& node_id() const;

    /// Sends to every active peer (kTxns, kConsensus or kBlock; anything else is an error, as is
    /// a payload that does not decode). Marks the payload's items seen.
    [[nodiscard]] Result<void> broadcast(MsgKind kind, ByteView payload);
    /// Sends to one active peer. Error: kind not gossip, bad payload, peer not connected.
    /// A successful return means "queued", not delivered.
    [[nodiscard]] Result<void> send(const Address& peer, MsgKind kind, ByteView payload);

    [[nodiscard]] std::vector<PeerInfo> peers() const;
    [[nodiscard]] size_t peer_count() const;
    [[nodiscard]] NetStats stats() const;

    class Impl;

  private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace pel::net
