// SPDX-License-Identifier: Apache-2.0
#include "execution/mv_memory.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <functional>
#include <memory_resource>
#include <span>
#include <type_traits>
#include <utility>

#include "execution/internal/arena.hpp"
#include "execution/internal/sync.hpp"
#include "execution/internal/version_table.hpp"
#include "primitives/assert.hpp"

namespace pel::exec {

namespace {

constexpr size_t kShards = 256;

enum class EntryKind : uint8_t {
    kWrite,     ///< a full header (or deletion when !exists)
    kDelta,     ///< balance += info.balance, EIP-161 touch semantics
    kEstimate,  ///< the writing incarnation was aborted
};

struct AccountEntry {
    TxnIndex txn_idx = 0;
    uint32_t incarnation = 0;
    EntryKind kind = EntryKind::kWrite;
    bool exists = false;
    bool clears_storage = false;
    AccountInfo info;
};
// 8 bytes of version and flags ahead of the 72-byte header; no hidden padding growth.
static_assert(sizeof(AccountInfo) == 72, "AccountInfo layout changed");
static_assert(sizeof(AccountEntry) == 88 && alignof(AccountEntry) == 8,
              "MvMemory account entry layout changed");

struct SlotEntry {
    TxnIndex txn_idx = 0;
    uint32_t incarnation = 0;
    bool estimate = false;
    U256 value;
};
static_assert(sizeof(SlotEntry) == 48 && alignof(SlotEntry) == 8,
              "MvMemory slot entry layout changed");

using internal::AddrEq;
using internal::AddrHash;
using internal::SpinLock;

struct SlotKey {
    Address addr;
    U256 slot;
    friend bool operator==(const SlotKey& a, const SlotKey& b) noexcept {
        return ((a.slot.limbs[0] ^ b.slot.limbs[0]) | (a.slot.limbs[1] ^ b.slot.limbs[1]) |
                (a.slot.limbs[2] ^ b.slot.limbs[2]) | (a.slot.limbs[3] ^ b.slot.limbs[3])) == 0 &&
               AddrEq{}(a.addr, b.addr);
    }
    friend bool operator<(const SlotKey& a, const SlotKey& b) noexcept {
        return a.addr != b.addr ? a.addr < b.addr : a.slot < b.slot;
    }
};

struct SlotKeyHash {
    size_t operator()(const SlotKey& k) const noexcept {
        return AddrHash{}(k.addr) ^ (std::hash<U256>{}(k.slot) * 0x9e3779b97f4a7c15ULL);
    }
};

/// The first entry of `chain` at or above `txn_idx` (end() if none); chains are sorted by
/// txn_idx, one entry per writing transaction, in a sorted array (shorter than a tree's nodes).
/// Transactions run roughly in order, so the answer is usually at or near the top: a reader sits
/// above the whole chain; a validation sits just below its own write (a read-modify-write,
/// validated right after it ran) or below the few that ran since; a write arrives after at most
/// a few that ran beside it. So the top kNearTop entries are tried before a binary search, whose
/// first probes land in the cold middle of a hot location's long chain.
template <class Chain>
auto* first_at_or_above(Chain& chain, TxnIndex txn_idx) noexcept {
    constexpr size_t kNearTop = 4;
    auto* it = chain.end();
    for (size_t k = 0; k < kNearTop && it != chain.begin(); ++k) {
        if ((it - 1)->txn_idx < txn_idx) {
            return it;
        }
        --it;
    }
    return std::lower_bound(chain.begin(), it, txn_idx,
                            [](const auto& e, TxnIndex t) { return e.txn_idx < t; });
}

template <class Chain>
auto* find_entry(Chain& chain, TxnIndex txn_idx) noexcept {
    auto* it = first_at_or_above(chain, txn_idx);
    return it != chain.end() && it->txn_idx == txn_idx ? it : nullptr;
}

/// Reverse iterator at the highest entry below `txn_idx`.
template <class Chain>
auto below(const Chain& chain, TxnIndex txn_idx) noexcept {
    return std::make_reverse_iterator(first_at_or_above(chain, txn_idx));
}

template <class Chain>
void upsert(Chain& chain, const typename Chain::value_type& e, internal::ReusableArena& arena) {
    auto* it = first_at_or_above(chain, e.txn_idx);
    if (it == chain.end()) [[likely]] {
        chain.push_back(e, arena);  // the usual case
    } else if (it->txn_idx == e.txn_idx) {
        *it = e;
    } else {
        chain.insert(it, e, arena);
    }
}

template <class Chain>
void erase_entry(Chain& chain, TxnIndex txn_idx) noexcept {
    if (const auto* it = find_entry(chain, txn_idx)) {
        chain.erase(it);
    }
}

/// Sorts a transaction's written keys: usually two to four, where an insertion sort is a few
/// instructions and std::sort's introsort is kilobytes of code on the hot path.
template <class Key>
[[gnu::noinline, gnu::cold]] void sort_many(std::vector<Key>& keys) {
    std::sort(keys.begin(), keys.end());
}

template <class Key>
void sort_keys(std::vector<Key>& keys) {
    constexpr size_t kInsertionMax = 8;
    if (keys.size() > kInsertionMax) [[unlikely]] {
        sort_many(keys);
        return;
    }
    for (size_t i = 1; i < keys.size(); ++i) {
        for (size_t j = i; j > 0 && keys[j] < keys[j - 1]; --j) {
            std::swap(keys[j], keys[j - 1]);
        }
    }
}

std::optional<AccountInfo> apply_delta(std::optional<AccountInfo> acc, const U256& delta) noexcept {
    AccountInfo a = acc.value_or(AccountInfo{});
    a.balance += delta;
    // The credit touches the account (EIP-161): an empty account does not survive it.
    if (a.is_empty()) {
        return std::nullopt;
    }
    return a;
}

}  // namespace

struct MvMemory::Impl {
    using AccountMap = internal::VersionTable<Address, AccountEntry, AddrHash, AddrEq>;
    using SlotMap = internal::VersionTable<SlotKey, SlotEntry, SlotKeyHash, std::equal_to<>>;
    /// The tables' cell arrays are allocated from the shard's arena (under `mu`, like every other
    /// access), their chains from the recording workers' arenas (publish()), and the entries
    /// are trivially destructible: a block's tables are never destroyed, only abandoned. reset()
    /// rewinds the arenas (the memory stays, for the next block) and starts empty tables;
    /// nothing walks the old ones.
    struct alignas(64) Shard {
        SpinLock mu;
        internal::ReusableArena arena;
        AccountMap account_map;
        SlotMap slot_map;
        AccountMap& accounts() noexcept { return account_map; }
        SlotMap& slots() noexcept { return slot_map; }
        void renew() {
            arena.rewind();
            account_map.reset(arena);
            slot_map.reset(arena);
        }
    };
    static_assert(std::is_trivially_destructible_v<AccountEntry> &&
                      std::is_trivially_destructible_v<SlotEntry> &&
                      std::is_trivially_destructible_v<SlotKey>,
                  "abandoned maps must own nothing outside the arena");
    /// The last incarnation's read and write sets, as arrays in the arena of the worker that
    /// recorded it (a later incarnation copies its sets to its own worker's arena and repoints;
    /// nothing is freed before the next reset() rewinds the arenas). A record belongs to the
    /// block whose `epoch` it carries: one left from an earlier block reads as empty (no sets, no
    /// pooled delta), so reset() does not walk the block's records.
    struct Txn {
        /// Guards the read spans (validators of an old incarnation read them), the pooled delta
        /// and `epoch`.
        SpinLock read_mu;
        /// The block (Impl::epoch) of the last record() of this transaction; written under
        /// read_mu by the recording thread.
        uint32_t epoch = 0;
        /// The incarnation's balance delta to the pooled address (see `pooled`), if any; an
        /// ESTIMATE once the incarnation is aborted.
        bool has_pooled = false;
        bool pooled_estimate = false;
        U256 pooled_amount;
        std::span<const ReadSet::AccountRead> read_accounts;
        std::span<const ReadSet::SlotRead> read_slots;
        std::span<const ReadSet::HasStorageRead> read_has_storage;
        std::span<const ReadSet::CodeHashRead> read_code_hashes;
        std::span<const Address> written_accounts;  ///< sorted; owned by the executing thread
        std::span<const SlotKey> written_slots;     ///< sorted; owned by the executing thread
    };

    /// A copy of `src` in `arena` (trivial element types: the arena's release frees them).
    template <class T>
    static std::span<const T> stash(std::pmr::memory_resource& arena, std::span<const T> src) {
        static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>);
        if (src.empty()) {
            return {};
        }
        return {static_cast<const T*>(stash_bytes(arena, src.data(), src.size_bytes(), alignof(T))),
                src.size()};
    }
    /// One out-of-line copy of the allocation and the copy for all of stash()'s types.
    [[gnu::noinline]] static const void* stash_bytes(std::pmr::memory_resource& arena,
                                                     const void* src, size_t bytes, size_t align) {
        void* p = arena.allocate(bytes, align);
        std::memcpy(p, src, bytes);
        return p;
    }

    explicit Impl(size_t workers) : shards(kShards), scratch(std::max<size_t>(workers, 1)) {
        for (size_t i = 0; i < std::max<size_t>(workers, 1); ++i) {
            arenas.push_back(std::make_unique<WorkerArena>());
        }
    }

    /// Starts a block: no versions, no read or write sets, no deployed code.
    void reset(ConcurrentStateReader& b, size_t n, const Address* pooled_addr) {
        base = &b;
        pooled.reset();
        if (pooled_addr != nullptr) {
            pooled = *pooled_addr;
        }
        if (n > txn_capacity) {
            txns = std::make_unique<Txn[]>(n);  // epoch 0: older than any block's
            txn_capacity = n;
        }
        if (++epoch == 0) {
            // After 2^32 blocks: mark every record as older than the next block.
            for (size_t i = 0; i < txn_capacity; ++i) {
                txns[i].epoch = 0;
            }
            epoch = 1;
        }
        num_txns = n;
        for (auto& a : arenas) {
            a->arena.rewind();
        }
        // The tables start small and double as they fill (a doubling moves only 16-byte cells):
        // sized for the block up front, the cells of 256 shards spread a block with few
        // locations (lending: about 5,000) over megabytes, and every lookup missed the cache.
        for (Shard& sh : shards) {
            sh.renew();
        }
        code.clear();
        code_count.store(0, std::memory_order_relaxed);
        complex_writes.store(false, std::memory_order_relaxed);
        clears.store(false, std::memory_order_relaxed);
    }

    /// The shard of a location, by its hash (AddrHash or SlotKeyHash).
    static size_t shard_index(size_t key_hash) noexcept { return (key_hash >> 40) % kShards; }
    Shard& shard_at(size_t key_hash) noexcept { return shards[shard_index(key_hash)]; }

    /// Calls f(the location's chain, or nullptr) with its shard locked; the key is hashed once
    /// (the shard and the table take the same hash).
    template <class Key, class F>
    void with_chain(const Key& key, F&& f) noexcept {
        if constexpr (std::is_same_v<Key, Address>) {
            const size_t h = AddrHash{}(key);
            Shard& sh = shard_at(h);
            const std::lock_guard lock(sh.mu);
            std::forward<F>(f)(sh.accounts().find(key, h));
        } else {
            const size_t h = SlotKeyHash{}(key);
            Shard& sh = shard_at(h);
            const std::lock_guard lock(sh.mu);
            std::forward<F>(f)(sh.slots().find(key, h));
        }
    }

    /// With `base_known`, a read that resolves to the base state reports from_base and leaves
    /// the value unset (the caller has it already).
    Resolved<std::optional<AccountInfo>> read_account(TxnIndex t, const Address& addr,
                                                      bool base_known = false) noexcept {
        Resolved<std::optional<AccountInfo>> out;
        U256 delta;
        bool has_delta = false;
        bool found_write = false;
        TxnIndex writer = 0;
        {
            const size_t h = AddrHash{}(addr);
            Shard& sh = shard_at(h);
            const std::lock_guard lock(sh.mu);
            if (const auto* found = sh.accounts().find(addr, h)) {
                const auto& chain = *found;
                for (auto e = below(chain, t); e != chain.rend(); ++e) {
                    if (e->kind == EntryKind::kEstimate) [[unlikely]] {
                        out.blocking = e->txn_idx;
                        return out;
                    }
                    if (e->kind == EntryKind::kDelta) {
                        delta += e->info.balance;
                        has_delta = true;
                        if (!out.newest_delta) {
                            out.newest_delta = e->txn_idx;
                        }
                        continue;
                    }
                    found_write = true;
                    writer = e->txn_idx;
                    out.newest_write = writer;
                    if (e->exists) {
                        out.value = e->info;
                    }
                    break;
                }
            }
        }
        if (pooled && AddrEq{}(*pooled, addr)) {
            // The pooled deltas of the transactions between the write (or the block start) and
            // the reader, nearest first (an ESTIMATE there blocks).
            const TxnIndex lowest = found_write ? writer + 1 : 0;
            for (TxnIndex j = t; j > lowest;) {
                --j;
                Txn& other = txns[j];
                const std::lock_guard lock(other.read_mu);
                if (!current(other) || !other.has_pooled) {
                    continue;
                }
                if (other.pooled_estimate) {
                    out.blocking = j;
                    return out;
                }
                delta += other.pooled_amount;
                has_delta = true;
                if (!out.newest_delta || j > *out.newest_delta) {
                    out.newest_delta = j;
                }
            }
        }
        if (!found_write && !has_delta) {
            out.from_base = true;
            if (base_known) {
                return out;
            }
        }
        if (!found_write) {
            out.value = base->read_account(addr);
        }
        if (has_delta) {
            out.value = apply_delta(out.value, delta);
        }
        return out;
    }

    /// The highest clearing write of `addr` in (after, t); an ESTIMATE there blocks.
    Resolved<bool> cleared_between(TxnIndex t, const Address& addr,
                                   std::optional<TxnIndex> after) noexcept {
        Resolved<bool> out;
        if (!clears.load(std::memory_order_acquire)) {
            return out;
        }
        with_chain(addr, [&](const AccountMap::Chain* found) {
            if (found == nullptr) {
                return;
            }
            for (auto e = below(*found, t); e != found->rend(); ++e) {
                if (after && e->txn_idx <= *after) {
                    return;
                }
                if (e->kind == EntryKind::kEstimate) {
                    out.blocking = e->txn_idx;
                    return;
                }
                if (e->kind == EntryKind::kWrite && e->clears_storage) {
                    out.value = true;
                    return;
                }
            }
        });
        return out;
    }

    Resolved<U256> read_storage(TxnIndex t, const Address& addr, const U256& slot,
                                bool base_known = false) noexcept {
        Resolved<U256> out;
        std::optional<TxnIndex> writer;
        {
            const SlotKey key{addr, slot};
            const size_t h = SlotKeyHash{}(key);
            Shard& sh = shard_at(h);
            const std::lock_guard lock(sh.mu);
            if (const auto* found = sh.slots().find(key, h)) {
                const auto& chain = *found;
                const auto e = below(chain, t);
                if (e != chain.rend()) {
                    if (e->estimate) {
                        out.blocking = e->txn_idx;
                        return out;
                    }
                    writer = e->txn_idx;
                    out.newest_write = writer;
                    out.value = e->value;
                }
            }
        }
        const Resolved<bool> cleared = cleared_between(t, addr, writer);
        if (cleared.blocking) {
            out.blocking = cleared.blocking;
            return out;
        }
        if (cleared.value) {
            out.value = U256{};
        } else if (!writer) {
            out.from_base = true;
            if (!base_known) {
                out.value = base->read_storage(addr, slot);
            }
        }
        return out;
    }

    Resolved<bool> has_storage(TxnIndex t, const Address& addr) noexcept {
        // Storage can only be written by the account's own code, so an account with storage
        // written in this block has a nonce (and collides on it) unless it was deleted, which
        // clears its storage: base storage and in-block clearing decide the answer.
        Resolved<bool> cleared = cleared_between(t, addr, std::nullopt);
        if (cleared.blocking) {
            return cleared;
        }
        Resolved<bool> out;
        out.value = !cleared.value && base->has_storage(addr);
        return out;
    }

    /// Inserts or replaces a transaction's entry in the location's chain. Out of line: record()
    /// calls it from three places, and one copy of the map insertion keeps record() small.
    /// A new chain (or a grown array) comes from `arena`, the recording worker's: one
    /// sequential stream per worker, beside the read sets it stashes, where the shard arenas
    /// were 256 streams that both workers wrote into.
    [[gnu::noinline]] void publish(const Address& addr, const AccountEntry& e,
                                   internal::ReusableArena& arena) {
        const size_t h = AddrHash{}(addr);
        Shard& sh = shard_at(h);
        const std::lock_guard lock(sh.mu);
        upsert(sh.accounts().find_or_insert(addr, h, arena), e, arena);
    }
    [[gnu::noinline]] void publish(const SlotKey& key, const SlotEntry& e,
                                   internal::ReusableArena& arena) {
        const size_t h = SlotKeyHash{}(key);
        Shard& sh = shard_at(h);
        const std::lock_guard lock(sh.mu);
        upsert(sh.slots().find_or_insert(key, h, arena), e, arena);
    }

    /// Drops the entries the previous incarnation of `txn_idx` wrote and this one (`new_*`,
    /// sorted) did not; true if this one writes a location the previous one did not. Only
    /// re-executions get here: kept out of record()'s hot path.
    [[gnu::noinline, gnu::cold]] bool drop_stale(TxnIndex txn_idx,
                                                 const std::vector<Address>& new_accounts,
                                                 const std::vector<SlotKey>& new_slots) noexcept {
        const Txn& txn = txns[txn_idx];
        const bool accounts_new = drop_stale_keys(txn.written_accounts, new_accounts, txn_idx);
        const bool slots_new = drop_stale_keys(txn.written_slots, new_slots, txn_idx);
        return accounts_new || slots_new;
    }
    /// drop_stale() for one kind of location: both lists sorted.
    template <class Key>
    bool drop_stale_keys(std::span<const Key> old_keys, const std::vector<Key>& new_keys,
                         TxnIndex txn_idx) noexcept {
        bool wrote_new = false;
        const auto erase = [&](const Key& k) {
            with_chain(k, [&](auto* chain) {
                if (chain != nullptr) {
                    erase_entry(*chain, txn_idx);
                }
            });
        };
        auto old = old_keys.begin();
        for (const Key& k : new_keys) {
            while (old != old_keys.end() && *old < k) {
                erase(*old);
                ++old;
            }
            if (old != old_keys.end() && *old == k) {
                ++old;
            } else {
                wrote_new = true;
            }
        }
        for (; old != old_keys.end(); ++old) {
            erase(*old);
        }
        return wrote_new;
    }

    /// Publishes deployed code under its hash (the first copy wins; codes are content addressed).
    [[gnu::noinline, gnu::cold]] void store_code(const Hash32& hash, const Bytes& bytes) {
        const std::lock_guard lock(code_mu);
        auto& slot = code[hash];
        if (!slot) {
            slot = std::make_unique<Bytes>(bytes);
            code_count.fetch_add(1, std::memory_order_release);
        }
    }

    ConcurrentStateReader* base = nullptr;
    std::vector<Shard> shards;
    std::unique_ptr<Txn[]> txns;
    size_t txn_capacity = 0;
    size_t num_txns = 0;
    /// The current block, counted by reset() from 1 (see Txn).
    uint32_t epoch = 0;
    /// Whether the record is this block's (else it reads as empty).
    [[nodiscard]] bool current(const Txn& t) const noexcept { return t.epoch == epoch; }
    /// One per worker, used only by that worker's record() calls, on cache lines of its own:
    /// record() writes the arena's cursor several times per transaction, and two 48-byte arenas
    /// allocated one after the other could share a line (one's cursor beside the other's chunk
    /// list).
    struct alignas(64) WorkerArena {
        internal::ReusableArena arena;
    };
    std::vector<std::unique_ptr<WorkerArena>> arenas;
    /// Per-worker scratch of record() (kept for its capacity).
    struct alignas(64) Scratch {
        std::vector<Address> accounts;
        std::vector<SlotKey> slots;
    };
    std::vector<Scratch> scratch;
    /// The address whose balance deltas are kept per transaction rather than in a version chain
    /// (the coinbase: every transaction credits it, so a chain would be one hot lock and vector).
    std::optional<Address> pooled;
    std::mutex code_mu;
    /// Some incarnation deleted, re-created or deployed (see has_complex_writes()). Until one
    /// does, no code hash can differ from the base state's (stable_code_hash()). Set before the
    /// write is published and never unset within a block; record() reports such a write as a
    /// new location, so every higher transaction is validated again after it.
    std::atomic<bool> complex_writes{false};
    /// Some incarnation recorded a write that clears storage (deleted or re-created an account).
    /// Until one does, cleared_between() has nothing to find and answers without looking (a slot
    /// read then costs one lookup, not two). Set before the clearing entry is published and never
    /// unset within a block; record() reports a clearing write as a new location, so every
    /// higher transaction is validated again after it (those validations are claimed after the
    /// scheduler saw the record finish, so they see the flag and look).
    std::atomic<bool> clears{false};
    /// How many codes `code` holds; readers skip the lock while it is zero.
    std::atomic<size_t> code_count{0};
    std::unordered_map<Hash32, std::unique_ptr<Bytes>> code;
};

MvMemory::MvMemory(ConcurrentStateReader& base, size_t num_txns, size_t workers,
                   const Address* pooled_delta_address)
    : impl_(std::make_unique<Impl>(workers)) {
    impl_->reset(base, num_txns, pooled_delta_address);
}

MvMemory::MvMemory(size_t workers) : impl_(std::make_unique<Impl>(workers)) {}

void MvMemory::reset(ConcurrentStateReader& base, size_t num_txns,
                     const Address* pooled_delta_address) {
    impl_->reset(base, num_txns, pooled_delta_address);
}

MvMemory::~MvMemory() = default;

Resolved<std::optional<AccountInfo>> MvMemory::read_account(TxnIndex txn_idx,
                                                            const Address& addr) noexcept {
    return impl_->read_account(txn_idx, addr);
}

Resolved<U256> MvMemory::read_storage(TxnIndex txn_idx, const Address& addr,
                                      const U256& slot) noexcept {
    return impl_->read_storage(txn_idx, addr, slot);
}

Resolved<bool> MvMemory::has_storage(TxnIndex txn_idx, const Address& addr) noexcept {
    return impl_->has_storage(txn_idx, addr);
}

std::optional<Hash32> MvMemory::stable_code_hash(const Address& addr) noexcept {
    if (impl_->complex_writes.load(std::memory_order_acquire)) {
        return std::nullopt;
    }
    return impl_->base->read_code_hash(addr);
}

ByteView MvMemory::find_code(const Hash32& code_hash) noexcept {
    if (impl_->code_count.load(std::memory_order_acquire) != 0) {
        const std::lock_guard lock(impl_->code_mu);
        const auto it = impl_->code.find(code_hash);
        if (it != impl_->code.end()) {
            return *it->second;
        }
    }
    return impl_->base->read_code(code_hash);
}

bool MvMemory::record(Version v, const TxnWrites& writes, std::span<const BalanceDelta> deltas,
                      const ReadSet& reads, size_t worker) {
    PEL_ASSERT(worker < impl_->arenas.size(), "record: worker out of range");
    Impl& m = *impl_;
    Impl::Txn& txn = m.txns[v.txn_idx];
    Impl::Scratch& scratch = m.scratch[worker];
    internal::ReusableArena& warena = m.arenas[worker]->arena;
    std::vector<Address>& new_accounts = scratch.accounts;
    std::vector<SlotKey>& new_slots = scratch.slots;
    new_accounts.clear();
    new_slots.clear();
    bool pooled_now = false;
    bool clearing = false;
    bool complex = false;
    U256 pooled_amount;
    for (const AccountWrite& w : writes.accounts) {
        // A record kept only for its slots (header as read) publishes no header entry: every
        // caller of a contract would otherwise "write" its header and conflict on it.
        const bool header_unchanged =
            !w.deleted && !w.storage_cleared && !w.code &&
            std::any_of(reads.accounts.begin(), reads.accounts.end(),
                        [&](const ReadSet::AccountRead& r) {
                            return r.address == w.address && r.value && *r.value == w.info;
                        });
        AccountEntry e;
        e.txn_idx = v.txn_idx;
        e.incarnation = v.incarnation;
        e.kind = EntryKind::kWrite;
        e.exists = !w.deleted;
        e.clears_storage = w.deleted || w.storage_cleared;
        if (w.deleted || w.storage_cleared || w.code) [[unlikely]] {
            // Before the write is published: code-hash reads rely on the flag (see
            // stable_code_hash()).
            m.complex_writes.store(true, std::memory_order_release);
            complex = true;
        }
        if (e.clears_storage) [[unlikely]] {
            m.clears.store(true, std::memory_order_release);
            clearing = true;
        }
        if (!w.deleted) {
            e.info = w.info;
        }
        if (w.code && !w.code->empty()) [[unlikely]] {
            m.store_code(w.info.code_hash, *w.code);
        }
        if (!header_unchanged) {
            m.publish(w.address, e, warena);
            new_accounts.push_back(w.address);
        }
        for (const StorageWrite& s : w.storage) {
            const SlotKey key{w.address, s.key};
            SlotEntry se;
            se.txn_idx = v.txn_idx;
            se.incarnation = v.incarnation;
            se.value = s.value;
            m.publish(key, se, warena);
            new_slots.push_back(key);
        }
    }
    for (const BalanceDelta& d : deltas) {
        if (m.pooled && AddrEq{}(*m.pooled, d.address)) {
            pooled_now = true;
            pooled_amount = d.amount;
            continue;
        }
        AccountEntry e;
        e.txn_idx = v.txn_idx;
        e.incarnation = v.incarnation;
        e.kind = EntryKind::kDelta;
        e.info.balance = d.amount;
        m.publish(d.address, e, warena);
        new_accounts.push_back(d.address);
    }
    sort_keys(new_accounts);
    sort_keys(new_slots);

    // A clearing write counts as new: higher transactions may have read slots of the account
    // without looking for clears (see `clears`), so all of them are validated again. So does
    // any complex write: they may have read code hashes from the base state (stable_code_hash).
    bool wrote_new = clearing || complex;
    // No earlier incarnation of this block recorded anything (its fields are another block's).
    // The epoch and has_pooled are read without the lock: only the thread recording (or
    // aborting) this transaction writes them, and never both at once.
    const bool first = !m.current(txn);
    wrote_new = wrote_new || (pooled_now && (first || !txn.has_pooled));
    if (first || (txn.written_accounts.empty() && txn.written_slots.empty())) [[likely]] {
        // No previous incarnation wrote anything: every location is new.
        wrote_new = wrote_new || !new_accounts.empty() || !new_slots.empty();
    } else if (m.drop_stale(v.txn_idx, new_accounts, new_slots)) {
        wrote_new = true;
    }
    std::pmr::memory_resource& arena = m.arenas[worker]->arena;
    txn.written_accounts = Impl::stash<Address>(arena, new_accounts);
    txn.written_slots = Impl::stash<SlotKey>(arena, new_slots);
    // Copied into this worker's arena (outside the lock), while the caller's scratch keeps its
    // grown capacity (no reallocation as the next execution reads); then published.
    const auto accounts = Impl::stash<ReadSet::AccountRead>(arena, reads.accounts);
    const auto slots = Impl::stash<ReadSet::SlotRead>(arena, reads.slots);
    const auto has_storage = Impl::stash<ReadSet::HasStorageRead>(arena, reads.has_storage);
    const auto code_hashes = Impl::stash<ReadSet::CodeHashRead>(arena, reads.code_hashes);
    {
        // One critical section for all that others read: the pooled delta and the read set.
        const std::lock_guard lock(txn.read_mu);
        txn.has_pooled = pooled_now;
        txn.pooled_estimate = false;
        txn.pooled_amount = pooled_amount;
        txn.read_accounts = accounts;
        txn.read_slots = slots;
        txn.read_has_storage = has_storage;
        txn.read_code_hashes = code_hashes;
        txn.epoch = m.epoch;
    }
    return wrote_new;
}

void MvMemory::prefetch_record(TxnIndex txn_idx, size_t worker) const noexcept {
    if (txn_idx < impl_->num_txns) {
        internal::prefetch_for_write(&impl_->txns[txn_idx], sizeof(Impl::Txn));
    }
    if (worker < impl_->arenas.size()) {
        if (const void* p = impl_->arenas[worker]->arena.next_free()) {
            internal::prefetch_for_write(p, 256);
        }
    }
}

bool MvMemory::record_empty(Version v, const ReadSet& reads, size_t worker) {
    return record(v, TxnWrites{}, {}, reads, worker);
}

void MvMemory::convert_writes_to_estimates(TxnIndex txn_idx) noexcept {
    Impl& m = *impl_;
    Impl::Txn& txn = m.txns[txn_idx];
    {
        const std::lock_guard lock(txn.read_mu);
        if (!m.current(txn)) {
            return;  // nothing recorded in this block
        }
        txn.pooled_estimate = txn.has_pooled;
    }
    for (const Address& a : txn.written_accounts) {
        m.with_chain(a, [&](Impl::AccountMap::Chain* chain) {
            if (AccountEntry* e = chain != nullptr ? find_entry(*chain, txn_idx) : nullptr) {
                e->kind = EntryKind::kEstimate;
            }
        });
    }
    for (const SlotKey& k : txn.written_slots) {
        m.with_chain(k, [&](Impl::SlotMap::Chain* chain) {
            if (SlotEntry* e = chain != nullptr ? find_entry(*chain, txn_idx) : nullptr) {
                e->estimate = true;
            }
        });
    }
}

bool MvMemory::validate_read_set(TxnIndex txn_idx, Location* conflict) noexcept {
    Impl& m = *impl_;
    Impl::Txn& txn = m.txns[txn_idx];
    const std::lock_guard lock(txn.read_mu);
    if (!m.current(txn)) {
        return true;  // nothing recorded in this block: no reads
    }
    for (const ReadSet::AccountRead& r : txn.read_accounts) {
        const auto now = m.read_account(txn_idx, r.address, r.from_base);
        if (now.blocking || (!(now.from_base && r.from_base) && now.value != r.value))
            [[unlikely]] {
            if (conflict != nullptr) {
                *conflict = Location{r.address, std::nullopt};
            }
            return false;
        }
    }
    for (const ReadSet::SlotRead& r : txn.read_slots) {
        const auto now = m.read_storage(txn_idx, r.address, r.slot, r.from_base);
        if (now.blocking || (!(now.from_base && r.from_base) && now.value != r.value))
            [[unlikely]] {
            if (conflict != nullptr) {
                *conflict = Location{r.address, r.slot};
            }
            return false;
        }
    }
    // Without a complex write in the block, every code hash is the base state's: so was every
    // code-hash read (the flag never goes back), and so is the location now.
    const std::span<const ReadSet::CodeHashRead> code_hashes =
        m.complex_writes.load(std::memory_order_acquire) ? txn.read_code_hashes
                                                         : std::span<const ReadSet::CodeHashRead>{};
    for (const ReadSet::CodeHashRead& r : code_hashes) {
        const auto now = m.read_account(txn_idx, r.address, r.from_base);
        const Hash32 h = now.value ? now.value->code_hash : kEmptyCodeHash;
        if (now.blocking || (!(now.from_base && r.from_base) && h != r.value)) [[unlikely]] {
            if (conflict != nullptr) {
                *conflict = Location{r.address, std::nullopt};
            }
            return false;
        }
    }
    for (const ReadSet::HasStorageRead& r : txn.read_has_storage) {
        const auto now = m.has_storage(txn_idx, r.address);
        if (now.blocking || now.value != r.value) [[unlikely]] {
            if (conflict != nullptr) {
                *conflict = Location{r.address, std::nullopt};
            }
            return false;
        }
    }
    return true;
}

bool MvMemory::has_complex_writes() const noexcept {
    return impl_->complex_writes.load(std::memory_order_relaxed);
}

size_t MvMemory::final_part_of(const Address& addr, size_t parts) noexcept {
    // Address ranges in address order, by the leading 16 bits.
    const size_t lead = size_t{addr.bytes[0]} << 8 | addr.bytes[1];
    return lead * parts >> 16;
}

bool MvMemory::collect_final(size_t part, size_t parts, std::span<FinalPart> out) {
    Impl& m = *impl_;
    PEL_ASSERT(!out.empty(), "collect_final: no destination part");
    const size_t dests = out.size();
    const auto n = static_cast<TxnIndex>(m.num_txns);
    bool pooled_seen = false;
    // One account: the last full write plus the deltas above it, or the base state plus every
    // delta (EIP-161 touch rules in the order they apply are the caller's: return false).
    const auto finish = [&](const Address& addr, const AccountEntry* write, bool has_delta,
                            const U256& delta) -> bool {
        std::optional<AccountInfo> info;
        if (write != nullptr) {
            PEL_ASSERT(write->exists, "collect_final: deletion in a block without complex writes");
            info = write->info;
            if (has_delta) {
                info->balance += delta;
                if (info->is_empty()) {
                    return false;
                }
            }
        } else {
            if (delta.is_zero()) {
                const std::optional<AccountInfo> before = m.base->read_account(addr);
                // A zero credit deletes an empty account and leaves any other one as it is.
                return !(before && before->is_empty());
            }
            info = m.base->read_account(addr);
            if (info && info->is_empty()) {
                return false;
            }
            info = info.value_or(AccountInfo{});
            info->balance += delta;
        }
        out[final_part_of(addr, dests)].accounts.push_back(FinalAccount{addr, *info});
        return true;
    };
    const auto pooled_delta = [&](TxnIndex above, U256& delta, bool& has_delta) {
        for (TxnIndex j = above; j < n; ++j) {
            const Impl::Txn& t = m.txns[j];
            if (m.current(t) && t.has_pooled) {
                PEL_ASSERT(!t.pooled_estimate, "collect_final: ESTIMATE left");
                delta += t.pooled_amount;
                has_delta = true;
            }
        }
    };
    for (size_t i = part; i < m.shards.size(); i += parts) {
        Impl::Shard& sh = m.shards[i];
        const std::lock_guard lock(sh.mu);
        const bool accounts_done = sh.accounts().all_of([&](const auto& chain) {
            if (chain.empty()) {
                return true;
            }
            const Address& addr = chain.key();
            U256 delta;
            bool has_delta = false;
            const AccountEntry* write = nullptr;
            for (auto e = chain.rbegin(); e != chain.rend(); ++e) {
                PEL_ASSERT(e->kind != EntryKind::kEstimate, "collect_final: ESTIMATE left");
                if (e->kind == EntryKind::kDelta) {
                    delta += e->info.balance;
                    has_delta = true;
                    continue;
                }
                write = &*e;
                break;
            }
            if (m.pooled && AddrEq{}(*m.pooled, addr)) {
                pooled_seen = true;
                pooled_delta(write != nullptr ? write->txn_idx + 1 : 0, delta, has_delta);
            }
            return finish(addr, write, has_delta, delta);
        });
        if (!accounts_done) {
            return false;
        }
        sh.slots().all_of([&](const auto& chain) {
            if (!chain.empty()) {
                PEL_ASSERT(!chain.back().estimate, "collect_final: ESTIMATE left");
                const SlotKey& key = chain.key();
                out[final_part_of(key.addr, dests)].slots.push_back(
                    FinalSlot{key.addr, key.slot, chain.back().value});
            }
            return true;
        });
    }
    if (m.pooled && !pooled_seen && Impl::shard_index(AddrHash{}(*m.pooled)) % parts == part) {
        U256 delta;
        bool has_delta = false;
        pooled_delta(0, delta, has_delta);
        if (has_delta && !finish(*m.pooled, nullptr, true, delta)) {
            return false;
        }
    }
    return true;
}

std::optional<AccountInfo> MvReader::read_account(const Address& addr) noexcept {
    if (blocking_) {
        return std::nullopt;
    }
    auto r = mv_.read_account(txn_idx_, addr);
    if (r.blocking) {
        blocking_ = r.blocking;
        return std::nullopt;
    }
    reads_.accounts.push_back(
        ReadSet::AccountRead{.value = r.value, .address = addr, .from_base = r.from_base});
    note_source(r.newest_write);
    note_source(r.newest_delta);
    return r.value;
}

U256 MvReader::read_storage(const Address& addr, const U256& key) noexcept {
    if (blocking_) {
        return U256{};
    }
    auto r = mv_.read_storage(txn_idx_, addr, key);
    if (r.blocking) {
        blocking_ = r.blocking;
        return U256{};
    }
    reads_.slots.push_back(ReadSet::SlotRead{
        .slot = key, .value = r.value, .address = addr, .from_base = r.from_base});
    note_source(r.newest_write);
    return r.value;
}

bool MvReader::has_storage(const Address& addr) noexcept {
    if (blocking_) {
        return false;
    }
    auto r = mv_.has_storage(txn_idx_, addr);
    if (r.blocking) {
        blocking_ = r.blocking;
        return false;
    }
    reads_.has_storage.push_back(ReadSet::HasStorageRead{addr, r.value});
    return r.value;
}

Hash32 MvReader::read_code_hash(const Address& addr) noexcept {
    if (blocking_) {
        return kEmptyCodeHash;
    }
    if (const std::optional<Hash32> h = mv_.stable_code_hash(addr)) {
        reads_.code_hashes.push_back(ReadSet::CodeHashRead{addr, *h, /*from_base=*/true});
        return *h;
    }
    auto r = mv_.read_account(txn_idx_, addr);
    if (r.blocking) {
        blocking_ = r.blocking;
        return kEmptyCodeHash;
    }
    const Hash32 h = r.value ? r.value->code_hash : kEmptyCodeHash;
    reads_.code_hashes.push_back(ReadSet::CodeHashRead{addr, h, r.from_base});
    note_source(r.newest_write);
    return h;
}

ByteView MvReader::read_code(const Hash32& code_hash) noexcept { return mv_.find_code(code_hash); }

}  // namespace pel::exec
