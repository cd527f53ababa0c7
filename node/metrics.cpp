// SPDX-License-Identifier: Apache-2.0
// Thread safety / Invariants:
//  - prometheus-cpp families and metrics are thread safe; `rpc_mu_` guards only the caches of
//    per-method metric pointers (the pointers stay valid for the registry's lifetime).
//  - `tick_mu_` serializes samples: `last_` and `window_` are touched only under it, and every
//    counter is advanced by the difference between two successive NodeApi::metrics() snapshots,
//    so it never runs backwards.
#include "node/metrics.hpp"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>

#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>
#include <spdlog/spdlog.h>

#include "primitives/log.hpp"

namespace pel::node {

namespace pm = prometheus;

struct Metrics::Impl {
    NodeApi& api;
    MetricsOptions options;
    std::shared_ptr<pm::Registry> registry = std::make_shared<pm::Registry>();
    std::unique_ptr<pm::Exposer> exposer;
    uint16_t port = 0;
    pm::Family<pm::Gauge>* mempool_family = nullptr;  // set by mempool() during construction

    pm::Gauge& head;
    pm::Counter& blocks;
    pm::Counter& txs;
    pm::Counter& gas;
    pm::Gauge& tps;
    pm::Gauge& mgas;
    pm::Histogram& block_txs;
    pm::Histogram& block_ms;
    pm::Gauge& block_mgas;
    pm::Counter& reexec;
    pm::Gauge& reexec_per_tx;
    pm::Gauge& pool_pending;
    pm::Gauge& pool_queued;
    pm::Counter& rejected;
    pm::Gauge& consensus_height;
    pm::Gauge& consensus_round;
    pm::Gauge& peers;
    pm::Family<pm::Histogram>& rpc_latency;
    pm::Family<pm::Counter>& rpc_errors;

    std::mutex rpc_mu;
    std::unordered_map<std::string, pm::Histogram*> latency_by_method;  // guarded by rpc_mu
    std::unordered_map<std::string, pm::Counter*> errors_by_key;        // guarded by rpc_mu

    std::mutex tick_mu;
    std::optional<NodeMetrics> last;  // guarded by tick_mu
    struct Sample {
        std::chrono::steady_clock::time_point at;
        uint64_t txs = 0;
        uint64_t gas = 0;
    };
    std::deque<Sample> window;    // guarded by tick_mu
    uint64_t reported_up_to = 0;  // guarded by tick_mu: last block whose report was observed

    std::mutex run_mu;
    std::condition_variable run_cv;
    bool stopping = false;  // guarded by run_mu
    std::thread sampler;

    Impl(NodeApi& a, MetricsOptions o)
        : api(a),
          options(std::move(o)),
          head(gauge("pel_head_block_number", "Number of the last committed block")),
          blocks(counter("pel_blocks_total", "Blocks produced since start")),
          txs(counter("pel_txs_total", "Transactions committed since start")),
          gas(counter("pel_gas_total", "Gas committed since start")),
          tps(gauge("pel_txs_per_second", "Committed transactions per second over the last 10 s")),
          mgas(gauge("pel_mgas_per_second", "Committed Mgas per second over the last 10 s")),
          block_txs(pm::BuildHistogram()
                        .Name("pel_block_txs")
                        .Help("Transactions per block")
                        .Register(*registry)
                        .Add({}, pm::Histogram::BucketBoundaries{0, 1, 10, 100, 500, 1000, 2000,
                                                                 5000, 10000, 20000})),
          block_ms(pm::BuildHistogram()
                       .Name("pel_block_execution_ms")
                       .Help("Block execution wall time in milliseconds (parallel executor)")
                       .Register(*registry)
                       .Add({}, pm::Histogram::BucketBoundaries{0.5, 1, 2, 5, 10, 20, 50, 100, 200,
                                                                500, 1000, 2000, 5000})),
          block_mgas(gauge("pel_block_mgas_per_second",
                           "Last block: gas used / execution time, in Mgas/s")),
          reexec(counter("pel_reexecutions_total", "Block-STM re-executions since start")),
          reexec_per_tx(gauge("pel_reexecutions_per_tx",
                              "Last block: Block-STM re-executions per transaction")),
          pool_pending(mempool().Add({{"state", "pending"}})),
          pool_queued(mempool().Add({{"state", "queued"}})),
          rejected(counter("pel_txs_rejected_total", "Transactions refused at admission")),
          consensus_height(gauge("pel_consensus_height",
                                 "Consensus mode: the block being decided (head + 1); 0 single")),
          consensus_round(gauge("pel_consensus_round", "Consensus mode: the current round")),
          peers(gauge("pel_peers", "Connected p2p peers")),
          rpc_latency(pm::BuildHistogram()
                          .Name("pel_rpc_request_duration_seconds")
                          .Help("JSON-RPC request latency per method")
                          .Register(*registry)),
          rpc_errors(pm::BuildCounter()
                         .Name("pel_rpc_errors_total")
                         .Help("JSON-RPC error responses per method and code")
                         .Register(*registry)) {}

    pm::Gauge& gauge(const char* name, const char* help) {
        return pm::BuildGauge().Name(name).Help(help).Register(*registry).Add({});
    }
    pm::Counter& counter(const char* name, const char* help) {
        return pm::BuildCounter().Name(name).Help(help).Register(*registry).Add({});
    }
    pm::Family<pm::Gauge>& mempool() {
        if (mempool_family == nullptr) {
            mempool_family = &pm::BuildGauge()
                                  .Name("pel_mempool_txs")
                                  .Help("Transactions in the pool (pending: executable)")
                                  .Register(*registry);
        }
        return *mempool_family;
    }

    void tick() {
        const std::lock_guard lock(tick_mu);
        const NodeMetrics m = api.metrics();
        const auto now = std::chrono::steady_clock::now();
        head.Set(static_cast<double>(m.head_number));
        {
            const ConsensusStatus cs = api.consensus_status();
            consensus_height.Set(static_cast<double>(cs.block_num));
            consensus_round.Set(static_cast<double>(cs.round));
            peers.Set(static_cast<double>(api.peer_count()));
        }
        pool_pending.Set(static_cast<double>(m.mempool_pending));
        pool_queued.Set(static_cast<double>(m.mempool_queued));
        auto advance = [](pm::Counter& c, uint64_t now_v, uint64_t before) {
            if (now_v > before) {
                c.Increment(static_cast<double>(now_v - before));
            }
        };
        const NodeMetrics before = last.value_or(NodeMetrics{});
        advance(blocks, m.blocks_produced, before.blocks_produced);
        advance(txs, m.txs_committed, before.txs_committed);
        advance(gas, m.gas_committed, before.gas_committed);
        advance(reexec, m.re_executions, before.re_executions);
        advance(rejected, m.txs_rejected, before.txs_rejected);
        reexec_per_tx.Set(m.last_block_re_executions_per_tx);

        // Per-block histograms from the conflict reports of the blocks produced since the last
        // sample (at most the last 256, so a long pause does not stall the sampler).
        if (!last) {
            reported_up_to = m.head_number;
        }
        uint64_t from = reported_up_to + 1;
        if (m.head_number >= 256 && from < m.head_number - 255) {
            from = m.head_number - 255;
        }
        for (uint64_t n = from; n <= m.head_number; ++n) {
            auto r = api.conflict_report(BlockSelector::at(n));
            if (!r || !r->has_value()) {
                continue;
            }
            const BlockConflictReport& rep = **r;
            block_txs.Observe(static_cast<double>(rep.txs));
            block_ms.Observe(rep.execution_ms);
            if (rep.execution_ms > 0) {
                block_mgas.Set(static_cast<double>(rep.gas_used) / 1e3 / rep.execution_ms);
            }
        }
        reported_up_to = std::max(reported_up_to, m.head_number);

        window.push_back({now, m.txs_committed, m.gas_committed});
        while (window.size() > 2 && now - window.front().at > std::chrono::seconds(10)) {
            window.pop_front();
        }
        if (window.size() >= 2) {
            const double dt =
                std::chrono::duration<double>(window.back().at - window.front().at).count();
            if (dt > 0) {
                tps.Set(static_cast<double>(window.back().txs - window.front().txs) / dt);
                mgas.Set(static_cast<double>(window.back().gas - window.front().gas) / 1e6 / dt);
            }
        }
        last = m;
    }

    void observe_rpc(std::string_view method, std::chrono::nanoseconds elapsed, int code) {
        const std::string name = method.empty() ? "unknown" : std::string(method);
        pm::Histogram* h = nullptr;
        pm::Counter* e = nullptr;
        {
            const std::lock_guard lock(rpc_mu);
            auto it = latency_by_method.find(name);
            if (it == latency_by_method.end()) {
                it = latency_by_method
                         .emplace(name, &rpc_latency.Add(
                                            {{"method", name}},
                                            pm::Histogram::BucketBoundaries{
                                                0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}))
                         .first;
            }
            h = it->second;
            if (code != 0) {
                const std::string key = name + "\n" + std::to_string(code);
                auto eit = errors_by_key.find(key);
                if (eit == errors_by_key.end()) {
                    eit = errors_by_key
                              .emplace(key, &rpc_errors.Add(
                                                {{"method", name}, {"code", std::to_string(code)}}))
                              .first;
                }
                e = eit->second;
            }
        }
        h->Observe(std::chrono::duration<double>(elapsed).count());
        if (e != nullptr) {
            e->Increment();
        }
    }

    void run_sampler() {
        std::unique_lock lock(run_mu);
        while (!stopping) {
            lock.unlock();
            tick();
            lock.lock();
            run_cv.wait_for(lock, options.sample_interval, [this] { return stopping; });
        }
    }
};

Metrics::Metrics(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Metrics::~Metrics() { stop(); }

Result<std::unique_ptr<Metrics>> Metrics::start(NodeApi& api, const MetricsOptions& options) {
    auto impl = std::make_unique<Impl>(api, options);
    if (options.port != 0) {
        const std::string where = options.address + ":" + std::to_string(options.port);
        try {
            impl->exposer = std::make_unique<pm::Exposer>(where, 2);
        } catch (const std::exception& e) {
            return make_error("metrics: cannot listen on ", where, ": ", e.what());
        }
        impl->exposer->RegisterCollectable(impl->registry);
        const auto ports = impl->exposer->GetListeningPorts();
        impl->port = ports.empty() ? options.port : static_cast<uint16_t>(ports.front());
    }
    impl->tick();
    if (options.sample_interval.count() > 0) {
        Impl* raw = impl.get();
        impl->sampler = std::thread([raw] {
            log::name_thread("pel-metrics");
            raw->run_sampler();
        });
    }
    return std::unique_ptr<Metrics>(new Metrics(std::move(impl)));
}

void Metrics::observe_rpc(std::string_view method, std::chrono::nanoseconds elapsed, int code) {
    impl_->observe_rpc(method, elapsed, code);
}

void Metrics::tick() { impl_->tick(); }

std::string Metrics::scrape() const {
    return pm::TextSerializer().Serialize(impl_->registry->Collect());
}

uint16_t Metrics::port() const noexcept { return impl_->port; }

void Metrics::stop() {
    if (!impl_) {
        return;
    }
    {
        const std::lock_guard lock(impl_->run_mu);
        impl_->stopping = true;
    }
    impl_->run_cv.notify_all();
    if (impl_->sampler.joinable()) {
        impl_->sampler.join();
    }
    impl_->exposer.reset();
}

}  // namespace pel::node
