// SPDX-License-Identifier: Apache-2.0
// Four validators in one process over real loopback sockets (each with its own datadir, network
// and consensus thread): transactions sent to different nodes are committed; all reach the same
// head hash and state root; one stopped validator does not stop the chain, a second one halts it
// without a fork; both restarted (same datadirs) catch up and the chain goes on; every accepted
// transaction ends up in a block, a blob transaction (gossiped with its sidecar) among them.
#include <cstdio>
#include <map>
#include <memory>
#include <set>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "execution/transition.hpp"
#include "node/rpc_dispatch.hpp"
#include "node/rpc_eth.hpp"
#include "tests/unit/node/consensus_test_util.hpp"

namespace pel::node {
namespace {

using namespace std::chrono_literals;
using test::dev_keys;
using test::eventually;
using test::make_txn;
using test::raw;
using test::TempDir;

constexpr size_t kN = 4;

class Devnet {
  public:
    Devnet() : genesis_(test::write_consensus_genesis(dir_, kN)) {}

    /// Starts validator i, dialling every running validator.
    void start(size_t i) {
        auto cfg = test::validator_config((dir_.path() / ("node" + std::to_string(i))).string(),
                                          genesis_, static_cast<uint8_t>(i));
        for (size_t j = 0; j < kN; ++j) {
            if (j != i && nodes_[j]) {
                cfg.peers.push_back(
                    net::PeerAddress{"127.0.0.1", nodes_[j]->p2p_port(),
                                     test::validator_address(static_cast<uint8_t>(j))});
            }
        }
        auto n = Node::open(cfg);
        ASSERT_TRUE(n.has_value()) << n.error().message;
        ASSERT_TRUE((*n)->start().has_value());
        nodes_[i] = std::move(*n);
    }
    void stop(size_t i) {
        nodes_[i]->stop();
        nodes_[i].reset();
    }
    Node* node(size_t i) { return nodes_[i].get(); }
    std::vector<Node*> running() {
        std::vector<Node*> out;
        for (auto& n : nodes_) {
            if (n) out.push_back(n.get());
        }
        return out;
    }
    uint64_t min_head() {
        uint64_t m = UINT64_MAX;
        for (Node* n : running()) m = std::min(m, n->head().number);
        return m;
    }

  private:
    TempDir dir_;
    std::string genesis_;
    std::unique_ptr<Node> nodes_[kN];
};

/// Every running node has the same block hash and state root at every height up to `upto`.
void expect_same_chain(Devnet& net, uint64_t upto) {
    for (uint64_t n = 1; n <= upto; ++n) {
        std::optional<Hash32> hash;
        std::optional<Hash32> root;
        for (Node* node : net.running()) {
            auto b = node->block_by_number(BlockSelector::at(n));
            ASSERT_TRUE(b.has_value() && b->has_value()) << "block " << n;
            if (!hash) {
                hash = (*b)->hash;
                root = (*b)->header.state_root;
            }
            EXPECT_EQ((*b)->hash, *hash) << "fork at block " << n;
            EXPECT_EQ((*b)->header.state_root, *root) << "block " << n;
        }
    }
}

bool all_mined(Devnet& net, const std::vector<Hash32>& txs) {
    for (Node* node : net.running()) {
        for (const Hash32& h : txs) {
            auto r = node->receipt_by_hash(h);
            if (!r || !r->has_value()) return false;
        }
    }
    return true;
}

TEST(ConsensusNet, four_validators_commit_survive_one_crash_halt_at_two_and_catch_up) {
    Devnet net;
    for (size_t i = 0; i < kN; ++i) net.start(i);
    ASSERT_TRUE(eventually(
        [&] {
            for (Node* n : net.running()) {
                if (n->peer_count() != kN - 1) return false;
            }
            return true;
        },
        10s))
        << "the validators did not connect";

    const auto keys = dev_keys();
    std::vector<Hash32> accepted;
    std::vector<uint64_t> nonces(keys.size(), 0);
    const auto submit = [&](size_t node, size_t sender, size_t count) {
        for (size_t k = 0; k < count; ++k) {
            const auto t =
                make_txn(keys[sender].secret_key, nonces[sender]++, test::addr(9), U256(1 + k));
            auto r = net.node(node)->submit_raw_transaction(raw(t));
            ASSERT_TRUE(r.has_value()) << r.error().message;
            accepted.push_back(*r);
        }
    };
    // Transactions to different nodes (one sender per node, so nonces stay ordered).
    for (size_t i = 0; i < kN; ++i) submit(i, i, 5);
    ASSERT_TRUE(eventually([&] { return all_mined(net, accepted); }, 20s))
        << "transactions were not committed on every node";
    ASSERT_TRUE(eventually([&] { return net.min_head() >= 5; }, 20s));
    expect_same_chain(net, net.min_head());

    // A blob transaction (EIP-4844 network form) sent to one node travels with its sidecar to
    // the others, whose pools check it again; whichever proposes includes it, and every node
    // validates the block that holds it.
    {
        const Transaction t = test::blob_txn(keys[8].secret_key, 0, test::addr(9), 2);
        auto r = net.node(1)->submit_raw_transaction(test::zero_blob_network_form(t, 2));
        ASSERT_TRUE(r.has_value()) << r.error().message;
        ASSERT_TRUE(eventually([&] { return all_mined(net, {*r}); }, 20s))
            << "the blob transaction was not committed on every node";
        for (Node* n : net.running()) {
            auto rec = n->receipt_by_hash(*r);
            ASSERT_TRUE(rec.has_value() && rec->has_value());
            EXPECT_EQ((*rec)->blob_gas_used, 2 * exec::kGasPerBlob);
        }
        accepted.push_back(*r);
    }

    // One validator down: the chain goes on.
    net.stop(3);
    const uint64_t h1 = net.min_head();
    submit(1, 5, 3);
    ASSERT_TRUE(
        eventually([&] { return net.min_head() >= h1 + 3 && all_mined(net, accepted); }, 20s))
        << "the chain stopped with one validator down";

    // Two down: no quorum, no new block, no fork.
    net.stop(2);
    std::this_thread::sleep_for(500ms);  // a block decided just before may still be stored
    const uint64_t h2 = std::max(net.node(0)->head().number, net.node(1)->head().number);
    submit(0, 6, 2);  // accepted (into the pools), not committed while halted
    std::this_thread::sleep_for(2500ms);
    EXPECT_EQ(net.node(0)->head().number, h2) << "a block without a quorum";
    EXPECT_EQ(net.node(1)->head().number, h2) << "a block without a quorum";
    expect_same_chain(net, net.min_head());

    // Both back (same datadirs): they catch up and the chain continues.
    net.start(2);
    net.start(3);
    ASSERT_TRUE(eventually([&] { return net.min_head() >= h2 + 3; }, 30s))
        << "the restarted validators did not catch up, or the chain did not continue";
    ASSERT_TRUE(eventually([&] { return all_mined(net, accepted); }, 20s))
        << "an accepted transaction was lost";
    expect_same_chain(net, net.min_head());

    // eth_sendTransaction with a dev account the devnet genesis funds, on a restarted node.
    {
        CallRequest req;
        req.from = keys[7].address;
        req.to = test::addr(3);
        req.value = U256(77);
        auto h = net.node(3)->send_transaction(req);
        ASSERT_TRUE(h.has_value()) << h.error().message;
        accepted.push_back(*h);
        ASSERT_TRUE(eventually([&] { return all_mined(net, accepted); }, 20s));
    }

    // Catch-up rate: node 3 misses kMissed blocks, then must catch up well above the chain's
    // block rate (it gets up to Engine::kCatchupBatch decided blocks per round trip).
    {
        constexpr uint64_t kMissed = 15;
        net.stop(3);
        const uint64_t from = net.min_head();
        const auto t0 = std::chrono::steady_clock::now();
        ASSERT_TRUE(eventually([&] { return net.min_head() >= from + kMissed; }, 30s));
        const double down_s =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        const uint64_t target = net.min_head();
        const auto t1 = std::chrono::steady_clock::now();
        net.start(3);
        ASSERT_TRUE(eventually([&] { return net.node(3)->head().number >= target; }, 30s));
        const double catchup_s =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
        const double chain_rate = static_cast<double>(target - from) / down_s;
        const double catchup_rate = static_cast<double>(target - from) / catchup_s;
        std::printf("chain %.1f blocks/s; node 3 caught up %llu blocks in %.2f s (%.1f blocks/s)\n",
                    chain_rate, static_cast<unsigned long long>(target - from), catchup_s,
                    catchup_rate);
        EXPECT_GT(catchup_rate, 3 * chain_rate);
        ASSERT_TRUE(eventually([&] { return net.min_head() >= target + 2; }, 20s));
        expect_same_chain(net, net.min_head());
    }

    // Reads below the head and traces, on every node (node 3 read its window back from its
    // datadir, then caught up): the same answers, and the trace of the eth_sendTransaction above.
    {
        const uint64_t top = net.min_head();
        const uint64_t low = top > 10 ? top - 10 : 0;
        for (uint64_t n = low; n <= top; ++n) {
            auto want = net.node(0)->balance(test::addr(9), BlockSelector::at(n));
            ASSERT_TRUE(want.has_value()) << "block " << n << ": " << want.error().message;
            for (Node* node : net.running()) {
                auto got = node->balance(test::addr(9), BlockSelector::at(n));
                ASSERT_TRUE(got.has_value()) << "block " << n << ": " << got.error().message;
                EXPECT_EQ(*got, *want) << "block " << n;
            }
        }
        TraceOptions calls;
        calls.tracer = TraceOptions::Tracer::kCall;
        for (Node* node : net.running()) {
            auto t = node->trace_transaction(accepted.back(), calls);
            ASSERT_TRUE(t.has_value()) << t.error().message;
            ASSERT_TRUE(t->has_value());
            const auto& frame = std::get<exec::CallFrame>(**t);
            EXPECT_EQ(frame.to, test::addr(3));
            EXPECT_EQ(frame.value, U256(77));
            EXPECT_EQ(frame.gas_used, 21000U);
        }
    }

    // RPC: net_peerCount and pel_consensusStatus.
    ASSERT_TRUE(eventually([&] { return net.node(0)->peer_count() == kN - 1; }, 10s));
    const auto call = [&](const char* method) { return test::rpc_result(*net.node(0), method); };
    EXPECT_EQ(call("net_peerCount"), "0x3");
    EXPECT_EQ(call("net_listening"), true);
    const auto cs = call("pel_consensusStatus");
    EXPECT_EQ(cs.at("mode"), "consensus");
    EXPECT_EQ(cs.at("validators"), kN);
    EXPECT_EQ(cs.at("peers").size(), kN - 1);
    EXPECT_TRUE(cs.at("height").is_string());
    EXPECT_TRUE(cs.at("proposer").is_boolean());
    const std::string step = cs.at("step");
    EXPECT_TRUE(step == "propose" || step == "prevote" || step == "precommit") << step;
}

}  // namespace
}  // namespace pel::node
