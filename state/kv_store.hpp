// SPDX-License-Identifier: Apache-2.0
// KvStore: the byte-oriented storage port under the state store (STYLE.md section 10.2). Two
// implementations: LevelDB (open_leveldb_store, the production store; LevelDB types never leave
// state/) and an in-memory one (make_mem_kv_store, for tests). Both give atomic write batches,
// point-in-time snapshots and ordered prefix scans.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "primitives/bytes.hpp"
#include "primitives/result.hpp"

namespace pel::state {

/// An ordered list of puts and deletes applied atomically by KvStore::write(), in order (a put
/// after a delete of the same key wins, and vice versa). A plain value type; one owner at a time.
class KvWriteBatch {
  public:
    enum class Op : uint8_t { kPut = 1, kDelete = 2 };

    void put(ByteView key, ByteView value);
    void del(ByteView key);
    /// Appends every operation of `other`, in order.
    void append(const KvWriteBatch& other) {
        pel::append(rep_, other.rep_);
        count_ += other.count_;
    }
    void clear() noexcept {
        rep_.clear();
        count_ = 0;
    }
    [[nodiscard]] size_t count() const noexcept { return count_; }
    /// Approximate payload size in bytes (keys, values and small headers).
    [[nodiscard]] size_t byte_size() const noexcept { return rep_.size(); }

    /// Calls fn(op, key, value) for every operation in order (value is empty for deletes).
    template <class Fn>
    void for_each(Fn&& fn) const {
        size_t p = 0;
        while (p < rep_.size()) {
            const auto op = static_cast<Op>(rep_[p]);
            const size_t klen = read_len(p + 1);
            const size_t vlen = read_len(p + 5);
            const ByteView key(rep_.data() + p + 9, klen);
            const ByteView value(rep_.data() + p + 9 + klen, vlen);
            fn(op, key, value);
            p += 9 + klen + vlen;
        }
    }

  private:
    [[nodiscard]] size_t read_len(size_t at) const noexcept {
        return static_cast<size_t>(rep_[at]) | static_cast<size_t>(rep_[at + 1]) << 8 |
               static_cast<size_t>(rep_[at + 2]) << 16 | static_cast<size_t>(rep_[at + 3]) << 24;
    }
    void append_record(Op op, ByteView key, ByteView value);

    Bytes rep_;  // records: op(1) klen(4 LE) vlen(4 LE) key value
    size_t count_ = 0;
};

/// A consistent read-only image of a KvStore at the moment snapshot() was called. Later writes are
/// invisible through it. Thread safety: get() may be called from many threads at once. A snapshot
/// keeps its store alive (it shares ownership of the underlying database).
class KvSnapshot {
  public:
    KvSnapshot() = default;
    virtual ~KvSnapshot() = default;
    KvSnapshot(const KvSnapshot&) = delete;
    KvSnapshot& operator=(const KvSnapshot&) = delete;
    KvSnapshot(KvSnapshot&&) = delete;
    KvSnapshot& operator=(KvSnapshot&&) = delete;

    /// The value at `key` in the snapshot; nullopt if absent. Errors: I/O, corruption.
    [[nodiscard]] virtual Result<std::optional<Bytes>> get(ByteView key) const = 0;
};

/// Ordered byte-string key-value store.
///
/// Thread safety: get(), snapshot() and for_each_prefix() are safe from many threads at once and
/// concurrently with write(); write() calls must not overlap each other (one writer). Errors are
/// Results whose message names the cause; corruption messages contain "corrupt".
class KvStore {
  public:
    KvStore() = default;
    virtual ~KvStore() = default;
    KvStore(const KvStore&) = delete;
    KvStore& operator=(const KvStore&) = delete;
    KvStore(KvStore&&) = delete;
    KvStore& operator=(KvStore&&) = delete;

    /// The latest value at `key`; nullopt if absent. Errors: I/O, corruption.
    [[nodiscard]] virtual Result<std::optional<Bytes>> get(ByteView key) const = 0;

    /// Applies `batch` atomically: after a crash either all of it or none of it is visible. With
    /// `sync`, returns only once the batch is durable (fsync'd). Errors: I/O, corruption.
    [[nodiscard]] virtual Result<void> write(const KvWriteBatch& batch, bool sync) = 0;

    /// As write() of the concatenation of `parts`, in order, without the caller building it (a
    /// commit's records come in many buffers). The default concatenates and calls write().
    [[nodiscard]] virtual Result<void> write_parts(std::span<const KvWriteBatch* const> parts,
                                                   bool sync);

    /// A snapshot of the current contents (see KvSnapshot).
    [[nodiscard]] virtual std::shared_ptr<const KvSnapshot> snapshot() const = 0;

    /// Calls fn(key, value) for every key starting with `prefix`, in ascending key order, until fn
    /// returns false. Reads the latest contents. Errors: I/O, corruption.
    [[nodiscard]] virtual Result<void> for_each_prefix(
        ByteView prefix, const std::function<bool(ByteView key, ByteView value)>& fn) const = 0;

    /// As for_each_prefix(), for a short range that is likely to be read again soon (a trie
    /// node's children): a store with a block cache keeps what it reads there (for_each_prefix()
    /// does not, so that a long scan does not evict hot blocks). By default the same scan.
    [[nodiscard]] virtual Result<void> for_each_prefix_cached(
        ByteView prefix, const std::function<bool(ByteView key, ByteView value)>& fn) const {
        return for_each_prefix(prefix, fn);
    }
};

/// LevelDB tuning and open flags. The defaults suit a node; tests shrink the caches.
struct LevelDbOptions {
    bool create_if_missing = true;
    bool error_if_exists = false;
    size_t block_cache_bytes = size_t{128} << 20;  ///< LevelDB's LRU cache of decompressed blocks
    size_t write_buffer_bytes = size_t{64} << 20;  ///< memtable size before a flush to level 0
    size_t max_file_bytes = size_t{32} << 20;      ///< target table file size
    int bloom_bits_per_key = 10;                   ///< 0 disables the bloom filter
    int max_open_files = 1000;
    /// Snappy block compression. Off by default: trie nodes and keys are mostly keccak hashes,
    /// which do not compress, and on a small machine the CPU is better spent elsewhere.
    bool compression = false;
    /// Nice value (0-19) that LevelDB's background thread (memtable flushes and compactions)
    /// takes before each job, so that on a small machine the compactions use the cores a commit
    /// leaves idle rather than half of the commit's. They still run: a writer that outpaces them
    /// meets LevelDB's own level-0 slowdown and stop triggers. 0 leaves the thread as it is. The
    /// thread is shared by every LevelDB database of the process, and a raised nice value cannot
    /// be lowered again.
    int background_nice = 0;
};

/// Opens (or, with create_if_missing, creates) a LevelDB database at `path`. paranoid_checks is
/// always on and every read verifies block checksums. LevelDB's background thread (flushes and
/// compactions) is named leveldb-bg. Errors: the path is not a database, it is locked by another
/// open handle, I/O, corruption (message contains "corrupt").
[[nodiscard]] Result<std::shared_ptr<KvStore>> open_leveldb_store(const std::string& path,
                                                                  const LevelDbOptions& options);

/// An empty in-memory KvStore (a sorted map; every write copies it, so keep it small: tests only).
[[nodiscard]] std::shared_ptr<KvStore> make_mem_kv_store();

}  // namespace pel::state
