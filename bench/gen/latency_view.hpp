// SPDX-License-Identifier: Apache-2.0
// bench::LatencyView: a state::StateView decorator that makes base-state reads pay a simulated
// storage latency, so that pel-bench can show how parallel execution hides I/O.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "primitives/bytes.hpp"
#include "primitives/hash.hpp"
#include "primitives/result.hpp"
#include "primitives/u256.hpp"
#include "state/state_view.hpp"

namespace pel::bench {

/// Forwards every read to `inner`; the first read of each key (an account, a storage slot, a
/// code hash) since the last begin_run() is a "miss" and sleeps `latency` before it returns, as
/// a read from a cold cache that goes to disk would. A later read of the same key returns at
/// once, unless the first read of it is still "in flight": then it waits until that one's
/// simulated I/O completes (as a thread waiting on the same page would). So one run pays the
/// latency once per distinct key it touches, whoever reads it first, and the sequential and the
/// parallel executor pay it for the same keys.
///
/// Thread safety / Invariants: every method may be called from any number of threads at once,
/// except begin_run(), which needs that no read is in progress. The set of keys seen is sharded
/// by key hash; each shard's map is guarded by its mutex, and an entry, once inserted, holds the
/// time at which its simulated read completes and never changes until begin_run() clears all.
class LatencyView final : public state::StateView {
  public:
    /// `inner` must outlive this view. A zero latency forwards without bookkeeping.
    LatencyView(const state::StateView& inner, std::chrono::microseconds latency) noexcept
        : inner_(inner), latency_(latency) {}

    /// Forgets every key seen: the next run starts with a cold (simulated) cache.
    void begin_run();

    /// Reads that paid the latency since begin_run().
    [[nodiscard]] uint64_t misses() const noexcept { return misses_.load(); }

    [[nodiscard]] Result<std::optional<state::Account>> account(const Address& addr) const override;
    [[nodiscard]] Result<U256> storage(const Address& addr, const U256& slot) const override;
    [[nodiscard]] Result<std::shared_ptr<const Bytes>> code(const Hash32& code_hash) const override;
    [[nodiscard]] std::optional<uint64_t> block_num() const noexcept override {
        return inner_.block_num();
    }
    [[nodiscard]] Hash32 state_root() const noexcept override { return inner_.state_root(); }

  private:
    using Clock = std::chrono::steady_clock;
    static constexpr size_t kShards = 64;
    struct Shard {
        std::mutex mu;
        std::unordered_map<std::string, Clock::time_point> ready;  // guarded by mu
    };

    /// Sleeps as the key's first read (or until the first read's I/O completes).
    void charge(std::string key) const;

    const state::StateView& inner_;
    std::chrono::microseconds latency_;
    mutable std::array<Shard, kShards> shards_;
    mutable std::atomic<uint64_t> misses_{0};
};

}  // namespace pel::bench
