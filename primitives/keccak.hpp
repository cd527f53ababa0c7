// SPDX-License-Identifier: Apache-2.0
// Keccak-256 as Ethereum uses it (original Keccak padding 0x01, not SHA3's 0x06). Debian ships no
// Keccak-256: OpenSSL 3.0 has SHA3-256 only, whose padding differs, so pel carries its own.
#pragma once

#include <array>
#include <cstdint>

#include "primitives/bytes.hpp"
#include "primitives/hash.hpp"

namespace pel {

/// keccak256(data). Thread safe (pure).
[[nodiscard]] Hash32 keccak256(ByteView data) noexcept;

/// Incremental Keccak-256 for data that arrives in pieces. Not thread safe; one per user.
class Keccak256 {
  public:
    void update(ByteView data) noexcept;
    /// Pads, permutes and returns the digest; the hasher is reset afterwards.
    [[nodiscard]] Hash32 finalize() noexcept;

  private:
    static constexpr size_t kRate = 136;  // (1600 - 2 * 256) / 8
    std::array<uint64_t, 25> state_{};
    std::array<uint8_t, kRate> buf_{};
    size_t buf_len_ = 0;
};

}  // namespace pel
