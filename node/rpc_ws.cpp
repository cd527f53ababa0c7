// SPDX-License-Identifier: Apache-2.0
#include "node/rpc_ws.hpp"

#include <algorithm>
#include <random>
#include <utility>
#include <vector>

#include "node/json_codec.hpp"
#include "node/rpc_json.hpp"

namespace pel::node::rpc {

namespace q = json;

WsRpcConnection::WsRpcConnection(NodeApi& node, const Dispatcher& dispatcher, WsSend send)
    : node_(node), dispatcher_(dispatcher), send_(std::move(send)) {
    methods_.emplace("eth_subscribe", [this](const Params& p) { return subscribe(p); });
    methods_.emplace("eth_unsubscribe", [this](const Params& p) { return unsubscribe(p); });
}

WsRpcConnection::~WsRpcConnection() {
    std::optional<SubscriptionId> id;
    {
        const std::lock_guard lock(mu_);
        id = node_sub_;
    }
    if (id) {
        node_.unsubscribe(*id);  // waits for a callback running elsewhere
    }
}

std::optional<std::string> WsRpcConnection::on_message(std::string_view text) {
    return dispatcher_.handle(text, &methods_);
}

RpcResult WsRpcConnection::subscribe(const Params& p) {
    PEL_TRY_VOID(p.expect(1, 2));
    if (!p.at(0).is_string()) {
        return invalid_argument(0, Error{"expected a subscription name"});
    }
    const std::string& name = p.at(0).get_ref<const std::string&>();
    Sub sub;
    if (name == "newHeads") {
        sub.kind = Kind::kNewHeads;
    } else if (name == "logs") {
        sub.kind = Kind::kLogs;
        if (!p.at(1).is_null()) {
            PEL_TRY(sub.filter, decode_param(p, 1, parse_log_filter));
        }
        // A logs subscription follows new blocks only (geth refuses a range too).
        if (sub.filter.block_hash || sub.filter.from_block.tag == BlockTag::kNumber ||
            sub.filter.to_block.tag == BlockTag::kNumber) {
            return invalid_argument(1, Error{"a logs subscription takes no block range"});
        }
    } else if (name == "newPendingTransactions") {
        sub.kind = Kind::kPending;
    } else {
        return rpc_error(kInvalidParams, "no \"" + name + "\" subscription in eth namespace");
    }
    std::string id;
    bool need_node_sub = false;
    {
        const std::lock_guard lock(mu_);
        if (subs_.size() >= kMaxSubscriptions) {
            return rpc_error(kServerError, "too many subscriptions on this connection (limit " +
                                               std::to_string(kMaxSubscriptions) + ")");
        }
        // Ids: a random prefix per connection and a counter, as a quantity (geth's are random
        // 128-bit quantities).
        static thread_local std::mt19937_64 rng{std::random_device{}()};
        id = q::quantity(U256(next_id_++, rng() | 1U, 0, 0));
        subs_.emplace_back(id, std::move(sub));
        need_node_sub = !node_sub_.has_value();
        if (need_node_sub) {
            node_sub_ = 0;  // claimed: made below, outside the lock (callbacks take it)
        }
    }
    if (need_node_sub) {
        Subscriber s;
        s.on_block = [this](const NewBlockEvent& ev) { on_block(ev); };
        s.on_pending = [this](const Hash32& h) { on_pending(h); };
        const SubscriptionId made = node_.subscribe(std::move(s));
        const std::lock_guard lock(mu_);
        node_sub_ = made;
    }
    return Json(id);
}

RpcResult WsRpcConnection::unsubscribe(const Params& p) {
    PEL_TRY_VOID(p.expect(1, 1));
    if (!p.at(0).is_string()) {
        return invalid_argument(0, Error{"expected a subscription id"});
    }
    const std::string& id = p.at(0).get_ref<const std::string&>();
    const std::lock_guard lock(mu_);
    const auto it = std::find_if(subs_.begin(), subs_.end(),
                                 [&](const auto& entry) { return entry.first == id; });
    if (it == subs_.end()) {
        return Json(false);
    }
    subs_.erase(it);
    return Json(true);
}

void WsRpcConnection::notify(const std::string& id, Json result) {
    Json msg{{"jsonrpc", "2.0"},
             {"method", "eth_subscription"},
             {"params", {{"subscription", id}, {"result", std::move(result)}}}};
    send_(Dispatcher::serialize(msg));
}

void WsRpcConnection::on_block(const NewBlockEvent& ev) {
    std::vector<std::pair<std::string, Sub>> subs;
    {
        const std::lock_guard lock(mu_);
        for (const auto& [id, s] : subs_) {
            if (s.kind != Kind::kPending) {
                subs.emplace_back(id, s);
            }
        }
    }
    std::optional<Json> header;
    for (const auto& [id, s] : subs) {
        if (s.kind == Kind::kNewHeads) {
            if (!header) {
                auto b = node_.block_by_number(BlockSelector::at(ev.number));
                if (!b || !*b) {
                    continue;  // reverted meanwhile (evm_revert): nothing to announce
                }
                header = block_json(**b, false);
                for (const char* k : {"transactions", "uncles", "size", "totalDifficulty"}) {
                    header->erase(k);
                }
            }
            notify(id, *header);
        } else {
            for (const LogRecord& log : ev.logs) {
                if (log_matches(s.filter, log)) {
                    notify(id, log_json(log));
                }
            }
        }
    }
}

void WsRpcConnection::on_pending(const Hash32& hash) {
    std::vector<std::string> ids;
    {
        const std::lock_guard lock(mu_);
        for (const auto& [id, s] : subs_) {
            if (s.kind == Kind::kPending) {
                ids.push_back(id);
            }
        }
    }
    for (const auto& id : ids) {
        notify(id, Json(q::hash(hash)));
    }
}

}  // namespace pel::node::rpc
