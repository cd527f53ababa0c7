// SPDX-License-Identifier: Apache-2.0
// exec::internal::ReusableArena: a bump allocator whose memory is kept from one block to the
// next. Block-STM allocates its version maps, chains and read/write sets from arenas; rewinding
// them at the start of a block reuses the pages the previous block touched (no page faults, no
// malloc calls) instead of returning them to the system and faulting them in again.
//
// Thread safety / Invariants: not thread safe; each arena has one user at a time (its owner
// locks around it). Deallocation is a no-op; rewind() makes every earlier allocation invalid, so
// the owner destroys (or abandons, for trivially destructible data) everything allocated from
// the arena before rewinding. Memory goes back to the system only when the arena is destroyed.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <memory_resource>
#include <new>
#include <vector>

namespace pel::exec::internal {

class ReusableArena final : public std::pmr::memory_resource {
  public:
    ReusableArena() = default;
    ~ReusableArena() override = default;
    ReusableArena(const ReusableArena&) = delete;
    ReusableArena& operator=(const ReusableArena&) = delete;
    ReusableArena(ReusableArena&&) = delete;
    ReusableArena& operator=(ReusableArena&&) = delete;

    /// Every allocation made so far is dead; the chunks are reused from the first.
    void rewind() noexcept {
        current_ = 0;
        used_ = 0;
    }

    /// Where the next allocation would start in the current chunk (before alignment), or
    /// nullptr when there is no current chunk: a prefetch hint for its caller.
    [[nodiscard]] const void* next_free() const noexcept {
        return current_ < chunks_.size() ? chunks_[current_].data.get() + used_ : nullptr;
    }

  private:
    struct Chunk {
        std::unique_ptr<std::byte[]> data;
        size_t size = 0;
    };
    static constexpr size_t kFirstChunk = size_t{64} << 10;

    void* do_allocate(size_t bytes, size_t align) override {
        for (;;) {
            if (current_ < chunks_.size()) {
                Chunk& c = chunks_[current_];
                const auto origin = reinterpret_cast<uintptr_t>(c.data.get());
                const size_t start = ((origin + used_ + align - 1) & ~(align - 1)) - origin;
                if (start + bytes <= c.size) {
                    used_ = start + bytes;
                    return c.data.get() + start;
                }
                if (current_ + 1 < chunks_.size()) {
                    ++current_;
                    used_ = 0;
                    continue;
                }
            }
            // Geometric growth; a chunk is aligned for any fundamental type (operator new[]).
            const size_t last = chunks_.empty() ? kFirstChunk / 2 : chunks_.back().size;
            const size_t size = std::max(2 * last, bytes + align);
            chunks_.push_back(Chunk{std::make_unique_for_overwrite<std::byte[]>(size), size});
            current_ = chunks_.size() - 1;
            used_ = 0;
        }
    }
    void do_deallocate(void* /*p*/, size_t /*bytes*/, size_t /*align*/) override {}
    [[nodiscard]] bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override {
        return this == &other;
    }

    std::vector<Chunk> chunks_;
    size_t current_ = 0;
    size_t used_ = 0;
};

}  // namespace pel::exec::internal
