// SPDX-License-Identifier: Apache-2.0
// Keccak-256 as Ethereum uses it (original Keccak padding 0x01, not SHA3's 0x06). Debian ships no
// Keccak-256: OpenSSL 3.0 has SHA3-256 only, whose padding differs, so pel carries its own.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "primitives/bytes.hpp"
#include "primitives/hash.hpp"

namespace pel {

/// keccak256(data). Thread safe (pure).
[[nodiscard]] Hash32 keccak256(ByteView data) noexcept;

/// out[i] = keccak256(in[i]) for every i; `out.size()` must equal `in.size()`. On a CPU with
/// AVX-512 (checked once, at run time) up to eight inputs are hashed at once, one per 64-bit lane
/// of the vector registers, which is about four times the throughput of keccak256() one by one
/// for short inputs; elsewhere it is keccak256() one by one. Inputs of similar length (the same
/// number of 136-byte blocks) make the best use of a group of eight. Thread safe (pure).
void keccak256_many(std::span<const ByteView> in, std::span<Hash32> out) noexcept;

/// Whether keccak256_many() uses the eight-lane AVX-512 path on this CPU.
[[nodiscard]] bool keccak256_many_is_vectorised() noexcept;

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
