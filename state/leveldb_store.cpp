// SPDX-License-Identifier: Apache-2.0
// The LevelDB implementation of KvStore. Every LevelDB type and status stays in this file.
#include <algorithm>
#include <cstdint>
#include <memory>
#include <mutex>
#include <pthread.h>
#include <span>
#include <string>
#include <sys/resource.h>
#include <unistd.h>
#include <utility>
#include <vector>

#include <leveldb/cache.h>
#include <leveldb/db.h>
#include <leveldb/env.h>
#include <leveldb/filter_policy.h>
#include <leveldb/iterator.h>
#include <leveldb/options.h>
#include <leveldb/slice.h>
#include <leveldb/write_batch.h>

#include "state/kv_store.hpp"

namespace pel::state {

namespace {

// An empty view may carry a null data pointer; LevelDB's Slice::compare/starts_with pass it to
// memcmp, which must never see null, so empty views map to the empty Slice ("").
leveldb::Slice slice(ByteView v) {
    if (v.empty()) return {};
    return {reinterpret_cast<const char*>(v.data()), v.size()};  // NOLINT
}

ByteView view(const leveldb::Slice& s) {
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};  // NOLINT
}

Unexpected<Error> status_error(const char* what, const leveldb::Status& s) {
    if (s.IsCorruption())
        return make_error("leveldb: database corrupt (", what, "): ", s.ToString());
    return make_error("leveldb: ", what, " failed: ", s.ToString());
}

// LevelDB's default Env, except that each background job (flush, compaction) first names its
// thread "leveldb-bg" and, with LevelDbOptions::background_nice, raises the thread's nice value.
// LevelDB schedules all its background work through Env::Schedule, on one thread that would
// otherwise keep the name of the thread that first scheduled work (in pel-node the block
// producer's, so that `top -H` and profiles charged the compactions to the producer).
class BackgroundEnv final : public leveldb::EnvWrapper {
  public:
    explicit BackgroundEnv(int nice) : EnvWrapper(leveldb::Env::Default()), nice_(nice) {}

    void Schedule(void (*fn)(void*), void* arg) override {
        target()->Schedule(&run,
                           new Job{fn, arg, nice_});  // NOLINT(cppcoreguidelines-owning-memory)
    }

  private:
    struct Job {
        void (*fn)(void*);
        void* arg;
        int nice;
    };
    static void run(void* p) {
        const std::unique_ptr<Job> job(static_cast<Job*>(p));
        thread_local bool named = false;
        if (!named) {
            // At most 15 characters; failure only leaves the name as it was.
            static_cast<void>(pthread_setname_np(pthread_self(), "leveldb-bg"));
            named = true;
        }
        thread_local int applied = 0;
        if (applied < job->nice) {
            // Per thread on Linux (the tid); failure only leaves the priority as it was.
            static_cast<void>(setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), job->nice));
            applied = job->nice;
        }
        job->fn(job->arg);
    }

    int nice_;
};

// Owns the DB and the objects its Options point to; destroyed last (snapshots share it).
struct Db {
    std::unique_ptr<leveldb::Env> env;  // declared first: destroyed after the DB
    std::unique_ptr<leveldb::Cache> cache;
    std::unique_ptr<const leveldb::FilterPolicy> filter;
    std::unique_ptr<leveldb::DB> db;

    Db() = default;
    Db(const Db&) = delete;
    Db& operator=(const Db&) = delete;
    Db(Db&&) = delete;
    Db& operator=(Db&&) = delete;
    ~Db() { db.reset(); }  // the DB must close before its cache and filter policy go
};

Result<std::optional<Bytes>> db_get(const Db& d, ByteView key, const leveldb::Snapshot* snap) {
    leveldb::ReadOptions ro;
    ro.verify_checksums = true;
    ro.snapshot = snap;
    std::string value;
    const leveldb::Status s = d.db->Get(ro, slice(key), &value);
    if (s.IsNotFound()) return std::optional<Bytes>{};
    if (!s.ok()) return status_error("get", s);
    return std::optional<Bytes>{Bytes(value.begin(), value.end())};
}

class LevelDbSnapshot final : public KvSnapshot {
  public:
    LevelDbSnapshot(std::shared_ptr<const Db> db, const leveldb::Snapshot* snap)
        : db_(std::move(db)), snap_(snap) {}
    LevelDbSnapshot(const LevelDbSnapshot&) = delete;
    LevelDbSnapshot& operator=(const LevelDbSnapshot&) = delete;
    LevelDbSnapshot(LevelDbSnapshot&&) = delete;
    LevelDbSnapshot& operator=(LevelDbSnapshot&&) = delete;
    ~LevelDbSnapshot() override { db_->db->ReleaseSnapshot(snap_); }

    Result<std::optional<Bytes>> get(ByteView key) const override {
        return db_get(*db_, key, snap_);
    }

  private:
    std::shared_ptr<const Db> db_;
    const leveldb::Snapshot* snap_;
};

class LevelDbStore final : public KvStore {
  public:
    explicit LevelDbStore(std::shared_ptr<Db> db) : db_(std::move(db)) {}

    Result<std::optional<Bytes>> get(ByteView key) const override {
        return db_get(*db_, key, nullptr);
    }

    Result<void> write(const KvWriteBatch& batch, bool sync) override {
        const KvWriteBatch* const parts[] = {&batch};
        return write_parts(parts, sync);
    }

    // The operations go to LevelDB in key order (for one key, in batch order, so the last still
    // wins): the memtable is a skip list, and inserting sorted keys touches the nodes the
    // previous insert just walked (several times faster for large batches of random keys). (Two
    // halves sorted at once and merged gained nothing here: a commit's write runs beside its cache
    // update, which has the other core.) The record index and LevelDB's batch are kept between
    // writes (a commit's are megabytes: growing them again every time costs page faults), unless
    // one was unusually large.
    Result<void> write_parts(std::span<const KvWriteBatch* const> parts, bool sync) override {
        const std::lock_guard lock(write_mu_);
        size_t n = 0;
        for (const KvWriteBatch* b : parts) n += b->count();
        recs_.clear();
        recs_.reserve(n);
        for (const KvWriteBatch* b : parts) {
            b->for_each([&](KvWriteBatch::Op op, ByteView key, ByteView value) {
                uint64_t head = 0;
                for (size_t i = 0; i < 8; ++i) head = head << 8 | (i < key.size() ? key[i] : 0U);
                recs_.push_back(Rec{head, key, value, static_cast<uint32_t>(recs_.size()), op});
            });
        }
        std::sort(recs_.begin(), recs_.end(), rec_less);
        if (wb_ == nullptr) wb_ = std::make_unique<leveldb::WriteBatch>();
        wb_->Clear();
        for (const Rec& r : recs_) {
            if (r.op == KvWriteBatch::Op::kPut) {
                wb_->Put(slice(r.key), slice(r.value));
            } else {
                wb_->Delete(slice(r.key));
            }
        }
        leveldb::WriteOptions wo;
        wo.sync = sync;
        const leveldb::Status s = db_->db->Write(wo, wb_.get());
        if (wb_->ApproximateSize() > kKeepBatchBytes) wb_.reset();
        if (recs_.capacity() > kKeepRecords) recs_ = std::vector<Rec>{};
        if (!s.ok()) return status_error("write", s);
        return {};
    }

    std::shared_ptr<const KvSnapshot> snapshot() const override {
        return std::make_shared<LevelDbSnapshot>(db_, db_->db->GetSnapshot());
    }

    Result<void> for_each_prefix(ByteView prefix,
                                 const std::function<bool(ByteView, ByteView)>& fn) const override {
        return scan(prefix, fn, false);  // long scans (storage wipes) should not evict hot blocks
    }

    Result<void> for_each_prefix_cached(
        ByteView prefix, const std::function<bool(ByteView, ByteView)>& fn) const override {
        return scan(prefix, fn, true);
    }

  private:
    Result<void> scan(ByteView prefix, const std::function<bool(ByteView, ByteView)>& fn,
                      bool fill_cache) const {
        leveldb::ReadOptions ro;
        ro.verify_checksums = true;
        ro.fill_cache = fill_cache;
        const std::unique_ptr<leveldb::Iterator> it(db_->db->NewIterator(ro));
        const leveldb::Slice p = slice(prefix);
        for (it->Seek(p); it->Valid() && it->key().starts_with(p); it->Next()) {
            if (!fn(view(it->key()), view(it->value()))) break;
        }
        if (!it->status().ok()) return status_error("scan", it->status());
        return {};
    }

    struct Rec {
        uint64_t head;  // the first 8 key bytes, big-endian (zero padded): a cheap first compare
        ByteView key;
        ByteView value;
        uint32_t seq;
        KvWriteBatch::Op op;
    };
    static bool rec_less(const Rec& a, const Rec& b) {
        if (a.head != b.head) return a.head < b.head;
        const int c = slice(a.key).compare(slice(b.key));
        return c != 0 ? c < 0 : a.seq < b.seq;
    }
    static constexpr size_t kKeepBatchBytes = size_t{64} << 20;
    static constexpr size_t kKeepRecords = size_t{1} << 20;

    std::mutex write_mu_;  // one write at a time (the contract); guards the buffers below
    std::vector<Rec> recs_;
    std::unique_ptr<leveldb::WriteBatch> wb_;
    std::shared_ptr<Db> db_;
};

}  // namespace

Result<std::shared_ptr<KvStore>> open_leveldb_store(const std::string& path,
                                                    const LevelDbOptions& options) {
    auto d = std::make_shared<Db>();
    d->cache.reset(leveldb::NewLRUCache(options.block_cache_bytes));
    if (options.bloom_bits_per_key > 0) {
        d->filter.reset(leveldb::NewBloomFilterPolicy(options.bloom_bits_per_key));
    }
    leveldb::Options o;
    o.create_if_missing = options.create_if_missing;
    o.error_if_exists = options.error_if_exists;
    o.paranoid_checks = true;
    o.block_cache = d->cache.get();
    o.filter_policy = d->filter.get();
    o.write_buffer_size = options.write_buffer_bytes;
    o.max_file_size = options.max_file_bytes;
    o.max_open_files = options.max_open_files;
    o.compression = options.compression ? leveldb::kSnappyCompression : leveldb::kNoCompression;
    d->env = std::make_unique<BackgroundEnv>(std::clamp(options.background_nice, 0, 19));
    o.env = d->env.get();
    leveldb::DB* raw = nullptr;
    const leveldb::Status s = leveldb::DB::Open(o, path, &raw);
    if (!s.ok()) return status_error("open", s);
    d->db.reset(raw);
    return std::shared_ptr<KvStore>(std::make_shared<LevelDbStore>(std::move(d)));
}

}  // namespace pel::state
