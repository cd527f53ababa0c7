// SPDX-License-Identifier: Apache-2.0
// The Ethereum JSON-RPC methods (eth_*, net_*, web3_*, pel_*) over a NodeApi, and the polling
// filters (eth_newFilter, eth_newBlockFilter, eth_newPendingTransactionFilter,
// eth_getFilterChanges, eth_getFilterLogs, eth_uninstallFilter). A filter that is not polled for
// `filter_timeout` (5 minutes, as geth) is removed.
//
// Error mapping: parameter decoding failures are -32602 "invalid argument N: ..."; NodeApi errors
// keep their kind's code (api.hpp: -32602, -32000, 3, -32603); a reverted eth_call or
// eth_estimateGas answers code 3 with "execution reverted[: reason]" and the revert data as hex.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "node/api.hpp"
#include "node/rpc_dispatch.hpp"

namespace pel::node::rpc {

struct EthRpcOptions {
    std::string client_version = "pel-node/v0.1.0";
    std::chrono::steady_clock::duration filter_timeout = std::chrono::minutes(5);
    size_t max_filters = 10'000;
    /// Changes kept per filter between two polls; older ones are dropped first.
    size_t max_filter_backlog = 100'000;
    /// Clock for filter expiry (tests substitute their own).
    std::function<std::chrono::steady_clock::time_point()> clock = [] {
        return std::chrono::steady_clock::now();
    };
};

/// Thread safety: register_methods() once; the registered handlers may then run from many
/// threads at once. Subscribes to the node's new blocks and pending transactions on
/// construction and unsubscribes on destruction; `api` must outlive this object.
class EthRpc {
  public:
    explicit EthRpc(NodeApi& api, EthRpcOptions options = {});
    ~EthRpc();
    EthRpc(const EthRpc&) = delete;
    EthRpc& operator=(const EthRpc&) = delete;

    /// Adds every method to `dispatcher`.
    void register_methods(Dispatcher& dispatcher);

    /// Installed filters (tests).
    [[nodiscard]] size_t test_filter_count() const;

  private:
    struct Filters;
    NodeApi& api_;
    EthRpcOptions options_;
    std::unique_ptr<Filters> filters_;
    SubscriptionId subscription_ = 0;
    Hash32 instance_id_;  ///< random per construction (hardhat_metadata)
};

}  // namespace pel::node::rpc
