// SPDX-License-Identifier: Apache-2.0
// Consensus-mode pieces of the node: the block payload codec, validation of proposed blocks, the
// double-sign mark, the chain format check, the genesis validator list.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "consensus/message.hpp"
#include "node/chain.hpp"
#include "node/consensus_host.hpp"
#include "node/genesis.hpp"
#include "node/node_key.hpp"
#include "node/rpc_dispatch.hpp"
#include "node/rpc_eth.hpp"
#include "primitives/keccak.hpp"
#include "primitives/rlp.hpp"
#include "state/kv_store.hpp"
#include "state/state_view.hpp"
#include "tests/unit/node/consensus_test_util.hpp"

namespace pel::node {
namespace {

using test::dev_keys;
using test::make_txn;
using test::raw;
using test::TempDir;

BlockHeader sample_header() {
    BlockHeader h;
    h.parent_hash.bytes[0] = 1;
    h.ommers_hash = kEmptyOmmersHash;
    h.number = 7;
    h.gas_limit = 30'000'000;
    h.timestamp = 1234;
    h.base_fee_per_gas = U256(1'000'000'000);
    h.withdrawals_root = kEmptyTrieRoot;
    h.state_root.bytes[5] = 9;
    return h;
}

TEST(BlockCodec, round_trip) {
    const auto keys = dev_keys();
    const Bytes t0 = raw(make_txn(keys[0].secret_key, 0, test::addr(1), U256(5)));
    const Bytes t1 = raw(make_txn(keys[1].secret_key, 3, test::addr(2), U256(6)));
    const BlockHeader h = sample_header();
    const Bytes header_rlp = encode_header(h);
    for (const std::vector<Bytes>& txs : {std::vector<Bytes>{}, std::vector<Bytes>{t0, t1}}) {
        const Bytes payload = encode_block(header_rlp, txs);
        auto d = decode_block(payload);
        ASSERT_TRUE(d.has_value()) << d.error().message;
        EXPECT_EQ(d->header_rlp, header_rlp);
        EXPECT_EQ(header_hash(d->header), keccak256(header_rlp));
        EXPECT_EQ(d->raw_txns, txs);
        EXPECT_EQ(d->txns.size(), txs.size());
        EXPECT_EQ(encode_block(d->header_rlp, d->raw_txns), payload);
    }
}

TEST(BlockCodec, strict_rejects) {
    const auto keys = dev_keys();
    const Bytes t0 = raw(make_txn(keys[0].secret_key, 0, test::addr(1), U256(5)));
    const Bytes header_rlp = encode_header(sample_header());
    const std::vector<Bytes> one{t0};
    const Bytes good = encode_block(header_rlp, one);
    ASSERT_TRUE(decode_block(good).has_value());

    // Trailing bytes after the block.
    Bytes trailing = good;
    trailing.push_back(0x80);
    EXPECT_NE(decode_block(trailing).error().message.find("trailing"), std::string::npos);
    // Not a list.
    EXPECT_FALSE(decode_block(Bytes{0x80}).has_value());
    EXPECT_FALSE(decode_block(Bytes{}).has_value());
    // A third item.
    {
        Bytes p(header_rlp);
        Bytes txs;
        rlp::encode_bytes(txs, t0);
        rlp::encode_list(p, txs);
        rlp::encode_bytes(p, Bytes{1});
        Bytes out;
        rlp::encode_list(out, p);
        EXPECT_NE(decode_block(out).error().message.find("2 items"), std::string::npos);
    }
    // A header that is a byte string, not a list.
    {
        Bytes p;
        rlp::encode_bytes(p, header_rlp);
        Bytes txs;
        rlp::encode_list(p, txs);
        Bytes out;
        rlp::encode_list(out, p);
        EXPECT_NE(decode_block(out).error().message.find("header"), std::string::npos);
    }
    // A transaction that does not decode.
    {
        const std::vector<Bytes> bad_txn{Bytes{0x02, 0xc0}};
        const auto r = decode_block(encode_block(header_rlp, bad_txn));
        ASSERT_FALSE(r.has_value());
        EXPECT_NE(r.error().message.find("transaction 0"), std::string::npos) << r.error().message;
    }
    // The transaction list as a byte string.
    {
        Bytes p(header_rlp);
        rlp::encode_bytes(p, t0);
        Bytes out;
        rlp::encode_list(out, p);
        EXPECT_FALSE(decode_block(out).has_value());
    }
}

TEST(SignMark, suppresses_own_messages_up_to_the_mark_after_a_restart) {
    TempDir dir;
    const std::string path = (dir.path() / "signmark").string();
    {
        auto m = SignMark::open(path);
        ASSERT_TRUE(m.has_value());
        EXPECT_FALSE(m->startup_mark().has_value());
        EXPECT_TRUE(*m->allow(5, 0));
        EXPECT_TRUE(*m->allow(5, 2));
        EXPECT_TRUE(*m->allow(5, 1));  // below the mark, same session: allowed (re-broadcasts)
        EXPECT_TRUE(*m->allow(6, 0));
        EXPECT_TRUE(*m->allow(6, 1));
    }
    {
        // "Restart": the mark read now is (6, 1).
        auto m = SignMark::open(path);
        ASSERT_TRUE(m.has_value());
        ASSERT_TRUE(m->startup_mark().has_value());
        EXPECT_EQ(*m->startup_mark(), (std::pair<consensus::Height, consensus::Round>(6, 1)));
        EXPECT_FALSE(*m->allow(5, 3));
        EXPECT_FALSE(*m->allow(6, 0));
        EXPECT_FALSE(*m->allow(6, 1));
        EXPECT_EQ(m->suppressed(), 3U);
        EXPECT_TRUE(*m->allow(6, 2));
        EXPECT_TRUE(*m->allow(7, 0));
    }
    {
        auto m = SignMark::open(path);
        ASSERT_TRUE(m.has_value());
        EXPECT_EQ(*m->startup_mark(), (std::pair<consensus::Height, consensus::Round>(7, 0)));
    }
    // A corrupt mark refuses to start.
    std::ofstream(path) << "garbage\n";
    EXPECT_FALSE(SignMark::open(path).has_value());
}

TEST(SignMark, a_restarted_validator_holds_back_its_messages_up_to_the_mark) {
    // A one-validator chain decides alone (its own messages are applied locally), so it goes on
    // while the guard holds back what it would send at or below the mark.
    TempDir dir;
    const std::string genesis = test::write_consensus_genesis(dir, 1);
    const std::string datadir = (dir.path() / "v").string();
    const auto cfg = test::validator_config(datadir, genesis, 0);
    uint64_t head = 0;
    {
        auto node = test::open_node(cfg);
        ASSERT_TRUE(node);
        ASSERT_TRUE(node->start().has_value());
        ASSERT_TRUE(test::eventually([&] { return node->head().number >= 2; }));
        node->stop();
        EXPECT_EQ(node->test_suppressed_messages(), 0U);
        head = node->head().number;
    }
    // As if it had signed up to round 1 of the next height before a crash.
    std::ofstream(std::filesystem::path(datadir) / "signmark") << (head + 1) << " 1\n";
    auto node = test::open_node(cfg);
    ASSERT_TRUE(node);
    ASSERT_TRUE(node->start().has_value());
    ASSERT_TRUE(test::eventually([&] { return node->head().number >= head + 2; }));
    EXPECT_GT(node->test_suppressed_messages(), 0U);
    node->stop();
    // The mark moved on past the suppressed rounds.
    auto mark = SignMark::open((std::filesystem::path(datadir) / "signmark").string());
    ASSERT_TRUE(mark.has_value());
    EXPECT_GT(*mark->startup_mark(), (std::pair<consensus::Height, consensus::Round>(head + 1, 1)));
}

TEST(NodeKey, created_once_then_read_back) {
    TempDir dir;
    const std::string path = (dir.path() / "sub" / "nodekey").string();
    auto k1 = load_or_create_node_key(path);
    ASSERT_TRUE(k1.has_value()) << k1.error().message;
    EXPECT_EQ(std::filesystem::status(path).permissions() & std::filesystem::perms::all,
              std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    auto k2 = load_or_create_node_key(path);
    ASSERT_TRUE(k2.has_value());
    EXPECT_EQ(k1->secret, k2->secret);
    EXPECT_EQ(k1->address, *crypto::address_from_secret(k1->secret));
    std::ofstream(path) << "0x1234\n";
    EXPECT_FALSE(load_or_create_node_key(path).has_value());
}

TEST(ConsensusGenesis, validators_parsed_and_checked) {
    Genesis defaults;
    auto g = parse_genesis(
        R"({"config":{"chainId":5,"pel":{"validators":["0x00000000000000000000000000000000000000aa",
            {"address":"0x00000000000000000000000000000000000000bb","power":3}]}}})",
        defaults);
    ASSERT_TRUE(g.has_value()) << g.error().message;
    ASSERT_EQ(g->validators.size(), 2U);
    EXPECT_EQ(g->validators[1].power, 3U);
    for (
        const char* bad :
        {R"({"config":{"chainId":5,"pel":{"validators":[]}}})",
         R"({"config":{"chainId":5,"pel":{"validators":["0x12"]}}})",
         R"({"config":{"chainId":5,"pel":{"validators":["0x00000000000000000000000000000000000000aa","0x00000000000000000000000000000000000000aa"]}}})"}) {
        auto r = parse_genesis(bad, defaults);
        ASSERT_FALSE(r.has_value()) << bad;
        EXPECT_NE(r.error().message.find("config.pel.validators"), std::string::npos)
            << r.error().message;
    }
    EXPECT_FALSE(make_consensus_genesis_json(1, 30'000'000, {}, {}).has_value());
}

TEST(ConsensusNode, single_mode_rpc_status) {
    TempDir dir;
    auto node = test::open_node(test::dev_config(dir));
    ASSERT_TRUE(node);
    EXPECT_FALSE(node->consensus_mode());
    const auto call = [&](const char* method) { return test::rpc_result(*node, method); };
    EXPECT_EQ(call("pel_consensusStatus"), (nlohmann::json{{"mode", "single"}}));
    EXPECT_EQ(call("net_peerCount"), "0x0");
}

TEST(ConsensusNode, not_a_validator_is_refused) {
    TempDir dir;
    const std::string genesis = test::write_consensus_genesis(dir, 2);
    auto cfg = test::validator_config((dir.path() / "d").string(), genesis, 0);
    cfg.node_key = test::validator_key(9);
    auto n = Node::open(cfg);
    ASSERT_FALSE(n.has_value());
    EXPECT_NE(n.error().message.find("is not a validator of this genesis"), std::string::npos)
        << n.error().message;
}

TEST(ConsensusNode, old_chain_format_is_refused_and_left_unchanged) {
    // Format 1: identity rlp([genesis hash, chain id]) without a version; format 2: with version
    // 2 (receipts stored with their blooms).
    for (const uint64_t version : {uint64_t{1}, uint64_t{2}}) {
        SCOPED_TRACE("format " + std::to_string(version));
        TempDir dir;
        const std::string chaindata = (dir.path() / "chaindata").string();
        Bytes old_identity;
        {
            state::StateStoreOptions so;
            so.sync = false;
            auto store = state::StateStore::open(chaindata, so);
            ASSERT_TRUE(store.has_value());
            Bytes p;
            rlp::encode_bytes(p, Hash32{}.view());
            rlp::encode_uint(p, uint64_t{31337});
            if (version > 1) {
                rlp::encode_uint(p, version);
            }
            rlp::encode_list(old_identity, p);
            state::KvWriteBatch aux;
            aux.put(keys::identity(), old_identity);
            ASSERT_TRUE((*store)->commit(0, state::StateDiff{}, aux).has_value());
        }
        NodeConfig c = test::dev_config(dir);
        auto n = Node::open(c);
        ASSERT_FALSE(n.has_value());
        const std::string want =
            version == 1 ? "chain format version 1 (headers stored without their state root"
                         : "chain format version 2 (receipts stored with their logsBloom";
        EXPECT_NE(n.error().message.find(want), std::string::npos) << n.error().message;
        state::StateStoreOptions so;
        so.sync = false;
        auto store = state::StateStore::open(chaindata, so);
        ASSERT_TRUE(store.has_value());
        auto id = (*store)->get_aux(keys::identity());
        ASSERT_TRUE(id.has_value() && id->has_value());
        EXPECT_EQ(**id, old_identity);
        EXPECT_EQ(*(*store)->head().block_num, 0U);
    }
}

/// Replaces the header of a block payload (the transactions stay).
Bytes with_header(ByteView payload, const BlockHeader& h) {
    auto d = decode_block(payload);
    EXPECT_TRUE(d.has_value());
    return encode_block(encode_header(h), d->raw_txns);
}

TEST(ConsensusNode, validate_accepts_a_proposal_and_rejects_tampered_ones) {
    TempDir dir;
    const std::string genesis = test::write_consensus_genesis(dir, 2);
    auto proposer =
        test::open_node(test::validator_config((dir.path() / "a").string(), genesis, 0));
    auto checker = test::open_node(test::validator_config((dir.path() / "b").string(), genesis, 1));
    ASSERT_TRUE(proposer && checker);
    const auto keys = dev_keys();
    for (uint64_t nonce = 0; nonce < 3; ++nonce) {
        ASSERT_TRUE(proposer
                        ->submit_raw_transaction(
                            raw(make_txn(keys[0].secret_key, nonce, test::addr(7), U256(1000))))
                        .has_value());
    }
    auto payload = proposer->test_propose();
    ASSERT_TRUE(payload.has_value()) << payload.error().message;
    auto block = decode_block(*payload);
    ASSERT_TRUE(block.has_value());
    ASSERT_EQ(block->txns.size(), 3U);

    const auto expect_reject = [&](const Bytes& p, const std::string& what) {
        auto r = checker->test_validate(p);
        ASSERT_FALSE(r.has_value()) << "accepted a block with a bad " << what;
        EXPECT_NE(r.error().message.find(what), std::string::npos) << r.error().message;
    };
    {
        BlockHeader h = block->header;
        h.state_root.bytes[0] ^= 1;
        expect_reject(with_header(*payload, h), "stateRoot");
    }
    {
        BlockHeader h = block->header;
        h.parent_hash.bytes[0] ^= 1;
        expect_reject(with_header(*payload, h), "parentHash");
    }
    {
        BlockHeader h = block->header;
        h.gas_used += 1;
        expect_reject(with_header(*payload, h), "gasUsed");
    }
    {
        BlockHeader h = block->header;
        h.timestamp += 3600;
        expect_reject(with_header(*payload, h), "timestamp");
    }
    {
        // A transaction the sender cannot pay for (the header is otherwise unchanged).
        std::vector<Bytes> txs = block->raw_txns;
        txs[2] = raw(make_txn(keys[0].secret_key, 2, test::addr(7), test::eth(1'000'000)));
        expect_reject(encode_block(block->header_rlp, txs), "transaction 2");
    }
    {
        // A transaction out of nonce order.
        std::vector<Bytes> txs = block->raw_txns;
        std::swap(txs[0], txs[1]);
        expect_reject(encode_block(block->header_rlp, txs), "transaction 0");
    }
    {
        std::vector<Bytes> txs = block->raw_txns;
        txs.pop_back();
        expect_reject(encode_block(block->header_rlp, txs), "transactionsRoot");
    }
    expect_reject(Bytes{0xc0}, "block");
    // The untampered proposal is valid, also after the rejected ones.
    auto ok = checker->test_validate(*payload);
    EXPECT_TRUE(ok.has_value()) << ok.error().message;
}

}  // namespace
}  // namespace pel::node
