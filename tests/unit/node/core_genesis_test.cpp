// SPDX-License-Identifier: Apache-2.0
#include <fstream>

#include <gtest/gtest.h>

#include "node/chain.hpp"
#include "node/genesis.hpp"
#include "primitives/keccak.hpp"
#include "primitives/rlp.hpp"
#include "tests/unit/node/core_test_util.hpp"

namespace pel::node {
namespace {

using test::TempDir;

const char* kGoodGenesis = R"({
  "config": {"chainId": 1337, "londonBlock": 0},
  "gasLimit": "0x1c9c380",
  "baseFeePerGas": "0x3b9aca00",
  "timestamp": "0x10",
  "extraData": "0x1234",
  "difficulty": "0x0",
  "coinbase": "0x0000000000000000000000000000000000000abc",
  "alloc": {
    "f39Fd6e51aad88F6F4ce6aB8827279cffFb92266": {"balance": "1000000000000000000000"},
    "0x0000000000000000000000000000000000001234": {
      "balance": "0x1", "nonce": "0x2", "code": "0x6001600055",
      "storage": {"0x01": "0x02", "0x0000000000000000000000000000000000000000000000000000000000000003": "0x00"}
    }
  }
})";

TEST(Genesis, parses_geth_fields) {
    auto g = parse_genesis(kGoodGenesis, Genesis{});
    ASSERT_TRUE(g.has_value()) << g.error().message;
    EXPECT_EQ(g->chain_id, 1337U);
    EXPECT_EQ(g->gas_limit, 30'000'000U);
    EXPECT_EQ(g->base_fee, U256(1'000'000'000));
    EXPECT_EQ(g->timestamp, 16U);
    EXPECT_EQ(g->extra_data, (Bytes{0x12, 0x34}));
    EXPECT_EQ(g->coinbase.bytes[19], 0xbc);
    ASSERT_EQ(g->alloc.size(), 2U);
    const auto& c = g->alloc.at(*Address::from_hex("0x0000000000000000000000000000000000001234"));
    EXPECT_EQ(c.nonce, 2U);
    EXPECT_EQ(c.code, (Bytes{0x60, 0x01, 0x60, 0x00, 0x55}));
    ASSERT_EQ(c.storage.size(), 1U);  // the zero value is not stored
    EXPECT_EQ(c.storage.at(U256(1)), U256(2));
    EXPECT_EQ(g->alloc.at(*Address::from_hex("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266")).balance,
              U256(1000) * U256(1'000'000'000'000'000'000ULL));
}

TEST(Genesis, errors_name_the_field) {
    const auto err = [](const std::string& text) {
        auto g = parse_genesis(text, Genesis{});
        EXPECT_FALSE(g.has_value()) << text;
        return g ? std::string() : g.error().message;
    };
    EXPECT_NE(err("{").find("not valid JSON"), std::string::npos);
    EXPECT_NE(err(R"({"alloc": {}})").find("'config'"), std::string::npos);
    EXPECT_NE(err(R"({"config": {}})").find("'config.chainId'"), std::string::npos);
    EXPECT_NE(err(R"({"config": {"chainId": "zz"}})").find("'config.chainId'"), std::string::npos);
    EXPECT_NE(err(R"({"config": {"chainId": 1}, "gasLimit": "0xnope"})").find("'gasLimit'"),
              std::string::npos);
    EXPECT_NE(err(R"({"config": {"chainId": 1}, "alloc": {"0x12": {"balance": "1"}}})")
                  .find("'alloc.0x12'"),
              std::string::npos);
    EXPECT_NE(
        err(R"({"config": {"chainId": 1}, "alloc": {"0x0000000000000000000000000000000000001234": {"balance": "-1"}}})")
            .find("balance"),
        std::string::npos);
    EXPECT_NE(
        err(R"({"config": {"chainId": 1}, "alloc": {"0x0000000000000000000000000000000000001234": {"code": "0x6"}}})")
            .find(".code"),
        std::string::npos);
}

TEST(Genesis, node_from_genesis_file_has_its_alloc_and_chain_id) {
    TempDir dir;
    const auto file = dir.path() / "genesis.json";
    std::ofstream(file) << kGoodGenesis;
    NodeConfig c = test::dev_config(dir);
    c.datadir = (dir.path() / "data").string();
    c.genesis_path = file.string();
    auto node = test::open_node(c);
    ASSERT_TRUE(node);
    EXPECT_EQ(node->chain_id(), 1337U);
    EXPECT_TRUE(node->accounts().empty());
    const Address contract = *Address::from_hex("0x0000000000000000000000000000000000001234");
    EXPECT_EQ(*node->nonce(contract, BlockSelector::latest()), 2U);
    EXPECT_EQ(*node->code(contract, BlockSelector::latest()),
              (Bytes{0x60, 0x01, 0x60, 0x00, 0x55}));
    EXPECT_EQ(U256::from_hash(*node->storage_at(contract, U256(1), BlockSelector::latest())),
              U256(2));
    auto b0 = node->block_by_number(BlockSelector::at(0));
    ASSERT_TRUE(b0.has_value() && b0->has_value());
    const BlockHeader& h = (*b0)->header;
    EXPECT_EQ(h.timestamp, 16U);
    EXPECT_EQ(h.gas_limit, 30'000'000U);
    EXPECT_EQ(h.extra_data, (Bytes{0x12, 0x34}));
    EXPECT_EQ(h.ommers_hash, keccak256(Bytes{0xc0}));
    EXPECT_EQ((*b0)->hash, node->genesis_hash());
    EXPECT_EQ((*b0)->hash, keccak256(encode_header(h)));
    EXPECT_EQ(h.state_root, genesis_state_root(*parse_genesis(kGoodGenesis, Genesis{})));
}

TEST(Genesis, bad_file_is_refused_with_its_name) {
    TempDir dir;
    const auto file = dir.path() / "genesis.json";
    std::ofstream(file) << R"({"config": {"chainId": 5}, "timestamp": []})";
    NodeConfig c = test::dev_config(dir);
    c.datadir = (dir.path() / "data").string();
    c.genesis_path = file.string();
    auto node = Node::open(c);
    ASSERT_FALSE(node.has_value());
    EXPECT_NE(node.error().message.find("genesis.json"), std::string::npos);
    EXPECT_NE(node.error().message.find("'timestamp'"), std::string::npos);
    c.genesis_path = (dir.path() / "missing.json").string();
    EXPECT_FALSE(Node::open(c).has_value());
}

TEST(Genesis, dev_genesis_hash_is_stable_and_another_genesis_is_refused) {
    TempDir dir;
    Hash32 first;
    {
        auto node = test::open_node(test::dev_config(dir));
        ASSERT_TRUE(node);
        first = node->genesis_hash();
        EXPECT_EQ(node->accounts().size(), 10U);
        EXPECT_EQ(*node->balance(node->accounts()[0], BlockSelector::latest()),
                  dev_account_balance());
    }
    {
        auto node = test::open_node(test::dev_config(dir));
        ASSERT_TRUE(node);
        EXPECT_EQ(node->genesis_hash(), first);
        EXPECT_EQ(node->head().hash, first);
    }
    // Same datadir, another chain id: refused, and the datadir is unchanged.
    NodeConfig other = test::dev_config(dir);
    other.chain_id = 1;
    auto refused = Node::open(other);
    ASSERT_FALSE(refused.has_value());
    EXPECT_NE(refused.error().message.find("was created with genesis " + first.to_hex()),
              std::string::npos)
        << refused.error().message;
    // Same datadir, a genesis file: refused too.
    const auto file = dir.path() / "g.json";
    std::ofstream(file) << kGoodGenesis;
    NodeConfig with_file = test::dev_config(dir);
    with_file.genesis_path = file.string();
    EXPECT_FALSE(Node::open(with_file).has_value());
    auto again = test::open_node(test::dev_config(dir));
    ASSERT_TRUE(again);
    EXPECT_EQ(again->genesis_hash(), first);
}

TEST(Genesis, header_rlp_round_trips) {
    BlockHeader h;
    h.parent_hash.bytes[0] = 1;
    h.number = 42;
    h.gas_limit = 30'000'000;
    h.gas_used = 21000;
    h.timestamp = 1'700'000'000;
    h.extra_data = {1, 2, 3};
    h.nonce = 0x0102030405060708ULL;
    h.base_fee_per_gas = U256(7);
    h.logs_bloom[3] = 9;
    h.blob_gas_used = 131072;
    h.excess_blob_gas = 5;
    auto d = decode_header(encode_header(h));
    ASSERT_TRUE(d.has_value()) << d.error().message;
    EXPECT_EQ(*d, h);
    Bytes bad = encode_header(h);
    bad.push_back(0);
    EXPECT_FALSE(decode_header(bad).has_value());
}

// The history window's records ("xo" num): what decodes encodes back to the same bytes, and what
// is not in canonical order or form is refused.
TEST(ChainRecords, old_values_round_trip_and_strict_decoding) {
    OldValues v;
    OldAccount absent;  // created by the block
    v.accounts[test::addr(3)] = absent;
    OldAccount held;
    held.account = state::Account{7, U256(1000), kEmptyTrieRoot, kEmptyCodeHash};
    held.account->storage_root.bytes[0] = 0xab;
    held.slots = {{U256(2), U256(0)}, {U256(1), U256(5)}, {U256(1) << 200, U256(9)}};
    v.accounts[test::addr(1)] = held;
    OldAccount wiped = held;
    wiped.wiped = true;
    v.accounts[test::addr(2)] = wiped;
    auto dev = std::make_shared<state::StateDiff>();
    state::AccountDiff set;
    set.balance = U256(5);
    set.code = state::CodeChange{keccak256(Bytes{0x00}), Bytes{0x00}};
    set.storage = {{U256(4), U256(1)}, {U256(3), U256(0)}};
    dev->accounts[test::addr(9)] = set;
    state::AccountDiff gone;
    gone.deleted = true;
    dev->accounts[test::addr(8)] = gone;
    state::AccountDiff nonce_only;
    nonce_only.nonce = 3;
    nonce_only.storage_cleared = true;
    dev->accounts[test::addr(7)] = nonce_only;
    v.dev_changes = dev;

    const Bytes enc = encode_old_values(v);
    auto d = decode_old_values(enc);
    ASSERT_TRUE(d.has_value()) << d.error().message;
    EXPECT_EQ(d->accounts, v.accounts);
    ASSERT_TRUE(d->dev_changes);
    ASSERT_EQ(d->dev_changes->accounts.size(), 3U);
    const auto& s9 = d->dev_changes->accounts.at(test::addr(9));
    EXPECT_EQ(s9.balance, U256(5));
    EXPECT_FALSE(s9.nonce.has_value());
    ASSERT_TRUE(s9.code.has_value());
    EXPECT_EQ(s9.code->bytes, Bytes{0x00});
    EXPECT_EQ(s9.storage, set.storage);
    EXPECT_TRUE(d->dev_changes->accounts.at(test::addr(8)).deleted);
    EXPECT_TRUE(d->dev_changes->accounts.at(test::addr(7)).storage_cleared);
    EXPECT_EQ(d->dev_changes->accounts.at(test::addr(7)).nonce, 3U);
    EXPECT_EQ(encode_old_values(*d), enc);

    OldValues none;  // an empty block, no dev changes
    auto e = decode_old_values(encode_old_values(none));
    ASSERT_TRUE(e.has_value()) << e.error().message;
    EXPECT_TRUE(e->accounts.empty());
    EXPECT_FALSE(e->dev_changes);

    // Refused: trailing bytes, a truncated record, accounts out of order, an unknown flag.
    Bytes trailing = enc;
    trailing.push_back(0);
    EXPECT_FALSE(decode_old_values(trailing).has_value());
    EXPECT_FALSE(decode_old_values(ByteView(enc).first(enc.size() - 1)).has_value());
    const auto account_item = [](const Address& a, uint64_t wiped_flag) {
        Bytes item;
        rlp::encode_bytes(item, a.view());
        rlp::encode_bytes(item, {});
        rlp::encode_uint(item, wiped_flag);
        rlp::encode_list(item, {});
        Bytes out;
        rlp::encode_list(out, item);
        return out;
    };
    const auto record = [](const Bytes& accounts) {
        Bytes payload;
        rlp::encode_list(payload, accounts);
        rlp::encode_bytes(payload, {});
        Bytes out;
        rlp::encode_list(out, payload);
        return out;
    };
    Bytes ordered = account_item(test::addr(1), 0);
    append(ordered, account_item(test::addr(2), 1));
    EXPECT_TRUE(decode_old_values(record(ordered)).has_value());
    Bytes reversed = account_item(test::addr(2), 0);
    append(reversed, account_item(test::addr(1), 0));
    auto r = decode_old_values(record(reversed));
    ASSERT_FALSE(r.has_value());
    EXPECT_NE(r.error().message.find("out of order"), std::string::npos) << r.error().message;
    Bytes twice = account_item(test::addr(1), 0);
    append(twice, account_item(test::addr(1), 0));
    EXPECT_FALSE(decode_old_values(record(twice)).has_value());
    auto f = decode_old_values(record(account_item(test::addr(1), 2)));
    ASSERT_FALSE(f.has_value());
    EXPECT_NE(f.error().message.find("wiped flag"), std::string::npos) << f.error().message;
}

TEST(Genesis, base_fee_update_rule) {
    BlockHeader p;
    p.gas_limit = 30'000'000;
    p.base_fee_per_gas = U256(1'000'000'000);
    p.gas_used = 15'000'000;
    EXPECT_EQ(next_base_fee(p), U256(1'000'000'000));
    p.gas_used = 30'000'000;
    EXPECT_EQ(next_base_fee(p), U256(1'125'000'000));
    p.gas_used = 0;
    EXPECT_EQ(next_base_fee(p), U256(875'000'000));
    p.base_fee_per_gas = U256(7);
    EXPECT_EQ(next_base_fee(p), U256(7));
    p.gas_used = 15'000'001;
    EXPECT_EQ(next_base_fee(p), U256(8));  // at least 1 up
    p.excess_blob_gas = 400'000;
    p.blob_gas_used = 0;
    EXPECT_EQ(next_excess_blob_gas(p), 400'000U - kTargetBlobGasPerBlock);
    p.excess_blob_gas = 1;
    EXPECT_EQ(next_excess_blob_gas(p), 0U);
}

}  // namespace
}  // namespace pel::node
