// SPDX-License-Identifier: Apache-2.0
// JSON-RPC over WebSocket on the HTTP port, with a real socket and Beast's client: the shared
// methods answer, eth_subscribe pushes newHeads, filtered logs and pending hashes from the node's
// callbacks, eth_unsubscribe stops them, closing the connection ends the node subscription, bad
// subscriptions get -32602, an oversized message closes the connection, and plain HTTP still
// works on the same port.
#include "node/rpc_ws.hpp"

#include <chrono>
#include <string>
#include <thread>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "node/http_server.hpp"
#include "node/json_codec.hpp"
#include "node/rpc_eth.hpp"
#include "tests/unit/node/rpc_fake_node.hpp"

namespace pel::node {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using Json = nlohmann::json;

class WsTest : public ::testing::Test {
  protected:
    void SetUp() override {
        eth_ = std::make_unique<rpc::EthRpc>(node_);
        eth_->register_methods(dispatcher_);
        HttpOptions o;
        o.port = 0;
        o.max_body_bytes = 4096;
        o.max_ws_queue = 64;
        auto s = HttpServer::start(
            o, [this](std::string_view body) { return dispatcher_.handle(body); },
            [this](WsSend send) -> std::unique_ptr<WsConnection> {
                return std::make_unique<rpc::WsRpcConnection>(node_, dispatcher_, std::move(send));
            });
        ASSERT_TRUE(s) << s.error().message;
        server_ = std::move(s).value();
        BlockRecord b;
        b.header.number = 5;
        b.header.gas_limit = 30'000'000;
        b.hash.bytes[0] = 0x55;
        node_.blocks[5] = b;
    }
    void TearDown() override {
        server_->stop();
        server_.reset();
    }

    std::unique_ptr<websocket::stream<beast::tcp_stream>> connect() {
        auto ws = std::make_unique<websocket::stream<beast::tcp_stream>>(ioc_);
        beast::get_lowest_layer(*ws).connect(
            tcp::endpoint(asio::ip::make_address("127.0.0.1"), server_->port()));
        beast::get_lowest_layer(*ws).expires_after(std::chrono::seconds(10));
        ws->handshake("127.0.0.1", "/");
        return ws;
    }
    static Json read(websocket::stream<beast::tcp_stream>& ws) {
        beast::flat_buffer buf;
        ws.read(buf);
        return Json::parse(beast::buffers_to_string(buf.data()));
    }
    static Json call(websocket::stream<beast::tcp_stream>& ws, const std::string& method,
                     Json params = Json::array()) {
        ws.write(asio::buffer(
            Json{{"jsonrpc", "2.0"}, {"id", 1}, {"method", method}, {"params", params}}.dump()));
        return read(ws);
    }

    asio::io_context ioc_;
    test::FakeNode node_;
    rpc::Dispatcher dispatcher_;
    std::unique_ptr<rpc::EthRpc> eth_;
    std::unique_ptr<HttpServer> server_;
};

TEST_F(WsTest, methods_and_subscriptions_over_one_connection) {
    auto ws = connect();
    EXPECT_EQ(call(*ws, "eth_chainId")["result"], "0x7a69");
    const size_t before = node_.subscriber_count();

    const Json heads = call(*ws, "eth_subscribe", {"newHeads"});
    ASSERT_TRUE(heads.contains("result")) << heads.dump();
    const std::string heads_id = heads["result"];
    EXPECT_EQ(node_.subscriber_count(), before + 1);
    Address token;
    token.bytes[19] = 0x20;
    Hash32 topic;
    topic.bytes[0] = 0x77;
    const Json logs =
        call(*ws, "eth_subscribe",
             {"logs", {{"address", token.to_hex()}, {"topics", {json::hash(topic)}}}});
    ASSERT_TRUE(logs.contains("result")) << logs.dump();
    const std::string logs_id = logs["result"];
    const Json pending = call(*ws, "eth_subscribe", {"newPendingTransactions"});
    ASSERT_TRUE(pending.contains("result")) << pending.dump();
    const std::string pending_id = pending["result"];
    EXPECT_NE(heads_id, logs_id);
    EXPECT_EQ(node_.subscriber_count(), before + 1);  // one node subscription per connection

    // A block with two logs, one of which matches.
    NewBlockEvent ev;
    ev.number = 5;
    ev.hash = node_.blocks[5].hash;
    LogRecord match;
    match.address = token;
    match.topics = {topic};
    match.block_number = 5;
    LogRecord other = match;
    other.address.bytes[19] = 0x21;
    ev.logs = {other, match};
    node_.fire_block(ev);
    const Json n1 = read(*ws);
    EXPECT_EQ(n1["method"], "eth_subscription");
    EXPECT_EQ(n1["params"]["subscription"], heads_id);
    EXPECT_EQ(n1["params"]["result"]["number"], "0x5");
    EXPECT_EQ(n1["params"]["result"]["hash"], json::hash(ev.hash));
    EXPECT_FALSE(n1["params"]["result"].contains("transactions"));
    const Json n2 = read(*ws);
    EXPECT_EQ(n2["params"]["subscription"], logs_id);
    EXPECT_EQ(n2["params"]["result"]["address"], token.to_hex());

    Hash32 tx;
    tx.bytes[31] = 9;
    node_.fire_pending(tx);
    const Json n3 = read(*ws);
    EXPECT_EQ(n3["params"]["subscription"], pending_id);
    EXPECT_EQ(n3["params"]["result"], json::hash(tx));

    // Unsubscribed: no more heads (the next message is the pending notification).
    EXPECT_EQ(call(*ws, "eth_unsubscribe", {heads_id})["result"], true);
    EXPECT_EQ(call(*ws, "eth_unsubscribe", {heads_id})["result"], false);
    node_.fire_block(ev);
    node_.fire_pending(tx);
    const Json n4 = read(*ws);
    EXPECT_EQ(n4["params"]["subscription"], logs_id);
    const Json n5 = read(*ws);
    EXPECT_EQ(n5["params"]["subscription"], pending_id);

    // Bad subscriptions.
    EXPECT_EQ(call(*ws, "eth_subscribe", {"syncing"})["error"]["code"], rpc::kInvalidParams);
    EXPECT_EQ(call(*ws, "eth_subscribe", {"logs", {{"fromBlock", "0x1"}}})["error"]["code"],
              rpc::kInvalidParams);
    EXPECT_EQ(call(*ws, "eth_subscribe")["error"]["code"], rpc::kInvalidParams);

    // A batch goes through the same path.
    ws->write(asio::buffer(std::string(
        R"([{"jsonrpc":"2.0","id":1,"method":"eth_chainId"},{"jsonrpc":"2.0","id":2,"method":"nope"}])")));
    const Json batch = read(*ws);
    ASSERT_TRUE(batch.is_array());
    EXPECT_EQ(batch[1]["error"]["code"], rpc::kMethodNotFound);

    // Closing the connection ends the node subscription.
    ws->close(websocket::close_code::normal);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (node_.subscriber_count() != before && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    EXPECT_EQ(node_.subscriber_count(), before);
    // Plain HTTP clients are unaffected: eth_subscribe is not a method there.
    EXPECT_FALSE(dispatcher_.has("eth_subscribe"));
}

TEST_F(WsTest, oversized_message_closes_the_connection) {
    auto ws = connect();
    ws->write(asio::buffer(std::string(8192, ' ')));
    beast::flat_buffer buf;
    beast::error_code ec;
    ws->read(buf, ec);
    EXPECT_TRUE(ec == websocket::error::closed || ec) << ec.message();
    if (ec == websocket::error::closed) {
        EXPECT_EQ(ws->reason().code, websocket::close_code::too_big);
    }
    // The server goes on.
    auto again = connect();
    EXPECT_EQ(call(*again, "eth_chainId")["result"], "0x7a69");
}

}  // namespace
}  // namespace pel::node
