// SPDX-License-Identifier: Apache-2.0
// Network over real sockets on 127.0.0.1 (ports picked by the OS).
#include "net/network.hpp"

#include <cstring>
#include <map>
#include <memory>
#include <mutex>

#include <gtest/gtest.h>

#include "primitives/keccak.hpp"
#include "tests/unit/net/net_test_util.hpp"

namespace pel::net {
namespace {

using std::chrono::milliseconds;
using test::config;
using test::id_of;
using test::key;
using test::RawPeer;
using test::wait_until;

/// A Network with a thread-safe record of what it delivered.
class TestNode {
  public:
    explicit TestNode(Config cfg) : net_(std::make_unique<Network>(std::move(cfg))) {
        net_->on_message([this](const Address& from, MsgKind kind, ByteView payload) {
            const std::lock_guard lock(mu_);
            if (kind == MsgKind::kTxns) {
                auto txns = decode_txns(payload);
                ASSERT_TRUE(txns.has_value());
                for (const GossipTxn& t : *txns) ++txn_count_[t.hash];
            } else {
                ++payload_count_[keccak256(payload)];
            }
            last_from_ = from;
        });
        EXPECT_TRUE(net_->start());
    }

    Network& net() { return *net_; }
    uint16_t port() const { return net_->listen_port(); }
    PeerAddress addr(bool with_id = false) const {
        PeerAddress p{"127.0.0.1", port(), std::nullopt};
        if (with_id) p.node_id = net_->node_id();
        return p;
    }
    int txn_count(const Hash32& h) const {
        const std::lock_guard lock(mu_);
        auto it = txn_count_.find(h);
        return it == txn_count_.end() ? 0 : it->second;
    }
    int payload_count(ByteView payload) const {
        const std::lock_guard lock(mu_);
        auto it = payload_count_.find(keccak256(payload));
        return it == payload_count_.end() ? 0 : it->second;
    }
    size_t total_txns() const {
        const std::lock_guard lock(mu_);
        size_t n = 0;
        for (const auto& [h, c] : txn_count_) n += static_cast<size_t>(c);
        return n;
    }

  private:
    std::unique_ptr<Network> net_;
    mutable std::mutex mu_;
    std::map<Hash32, int> txn_count_;
    std::map<Hash32, int> payload_count_;
    Address last_from_;
};

Config with_peers(Config c, std::vector<PeerAddress> peers) {
    c.static_peers = std::move(peers);
    return c;
}

TEST(Network, handshake_connects_both_sides_and_delivers) {
    TestNode a(config(1));
    TestNode b(with_peers(config(2), {a.addr(true)}));
    ASSERT_TRUE(wait_until([&] { return a.net().peer_count() == 1 && b.net().peer_count() == 1; }));
    EXPECT_EQ(a.net().peers()[0].node_id, id_of(key(2)));
    EXPECT_FALSE(a.net().peers()[0].outbound);
    EXPECT_EQ(b.net().peers()[0].node_id, id_of(key(1)));
    EXPECT_TRUE(b.net().peers()[0].outbound);
    const Bytes msg{1, 2, 3, 4};
    ASSERT_TRUE(b.net().send(id_of(key(1)), MsgKind::kConsensus, msg));
    ASSERT_TRUE(wait_until([&] { return a.payload_count(msg) == 1; }));
    const Bytes block{9, 9};
    ASSERT_TRUE(a.net().broadcast(MsgKind::kBlock, block));
    ASSERT_TRUE(wait_until([&] { return b.payload_count(block) == 1; }));
    EXPECT_EQ(a.payload_count(block), 0);  // own broadcast is not delivered back
    EXPECT_EQ(a.net().stats().handshakes_ok, 1U);
    // Callers cannot send handshake/control kinds or malformed payloads.
    EXPECT_FALSE(a.net().broadcast(MsgKind::kHello, msg));
    EXPECT_FALSE(a.net().broadcast(MsgKind::kTxns, msg));
    EXPECT_FALSE(a.net().broadcast(MsgKind::kConsensus, Bytes{}));
    EXPECT_FALSE(a.net().send(id_of(key(9)), MsgKind::kConsensus, msg));
}

// A node of another chain (chain id or genesis) is refused; the good peer keeps working.
TEST(Network, wrong_chain_id_or_genesis_disconnects_and_others_keep_working) {
    TestNode a(config(1));
    TestNode good(with_peers(config(2), {a.addr()}));
    ASSERT_TRUE(wait_until([&] { return a.net().peer_count() == 1; }));

    TestNode other_chain(with_peers(config(3, /*chain_id=*/8), {a.addr()}));
    Config g = config(4);
    g.genesis_hash = test::genesis(0x43);
    TestNode other_genesis(with_peers(g, {a.addr()}));
    ASSERT_TRUE(wait_until([&] { return a.net().stats().handshakes_failed >= 2; }));
    EXPECT_EQ(other_chain.net().peer_count(), 0U);
    EXPECT_EQ(other_genesis.net().peer_count(), 0U);
    EXPECT_EQ(a.net().peer_count(), 1U);

    const Bytes msg{7, 7, 7};
    ASSERT_TRUE(good.net().broadcast(MsgKind::kConsensus, msg));
    ASSERT_TRUE(wait_until([&] { return a.payload_count(msg) == 1; }));

    // A raw peer with the wrong chain id gets the reason before the close.
    RawPeer raw(a.port());
    Config wrong = config(5, 99);
    Hello h;
    h.chain_id = wrong.chain_id;
    h.genesis_hash = wrong.genesis_hash;
    h.node_id = id_of(key(5));
    raw.send(MsgKind::kHello, encode_hello(h));
    EXPECT_EQ(raw.read_until_closed(), DisconnectReason::kWrongChain);
}

TEST(Network, bad_signature_disconnects) {
    TestNode a(config(1));
    TestNode good(with_peers(config(2), {a.addr()}));
    ASSERT_TRUE(wait_until([&] { return a.net().peer_count() == 1; }));
    RawPeer raw(a.port());
    // Claims key 5's node id but signs with key 6.
    // (The node answers our hello with its auth before it checks ours, so the handshake helper
    // cannot tell; the node then closes with the reason.)
    static_cast<void>(raw.handshake(config(5), key(6), id_of(key(5))));
    EXPECT_EQ(raw.read_until_closed(), DisconnectReason::kBadAuth);
    EXPECT_EQ(a.net().peer_count(), 1U);

    // A well-signed raw peer is accepted (the helper itself is correct).
    RawPeer ok(a.port());
    ASSERT_TRUE(ok.handshake(config(5), key(5)));
    ASSERT_TRUE(wait_until([&] { return a.net().peer_count() == 2; }));
}

TEST(Network, oversized_frame_and_garbage_disconnect_without_harm) {
    TestNode a(config(1));
    TestNode good(with_peers(config(2), {a.addr()}));
    ASSERT_TRUE(wait_until([&] { return a.net().peer_count() == 1; }));

    {  // garbage before the handshake
        RawPeer raw(a.port());
        raw.write(as_bytes("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
        EXPECT_EQ(raw.read_until_closed(), DisconnectReason::kProtocolError);
    }
    {  // oversized frame length before the handshake: no body is ever sent
        RawPeer raw(a.port());
        raw.write(Bytes{0xff, 0xff, 0xff, 0xff});
        EXPECT_EQ(raw.read_until_closed(), DisconnectReason::kProtocolError);
    }
    {  // a gossip message before the handshake
        RawPeer raw(a.port());
        raw.send(MsgKind::kConsensus, Bytes{1});
        EXPECT_EQ(raw.read_until_closed(), DisconnectReason::kProtocolError);
    }
    {  // oversized and malformed frames after a successful handshake
        RawPeer raw(a.port());
        ASSERT_TRUE(raw.handshake(config(5), key(5)));
        ASSERT_TRUE(wait_until([&] { return a.net().peer_count() == 2; }));
        const uint32_t big = kDefaultMaxFrameSize + 1;
        raw.write(Bytes{static_cast<uint8_t>(big >> 24), static_cast<uint8_t>(big >> 16),
                        static_cast<uint8_t>(big >> 8), static_cast<uint8_t>(big)});
        EXPECT_EQ(raw.read_until_closed(), DisconnectReason::kProtocolError);
        ASSERT_TRUE(wait_until([&] { return a.net().peer_count() == 1; }));
    }
    {
        RawPeer raw(a.port());
        ASSERT_TRUE(raw.handshake(config(6), key(6)));
        raw.send(MsgKind::kTxns, Bytes{0xc1, 0x01});  // not a transaction
        EXPECT_EQ(raw.read_until_closed(), DisconnectReason::kProtocolError);
    }
    {  // handshake timeout: connect and say nothing
        Config c = config(1);
        c.handshake_timeout = milliseconds(100);
        TestNode quick(c);
        RawPeer raw(quick.port());
        EXPECT_EQ(raw.read_until_closed(), DisconnectReason::kTimeout);
    }
    EXPECT_GE(a.net().stats().protocol_errors, 5U);
    EXPECT_EQ(a.net().peer_count(), 1U);
    const Bytes msg{4, 2};
    ASSERT_TRUE(good.net().broadcast(MsgKind::kBlock, msg));
    ASSERT_TRUE(wait_until([&] { return a.payload_count(msg) == 1; }));
}

// A peer that completes the handshake and then goes silent (answers no ping) is dropped; a real
// peer that is merely idle answers the pings and stays.
TEST(Network, silent_peer_times_out_idle_peer_stays) {
    Config ca = config(1);
    ca.ping_interval = milliseconds(50);
    ca.idle_timeout = milliseconds(300);
    TestNode a(ca);
    Config cb = with_peers(config(2), {a.addr()});
    cb.ping_interval = milliseconds(50);
    cb.idle_timeout = milliseconds(300);
    TestNode b(cb);
    ASSERT_TRUE(wait_until([&] { return a.net().peer_count() == 1; }));
    RawPeer silent(a.port());
    ASSERT_TRUE(silent.handshake(config(5), key(5)));
    ASSERT_TRUE(wait_until([&] { return a.net().peer_count() == 2; }));
    ASSERT_TRUE(wait_until([&] { return a.net().peer_count() == 1; }));
    std::this_thread::sleep_for(milliseconds(600));  // two idle timeouts without app traffic
    EXPECT_EQ(a.net().peer_count(), 1U);
    EXPECT_EQ(a.net().peers()[0].node_id, id_of(key(2)));
    EXPECT_EQ(a.net().stats().handshakes_ok, 2U);  // b was never reconnected
}

TEST(Network, whitelist_and_expected_static_id_are_enforced) {
    Config ca = config(1);
    ca.allowed_ids = {id_of(key(2))};
    TestNode a(ca);
    TestNode allowed(with_peers(config(2), {a.addr()}));
    TestNode stranger(with_peers(config(3), {a.addr()}));
    ASSERT_TRUE(wait_until([&] { return allowed.net().peer_count() == 1; }));
    ASSERT_TRUE(wait_until([&] { return a.net().stats().handshakes_failed >= 1; }));
    EXPECT_EQ(a.net().peer_count(), 1U);
    EXPECT_EQ(stranger.net().peer_count(), 0U);

    // A static peer entry naming another node id than the one that answers.
    TestNode b(config(4));
    PeerAddress wrong_id = b.addr();
    wrong_id.node_id = id_of(key(9));
    TestNode c(with_peers(config(5), {wrong_id}));
    ASSERT_TRUE(wait_until([&] { return c.net().stats().handshakes_failed >= 1; }));
    EXPECT_EQ(c.net().peer_count(), 0U);
}

// Four nodes in a line (0-1-2-3): a transaction broadcast at one end reaches every other node
// exactly once; re-broadcasting it anywhere delivers nothing new.
TEST(Network, gossip_four_nodes_exactly_once_with_dedup) {
    std::vector<std::unique_ptr<TestNode>> nodes;
    nodes.push_back(std::make_unique<TestNode>(config(1)));
    for (uint8_t i = 1; i < 4; ++i) {
        nodes.push_back(std::make_unique<TestNode>(
            with_peers(config(static_cast<uint8_t>(i + 1)), {nodes.back()->addr()})));
    }
    ASSERT_TRUE(wait_until([&] {
        return nodes[0]->net().peer_count() == 1 && nodes[1]->net().peer_count() == 2 &&
               nodes[2]->net().peer_count() == 2 && nodes[3]->net().peer_count() == 1;
    }));
    const Bytes t0 = test::signed_txn(0);
    const Bytes t1 = test::signed_txn(1);
    ASSERT_TRUE(nodes[0]->net().broadcast(MsgKind::kTxns, encode_txns({t0, t1})));
    ASSERT_TRUE(wait_until([&] {
        return nodes[3]->txn_count(keccak256(t0)) == 1 && nodes[3]->txn_count(keccak256(t1)) == 1;
    }));
    // A second transaction from the other end, plus the first one again (already known).
    const Bytes t2 = test::signed_txn(2);
    ASSERT_TRUE(nodes[3]->net().broadcast(MsgKind::kTxns, encode_txns({t0, t2})));
    ASSERT_TRUE(wait_until([&] { return nodes[0]->txn_count(keccak256(t2)) == 1; }));
    ASSERT_TRUE(nodes[1]->net().broadcast(MsgKind::kTxns, encode_txns({t1})));
    const Bytes c{0xc0, 0xde};
    ASSERT_TRUE(nodes[2]->net().broadcast(MsgKind::kConsensus, c));
    ASSERT_TRUE(wait_until([&] {
        return nodes[0]->payload_count(c) == 1 && nodes[3]->payload_count(c) == 1 &&
               nodes[1]->payload_count(c) == 1;
    }));
    std::this_thread::sleep_for(milliseconds(200));    // let any duplicate arrive if one would
    EXPECT_EQ(nodes[0]->txn_count(keccak256(t0)), 0);  // originated here
    EXPECT_EQ(nodes[3]->txn_count(keccak256(t2)), 0);
    for (size_t i = 1; i < 4; ++i) EXPECT_EQ(nodes[i]->txn_count(keccak256(t0)), 1) << i;
    for (size_t i = 1; i < 4; ++i) EXPECT_EQ(nodes[i]->txn_count(keccak256(t1)), 1) << i;
    for (size_t i = 0; i < 3; ++i) EXPECT_EQ(nodes[i]->txn_count(keccak256(t2)), 1) << i;
    for (size_t i = 0; i < 4; ++i) EXPECT_EQ(nodes[i]->payload_count(c), i == 2 ? 0 : 1) << i;
    uint64_t dups = 0;
    for (auto& n : nodes) dups += n->net().stats().gossip_duplicates;
    EXPECT_GE(dups, 1U);  // t0 came back towards node 0 and was dropped as seen
}

/// Two free ports, found by binding port 0 (both held until both are known, so they differ).
std::pair<uint16_t, uint16_t> two_free_ports() {
    namespace asio = boost::asio;
    asio::io_context io;
    const asio::ip::tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
    asio::ip::tcp::acceptor x(io, ep);
    asio::ip::tcp::acceptor y(io, ep);
    return {x.local_endpoint().port(), y.local_endpoint().port()};
}

TEST(Network, relay_switches_per_kind) {
    TestNode a(config(1));
    Config cm = with_peers(config(2), {a.addr()});
    cm.relay_consensus = false;
    TestNode mid(cm);
    TestNode c(with_peers(config(3), {mid.addr()}));
    ASSERT_TRUE(wait_until([&] { return mid.net().peer_count() == 2; }));
    const Bytes cons{0x01, 0x02};
    const Bytes t = test::signed_txn(9);
    ASSERT_TRUE(a.net().broadcast(MsgKind::kConsensus, cons));
    ASSERT_TRUE(a.net().broadcast(MsgKind::kTxns, encode_txns({t})));
    ASSERT_TRUE(wait_until([&] { return c.txn_count(keccak256(t)) == 1; }));  // relayed
    std::this_thread::sleep_for(milliseconds(100));
    EXPECT_EQ(mid.payload_count(cons), 1);  // delivered to the middle node...
    EXPECT_EQ(c.payload_count(cons), 0);    // ...but not forwarded
}

TEST(Network, both_dial_each_other_keep_one_connection) {
    const auto [pa, pb] = two_free_ports();
    Config ca = config(1);
    ca.listen_port = pa;
    ca.static_peers = {PeerAddress{"127.0.0.1", pb, std::nullopt}};
    Config cb = config(2);
    cb.listen_port = pb;
    cb.static_peers = {PeerAddress{"127.0.0.1", pa, std::nullopt}};
    TestNode a(ca);
    TestNode b(cb);
    ASSERT_TRUE(wait_until([&] { return a.net().peer_count() == 1 && b.net().peer_count() == 1; }));
    std::this_thread::sleep_for(milliseconds(600));  // several backoff periods (max 200 ms)
    const uint64_t ok_a = a.net().stats().handshakes_ok;
    std::this_thread::sleep_for(milliseconds(400));
    EXPECT_EQ(a.net().stats().handshakes_ok, ok_a);  // settled: no more connection churn
    ASSERT_EQ(a.net().peer_count(), 1U);
    ASSERT_EQ(b.net().peer_count(), 1U);
    // Both ends kept the same connection: the one dialled by the smaller node id.
    const bool a_lower = id_of(key(1)) < id_of(key(2));
    EXPECT_EQ(a.net().peers()[0].outbound, a_lower);
    EXPECT_EQ(b.net().peers()[0].outbound, !a_lower);
    const Bytes m1{1};
    const Bytes m2{2};
    ASSERT_TRUE(a.net().broadcast(MsgKind::kConsensus, m1));
    ASSERT_TRUE(b.net().broadcast(MsgKind::kConsensus, m2));
    ASSERT_TRUE(wait_until([&] { return b.payload_count(m1) == 1 && a.payload_count(m2) == 1; }));
}

TEST(Network, reconnects_after_peer_restart) {
    auto b = std::make_unique<TestNode>(config(2));
    const uint16_t port = b->port();
    TestNode a(with_peers(config(1), {b->addr(true)}));
    ASSERT_TRUE(wait_until([&] { return a.net().peer_count() == 1; }));
    b.reset();  // stops: a sees the connection drop and keeps dialling with backoff
    ASSERT_TRUE(wait_until([&] { return a.net().peer_count() == 0; }));
    std::this_thread::sleep_for(milliseconds(300));
    const uint64_t dials_while_down = a.net().stats().dials;
    EXPECT_GE(dials_while_down, 2U);
    Config cb = config(2);
    cb.listen_port = port;
    b = std::make_unique<TestNode>(cb);
    ASSERT_TRUE(
        wait_until([&] { return a.net().peer_count() == 1 && b->net().peer_count() == 1; }));
    const Bytes m{5, 5};
    ASSERT_TRUE(b->net().broadcast(MsgKind::kBlock, m));
    ASSERT_TRUE(wait_until([&] { return a.payload_count(m) == 1; }));
}

// A peer that completes the handshake and then never reads: its queue stays bounded (oldest
// gossip dropped), the node keeps serving others, and consensus overflow disconnects it.
TEST(Network, backpressure_with_a_peer_that_never_reads) {
    Config ca = config(1);
    ca.send_queue_max_msgs = 64;
    TestNode a(ca);
    TestNode good(with_peers(config(2), {a.addr()}));
    ASSERT_TRUE(wait_until([&] { return a.net().peer_count() == 1; }));
    RawPeer slow(a.port());
    ASSERT_TRUE(slow.handshake(config(5), key(5)));
    ASSERT_TRUE(wait_until([&] { return a.net().peer_count() == 2; }));
    const Address slow_id = id_of(key(5));
    auto slow_info = [&]() -> std::optional<PeerInfo> {
        for (const PeerInfo& p : a.net().peers()) {
            if (p.node_id == slow_id) return p;
        }
        return std::nullopt;
    };

    Bytes block(64 * 1024, 0xab);
    const int kBlocks = 400;  // 25 MiB: far more than the loopback socket buffers hold
    for (int i = 0; i < kBlocks; ++i) {
        std::memcpy(block.data(), &i, sizeof i);
        ASSERT_TRUE(a.net().broadcast(MsgKind::kBlock, block));
    }
    ASSERT_TRUE(wait_until([&] { return good.payload_count(block) == 1; }));  // the last one
    auto info = slow_info();
    ASSERT_TRUE(info);
    EXPECT_GT(info->dropped, 0U);
    EXPECT_LE(info->queued, 64U);
    EXPECT_EQ(a.net().peer_count(), 2U);

    // Consensus messages are never dropped: once they fill the queue, the peer is disconnected.
    bool refused = false;
    for (uint32_t i = 0; i < 1000 && !refused; ++i) {
        const Bytes c{static_cast<uint8_t>(i), static_cast<uint8_t>(i >> 8), 0xcc};
        refused = !a.net().send(slow_id, MsgKind::kConsensus, c);
    }
    EXPECT_TRUE(refused);
    ASSERT_TRUE(wait_until([&] { return a.net().peer_count() == 1; }));
    EXPECT_EQ(a.net().peers()[0].node_id, id_of(key(2)));
    const Bytes after{0xaf};
    ASSERT_TRUE(a.net().broadcast(MsgKind::kConsensus, after));
    ASSERT_TRUE(wait_until([&] { return good.payload_count(after) == 1; }));
    // The node flushes what it had in flight, then the reason (unless its linger timer ran out
    // first), then closes: the read ends.
    const auto reason = slow.read_until_closed();
    if (reason) {
        EXPECT_EQ(*reason, DisconnectReason::kQueueOverflow);
    }
}

}  // namespace
}  // namespace pel::net
