// SPDX-License-Identifier: Apache-2.0
// The state of one running frame as the instruction bodies see it, and the helpers they share:
// stack-top view, memory expansion gas, big-endian loads. Private to vm/.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "primitives/bytes.hpp"
#include "primitives/hash.hpp"
#include "primitives/u256.hpp"
#include "vm/host.hpp"
#include "vm/internal/analysis.hpp"

// invoke<> (one per opcode) is forced inline in optimised builds so the dispatch loop stays tight.
// Unoptimised and AddressSanitizer builds give every inlined body its own stack slots, which made
// run()'s frame 9-17 KB and overflowed an 8 MB native stack at call depth 1024; there each
// instruction is an ordinary call instead.
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PEL_VM_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define PEL_VM_ASAN 1
#endif
#if defined(__OPTIMIZE__) && !defined(PEL_VM_ASAN)
#define PEL_VM_INVOKE_INLINE [[gnu::always_inline]] inline
#else
#define PEL_VM_INVOKE_INLINE [[gnu::noinline]]
#endif

namespace pel::vm::internal {

inline constexpr ptrdiff_t kStackLimit = 1024;
/// Highest memory end (exclusive) the VM will ever allocate. Reaching it costs about 3.6e13 gas,
/// far beyond any block, so anything above is out of gas rather than an attempt to allocate.
inline constexpr uint64_t kMaxMemory = uint64_t{1} << 32;

/// The frame state passed to instruction bodies. Gas and the stack pointer live in the
/// interpreter loop's registers instead and are passed separately.
struct ExecState {
    Host& host;
    const Message& msg;
    const CodeAnalysis& code;
    Bytes& memory;       ///< size is always a multiple of 32
    Bytes& return_data;  ///< output of the last call or create made by this frame
    int64_t gas_refund = 0;
    Status status = Status::kSuccess;
    size_t output_offset = 0;
    size_t output_size = 0;
};

/// A view of the stack from the top: st[0] is the top item, st[1] the one below.
class StackTop {
  public:
    explicit StackTop(U256* end) noexcept : end_(end) {}
    [[nodiscard]] U256& operator[](size_t i) const noexcept { return *(end_ - 1 - i); }
    /// The free slot just above the top, where an instruction that grows the stack by one
    /// writes its result.
    [[nodiscard]] U256& push_slot() const noexcept { return *end_; }

  private:
    U256* end_;
};

/// Stores v into a stack slot limb by limb. A whole-struct copy compiles to 128-bit moves, and a
/// 128-bit load of a slot written by 64-bit stores (or a 64-bit load of one half of a 128-bit
/// store) defeats store forwarding: a stall on nearly every DUP or SWAP after arithmetic.
/// vm/CMakeLists.txt turns off SLP vectorisation for the interpreter so these stay 64-bit.
[[gnu::always_inline]] inline void put(U256& dst, const U256& v) noexcept {
    const uint64_t l0 = v.limbs[0];  // all read first: v may alias dst
    const uint64_t l1 = v.limbs[1];
    const uint64_t l2 = v.limbs[2];
    const uint64_t l3 = v.limbs[3];
    dst.limbs[0] = l0;
    dst.limbs[1] = l1;
    dst.limbs[2] = l2;
    dst.limbs[3] = l3;
}

[[nodiscard]] inline uint64_t load_be64(const uint8_t* p) noexcept {
    uint64_t v = 0;
    std::memcpy(&v, p, 8);
    return __builtin_bswap64(v);
}
inline void store_be64(uint8_t* p, uint64_t v) noexcept {
    v = __builtin_bswap64(v);
    std::memcpy(p, &v, 8);
}
[[nodiscard]] inline U256 load_be256(const uint8_t* p) noexcept {
    return {load_be64(p + 24), load_be64(p + 16), load_be64(p + 8), load_be64(p)};
}
inline void store_be256(uint8_t* p, const U256& v) noexcept {
    store_be64(p, v.limbs[3]);
    store_be64(p + 8, v.limbs[2]);
    store_be64(p + 16, v.limbs[1]);
    store_be64(p + 24, v.limbs[0]);
}
[[nodiscard]] inline U256 to_u256(const Address& a) noexcept {
    std::array<uint8_t, 32> buf{};
    std::memcpy(buf.data() + 12, a.data(), 20);
    return load_be256(buf.data());
}
[[nodiscard]] inline U256 to_u256(const Hash32& h) noexcept { return load_be256(h.data()); }
[[nodiscard]] inline Address to_address(const U256& v) noexcept {
    std::array<uint8_t, 32> buf;  // NOLINT(cppcoreguidelines-pro-type-member-init): all written
    store_be256(buf.data(), v);
    Address a;
    std::memcpy(a.data(), buf.data() + 12, 20);
    return a;
}
[[nodiscard]] inline Hash32 to_hash32(const U256& v) noexcept {
    Hash32 h;
    store_be256(h.data(), v);
    return h;
}

[[nodiscard]] constexpr uint64_t num_words(uint64_t bytes) noexcept { return (bytes + 31) / 32; }

/// Yellow Paper C_mem: 3 per word plus words^2 / 512. words <= 2^27 here, so no overflow.
[[nodiscard]] constexpr int64_t memory_cost(uint64_t words) noexcept {
    return static_cast<int64_t>(3 * words + words * words / 512);
}

/// Expands memory to cover `new_end` bytes (rounded up to a word), charging the difference in
/// C_mem. False when out of gas.
[[gnu::noinline]] inline bool grow_memory(int64_t& gas, Bytes& memory, uint64_t new_end) noexcept {
    if (new_end > kMaxMemory) {
        return false;
    }
    const uint64_t new_words = num_words(new_end);
    const uint64_t cur_words = memory.size() / 32;
    gas -= memory_cost(new_words) - memory_cost(cur_words);
    if (gas < 0) {
        return false;
    }
    memory.resize(new_words * 32);  // new bytes are zero
    return true;
}

/// Charges expansion for the region [offset, offset + size). A zero size touches nothing, whatever
/// the offset. A region that cannot exist (beyond 2^32) is out of gas. False when out of gas;
/// otherwise both values fit in 32 bits afterwards (for a non-zero size).
[[gnu::always_inline]] inline bool check_memory(int64_t& gas, Bytes& memory, const U256& offset,
                                                const U256& size) noexcept {
    if (size.is_zero()) {
        return true;
    }
    if (!offset.fits_u64() || !size.fits_u64()) {
        return false;
    }
    const uint64_t off = offset.low64();
    const uint64_t sz = size.low64();
    if (off > kMaxMemory || sz > kMaxMemory) {
        return false;  // so off + sz cannot wrap
    }
    const uint64_t end = off + sz;
    if (end > memory.size()) {
        return grow_memory(gas, memory, end);
    }
    return true;
}

/// Charges `cost` and reports whether gas remains non-negative.
[[gnu::always_inline]] inline bool charge(int64_t& gas, int64_t cost) noexcept {
    gas -= cost;
    return gas >= 0;
}

}  // namespace pel::vm::internal
