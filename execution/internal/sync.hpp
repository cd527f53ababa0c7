// SPDX-License-Identifier: Apache-2.0
// Private helpers of the Block-STM structures: a small spin lock for critical sections of a few
// dozen instructions, address hashing/equality without library calls, and a prefetch hint.
//
// Thread safety / Invariants: SpinLock is a BasicLockable (use std::lock_guard); the holder never
// blocks or runs EVM code while holding it. A waiter spins briefly, then yields its core, so more
// threads than cores (or a preempted holder) cannot livelock the block. AddrHash and AddrEq are
// pure functions.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <thread>

#include "primitives/hash.hpp"
#include "primitives/u256.hpp"

namespace pel::exec::internal {

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/// Asks the CPU to bring [p, p + bytes) into its cache, for writing (`ForWrite`) or for reading:
/// a hint, which never faults and changes no result. (For data other threads read too, the read
/// form: the write form takes the lines away from their caches.) For the baseline x86-64 target
/// both forms compile to the same read prefetch (prefetcht0; PREFETCHW needs -mprfchw), which
/// is what the executor's figures were measured with: PREFETCHW itself (inline assembly) made
/// 2-thread transfers 3-5% slower when used for the outcome slots and MvMemory records, and
/// gained under 1% for the scheduler's status lines.
template <bool ForWrite>
inline void prefetch(const void* p, size_t bytes) noexcept {
    const auto* c = static_cast<const char*>(p);
    for (size_t off = 0; off < bytes; off += 64) {
        __builtin_prefetch(c + off, ForWrite ? 1 : 0);
    }
}
inline void prefetch_for_write(const void* p, size_t bytes) noexcept { prefetch<true>(p, bytes); }
inline void prefetch_for_read(const void* p, size_t bytes) noexcept { prefetch<false>(p, bytes); }

class SpinLock {
  public:
    void lock() noexcept {
        if (!flag_.exchange(true, std::memory_order_acquire)) [[likely]] {
            return;
        }
        lock_contended();
    }
    void unlock() noexcept { flag_.store(false, std::memory_order_release); }

  private:
    /// Out of line: the uncontended lock() is one exchange, and the lock sites on the
    /// executor's hot paths stay small in the instruction cache.
    [[gnu::noinline, gnu::cold]] void lock_contended() noexcept {
        for (;;) {
            unsigned spins = 0;
            while (flag_.load(std::memory_order_relaxed)) {
                if (++spins < kSpinsBeforeYield) {
                    cpu_relax();
                } else {
                    std::this_thread::yield();
                    spins = 0;
                }
            }
            if (!flag_.exchange(true, std::memory_order_acquire)) {
                return;
            }
        }
    }

    static constexpr unsigned kSpinsBeforeYield = 64;
    std::atomic<bool> flag_{false};
};

/// The three words of an address (8 + 8 + 4 bytes).
struct AddrWords {
    uint64_t a;
    uint64_t b;
    uint32_t c;
};

inline AddrWords words(const Address& addr) noexcept {
    AddrWords w{};
    std::memcpy(&w.a, addr.bytes.data(), 8);
    std::memcpy(&w.b, addr.bytes.data() + 8, 8);
    std::memcpy(&w.c, addr.bytes.data() + 16, 4);
    return w;
}

/// Mixes every byte (structured test addresses such as 0x00..01 must spread too).
struct AddrHash {
    size_t operator()(const Address& addr) const noexcept {
        const AddrWords w = words(addr);
        uint64_t h = (w.a ^ (w.c * 0xff51afd7ed558ccdULL)) * 0x9e3779b97f4a7c15ULL;
        h ^= (w.b + (h >> 29)) * 0xc4ceb9fe1a85ec53ULL;
        return static_cast<size_t>(h ^ (h >> 32));
    }
};

struct AddrEq {
    bool operator()(const Address& x, const Address& y) const noexcept {
        const AddrWords a = words(x);
        const AddrWords b = words(y);
        return ((a.a ^ b.a) | (a.b ^ b.b) | static_cast<uint64_t>(a.c ^ b.c)) == 0;
    }
};

}  // namespace pel::exec::internal
