// SPDX-License-Identifier: Apache-2.0
// Code analysis: a zero-padded copy of the code (so PUSHn near the end reads zeros and running off
// the end hits STOP without a bounds check) and the JUMPDEST bitmap. Private to vm/.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "primitives/bytes.hpp"

namespace pel::vm::internal {

/// Bytes appended after the code: 32 for a trailing PUSH32's immediate plus one STOP.
inline constexpr size_t kCodePadding = 33;

/// Thread safety: immutable after analyse(); the Vm that owns it is single-threaded.
class CodeAnalysis {
  public:
    /// Re-analyses `code` into this object, reusing its buffers (no allocation once they are
    /// large enough).
    void analyse(ByteView code);

    [[nodiscard]] const uint8_t* code() const noexcept { return padded_.data(); }
    [[nodiscard]] size_t code_size() const noexcept { return code_size_; }
    /// The original code, without the padding.
    [[nodiscard]] ByteView code_view() const noexcept { return {padded_.data(), code_size_}; }
    /// True when `pos` is a JUMPDEST opcode (not PUSH data) inside the code.
    [[nodiscard]] bool is_jumpdest(uint64_t pos) const noexcept {
        return pos < code_size_ && ((jumpdests_[pos / 64] >> (pos % 64)) & 1U) != 0;
    }
    /// Heap bytes held, for the cache's budget.
    [[nodiscard]] size_t footprint() const noexcept {
        return padded_.capacity() + jumpdests_.capacity() * sizeof(uint64_t);
    }

  private:
    Bytes padded_;
    std::vector<uint64_t> jumpdests_;
    size_t code_size_ = 0;
};

}  // namespace pel::vm::internal
