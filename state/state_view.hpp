// SPDX-License-Identifier: Apache-2.0
// Front door of the persistent state: StateView (read port for execution), StateDiff (what a block
// changed) and StateStore (flat state + incrementally hashed Merkle Patricia trie over a KvStore,
// normally LevelDB). The in-memory MemState (state/mem_state.hpp) is the oracle for its roots.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "primitives/bytes.hpp"
#include "primitives/hash.hpp"
#include "primitives/result.hpp"
#include "primitives/u256.hpp"
#include "state/account.hpp"

namespace pel::state {

class KvStore;
class KvWriteBatch;

/// Read-only state of one committed block.
///
/// Thread safety: every method may be called from any number of threads at once. A view is
/// immutable: all its reads answer for the same block, whatever is committed meanwhile.
class StateView {
  public:
    StateView() = default;
    virtual ~StateView() = default;
    StateView(const StateView&) = delete;
    StateView& operator=(const StateView&) = delete;
    StateView(StateView&&) = delete;
    StateView& operator=(StateView&&) = delete;

    /// The account header (storage_root included), or nullopt if the account does not exist.
    /// Errors: I/O or corruption in the database.
    [[nodiscard]] virtual Result<std::optional<Account>> account(const Address& addr) const = 0;

    /// The value of a storage slot; zero when unset or when the account does not exist.
    [[nodiscard]] virtual Result<U256> storage(const Address& addr, const U256& slot) const = 0;

    /// The code whose keccak256 is `code_hash`: shared, immutable bytes (empty for kEmptyCodeHash),
    /// or nullptr for a hash the store does not know. Code is content addressed and never deleted,
    /// so a code read is not pinned to the view's block. Errors: I/O or corruption.
    [[nodiscard]] virtual Result<std::shared_ptr<const Bytes>> code(
        const Hash32& code_hash) const = 0;

    /// The block this view shows; nullopt for a store that has not committed any block yet.
    [[nodiscard]] virtual std::optional<uint64_t> block_num() const noexcept = 0;

    /// The state root of that block (kEmptyTrieRoot for an empty state).
    [[nodiscard]] virtual Hash32 state_root() const noexcept = 0;
};

/// New code for an account: the bytes and their keccak256 (commit() checks the hash).
struct CodeChange {
    Hash32 hash = kEmptyCodeHash;
    Bytes bytes;
};

/// What a block did to one account. The final state after the block is:
///  - `deleted`: the account does not exist (with its storage); no other field may be set.
///    Selfdestruct of an account created in the same transaction, EIP-161 removal of empty
///    touched accounts.
///  - otherwise the account exists (created empty if it did not): when `storage_cleared`, all its
///    previous storage is gone first (recreation over a destroyed account); then nonce, balance
///    and code are replaced where set, and each `storage` slot is set (a zero value deletes it).
struct AccountDiff {
    bool deleted = false;
    bool storage_cleared = false;
    std::optional<uint64_t> nonce;
    std::optional<U256> balance;
    std::optional<CodeChange> code;
    std::unordered_map<U256, U256> storage;  ///< slot -> new value (zero = delete)
};

/// Everything one block changed, by address. A plain value type.
struct StateDiff {
    std::unordered_map<Address, AccountDiff> accounts;
};

/// Where the store is.
struct StateHead {
    std::optional<uint64_t> block_num;  ///< nullopt before the first commit
    Hash32 state_root = kEmptyTrieRoot;
};

/// StateStore tuning.
struct StateStoreOptions {
    /// Budget of the sharded read cache of accounts and storage slots (and, within it, one
    /// eighth for code). Entries are charged an estimate of their heap footprint.
    size_t cache_bytes = size_t{256} << 20;
    /// LevelDB's own block cache, write buffer and file size (open(path) only).
    size_t leveldb_block_cache_bytes = size_t{128} << 20;
    size_t leveldb_write_buffer_bytes = size_t{64} << 20;
    /// Nice value of LevelDB's background thread (LevelDbOptions::background_nice): compactions
    /// yield the cores to commits and execution. 0: unchanged (the default until it is measured
    /// on a quiet machine: under sustained full load a starved compaction stalls writes).
    int leveldb_background_nice = 0;
    /// Storage tries kept in memory between commits (whole tries, a few KiB for a contract with
    /// tens of slots), so that storage that changes again is not reloaded from the database.
    size_t resident_storage_tries = 16384;
    /// A storage trie with at most this many slots has no node records: it is rebuilt from the
    /// account's flat slots (one scan, checked against the account's storage root) when it is
    /// first needed, and a commit that changes it writes only the slots. Once it grows past this
    /// its nodes are written and kept up to date like any other trie's until its storage is
    /// cleared (no flapping back and forth). 0: every storage trie has records. Changing it
    /// between opens is safe: each trie's records or their absence say which kind it is.
    size_t small_storage_trie_slots = 64;
    /// fsync every commit (durability). Tests that do not crash may turn it off for speed.
    bool sync = true;
    /// Hash storage tries and the state trie's subtries with oneTBB (in the calling thread's
    /// arena; limit threads with tbb::global_control). Off: everything on the calling thread.
    bool parallel = true;
};

/// Where the wall time of one commit went, in milliseconds, and what it wrote.
struct CommitStats {
    double accounts_ms = 0;     ///< old accounts, flat storage writes, storage tries (parallel)
    double trie_update_ms = 0;  ///< state trie structure updates (one thread)
    double trie_hash_ms = 0;    ///< state trie hashing (parallel)
    double write_ms = 0;        ///< building the batch, the (synced) write and beside it the cache
    double publish_ms = 0;      ///< resident storage tries and head publication
    double kv_write_ms = 0;     ///< the KvStore write alone (within write_ms)
    double cache_ms = 0;        ///< the cache update alone (within write_ms, beside the write)
    size_t batch_ops = 0;       ///< puts and deletes in the batch
    size_t batch_bytes = 0;     ///< approximate batch payload
};

class StateStoreImpl;

/// The persistent world state: flat accounts, storage slots and code over a KvStore, plus the
/// state trie and the storage tries, whose nodes are persisted by path and updated incrementally.
///
/// Durability: commit() writes the state changes, the trie node changes and the head record in
/// one synced write batch, so after a crash the store is exactly at the last block whose commit()
/// returned (or a later one whose write reached the disk), never in between.
///
/// Roots: trie nodes are stored at their path (state/internal/path_trie.hpp explains why), so an
/// update overwrites or deletes exactly the records it replaces: the database holds the head trie
/// only, with no stale nodes and no pruning pass, and its size tracks the live state. A deleted
/// account or a cleared storage loses its whole storage trie and slots (two prefix ranges). A
/// node record holds nothing about its siblings, so a commit writes only the nodes it changed (a
/// wide branch's record is its own hash). The state trie's branch nodes stay in memory once
/// loaded (about 900 bytes each; 1M accounts have about 70,000 wide and 260,000 narrow ones),
/// storage tries up to resident_storage_tries (a small one is read whole with one scan, and one
/// of at most small_storage_trie_slots slots is not stored at all but rebuilt from its flat
/// slots); commit cost grows with the number of changed keys.
/// Reopening loads nodes lazily (the first commit after open reads the upper levels); nothing is
/// rebuilt. No history: only the head state can be read (and views of blocks still held).
///
/// Thread safety / Invariants:
///  - commit(), prepare(), commit_prepared(), abandon_prepared() and prepared() are serialised on
///    one internal mutex (one writer); views may be taken and read from any number of threads
///    concurrently with any of them.
///  - Two-phase commit: at most one block is prepared at a time. A prepared block lives only in
///    memory (its batch, the cache updates, and the state trie and resident storage tries moved to
///    its state); nothing of it is in the database, the cache, head() or any view until
///    commit_prepared() writes it. Abandoning it (abandon_prepared(), another prepare(), commit(),
///    a failed commit_prepared()) resets the state trie to the head root and drops the storage
///    tries it changed, exactly as a failed commit does, so the store is as before the prepare.
///  - A view is pinned to one block by construction: it holds a KvStore snapshot of exactly that
///    block, and the shared read cache tags every entry with the store version (commit count
///    since open) from which its value holds. A read uses a cache entry only when its tag is not
///    newer than the view's version; otherwise it reads its own snapshot. commit() writes the
///    batch and, beside it, overwrites the cache entries of every changed key with the new
///    version (no view can use them before the head is published; if the write fails they are
///    dropped again), then publishes the new head. Readers insert what they read from disk only if
///    their view is the head and no commit began since they looked (a seqlock on commit_seq), so
///    the cache never holds a value older than the head for any key. Hence a view never mixes
///    blocks.
///  - Views share ownership of the database and the cache: a view stays valid after the store is
///    destroyed (the database closes when the last view goes).
class StateStore {
  public:
    /// Opens the LevelDB database at `path`, creating it (with a format record and an empty
    /// state) when the directory does not exist or is empty. Errors (nothing is written then): a
    /// non-empty directory that is not a database, a database of another format version or without
    /// a readable format record, a corrupt database ("corrupt" in the message), a database held
    /// open elsewhere, I/O.
    [[nodiscard]] static Result<std::unique_ptr<StateStore>> open(const std::string& path,
                                                                  const StateStoreOptions& options);

    /// As open(path) over any KvStore (tests use the in-memory one). An empty store is
    /// initialised; anything else must carry this version's format record.
    [[nodiscard]] static Result<std::unique_ptr<StateStore>> open(std::shared_ptr<KvStore> kv,
                                                                  const StateStoreOptions& options);

    ~StateStore();
    StateStore(const StateStore&) = delete;
    StateStore& operator=(const StateStore&) = delete;
    StateStore(StateStore&&) = delete;
    StateStore& operator=(StateStore&&) = delete;

    /// Applies `diff` as block `block_num` and returns the new state root. `block_num` must be
    /// head + 1, or anything when no block was committed yet. Cost grows with the number of
    /// changed keys, not with the size of the state. Errors (the store is then unchanged and
    /// still usable): a wrong block number, an invalid diff (deleted with other fields set, a code
    /// hash that is not keccak256 of the code), I/O, corruption. Runs as prepare() followed by
    /// commit_prepared() (without copying `diff`), so a block prepared before is abandoned.
    [[nodiscard]] Result<Hash32> commit(uint64_t block_num, const StateDiff& diff);

    /// As commit(block_num, diff), with the auxiliary records in `aux` (the node's blocks,
    /// receipts and indexes) written in the same atomic batch, after the state changes: after a
    /// crash the store has both or neither. Every key of `aux` must start with kAuxPrefix
    /// (otherwise an error, nothing written); the store never reads or writes that range itself.
    [[nodiscard]] Result<Hash32> commit(uint64_t block_num, const StateDiff& diff,
                                        const KvWriteBatch& aux);

    /// Phase one of a two-phase commit: computes the root that `diff` gives as block `block_num`
    /// (same rules and errors as commit()) and keeps the prepared block (its batch, trie changes,
    /// cache updates) in the store, writing nothing. Views, reads and head() are unaffected (they
    /// keep showing the head). At most one block is prepared: preparing another one abandons the
    /// first (also when the new one fails). On error nothing is prepared and the store is as
    /// before. The store owns `diff` until the block is written or abandoned.
    [[nodiscard]] Result<Hash32> prepare(uint64_t block_num, StateDiff diff);

    /// As prepare(), for a block number below the head: the prepared state becomes block
    /// `block_num` when committed (commit_prepared), and the blocks above it are gone from the
    /// store's point of view. `diff` must take the head state back to that block's state (the
    /// node's evm_revert builds it from the old values it kept); the caller checks the root it
    /// returns against the block's before committing. Errors: as prepare(), and a `block_num`
    /// not below the head (nothing is prepared then).
    [[nodiscard]] Result<Hash32> prepare_rewind(uint64_t block_num, StateDiff diff);

    /// Phase two: writes the prepared block with `aux` in one synced batch (as
    /// commit(block_num, diff, aux)), publishes it as the head and returns its root. Errors:
    /// nothing prepared; a key of `aux` outside kAuxPrefix (nothing written, the block stays
    /// prepared); I/O (the prepared block is then abandoned, the store unchanged and usable).
    [[nodiscard]] Result<Hash32> commit_prepared(const KvWriteBatch& aux);

    /// Drops the prepared block, if any: the in-memory tries it changed are reset as after a failed
    /// commit. Cheap when nothing is prepared; otherwise the next prepare or commit reloads the
    /// state trie nodes it touches from the database, as the first commit after open does (a few
    /// milliseconds for a small block; 0.7-1.6 s measured for a 20,000-account block at 1M
    /// accounts).
    void abandon_prepared();

    /// The block number and root of the prepared block, if any.
    [[nodiscard]] std::optional<StateHead> prepared() const;

    /// The latest value of an auxiliary record (key must start with kAuxPrefix). Reads the
    /// database directly (no snapshot): safe from many threads, concurrently with commit().
    [[nodiscard]] Result<std::optional<Bytes>> get_aux(ByteView key) const;

    /// Calls fn(key, value) for every auxiliary record whose key starts with `prefix` (which
    /// must start with kAuxPrefix), in key order, until fn returns false.
    [[nodiscard]] Result<void> for_each_aux(
        ByteView prefix, const std::function<bool(ByteView key, ByteView value)>& fn) const;

    /// Calls fn(slot, value) for every non-zero storage slot of `addr` at the head, in the order
    /// of the slots' big-endian bytes, until fn returns false. Waits for a commit in progress.
    /// Errors: I/O, corruption.
    [[nodiscard]] Result<void> for_each_slot(
        const Address& addr, const std::function<bool(const U256&, const U256&)>& fn) const;

    /// First byte of every auxiliary record key.
    static constexpr uint8_t kAuxPrefix = 'x';

    /// The last committed block and its root.
    [[nodiscard]] StateHead head() const;

    /// A view of the last committed block; it keeps showing that block while later blocks are
    /// committed (it holds a database snapshot: release views you no longer need).
    [[nodiscard]] std::shared_ptr<const StateView> view() const;

    /// Timings of the last successful commit (zeros before the first).
    [[nodiscard]] CommitStats last_commit_stats() const;

    /// EIP-1186 proofs at the head (eth_getProof): the account's Merkle proof in the state trie
    /// and each slot's in the account's storage trie (proofs of exclusion for what is absent). The
    /// account and the slot values are read from the proven leaves, so they agree with the proofs.
    /// Waits for a commit in progress. Errors: I/O, corruption.
    struct SlotProof {
        U256 slot;
        U256 value;
        std::vector<Bytes> proof;
    };
    struct AccountProof {
        StateHead head;                  ///< the block proven (its state root is the proof's root)
        std::optional<Account> account;  ///< nullopt: no such account
        std::vector<Bytes> account_proof;
        std::vector<SlotProof> storage;  ///< in the order of `slots`
    };
    [[nodiscard]] Result<AccountProof> prove(const Address& addr,
                                             const std::vector<U256>& slots) const;

    /// Current format version written into and required from every database.
    static constexpr uint32_t kFormatVersion = 4;

    // --- test hooks ----------------------------------------------------------------------------
    /// Number of persisted storage trie nodes and flat storage slots of `addr`.
    [[nodiscard]] Result<size_t> test_storage_record_count(const Address& addr) const;

  private:
    explicit StateStore(std::unique_ptr<StateStoreImpl> impl);
    std::unique_ptr<StateStoreImpl> impl_;
};

}  // namespace pel::state
