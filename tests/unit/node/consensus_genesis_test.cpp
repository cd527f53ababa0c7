// SPDX-License-Identifier: Apache-2.0
// The consensus genesis commits to its validator set: extraData = keccak256(rlp([[address,
// power], ...])) in ascending address order, so the genesis hash changes with the set (not with
// the order the JSON lists it in). A wrong explicit extraData is refused; a datadir made with one
// set is refused with another; nodes with different sets refuse each other at the handshake;
// a block built on another set's genesis is refused by its parentHash.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "node/chain.hpp"
#include "node/genesis.hpp"
#include "primitives/keccak.hpp"
#include "state/kv_store.hpp"
#include "state/state_view.hpp"
#include "tests/unit/node/consensus_test_util.hpp"

namespace pel::node {
namespace {

using namespace std::chrono_literals;
using test::TempDir;

/// One entry of config.pel.validators: validator_address(i) with `power` (0: the plain string
/// form, power 1).
struct Entry {
    uint8_t key = 0;
    uint64_t power = 0;
};

/// A consensus genesis.json listing `entries` in the given order, the dev accounts funded, and
/// `extra` as extraData when non-empty.
std::string genesis_json(const std::vector<Entry>& entries, const std::string& extra = "") {
    nlohmann::json vs = nlohmann::json::array();
    for (const Entry& e : entries) {
        const std::string a = test::validator_address(e.key).to_hex();
        if (e.power == 0) {
            vs.push_back(a);
        } else {
            vs.push_back(nlohmann::json{{"address", a}, {"power", e.power}});
        }
    }
    nlohmann::json alloc = nlohmann::json::object();
    for (const auto& d : test::dev_keys()) {
        alloc[d.address.to_hex()] = nlohmann::json{{"balance", dev_account_balance().to_hex()}};
    }
    nlohmann::json j;
    j["config"] = nlohmann::json{{"chainId", 31337}, {"pel", nlohmann::json{{"validators", vs}}}};
    j["gasLimit"] = "0x1c9c380";
    j["alloc"] = std::move(alloc);
    if (!extra.empty()) {
        j["extraData"] = extra;
    }
    return j.dump();
}

Genesis parsed(const std::string& json) {
    auto g = parse_genesis(json, Genesis{});
    EXPECT_TRUE(g.has_value()) << g.error().message;
    return g ? *g : Genesis{};
}

Hash32 hash_of(const Genesis& g) { return header_hash(genesis_header(g, genesis_state_root(g))); }

std::string write(const TempDir& dir, const std::string& name, const std::string& text) {
    const std::string path = (dir.path() / name).string();
    std::ofstream(path) << text;
    return path;
}

TEST(GenesisValidators, commitment_is_keccak_of_rlp_address_power_pairs_in_address_order) {
    // Spelled out byte by byte (not through rlp::): two validators 0x11.. (power 1) and 0x22..
    // (power 2), listed in reverse order.
    Address lo;
    Address hi;
    lo.bytes.fill(0x11);
    hi.bytes.fill(0x22);
    Bytes expected_rlp{0xee};  // list, 46-byte payload
    for (const auto& [a, power] : {std::pair{lo, uint8_t{1}}, std::pair{hi, uint8_t{2}}}) {
        expected_rlp.push_back(0xd6);  // list, 22-byte payload
        expected_rlp.push_back(0x94);  // 20-byte string
        expected_rlp.insert(expected_rlp.end(), a.bytes.begin(), a.bytes.end());
        expected_rlp.push_back(power);
    }
    ASSERT_EQ(expected_rlp.size(), 47U);
    const Hash32 expected = keccak256(expected_rlp);
    EXPECT_EQ(validator_set_commitment({{hi, 2}, {lo, 1}}), expected);
    EXPECT_EQ(validator_set_commitment({{lo, 1}, {hi, 2}}), expected);

    auto g = parse_genesis(R"({"config":{"chainId":5,"pel":{"validators":[{"address":")" +
                               hi.to_hex() + R"(","power":2},")" + lo.to_hex() + R"("]}}})",
                           Genesis{});
    ASSERT_TRUE(g.has_value()) << g.error().message;
    EXPECT_EQ(g->validators,
              (std::vector<consensus::Validator>{{lo, 1}, {hi, 2}}));  // canonical order
    EXPECT_EQ(g->extra_data, Bytes(expected.bytes.begin(), expected.bytes.end()));
    const BlockHeader h = genesis_header(*g, genesis_state_root(*g));
    EXPECT_EQ(h.extra_data, g->extra_data);
}

TEST(GenesisValidators, same_set_in_another_order_gives_the_same_genesis) {
    const Genesis a = parsed(genesis_json({{0}, {1, 3}, {2}, {3}}));
    const Genesis b = parsed(genesis_json({{3}, {2}, {0}, {1, 3}}));
    ASSERT_EQ(a.validators.size(), 4U);
    EXPECT_TRUE(std::ranges::is_sorted(a.validators, {}, &consensus::Validator::address));
    EXPECT_EQ(a.validators, b.validators);  // the engine gets the same order (proposer rotation)
    EXPECT_EQ(a.extra_data.size(), 32U);
    EXPECT_EQ(a.extra_data, b.extra_data);
    EXPECT_EQ(hash_of(a), hash_of(b));
}

TEST(GenesisValidators, another_set_gives_another_genesis) {
    const Genesis base = parsed(genesis_json({{0}, {1}, {2}, {3}}));
    const Hash32 h = hash_of(base);
    for (const auto& other : {std::vector<Entry>{{0}, {1}, {2}},             // one fewer
                              std::vector<Entry>{{0}, {1}, {2}, {3}, {4}},   // one more
                              std::vector<Entry>{{0}, {1}, {2}, {5}},        // one replaced
                              std::vector<Entry>{{0}, {1}, {2}, {3, 2}}}) {  // another power
        const Genesis g = parsed(genesis_json(other));
        EXPECT_NE(g.extra_data, base.extra_data) << other.size();
        EXPECT_NE(hash_of(g), h) << other.size();
        EXPECT_EQ(genesis_state_root(g), genesis_state_root(base));  // same alloc
    }
}

TEST(GenesisValidators, explicit_extra_data_must_be_the_commitment) {
    const Genesis plain = parsed(genesis_json({{0}, {1}}));
    const std::string derived = to_hex(plain.extra_data);
    // Right: accepted, same genesis as without it ("0x" counts as not given).
    for (const std::string& ok : {derived, std::string("0x")}) {
        const Genesis g = parsed(genesis_json({{1}, {0}}, ok));
        EXPECT_EQ(g.extra_data, plain.extra_data) << ok;
        EXPECT_EQ(hash_of(g), hash_of(plain)) << ok;
    }
    // Wrong: refused, naming the field and the derived value. The commitment of another set is
    // wrong too.
    const std::string other_set = to_hex(parsed(genesis_json({{0}, {1}, {2}})).extra_data);
    for (const std::string& bad :
         {std::string("0x1234"), "0x" + std::string(64, '0'), derived + "00", other_set}) {
        auto r = parse_genesis(genesis_json({{0}, {1}}, bad), Genesis{});
        ASSERT_FALSE(r.has_value()) << bad;
        EXPECT_NE(r.error().message.find("field 'extraData'"), std::string::npos)
            << r.error().message;
        EXPECT_NE(r.error().message.find(derived), std::string::npos) << r.error().message;
    }
}

TEST(GenesisValidators, single_node_genesis_keeps_its_extra_data) {
    auto g = parse_genesis(R"({"config":{"chainId":5},"extraData":"0x1234"})", Genesis{});
    ASSERT_TRUE(g.has_value()) << g.error().message;
    EXPECT_TRUE(g->validators.empty());
    EXPECT_EQ(g->extra_data, (Bytes{0x12, 0x34}));
    EXPECT_EQ(genesis_header(*g, genesis_state_root(*g)).extra_data, (Bytes{0x12, 0x34}));
    // config.pel without validators is single-node too.
    auto p = parse_genesis(R"({"config":{"chainId":5,"pel":{}},"extraData":"0xab"})", Genesis{});
    ASSERT_TRUE(p.has_value()) << p.error().message;
    EXPECT_EQ(p->extra_data, (Bytes{0xab}));
}

TEST(GenesisValidators, init_genesis_json_writes_the_commitment_and_ignores_the_order) {
    const std::vector<Address> fwd{test::validator_address(0), test::validator_address(1),
                                   test::validator_address(2)};
    const std::vector<Address> rev(fwd.rbegin(), fwd.rend());
    auto a = make_consensus_genesis_json(31337, 30'000'000, fwd, {});
    auto b = make_consensus_genesis_json(31337, 30'000'000, rev, {});
    ASSERT_TRUE(a.has_value() && b.has_value());
    EXPECT_EQ(*a, *b);
    const auto j = nlohmann::json::parse(*a);
    const Genesis g = parsed(*a);
    EXPECT_EQ(j.at("extraData").get<std::string>(), to_hex(g.extra_data));
    std::vector<consensus::Validator> set;
    for (const Address& x : fwd) {
        set.push_back({x, 1});
    }
    EXPECT_EQ(g.extra_data.size(), 32U);
    EXPECT_TRUE(std::ranges::equal(g.extra_data, validator_set_commitment(set).view()));
}

TEST(GenesisValidators, datadir_of_one_set_is_refused_with_another_and_left_unchanged) {
    TempDir dir;
    const std::string datadir = (dir.path() / "d").string();
    const std::string two = write(dir, "two.json", genesis_json({{0}, {1}}));
    const std::string two_reversed = write(dir, "two_rev.json", genesis_json({{1}, {0}}));
    const std::string three = write(dir, "three.json", genesis_json({{0}, {1}, {2}}));
    Hash32 created;
    {
        auto n = test::open_node(test::validator_config(datadir, two, 0));
        ASSERT_TRUE(n);
        created = n->genesis_hash();
    }
    // What the refused open must leave alone: the chain records, the state head and the
    // validator's sign mark. (LevelDB's own files change on any open: it compacts its log.)
    const auto snapshot = [&] {
        std::vector<Bytes> out;
        {
            state::StateStoreOptions so;
            so.sync = false;
            auto store = state::StateStore::open((dir.path() / "d" / "chaindata").string(), so);
            EXPECT_TRUE(store.has_value());
            if (!store) {
                return out;
            }
            for (const Bytes& key : {keys::identity(), keys::header(0), keys::header(1)}) {
                auto v = (*store)->get_aux(key);
                EXPECT_TRUE(v.has_value());
                out.push_back(v && *v ? **v : Bytes{});
            }
            const state::StateHead head = (*store)->head();
            out.push_back(Bytes(head.state_root.bytes.begin(), head.state_root.bytes.end()));
            out.push_back(Bytes{static_cast<uint8_t>(head.block_num.value_or(99))});
        }
        std::ifstream mark(dir.path() / "d" / "signmark", std::ios::binary);
        out.emplace_back(std::istreambuf_iterator<char>(mark), std::istreambuf_iterator<char>());
        return out;
    };
    const auto before = snapshot();
    auto refused = Node::open(test::validator_config(datadir, three, 0));
    ASSERT_FALSE(refused.has_value());
    const std::string& msg = refused.error().message;
    EXPECT_NE(msg.find("was created with genesis " + created.to_hex()), std::string::npos) << msg;
    EXPECT_NE(msg.find("this node's genesis is 0x"), std::string::npos) << msg;
    EXPECT_EQ(msg.find("this node's genesis is " + created.to_hex()), std::string::npos) << msg;
    EXPECT_EQ(snapshot(), before);
    EXPECT_FALSE(before[0].empty());  // the identity record was there to compare
    // The same set listed in another order is the same chain: the datadir opens, unchanged.
    auto again = test::open_node(test::validator_config(datadir, two_reversed, 0));
    ASSERT_TRUE(again);
    EXPECT_EQ(again->genesis_hash(), created);
    EXPECT_EQ(again->head().number, 0U);
    EXPECT_EQ(again->head().hash, created);
}

TEST(GenesisValidators, block_built_on_another_sets_genesis_is_refused) {
    TempDir dir;
    const std::string two = write(dir, "two.json", genesis_json({{0}, {1}}));
    const std::string three = write(dir, "three.json", genesis_json({{0}, {1}, {2}}));
    auto other = test::open_node(test::validator_config((dir.path() / "a").string(), three, 0));
    auto checker = test::open_node(test::validator_config((dir.path() / "b").string(), two, 1));
    ASSERT_TRUE(other && checker);
    ASSERT_NE(other->genesis_hash(), checker->genesis_hash());
    auto payload = other->test_propose();
    ASSERT_TRUE(payload.has_value()) << payload.error().message;
    auto r = checker->test_validate(*payload);
    ASSERT_FALSE(r.has_value());
    EXPECT_NE(r.error().message.find("parentHash " + other->genesis_hash().to_hex()),
              std::string::npos)
        << r.error().message;
}

TEST(GenesisValidators, nodes_with_another_set_refuse_each_other_at_the_handshake) {
    // Node 0 runs {v0, v1}; node 1 runs {v0, v1, v2}: each is in the other's set (so the
    // allowed-ids check passes), same chain id and alloc, but the genesis hashes differ.
    TempDir dir;
    const std::string two = write(dir, "two.json", genesis_json({{0}, {1}}));
    const std::string two_reversed = write(dir, "two_rev.json", genesis_json({{1}, {0}}));
    const std::string three = write(dir, "three.json", genesis_json({{0}, {1}, {2}}));
    auto n0 = test::open_node(test::validator_config((dir.path() / "n0").string(), two, 0));
    ASSERT_TRUE(n0);
    ASSERT_TRUE(n0->start().has_value());
    const auto dialling_n0 = [&](const std::string& genesis, const std::string& datadir) {
        auto c = test::validator_config((dir.path() / datadir).string(), genesis, 1);
        c.peers.push_back(
            net::PeerAddress{"127.0.0.1", n0->p2p_port(), test::validator_address(0)});
        auto n = test::open_node(c);
        EXPECT_TRUE(n && n->start().has_value());
        return n;
    };
    {
        auto n1 = dialling_n0(three, "n1");
        ASSERT_TRUE(n1);
        std::this_thread::sleep_for(2s);
        EXPECT_EQ(n0->peer_count(), 0U);
        EXPECT_EQ(n1->peer_count(), 0U);
        n1->stop();
    }
    // Control: the same set in another order connects (same genesis hash).
    auto n2 = dialling_n0(two_reversed, "n2");
    ASSERT_TRUE(n2);
    EXPECT_TRUE(
        test::eventually([&] { return n0->peer_count() == 1 && n2->peer_count() == 1; }, 10s))
        << "nodes with the same set did not connect";
    n2->stop();
    n0->stop();
}

}  // namespace
}  // namespace pel::node
