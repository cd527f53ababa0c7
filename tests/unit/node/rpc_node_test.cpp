// SPDX-License-Identifier: Apache-2.0
// The RPC layer on a real in-process node (temporary datadir, automine): a raw transaction sent
// through eth_sendRawTransaction is mined, its receipt and logs are readable through the RPC,
// and admission errors come back as -32000 with geth's strings.
#include <filesystem>
#include <random>
#include <thread>

#include <gtest/gtest.h>

#include "node/json_codec.hpp"
#include "node/node.hpp"
#include "node/rpc_dispatch.hpp"
#include "node/rpc_eth.hpp"
#include "primitives/keccak.hpp"
#include "primitives/transaction.hpp"

namespace pel::node::rpc {
namespace {

class NodeRpcTest : public ::testing::Test {
  protected:
    void SetUp() override {
        std::random_device rd;
        dir_ = std::filesystem::temp_directory_path() /
               ("pel_rpc_node_test_" + std::to_string(rd()) + std::to_string(rd()));
        NodeConfig cfg;
        cfg.datadir = dir_.string();
        cfg.block_time_s = 0;
        cfg.threads = 2;
        cfg.sync = false;
        auto n = Node::open(cfg);
        ASSERT_TRUE(n) << n.error().message;
        node_ = std::move(n).value();
        ASSERT_TRUE(node_->start());
        eth_ = std::make_unique<EthRpc>(*node_);
        eth_->register_methods(d_);
    }
    void TearDown() override {
        eth_.reset();
        if (node_) {
            node_->stop();
        }
        node_.reset();
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }

    Json call(const std::string& method, Json params) {
        const Json req{{"jsonrpc", "2.0"}, {"id", 1}, {"method", method}, {"params", params}};
        const auto out = d_.handle(req.dump());
        EXPECT_TRUE(out.has_value());
        return Json::parse(*out);
    }

    /// Polls for the receipt (automine makes the block right after admission).
    Json wait_receipt(const std::string& hash) {
        for (int i = 0; i < 200; ++i) {
            auto r = call("eth_getTransactionReceipt", {hash});
            if (r.contains("result") && !r["result"].is_null()) {
                return r["result"];
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(25));
        }
        ADD_FAILURE() << "no receipt for " << hash;
        return Json();
    }

    Transaction signed_txn(uint64_t nonce, Bytes data, std::optional<Address> to) {
        Transaction t;
        t.type = TxnType::kDynamicFee;
        t.chain_id = node_->chain_id();
        t.nonce = nonce;
        t.max_priority_fee_per_gas = U256(1'000'000'000);
        t.max_fee_per_gas = U256(10'000'000'000ULL);
        t.gas_limit = 200'000;
        t.to = to;
        t.data = std::move(data);
        EXPECT_TRUE(sign_transaction(t, node_->dev_accounts().at(0).secret_key));
        return t;
    }

    std::filesystem::path dir_;
    std::unique_ptr<Node> node_;
    Dispatcher d_;
    std::unique_ptr<EthRpc> eth_;
};

TEST_F(NodeRpcTest, raw_transaction_is_mined_and_its_receipt_and_logs_are_served) {
    ASSERT_FALSE(node_->dev_accounts().empty());
    const Address sender = node_->dev_accounts()[0].address;
    EXPECT_EQ(call("eth_accounts", Json::array())["result"][0], json::address(sender));
    EXPECT_EQ(call("eth_chainId", Json::array())["result"], "0x7a69");

    // Init code: LOG1(offset 0, size 0, topic) then STOP: a creation that emits one log.
    const Hash32 topic = keccak256(as_bytes("Hello()"));
    Bytes init{0x7f};
    append(init, topic.view());
    append(init, Bytes{0x60, 0x00, 0x60, 0x00, 0xa1, 0x00});
    const Transaction t = signed_txn(0, init, std::nullopt);
    const Bytes raw = encode_transaction(t);

    const auto filter = call("eth_newBlockFilter", Json::array())["result"].get<std::string>();
    const auto sent = call("eth_sendRawTransaction", {json::data(raw)});
    ASSERT_TRUE(sent.contains("result")) << sent.dump();
    const std::string hash = sent["result"];
    EXPECT_EQ(hash, json::hash(keccak256(raw)));

    const Json receipt = wait_receipt(hash);
    ASSERT_FALSE(receipt.is_null());
    EXPECT_EQ(receipt["status"], "0x1");
    EXPECT_EQ(receipt["from"], json::address(sender));
    EXPECT_TRUE(receipt["to"].is_null());
    ASSERT_TRUE(receipt["contractAddress"].is_string());
    ASSERT_EQ(receipt["logs"].size(), 1u);
    EXPECT_EQ(receipt["logs"][0]["address"], receipt["contractAddress"]);
    EXPECT_EQ(receipt["logs"][0]["topics"], Json::array({json::hash(topic)}));
    EXPECT_EQ(receipt["logs"][0]["transactionHash"], hash);

    // The transaction, its block and the logs query agree with the receipt.
    const Json tx = call("eth_getTransactionByHash", {hash})["result"];
    EXPECT_EQ(tx["blockHash"], receipt["blockHash"]);
    EXPECT_EQ(tx["from"], json::address(sender));
    EXPECT_EQ(tx["nonce"], "0x0");
    const Json block = call("eth_getBlockByNumber", {receipt["blockNumber"], false})["result"];
    EXPECT_EQ(block["hash"], receipt["blockHash"]);
    EXPECT_EQ(block["transactions"], Json::array({hash}));
    const Json logs = call("eth_getLogs", {{{"fromBlock", "0x0"},
                                            {"toBlock", "latest"},
                                            {"address", receipt["contractAddress"]}}})["result"];
    ASSERT_EQ(logs.size(), 1u);
    EXPECT_EQ(logs[0]["blockHash"], receipt["blockHash"]);
    EXPECT_EQ(call("eth_getTransactionCount", {json::address(sender), "latest"})["result"], "0x1");
    // The filter hears of the block just after its receipt is served (subscribers are told once
    // the head is published, as in geth): poll for it.
    Json changes = Json::array();
    for (int i = 0; i < 200; ++i) {
        const Json got = call("eth_getFilterChanges", {filter});
        for (const Json& h : got["result"]) changes.push_back(h);
        if (std::find(changes.begin(), changes.end(), receipt["blockHash"]) != changes.end()) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    EXPECT_NE(std::find(changes.begin(), changes.end(), receipt["blockHash"]), changes.end());

    // Admission errors: the same bytes again, then another transaction with the used nonce.
    const auto again = call("eth_sendRawTransaction", {json::data(raw)});
    ASSERT_TRUE(again.contains("error"));
    EXPECT_EQ(again["error"]["code"], -32000);
    const auto stale =
        call("eth_sendRawTransaction", {json::data(encode_transaction(signed_txn(0, {}, sender)))});
    ASSERT_TRUE(stale.contains("error"));
    EXPECT_EQ(stale["error"]["code"], -32000);
    // geth: "nonce too low: next nonce 1, tx nonce 0" (ethers and viem match the prefix).
    EXPECT_EQ(stale["error"]["message"].get<std::string>().rfind("nonce too low", 0), 0u);
    // Undecodable bytes are bad params and change nothing.
    EXPECT_EQ(call("eth_sendRawTransaction", {"0x02c0"})["error"]["code"], kInvalidParams);
    EXPECT_EQ(call("eth_getTransactionCount", {json::address(sender), "pending"})["result"], "0x1");
}

TEST_F(NodeRpcTest, eth_call_revert_is_code_3_with_data) {
    // Runtime-less call to a creation that reverts with Error("no"): init code stores the ABI
    // encoding in memory and REVERTs it.
    Bytes revert_data{0x08, 0xc3, 0x79, 0xa0};
    Bytes word(32, 0);
    word[31] = 0x20;
    append(revert_data, word);
    word[31] = 0x02;
    append(revert_data, word);
    Bytes text(32, 0);
    text[0] = 'n';
    text[1] = 'o';
    append(revert_data, text);
    // CODECOPY the data (appended after the code) to memory 0 and REVERT(0, len).
    const auto len = static_cast<uint8_t>(revert_data.size());
    Bytes init{0x60, len, 0x60, 0x00, 0x60, 0x00, 0x39, 0x60, len, 0x60, 0x00, 0xfd};
    init[3] = static_cast<uint8_t>(init.size());  // code offset of the data
    append(init, revert_data);
    const auto r = call("eth_call", {{{"from", json::address(node_->dev_accounts()[0].address)},
                                      {"data", json::data(init)}},
                                     "latest"});
    ASSERT_TRUE(r.contains("error")) << r.dump();
    EXPECT_EQ(r["error"]["code"], 3);
    EXPECT_EQ(r["error"]["message"], "execution reverted: no");
    EXPECT_EQ(r["error"]["data"], json::data(revert_data));
}

}  // namespace
}  // namespace pel::node::rpc
