// SPDX-License-Identifier: Apache-2.0
// Visiting a hash map in key order without copying, moving or swapping its values.
//
// Thread safety: pure; the map must not change while the result is in use (the pointers point
// into it).
#pragma once

#include <algorithm>
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

}  // namespace pel
