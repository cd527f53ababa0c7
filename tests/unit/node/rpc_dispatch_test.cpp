// SPDX-License-Identifier: Apache-2.0
// JSON-RPC 2.0 framing: single and batch requests, notifications, ids, every error code.
#include "node/rpc_dispatch.hpp"

#include <atomic>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "node/json_codec.hpp"

namespace pel::node::rpc {
namespace {

class DispatcherTest : public ::testing::Test {
  protected:
    DispatcherTest() : d_(DispatcherOptions{4}) {
        d_.add("echo", [this](const Params& p) -> RpcResult {
            ++calls_;
            return p.size() == 0 ? Json() : p.at(0);
        });
        d_.add("add", [](const Params& p) -> RpcResult {
            PEL_TRY_VOID(p.expect(2, 2));
            PEL_TRY(const uint64_t a, decode_param(p, 0, json::parse_quantity_u64));
            PEL_TRY(const uint64_t b, decode_param(p, 1, json::parse_quantity_u64));
            return Json(json::quantity(a + b));
        });
        d_.add("fail", [](const Params&) -> RpcResult {
            return rpc_error(kExecutionReverted, "execution reverted", Json("0x"));
        });
        d_.add("throws", [](const Params&) -> RpcResult { throw std::runtime_error("boom"); });
        d_.set_observer([this](std::string_view m, std::chrono::nanoseconds, int code) {
            observed_.emplace_back(std::string(m), code);
        });
    }

    Json call(std::string_view body) {
        const auto out = d_.handle(body);
        EXPECT_TRUE(out.has_value()) << body;
        return out ? Json::parse(*out) : Json();
    }

    Dispatcher d_;
    std::atomic<int> calls_{0};
    std::vector<std::pair<std::string, int>> observed_;
};

TEST_F(DispatcherTest, single_request_preserves_number_string_and_null_ids) {
    auto r = call(R"({"jsonrpc":"2.0","id":7,"method":"add","params":["0x1","0x2"]})");
    EXPECT_EQ(r, (Json{{"jsonrpc", "2.0"}, {"id", 7}, {"result", "0x3"}}));
    r = call(R"({"jsonrpc":"2.0","id":"abc","method":"echo","params":[1]})");
    EXPECT_EQ(r["id"], "abc");
    EXPECT_EQ(r["result"], 1);
    r = call(R"({"jsonrpc":"2.0","id":null,"method":"echo","params":[]})");
    EXPECT_TRUE(r.contains("id"));
    EXPECT_TRUE(r["id"].is_null());
    EXPECT_TRUE(r.contains("result"));
    EXPECT_TRUE(r["result"].is_null());
    r = call(R"({"jsonrpc":"2.0","id":1.5,"method":"echo"})");
    EXPECT_EQ(r["id"], 1.5);
}

TEST_F(DispatcherTest, malformed_json_is_32700_with_null_id) {
    for (const char* body : {"{", "", "not json", "{\"jsonrpc\":\"2.0\",}", "[1,"}) {
        const auto r = call(body);
        EXPECT_EQ(r["error"]["code"], kParseError) << body;
        EXPECT_TRUE(r["id"].is_null());
        EXPECT_EQ(r["jsonrpc"], "2.0");
    }
}

TEST_F(DispatcherTest, invalid_requests_are_32600) {
    const char* bodies[] = {
        R"(1)",
        R"("x")",
        R"({"jsonrpc":"2.0","id":1})",                               // no method
        R"({"jsonrpc":"2.0","id":1,"method":5})",                    // method not a string
        R"({"jsonrpc":"1.0","id":1,"method":"echo"})",               // wrong version
        R"({"id":1,"method":"echo"})",                               // no version
        R"({"jsonrpc":"2.0","id":1,"method":"echo","params":"x"})",  // params not structured
        R"({"jsonrpc":"2.0","id":{"a":1},"method":"echo"})",         // id an object
        R"({"jsonrpc":"2.0","id":[1],"method":"echo"})",             // id an array
        R"({"jsonrpc":"2.0","id":true,"method":"echo"})",            // id a bool
    };
    for (const char* body : bodies) {
        const auto r = call(body);
        EXPECT_EQ(r["error"]["code"], kInvalidRequest) << body;
    }
    // The id is kept when it was valid.
    EXPECT_EQ(call(R"({"jsonrpc":"1.0","id":9,"method":"echo"})")["id"], 9);
    EXPECT_EQ(calls_, 0);
}

TEST_F(DispatcherTest, unknown_method_is_32601) {
    const auto r = call(R"({"jsonrpc":"2.0","id":1,"method":"eth_nope","params":[]})");
    EXPECT_EQ(r["error"]["code"], kMethodNotFound);
    EXPECT_EQ(r["error"]["message"], "the method eth_nope does not exist/is not available");
    ASSERT_FALSE(observed_.empty());
    EXPECT_EQ(observed_.back(), (std::pair<std::string, int>{"", kMethodNotFound}));
}

TEST_F(DispatcherTest, bad_params_are_32602) {
    auto r = call(R"({"jsonrpc":"2.0","id":1,"method":"add","params":["0x1"]})");
    EXPECT_EQ(r["error"]["code"], kInvalidParams);
    EXPECT_EQ(r["error"]["message"], "missing value for required argument 1");
    r = call(R"({"jsonrpc":"2.0","id":1,"method":"add","params":["0x1","0x2","0x3"]})");
    EXPECT_EQ(r["error"]["message"], "too many arguments, want at most 2");
    r = call(R"({"jsonrpc":"2.0","id":1,"method":"add","params":["0x1","0x02"]})");
    EXPECT_EQ(r["error"]["code"], kInvalidParams);
    EXPECT_EQ(r["error"]["message"], "invalid argument 1: hex number with leading zero digits");
    r = call(R"({"jsonrpc":"2.0","id":1,"method":"add","params":[1,2]})");
    EXPECT_EQ(r["error"]["code"], kInvalidParams);
    r = call(R"({"jsonrpc":"2.0","id":1,"method":"add","params":{"a":"0x1"}})");
    EXPECT_EQ(r["error"]["code"], kInvalidParams);
    EXPECT_EQ(observed_.back(), (std::pair<std::string, int>{"add", kInvalidParams}));
}

TEST_F(DispatcherTest, handler_errors_keep_code_and_data) {
    auto r = call(R"({"jsonrpc":"2.0","id":1,"method":"fail"})");
    EXPECT_EQ(r["error"], (Json{{"code", 3}, {"message", "execution reverted"}, {"data", "0x"}}));
    r = call(R"({"jsonrpc":"2.0","id":1,"method":"throws"})");
    EXPECT_EQ(r["error"]["code"], kInternalError);
}

TEST_F(DispatcherTest, notifications_run_but_get_no_response) {
    EXPECT_FALSE(d_.handle(R"({"jsonrpc":"2.0","method":"echo","params":[1]})").has_value());
    EXPECT_EQ(calls_, 1);
    // A batch of only notifications: no response at all.
    EXPECT_FALSE(
        d_.handle(R"([{"jsonrpc":"2.0","method":"echo"},{"jsonrpc":"2.0","method":"echo"}])")
            .has_value());
    EXPECT_EQ(calls_, 3);
    // Unknown-method notifications get no response either.
    EXPECT_FALSE(d_.handle(R"({"jsonrpc":"2.0","method":"nope"})").has_value());
}

TEST_F(DispatcherTest, batches_answer_in_order_and_skip_notifications) {
    const auto r = call(R"([
        {"jsonrpc":"2.0","id":1,"method":"add","params":["0x1","0x1"]},
        {"jsonrpc":"2.0","method":"echo","params":[5]},
        {"jsonrpc":"2.0","id":"b","method":"nope"},
        5
    ])");
    ASSERT_TRUE(r.is_array());
    ASSERT_EQ(r.size(), 3u);
    EXPECT_EQ(r[0]["result"], "0x2");
    EXPECT_EQ(r[1]["id"], "b");
    EXPECT_EQ(r[1]["error"]["code"], kMethodNotFound);
    EXPECT_EQ(r[2]["error"]["code"], kInvalidRequest);
    EXPECT_TRUE(r[2]["id"].is_null());
}

TEST_F(DispatcherTest, empty_and_oversized_batches_are_32600) {
    auto r = call("[]");
    EXPECT_TRUE(r.is_object());
    EXPECT_EQ(r["error"]["code"], kInvalidRequest);
    // Limit is 4 in this fixture: 4 pass, 5 are refused as a whole, nothing runs.
    const std::string one = R"({"jsonrpc":"2.0","id":1,"method":"echo"})";
    r = call("[" + one + "," + one + "," + one + "," + one + "]");
    EXPECT_EQ(r.size(), 4u);
    const int before = calls_;
    r = call("[" + one + "," + one + "," + one + "," + one + "," + one + "]");
    ASSERT_TRUE(r.is_array());
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0]["error"]["code"], kInvalidRequest);
    EXPECT_EQ(r[0]["error"]["message"], "batch too large: 5 requests, the limit is 4");
    EXPECT_EQ(calls_, before);
}

TEST_F(DispatcherTest, invalid_utf8_in_results_is_replaced_not_thrown) {
    Dispatcher d;
    d.add("bad", [](const Params&) -> RpcResult { return Json(std::string("\xff\xfe", 2)); });
    const auto out = d.handle(R"({"jsonrpc":"2.0","id":1,"method":"bad"})");
    ASSERT_TRUE(out.has_value());
    const Json parsed = Json::parse(*out, nullptr, false);
    EXPECT_FALSE(parsed.is_discarded());
}

// A method with a batch handler: runs of consecutive well-formed calls reach it at once, in
// order; anything else between them splits the run; answers keep the batch's order and ids.
TEST(DispatcherBatch, consecutive_calls_go_to_the_batch_handler_in_order) {
    Dispatcher d;
    std::vector<std::string> log;  // what ran: "one:<x>" or "many:<x>,<y>,..."
    d.add("inc", [&](const Params& p) -> RpcResult {
        log.push_back("one:" + p.at(0).dump());
        return Json(p.at(0).get<int>() + 1);
    });
    d.add("other", [&](const Params&) -> RpcResult {
        log.emplace_back("other");
        return Json("o");
    });
    d.add_batch("inc", [&](std::span<const Params> calls) {
        std::string entry = "many:";
        std::vector<RpcResult> out;
        for (const Params& p : calls) {
            entry += p.at(0).dump() + ",";
            if (!p.at(0).is_number_integer()) {
                out.emplace_back(rpc_error(kInvalidParams, "not an integer"));
            } else {
                out.emplace_back(Json(p.at(0).get<int>() + 1));
            }
        }
        log.push_back(entry);
        return out;
    });
    std::vector<std::pair<std::string, int>> observed;
    d.set_observer([&](std::string_view m, std::chrono::nanoseconds, int code) {
        observed.emplace_back(std::string(m), code);
    });
    const auto body = R"([
        {"jsonrpc":"2.0","id":1,"method":"inc","params":[1]},
        {"jsonrpc":"2.0","id":2,"method":"inc","params":[2]},
        {"jsonrpc":"2.0","method":"inc","params":[3]},
        {"jsonrpc":"2.0","id":4,"method":"inc","params":["x"]},
        {"jsonrpc":"2.0","id":5,"method":"other"},
        {"jsonrpc":"2.0","id":6,"method":"inc","params":[6]},
        {"jsonrpc":"1.0","id":7,"method":"inc","params":[7]},
        {"jsonrpc":"2.0","id":8,"method":"inc","params":{"a":8}},
        {"jsonrpc":"2.0","id":9,"method":"inc","params":[9]},
        {"jsonrpc":"2.0","id":10,"method":"inc","params":[10]}
    ])";
    const auto out = d.handle(body);
    ASSERT_TRUE(out.has_value());
    const Json r = Json::parse(*out);
    ASSERT_TRUE(r.is_array());
    ASSERT_EQ(r.size(), 9u);  // the notification (3) gets no answer
    EXPECT_EQ(r[0], (Json{{"jsonrpc", "2.0"}, {"id", 1}, {"result", 2}}));
    EXPECT_EQ(r[1]["result"], 3);
    EXPECT_EQ(r[2]["id"], 4);
    EXPECT_EQ(r[2]["error"]["code"], kInvalidParams);
    EXPECT_EQ(r[3]["result"], "o");
    EXPECT_EQ(r[4]["id"], 6);
    EXPECT_EQ(r[4]["result"], 7);
    EXPECT_EQ(r[5]["error"]["code"], kInvalidRequest);  // jsonrpc 1.0
    EXPECT_EQ(r[6]["id"], 8);
    EXPECT_EQ(r[6]["error"]["code"], kInvalidParams);  // named params: never batched
    EXPECT_EQ(r[7]["result"], 10);
    EXPECT_EQ(r[8]["result"], 11);
    const std::vector<std::string> want = {"many:1,2,3,\"x\",", "other", "one:6", "many:9,10,"};
    EXPECT_EQ(log, want);
    // Every call observed once, under its method's name, in order.
    ASSERT_EQ(observed.size(), 10u);
    EXPECT_EQ(observed[0], (std::pair<std::string, int>{"inc", 0}));
    EXPECT_EQ(observed[3], (std::pair<std::string, int>{"inc", kInvalidParams}));
    EXPECT_EQ(observed[4], (std::pair<std::string, int>{"other", 0}));
    EXPECT_EQ(observed[6], (std::pair<std::string, int>{"", kInvalidRequest}));
}

TEST(DispatcherBatch, a_throwing_batch_handler_fails_each_call_of_its_run) {
    Dispatcher d;
    d.add("m", [](const Params&) -> RpcResult { return Json(1); });
    d.add_batch("m", [](std::span<const Params>) -> std::vector<RpcResult> {
        throw std::runtime_error("boom");
    });
    const auto out = d.handle(
        R"([{"jsonrpc":"2.0","id":1,"method":"m"},{"jsonrpc":"2.0","id":2,"method":"m"}])");
    ASSERT_TRUE(out.has_value());
    const Json r = Json::parse(*out);
    ASSERT_EQ(r.size(), 2u);
    for (const Json& e : r) {
        EXPECT_EQ(e["error"]["code"], kInternalError);
        EXPECT_EQ(e["error"]["message"], "internal error: boom");
    }
    // A single request never goes to the batch handler.
    const auto one = d.handle(R"({"jsonrpc":"2.0","id":1,"method":"m"})");
    ASSERT_TRUE(one.has_value());
    EXPECT_EQ(Json::parse(*one)["result"], 1);
}

TEST(DispatcherBatch, a_connection_method_of_the_same_name_is_not_batched) {
    Dispatcher d;
    int batched = 0;
    d.add("m", [](const Params&) -> RpcResult { return Json("shared"); });
    d.add_batch("m", [&](std::span<const Params> calls) {
        ++batched;
        return std::vector<RpcResult>(calls.size(), RpcResult(Json("batched")));
    });
    const Dispatcher::ConnectionMethods own = {
        {"m", [](const Params&) -> RpcResult { return Json("own"); }}};
    const auto out = d.handle(
        R"([{"jsonrpc":"2.0","id":1,"method":"m"},{"jsonrpc":"2.0","id":2,"method":"m"}])", &own);
    ASSERT_TRUE(out.has_value());
    const Json r = Json::parse(*out);
    EXPECT_EQ(r[0]["result"], "own");
    EXPECT_EQ(r[1]["result"], "own");
    EXPECT_EQ(batched, 0);
    // Re-adding the method drops its batch handler (it belonged to the old one).
    d.add("m", [](const Params&) -> RpcResult { return Json("new"); });
    const auto again = d.handle(
        R"([{"jsonrpc":"2.0","id":1,"method":"m"},{"jsonrpc":"2.0","id":2,"method":"m"}])");
    ASSERT_TRUE(again.has_value());
    EXPECT_EQ(Json::parse(*again)[1]["result"], "new");
    EXPECT_EQ(batched, 0);
}

TEST(Params, trailing_nulls_count_as_absent) {
    const Json a = Json::array({"0x1", nullptr});
    const Params p(a);
    EXPECT_TRUE(p.expect(1, 1));
    const Json b = Json::array({nullptr, "0x1"});
    EXPECT_FALSE(Params(b).expect(2, 2));  // a required argument may not be null
}

}  // namespace
}  // namespace pel::node::rpc
