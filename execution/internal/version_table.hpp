// SPDX-License-Identifier: Apache-2.0
// exec::internal::VersionTable: the location -> version chain map of one MvMemory shard.
//
// Why not std::unordered_map: a lookup there walks bucket -> the node before the bucket's first
// -> the node -> the chain's heap array, about four cache misses, and Block-STM does one or two
// such lookups for every read, validation and write of every transaction (profiles of the
// lending and transfer blocks put the MvMemory maps at about a quarter of a one-thread run). Here
// the table is open addressing with linear probing over 16-byte {hash, chain} cells, and each
// chain is one arena block holding its key, its length and its first entry: a lookup of a
// location written once in the block touches one cell and the chain's two cache lines.
//
// Thread safety / Invariants: none of its own; the owning shard's lock guards every call.
//  - Cells: `chain == nullptr` marks an empty cell; at most half the cells are full (the table
//    doubles before that), so probing always ends at an empty cell. Nothing is ever erased
//    from the table (an emptied chain stays, with size 0), so probe sequences never break.
//  - Chains live in an arena (the table's, or the one find_or_insert names) and never move once
//    created (pointers to them stay valid until the owner rewinds that arena); entries are
//    sorted by the owner (MvMemory keeps them by txn_idx).
//    A chain's entries are in place (raw storage, an entry constructed as it arrives) while it
//    holds at most kInline of them, then in an arena array that doubles as it grows (the old
//    array is abandoned to the arena).
//  - Entries and keys are trivially copyable and destructible: a table is abandoned, not
//    destroyed, when the owner rewinds the arena.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <new>
#include <type_traits>

#include "execution/internal/arena.hpp"

namespace pel::exec::internal {

template <class Key, class Entry>
class VersionChain {
    static_assert(std::is_trivially_copyable_v<Entry> && std::is_trivially_destructible_v<Entry>,
                  "chain entries are moved with memmove and abandoned with the arena");
    static_assert(std::is_trivially_destructible_v<Key>, "keys are abandoned with the arena");

  public:
    using value_type = Entry;
    static constexpr uint32_t kInline = 1;

    explicit VersionChain(const Key& key) noexcept
        : data_(reinterpret_cast<Entry*>(inline_)), key_(key) {}
    VersionChain(const VersionChain&) = delete;
    VersionChain& operator=(const VersionChain&) = delete;
    VersionChain(VersionChain&&) = delete;
    VersionChain& operator=(VersionChain&&) = delete;
    ~VersionChain() = default;

    [[nodiscard]] const Key& key() const noexcept { return key_; }
    [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
    [[nodiscard]] size_t size() const noexcept { return size_; }
    Entry* begin() noexcept { return data_; }
    Entry* end() noexcept { return data_ + size_; }
    const Entry* begin() const noexcept { return data_; }
    const Entry* end() const noexcept { return data_ + size_; }
    auto rbegin() const noexcept { return std::make_reverse_iterator(end()); }
    auto rend() const noexcept { return std::make_reverse_iterator(begin()); }
    Entry& back() noexcept { return data_[size_ - 1]; }
    const Entry& back() const noexcept { return data_[size_ - 1]; }

    /// Inserts `e` before `pos` (an element of this chain or end()); grows into `arena`.
    void insert(const Entry* pos, const Entry& e, ReusableArena& arena) {
        const auto at = static_cast<size_t>(pos - data_);
        if (at == size_ && size_ < cap_) [[likely]] {  // an append with room: the usual case
            ::new (static_cast<void*>(data_ + size_)) Entry(e);
            ++size_;
            return;
        }
        if (size_ == cap_) {
            const uint32_t cap = cap_ < 4 ? 4 : 2 * cap_;
            auto* grown = static_cast<Entry*>(arena.allocate(sizeof(Entry) * cap, alignof(Entry)));
            std::memcpy(static_cast<void*>(grown), data_, sizeof(Entry) * size_);
            data_ = grown;
            cap_ = cap;
        }
        std::memmove(static_cast<void*>(data_ + at + 1), data_ + at, sizeof(Entry) * (size_ - at));
        ::new (static_cast<void*>(data_ + at)) Entry(e);
        ++size_;
    }
    void push_back(const Entry& e, ReusableArena& arena) { insert(end(), e, arena); }
    void erase(const Entry* pos) noexcept {
        const auto at = static_cast<size_t>(pos - data_);
        std::memmove(static_cast<void*>(data_ + at), data_ + at + 1,
                     sizeof(Entry) * (size_ - at - 1));
        --size_;
    }

  private:
    // The length and the entries' address come first: they are on the chain's first cache line
    // with most of the key.
    Entry* data_;
    uint32_t size_ = 0;
    uint32_t cap_ = kInline;
    Key key_;
    /// Raw storage: a new chain's entries are constructed as they arrive (constructing kInline
    /// default entries first cost GCC a `rep stos` over them for every location's first write).
    alignas(Entry) unsigned char inline_[sizeof(Entry) * kInline];
};

template <class Key, class Entry, class Hash, class Eq>
class VersionTable {
  public:
    using Chain = VersionChain<Key, Entry>;

    /// Starts empty (kInitialCells cells; it doubles as it fills), everything allocated from
    /// `arena`, which the caller has just rewound (the previous table is abandoned with it).
    void reset(ReusableArena& arena) {
        arena_ = &arena;
        size_ = 0;
        allocate_cells(kInitialCells);
    }

    [[nodiscard]] Chain* find(const Key& key) const noexcept { return find(key, Hash{}(key)); }
    /// find() when the caller has the owner's hash of `key` (Hash{}(key)) already.
    [[nodiscard]] Chain* find(const Key& key, size_t key_hash) const noexcept {
        return cells_[probe(key, mix(key_hash))].chain;
    }

    /// The location's chain, created empty if the table has none.
    Chain& find_or_insert(const Key& key) { return find_or_insert(key, Hash{}(key), *arena_); }
    /// find_or_insert() when the caller has Hash{}(key) already; a new chain is allocated from
    /// `chain_arena` rather than the table's own (the cells stay in the table's), and the caller
    /// keeps that arena until it rewinds the table's.
    Chain& find_or_insert(const Key& key, size_t key_hash, ReusableArena& chain_arena) {
        const uint64_t h = mix(key_hash);
        const size_t i = probe(key, h);
        if (cells_[i].chain != nullptr) {
            return *cells_[i].chain;
        }
        auto* chain = new (chain_arena.allocate(sizeof(Chain), kChainAlign)) Chain(key);
        if (2 * (size_ + 1) > mask_ + 1) {
            grow();
            place(h, chain);
        } else {
            cells_[i] = Cell{h, chain};
        }
        ++size_;
        return *chain;
    }

    /// Calls f(chain) for the table's locations (in no particular order) until one call returns
    /// false; returns false then, true if every call returned true.
    template <class F>
    bool all_of(F&& f) const {
        for (size_t i = 0; i <= mask_; ++i) {
            if (cells_[i].chain != nullptr && !f(static_cast<const Chain&>(*cells_[i].chain))) {
                return false;
            }
        }
        return true;
    }

    [[nodiscard]] size_t size() const noexcept { return size_; }

  private:
    /// Small, for a cache's sake: an owner has many tables (MvMemory: two per shard), most of
    /// them holding a few dozen locations.
    static constexpr size_t kInitialCells = 16;
    struct Cell {
        uint64_t hash;
        Chain* chain;
    };
    /// A chain of up to two cache lines starts on a 128-byte boundary: its lines are one aligned
    /// pair, never three lines.
    static constexpr size_t kChainAlign = sizeof(Chain) <= 128 ? 128 : alignof(Chain);

    /// The owner's hash, mixed again: its low bits pick the cell, and the owner's shard choice
    /// already used some of its bits.
    static uint64_t mix(size_t key_hash) noexcept {
        uint64_t h = static_cast<uint64_t>(key_hash);
        h ^= h >> 31;
        h *= 0x9e3779b97f4a7c15ULL;
        return h ^ (h >> 29);
    }

    /// The cell holding `key` (hash `h`), or the empty cell where its probe sequence ends.
    /// On a hash match the chain's second cache line (its first entries) is requested before
    /// the key is compared on the first: the two misses overlap instead of following each other.
    [[nodiscard]] size_t probe(const Key& key, uint64_t h) const noexcept {
        size_t i = h & mask_;
        for (;;) {
            const Cell& c = cells_[i];
            if (c.chain == nullptr) {
                return i;
            }
            if (c.hash == h) {
                if constexpr (sizeof(Chain) > 64) {
                    __builtin_prefetch(reinterpret_cast<const char*>(c.chain) + 64);
                }
                if (Eq{}(c.chain->key(), key)) {
                    return i;
                }
            }
            i = (i + 1) & mask_;
        }
    }
    void allocate_cells(size_t count) {
        cells_ = static_cast<Cell*>(arena_->allocate(sizeof(Cell) * count, alignof(Cell)));
        std::memset(static_cast<void*>(cells_), 0, sizeof(Cell) * count);
        mask_ = count - 1;
    }
    void place(uint64_t h, Chain* chain) noexcept {
        size_t i = h & mask_;
        while (cells_[i].chain != nullptr) {
            i = (i + 1) & mask_;
        }
        cells_[i] = Cell{h, chain};
    }
    /// Doubles the cells (the old array is abandoned to the arena); chains stay where they are.
    void grow() {
        const Cell* old = cells_;
        const size_t old_count = mask_ + 1;
        allocate_cells(2 * old_count);
        for (size_t i = 0; i < old_count; ++i) {
            if (old[i].chain != nullptr) {
                place(old[i].hash, old[i].chain);
            }
        }
    }

    ReusableArena* arena_ = nullptr;
    Cell* cells_ = nullptr;
    size_t mask_ = 0;
    size_t size_ = 0;
};

}  // namespace pel::exec::internal
