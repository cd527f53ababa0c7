// SPDX-License-Identifier: Apache-2.0
// ShardedCache: the StateStore's read cache of committed values, an LRU per shard within a byte
// budget, with entries tagged by the store version from which their value holds. Private to state/.
//
// Thread safety / Invariants:
//  - Every method may be called from any thread; each shard has its own mutex, held only for a
//    map lookup or update (never across I/O).
//  - An entry's value is the key's value at every store version from its tag up to the head (the
//    StateStore keeps this: commit() overwrites the entries of the keys it changes, fill() only
//    inserts when no commit began since the caller looked at the head; see state_view.hpp).
//  - Shard budgets are fixed: total budget / shard count. An insert evicts from the LRU end until
//    the shard is within budget (the new entry itself is always kept).
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <mutex>
#include <unordered_map>
#include <utility>

namespace pel::state::internal {

template <class K, class V, class Hash = std::hash<K>>
class ShardedCache {
  public:
    explicit ShardedCache(size_t budget_bytes) : shard_budget_(budget_bytes / kShards) {}

    /// Copies the value to `out` if `key` is cached with a tag <= `max_version`; bumps it in the
    /// LRU order.
    bool lookup(const K& key, uint64_t max_version, V& out) {
        Shard& s = shard_of(key);
        const std::lock_guard lock(s.mu);
        const auto it = s.map.find(key);
        if (it == s.map.end() || it->second->version > max_version) return false;
        s.lru.splice(s.lru.begin(), s.lru, it->second);
        out = it->second->value;
        return true;
    }

    /// Inserts a value read at `version` unless the key is already cached or `seq` no longer
    /// equals `expected_seq` (a commit began since the reader looked at the head).
    void fill(const K& key, const V& value, uint64_t version, size_t charge,
              const std::atomic<uint64_t>& seq, uint64_t expected_seq) {
        Shard& s = shard_of(key);
        const std::lock_guard lock(s.mu);
        if (seq.load(std::memory_order_acquire) != expected_seq) return;
        if (s.map.find(key) != s.map.end()) return;
        insert_locked(s, key, value, version, charge);
    }

    /// Inserts or overwrites (commit: the key's value from `version` on).
    void update(const K& key, const V& value, uint64_t version, size_t charge) {
        Shard& s = shard_of(key);
        const std::lock_guard lock(s.mu);
        const auto it = s.map.find(key);
        if (it == s.map.end()) {
            insert_locked(s, key, value, version, charge);
            return;
        }
        // In place: no node is freed or allocated; the entry moves to the front.
        Entry& e = *it->second;
        s.used -= e.charge;
        e.value = value;
        e.version = version;
        e.charge = charge + kOverhead;
        s.used += e.charge;
        s.lru.splice(s.lru.begin(), s.lru, it->second);
        evict_locked(s, &e);
    }

    /// Removes `key` if cached (a commit whose write failed takes back its updates).
    void erase(const K& key) {
        Shard& s = shard_of(key);
        const std::lock_guard lock(s.mu);
        const auto it = s.map.find(key);
        if (it == s.map.end()) return;
        s.used -= it->second->charge;
        s.lru.erase(it->second);
        s.map.erase(it);
    }

    /// Total bytes charged (approximate; shards are read one at a time).
    [[nodiscard]] size_t used_bytes() {
        size_t total = 0;
        for (Shard& s : shards_) {
            const std::lock_guard lock(s.mu);
            total += s.used;
        }
        return total;
    }

  private:
    static constexpr size_t kShards = 64;
    // Per-entry overhead beyond the caller's charge: list node, map node and bucket.
    static constexpr size_t kOverhead = 96;

    struct Entry {
        K key;
        V value;
        uint64_t version = 0;
        size_t charge = 0;
    };
    using List = std::list<Entry>;

    struct alignas(64) Shard {
        std::mutex mu;
        List lru;  // front: most recently used
        std::unordered_map<K, typename List::iterator, Hash> map;
        size_t used = 0;
    };

    Shard& shard_of(const K& key) {
        const size_t h = Hash{}(key);
        return shards_[(h ^ (h >> 29)) % kShards];
    }

    void insert_locked(Shard& s, const K& key, const V& value, uint64_t version, size_t charge) {
        const size_t c = charge + kOverhead;
        while (!s.lru.empty() && s.used + c > shard_budget_) {
            const Entry& victim = s.lru.back();
            s.used -= victim.charge;
            s.map.erase(victim.key);
            s.lru.pop_back();
        }
        s.lru.push_front(Entry{key, value, version, c});
        s.map.emplace(key, s.lru.begin());
        s.used += c;
    }

    // Evicts from the LRU end until the shard is within budget, never `keep` (the front entry).
    void evict_locked(Shard& s, const Entry* keep) {
        while (s.used > shard_budget_ && &s.lru.back() != keep) {
            const Entry& victim = s.lru.back();
            s.used -= victim.charge;
            s.map.erase(victim.key);
            s.lru.pop_back();
        }
    }

    size_t shard_budget_;
    std::array<Shard, kShards> shards_;
};

}  // namespace pel::state::internal
