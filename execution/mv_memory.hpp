// SPDX-License-Identifier: Apache-2.0
// exec::MvMemory: the multi-version memory of Block-STM (Gelashvili et al., PPoPP 2023). For every
// state location written by some transaction of the block it keeps the values written by each
// transaction (the latest incarnation only), so that transaction `i` reads what the highest
// transaction below `i` wrote, or the block's base state when none did.
//
// Locations. An account header (existence, nonce, balance, code hash) is one location; each
// storage slot is one location. An account entry may instead be a *balance delta* (the lazily
// applied coinbase fee credit): a read of the header resolves the highest full write below the
// reader (or the base state) plus every delta above it.
//
// Storage clearing. An account entry carries `clears_storage` when the transaction deleted the
// account (EIP-6780 self-destruct, EIP-161 cleanup) or re-created it (CREATE over an existing
// address): slots written before that point, and the base state's slots, read as zero above it.
// Slot reads look for such entries only once some incarnation of the block has recorded one.
//
// Thread safety / Invariants:
//  - Every public method may be called from any number of threads at once. Locations are spread
//    over kShards shards, each a table of location -> version chain (internal::VersionTable: open
//    addressing, a chain's first entry stored with its key) under its own lock; a
//    lookup locks exactly one shard (a slot read that must check clearing locks two, one after
//    the other, never nested). No lock is held while executing EVM code. A shard's maps take
//    their cell arrays from the shard's own monotonic arena (not thread safe), so only under its
//    lock; a chain, and the arrays it grows into, come from the arena of the worker whose
//    record() publishes the entry (under the shard's lock too, but each worker arena is used
//    only by its own worker's thread). Arenas keep their memory for the next block (reset()
//    rewinds them) and return it when the MvMemory is destroyed.
//  - A chain holds at most one entry per transaction, sorted by txn_idx. An entry is a value
//    written by incarnation `incarnation` of txn_idx, or an ESTIMATE left by an aborted incarnation
//    (a read that meets it reports a dependency on txn_idx instead of a value).
//  - record() and convert_writes_to_estimates() of one transaction are never called concurrently
//    with each other for the same transaction: the scheduler gives one thread at a time the right
//    to execute or abort a given transaction. The per-transaction write and read sets are owned
//    by that thread; the read set is additionally guarded by a per-transaction mutex because a
//    validator of an older incarnation may still be reading it. Both sets are copied into the
//    recording worker's arena (each worker its own, used by no other thread); older copies stay
//    there, unreferenced, until the next reset().
//  - Balance deltas to the pooled address (if one is given) live in the transaction's record
//    instead of a chain, under the same per-transaction lock as its read set; record() and
//    convert_writes_to_estimates() update them like chain entries (ESTIMATE on abort), and a read
//    of that address takes the transactions' locks one at a time, never while holding a shard's.
//  - Locks are spin locks held for a few dozen instructions, never across EVM execution.
//  - The version maps live in the arenas and are abandoned, not destroyed, by reset() (their
//    entries own nothing else): ending a block costs nothing per version.
//  - Code is content addressed: deployed code is kept by hash until the next reset(), so views
//    returned by find_code() stay valid for the whole block.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "execution/state_reader.hpp"
#include "execution/txn_state.hpp"
#include "primitives/bytes.hpp"
#include "primitives/hash.hpp"
#include "primitives/u256.hpp"

namespace pel::exec {

using TxnIndex = uint32_t;

/// A transaction's execution attempt: Version{txn_idx, incarnation}.
struct Version {
    TxnIndex txn_idx = 0;
    uint32_t incarnation = 0;
    friend bool operator==(const Version&, const Version&) = default;
};
static_assert(sizeof(Version) == 8 && alignof(Version) == 4, "Version must stay two packed words");

/// One state location as the conflict report names it: an account header (slot unset) or a slot.
struct Location {
    Address address;
    std::optional<U256> slot;
    friend bool operator==(const Location&, const Location&) = default;
};

/// What a transaction read, by value. Validation re-resolves each read and compares.
struct ReadSet {
    // `from_base`: the value was the base state's (no version below the reader); validation
    // then accepts a read that still resolves to the base state without reading it again (the
    // base state does not change during the block). The 8-byte aligned members come first: a
    // 20-byte address ahead of them would pad every record by 8 bytes (a block's read sets are
    // megabytes, written once per execution).
    struct AccountRead {
        std::optional<AccountInfo> value;
        Address address;
        bool from_base = false;
    };
    struct SlotRead {
        U256 slot;
        U256 value;
        Address address;
        bool from_base = false;
    };
    static_assert(sizeof(AccountRead) == 104 && sizeof(SlotRead) == 88,
                  "read records must stay unpadded");
    struct HasStorageRead {
        Address address;
        bool value = false;
    };
    /// Only the code hash of the header was used (a lazily credited transfer's recipient).
    struct CodeHashRead {
        Address address;
        Hash32 value;
        bool from_base = false;
    };
    std::vector<AccountRead> accounts;
    std::vector<SlotRead> slots;
    std::vector<HasStorageRead> has_storage;
    std::vector<CodeHashRead> code_hashes;
    void clear() noexcept {
        accounts.clear();
        slots.clear();
        has_storage.clear();
        code_hashes.clear();
    }
};

/// A lazily applied balance credit (create if absent; EIP-161: an account left empty is gone).
struct BalanceDelta {
    Address address;
    U256 amount;
};

/// Outcome of a resolved read: a value, or the lower transaction whose write is an ESTIMATE.
template <class T>
struct Resolved {
    /// Provided, not defaulted: GCC then stores the members' initial values one by one, where
    /// for the defaulted constructor it zero-fills the whole 112-byte account result with
    /// `rep stos` (a tenth of an account lookup's time in profiles of the transfer block).
    Resolved() noexcept {}             // NOLINT(modernize-use-equals-default)
    std::optional<TxnIndex> blocking;  ///< set: the read must wait for this transaction
    T value{};
    bool from_base = false;  ///< no version below the reader: `value` is the base state's
    /// The highest transaction below the reader whose full write (account header or slot)
    /// the value came from, and (accounts) the highest whose balance delta it includes.
    std::optional<TxnIndex> newest_write;
    std::optional<TxnIndex> newest_delta;
};

/// The final value of locations after the whole block (see MvMemory::collect_final).
struct FinalAccount {
    Address address;
    AccountInfo info;
};
struct FinalSlot {
    Address address;
    U256 slot;
    U256 value;
};
/// What one collecting part found for one destination part.
struct FinalPart {
    std::vector<FinalAccount> accounts;
    std::vector<FinalSlot> slots;
};

class MvMemory {
  public:
    /// `base` must outlive the MvMemory. `workers`: the threads that call record() (each with its
    /// own index in [0, workers)). `pooled_delta_address` (optional, e.g. the coinbase): balance
    /// deltas to that address are kept with their transaction instead of in the address's version
    /// chain, so that every transaction crediting it does not contend on one chain; a read of
    /// that address sums the deltas of the transactions between its highest lower full write and
    /// the reader (linear in that distance), with the same results.
    MvMemory(ConcurrentStateReader& base, size_t num_txns, size_t workers = 1,
             const Address* pooled_delta_address = nullptr);
    /// An MvMemory for `workers` recording threads that holds no block yet: call reset() first.
    explicit MvMemory(size_t workers);
    /// Starts a new block (arguments as for the constructor; the worker count stays). Drops every
    /// version, read and write set and deployed code of the previous block but keeps the memory
    /// (shard arenas, maps' capacity, per-transaction records) for reuse. Not concurrent with
    /// any other call.
    void reset(ConcurrentStateReader& base, size_t num_txns,
               const Address* pooled_delta_address = nullptr);
    ~MvMemory();
    MvMemory(const MvMemory&) = delete;
    MvMemory& operator=(const MvMemory&) = delete;
    MvMemory(MvMemory&&) = delete;
    MvMemory& operator=(MvMemory&&) = delete;

    // --- reads for transaction `txn_idx` (what the highest lower writer wrote, or base) ----------
    [[nodiscard]] Resolved<std::optional<AccountInfo>> read_account(TxnIndex txn_idx,
                                                                    const Address& addr) noexcept;
    [[nodiscard]] Resolved<U256> read_storage(TxnIndex txn_idx, const Address& addr,
                                              const U256& slot) noexcept;
    [[nodiscard]] Resolved<bool> has_storage(TxnIndex txn_idx, const Address& addr) noexcept;
    /// The base state's code hash of `addr` (kEmptyCodeHash when absent) while no incarnation of
    /// the block has recorded a complex write (see has_complex_writes()); nullopt once one has.
    /// Until then no code hash can have changed: code is deployed, and accounts are deleted or
    /// re-created, only by complex writes; other writes keep the header's code hash as read.
    [[nodiscard]] std::optional<Hash32> stable_code_hash(const Address& addr) noexcept;
    /// Code by hash: deployed in this block by any incarnation, else the base state's.
    [[nodiscard]] ByteView find_code(const Hash32& code_hash) noexcept;

    // --- writes ------------------------------------------------------------------------------
    /// Publishes incarnation `v`'s write set, balance deltas (at most one per address, none for
    /// an address in `writes`) and read set,
    /// replacing the previous incarnation's. Returns true when it wrote a location the previous
    /// incarnation did not (the scheduler must then revalidate the higher transactions). `reads`
    /// is copied (into worker `worker`'s arena), so the caller's scratch keeps its capacity from
    /// one execution to the next. No two threads call it with the same `worker` at once.
    bool record(Version v, const TxnWrites& writes, std::span<const BalanceDelta> deltas,
                const ReadSet& reads, size_t worker = 0);
    /// Records an incarnation that produced no writes (invalid transaction); see record().
    bool record_empty(Version v, const ReadSet& reads, size_t worker = 0);
    /// A hint before txn_idx executes on worker `worker` (the calling thread's index, as for
    /// record()): starts loading its per-transaction record and the next lines of the worker's
    /// arena, where record() will put the chains of new locations and the read set (no effect
    /// on results).
    void prefetch_record(TxnIndex txn_idx, size_t worker = 0) const noexcept;
    /// Turns the last incarnation's writes into ESTIMATE markers (after a validation abort).
    void convert_writes_to_estimates(TxnIndex txn_idx) noexcept;

    /// Re-resolves txn_idx's last read set. Returns false (and the first location that changed in
    /// `conflict`, when given) if a value differs or a read now meets an ESTIMATE.
    [[nodiscard]] bool validate_read_set(TxnIndex txn_idx, Location* conflict) noexcept;

    /// True when some recorded incarnation deleted or re-created an account, cleared its storage
    /// or deployed code: collect_final() does not cover such blocks.
    [[nodiscard]] bool has_complex_writes() const noexcept;

    /// The destination part (of `parts`) of an address in collect_final(): consecutive address
    /// ranges, so that part d's addresses all sort before part d + 1's.
    [[nodiscard]] static size_t final_part_of(const Address& addr, size_t parts) noexcept;

    /// After a block whose every transaction executed and validated (no ESTIMATE left) and
    /// without complex writes: the final header of every account with a version (full write or
    /// delta; accounts whose deltas are all zero are left out) and the final value of every
    /// written slot, found in part `part` of `parts` of the shards (the pooled address belongs to
    /// the part of its shard), each appended to out[final_part_of(address, out.size())] (one
    /// element per destination part, any number). Returns false when an account's final state
    /// depends on EIP-161 rules the caller must apply in order (an empty account credited); the
    /// caller then folds the transactions' results instead. Distinct parts may run concurrently,
    /// with nothing else.
    [[nodiscard]] bool collect_final(size_t part, size_t parts, std::span<FinalPart> out);

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

/// The read port of one incarnation: a StateReader over MvMemory that records the read set. After
/// a read meets an ESTIMATE, blocking() is set and every later read answers a default without
/// touching MvMemory (the incarnation will be discarded).
///
/// Thread safety: one reader per incarnation, used by one thread.
class MvReader final : public StateReader {
  public:
    MvReader(MvMemory& mv, TxnIndex txn_idx, ReadSet& reads) noexcept
        : mv_(mv), txn_idx_(txn_idx), reads_(reads) {}

    [[nodiscard]] std::optional<AccountInfo> read_account(const Address& addr) noexcept override;
    [[nodiscard]] U256 read_storage(const Address& addr, const U256& key) noexcept override;
    [[nodiscard]] bool has_storage(const Address& addr) noexcept override;
    [[nodiscard]] Hash32 read_code_hash(const Address& addr) noexcept override;
    [[nodiscard]] ByteView read_code(const Hash32& code_hash) noexcept override;

    [[nodiscard]] std::optional<TxnIndex> blocking() const noexcept { return blocking_; }
    /// The highest lower transaction whose write a read of this incarnation used (balance
    /// deltas count for full account reads, not for code-hash reads): how closely the
    /// incarnation depends on its predecessors.
    [[nodiscard]] std::optional<TxnIndex> newest_source() const noexcept { return newest_; }

  private:
    MvMemory& mv_;
    TxnIndex txn_idx_;
    ReadSet& reads_;
    std::optional<TxnIndex> blocking_;
    std::optional<TxnIndex> newest_;
    void note_source(std::optional<TxnIndex> t) noexcept {
        if (t && (!newest_ || *t > *newest_)) {
            newest_ = t;
        }
    }
};

}  // namespace pel::exec
