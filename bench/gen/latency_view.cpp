// SPDX-License-Identifier: Apache-2.0
#include "bench/gen/latency_view.hpp"

#include <functional>
#include <thread>
#include <utility>

namespace pel::bench {

void LatencyView::begin_run() {
    for (Shard& s : shards_) {
        const std::lock_guard lock(s.mu);
        s.ready.clear();
    }
    misses_.store(0);
}

void LatencyView::charge(std::string key) const {
    if (latency_.count() == 0) {
        return;
    }
    Shard& shard = shards_[std::hash<std::string>{}(key) % kShards];
    const Clock::time_point now = Clock::now();
    Clock::time_point ready;
    bool first = false;
    {
        const std::lock_guard lock(shard.mu);
        auto [it, inserted] = shard.ready.try_emplace(std::move(key), now + latency_);
        ready = it->second;
        first = inserted;
    }
    if (first) {
        misses_.fetch_add(1, std::memory_order_relaxed);
    }
    if (ready > now) {
        std::this_thread::sleep_until(ready);
    }
}

Result<std::optional<state::Account>> LatencyView::account(const Address& addr) const {
    std::string key(1, 'a');
    key.append(addr.bytes.begin(), addr.bytes.end());
    charge(std::move(key));
    return inner_.account(addr);
}

Result<U256> LatencyView::storage(const Address& addr, const U256& slot) const {
    std::string key(1, 's');
    key.append(addr.bytes.begin(), addr.bytes.end());
    std::array<uint8_t, 32> s{};
    slot.to_be32(s.data());
    key.append(s.begin(), s.end());
    charge(std::move(key));
    return inner_.storage(addr, slot);
}

Result<std::shared_ptr<const Bytes>> LatencyView::code(const Hash32& code_hash) const {
    std::string key(1, 'c');
    key.append(code_hash.bytes.begin(), code_hash.bytes.end());
    charge(std::move(key));
    return inner_.code(code_hash);
}

}  // namespace pel::bench
