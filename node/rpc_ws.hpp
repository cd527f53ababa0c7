// SPDX-License-Identifier: Apache-2.0
// JSON-RPC over one WebSocket connection: every method of the shared dispatcher, plus geth's
// pub/sub (eth_subscribe / eth_unsubscribe), which only a connection that can be written to at
// any time can serve:
//   eth_subscribe("newHeads")                  -> each new block's header (geth's fields)
//   eth_subscribe("logs", {address, topics})   -> each new log that matches (block order)
//   eth_subscribe("newPendingTransactions")    -> each admitted transaction's hash
// The answer is the subscription id (a quantity); notifications are
//   {"jsonrpc":"2.0","method":"eth_subscription","params":{"subscription":id,"result":...}}.
// eth_unsubscribe(id) answers whether it existed. Subscriptions end with the connection.
//
// Thread safety / Invariants: on_message runs on the connection's strand; the node's callbacks
// run on the producer or admitting threads. `subs_` (guarded by `mu_`) is the connection's
// subscriptions, notified in the order they were made; the node subscription exists from the first
// eth_subscribe until destruction, which unsubscribes it before anything else goes (no callback
// runs after that).
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "node/api.hpp"
#include "node/http_server.hpp"
#include "node/rpc_dispatch.hpp"

namespace pel::node::rpc {

class WsRpcConnection final : public WsConnection {
  public:
    /// `node` and `dispatcher` must outlive the connection.
    WsRpcConnection(NodeApi& node, const Dispatcher& dispatcher, WsSend send);
    ~WsRpcConnection() override;
    WsRpcConnection(const WsRpcConnection&) = delete;
    WsRpcConnection& operator=(const WsRpcConnection&) = delete;
    WsRpcConnection(WsRpcConnection&&) = delete;
    WsRpcConnection& operator=(WsRpcConnection&&) = delete;

    [[nodiscard]] std::optional<std::string> on_message(std::string_view text) override;

    /// Subscriptions per connection (a client asking for more gets -32000).
    static constexpr size_t kMaxSubscriptions = 1000;

  private:
    enum class Kind : uint8_t { kNewHeads, kLogs, kPending };
    struct Sub {
        Kind kind = Kind::kNewHeads;
        LogFilter filter;
    };
    RpcResult subscribe(const Params& p);
    RpcResult unsubscribe(const Params& p);
    void on_block(const NewBlockEvent& ev);
    void on_pending(const Hash32& hash);
    void notify(const std::string& id, Json result);

    NodeApi& node_;
    const Dispatcher& dispatcher_;
    WsSend send_;
    Dispatcher::ConnectionMethods methods_;
    std::mutex mu_;
    std::vector<std::pair<std::string, Sub>> subs_;  // guarded by mu_; in subscription order
    uint64_t next_id_ = 1;                           // guarded by mu_
    std::optional<SubscriptionId> node_sub_;         // guarded by mu_
};

}  // namespace pel::node::rpc
