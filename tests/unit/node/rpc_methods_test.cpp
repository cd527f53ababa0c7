// SPDX-License-Identifier: Apache-2.0
// The eth_* methods against a scripted NodeApi: parameter decoding, JSON shapes (geth's field
// names), error mapping (code 3 reverts, -32000 admission errors), filters and their expiry.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "node/json_codec.hpp"
#include "node/rpc_eth.hpp"
#include "node/rpc_json.hpp"
#include "primitives/hex.hpp"
#include "primitives/keccak.hpp"
#include "primitives/secp256k1.hpp"
#include "tests/unit/node/eip712_examples.hpp"
#include "tests/unit/node/rpc_fake_node.hpp"

namespace pel::node::rpc {
namespace {

using test::FakeNode;

Hash32 h32(uint8_t b) {
    Hash32 h;
    h.bytes.fill(b);
    return h;
}
Address addr(uint8_t b) {
    Address a;
    a.bytes.fill(b);
    return a;
}

class MethodsTest : public ::testing::Test {
  protected:
    MethodsTest() {
        EthRpcOptions o;
        o.clock = [this] { return now_; };
        eth_ = std::make_unique<EthRpc>(node_, o);
        eth_->register_methods(d_);
    }

    Json call(const std::string& method, Json params = Json::array()) {
        const Json req{{"jsonrpc", "2.0"}, {"id", 1}, {"method", method}, {"params", params}};
        const auto out = d_.handle(req.dump());
        EXPECT_TRUE(out.has_value());
        return Json::parse(*out);
    }
    Json result(const std::string& method, Json params = Json::array()) {
        auto r = call(method, std::move(params));
        EXPECT_TRUE(r.contains("result")) << r.dump();
        return r["result"];
    }
    Json error(const std::string& method, Json params = Json::array()) {
        auto r = call(method, std::move(params));
        EXPECT_TRUE(r.contains("error")) << r.dump();
        return r["error"];
    }

    static TxRecord dynamic_fee_tx(bool mined) {
        TxRecord t;
        t.txn.type = TxnType::kDynamicFee;
        t.txn.chain_id = 31337;
        t.txn.nonce = 5;
        t.txn.max_priority_fee_per_gas = U256(1000000000);
        t.txn.max_fee_per_gas = U256(3000000000);
        t.txn.gas_limit = 21000;
        t.txn.to = addr(0xbb);
        t.txn.value = U256(1000);
        t.txn.signature = {U256(0x1234), U256(0x5678), 1};
        t.hash = h32(0x11);
        t.from = addr(0xaa);
        t.gas_price = U256(2000000000);
        if (mined) {
            t.block_hash = h32(0x22);
            t.block_number = 7;
            t.index = 0;
        }
        return t;
    }

    std::chrono::steady_clock::time_point now_{};
    FakeNode node_;
    Dispatcher d_;
    std::unique_ptr<EthRpc> eth_;
};

TEST_F(MethodsTest, chain_identity) {
    EXPECT_EQ(result("eth_chainId"), "0x7a69");
    EXPECT_EQ(result("net_version"), "31337");
    EXPECT_EQ(result("eth_blockNumber"), "0x7");
    EXPECT_EQ(result("eth_syncing"), false);
    EXPECT_EQ(result("net_listening"), true);
    EXPECT_EQ(result("web3_clientVersion").get<std::string>().rfind("pel-node/", 0), 0u);
    EXPECT_EQ(result("web3_sha3", {"0x"}),
              "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
    EXPECT_EQ(error("eth_chainId", {1})["code"], kInvalidParams);
}

TEST_F(MethodsTest, account_reads_decode_address_and_block) {
    node_.balance_value = U256(1000000000000000000ULL);
    EXPECT_EQ(result("eth_getBalance", {"0x" + std::string(40, 'a'), "latest"}),
              "0xde0b6b3a7640000");
    EXPECT_EQ(node_.last_address, addr(0xaa));
    EXPECT_EQ(node_.last_selector, BlockSelector::latest());

    node_.nonce_value = 3;
    EXPECT_EQ(result("eth_getTransactionCount", {"0x" + std::string(40, 'a'), "pending"}), "0x3");
    EXPECT_EQ(node_.last_selector->tag, BlockTag::kPending);
    EXPECT_EQ(result("eth_getTransactionCount", {"0x" + std::string(40, 'a'), "0x7"}), "0x3");
    EXPECT_EQ(node_.last_selector, BlockSelector::at(7));

    node_.code_value = Bytes{0x60, 0x00};
    EXPECT_EQ(result("eth_getCode", {"0x" + std::string(40, 'a'), "latest"}), "0x6000");

    node_.storage_value = h32(0x01);
    EXPECT_EQ(result("eth_getStorageAt", {"0x" + std::string(40, 'a'), "0x2", "latest"}),
              json::hash(h32(0x01)));
    EXPECT_EQ(node_.last_slot, U256(2));

    // Bad address, bad block tag, wrong counts: -32602.
    EXPECT_EQ(error("eth_getBalance", {"0x1234", "latest"})["code"], kInvalidParams);
    EXPECT_EQ(error("eth_getBalance", {"0x" + std::string(40, 'a'), "0x01"})["code"],
              kInvalidParams);
    EXPECT_EQ(error("eth_getBalance", Json::array())["code"], kInvalidParams);
    EXPECT_EQ(error("eth_getStorageAt", {"0x" + std::string(40, 'a')})["code"], kInvalidParams);
}

TEST_F(MethodsTest, block_hash_selector_resolves_to_its_number) {
    BlockRecord b;
    b.header.number = 7;
    b.hash = h32(0x77);
    node_.blocks[7] = b;
    EXPECT_EQ(result("eth_getBalance",
                     {"0x" + std::string(40, 'a'), {{"blockHash", json::hash(h32(0x77))}}}),
              "0x0");
    EXPECT_EQ(node_.last_selector, BlockSelector::at(7));
    const auto e = error("eth_getBalance", {"0x" + std::string(40, 'a'), json::hash(h32(0x78))});
    EXPECT_EQ(e["code"], kServerError);
    EXPECT_EQ(e["message"], "header for hash not found");
}

TEST_F(MethodsTest, api_errors_keep_their_codes) {
    node_.submit_answer = unexpected(ApiError{ApiErrorKind::kRejected, "nonce too low", {}});
    auto e = error("eth_sendRawTransaction", {"0x02f8"});
    EXPECT_EQ(e, (Json{{"code", -32000}, {"message", "nonce too low"}}));
    EXPECT_EQ(node_.last_raw, (Bytes{0x02, 0xf8}));
    node_.submit_answer = unexpected(ApiError{ApiErrorKind::kInvalidInput, "rlp: truncated", {}});
    EXPECT_EQ(error("eth_sendRawTransaction", {"0x02f8"})["code"], kInvalidParams);
    EXPECT_EQ(error("eth_sendRawTransaction", {"0x2f8"})["code"], kInvalidParams);  // odd length
    node_.submit_answer = h32(0x42);
    EXPECT_EQ(result("eth_sendRawTransaction", {"0x02f8"}), json::hash(h32(0x42)));
}

// A JSON-RPC batch of eth_sendRawTransaction goes to submit_raw_transactions once; a call whose
// params do not decode is answered -32602 in its place and the others are submitted in order.
TEST_F(MethodsTest, eth_sendRawTransaction_batch_keeps_order_and_param_errors) {
    node_.submit_answer = h32(0x42);
    Json batch = Json::array();
    const std::vector<Json> params = {Json::array({"0x01"}), Json::array({"0x2f8"}),
                                      Json::array({"0x03", "0x04"}), Json::array({"0x0405"})};
    for (size_t i = 0; i < params.size(); ++i) {
        batch.push_back({{"jsonrpc", "2.0"},
                         {"id", i},
                         {"method", "eth_sendRawTransaction"},
                         {"params", params[i]}});
    }
    const auto out = d_.handle(batch.dump());
    ASSERT_TRUE(out.has_value());
    const Json r = Json::parse(*out);
    ASSERT_EQ(r.size(), 4u);
    EXPECT_EQ(r[0]["result"], json::hash(h32(0x42)));
    EXPECT_EQ(r[1]["error"]["code"], kInvalidParams);  // odd length
    EXPECT_EQ(r[2]["error"]["code"], kInvalidParams);  // two arguments
    EXPECT_EQ(r[2]["error"]["message"], "too many arguments, want at most 1");
    EXPECT_EQ(r[3]["id"], 3);
    EXPECT_EQ(r[3]["result"], json::hash(h32(0x42)));
    EXPECT_EQ(node_.submitted, (std::vector<Bytes>{Bytes{0x01}, Bytes{0x04, 0x05}}));
    // Admission errors keep their codes inside a batch too.
    node_.submit_answer = unexpected(ApiError{ApiErrorKind::kRejected, "nonce too low", {}});
    const auto rejected = d_.handle(batch.dump());
    ASSERT_TRUE(rejected.has_value());
    EXPECT_EQ(Json::parse(*rejected)[3]["error"],
              (Json{{"code", -32000}, {"message", "nonce too low"}}));
}

TEST_F(MethodsTest, eth_call_success_revert_and_halt) {
    CallResult ok;
    ok.success = true;
    ok.output = Bytes{0xab, 0xcd};
    node_.call_answer = ok;
    EXPECT_EQ(
        result("eth_call", {{{"to", "0x" + std::string(40, 'b')}, {"data", "0x1234"}}, "latest"}),
        "0xabcd");
    ASSERT_TRUE(node_.last_call);
    EXPECT_EQ(node_.last_call->to, addr(0xbb));
    EXPECT_EQ(node_.last_call->data, (Bytes{0x12, 0x34}));

    CallResult rev;
    rev.reverted = true;
    rev.output = from_hex(
                     "08c379a0"
                     "0000000000000000000000000000000000000000000000000000000000000020"
                     "0000000000000000000000000000000000000000000000000000000000000004"
                     "6e6f706500000000000000000000000000000000000000000000000000000000")
                     .value();
    rev.error = "execution reverted: nope";
    node_.call_answer = rev;
    auto e = error("eth_call", {{{"to", "0x" + std::string(40, 'b')}}});
    EXPECT_EQ(e["code"], 3);
    EXPECT_EQ(e["message"], "execution reverted: nope");
    EXPECT_EQ(e["data"], json::data(rev.output));

    CallResult halt;
    halt.error = "out of gas";
    node_.call_answer = halt;
    e = error("eth_call", {{{"to", "0x" + std::string(40, 'b')}}});
    EXPECT_EQ(e, (Json{{"code", -32000}, {"message", "out of gas"}}));

    // Bad call objects.
    EXPECT_EQ(error("eth_call", {{{"to", "0x12"}}})["code"], kInvalidParams);
    EXPECT_EQ(error("eth_call", {{{"data", "0x12"}, {"input", "0x13"}}})["code"], kInvalidParams);
    EXPECT_EQ(error("eth_call", {{{"gasPrice", "0x1"}, {"maxFeePerGas", "0x1"}}})["code"],
              kInvalidParams);
    EXPECT_EQ(error("eth_call", {"0x12"})["code"], kInvalidParams);
    EXPECT_EQ(error("eth_call", {{{"gas", "0x01"}}})["code"], kInvalidParams);
}

TEST_F(MethodsTest, eth_call_takes_state_overrides) {
    CallResult ok;
    ok.success = true;
    node_.call_answer = ok;
    const std::string who = "0x" + std::string(40, 'c');
    const std::string one = "0x" + std::string(63, '0') + "1";
    const std::string two = "0x" + std::string(63, '0') + "2";
    const Json to{{"to", "0x" + std::string(40, 'b')}};
    EXPECT_EQ(result("eth_call", {to,
                                  "latest",
                                  {{who,
                                    {{"balance", "0x10"},
                                     {"nonce", "0x3"},
                                     {"code", "0x6001"},
                                     {"stateDiff", {{one, two}}}}}}}),
              "0x");
    ASSERT_TRUE(node_.last_call);
    ASSERT_EQ(node_.last_call->state_overrides.size(), 1U);
    const auto& [who_addr, o] = node_.last_call->state_overrides[0];
    EXPECT_EQ(who_addr, *Address::from_hex(who));
    EXPECT_EQ(o.balance, U256(16));
    EXPECT_EQ(o.nonce, 3U);
    EXPECT_EQ(o.code, (Bytes{0x60, 0x01}));
    EXPECT_FALSE(o.state.has_value());
    EXPECT_EQ(o.state_diff, (std::vector<std::pair<U256, U256>>{{U256(1), U256(2)}}));
    EXPECT_EQ(result("eth_call", {to, "latest", {{who, {{"state", {{one, two}}}}}}}), "0x");
    ASSERT_TRUE(node_.last_call->state_overrides[0].second.state.has_value());
    // Overrides go to eth_estimateGas too.
    node_.last_call.reset();
    node_.estimate_answer = uint64_t{21000};
    EXPECT_EQ(result("eth_estimateGas", {to, "latest", {{who, {{"balance", "0x1"}}}}}), "0x5208");
    // Errors: both storage forms, a bad key, a bad field value.
    EXPECT_EQ(error("eth_call",
                    {to,
                     "latest",
                     {{who, {{"state", Json::object()}, {"stateDiff", Json::object()}}}}})["code"],
              kInvalidParams);
    EXPECT_EQ(error("eth_call", {to, "latest", {{"0x12", Json::object()}}})["code"],
              kInvalidParams);
    EXPECT_EQ(error("eth_call", {to, "latest", {{who, {{"balance", "0x01"}}}}})["code"],
              kInvalidParams);
    EXPECT_EQ(error("eth_call", {to, "latest", {{who, {{"stateDiff", {{one, "0x1"}}}}}}})["code"],
              kInvalidParams);

    // Block overrides (the fourth parameter; nulls are absent fields).
    const std::string fee_recipient = "0x" + std::string(40, 'e');
    EXPECT_EQ(result("eth_call", {to,
                                  "latest",
                                  Json(),
                                  {{"number", "0x10"},
                                   {"time", "0x20"},
                                   {"gasLimit", "0x30"},
                                   {"feeRecipient", fee_recipient},
                                   {"prevRandao", json::hash(h32(5))},
                                   {"baseFeePerGas", "0x7"},
                                   {"difficultyNot", nullptr}}}),
              "0x");
    BlockOverrides want;
    want.number = 16;
    want.time = 32;
    want.gas_limit = 48;
    want.fee_recipient = *Address::from_hex(fee_recipient);
    want.prev_randao = h32(5);
    want.base_fee = U256(7);
    EXPECT_EQ(node_.last_call->block_overrides, want);
    EXPECT_EQ(result("eth_call", {to, "latest", Json(), Json::object()}), "0x");
    EXPECT_EQ(node_.last_call->block_overrides, BlockOverrides{});
    const auto refused = [&](Json overrides) {
        return error("eth_call", {to, "latest", Json(), std::move(overrides)})["message"]
            .get<std::string>();
    };
    EXPECT_EQ(refused({{"blobBaseFee", "0x1"}}),
              "invalid argument 3: field 'blobBaseFee' is not supported (number, time, gasLimit, "
              "feeRecipient, prevRandao and baseFeePerGas are)");
    EXPECT_EQ(refused({{"number", "0x8000000000000000"}}),
              "invalid argument 3: field 'number': above 2^63-1");
    EXPECT_NE(refused({{"feeRecipient", "0x12"}}).find("field 'feeRecipient'"), std::string::npos);
    EXPECT_NE(refused(Json::array()).find("block override object"), std::string::npos);
}

TEST_F(MethodsTest, estimate_gas_revert_carries_data) {
    const Bytes panic = from_hex("4e487b71" + std::string(62, '0') + "11").value();
    node_.estimate_answer = unexpected(ApiError{ApiErrorKind::kReverted, "whatever", panic});
    const auto e = error("eth_estimateGas", {{{"to", "0x" + std::string(40, 'b')}}});
    EXPECT_EQ(e["code"], 3);
    EXPECT_EQ(e["message"], "execution reverted: arithmetic underflow or overflow");
    EXPECT_EQ(e["data"], json::data(panic));
    node_.estimate_answer = uint64_t{53000};
    EXPECT_EQ(result("eth_estimateGas", {{{"from", "0x" + std::string(40, 'a')}}}), "0xcf08");
}

TEST_F(MethodsTest, call_request_fields) {
    node_.submit_answer = h32(1);
    static_cast<void>(result(
        "eth_sendTransaction",
        {{{"from", "0x" + std::string(40, 'a')},
          {"to", nullptr},
          {"gas", "0x5208"},
          {"maxFeePerGas", "0x2"},
          {"maxPriorityFeePerGas", "0x1"},
          {"value", "0x10"},
          {"nonce", "0x3"},
          {"input", "0x60"},
          {"chainId", "0x7a69"},
          {"accessList",
           {{{"address", "0x" + std::string(40, 'c')}, {"storageKeys", {json::hash(h32(3))}}}}},
          {"maxFeePerBlobGas", "0x7"},
          {"blobVersionedHashes", {json::hash(h32(4)), json::hash(h32(5))}}}}));
    const CallRequest& r = *node_.last_call;
    EXPECT_EQ(r.from, addr(0xaa));
    EXPECT_FALSE(r.to);
    EXPECT_EQ(r.gas, 21000u);
    EXPECT_EQ(r.max_fee_per_gas, U256(2));
    EXPECT_EQ(r.max_priority_fee_per_gas, U256(1));
    EXPECT_EQ(r.value, U256(16));
    EXPECT_EQ(r.nonce, 3u);
    EXPECT_EQ(r.data, Bytes{0x60});
    EXPECT_EQ(r.chain_id, 31337u);
    ASSERT_TRUE(r.access_list);
    ASSERT_EQ(r.access_list->size(), 1u);
    EXPECT_EQ((*r.access_list)[0].storage_keys, std::vector<Hash32>{h32(3)});
    EXPECT_EQ(r.max_fee_per_blob_gas, U256(7));
    EXPECT_EQ(r.blob_versioned_hashes, (std::vector<Hash32>{h32(4), h32(5)}));
    EXPECT_EQ(error("eth_call", {{{"to", "0x" + std::string(40, 'b')},
                                  {"blobVersionedHashes", "0x01"}}})["code"],
              kInvalidParams);
}

TEST_F(MethodsTest, sign_transaction_answers_the_signed_encoding) {
    node_.sign_answer = Bytes{0x02, 0xf8, 0x01};
    EXPECT_EQ(result("eth_signTransaction", {{{"from", "0x" + std::string(40, 'a')},
                                              {"to", "0x" + std::string(40, 'b')},
                                              {"value", "0x10"}}}),
              "0x02f801");
    EXPECT_EQ(node_.last_call->from, addr(0xaa));
    EXPECT_EQ(node_.last_call->value, U256(16));
    node_.sign_answer = unexpected(ApiError{ApiErrorKind::kRejected, "unknown account", {}});
    const Json e = error("eth_signTransaction", {{{"from", "0x" + std::string(40, 'a')}}});
    EXPECT_EQ(e["code"], -32000);
    EXPECT_EQ(e["message"], "unknown account");
    EXPECT_EQ(error("eth_signTransaction", Json::array())["code"], kInvalidParams);
}

TEST_F(MethodsTest, get_proof_json_follows_eip1186) {
    AccountProof ap;
    ap.address = addr(0xaa);
    ap.balance = U256(10);
    ap.nonce = 2;
    ap.code_hash = h32(0xcc);
    ap.storage_hash = h32(0xdd);
    ap.account_proof = {Bytes{0xf8, 0x01}, Bytes{0xe2}};
    ap.storage_proof = {StorageProof{U256(1), U256(0x20), {Bytes{0x01}}},
                        StorageProof{U256(0x0a), U256(0), {}}};
    node_.proof_answer = ap;
    const std::string a = "0x" + std::string(40, 'a');
    const Json j =
        result("eth_getProof",
               {a,
                {"0x0000000000000000000000000000000000000000000000000000000000000001", "0xA"},
                "latest"});
    EXPECT_EQ(node_.last_slots, (std::vector<U256>{U256(1), U256(10)}));
    EXPECT_EQ(j["address"], a);
    EXPECT_EQ(j["accountProof"], Json::array({"0xf801", "0xe2"}));
    EXPECT_EQ(j["balance"], "0xa");
    EXPECT_EQ(j["nonce"], "0x2");
    EXPECT_EQ(j["codeHash"], json::hash(h32(0xcc)));
    EXPECT_EQ(j["storageHash"], json::hash(h32(0xdd)));
    ASSERT_EQ(j["storageProof"].size(), 2U);
    // Keys come back as given (lower case), values as quantities.
    EXPECT_EQ(j["storageProof"][0]["key"],
              "0x0000000000000000000000000000000000000000000000000000000000000001");
    EXPECT_EQ(j["storageProof"][0]["value"], "0x20");
    EXPECT_EQ(j["storageProof"][0]["proof"], Json::array({"0x01"}));
    EXPECT_EQ(j["storageProof"][1]["key"], "0xa");
    EXPECT_EQ(j["storageProof"][1]["value"], "0x0");
    EXPECT_EQ(j["storageProof"][1]["proof"], Json::array());

    EXPECT_EQ(error("eth_getProof", {a, "0x1", "latest"})["code"], kInvalidParams);
    EXPECT_EQ(error("eth_getProof", {a, {"0x" + std::string(66, '1')}, "latest"})["code"],
              kInvalidParams);
    EXPECT_EQ(error("eth_getProof", {a, Json::array()})["code"], kInvalidParams);  // no block
}

TEST_F(MethodsTest, create_access_list_answers_list_gas_and_error) {
    AccessListResult r;
    r.access_list = {AccessListEntry{addr(0xbb), {h32(1), h32(2)}},
                     AccessListEntry{addr(0xcc), {}}};
    r.gas_used = 53753;
    node_.access_list_answer = r;
    const std::string to = "0x" + std::string(40, 'b');
    Json j = result("eth_createAccessList", {{{"to", to}, {"data", "0x01"}}, "latest"});
    EXPECT_EQ(node_.last_call->to, addr(0xbb));
    EXPECT_EQ(j["gasUsed"], "0xd1f9");
    ASSERT_EQ(j["accessList"].size(), 2U);
    EXPECT_EQ(j["accessList"][0]["address"], to);
    EXPECT_EQ(j["accessList"][0]["storageKeys"],
              Json::array({json::hash(h32(1)), json::hash(h32(2))}));
    EXPECT_EQ(j["accessList"][1]["storageKeys"], Json::array());
    EXPECT_FALSE(j.contains("error"));
    r.error = "execution reverted";
    node_.access_list_answer = r;
    j = result("eth_createAccessList", {{{"to", to}}});
    EXPECT_EQ(j["error"], "execution reverted");
    node_.access_list_answer = unexpected(
        ApiError{ApiErrorKind::kRejected, "insufficient funds for gas * price + value", {}});
    EXPECT_EQ(error("eth_createAccessList", {{{"to", to}}})["code"], -32000);
    EXPECT_EQ(error("eth_createAccessList", {{{"to", "0x12"}}})["code"], kInvalidParams);
}

namespace {
// A call (callcode) that reverts, a create that runs out of gas, a SELFDESTRUCT under a static
// call, and a successful create, under a call with value.
exec::CallFrame sample_frames() {
    exec::CallFrame top;
    top.from = addr(0xa0);
    top.to = addr(0xb0);
    top.value = U256{5};
    top.gas = 1000;
    top.gas_used = 600;
    top.input = {0x01};
    exec::CallFrame reverted;
    reverted.type = exec::CallFrame::Type::kCallCode;
    reverted.from = addr(0xb0);
    reverted.to = addr(0xc0);
    reverted.value = U256{0};
    reverted.status = vm::Status::kRevert;
    reverted.output = {0xee};
    exec::CallFrame oog;
    oog.type = exec::CallFrame::Type::kCreate;
    oog.from = addr(0xb0);
    oog.created = addr(0xd0);
    oog.value = U256{1};
    oog.input = {0x60};
    oog.status = vm::Status::kOutOfGas;
    exec::CallFrame view;
    view.type = exec::CallFrame::Type::kStaticCall;
    view.from = addr(0xb0);
    view.to = addr(0xe0);
    exec::CallFrame gone;
    gone.type = exec::CallFrame::Type::kSelfDestruct;
    gone.from = addr(0xe0);
    gone.to = addr(0xa0);
    gone.value = U256{9};
    view.calls = {gone};
    exec::CallFrame made;
    made.type = exec::CallFrame::Type::kCreate2;
    made.from = addr(0xb0);
    made.to = addr(0xf0);
    made.created = addr(0xf0);
    made.value = U256{0};
    made.output = {0x00};
    top.calls = {reverted, oog, view, made};
    return top;
}
}  // namespace

TEST_F(MethodsTest, parity_traces_as_reth_and_anvil_print_them) {
    const exec::CallFrame top = sample_frames();

    const Hash32 tx = h32(9);
    ReceiptRecord receipt;
    receipt.block_hash = h32(7);
    receipt.block_number = 3;
    receipt.tx_index = 2;
    node_.receipts[tx] = receipt;
    node_.trace_tx_answer = std::optional<TraceResult>(top);
    const Json j = result("trace_transaction", {json::hash(tx)});
    EXPECT_EQ(node_.last_trace_options->tracer, TraceOptions::Tracer::kCall);
    EXPECT_TRUE(node_.last_trace_options->parity_gas);
    ASSERT_EQ(j.size(), 6U);
    EXPECT_EQ(j[0], (Json{{"action",
                           {{"from", json::address(addr(0xa0))},
                            {"callType", "call"},
                            {"gas", "0x3e8"},
                            {"input", "0x01"},
                            {"to", json::address(addr(0xb0))},
                            {"value", "0x5"}}},
                          {"blockHash", json::hash(h32(7))},
                          {"blockNumber", 3},
                          {"result", {{"gasUsed", "0x258"}, {"output", "0x"}}},
                          {"subtraces", 4},
                          {"traceAddress", Json::array()},
                          {"transactionHash", json::hash(tx)},
                          {"transactionPosition", 2},
                          {"type", "call"}}));
    EXPECT_EQ(j[1]["action"]["callType"], "callcode");
    EXPECT_EQ(j[1]["error"], "Reverted");
    EXPECT_EQ(j[1]["result"]["output"], "0xee");  // a revert keeps its result
    EXPECT_EQ(j[1]["traceAddress"], Json::array({0}));
    EXPECT_EQ(j[2]["type"], "create");
    EXPECT_EQ(j[2]["action"]["creationMethod"], "create");
    EXPECT_EQ(j[2]["action"]["init"], "0x60");
    EXPECT_EQ(j[2]["error"], "Out of gas");
    EXPECT_TRUE(j[2]["result"].is_null());
    EXPECT_EQ(j[3]["action"]["callType"], "staticcall");
    EXPECT_EQ(j[3]["action"]["value"], "0x0");
    EXPECT_EQ(j[3]["subtraces"], 1);
    EXPECT_EQ(j[4]["type"], "suicide");
    EXPECT_EQ(j[4]["action"], (Json{{"address", json::address(addr(0xe0))},
                                    {"balance", "0x9"},
                                    {"refundAddress", json::address(addr(0xa0))}}));
    EXPECT_TRUE(j[4]["result"].is_null());
    EXPECT_EQ(j[4]["traceAddress"], Json::array({2, 0}));
    EXPECT_EQ(j[5]["action"]["creationMethod"], "create2");
    EXPECT_EQ(j[5]["result"],
              (Json{{"address", json::address(addr(0xf0))}, {"code", "0x00"}, {"gasUsed", "0x0"}}));
    // Unknown or pending: null.
    EXPECT_TRUE(result("trace_transaction", {json::hash(h32(1))}).is_null());

    // trace_block and trace_filter over blocks 3 and 4 (the same transaction in each).
    for (uint64_t n : {3U, 4U}) {
        BlockRecord b;
        b.header.number = n;
        b.hash = h32(static_cast<uint8_t>(0x40 + n));
        node_.blocks[n] = b;
    }
    node_.trace_block_answer =
        std::optional<std::vector<TxTrace>>(std::vector<TxTrace>{TxTrace{tx, TraceResult{top}}});
    const Json block = result("trace_block", {"0x4"});
    ASSERT_EQ(block.size(), 6U);
    EXPECT_EQ(block[0]["blockHash"], json::hash(h32(0x44)));
    EXPECT_EQ(block[0]["transactionPosition"], 0);
    EXPECT_TRUE(result("trace_block", {"0x9"}).is_null());
    const auto filter = [&](Json f) {
        f["fromBlock"] = "0x3";
        f["toBlock"] = "0x4";
        return result("trace_filter", {f});
    };
    const std::string b0 = json::address(addr(0xb0));
    const std::string a0 = json::address(addr(0xa0));
    EXPECT_EQ(filter(Json::object()).size(), 12U);
    EXPECT_EQ(filter({{"fromAddress", {b0}}}).size(), 8U);  // four frames the root called
    // to: the callee, a create's address only with a result, a suicide's refund address
    EXPECT_EQ(filter({{"toAddress", {json::address(addr(0xd0))}}}).size(), 0U);
    EXPECT_EQ(filter({{"toAddress", {json::address(addr(0xf0))}}}).size(), 2U);
    EXPECT_EQ(filter({{"toAddress", {a0}}}).size(), 2U);
    EXPECT_EQ(filter({{"fromAddress", {a0}}, {"toAddress", {a0}}}).size(), 4U);  // union
    EXPECT_EQ(filter({{"fromAddress", {a0}}, {"toAddress", {a0}}, {"mode", "intersection"}}).size(),
              0U);
    const Json page = filter({{"fromAddress", {b0}}, {"after", 3}, {"count", 2}});
    ASSERT_EQ(page.size(), 2U);
    EXPECT_EQ(page[0]["blockNumber"], 3);
    EXPECT_EQ(page[0]["traceAddress"], Json::array({3}));
    EXPECT_EQ(page[1]["blockNumber"], 4);
    EXPECT_EQ(page[1]["traceAddress"], Json::array({0}));
    // Errors name the field.
    const auto bad = [&](Json f) {
        return error("trace_filter", {f})["message"].get<std::string>();
    };
    EXPECT_NE(bad({{"fromBlock", "0x4"}, {"toBlock", "0x3"}}).find("above toBlock"),
              std::string::npos);
    EXPECT_NE(bad({{"mode", "both"}}).find("'mode'"), std::string::npos);
    EXPECT_NE(bad({{"after", -1}}).find("'after'"), std::string::npos);
    EXPECT_NE(bad({{"fromAddress", b0}}).find("'fromAddress'"), std::string::npos);
    EXPECT_NE(bad({{"limit", 3}}).find("unknown field 'limit'"), std::string::npos);
    EXPECT_EQ(error("trace_filter", {Json::array()})["code"], -32602);
}

// OpenEthereum's stateDiff from the prestateTracer's diff: a created, a deleted and a changed
// account (a slot from zero, one to zero, one changed; nonce and code unchanged).
TEST(ParityStateDiff, created_deleted_and_changed_accounts) {
    PrestateTrace d;
    d.diff_mode = true;
    PrestateAccount created;
    created.nonce = 1;
    created.code = Bytes{0x60, 0x00};
    created.storage[h32(1)] = h32(2);
    d.post[addr(0xc0)] = created;  // balance zero: absent
    PrestateAccount deleted;
    deleted.balance = U256{7};
    deleted.storage[h32(3)] = h32(4);
    d.pre[addr(0xd0)] = deleted;
    PrestateAccount before;
    before.balance = U256{10};
    before.nonce = 4;
    before.code = Bytes{0x00};
    before.storage[h32(5)] = h32(6);  // goes to zero
    before.storage[h32(7)] = h32(8);  // changes
    PrestateAccount after;
    after.balance = U256{3};
    after.storage[h32(7)] = h32(9);
    after.storage[h32(10)] = h32(11);  // from zero
    d.pre[addr(0xe0)] = before;
    d.post[addr(0xe0)] = after;
    const Json j = parity_state_diff(d);
    const auto star = [](Json from, Json to) {
        return Json{{"*", {{"from", std::move(from)}, {"to", std::move(to)}}}};
    };
    EXPECT_EQ(j[json::address(addr(0xc0))],
              (Json{{"balance", {{"+", "0x0"}}},
                    {"nonce", {{"+", "0x1"}}},
                    {"code", {{"+", "0x6000"}}},
                    {"storage", {{json::hash(h32(1)), {{"+", json::hash(h32(2))}}}}}}));
    EXPECT_EQ(j[json::address(addr(0xd0))],
              (Json{{"balance", {{"-", "0x7"}}},
                    {"nonce", {{"-", "0x0"}}},
                    {"code", {{"-", "0x"}}},
                    {"storage", {{json::hash(h32(3)), {{"-", json::hash(h32(4))}}}}}}));
    const Json& e = j[json::address(addr(0xe0))];
    EXPECT_EQ(e["balance"], star("0xa", "0x3"));
    EXPECT_EQ(e["nonce"], "=");
    EXPECT_EQ(e["code"], "=");
    EXPECT_EQ(e["storage"],
              (Json{{json::hash(h32(5)), star(json::hash(h32(6)), json::hash(Hash32{}))},
                    {json::hash(h32(7)), star(json::hash(h32(8)), json::hash(h32(9)))},
                    {json::hash(h32(10)), star(json::hash(Hash32{}), json::hash(h32(11)))}}));
    EXPECT_EQ(j.size(), 3U);
}

TEST(ParityStateDiff, replay_kinds) {
    auto k = parse_replay_kinds(Json::array({"stateDiff", "trace"}));
    ASSERT_TRUE(k.has_value());
    EXPECT_TRUE(k->trace && k->state_diff);
    k = parse_replay_kinds(Json::array({"trace"}));
    ASSERT_TRUE(k.has_value());
    EXPECT_FALSE(k->state_diff);
    EXPECT_NE(parse_replay_kinds(Json::array({"vmTrace"})).error().message.find("not supported"),
              std::string::npos);
    EXPECT_FALSE(parse_replay_kinds(Json::array()).has_value());
    EXPECT_FALSE(parse_replay_kinds(Json::array({"traces"})).has_value());
    EXPECT_FALSE(parse_replay_kinds(Json::array({1})).has_value());
    EXPECT_FALSE(parse_replay_kinds(Json("trace")).has_value());
}

// trace_call: the call's parameters reach the node (block, both overrides); the answer is the
// replay form without a transaction hash.
TEST_F(MethodsTest, trace_call_takes_the_call_block_and_overrides) {
    node_.trace_call_answer = TraceResult(sample_frames());
    const std::string to = json::address(addr(0xb0));
    const Json j =
        result("trace_call",
               {{{"to", to}}, {"trace"}, "0x3", {{to, {{"balance", "0x1"}}}}, {{"time", "0x99"}}});
    EXPECT_EQ(node_.last_call->to, addr(0xb0));
    EXPECT_EQ(node_.last_call->state_overrides.size(), 1U);
    EXPECT_EQ(node_.last_call->block_overrides->time, uint64_t{0x99});
    EXPECT_TRUE(node_.last_trace_options->parity_gas);
    EXPECT_EQ(j["output"], "0x");
    EXPECT_TRUE(j["stateDiff"].is_null());
    EXPECT_TRUE(j["vmTrace"].is_null());
    EXPECT_FALSE(j.contains("transactionHash"));
    ASSERT_EQ(j["trace"].size(), 6U);
    EXPECT_FALSE(j["trace"][0].contains("blockHash"));
    EXPECT_EQ(j["trace"][0]["traceAddress"], Json::array());
    ASSERT_EQ(node_.trace_call_runs.size(), 1U);  // "trace" only: one run
    // With "stateDiff" too: both tracers in one request to the node (one head for both).
    node_.trace_call_answer = TraceResult{std::monostate{}};  // each tracer's empty shape
    const Json both = result("trace_call", {{{"to", to}}, {"trace", "stateDiff"}, "latest"});
    ASSERT_EQ(node_.trace_call_runs.size(), 2U);
    EXPECT_EQ(node_.trace_call_runs[0].tracer, TraceOptions::Tracer::kCall);
    EXPECT_EQ(node_.trace_call_runs[1].tracer, TraceOptions::Tracer::kPrestate);
    EXPECT_TRUE(node_.trace_call_runs[1].diff_mode);
    EXPECT_TRUE(both.contains("stateDiff"));
    EXPECT_EQ(error("trace_call", {{{"to", to}}})["code"], kInvalidParams);  // no kinds
    EXPECT_EQ(error("trace_call", {{{"to", to}}, {"vmTrace"}})["code"], kInvalidParams);
}

// The Otterscan forms of the same frames (Erigon's rules).
TEST_F(MethodsTest, otterscan_traces_and_operations_as_erigon_prints_them) {
    const Hash32 tx = h32(9);
    node_.receipts[tx] = ReceiptRecord{};
    node_.trace_tx_answer = std::optional<TraceResult>(sample_frames());
    const Json entries = result("ots_traceTransaction", {json::hash(tx)});
    ASSERT_EQ(entries.size(), 6U);
    EXPECT_EQ(entries[0], (Json{{"type", "CALL"},
                                {"depth", 0},
                                {"from", json::address(addr(0xa0))},
                                {"to", json::address(addr(0xb0))},
                                {"value", "0x5"},
                                {"input", "0x01"},
                                {"output", "0x"}}));
    EXPECT_EQ(entries[1]["type"], "CALLCODE");
    EXPECT_EQ(entries[1]["output"], "0xee");  // revert data
    EXPECT_EQ(entries[2]["type"], "CREATE");
    EXPECT_EQ(entries[2]["to"], json::address(addr(0xd0)));  // the address it would have made
    EXPECT_EQ(entries[2]["input"], "0x60");
    EXPECT_EQ(entries[3]["type"], "STATICCALL");
    EXPECT_TRUE(entries[3]["value"].is_null());
    EXPECT_EQ(entries[4], (Json{{"type", "SELFDESTRUCT"},
                                {"depth", 2},
                                {"from", json::address(addr(0xe0))},
                                {"to", json::address(addr(0xa0))},
                                {"value", "0x9"},
                                {"input", "0x"},
                                {"output", "0x"}}));
    EXPECT_EQ(entries[5]["type"], "CREATE2");
    EXPECT_EQ(entries[5]["depth"], 1);

    // Below the top frame: no zero-value call, the failed create, the self-destruct, the create2.
    const Json ops = result("ots_getInternalOperations", {json::hash(tx)});
    EXPECT_EQ(ops, (Json{{{"type", 2},
                          {"from", json::address(addr(0xb0))},
                          {"to", json::address(addr(0xd0))},
                          {"value", "0x1"}},
                         {{"type", 1},
                          {"from", json::address(addr(0xe0))},
                          {"to", json::address(addr(0xa0))},
                          {"value", "0x9"}},
                         {{"type", 3},
                          {"from", json::address(addr(0xb0))},
                          {"to", json::address(addr(0xf0))},
                          {"value", "0x0"}}}));
    // The top frame did not revert: no error, even though a frame below it did.
    EXPECT_EQ(result("ots_getTransactionError", {json::hash(tx)}), "0x");
    exec::CallFrame reverted = sample_frames();
    reverted.status = vm::Status::kRevert;
    reverted.output = {0x08, 0xc3};
    node_.trace_tx_answer = std::optional<TraceResult>(reverted);
    EXPECT_EQ(result("ots_getTransactionError", {json::hash(tx)}), "0x08c3");
    reverted.status = vm::Status::kOutOfGas;  // not a revert: no data
    node_.trace_tx_answer = std::optional<TraceResult>(reverted);
    EXPECT_EQ(result("ots_getTransactionError", {json::hash(tx)}), "0x");

    EXPECT_EQ(result("ots_getApiLevel", Json::array()), 8);
    EXPECT_EQ(error("ots_traceTransaction", {json::hash(h32(1))})["message"],
              "transaction " + json::hash(h32(1)) + " not found");
    EXPECT_EQ(error("ots_traceTransaction", {"0x12"})["code"], kInvalidParams);
}

TEST_F(MethodsTest, debug_trace_options_and_answers_as_geth_prints_them) {
    const std::string hash = json::hash(h32(9));
    // callTracer: the frame tree; empty fields left out, errors and revert reasons written out.
    exec::CallFrame top;
    top.from = addr(0xa0);
    top.to = addr(0xb0);
    top.value = U256{0};
    top.gas = 100000;
    top.gas_used = 30000;
    top.input = {0x01};
    top.output = {0x02};
    exec::CallFrame child;
    child.type = exec::CallFrame::Type::kStaticCall;
    child.from = addr(0xb0);
    child.to = addr(0xb1);
    child.gas = 5000;
    child.gas_used = 5000;
    child.status = vm::Status::kOutOfGas;
    exec::CallFrame reverted;
    reverted.type = exec::CallFrame::Type::kCreate2;
    reverted.from = addr(0xb0);
    reverted.value = U256{7};
    reverted.status = vm::Status::kRevert;
    // Error(string) "no"
    reverted.output = from_hex(
                          "08c379a0"
                          "0000000000000000000000000000000000000000000000000000000000000020"
                          "0000000000000000000000000000000000000000000000000000000000000002"
                          "6e6f000000000000000000000000000000000000000000000000000000000000")
                          .value();
    top.calls = {child, reverted};
    top.logs.push_back({exec::Log{addr(0xb0), {h32(3)}, {0xab}}, 2});
    node_.trace_tx_answer = std::optional<TraceResult>(top);
    Json j = result("debug_traceTransaction",
                    {hash,
                     {{"tracer", "callTracer"},
                      {"tracerConfig", {{"withLog", true}, {"onlyTopCall", false}}},
                      {"timeout", "10s"}}});
    EXPECT_EQ(node_.last_hash, h32(9));
    EXPECT_TRUE(node_.last_trace_options->call.with_log);
    EXPECT_FALSE(node_.last_trace_options->call.only_top_call);
    EXPECT_EQ(j["type"], "CALL");
    EXPECT_EQ(j["from"], json::address(addr(0xa0)));
    EXPECT_EQ(j["to"], json::address(addr(0xb0)));
    EXPECT_EQ(j["value"], "0x0");
    EXPECT_EQ(j["gas"], "0x186a0");
    EXPECT_EQ(j["gasUsed"], "0x7530");
    EXPECT_EQ(j["input"], "0x01");
    EXPECT_EQ(j["output"], "0x02");
    EXPECT_FALSE(j.contains("error"));
    EXPECT_EQ(j["calls"][0]["type"], "STATICCALL");
    EXPECT_FALSE(j["calls"][0].contains("value"));
    EXPECT_FALSE(j["calls"][0].contains("output"));
    EXPECT_EQ(j["calls"][0]["error"], "out of gas");
    EXPECT_EQ(j["calls"][0]["input"], "0x");
    EXPECT_EQ(j["calls"][1]["type"], "CREATE2");
    EXPECT_FALSE(j["calls"][1].contains("to"));
    EXPECT_EQ(j["calls"][1]["error"], "execution reverted");
    EXPECT_EQ(j["calls"][1]["revertReason"], "no");
    EXPECT_EQ(j["logs"][0]["position"], "0x2");
    EXPECT_EQ(j["logs"][0]["data"], "0xab");
    EXPECT_EQ(j["logs"][0]["topics"][0], json::hash(h32(3)));

    // prestateTracer: nonce as a number, zero nonce and empty code left out; diff mode.
    PrestateTrace pre;
    pre.pre[addr(0xa0)] = PrestateAccount{U256{5}, 3, std::nullopt, {}};
    pre.pre[addr(0xb0)] = PrestateAccount{U256{0}, 0, Bytes{0x60}, {{h32(1), h32(2)}}};
    node_.trace_tx_answer = std::optional<TraceResult>(pre);
    j = result("debug_traceTransaction", {hash, {{"tracer", "prestateTracer"}}});
    EXPECT_EQ(node_.last_trace_options->tracer, TraceOptions::Tracer::kPrestate);
    EXPECT_EQ(j[json::address(addr(0xa0))], (Json{{"balance", "0x5"}, {"nonce", 3}}));
    EXPECT_EQ(j[json::address(addr(0xb0))],
              (Json{{"balance", "0x0"},
                    {"code", "0x60"},
                    {"storage", {{json::hash(h32(1)), json::hash(h32(2))}}}}));
    pre.diff_mode = true;
    pre.post[addr(0xa0)] = PrestateAccount{U256{4}, std::nullopt, std::nullopt, {}};
    node_.trace_tx_answer = std::optional<TraceResult>(pre);
    j = result("debug_traceTransaction",
               {hash, {{"tracer", "prestateTracer"}, {"tracerConfig", {{"diffMode", true}}}}});
    EXPECT_TRUE(node_.last_trace_options->diff_mode);
    EXPECT_EQ(j["post"][json::address(addr(0xa0))], (Json{{"balance", "0x4"}}));
    EXPECT_EQ(j["pre"].size(), 2U);

    // Unknown transaction; blocks as [{txHash, result}]; noopTracer; traceCall's overrides.
    node_.trace_tx_answer = std::optional<TraceResult>();
    EXPECT_EQ(error("debug_traceTransaction", {hash, {{"tracer", "callTracer"}}})["message"],
              "transaction not found");
    node_.trace_block_answer = std::optional<std::vector<TxTrace>>(
        std::vector<TxTrace>{TxTrace{h32(4), TraceResult{std::monostate{}}}});
    j = result("debug_traceBlockByNumber", {"0x3", {{"tracer", "noopTracer"}}});
    EXPECT_EQ(node_.last_selector->number, 3U);
    EXPECT_EQ(j, (Json::array({Json{{"txHash", json::hash(h32(4))}, {"result", Json::object()}}})));
    node_.trace_block_answer = std::optional<std::vector<TxTrace>>();
    EXPECT_EQ(error("debug_traceBlockByNumber", {"0x3", {{"tracer", "callTracer"}}})["message"],
              "block not found");
    const std::string to = json::address(addr(0xbb));
    j = result("debug_traceCall", {{{"to", to}},
                                   "latest",
                                   {{"tracer", "noopTracer"},
                                    {"stateOverrides", {{to, {{"balance", "0x1"}}}}},
                                    {"blockOverrides", {{"time", "0x99"}}}}});
    EXPECT_EQ(j, Json::object());
    ASSERT_EQ(node_.last_call->state_overrides.size(), 1U);
    EXPECT_EQ(node_.last_call->state_overrides[0].second.balance, U256{1});
    ASSERT_TRUE(node_.last_call->block_overrides.has_value());
    EXPECT_EQ(node_.last_call->block_overrides->time, uint64_t{0x99});

    // No tracer: geth's opcode logger, with its options at the top level.
    exec::StructTrace st;
    st.gas = 21000;
    st.failed = true;
    st.return_value = {0xde, 0xad};
    exec::StructLog push;
    push.pc = 0;
    push.op = 0x60;
    push.gas = 100;
    push.gas_cost = 3;
    push.stack = std::vector<U256>{U256{0x80}, U256{0}};
    push.memory = Bytes(32, 0x11);
    push.storage = std::map<U256, U256>{{U256{1}, U256{2}}};
    push.refund = 4800;
    push.return_data = {0x01};
    exec::StructLog bad;
    bad.pc = 2;
    bad.op = 0x0c;  // undefined in Cancun
    bad.depth = 2;
    bad.error = vm::Status::kUndefinedInstruction;
    st.logs = {push, bad};
    node_.trace_tx_answer = std::optional<TraceResult>(st);
    j = result("debug_traceTransaction",
               {hash, {{"enableMemory", true}, {"disableStack", false}, {"limit", 10}}});
    EXPECT_EQ(node_.last_trace_options->tracer, TraceOptions::Tracer::kStruct);
    EXPECT_TRUE(node_.last_trace_options->logger.enable_memory);
    EXPECT_EQ(node_.last_trace_options->logger.limit, 10U);
    EXPECT_EQ(j["gas"], 21000);
    EXPECT_EQ(j["failed"], true);
    EXPECT_EQ(j["returnValue"], "0xdead");
    const Json& l0 = j["structLogs"][0];
    EXPECT_EQ(l0["op"], "PUSH1");
    EXPECT_EQ(l0["pc"], 0);
    EXPECT_EQ(l0["gas"], 100);
    EXPECT_EQ(l0["gasCost"], 3);
    EXPECT_EQ(l0["depth"], 1);
    EXPECT_EQ(l0["stack"], Json::array({"0x80", "0x0"}));
    EXPECT_EQ(l0["memory"], Json::array({std::string(64, '1')}));
    EXPECT_EQ(l0["storage"][std::string(63, '0') + "1"], std::string(63, '0') + "2");
    EXPECT_EQ(l0["refund"], 4800);
    EXPECT_EQ(l0["returnData"], "0x01");
    EXPECT_FALSE(l0.contains("error"));
    const Json& l1 = j["structLogs"][1];
    EXPECT_EQ(l1["op"], "opcode 0xc not defined");
    EXPECT_EQ(l1["error"], "invalid opcode: opcode 0xc not defined");
    EXPECT_FALSE(l1.contains("stack"));
    EXPECT_FALSE(l1.contains("refund"));
    result("debug_traceTransaction", Json::array({hash}));
    EXPECT_EQ(node_.last_trace_options->tracer, TraceOptions::Tracer::kStruct);
    EXPECT_FALSE(node_.last_trace_options->logger.enable_memory);

    // Other tracers and malformed options: -32602 naming the problem.
    Json e = error("debug_traceTransaction", {hash, {{"limit", -1}}});
    EXPECT_EQ(e["code"], kInvalidParams);
    e = error("debug_traceTransaction", {hash, {{"tracer", "4byteTracer"}}});
    EXPECT_NE(e["message"].get<std::string>().find("\"4byteTracer\" is not supported"),
              std::string::npos);
    EXPECT_EQ(error("debug_traceTransaction", {hash, {{"tracer", 1}}})["code"], kInvalidParams);
    EXPECT_EQ(error("debug_traceTransaction", {hash, "callTracer"})["code"], kInvalidParams);
    EXPECT_EQ(error("debug_traceTransaction",
                    {hash, {{"tracer", "callTracer"}, {"tracerConfig", {{"withLog", 1}}}}})["code"],
              kInvalidParams);
    EXPECT_EQ(error("debug_traceCall",
                    {{{"to", to}},
                     "latest",
                     {{"tracer", "callTracer"}, {"blockOverrides", {{"random", "0x1"}}}}})["code"],
              kInvalidParams);
    EXPECT_EQ(error("debug_traceTransaction", {"0x12", {{"tracer", "callTracer"}}})["code"],
              kInvalidParams);
}

TEST_F(MethodsTest, dev_chain_controls_take_numbers_and_quantities) {
    EXPECT_EQ(result("evm_mine"), "0x0");
    EXPECT_FALSE(node_.last_timestamp.has_value());
    EXPECT_EQ(result("evm_mine", {1700000000}), "0x0");
    EXPECT_EQ(node_.last_timestamp, 1700000000U);
    EXPECT_EQ(result("evm_mine", {"0x10"}), "0x0");
    EXPECT_EQ(node_.last_timestamp, 16U);
    EXPECT_EQ(result("evm_increaseTime", {3600}), 3600);
    EXPECT_EQ(result("evm_increaseTime", {"0xe10"}), 7200);
    EXPECT_TRUE(result("evm_setNextBlockTimestamp", {"0x20"}).is_null());
    EXPECT_EQ(node_.last_timestamp, 32U);
    EXPECT_EQ(error("evm_increaseTime", {-1})["code"], kInvalidParams);
    EXPECT_EQ(error("evm_increaseTime", Json::array())["code"], kInvalidParams);
    EXPECT_EQ(error("evm_setNextBlockTimestamp", {"soon"})["code"], kInvalidParams);

    // anvil_mine / hardhat_mine: the first block now, the next ones `interval` after the head.
    node_.mined_timestamps.clear();
    node_.head_value.timestamp = 1000;
    EXPECT_TRUE(result("anvil_mine", {"0x3", "0xc"}).is_null());
    EXPECT_EQ(node_.mined_timestamps,
              (std::vector<std::optional<uint64_t>>{std::nullopt, 1012U, 1012U}));
    node_.mined_timestamps.clear();
    EXPECT_TRUE(result("hardhat_mine").is_null());
    EXPECT_EQ(node_.mined_timestamps.size(), 1U);
    EXPECT_EQ(error("anvil_mine", {10001})["code"], kInvalidParams);
    EXPECT_EQ(error("hardhat_mine", {1, 0})["code"], kInvalidParams);

    // evm_snapshot / evm_revert and anvil's names: ids as quantities, revert answers a bool.
    EXPECT_EQ(result("evm_snapshot"), "0x1");
    EXPECT_EQ(result("anvil_snapshot"), "0x2");
    EXPECT_EQ(result("evm_revert", {"0x2"}), true);
    EXPECT_EQ(result("anvil_revert", {1}), true);
    EXPECT_EQ(result("evm_revert", {"0x9"}), false);
    EXPECT_EQ(node_.reverted, (std::vector<uint64_t>{2, 1, 9}));
    EXPECT_EQ(error("evm_revert", Json::array())["code"], kInvalidParams);
    EXPECT_EQ(error("evm_revert", {"one"})["code"], kInvalidParams);
    EXPECT_EQ(error("evm_snapshot", {1})["code"], kInvalidParams);

    // anvil_set* answer null (setStorageAt: true), hardhat_set* true; numbers may be zero-padded.
    const std::string who = "0x00000000000000000000000000000000000000aa";
    EXPECT_TRUE(result("anvil_setBalance", {who, "0x03e8"}).is_null());
    EXPECT_EQ(result("hardhat_setBalance", {who, "0x1"}), true);
    EXPECT_TRUE(result("anvil_setNonce", {who, "0x7"}).is_null());
    EXPECT_TRUE(result("anvil_setCode", {who, "0x6001"}).is_null());
    EXPECT_EQ(result("anvil_setStorageAt", {who, "0x2", "0x" + std::string(63, '0') + "5"}), true);
    EXPECT_EQ(result("hardhat_setStorageAt", {who, "0x0", "0x09"}), true);
    ASSERT_EQ(node_.account_changes.size(), 6U);
    EXPECT_EQ(node_.account_changes[0].second.balance, U256(1000));
    EXPECT_EQ(node_.account_changes[2].second.nonce, 7U);
    EXPECT_EQ(node_.account_changes[3].second.code, (Bytes{0x60, 0x01}));
    EXPECT_EQ(node_.account_changes[4].second.storage,
              (std::vector<std::pair<U256, U256>>{{U256(2), U256(5)}}));
    EXPECT_EQ(error("anvil_setBalance", {"0x12", "0x1"})["code"], kInvalidParams);
    EXPECT_EQ(error("anvil_setNonce", {who, "0x10000000000000000"})["code"], kInvalidParams);
    EXPECT_EQ(error("anvil_setCode", {who, "0x6"})["code"], kInvalidParams);
    EXPECT_EQ(error("anvil_setStorageAt", {who, "0x1"})["code"], kInvalidParams);
    EXPECT_EQ(node_.account_changes.size(), 6U);

    EXPECT_TRUE(result("anvil_impersonateAccount", {who}).is_null());
    EXPECT_EQ(result("hardhat_stopImpersonatingAccount", {who}), true);
    ASSERT_EQ(node_.impersonations.size(), 2U);
    EXPECT_TRUE(node_.impersonations[0].second);
    EXPECT_FALSE(node_.impersonations[1].second);
    EXPECT_EQ(error("anvil_impersonateAccount", {"0x1234"})["code"], kInvalidParams);
    EXPECT_EQ(error("hardhat_impersonateAccount", Json::array())["code"], kInvalidParams);

    // hardhat_metadata / anvil_metadata: the same instance id for one EthRpc.
    const Json meta = result("hardhat_metadata");
    EXPECT_EQ(meta["chainId"], 31337);
    EXPECT_EQ(meta["latestBlockNumber"], node_.head_value.number);
    EXPECT_TRUE(meta["clientVersion"].is_string());
    EXPECT_EQ(meta["instanceId"].get<std::string>().size(), 66U);
    EXPECT_EQ(result("anvil_metadata")["instanceId"], meta["instanceId"]);

    // Mining modes: hardhat's milliseconds for evm_setIntervalMining, anvil's seconds for its own.
    EXPECT_EQ(result("hardhat_getAutomine"), true);
    EXPECT_TRUE(result("evm_setAutomine", {false}).is_null());
    EXPECT_EQ(result("anvil_getAutomine"), false);
    EXPECT_TRUE(result("evm_setIntervalMining", {1500}).is_null());
    EXPECT_EQ(node_.mining.interval_s, 1.5);
    EXPECT_TRUE(result("anvil_setAutomine", {true}).is_null());
    EXPECT_EQ(result("hardhat_getAutomine"), false);  // an interval is set
    EXPECT_TRUE(result("anvil_setIntervalMining", {"0x2"}).is_null());
    EXPECT_EQ(node_.mining.interval_s, 2.0);
    EXPECT_FALSE(node_.mining.automine);
    EXPECT_TRUE(result("evm_setIntervalMining", {0}).is_null());
    EXPECT_TRUE(result("evm_setAutomine", {true}).is_null());
    EXPECT_EQ(result("hardhat_getAutomine"), true);
    EXPECT_EQ(error("evm_setAutomine", {"yes"})["code"], kInvalidParams);
    EXPECT_EQ(error("evm_setIntervalMining", {-5})["code"], kInvalidParams);
}

TEST_F(MethodsTest, txpool_namespace_follows_geth) {
    // Keys and text in EIP-55 case: an address from EIP-55's examples, and the bb.. address as
    // the EIP-712 example writes it.
    const Address a = *json::parse_address(Json("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"));
    TxRecord t0 = dynamic_fee_tx(false);
    t0.from = a;
    t0.txn.nonce = 0;
    t0.txn.to = addr(0xbb);
    t0.txn.value = U256(7);
    t0.txn.gas_limit = 21000;
    TxRecord t1 = t0;
    t1.txn.nonce = 1;
    t1.txn.to = std::nullopt;
    TxRecord q = t0;
    q.txn.nonce = 9;
    q.from = addr(0xcc);
    node_.pool_value.pending = {t0, t1};
    node_.pool_value.queued = {q};

    EXPECT_EQ(result("txpool_status"), (Json{{"pending", "0x2"}, {"queued", "0x1"}}));
    const std::string key = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";
    const Json content = result("txpool_content");
    ASSERT_TRUE(content["pending"].contains(key)) << content.dump();
    EXPECT_EQ(content["pending"][key].size(), 2U);
    EXPECT_EQ(content["pending"][key]["1"]["nonce"], "0x1");
    EXPECT_TRUE(content["pending"][key]["0"]["blockHash"].is_null());
    EXPECT_EQ(content["queued"].size(), 1U);
    const Json inspect = result("txpool_inspect");
    EXPECT_EQ(
        inspect["pending"][key]["0"],
        "0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB: 7 wei + 21000 gas \u00d7 3000000000 wei");
    EXPECT_EQ(inspect["pending"][key]["1"],
              "contract creation: 7 wei + 21000 gas \u00d7 3000000000 wei");
    const Json from = result("txpool_contentFrom", {json::address(a)});
    EXPECT_EQ(from["pending"].size(), 2U);
    EXPECT_TRUE(from["queued"].empty());
    EXPECT_EQ(error("txpool_contentFrom", {"0x12"})["code"], kInvalidParams);
}

TEST_F(MethodsTest, coinbase_and_uncle_getters) {
    node_.coinbase_value = addr(0x42);
    EXPECT_EQ(result("eth_coinbase"), json::address(addr(0x42)));
    EXPECT_TRUE(result("eth_getUncleByBlockNumberAndIndex", {"latest", "0x0"}).is_null());
    EXPECT_TRUE(result("eth_getUncleByBlockHashAndIndex", {json::hash(h32(1)), "0x1"}).is_null());
    EXPECT_EQ(error("eth_getUncleByBlockNumberAndIndex", {"latest"})["code"], kInvalidParams);
    EXPECT_EQ(error("eth_getUncleByBlockHashAndIndex", {"0x12", "0x0"})["code"], kInvalidParams);
}

TEST_F(MethodsTest, transaction_json_has_geth_fields) {
    node_.txs[h32(0x11)] = dynamic_fee_tx(true);
    const auto j = result("eth_getTransactionByHash", {json::hash(h32(0x11))});
    for (const char* k : {"blockHash",
                          "blockNumber",
                          "from",
                          "gas",
                          "gasPrice",
                          "maxFeePerGas",
                          "maxPriorityFeePerGas",
                          "hash",
                          "input",
                          "nonce",
                          "to",
                          "transactionIndex",
                          "value",
                          "type",
                          "accessList",
                          "chainId",
                          "v",
                          "r",
                          "s",
                          "yParity"}) {
        EXPECT_TRUE(j.contains(k)) << k;
    }
    EXPECT_EQ(j["type"], "0x2");
    EXPECT_EQ(j["chainId"], "0x7a69");
    EXPECT_EQ(j["nonce"], "0x5");
    EXPECT_EQ(j["v"], "0x1");
    EXPECT_EQ(j["yParity"], "0x1");
    EXPECT_EQ(j["r"], "0x1234");
    EXPECT_EQ(j["input"], "0x");
    EXPECT_EQ(j["accessList"], Json::array());
    EXPECT_EQ(j["blockNumber"], "0x7");
    EXPECT_EQ(j["transactionIndex"], "0x0");

    // Pending: block fields null, still found.
    node_.txs[h32(0x11)] = dynamic_fee_tx(false);
    const auto p = result("eth_getTransactionByHash", {json::hash(h32(0x11))});
    EXPECT_TRUE(p["blockHash"].is_null());
    EXPECT_TRUE(p["blockNumber"].is_null());
    EXPECT_TRUE(p["transactionIndex"].is_null());
    EXPECT_TRUE(result("eth_getTransactionByHash", {json::hash(h32(0x12))}).is_null());
    EXPECT_TRUE(result("eth_getTransactionReceipt", {json::hash(h32(0x11))}).is_null());
}

TEST_F(MethodsTest, legacy_transaction_v_follows_eip155) {
    TxRecord t = dynamic_fee_tx(true);
    t.txn.type = TxnType::kLegacy;
    t.txn.chain_id = 31337;
    t.txn.signature.y_parity = 1;
    auto j = tx_json(t);
    EXPECT_EQ(j["v"], json::quantity(uint64_t{31337 * 2 + 36}));
    EXPECT_FALSE(j.contains("yParity"));
    EXPECT_FALSE(j.contains("accessList"));
    EXPECT_FALSE(j.contains("maxFeePerGas"));
    t.txn.chain_id.reset();
    j = tx_json(t);
    EXPECT_EQ(j["v"], "0x1c");
    EXPECT_FALSE(j.contains("chainId"));
}

TEST_F(MethodsTest, block_json_has_geth_fields_and_tx_forms) {
    BlockRecord b;
    b.header.number = 7;
    b.header.gas_limit = 30000000;
    b.header.base_fee_per_gas = U256(875000000);
    b.header.nonce = 0;
    b.hash = h32(0x22);
    b.size = 600;
    b.transactions.push_back(dynamic_fee_tx(true));
    node_.blocks[7] = b;
    auto j = result("eth_getBlockByNumber", {"0x7", false});
    for (const char* k : {"baseFeePerGas",    "blobGasUsed",
                          "difficulty",       "excessBlobGas",
                          "extraData",        "gasLimit",
                          "gasUsed",          "hash",
                          "logsBloom",        "miner",
                          "mixHash",          "nonce",
                          "number",           "parentBeaconBlockRoot",
                          "parentHash",       "receiptsRoot",
                          "sha3Uncles",       "size",
                          "stateRoot",        "timestamp",
                          "totalDifficulty",  "transactions",
                          "transactionsRoot", "uncles",
                          "withdrawals",      "withdrawalsRoot"}) {
        EXPECT_TRUE(j.contains(k)) << k;
    }
    EXPECT_EQ(j["nonce"], "0x0000000000000000");
    EXPECT_EQ(j["totalDifficulty"], "0x0");
    EXPECT_EQ(j["size"], "0x258");
    EXPECT_EQ(j["baseFeePerGas"], "0x342770c0");
    EXPECT_EQ(j["logsBloom"].get<std::string>().size(), 2u + 512u);
    EXPECT_EQ(j["transactions"], Json::array({json::hash(h32(0x11))}));
    EXPECT_EQ(j["uncles"], Json::array());
    j = result("eth_getBlockByNumber", {"latest", true});
    ASSERT_EQ(j["transactions"].size(), 1u);
    EXPECT_EQ(j["transactions"][0]["hash"], json::hash(h32(0x11)));
    EXPECT_EQ(result("eth_getBlockByHash", {json::hash(h32(0x22)), false})["number"], "0x7");
    EXPECT_TRUE(result("eth_getBlockByNumber", {"0x8", false}).is_null());
    EXPECT_EQ(result("eth_getBlockTransactionCountByNumber", {"0x7"}), "0x1");
    EXPECT_EQ(result("eth_getTransactionByBlockNumberAndIndex", {"0x7", "0x0"})["hash"],
              json::hash(h32(0x11)));
    EXPECT_TRUE(result("eth_getTransactionByBlockNumberAndIndex", {"0x7", "0x1"}).is_null());
    EXPECT_EQ(error("eth_getBlockByNumber", {"0x7", "yes"})["code"], kInvalidParams);
}

TEST_F(MethodsTest, receipt_and_logs_json) {
    ReceiptRecord r;
    r.tx_hash = h32(0x11);
    r.block_hash = h32(0x22);
    r.block_number = 7;
    r.from = addr(0xaa);
    r.contract_address = addr(0xcc);
    r.gas_used = 50000;
    r.cumulative_gas_used = 50000;
    r.effective_gas_price = U256(2000000000);
    r.status = true;
    r.type = TxnType::kDynamicFee;
    LogRecord l;
    l.address = addr(0xcc);
    l.topics = {h32(0x01)};
    l.data = Bytes{0x01};
    l.block_number = 7;
    l.block_hash = h32(0x22);
    l.tx_hash = h32(0x11);
    r.logs.push_back(l);
    node_.receipts[h32(0x11)] = r;
    const auto j = result("eth_getTransactionReceipt", {json::hash(h32(0x11))});
    EXPECT_EQ(j["status"], "0x1");
    EXPECT_EQ(j["type"], "0x2");
    EXPECT_TRUE(j["to"].is_null());
    EXPECT_EQ(j["contractAddress"], json::address(addr(0xcc)));
    EXPECT_EQ(j["gasUsed"], "0xc350");
    EXPECT_EQ(j["effectiveGasPrice"], "0x77359400");
    ASSERT_EQ(j["logs"].size(), 1u);
    EXPECT_EQ(j["logs"][0]["logIndex"], "0x0");
    EXPECT_EQ(j["logs"][0]["removed"], false);
    EXPECT_EQ(j["logs"][0]["topics"], Json::array({json::hash(h32(1))}));
}

TEST_F(MethodsTest, block_receipts_and_blob_base_fee) {
    BlockRecord b;
    b.header.number = 7;
    b.hash = h32(0x22);
    b.transactions.push_back(dynamic_fee_tx(true));
    node_.blocks[7] = b;
    EXPECT_EQ(error("eth_getBlockReceipts", {"latest"})["code"], kInternalError);  // missing
    ReceiptRecord r;
    r.tx_hash = h32(0x11);
    r.block_number = 7;
    node_.receipts[h32(0x11)] = r;
    const auto j = result("eth_getBlockReceipts", {"latest"});
    ASSERT_EQ(j.size(), 1u);
    EXPECT_EQ(j[0]["transactionHash"], json::hash(h32(0x11)));
    EXPECT_TRUE(result("eth_getBlockReceipts", {"0x9"}).is_null());
    EXPECT_EQ(result("eth_blobBaseFee"), "0x1");
}

TEST_F(MethodsTest, get_logs_decodes_the_filter) {
    node_.log_answer = {};
    EXPECT_EQ(result("eth_getLogs",
                     {{{"fromBlock", "0x1"},
                       {"toBlock", "latest"},
                       {"address", "0x" + std::string(40, 'c')},
                       {"topics",
                        {json::hash(h32(1)), nullptr, {json::hash(h32(2)), json::hash(h32(3))}}}}}),
              Json::array());
    const LogFilter& f = *node_.last_filter;
    EXPECT_EQ(f.from_block, BlockSelector::at(1));
    EXPECT_EQ(f.to_block, BlockSelector::latest());
    EXPECT_EQ(f.addresses, std::vector<Address>{addr(0xcc)});
    ASSERT_EQ(f.topics.size(), 3u);
    EXPECT_EQ(f.topics[0], std::vector<Hash32>{h32(1)});
    EXPECT_TRUE(f.topics[1].empty());
    EXPECT_EQ(f.topics[2].size(), 2u);
    EXPECT_EQ(
        error("eth_getLogs", {{{"blockHash", json::hash(h32(1))}, {"fromBlock", "0x1"}}})["code"],
        kInvalidParams);
    EXPECT_EQ(
        error("eth_getLogs", {{{"topics", {nullptr, nullptr, nullptr, nullptr, nullptr}}}})["code"],
        kInvalidParams);
    EXPECT_EQ(error("eth_getLogs", {{{"address", "0x12"}}})["code"], kInvalidParams);
    node_.log_answer.clear();
}

TEST_F(MethodsTest, block_and_pending_filters_deliver_once) {
    const std::string bf = result("eth_newBlockFilter");
    const std::string pf = result("eth_newPendingTransactionFilter");
    EXPECT_NE(bf, pf);
    EXPECT_EQ(result("eth_getFilterChanges", {bf}), Json::array());
    node_.fire_block({8, h32(0x08), {}, {}});
    node_.fire_pending(h32(0x99));
    EXPECT_EQ(result("eth_getFilterChanges", {bf}), Json::array({json::hash(h32(0x08))}));
    EXPECT_EQ(result("eth_getFilterChanges", {bf}), Json::array());
    EXPECT_EQ(result("eth_getFilterChanges", {pf}), Json::array({json::hash(h32(0x99))}));
    EXPECT_EQ(result("eth_uninstallFilter", {bf}), true);
    EXPECT_EQ(result("eth_uninstallFilter", {bf}), false);
    const auto e = error("eth_getFilterChanges", {bf});
    EXPECT_EQ(e, (Json{{"code", -32000}, {"message", "filter not found"}}));
}

TEST_F(MethodsTest, log_filters_match_address_topics_and_range) {
    const std::string f = result("eth_newFilter", {{{"address", json::address(addr(0xcc))},
                                                    {"topics", {json::hash(h32(1))}},
                                                    {"toBlock", "0x9"}}});
    LogRecord match;
    match.address = addr(0xcc);
    match.topics = {h32(1), h32(2)};
    LogRecord other_addr = match;
    other_addr.address = addr(0xdd);
    LogRecord other_topic = match;
    other_topic.topics = {h32(3)};
    LogRecord no_topics = match;
    no_topics.topics.clear();
    node_.fire_block({8, h32(8), {}, {match, other_addr, other_topic, no_topics}});
    node_.fire_block({10, h32(10), {}, {match}});  // past toBlock
    const auto changes = result("eth_getFilterChanges", {f});
    ASSERT_EQ(changes.size(), 1u);
    EXPECT_EQ(changes[0]["address"], json::address(addr(0xcc)));
    // eth_getFilterLogs asks the node with the filter's criteria.
    node_.log_answer = {match};
    EXPECT_EQ(result("eth_getFilterLogs", {f}).size(), 1u);
    EXPECT_EQ(node_.last_filter->to_block, BlockSelector::at(9));
    // A block filter is not a log filter.
    const std::string bf = result("eth_newBlockFilter");
    EXPECT_EQ(error("eth_getFilterLogs", {bf})["code"], kServerError);
}

TEST_F(MethodsTest, filters_expire_after_five_minutes_unpolled) {
    const std::string a = result("eth_newBlockFilter");
    const std::string b = result("eth_newBlockFilter");
    EXPECT_EQ(eth_->test_filter_count(), 2u);
    now_ += std::chrono::minutes(4);
    EXPECT_EQ(result("eth_getFilterChanges", {a}), Json::array());  // polling keeps `a` alive
    now_ += std::chrono::minutes(2);
    node_.fire_block({8, h32(8), {}, {}});
    EXPECT_EQ(eth_->test_filter_count(), 1u);
    EXPECT_EQ(error("eth_getFilterChanges", {b})["message"], "filter not found");
    EXPECT_EQ(result("eth_getFilterChanges", {a}).size(), 1u);
}

TEST_F(MethodsTest, unsubscribes_on_destruction) {
    EXPECT_EQ(node_.subscriber_count(), 1u);
    eth_.reset();
    EXPECT_EQ(node_.subscriber_count(), 0u);
}

TEST_F(MethodsTest, fees) {
    EXPECT_EQ(result("eth_gasPrice"), "0x77359400");
    EXPECT_EQ(result("eth_maxPriorityFeePerGas"), "0x3b9aca00");
    auto j = result("eth_feeHistory", {"0x2", "latest", {25, 75}});
    EXPECT_EQ(j["oldestBlock"], "0x6");
    EXPECT_EQ(j["baseFeePerGas"].size(), 3u);
    EXPECT_EQ(j["reward"].size(), 2u);
    EXPECT_EQ(j["reward"][0].size(), 2u);
    EXPECT_EQ(*node_.last_percentiles, (std::vector<double>{25, 75}));
    j = result("eth_feeHistory", {2, "latest"});
    EXPECT_FALSE(j.contains("reward"));
    EXPECT_EQ(error("eth_feeHistory", {"0x2", "latest", {"a"}})["code"], kInvalidParams);
}

// pel_rpc_fuzz reaches a method only through a seed that names it: the dispatcher finds methods
// by a hash lookup, which gives libFuzzer no comparison to learn a name from. So every method
// registered here has a call in tests/fuzz/rpc_corpus (a method added without one fails this).
TEST_F(MethodsTest, every_method_has_a_fuzz_seed) {
    namespace fs = std::filesystem;
    const fs::path corpus = fs::path(__FILE__).parent_path() / ".." / ".." / "fuzz" / "rpc_corpus";
    ASSERT_TRUE(fs::is_directory(corpus)) << corpus;
    std::string seeds;
    for (const auto& entry : fs::directory_iterator(corpus)) {
        std::ifstream in(entry.path(), std::ios::binary);
        seeds.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    const std::vector<std::string> names = d_.names();
    EXPECT_GE(names.size(), 90U);
    EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
    for (const std::string& name : names) {
        EXPECT_NE(seeds.find('"' + name + '"'), std::string::npos) << name << ": no seed calls it";
    }
}

TEST_F(MethodsTest, accounts_and_conflict_report) {
    node_.accounts_value = {addr(0xaa)};
    EXPECT_EQ(result("eth_accounts"), Json::array({json::address(addr(0xaa))}));
    EXPECT_TRUE(result("pel_getBlockConflicts", {"0x7"}).is_null());
    BlockConflictReport rep;
    rep.block_number = 7;
    rep.txs = 10;
    rep.re_executions = 5;
    rep.executions = 15;
    rep.top_conflicts = {
        {addr(0xcc), U256(1), 3}, {addr(0xcc), std::nullopt, 1}, {addr(0xdd), U256(2), 2}};
    node_.report = rep;
    const auto j = result("pel_getBlockConflicts", {"latest"});
    EXPECT_EQ(j["reExecutions"], 5);
    EXPECT_EQ(j["reExecutionsPerTx"], 0.5);
    EXPECT_TRUE(j["fallback"].is_null());
    ASSERT_EQ(j["hotContracts"].size(), 2u);
    EXPECT_EQ(j["hotContracts"][0]["address"], json::address(addr(0xcc)));
    EXPECT_EQ(j["hotContracts"][0]["count"], 4);
    EXPECT_EQ(j["hotSlots"].size(), 2u);
}

namespace q = pel::node::json;

// The EIP-712 specification's example: the Mail message signed by keccak256("cow"), whose
// signature the specification (and ethers' Wallet.signTypedData) gives.
TEST_F(MethodsTest, sign_typed_data_v4_gives_the_specification_signature) {
    node_.signing_key = keccak256(as_bytes("cow"));
    const std::string cow(test::kEip712Cow);
    node_.accounts_value = {*q::parse_address(Json(cow))};
    const Json td = test::eip712_mail();
    const std::string want(test::kEip712MailCowSignature);
    EXPECT_EQ(result("eth_signTypedData_v4", {cow, td}), want);         // an object
    EXPECT_EQ(result("eth_signTypedData_v4", {cow, td.dump()}), want);  // a JSON string
    EXPECT_EQ(node_.last_signed_digest->to_hex(), test::kEip712MailDigest);

    const Json bad = error("eth_signTypedData_v4", {cow, "{not json"});
    EXPECT_EQ(bad["code"], kInvalidParams);
    EXPECT_EQ(bad["message"], "invalid argument 1: typed data: not valid JSON");
    Json wrong = td;
    wrong["message"]["contents"] = 5;
    EXPECT_EQ(error("eth_signTypedData_v4", {cow, wrong})["message"],
              "invalid argument 1: typed data: message.contents: expected a string, got number");
    const Json unknown = error("eth_signTypedData_v4", {"0x" + std::string(40, '1'), td});
    EXPECT_EQ(unknown["code"], -32000);
    EXPECT_EQ(unknown["message"], "unknown account");
}

TEST_F(MethodsTest, personal_sign_and_eth_sign_sign_the_eip191_digest) {
    node_.signing_key = keccak256(as_bytes("cow"));
    const std::string cow(test::kEip712Cow);
    node_.accounts_value = {*q::parse_address(Json(cow))};
    const std::string hello = "0x48656c6c6f20576f726c64";  // "Hello World"
    const Json sig = result("personal_sign", {hello, cow});
    EXPECT_EQ(node_.last_signed_digest->to_hex(),  // ethers' hashMessage("Hello World")
              "0xa1de988600a42c4b4ab089b619297c17d53cffae5d5120d82d8a92d0bb3b78f2");
    EXPECT_EQ(result("personal_sign", {hello, cow, "ignored password"}), sig);
    EXPECT_EQ(result("eth_sign", {cow, hello}), sig);  // the same digest, parameters swapped
    // The signature recovers to the account (v is 27 or 28).
    const Bytes raw = *q::parse_data(sig);
    ASSERT_EQ(raw.size(), 65U);
    crypto::Signature s;
    s.r = U256::from_be32(raw.data());
    s.s = U256::from_be32(raw.data() + 32);
    ASSERT_TRUE(raw[64] == 27 || raw[64] == 28);
    s.y_parity = static_cast<uint8_t>(raw[64] - 27);
    auto who = crypto::recover_address(*node_.last_signed_digest, s, true);
    ASSERT_TRUE(who.has_value());
    EXPECT_EQ(q::address(*who), cow);

    EXPECT_EQ(error("personal_sign", {"Hello World", cow})["code"], kInvalidParams);  // not hex
    EXPECT_EQ(error("eth_sign", {hello, cow})["code"], kInvalidParams);               // swapped
    EXPECT_EQ(error("personal_sign", {hello, "0x" + std::string(40, '2')})["message"],
              "unknown account");
}

}  // namespace
}  // namespace pel::node::rpc
