// SPDX-License-Identifier: Apache-2.0
// Byte buffers and views. Bytes owns; ByteView borrows and never outlives what it points to.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace pel {

using Bytes = std::vector<uint8_t>;
using ByteView = std::span<const uint8_t>;

/// Views the bytes of a string (no copy).
inline ByteView as_bytes(std::string_view s) noexcept {
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};  // NOLINT
}

inline bool equal(ByteView a, ByteView b) noexcept {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

inline void append(Bytes& out, ByteView v) { out.insert(out.end(), v.begin(), v.end()); }

}  // namespace pel
