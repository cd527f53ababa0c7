// SPDX-License-Identifier: Apache-2.0
// Keccak-256 as Ethereum uses it (original Keccak padding 0x01, not SHA3's 0x06). Debian ships no
// Keccak-256: OpenSSL 3.0 has SHA3-256 only, whose padding differs, so pel carries its own.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "primitives/bytes.hpp"
#include "primitives/hash.hpp"

namespace pel {

/// keccak256(data). Thread safe (pure).
[[nodiscard]] Hash32 keccak256(ByteView data) noexcept;

/// out[i] = keccak256(in[i]) for every i; `out.size()` must equal `in.size()`. Hashes several
/// inputs at once, one per 64-bit lane of the vector registers: eight with AVX-512, four with
/// AVX2 (the CPU is asked once, at run time), about four times the throughput of keccak256() one
/// by one for short inputs with eight lanes; one by one elsewhere. Inputs that take as many
/// 136-byte blocks make the best use of a group. Thread safe (pure).
void keccak256_many(std::span<const ByteView> in, std::span<Hash32> out) noexcept;

/// The lanes keccak256_many() uses: 8, 4 or 1, the most this CPU supports unless the environment
/// variable PEL_KECCAK_LANES (1 or 4) caps it, to compare the paths in one build.
[[nodiscard]] size_t keccak256_many_lanes() noexcept;

/// The most lanes this CPU supports: 8 (AVX-512F), 4 (AVX2) or 1.
[[nodiscard]] size_t keccak256_many_lanes_supported() noexcept;

/// keccak256_many() with exactly `lanes` (1, 4 or 8, at most keccak256_many_lanes_supported();
/// with 8, a last group of up to four inputs takes the four-lane path), for tests and benchmarks.
void keccak256_many_with(size_t lanes, std::span<const ByteView> in,
                         std::span<Hash32> out) noexcept;

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
