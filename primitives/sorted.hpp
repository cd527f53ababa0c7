// SPDX-License-Identifier: Apache-2.0
// Visiting a hash map in key order without copying, moving or swapping its values, and sorting
// small records by a 64-bit key spread like a hash (addresses, keccak-derived storage slots).
//
// Thread safety: pure; the map must not change while the result is in use (the pointers point
// into it).
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <vector>

namespace pel {

/// Pointers to the entries (key, value pairs) of `map`, in ascending key order (keys compared
/// with <). For maps whose values are costly to move (optional code buffers, queues): sorting
/// pointers is cheaper than sorting copies.
template <class Map>
[[nodiscard]] std::vector<const typename Map::value_type*> entries_by_key(const Map& map) {
    std::vector<const typename Map::value_type*> out;
    out.reserve(map.size());
    for (const auto& entry : map) {
        out.push_back(&entry);
    }
    std::sort(out.begin(), out.end(),
              [](const auto* a, const auto* b) { return a->first < b->first; });
    return out;
}

/// Sorts `items` by (item.key, then `less`), where `key` (a uint64_t member) is spread roughly
/// evenly between its smallest and largest value, as a hash's leading bits are: one counting
/// pass into about items.size() buckets by the key's leading bits, then each bucket sorted on its
/// own (a few items: insertion sort). A skewed spread only makes some buckets larger; at worst all
/// items land in one bucket, which is then one std::sort. `scratch` is working space (its
/// capacity is reused). `less` orders items with equal keys (a strict weak order consistent with
/// the keys).
template <class T, class Less>
void sort_by_spread_key(std::vector<T>& items, std::vector<T>& scratch, const Less& less) {
    const auto full_less = [&](const T& a, const T& b) {
        return a.key != b.key ? a.key < b.key : less(a, b);
    };
    const size_t n = items.size();
    constexpr size_t kSmall = 64;
    if (n < kSmall) {
        std::sort(items.begin(), items.end(), full_less);
        return;
    }
    uint64_t lo = items[0].key;
    uint64_t hi = lo;
    for (const T& it : items) {
        lo = std::min(lo, it.key);
        hi = std::max(hi, it.key);
    }
    const auto bucket_bits = static_cast<unsigned>(std::bit_width(n - 1));  // 2^bits >= n
    const auto span_bits = static_cast<unsigned>(std::bit_width(hi - lo));
    const unsigned shift = span_bits > bucket_bits ? span_bits - bucket_bits : 0;
    const size_t buckets = static_cast<size_t>((hi - lo) >> shift) + 1;
    std::vector<uint32_t> start(buckets + 1, 0);
    for (const T& it : items) {
        ++start[static_cast<size_t>((it.key - lo) >> shift) + 1];
    }
    for (size_t b = 0; b < buckets; ++b) {
        start[b + 1] += start[b];
    }
    scratch.resize(n);
    {
        std::vector<uint32_t> next(start.begin(), start.end() - 1);
        for (const T& it : items) {
            scratch[next[static_cast<size_t>((it.key - lo) >> shift)]++] = it;
        }
    }
    constexpr size_t kInsertionMax = 16;
    for (size_t b = 0; b < buckets; ++b) {
        T* first = scratch.data() + start[b];
        T* last = scratch.data() + start[b + 1];
        if (last - first <= 1) {
            continue;
        }
        if (static_cast<size_t>(last - first) > kInsertionMax) {
            std::sort(first, last, full_less);
            continue;
        }
        for (T* i = first + 1; i != last; ++i) {
            T v = *i;
            T* j = i;
            for (; j != first && full_less(v, *(j - 1)); --j) {
                *j = *(j - 1);
            }
            *j = v;
        }
    }
    items.swap(scratch);
}

/// entries_by_key() for keys whose leading 64 bits, `lead(key)` (ordered as the keys are), spread
/// like a hash's (addresses, keccak-derived storage slots): sorted with sort_by_spread_key().
template <class Map, class Lead>
[[nodiscard]] std::vector<const typename Map::value_type*> entries_by_spread_key(const Map& map,
                                                                                 const Lead& lead) {
    struct Item {
        uint64_t key;
        const typename Map::value_type* entry;
    };
    std::vector<Item> items;
    items.reserve(map.size());
    for (const auto& entry : map) {
        items.push_back(Item{lead(entry.first), &entry});
    }
    std::vector<Item> scratch;
    sort_by_spread_key(items, scratch, [](const Item& a, const Item& b) {
        return a.entry->first < b.entry->first;
    });
    std::vector<const typename Map::value_type*> out;
    out.reserve(items.size());
    for (const Item& it : items) {
        out.push_back(it.entry);
    }
    return out;
}

}  // namespace pel
