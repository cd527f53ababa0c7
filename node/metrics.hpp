// SPDX-License-Identifier: Apache-2.0
// Prometheus metrics of pel-node (prometheus-cpp), served at http://<addr>:<port>/metrics.
//
// Families:
//   pel_head_block_number                 gauge      number of the last committed block
//   pel_blocks_total                      counter    blocks produced since start
//   pel_txs_total / pel_gas_total         counters   committed transactions and gas
//   pel_txs_per_second, pel_mgas_per_second  gauges  committed throughput over the last 10 s
//   pel_block_txs                         histogram  transactions per block
//   pel_block_execution_ms                histogram  executor wall time per block
//   pel_block_mgas_per_second             gauge      last block: gas / execution time
//   pel_reexecutions_total                counter    Block-STM re-executions
//   pel_reexecutions_per_tx               gauge      last block's re-executions per transaction
//   pel_mempool_txs{state=pending|queued} gauge      pool size
//   pel_txs_rejected_total                counter    admission refusals
//   pel_rpc_request_duration_seconds{method}  histogram  JSON-RPC latency per method
//   pel_rpc_errors_total{method,code}     counter    JSON-RPC error responses
// Node figures are sampled from NodeApi::metrics() and the per-block conflict reports once a
// second (and on every tick() in tests). Unknown method names are counted as method="unknown" so
// that clients cannot create label values at will.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "node/api.hpp"
#include "primitives/result.hpp"

namespace pel::node {

struct MetricsOptions {
    std::string address = "127.0.0.1";
    uint16_t port = 0;  ///< 0: no HTTP exposer (the registry still works; tests scrape it)
    std::chrono::milliseconds sample_interval{1000};  ///< 0: no sampler thread (tests call tick)
};

/// Thread safety: observe_rpc() and scrape() from any thread; tick() is serialized internally.
class Metrics {
  public:
    /// Errors: the exposer cannot listen (address and reason in the message).
    [[nodiscard]] static Result<std::unique_ptr<Metrics>> start(NodeApi& api,
                                                                const MetricsOptions& options);
    ~Metrics();
    Metrics(const Metrics&) = delete;
    Metrics& operator=(const Metrics&) = delete;

    /// Records one JSON-RPC request ("" = rejected before dispatch; code 0 = success).
    void observe_rpc(std::string_view method, std::chrono::nanoseconds elapsed, int code);
    /// Samples the node now.
    void tick();
    /// The text exposition format, as /metrics serves it.
    [[nodiscard]] std::string scrape() const;
    /// The exposer's port (0 when off).
    [[nodiscard]] uint16_t port() const noexcept;
    /// Stops the sampler and the exposer. Idempotent.
    void stop();

  private:
    struct Impl;
    explicit Metrics(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace pel::node
