// SPDX-License-Identifier: Apache-2.0
// Helpers for the consensus-mode node tests: validator keys, a devnet genesis file, node configs.
#pragma once

#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "node/dev_accounts.hpp"
#include "node/genesis.hpp"
#include "node/node.hpp"
#include "node/rpc_dispatch.hpp"
#include "node/rpc_eth.hpp"
#include "primitives/secp256k1.hpp"
#include "tests/unit/node/core_test_util.hpp"

namespace pel::node::test {

/// Deterministic validator key number i (i + 1 in the last byte; valid secp256k1 keys).
inline Hash32 validator_key(uint8_t i) {
    Hash32 k;
    k.bytes[0] = 0x42;
    k.bytes[31] = static_cast<uint8_t>(i + 1);
    return k;
}

inline Address validator_address(uint8_t i) {
    return *crypto::address_from_secret(validator_key(i));
}

/// The dev accounts (keys), as the devnet genesis funds them.
inline std::vector<DevAccount> dev_keys() { return *derive_dev_accounts(kDevMnemonic, 10); }

/// Writes a consensus genesis with `n` validators (validator_key(0..n-1)) to dir/genesis.json.
inline std::string write_consensus_genesis(const TempDir& dir, size_t n) {
    std::vector<Address> vs;
    for (size_t i = 0; i < n; ++i) {
        vs.push_back(validator_address(static_cast<uint8_t>(i)));
    }
    std::vector<Address> funded;
    for (const auto& d : dev_keys()) {
        funded.push_back(d.address);
    }
    const auto text = make_consensus_genesis_json(31337, 30'000'000, vs, funded);
    EXPECT_TRUE(text.has_value());
    const std::string path = (dir.path() / "genesis.json").string();
    std::ofstream(path) << *text;
    return path;
}

/// A consensus-mode config with short timeouts for loopback tests.
inline NodeConfig validator_config(const std::string& datadir, const std::string& genesis,
                                   uint8_t index) {
    NodeConfig c;
    c.datadir = datadir;
    c.genesis_path = genesis;
    c.sync = false;
    c.threads = 1;
    c.node_key = validator_key(index);
    c.p2p_port = 0;
    c.block_time_s = 0.2;
    c.timeouts = consensus::TimeoutConfig{800, 200, 300, 100, 300, 100, 300};
    c.on_fatal = [](const std::string& msg) { ADD_FAILURE() << "fatal: " << msg; };
    return c;
}

/// The "result" of a JSON-RPC call without params to `node` through the real dispatcher and the
/// eth_/net_/pel_ methods (a failed call is a test failure and gives null).
inline nlohmann::json rpc_result(Node& node, const std::string& method) {
    rpc::Dispatcher d{rpc::DispatcherOptions{}};
    rpc::EthRpc eth(node, rpc::EthRpcOptions{});
    eth.register_methods(d);
    const auto out =
        d.handle(R"({"jsonrpc":"2.0","id":1,"method":")" + method + R"(","params":[]})");
    EXPECT_TRUE(out.has_value());
    if (!out) {
        return nullptr;
    }
    const auto reply = nlohmann::json::parse(*out);
    EXPECT_TRUE(reply.contains("result")) << *out;
    return reply.value("result", nlohmann::json());
}

}  // namespace pel::node::test
