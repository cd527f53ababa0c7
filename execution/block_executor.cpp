// SPDX-License-Identifier: Apache-2.0
#include "execution/block_executor.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstring>
#include <exception>
#include <iterator>
#include <map>
#include <thread>
#include <unordered_map>
#include <utility>

#include "execution/internal/sync.hpp"
#include "execution/scheduler.hpp"
#include "primitives/assert.hpp"
#include "primitives/sorted.hpp"
#include "vm/vm.hpp"

#if defined(__SANITIZE_THREAD__)
#define PEL_EXEC_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define PEL_EXEC_TSAN 1
#endif
#endif

#if defined(PEL_EXEC_TSAN)
#include <pthread.h>
#else
#include <tbb/global_control.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>
#include <tbb/task_group.h>
#endif

namespace pel::exec {

namespace {

// --- running bodies on worker threads
// -------------------------------------------------------------

/// EVM nesting recurses natively (vm.hpp): 1025 levels need far more than a default worker stack.
constexpr size_t kWorkerStackBytes = size_t{256} << 20;

#if defined(PEL_EXEC_TSAN)
// Debian's oneTBB is not instrumented: TSan cannot see the happens-before edges of its task
// queues and would report every hand-off as a race. Under TSan the same worker bodies run on
// plain pthreads (created with a large stack), so everything pel does stays checked.
template <class Body>
struct ThreadArg {
    const Body* body;
    size_t id;
};

template <class Body>
void* thread_entry(void* p) {
    auto* a = static_cast<ThreadArg<Body>*>(p);
    (*a->body)(a->id);
    return nullptr;
}

template <class Body>
void run_workers(size_t threads, const Body& body) noexcept {
    std::vector<pthread_t> handles(threads - 1);
    std::vector<ThreadArg<Body>> args(threads - 1);
    std::vector<bool> started(threads - 1, false);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, kWorkerStackBytes);
    for (size_t i = 0; i + 1 < threads; ++i) {
        args[i] = ThreadArg<Body>{&body, i + 1};
        started[i] = pthread_create(&handles[i], &attr, &thread_entry<Body>, &args[i]) == 0;
    }
    pthread_attr_destroy(&attr);
    body(0);
    for (size_t i = 0; i + 1 < threads; ++i) {
        if (started[i]) {
            pthread_join(handles[i], nullptr);
        }
    }
}

/// The executor's workers (under TSan: fresh pthreads for every run).
class WorkerPool {
  public:
    explicit WorkerPool(size_t threads) : threads_(threads) {}
    template <class Body>
    void run(const Body& body) noexcept {
        run_workers(threads_, body);
    }

  private:
    size_t threads_;
};

template <class Body>
void parallel_index(size_t n, size_t threads, const Body& body) noexcept {
    std::atomic<size_t> next{0};
    run_workers(threads, [&](size_t /*worker*/) noexcept {
        for (size_t i = next.fetch_add(1); i < n; i = next.fetch_add(1)) {
            body(i);
        }
    });
}
#else
tbb::global_control& worker_stack_control() {
    // Applies to the oneTBB workers created from now on; kept for the process lifetime.
    static tbb::global_control control(tbb::global_control::thread_stack_size, kWorkerStackBytes);
    return control;
}

/// What every parallel section sets while it runs: the worker stack size, and oneTBB's
/// process-wide worker cap at `threads` (the default caps it at the core count, which would leave
/// more threads than cores without their workers).
tbb::global_control scoped_parallelism(size_t threads) {
    (void)worker_stack_control();
    return tbb::global_control(tbb::global_control::max_allowed_parallelism, threads);
}

/// The executor's workers: body(0) on the calling thread and body(1..threads-1) as tasks of one
/// task_arena kept for the executor's lifetime (creating an arena for every run costs tens of
/// microseconds, and a block runs four). Block-STM workers cooperate through the scheduler, so
/// one thread running several bodies one after the other still completes the block.
class WorkerPool {
  public:
    explicit WorkerPool(size_t threads) : threads_(threads) {}
    template <class Body>
    void run(const Body& body) noexcept {
        const auto parallelism = scoped_parallelism(threads_);
        if (!arena_) {
            arena_ = std::make_unique<tbb::task_arena>(static_cast<int>(threads_));
        }
        arena_->execute([&] {
            tbb::task_group group;
            for (size_t i = 1; i < threads_; ++i) {
                group.run([&body, i] { body(i); });
            }
            body(0);
            group.wait();
        });
    }

  private:
    size_t threads_;
    std::unique_ptr<tbb::task_arena> arena_;
};

template <class Body>
void parallel_index(size_t n, size_t threads, const Body& body) noexcept {
    const auto parallelism = scoped_parallelism(threads);
    tbb::task_arena arena(static_cast<int>(threads));
    arena.execute([&] { tbb::parallel_for(size_t{0}, n, [&body](size_t i) { body(i); }); });
}
#endif

// --- the block overlay: fold of transaction write sets, and a reader over it ---------------------

/// The leading 64 bits of an address (big-endian: ordered as addresses are).
uint64_t address_lead(const Address& a) noexcept {
    uint64_t w = 0;
    std::memcpy(&w, a.bytes.data(), sizeof(w));
    return __builtin_bswap64(w);
}

/// The leading 64 bits of a storage slot.
uint64_t slot_lead(const U256& slot) noexcept { return slot.limbs[3]; }

std::optional<AccountInfo> apply_fee(std::optional<AccountInfo> acc, const U256& fee) noexcept {
    AccountInfo a = acc.value_or(AccountInfo{});
    a.balance += fee;
    if (a.is_empty()) {  // EIP-161: the credit touches the account
        return std::nullopt;
    }
    return a;
}

/// The state changes of the transactions executed so far, over the base state. Both executors
/// build the block diff with it, so their diffs have one canonical form.
class BlockOverlay {
  public:
    explicit BlockOverlay(StateReader& base) : base_(base) {}

    /// Room for `accounts` accounts without rehashing.
    void reserve(size_t accounts) { accounts_.reserve(accounts); }

    void merge(const AccountWrite& w) {
        Acc& a = accounts_[w.address];
        if (w.deleted) {
            a = Acc{};
            a.deleted = true;
            return;
        }
        if (w.storage_cleared || a.deleted) {
            if (a.deleted && !w.code) {
                a.code = Bytes{};  // the deleted account's code is gone
            }
            a.storage.clear();
            a.storage_cleared = true;
            a.deleted = false;
        }
        a.info = w.info;
        if (w.code) {
            a.code = w.code;
            if (!w.code->empty()) {
                codes_.try_emplace(w.info.code_hash, *w.code);
            }
        }
        for (const StorageWrite& s : w.storage) {
            a.storage[s.key] = s.value;
        }
    }

    /// A lazy credit (coinbase fee, plain-transfer value): create if absent, EIP-161 touch.
    void merge_fee(const Address& addr, const U256& fee) {
        auto it = accounts_.find(addr);
        std::optional<AccountInfo> before;
        if (it == accounts_.end()) {
            before = base_.read_account(addr);
        } else if (!it->second.deleted) {
            before = it->second.info;
        }
        const std::optional<AccountInfo> now = apply_fee(before, fee);
        if (now == before) {
            return;  // a zero credit to a live account (or to none) changes nothing
        }
        if (it == accounts_.end()) {
            it = accounts_.try_emplace(addr).first;
        }
        Acc& a = it->second;
        if (!now) {
            a = Acc{};
            a.deleted = true;
            return;
        }
        if (a.deleted) {
            a.code = Bytes{};
            a.storage.clear();
            a.storage_cleared = true;
            a.deleted = false;
        }
        a.info = *now;
    }

    void merge(const TxnResult& r, const Address& coinbase) {
        merge(r, coinbase, [](const Address&) { return true; });
    }

    /// Folds the changes of `r` to the addresses `keep` accepts. Changes to one address are
    /// independent of every other address's, so overlays over disjoint address sets can be built
    /// concurrently (each fed every transaction in order) and their diffs merged.
    template <class Keep>
    void merge(const TxnResult& r, const Address& coinbase, const Keep& keep) {
        for (const AccountWrite& w : r.writes.accounts) {
            if (keep(w.address)) {
                merge(w);
            }
        }
        if (r.value_credit && keep(r.value_credit->to)) {
            merge_fee(r.value_credit->to, r.value_credit->amount);
        }
        if (r.coinbase_fee && keep(coinbase)) {
            merge_fee(coinbase, *r.coinbase_fee);
        }
    }

    std::optional<AccountInfo> read_account(const Address& addr) noexcept {
        const auto it = accounts_.find(addr);
        if (it == accounts_.end()) {
            return base_.read_account(addr);
        }
        if (it->second.deleted) {
            return std::nullopt;
        }
        return it->second.info;
    }

    U256 read_storage(const Address& addr, const U256& key) noexcept {
        const auto it = accounts_.find(addr);
        if (it == accounts_.end()) {
            return base_.read_storage(addr, key);
        }
        const Acc& a = it->second;
        if (a.deleted) {
            return U256{};
        }
        if (const auto s = a.storage.find(key); s != a.storage.end()) {
            return s->second;
        }
        return a.storage_cleared ? U256{} : base_.read_storage(addr, key);
    }

    bool has_storage(const Address& addr) noexcept {
        // Same rule as MvMemory::has_storage: base storage unless the account was cleared (slots
        // written in the block imply a nonce, which collides first).
        const auto it = accounts_.find(addr);
        if (it == accounts_.end()) {
            return base_.has_storage(addr);
        }
        const Acc& a = it->second;
        return !a.deleted && !a.storage_cleared && base_.has_storage(addr);
    }

    ByteView read_code(const Hash32& h) noexcept {
        if (const auto it = codes_.find(h); it != codes_.end()) {
            return it->second;
        }
        return base_.read_code(h);
    }

    /// The diff, sorted by address.
    [[nodiscard]] TxnWrites diff() const {
        // Sorted through pointers: records with optional code are costly to swap around.
        const auto order = entries_by_spread_key(accounts_, address_lead);
        TxnWrites out;
        out.accounts.reserve(order.size());
        for (const auto* entry : order) {
            const Acc& a = entry->second;
            AccountWrite& w = out.accounts.emplace_back();
            w.address = entry->first;
            w.deleted = a.deleted;
            if (!a.deleted) {
                w.storage_cleared = a.storage_cleared;
                w.info = a.info;
                w.code = a.code;
                w.storage.reserve(a.storage.size());
                for (const auto* slot : entries_by_spread_key(a.storage, slot_lead)) {
                    w.storage.push_back(StorageWrite{slot->first, slot->second});
                }
            }
        }
        return out;
    }

  private:
    struct Acc {
        bool deleted = false;
        bool storage_cleared = false;
        AccountInfo info;
        std::optional<Bytes> code;
        std::unordered_map<U256, U256> storage;  // sorted by diff()
    };
    StateReader& base_;
    std::unordered_map<Address, Acc> accounts_;
    std::unordered_map<Hash32, Bytes> codes_;  // node-based: views stay valid
};

/// StateReader of one transaction over a BlockOverlay.
class OverlayReader final : public StateReader {
  public:
    explicit OverlayReader(BlockOverlay& o) noexcept : o_(o) {}
    std::optional<AccountInfo> read_account(const Address& addr) noexcept override {
        return o_.read_account(addr);
    }
    U256 read_storage(const Address& addr, const U256& key) noexcept override {
        return o_.read_storage(addr, key);
    }
    bool has_storage(const Address& addr) noexcept override { return o_.has_storage(addr); }
    ByteView read_code(const Hash32& h) noexcept override { return o_.read_code(h); }

  private:
    BlockOverlay& o_;
};

/// The fold partition of an address (of `parts`); any fixed function of the address will do.
size_t fold_part(const Address& a, size_t parts) noexcept {
    return (std::hash<Address>{}(a) >> 8) % parts;
}

/// Merges diffs over disjoint address sets, each sorted by address, into one sorted diff.
TxnWrites merge_diffs(std::vector<TxnWrites>& diffs) {
    if (diffs.size() == 1) {
        return std::move(diffs[0]);
    }
    size_t total = 0;
    for (const TxnWrites& d : diffs) {
        total += d.accounts.size();
    }
    TxnWrites out;
    out.accounts.reserve(total);
    std::vector<size_t> pos(diffs.size(), 0);
    for (;;) {
        size_t best = diffs.size();
        for (size_t p = 0; p < diffs.size(); ++p) {
            if (pos[p] < diffs[p].accounts.size() &&
                (best == diffs.size() ||
                 diffs[p].accounts[pos[p]].address < diffs[best].accounts[pos[best]].address)) {
                best = p;
            }
        }
        if (best == diffs.size()) {
            return out;
        }
        out.accounts.push_back(std::move(diffs[best].accounts[pos[best]++]));
    }
}

using Outcome = std::optional<Result<TxnResult, TxnError>>;

/// Runs txns [from, n) in order on the overlay, storing each outcome; stops after the first
/// invalid transaction (the block is invalid from there on).
void run_sequential(BlockOverlay& overlay, vm::Vm& vm, const BlockEnv& env,
                    std::span<const Transaction> txns, std::span<const Address> senders,
                    size_t from, std::vector<Outcome>& outcomes, BlockStats& stats) {
    for (size_t i = from; i < txns.size(); ++i) {
        OverlayReader reader(overlay);
        outcomes[i] = apply_transaction(reader, vm, env, txns[i], senders[i]);
        ++stats.executions;
        if (!*outcomes[i]) {
            return;
        }
        overlay.merge(**outcomes[i], env.coinbase);
    }
}

/// Receipts and gas in block order, with the block-level checks in the sequential order.
Result<BlockOutput, BlockError> assemble(const BlockEnv& env, std::span<const Transaction> txns,
                                         std::vector<Outcome>& outcomes) {
    BlockOutput out;
    out.receipts.reserve(txns.size());
    for (size_t i = 0; i < txns.size(); ++i) {
        const Transaction& txn = txns[i];
        if (const auto err = check_block_room(env, txn, out.gas_used, out.blob_gas_used)) {
            return unexpected(BlockError{i, *err});
        }
        PEL_ASSERT(outcomes[i].has_value(), "transaction left unexecuted");
        Result<TxnResult, TxnError>& r = *outcomes[i];
        if (!r) {
            return unexpected(BlockError{i, r.error()});
        }
        out.gas_used += r->receipt.gas_used;
        out.blob_gas_used += r->receipt.blob_gas_used;
        r->receipt.cumulative_gas_used = out.gas_used;
        out.receipts.push_back(std::move(r->receipt));
    }
    return out;
}

/// The pre-execution contention check: a transaction "collides" when its sender (whose nonce and
/// balance it reads) is the sender or plain-transfer recipient of one of the `threads`
/// transactions before it (those likely to run at the same time). Credits to a plain-transfer
/// recipient are lazy deltas and read nothing, so a shared recipient alone is no collision; calls
/// into contracts have unknown accesses (the runtime rule covers them). A block where at least
/// half the transactions collide is executed in order.
bool looks_dependent(std::span<const Transaction> txns, std::span<const Address> senders,
                     size_t threads) noexcept {
    constexpr size_t kMinTxns = 16;
    if (threads < 2 || txns.size() < kMinTxns) {
        return false;
    }
    const auto plain_to = [&](size_t i) -> const Address* {
        return txns[i].to && txns[i].data.empty() ? &*txns[i].to : nullptr;
    };
    const size_t window = std::min<size_t>(threads, 16);
    size_t colliding = 0;
    for (size_t i = 1; i < txns.size(); ++i) {
        for (size_t j = i > window ? i - window : 0; j < i; ++j) {
            const Address* to_j = plain_to(j);
            const bool hit = senders[i] == senders[j] || (to_j != nullptr && senders[i] == *to_j);
            if (hit) {
                ++colliding;
                break;
            }
        }
    }
    return colliding * 2 >= txns.size();
}

}  // namespace

// --- SequentialExecutor
// -----------------------------------------------------------------------------

SequentialExecutor::SequentialExecutor() : vm_(std::make_unique<vm::Vm>()) {}
SequentialExecutor::~SequentialExecutor() = default;

Result<BlockOutput, BlockError> SequentialExecutor::execute(const BlockEnv& env,
                                                            std::span<const Transaction> txns,
                                                            std::span<const Address> senders,
                                                            ConcurrentStateReader& base) noexcept {
    PEL_ASSERT(txns.size() == senders.size(), "one sender per transaction");
    BlockOverlay overlay(base);
    std::vector<Outcome> outcomes(txns.size());
    BlockStats stats;
    run_sequential(overlay, *vm_, env, txns, senders, 0, outcomes, stats);
    PEL_TRY(BlockOutput out, assemble(env, txns, outcomes));
    out.diff = overlay.diff();
    out.stats = std::move(stats);
    return out;
}

// --- ParallelExecutor
// -------------------------------------------------------------------------------

struct ParallelExecutor::Impl {
    explicit Impl(const ParallelOptions& o) : options(o) {
        options.threads = std::max<size_t>(options.threads, 1);
        PEL_ASSERT(options.threads <= size_t{UINT16_MAX} + 1, "at most 65,536 worker threads");
        for (size_t i = 0; i < options.threads; ++i) {
            vms.push_back(std::make_unique<vm::Vm>());
        }
    }

    /// Per-worker counters and conflict locations, merged after the run.
    struct alignas(64) WorkerStats {
        uint64_t executions = 0;
        uint64_t validations = 0;
        uint64_t aborts = 0;
        uint64_t dependency_waits = 0;
        std::vector<Location> conflicts;
        ReadSet reads;  ///< scratch: cleared per execution, copied by MvMemory::record
        /// `executions` as the other workers may read it (the contention rule): written only by
        /// the owner, with plain stores, so counting costs no shared read-modify-write.
        std::atomic<uint64_t> published_executions{0};
    };

    /// One block's run, shared by the workers. Kept by the executor from block to block (begin()
    /// starts the next one), so that the version memory, the scheduler's records and the outcome
    /// slots are reused rather than allocated, faulted in and freed for every block.
    ///
    /// Thread safety / Invariants: `mv` and `scheduler` synchronise themselves. outcomes[i] is
    /// written only by the thread executing transaction i's current incarnation, which the
    /// scheduler makes exclusive (executed_by[i] with it, by the same thread); once the scheduler
    /// is done (no task left or active, so no outcome changes any more) the workers read it in
    /// finish_block's steps (`post`, whose comment has the rules), or after WorkerPool::run()
    /// joined every worker (by the fold threads concurrently, read only, each then releasing its
    /// own part of `mv`). stats[id] belongs to worker `id`. The counters and flags are atomics;
    /// `fell_back` and `failed` only ever go from false to true (`fell_back` only while a task is
    /// active, so never after done()).
    struct Run {
        BlockEnv env;
        std::span<const Transaction> txns;
        std::span<const Address> senders;
        MvMemory mv;
        Scheduler scheduler;
        std::vector<Outcome> outcomes;
        /// The worker whose execution wrote outcomes[i] last (written with it): the
        /// completion's last step has each worker free what its own executions allocated, so
        /// that the memory goes back to the thread cache it came from and the next block's
        /// executions on that worker reuse lines in their own core's cache.
        std::vector<uint16_t> executed_by;
        /// Every slot of `outcomes` is empty (the completion's last step reset them): the next
        /// begin() only resizes, instead of walking the block's slots twice.
        bool outcomes_empty = false;
        std::vector<WorkerStats> stats;
        std::atomic<uint64_t> executions{0};  ///< counted only for test_fallback_after_executions
        std::atomic<uint64_t> conflicts{0};
        /// The conflicts that wasted an execution: aborts and dependency waits (the rest are
        /// near reads, which only predict conflicts).
        std::atomic<uint64_t> wasted{0};
        /// Where the contention rule's current window started (taken only on conflicts).
        internal::SpinLock window_mu;
        uint64_t window_executions = 0;
        uint64_t window_conflicts = 0;
        uint64_t window_wasted = 0;
        /// Contended windows in a row (the rule needs two: see note_conflict).
        unsigned window_strikes = 0;
        std::atomic<bool> fell_back{false};
        std::atomic<bool> failed{false};

        /// The block's completion after the Block-STM loop, done by the same workers in the same
        /// WorkerPool::run (see Impl::finish_block). Each step is cut into parts that any worker
        /// claims (claim[step]) and counts when done (done[step]); a worker waits for a step's
        /// last part before the next step, doing parts itself meanwhile, so no step depends on
        /// a given thread being there. A step's outputs are written only by the part's claimer
        /// and read after the step's done count is complete. Every worker takes the same
        /// decisions between steps (from outputs and flags that no longer change).
        struct Post {
            static constexpr size_t kSteps = 5;
            std::array<std::atomic<size_t>, kSteps> claim{};
            std::array<std::atomic<size_t>, kSteps> done{};
            /// Parts of the scan, of the collection (shards) and of the freeing: one per worker.
            size_t parts = 1;
            /// Destination parts (address ranges, MvMemory::final_part_of) of the diff: several
            /// per worker, claimed one at a time, so that one part with much more to sort (a
            /// token's balance slots) does not leave the other workers idle.
            size_t dest_parts = 1;
            std::vector<size_t> first_invalid;  ///< per part of the scan: lowest invalid index
            /// found[collecting part][destination part]; the vectors keep their capacity from
            /// block to block.
            std::vector<std::vector<FinalPart>> found;
            /// Per collecting part: collect_final succeeded (step 1); per destination part: its
            /// diff was built (step 2). Two vectors, as a late worker may still read step 1's
            /// while others write step 2's.
            std::vector<uint8_t> collected;
            std::vector<uint8_t> built;
            std::vector<TxnWrites> diffs;  ///< per destination part
            std::optional<Result<BlockOutput, BlockError>> assembled;
            TxnWrites merged;
            /// The whole completion finished (assembled and merged set, outcomes freed); set by
            /// every worker that saw it finish.
            std::atomic<bool> complete{false};
            /// Per part of the owned step (the freeing): taken, by its worker first (see
            /// run_owned_step).
            std::unique_ptr<std::atomic<bool>[]> owned;
        };
        Post post;

        explicit Run(size_t threads, size_t max_batch)
            : mv(threads), scheduler(0, threads, max_batch), stats(threads) {
            constexpr size_t kDestPartsPerWorker = 4;
            post.parts = threads;
            post.dest_parts = threads > 1 ? kDestPartsPerWorker * threads : 1;
            post.found.assign(post.parts, std::vector<FinalPart>(post.dest_parts));
            post.owned = std::make_unique<std::atomic<bool>[]>(post.parts);
        }

        void begin(const BlockEnv& e, std::span<const Transaction> t, std::span<const Address> s,
                   ConcurrentStateReader& base) {
            env = e;
            txns = t;
            senders = s;
            mv.reset(base, t.size(), &env.coinbase);
            scheduler.reset(t.size());
            if (!outcomes_empty) {
                outcomes.clear();
            }
            outcomes.resize(t.size());
            executed_by.resize(t.size());
            outcomes_empty = false;
            for (WorkerStats& ws : stats) {
                ws.executions = 0;
                ws.validations = 0;
                ws.aborts = 0;
                ws.dependency_waits = 0;
                ws.conflicts.clear();
                ws.published_executions.store(0);
            }
            executions.store(0);
            conflicts.store(0);
            wasted.store(0);
            window_executions = 0;
            window_conflicts = 0;
            window_wasted = 0;
            window_strikes = 0;
            fell_back.store(false);
            failed.store(false);
            for (size_t i = 0; i < Post::kSteps; ++i) {
                post.claim[i].store(0);
                post.done[i].store(0);
            }
            post.first_invalid.assign(post.parts, t.size());
            for (std::vector<FinalPart>& row : post.found) {
                for (FinalPart& f : row) {
                    f.accounts.clear();
                    f.slots.clear();
                }
            }
            post.collected.assign(post.parts, 1);
            post.built.assign(post.dest_parts, 1);
            post.diffs.assign(post.dest_parts, TxnWrites{});
            post.assembled.reset();
            post.merged = TxnWrites{};
            post.complete.store(false);
            for (size_t i = 0; i < post.parts; ++i) {
                post.owned[i].store(false);
            }
        }

        /// Ends the block: frees the outcomes (the versions were dropped by the fold).
        void end(WorkerPool& workers, size_t threads) {
            // The results (what the receipts left of them) are freed by all threads, in ranges.
            constexpr size_t kMinParallelFree = 256;
            if (threads > 1 && outcomes.size() >= kMinParallelFree) {
                workers.run([&](size_t part) noexcept {
                    const size_t lo = part * outcomes.size() / threads;
                    const size_t hi = (part + 1) * outcomes.size() / threads;
                    for (size_t i = lo; i < hi; ++i) {
                        outcomes[i].reset();
                    }
                });
            }
            outcomes.clear();
        }
    };

    Scheduler::Task try_execute(Run& run, Version v, vm::Vm& vm, WorkerStats& ws, size_t worker) {
        // The transaction's outcome slot (456 bytes, in an array of the block's size) and its
        // MvMemory record are written once it has run: start loading them now, so that the
        // misses overlap the execution instead of following it.
        internal::prefetch_for_write(&run.outcomes[v.txn_idx], sizeof(Outcome));
        run.mv.prefetch_record(v.txn_idx, worker);
        if (v.txn_idx + 1 < run.txns.size()) {  // usually this worker's next transaction
            internal::prefetch_for_read(&run.txns[v.txn_idx + 1], sizeof(Transaction));
        }
        for (;;) {
            ReadSet& reads = ws.reads;
            reads.clear();
            MvReader reader(run.mv, v.txn_idx, reads);
            Result<TxnResult, TxnError> r =
                apply_transaction(reader, vm, run.env, run.txns[v.txn_idx], run.senders[v.txn_idx],
                                  nullptr, /*defer_coinbase_fee=*/true);
            ++ws.executions;
            ws.published_executions.store(ws.executions, std::memory_order_relaxed);
            if (options.test_fallback_after_executions != 0 &&
                run.executions.fetch_add(1, std::memory_order_relaxed) + 1 >=
                    options.test_fallback_after_executions) [[unlikely]] {
                run.fell_back.store(true, std::memory_order_relaxed);
                run.scheduler.halt();
            }
            if (const auto blocking = reader.blocking()) [[unlikely]] {
                ++ws.dependency_waits;
                note_conflict(run, v.txn_idx, true);
                if (run.scheduler.add_dependency(v.txn_idx, *blocking)) {
                    return Scheduler::Task{};
                }
                continue;  // the blocker finished meanwhile: its writes are there now
            }
            if (options.fallback) {
                // A read of what one of the `threads` transactions just below wrote: they ran
                // (or run) at the same time, so such reads are what makes optimism fail. Counted
                // with the conflicts by the contention rule (not in the statistics): a block
                // where most transactions read their predecessors' writes (one hot contract
                // slot) falls back before its aborts pile up behind the validation front.
                const std::optional<TxnIndex> src = reader.newest_source();
                if (src && v.txn_idx - *src <= std::min<size_t>(options.threads, 16)) [[unlikely]] {
                    note_conflict(run, v.txn_idx, false);
                }
            }
            bool wrote_new = false;
            if (r) {
                // At most two lazy credits, one entry per address, each constructed with its
                // value (a default-constructed pair was zero-filled first, with `rep stos`).
                const auto& credit = r->value_credit;
                const auto& fee = r->coinbase_fee;
                const auto record = [&](std::span<const BalanceDelta> deltas) {
                    return run.mv.record(v, r->writes, deltas, reads, worker);
                };
                if (credit && fee && credit->to != run.env.coinbase) {
                    const std::array<BalanceDelta, 2> deltas{
                        BalanceDelta{credit->to, credit->amount},
                        BalanceDelta{run.env.coinbase, *fee}};
                    wrote_new = record(deltas);
                } else if (credit) {
                    const BalanceDelta delta{credit->to,
                                             fee ? credit->amount + *fee : credit->amount};
                    wrote_new = record({&delta, 1});
                } else if (fee) {
                    const BalanceDelta delta{run.env.coinbase, *fee};
                    wrote_new = record({&delta, 1});
                } else {
                    wrote_new = record({});
                }
            } else {
                wrote_new = run.mv.record_empty(v, reads, worker);
            }
            run.outcomes[v.txn_idx] = std::move(r);
            run.executed_by[v.txn_idx] = static_cast<uint16_t>(worker);
            return run.scheduler.finish_execution(v, wrote_new);
        }
    }

    Scheduler::Task validate(Run& run, Version v, WorkerStats& ws) {
        ++ws.validations;
        Location where;
        const bool valid = run.mv.validate_read_set(v.txn_idx, &where);
        const bool aborted = !valid && run.scheduler.try_validation_abort(v);
        if (aborted) [[unlikely]] {
            ++ws.aborts;
            ws.conflicts.push_back(where);
            note_conflict(run, v.txn_idx, true);
            run.mv.convert_writes_to_estimates(v.txn_idx);
        }
        return run.scheduler.finish_validation(v.txn_idx, aborted);
    }

    /// `wasted`: an abort or a dependency wait (not a near read) of transaction `txn_idx`.
    void note_conflict(Run& run, TxnIndex txn_idx, bool wasted) noexcept {
        // The first conflict ends the batches; the conflicts of transactions that may have run
        // in one (a batch runs at the same time as the other workers' whole batches) do not
        // count for the contention rule, or batches alone would make a block look contended.
        const bool batched = run.scheduler.maybe_batched(txn_idx);
        run.scheduler.limit_batches();
        if (batched) {
            return;
        }
        const uint64_t c = run.conflicts.fetch_add(1, std::memory_order_relaxed) + 1;
        const uint64_t wc = wasted ? run.wasted.fetch_add(1, std::memory_order_relaxed) + 1
                                   : run.wasted.load(std::memory_order_relaxed);
        if (!options.fallback || c < options.fallback_min_conflicts) {
            return;
        }
        uint64_t executed = 0;
        for (const WorkerStats& w : run.stats) {
            executed += w.published_executions.load(std::memory_order_relaxed);
        }
        bool contended = c * 3 >= executed;
        if (!contended) {
            // The same rule over the executions since the window started, so that contention
            // that begins late in a block (after a long conflict-free stretch) is caught as early.
            const std::lock_guard lock(run.window_mu);
            const uint64_t window_execs = executed - std::min(executed, run.window_executions);
            const uint64_t window_conflicts = c - std::min(c, run.window_conflicts);
            const uint64_t window_wasted = wc - std::min(wc, run.window_wasted);
            if (window_execs >= kContentionWindow) {
                // Two contended windows in a row, not one, and near reads weigh less than wasted
                // executions: with more workers than cores, a worker descheduled in the middle
                // of a transaction leaves a burst of aborts and near reads behind it when it
                // resumes (amm over 100 pools at 4 threads on 2 cores: 31-51 conflicts, mostly
                // near reads, in one window of 64-114 executions, under 15% over the block; the
                // mixed workload the same, and it still ran 1.41x faster than in order without
                // the fallback). Contention that really starts late in a block lasts: a hot slot
                // makes nearly every execution read its predecessor's write, or wait for it.
                const uint64_t min = options.fallback_min_conflicts;
                const bool hot =
                    (window_wasted >= min && window_wasted * 3 >= window_execs) ||
                    (window_conflicts >= min && window_conflicts * 3 >= window_execs * 2);
                run.window_strikes = hot ? run.window_strikes + 1 : 0;
                contended = run.window_strikes >= kContendedWindows;
                run.window_executions = executed;
                run.window_conflicts = c;
                run.window_wasted = wc;
            }
        }
        if (contended) {
            run.fell_back.store(true, std::memory_order_relaxed);
            run.scheduler.halt();
        }
    }

    /// An empty next_task is usually a claim that skipped an index (a validation of a
    /// transaction still executing, an execution already taken): the index moved on, so asking
    /// again at once usually finds work. Only a longer empty stretch pauses, then yields the core
    /// (more threads than cores must not starve the ones with work).
    static constexpr unsigned kRetriesBeforePause = 8;
    static constexpr unsigned kRetriesBeforeYield = 64;

    /// Executions per window of the runtime contention rule, and the contended windows in a row
    /// that trip it.
    static constexpr uint64_t kContentionWindow = 64;
    static constexpr unsigned kContendedWindows = 2;

    void worker(Run& run, size_t id) noexcept {
        try {
            vm::Vm& vm = *vms[id];
            WorkerStats& ws = run.stats[id];
            Scheduler::Task task;
            unsigned idle = 0;  // next_task calls in a row that found nothing
            while (!run.scheduler.done()) {
                if (task.kind == Scheduler::TaskKind::kExecute) {
                    task = try_execute(run, task.version, vm, ws, id);
                } else if (task.kind == Scheduler::TaskKind::kValidate) {
                    task = validate(run, task.version, ws);
                } else {
                    task = run.scheduler.next_task(id);
                    if (task.kind != Scheduler::TaskKind::kNone) {
                        idle = 0;
                    } else if (++idle > kRetriesBeforeYield) {
                        std::this_thread::yield();
                        idle = 0;
                    } else if (idle > kRetriesBeforePause) {
                        internal::cpu_relax();
                    }
                }
            }
            finish_block(run, id);
        } catch (...) {
            // Allocation failure: stop everyone; execute() reports it by terminating.
            run.failed.store(true);
            run.scheduler.halt();
        }
    }

    /// The diff of outcomes [0, end) (all present and valid), folded on `threads` threads: each
    /// folds, in transaction order, the changes to the addresses of its partition into its own
    /// overlay; the sorted partial diffs are merged by address. Each thread then frees its share
    /// of the MvMemory, which nothing reads any more once the workers have finished.
    static TxnWrites fold_parallel(Run& run, size_t end, ConcurrentStateReader& base,
                                   size_t threads, WorkerPool& pool) {
        std::vector<TxnWrites> diffs(threads);
        const auto body = [&](size_t part) noexcept {
            BlockOverlay overlay(base);
            // About two accounts per transaction (sender, recipient) split over the parts.
            overlay.reserve(2 * end / threads + 16);
            const auto keep = [&](const Address& a) {
                return threads == 1 || fold_part(a, threads) == part;
            };
            for (size_t i = 0; i < end; ++i) {
                overlay.merge(**run.outcomes[i], run.env.coinbase, keep);
            }
            diffs[part] = overlay.diff();
        };
        if (threads == 1) {
            body(0);
        } else {
            pool.run(body);
        }
        return merge_diffs(diffs);
    }

    /// The address's leading 8 bytes, the next 8 and the last 4, as big-endian integers: address
    /// order is their order.
    static std::array<uint64_t, 3> address_words(const Address& a) noexcept {
        uint64_t w1 = 0;
        uint32_t w2 = 0;
        std::memcpy(&w1, a.bytes.data() + 8, sizeof(w1));
        std::memcpy(&w2, a.bytes.data() + 16, sizeof(w2));
        return {address_lead(a), __builtin_bswap64(w1), __builtin_bswap32(w2)};
    }

    /// Step 3 of finish_block for destination part `d`: its final accounts and slots from every
    /// collecting part, sorted (through small keys that point at the records, which are not
    /// copied), as AccountWrites in post.diffs[d]. False when a slots-only account has no header
    /// (the in-order fold must decide).
    static bool build_final_part(Run& run, size_t d, size_t parts) {
        struct AccountKey {
            uint64_t key;  ///< the address's leading 8 bytes
            const FinalAccount* rec;
        };
        struct SlotKey {
            uint64_t key;  ///< w[0], or the slot's leading 8 bytes when every address is equal
            std::array<uint64_t, 3> w;  ///< address_words
            uint64_t slot_hi;
            const FinalSlot* rec;
        };
        std::vector<AccountKey> accounts;
        std::vector<SlotKey> slots;
        for (size_t src = 0; src < parts; ++src) {
            const FinalPart& f = run.post.found[src][d];
            for (const FinalAccount& a : f.accounts) {
                accounts.push_back(AccountKey{address_lead(a.address), &a});
            }
            for (const FinalSlot& sl : f.slots) {
                const auto w = address_words(sl.address);
                slots.push_back(SlotKey{w[0], w, slot_lead(sl.slot), &sl});
            }
        }
        std::vector<AccountKey> account_scratch;
        sort_by_spread_key(accounts, account_scratch, [](const AccountKey& x, const AccountKey& y) {
            return x.rec->address < y.rec->address;
        });
        // One contract's slots (a token's balances) share one address: their slots spread, not
        // the address.
        if (!slots.empty() && std::all_of(slots.begin(), slots.end(),
                                          [&](const SlotKey& k) { return k.w == slots[0].w; })) {
            for (SlotKey& k : slots) {
                k.key = k.slot_hi;
            }
        }
        std::vector<SlotKey> slot_scratch;
        sort_by_spread_key(slots, slot_scratch, [](const SlotKey& x, const SlotKey& y) {
            if (x.w != y.w) {
                return x.w < y.w;
            }
            return x.slot_hi != y.slot_hi ? x.slot_hi < y.slot_hi : x.rec->slot < y.rec->slot;
        });
        const auto end = static_cast<TxnIndex>(run.txns.size());
        TxnWrites& out = run.post.diffs[d];
        out.accounts.reserve(accounts.size() + 8);
        size_t a = 0;
        size_t sl = 0;
        while (a < accounts.size() || sl < slots.size()) {
            const bool take_account =
                a < accounts.size() &&
                (sl == slots.size() || !(slots[sl].rec->address < accounts[a].rec->address));
            const Address addr = take_account ? accounts[a].rec->address : slots[sl].rec->address;
            AccountWrite& w = out.accounts.emplace_back();
            w.address = addr;
            if (take_account) {
                w.info = accounts[a++].rec->info;
            } else {
                // Slots only: the transactions kept the header as they read it.
                const auto now = run.mv.read_account(end, addr);
                if (!now.value) {
                    return false;
                }
                w.info = *now.value;
            }
            for (; sl < slots.size() && slots[sl].rec->address == addr; ++sl) {
                w.storage.push_back(StorageWrite{slots[sl].rec->slot, slots[sl].rec->value});
            }
        }
        return true;
    }

    /// Concatenates diffs over consecutive address ranges (MvMemory::final_part_of), each sorted
    /// by address, into one sorted diff.
    static TxnWrites concat_diffs(std::vector<TxnWrites>& diffs) {
        size_t total = 0;
        for (const TxnWrites& d : diffs) {
            total += d.accounts.size();
        }
        TxnWrites out;
        out.accounts.reserve(total);
        for (TxnWrites& d : diffs) {
            std::move(d.accounts.begin(), d.accounts.end(), std::back_inserter(out.accounts));
            d.accounts.clear();  // the moved-from records, here rather than in the next begin()
        }
        return out;
    }

    /// Runs step `step` of the completion: claims parts until none is left, then waits until
    /// every part is done (a late or absent thread only leaves its parts to the others). False
    /// when a worker failed (allocation): the others stop waiting.
    static bool run_step(Run& run, size_t step, size_t parts, const auto& body) {
        Run::Post& p = run.post;
        for (size_t part = p.claim[step].fetch_add(1); part < parts;
             part = p.claim[step].fetch_add(1)) {
            body(part);
            p.done[step].fetch_add(1);
        }
        return wait_step(run, step, parts);
    }

    /// run_step() for a step of one part per worker where part w is best done by worker w: each
    /// worker takes its own part first, then any part still untaken (a late or absent worker's).
    static bool run_owned_step(Run& run, size_t step, size_t worker, const auto& body) {
        Run::Post& p = run.post;
        const auto take = [&](size_t part) {
            if (!p.owned[part].exchange(true)) {
                body(part);
                p.done[step].fetch_add(1);
            }
        };
        if (worker < p.parts) {
            take(worker);
        }
        for (size_t part = 0; part < p.parts; ++part) {
            take(part);
        }
        return wait_step(run, step, p.parts);
    }

    /// Waits until every part of step `step` is done; false when a worker failed.
    static bool wait_step(Run& run, size_t step, size_t parts) {
        const Run::Post& p = run.post;
        unsigned spins = 0;
        while (p.done[step].load() < parts) {
            if (run.failed.load(std::memory_order_relaxed)) {
                return false;
            }
            if (++spins < kRetriesBeforeYield) {
                internal::cpu_relax();
            } else {
                std::this_thread::yield();
                spins = 0;
            }
        }
        return true;
    }

    /// The block's completion, when no fallback was taken, every transaction is valid and none
    /// deleted, re-created or deployed anything: the diff is read straight from the final
    /// versions (no second pass over the transactions' results) and the receipts assembled, by
    /// the workers still running (each step of it as a separate WorkerPool::run would often find
    /// the second thread asleep and run both halves on one). Steps: scan the outcomes (all
    /// executed; the first invalid); collect each part's final versions by destination part;
    /// sort and assemble each destination part's diff; assemble the receipts (one part) and
    /// concatenate the diffs (the other); free the outcomes (each worker those it executed, see
    /// run_owned_step). A step that finds the fast path closed
    /// stops every worker there (execute() then goes the general way; the versions are untouched,
    /// and stay until the next block's reset() abandons them).
    void finish_block(Run& run, size_t worker) {
        Run::Post& p = run.post;
        const size_t parts = p.parts;
        const size_t n = run.txns.size();
        if (run.fell_back.load() || run.failed.load()) {
            return;
        }
        // 1. Every outcome present and executed; the lowest invalid transaction per range.
        if (!run_step(run, 0, parts, [&](size_t part) {
                const size_t lo = part * n / parts;
                const size_t hi = (part + 1) * n / parts;
                for (size_t i = lo; i < hi; ++i) {
                    const Outcome& o = run.outcomes[i];
                    // A transaction left suspended or aborted would leave a stale outcome here.
                    PEL_ASSERT(o.has_value() &&
                                   run.scheduler.is_executed(static_cast<TxnIndex>(i), nullptr),
                               "Block-STM finished with an unexecuted transaction");
                    if (!*o) {
                        p.first_invalid[part] = i;
                        break;
                    }
                }
            })) {
            return;
        }
        const size_t end = *std::min_element(p.first_invalid.begin(), p.first_invalid.end());
        if (end != n || run.mv.has_complex_writes()) {
            return;
        }
        // 2. Final versions by destination part.
        if (!run_step(run, 1, parts,
                      [&](size_t part) {
                          p.collected[part] =
                              run.mv.collect_final(part, parts, p.found[part]) ? 1 : 0;
                      }) ||
            std::find(p.collected.begin(), p.collected.end(), 0) != p.collected.end()) {
            return;
        }
        // 3. Each destination part's diff, sorted.
        if (!run_step(run, 2, p.dest_parts,
                      [&](size_t d) { p.built[d] = build_final_part(run, d, parts) ? 1 : 0; }) ||
            std::find(p.built.begin(), p.built.end(), 0) != p.built.end()) {
            return;
        }
        // 4. Receipts and the merged diff, side by side.
        if (!run_step(run, 3, 2, [&](size_t task) {
                if (task == 0) {
                    p.assembled.emplace(assemble(run.env, run.txns, run.outcomes));
                } else {
                    p.merged = concat_diffs(p.diffs);
                }
            })) {
            return;
        }
        // 5. The results (what the receipts left of them), each freed by the worker that
        // executed it.
        if (!run_owned_step(run, 4, worker, [&](size_t part) {
                for (size_t i = 0; i < n; ++i) {
                    if (run.executed_by[i] == part) {
                        run.outcomes[i].reset();
                    }
                }
            })) {
            return;
        }
        p.complete.store(true);
    }

    ParallelOptions options;
    std::vector<std::unique_ptr<vm::Vm>> vms;
    WorkerPool pool{std::max<size_t>(options.threads, 1)};
    /// The block state, reused by every block this executor runs.
    std::unique_ptr<Run> block_run;
};

ParallelExecutor::ParallelExecutor(const ParallelOptions& options)
    : impl_(std::make_unique<Impl>(options)) {}
ParallelExecutor::~ParallelExecutor() = default;

Result<BlockOutput, BlockError> ParallelExecutor::execute(const BlockEnv& env,
                                                          std::span<const Transaction> txns,
                                                          std::span<const Address> senders,
                                                          ConcurrentStateReader& base) noexcept {
    PEL_ASSERT(txns.size() == senders.size(), "one sender per transaction");
    PEL_ASSERT(txns.size() < UINT32_MAX, "block too large");
    Impl& m = *impl_;
    if (m.options.fallback && looks_dependent(txns, senders, m.options.threads)) {
        // A chain of transfers gains nothing from optimism: run it in order from the start.
        BlockOverlay overlay(base);
        std::vector<Outcome> outcomes(txns.size());
        BlockStats stats;
        run_sequential(overlay, *m.vms[0], env, txns, senders, 0, outcomes, stats);
        stats.fallback = "sequential (dependent block detected before execution)";
        PEL_TRY(BlockOutput out, assemble(env, txns, outcomes));
        out.diff = overlay.diff();
        out.stats = std::move(stats);
        return out;
    }
    using Clock = std::chrono::steady_clock;
    const auto ms = [](Clock::time_point a, Clock::time_point b) {
        return std::chrono::duration<double, std::milli>(b - a).count();
    };
    const Clock::time_point t0 = Clock::now();
    if (!m.block_run) {
        m.block_run = std::make_unique<Impl::Run>(m.options.threads, m.options.max_batch);
    }
    Impl::Run& run = *m.block_run;
    run.begin(env, txns, senders, base);
    const Clock::time_point t1 = Clock::now();
    m.pool.run([&](size_t id) noexcept { m.worker(run, id); });
    PEL_ASSERT(!run.failed.load(), "Block-STM worker failed (out of memory)");
    const Clock::time_point t2 = Clock::now();

    BlockStats stats;
    for (const Impl::WorkerStats& ws : run.stats) {
        stats.executions += ws.executions;
        stats.validations += ws.validations;
        stats.aborts += ws.aborts;
        stats.dependency_waits += ws.dependency_waits;
    }
    BlockOverlay overlay(base);
    std::optional<TxnWrites> folded;  // the diff, when the parallel fold built it
    // The workers completed the block themselves (finish_block): diff and receipts.
    const bool completed = run.post.complete.load();
    if (completed) {
        stats.diff_from_versions = true;
    } else if (run.fell_back.load()) {
        // Keep the longest prefix whose last incarnations executed and still validate (every
        // lower transaction is final by then, so the check is exact), then go on in order.
        size_t prefix = 0;
        while (prefix < txns.size()) {
            const auto idx = static_cast<TxnIndex>(prefix);
            if (!run.scheduler.is_executed(idx, nullptr) || !run.outcomes[prefix] ||
                !run.mv.validate_read_set(idx, nullptr)) {
                break;
            }
            ++stats.validations;
            const Result<TxnResult, TxnError>& r = *run.outcomes[prefix];
            ++prefix;
            if (!r) {
                break;  // invalid: the block ends here either way
            }
            overlay.merge(*r, env.coinbase);
        }
        stats.fallback = "sequential after contention";
        stats.fallback_from = prefix;
        const bool prefix_invalid =
            prefix > 0 && run.outcomes[prefix - 1] && !*run.outcomes[prefix - 1];
        if (!prefix_invalid) {
            for (size_t i = prefix; i < txns.size(); ++i) {
                run.outcomes[i].reset();
            }
            run_sequential(overlay, *m.vms[0], env, txns, senders, prefix, run.outcomes, stats);
        }
    } else {
        size_t end = 0;  // the valid prefix: the block ends at its first invalid transaction
        for (; end < run.outcomes.size(); ++end) {
            const Outcome& o = run.outcomes[end];
            // A transaction left suspended or aborted would leave a stale outcome here.
            PEL_ASSERT(
                o.has_value() && run.scheduler.is_executed(static_cast<TxnIndex>(end), nullptr),
                "Block-STM finished with an unexecuted transaction");
            if (!*o) {
                break;
            }
        }
        // finish_block found the block outside its fast path (an invalid transaction, a
        // deployment or deletion, an account the in-order rules must decide): fold in order.
        folded = Impl::fold_parallel(run, end, base, m.options.threads, m.pool);
    }
    stats.re_executions = stats.executions > txns.size() ? stats.executions - txns.size() : 0;

    // Conflict report: the most frequent abort locations.
    std::vector<ConflictCount> counts;
    for (const Impl::WorkerStats& ws : run.stats) {
        for (const Location& loc : ws.conflicts) {
            auto it = std::find_if(counts.begin(), counts.end(),
                                   [&](const ConflictCount& c) { return c.location == loc; });
            if (it == counts.end()) {
                counts.push_back(ConflictCount{loc, 1});
            } else {
                ++it->count;
            }
        }
    }
    std::stable_sort(
        counts.begin(), counts.end(),
        [](const ConflictCount& a, const ConflictCount& b) { return a.count > b.count; });
    constexpr size_t kTopConflicts = 8;
    if (counts.size() > kTopConflicts) {
        counts.resize(kTopConflicts);
    }
    stats.top_conflicts = std::move(counts);

    if (completed) {
        run.outcomes_empty = true;  // freed by the workers already (the completion's last step)
        PEL_TRY(BlockOutput out, std::move(*run.post.assembled));
        out.diff = std::move(run.post.merged);
        const Clock::time_point t3 = Clock::now();
        stats.setup_ms = ms(t0, t1);
        stats.workers_ms = ms(t1, t2);
        stats.finish_ms = ms(t2, t3);
        out.stats = std::move(stats);
        return out;
    }
    // Truncate outcomes after a fallback's invalid transaction are absent; assemble stops first.
    PEL_TRY(BlockOutput out, assemble(env, txns, run.outcomes));
    out.diff = folded ? std::move(*folded) : overlay.diff();
    const Clock::time_point t3 = Clock::now();
    run.end(m.pool, m.options.threads);
    const Clock::time_point t4 = Clock::now();
    stats.setup_ms = ms(t0, t1);
    stats.workers_ms = ms(t1, t2);
    stats.finish_ms = ms(t2, t3);
    stats.teardown_ms = ms(t3, t4);
    out.stats = std::move(stats);
    return out;
}

// --- sender recovery
// ----------------------------------------------------------------------------------

Result<std::vector<Address>, size_t> recover_senders(std::span<const Transaction> txns,
                                                     size_t threads) noexcept {
    // In chunks, each through recover_sender_many (its hashing shares keccak256_many's lanes), of
    // at most 32 and small enough that a short block still gives every thread a chunk.
    constexpr size_t kMaxChunk = 32;
    const size_t t = std::max<size_t>(threads, 1);
    const size_t chunk_size = std::clamp<size_t>((txns.size() + t - 1) / t, 1, kMaxChunk);
    std::vector<Address> out(txns.size());
    std::vector<uint8_t> ok(txns.size(), 0);
    const auto body = [&](size_t chunk) noexcept {
        const size_t begin = chunk * chunk_size;
        const size_t end = std::min(begin + chunk_size, txns.size());
        std::array<const Transaction*, kMaxChunk> ptrs{};
        for (size_t i = begin; i < end; ++i) ptrs[i - begin] = &txns[i];
        const auto got = recover_sender_many(std::span(ptrs.data(), end - begin));
        for (size_t i = begin; i < end; ++i) {
            if (const auto& r = got[i - begin]) {
                out[i] = *r;
                ok[i] = 1;
            }
        }
    };
    const size_t chunks = (txns.size() + chunk_size - 1) / chunk_size;
    if (threads <= 1 || chunks < 2) {
        for (size_t c = 0; c < chunks; ++c) {
            body(c);
        }
    } else {
        parallel_index(chunks, threads, body);
    }
    for (size_t i = 0; i < txns.size(); ++i) {
        if (ok[i] == 0) {
            return unexpected(i);
        }
    }
    return out;
}

}  // namespace pel::exec
