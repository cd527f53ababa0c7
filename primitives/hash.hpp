// SPDX-License-Identifier: Apache-2.0
// Fixed-size byte strings: Hash32 (keccak digests, storage keys) and Address (20 bytes).
// Plain value types: trivially copyable, ordered, hashable, no allocation.
#pragma once

#include <array>
#include <bit>
#include <compare>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>

#include "primitives/bytes.hpp"
#include "primitives/hex.hpp"
#include "primitives/result.hpp"

namespace pel {

template <size_t N, class Tag>
struct FixedBytes {
    static constexpr size_t kSize = N;
    std::array<uint8_t, N> bytes{};

    [[nodiscard]] constexpr uint8_t* data() noexcept { return bytes.data(); }
    [[nodiscard]] constexpr const uint8_t* data() const noexcept { return bytes.data(); }
    [[nodiscard]] static constexpr size_t size() noexcept { return N; }
    [[nodiscard]] ByteView view() const noexcept { return {bytes.data(), N}; }
    [[nodiscard]] constexpr bool is_zero() const noexcept {
        for (const uint8_t b : bytes) {
            if (b != 0) return false;
        }
        return true;
    }

    /// Copies exactly N bytes; a view of another length is an error.
    [[nodiscard]] static Result<FixedBytes> from_view(ByteView v) {
        if (v.size() != N) {
            return make_error("expected ", N, " bytes, got ", v.size());
        }
        FixedBytes out;
        std::memcpy(out.bytes.data(), v.data(), N);
        return out;
    }
    /// Left-pads (keeps the low-order bytes of) a shorter view; longer views keep the last N bytes.
    [[nodiscard]] static FixedBytes from_view_padded(ByteView v) noexcept {
        FixedBytes out;
        const size_t n = v.size() < N ? v.size() : N;
        if (n != 0) {  // an empty view may hold a null pointer, which memcpy must not get
            std::memcpy(out.bytes.data() + (N - n), v.data() + (v.size() - n), n);  // NOLINT
        }
        return out;
    }
    /// Parses exactly 2N hex digits, "0x" optional.
    [[nodiscard]] static Result<FixedBytes> from_hex(std::string_view text) {
        FixedBytes out;
        PEL_TRY_VOID(from_hex_into(text, out.bytes));
        return out;
    }
    [[nodiscard]] std::string to_hex() const { return pel::to_hex(view()); }

    // Word-wise: the defaulted operators compile to a libc memcmp call per comparison (13% of a
    // block of plain transfers, from hash-map lookups and sorts keyed by address).
    friend constexpr bool operator==(const FixedBytes& a, const FixedBytes& b) noexcept {
        if (std::is_constant_evaluated()) {
            return a.bytes == b.bytes;
        }
        uint64_t diff = 0;
        size_t i = 0;
        for (; i + 8 <= N; i += 8) {
            diff |= load_word<uint64_t>(a.data() + i) ^ load_word<uint64_t>(b.data() + i);
        }
        for (; i + 4 <= N; i += 4) {
            diff |= load_word<uint32_t>(a.data() + i) ^ load_word<uint32_t>(b.data() + i);
        }
        for (; i < N; ++i) {
            diff |= static_cast<uint64_t>(a.bytes[i] ^ b.bytes[i]);  // NOLINT
        }
        return diff == 0;
    }
    /// Lexicographic byte order (as memcmp orders them), compared a big-endian word at a time.
    friend constexpr std::strong_ordering operator<=>(const FixedBytes& a,
                                                      const FixedBytes& b) noexcept {
        if (std::is_constant_evaluated()) {
            return a.bytes <=> b.bytes;
        }
        size_t i = 0;
        for (; i + 8 <= N; i += 8) {
            const uint64_t x = __builtin_bswap64(load_word<uint64_t>(a.data() + i));
            const uint64_t y = __builtin_bswap64(load_word<uint64_t>(b.data() + i));
            if (x != y) {
                return x <=> y;
            }
        }
        for (; i + 4 <= N; i += 4) {
            const uint32_t x = __builtin_bswap32(load_word<uint32_t>(a.data() + i));
            const uint32_t y = __builtin_bswap32(load_word<uint32_t>(b.data() + i));
            if (x != y) {
                return x <=> y;
            }
        }
        for (; i < N; ++i) {
            if (a.bytes[i] != b.bytes[i]) {        // NOLINT
                return a.bytes[i] <=> b.bytes[i];  // NOLINT
            }
        }
        return std::strong_ordering::equal;
    }

  private:
    template <class W>
    [[nodiscard]] static W load_word(const uint8_t* p) noexcept {
        W w;
        std::memcpy(&w, p, sizeof(W));
        return w;
    }
};
static_assert(std::endian::native == std::endian::little,
              "FixedBytes' ordering byte-swaps words loaded in native (little-endian) order");

struct Hash32Tag {};
struct AddressTag {};
using Hash32 = FixedBytes<32, Hash32Tag>;
using Address = FixedBytes<20, AddressTag>;

static_assert(sizeof(Hash32) == 32 && sizeof(Address) == 20);
static_assert(std::is_trivially_copyable_v<Hash32> && std::is_trivially_copyable_v<Address>);

/// keccak256 of the empty string: the code hash of an account without code.
inline constexpr Hash32 kEmptyCodeHash{{0xc5, 0xd2, 0x46, 0x01, 0x86, 0xf7, 0x23, 0x3c,
                                        0x92, 0x7e, 0x7d, 0xb2, 0xdc, 0xc7, 0x03, 0xc0,
                                        0xe5, 0x00, 0xb6, 0x53, 0xca, 0x82, 0x27, 0x3b,
                                        0x7b, 0xfa, 0xd8, 0x04, 0x5d, 0x85, 0xa4, 0x70}};
/// Root of the empty Merkle Patricia trie: keccak256(rlp("")) = keccak256(0x80).
inline constexpr Hash32 kEmptyTrieRoot{{0x56, 0xe8, 0x1f, 0x17, 0x1b, 0xcc, 0x55, 0xa6,
                                        0xff, 0x83, 0x45, 0xe6, 0x92, 0xc0, 0xf8, 0x6e,
                                        0x5b, 0x48, 0xe0, 0x1b, 0x99, 0x6c, 0xad, 0xc0,
                                        0x01, 0x62, 0x2f, 0xb5, 0xe3, 0x63, 0xb4, 0x21}};

}  // namespace pel

template <size_t N, class Tag>
struct std::hash<pel::FixedBytes<N, Tag>> {
    size_t operator()(const pel::FixedBytes<N, Tag>& v) const noexcept {
        // Inputs are mostly keccak outputs or addresses: the leading bytes are already uniform,
        // but mix all of them so that structured test keys spread too.
        uint64_t h = 0x9e3779b97f4a7c15ULL;
        for (size_t i = 0; i + 8 <= N; i += 8) {
            uint64_t w = 0;
            std::memcpy(&w, v.bytes.data() + i, 8);  // NOLINT
            h = (h ^ w) * 0xff51afd7ed558ccdULL;
            h ^= h >> 32;
        }
        if constexpr (N % 8 != 0) {
            uint64_t w = 0;
            std::memcpy(&w, v.bytes.data() + (N - N % 8), N % 8);  // NOLINT
            h = (h ^ w) * 0xc4ceb9fe1a85ec53ULL;
            h ^= h >> 29;
        }
        return static_cast<size_t>(h);
    }
};
