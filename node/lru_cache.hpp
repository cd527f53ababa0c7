// SPDX-License-Identifier: Apache-2.0
// node::LruCache: shared immutable values by key, bounded by an entry count and by a total weight
// (the caller's measure of each value, e.g. transactions in a decoded block); the least recently
// used entry goes first. The node keeps decoded blocks in one, for receipt and transaction lookups.
//
// Why recency and not key order: a client that reads old receipts block by block (an indexer, a
// load generator's final check) would otherwise see each block it loads evicted at once, being the
// oldest, and decode the block again for every transaction in it.
//
// Thread safety: none; the owner locks. Invariants: `order_` holds exactly the keys of `map_`,
// most recently used first; `weight_` is the sum of the entries' weights; after put() both bounds
// hold, except that the entry just put is always kept.
#pragma once

#include <cstddef>
#include <list>
#include <memory>
#include <unordered_map>
#include <utility>

namespace pel::node {

template <class K, class V>
class LruCache {
  public:
    LruCache(size_t max_entries, size_t max_weight)
        : max_entries_(max_entries), max_weight_(max_weight) {}

    /// The value of `key` (made the most recently used), or null.
    std::shared_ptr<const V> get(const K& key) {
        const auto it = map_.find(key);
        if (it == map_.end()) {
            return nullptr;
        }
        order_.splice(order_.begin(), order_, it->second.pos);
        return it->second.value;
    }

    /// Inserts or replaces `key` as the most recently used entry, then evicts from the least
    /// recently used end until both bounds hold (never this entry).
    void put(const K& key, std::shared_ptr<const V> value, size_t weight) {
        auto it = map_.find(key);
        if (it != map_.end()) {
            weight_ -= it->second.weight;
            it->second.value = std::move(value);
            it->second.weight = weight;
            order_.splice(order_.begin(), order_, it->second.pos);
        } else {
            order_.push_front(key);
            try {
                it = map_.emplace(key, Entry{std::move(value), weight, order_.begin()}).first;
            } catch (...) {
                order_.pop_front();
                throw;
            }
        }
        weight_ += weight;
        while (order_.size() > 1 && (order_.size() > max_entries_ || weight_ > max_weight_)) {
            const auto victim = map_.find(order_.back());
            weight_ -= victim->second.weight;
            map_.erase(victim);
            order_.pop_back();
        }
    }

    /// Drops every entry.
    void clear() noexcept {
        map_.clear();
        order_.clear();
        weight_ = 0;
    }

    [[nodiscard]] size_t size() const noexcept { return map_.size(); }
    [[nodiscard]] size_t weight() const noexcept { return weight_; }

  private:
    struct Entry {
        std::shared_ptr<const V> value;
        size_t weight = 0;
        typename std::list<K>::iterator pos;
    };
    size_t max_entries_;
    size_t max_weight_;
    size_t weight_ = 0;
    std::list<K> order_;  // front: most recently used
    std::unordered_map<K, Entry> map_;
};

}  // namespace pel::node
