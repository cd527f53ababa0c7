// SPDX-License-Identifier: Apache-2.0
// A bounded set of recently seen hashes: gossip deduplication (a transaction or consensus
// message that was already seen is neither delivered nor relayed again).
//
// Thread safety: every method may be called from any thread (one internal mutex).
// Invariants: set_.size() == order_.size() <= capacity_; order_ holds the members in insertion
// order; when full, inserting a new hash evicts the oldest one (FIFO), so a hash seen long ago
// (more than `capacity` newer hashes since) may be accepted again.
#pragma once

#include <cstddef>
#include <deque>
#include <mutex>
#include <unordered_set>

#include "primitives/assert.hpp"
#include "primitives/hash.hpp"

namespace pel::net {

class SeenSet {
  public:
    explicit SeenSet(size_t capacity) : capacity_(capacity) {
        PEL_ASSERT(capacity > 0, "SeenSet capacity must be positive");
    }

    /// Records `h`; true if it was not present (the caller should deliver/relay), false if seen.
    [[nodiscard]] bool insert(const Hash32& h) {
        const std::lock_guard lock(mu_);
        if (!set_.insert(h).second) {
            return false;
        }
        order_.push_back(h);
        if (order_.size() > capacity_) {
            set_.erase(order_.front());
            order_.pop_front();
        }
        return true;
    }

    [[nodiscard]] bool contains(const Hash32& h) const {
        const std::lock_guard lock(mu_);
        return set_.contains(h);
    }

    [[nodiscard]] size_t size() const {
        const std::lock_guard lock(mu_);
        return set_.size();
    }

  private:
    const size_t capacity_;
    mutable std::mutex mu_;
    std::unordered_set<Hash32> set_;
    std::deque<Hash32> order_;
};

}  // namespace pel::net
