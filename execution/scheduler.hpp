// SPDX-License-Identifier: Apache-2.0
// exec::Scheduler: Block-STM's collaborative scheduler (Gelashvili et al., PPoPP 2023, section 4).
// Worker threads ask it for the next task: execute a version, or validate one. Two shared indices
// walk the block: execution_idx (next transaction to execute) and validation_idx (next to
// validate); both move back (decrease) when an abort or a new write makes earlier work stale.
//
// Thread safety / Invariants:
//  - All methods may be called concurrently from any number of workers.
//  - Each transaction has a status {kReadyToExecute, kExecuting, kExecuted, kAborting} and an
//    incarnation number, one atomic word written only under its own (spin) lock; claiming a
//    validation and is_executed() read the word without the lock (a snapshot: the abort
//    rechecks under the lock). The word carries the block's epoch: a record left from an
//    earlier block reads as incarnation 0, kReadyToExecute, no dependents, so reset() writes no
//    record and each is renewed under its lock by its first use in the block (by the worker
//    that uses it). Only the thread that moved a transaction to
//    kExecuting (try_incarnate) executes it, and only the thread whose try_validation_abort
//    succeeded aborts it; that gives one owner at a time for a transaction's MvMemory writes.
//  - A transaction suspended on a dependency is in kAborting and listed in its blocker's
//    dependency list; both happen under the blocker's lock (with the transaction's own lock
//    nested inside: lower index first, the only nesting), so the blocker's finish_execution
//    always finds it suspended when it resumes it (kReadyToExecute with the next incarnation)
//    and pulls execution_idx back to it.
//  - Batches: far from the end of the block (execution; only until the block's first conflict,
//    see limit_batches) or far behind execution_idx (validation), a worker claims up to
//    max_batch consecutive indices with one fetch_add and
//    keeps them in its own Local range, then hands them to itself one by one (so the shared index
//    lines are written once per batch, not once per transaction). Every claimed index is still
//    handed out exactly once by its claimer, in order; a later decrease of the shared index may
//    hand an index out again, which try_incarnate's status check (execution) and the status check
//    under the transaction's lock (validation) make harmless, exactly as for a claimer delayed
//    between its fetch_add and its use of the index. A Local range is read and written only by
//    its worker.
//  - Own validation: a worker remembers its last kOwnRanges execution claims and validates each
//    itself once it has executed all of it and the sweep stands exactly at its start (claimed
//    with a compare-exchange from that start to its end, so the range is handed out once, like
//    a fetch_add batch): the transactions' records are then in this core's cache. Meanwhile
//    the other workers leave the sweep's transaction to its executor and execute, unless the
//    sweep is lag_limit or more behind execution_idx or there is nothing left to execute; then
//    anyone validates, so a slow or descheduled worker holds nobody up for long. The sweep
//    never starts validating a transaction that has not executed (a racy status hint:
//    validation waits, nothing is lost; the claim itself still checks a snapshot of the status
//    word). Who validates changes no result, only where the lines are.
//  - The batch horizon (maybe_batched) is set once per block after reset(), by the one
//    limit_batches() call that ends the batches: from the block's size to where execution_idx
//    stood then plus one batch per worker; it is a hint for the contention rule and never
//    decides which task a worker gets.
//  - The active-task counters (one per worker, written only by it) are 1 while the worker holds
//    its slot: taken before its first claim on a shared index (a fetch_add or the
//    compare-exchange of an own range), held through every task it is handed or hands itself
//    (finish_execution and finish_validation hand back the next one) and while a local range
//    of it is not used up, and given back only by a next_task that finds nothing with no local
//    range left. So every task in flight and every claimed, unprocessed index is covered by a
//    slot, as when each task took one, without two atomic updates per task. A worker that only
//    polls (nothing to claim) holds no slot, so idle workers never keep each other from done().
//    decrease_cnt counts index decreases. done() turns true only when both indices are past the
//    block, no slot is held and no decrease happened while that was checked: every
//    transaction is then executed and its last incarnation validated after all lower
//    transactions' final writes.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "execution/internal/sync.hpp"
#include "execution/mv_memory.hpp"
#include "primitives/assert.hpp"

namespace pel::exec {

class Scheduler {
  public:
    enum class TaskKind : uint8_t { kNone, kExecute, kValidate };
    struct Task {
        TaskKind kind = TaskKind::kNone;
        Version version;
    };

    /// `workers`: the threads that ask for tasks, each passing its own index in [0, workers).
    /// `max_batch` (>= 1): the most indices one claim takes (see Batches above;
    /// ParallelOptions::max_batch chooses it for the executor).
    explicit Scheduler(size_t num_txns, size_t workers, size_t max_batch);
    /// Starts a new block of `num_txns` transactions, reusing the per-transaction records. Not
    /// concurrent with any other call.
    void reset(size_t num_txns);
    ~Scheduler();
    Scheduler(const Scheduler&) = delete;
    Scheduler& operator=(const Scheduler&) = delete;
    Scheduler(Scheduler&&) = delete;
    Scheduler& operator=(Scheduler&&) = delete;

    [[nodiscard]] bool done() const noexcept { return done_.load(std::memory_order_acquire); }
    /// Ends the run early (the fallback): workers stop asking for tasks.
    void halt() noexcept { done_.store(true, std::memory_order_release); }

    /// The next task, or kNone when there is nothing to do right now (ask again unless done()).
    [[nodiscard]] Task next_task(size_t worker) noexcept;

    /// `txn_idx` read an ESTIMATE of `blocking`. Returns false when `blocking` has finished
    /// meanwhile (re-execute right away); true when the transaction is suspended until then.
    [[nodiscard]] bool add_dependency(TxnIndex txn_idx, TxnIndex blocking) noexcept;

    /// The execution of `v` ended (its writes recorded). May hand back its validation task.
    [[nodiscard]] Task finish_execution(Version v, bool wrote_new_location) noexcept;

    /// Claims the right to abort `v` after a failed validation; false if `v` is no longer the
    /// current executed incarnation (someone else aborted it, or it was re-executed).
    [[nodiscard]] bool try_validation_abort(Version v) noexcept;

    /// The validation of `v` ended. May hand back its re-execution task.
    [[nodiscard]] Task finish_validation(TxnIndex txn_idx, bool aborted) noexcept;

    /// From now on until the next reset(), execution claims take one index at a time: called on
    /// the block's first conflict. A worker executing a batch runs its transactions one after
    /// the other, so each of them runs at the same time as the other workers' whole batches:
    /// more exposure to conflicts than one index at a time, which pays only on conflict-free
    /// blocks.
    void limit_batches() noexcept {
        if (exec_batch_limit_.load(std::memory_order_relaxed) > 1 &&
            exec_batch_limit_.exchange(1, std::memory_order_relaxed) > 1) {
            // Only the first caller gets here. A claim that read the old limit may still take a
            // whole batch after the exchange.
            const size_t horizon = execution_idx_.load() + max_batch_ * workers_;
            batch_horizon_.store(static_cast<TxnIndex>(std::min<size_t>(horizon, num_txns_)),
                                 std::memory_order_relaxed);
        }
    }

    /// Whether transaction `txn_idx` may have been claimed in a batch (see Batches above): every
    /// index while batches are allowed, then those below where execution_idx stood when
    /// limit_batches() ended them (plus one batch per worker for claims racing it). Conflicts of
    /// such transactions say how batching exposed them, not how contended the block is. A hint:
    /// read without ordering.
    [[nodiscard]] bool maybe_batched(TxnIndex txn_idx) const noexcept {
        return txn_idx < batch_horizon_.load(std::memory_order_relaxed);
    }

    /// Whether the transaction's latest incarnation has executed (for the fallback's takeover).
    [[nodiscard]] bool is_executed(TxnIndex txn_idx, uint32_t* incarnation) noexcept;

  private:
    enum class Status : uint8_t { kReadyToExecute, kExecuting, kExecuted, kAborting };
    struct alignas(64) TxnStatus {
        internal::SpinLock mu;
        /// epoch << 32 | incarnation << 2 | status, one word so that it can be read whole
        /// without `mu`. A word whose epoch is not the scheduler's (a record of an earlier block)
        /// stands for incarnation 0, kReadyToExecute, no dependents: reset() writes no record,
        /// and each is renewed by its first locked use in the block (renew()). Written under
        /// `mu` only (release); read under `mu`, or without it (acquire, load()) where a snapshot
        /// is enough: a validation claim (the abort rechecks under `mu`), is_executed, and the
        /// executed_hint.
        std::atomic<uint64_t> state{0};
        std::vector<TxnIndex> dependents;
        static constexpr uint32_t kStatusBits = 2;
        static constexpr uint32_t kStatusMask = (1U << kStatusBits) - 1;
        static constexpr unsigned kEpochShift = 32;
        [[nodiscard]] static Status status_of(uint32_t w) noexcept {
            return static_cast<Status>(w & kStatusMask);
        }
        [[nodiscard]] static uint32_t incarnation_of(uint32_t w) noexcept {
            return w >> kStatusBits;
        }
        /// The incarnation and status in block `epoch` (a snapshot without `mu`).
        [[nodiscard]] uint32_t load(uint32_t epoch) const noexcept {
            const uint64_t w = state.load(std::memory_order_acquire);
            return (w >> kEpochShift) == epoch ? static_cast<uint32_t>(w) : 0;
        }
        /// Under `mu`, before any other use under it (Scheduler::lock_status): a record left
        /// from an earlier block becomes block `epoch`'s incarnation 0, kReadyToExecute, without
        /// dependents.
        void renew(uint32_t epoch) noexcept {
            if ((state.load(std::memory_order_relaxed) >> kEpochShift) != epoch) [[unlikely]] {
                dependents.clear();
                state.store(uint64_t{epoch} << kEpochShift, std::memory_order_relaxed);
            }
        }
        /// Under `mu`, renewed.
        [[nodiscard]] uint32_t locked() const noexcept {
            return static_cast<uint32_t>(state.load(std::memory_order_relaxed));
        }
        [[nodiscard]] Status get() const noexcept { return status_of(locked()); }
        [[nodiscard]] uint32_t incarnation() const noexcept { return incarnation_of(locked()); }
        /// Under `mu`, renewed.
        void set(Status st) noexcept {
            const uint64_t w = state.load(std::memory_order_relaxed);
            state.store((w & ~uint64_t{kStatusMask}) | static_cast<uint64_t>(st),
                        std::memory_order_release);
        }
        /// Under `mu`, renewed: the next incarnation, ready to execute.
        void next_incarnation() noexcept {
            const uint64_t w = state.load(std::memory_order_relaxed);
            const uint32_t inc = incarnation_of(static_cast<uint32_t>(w)) + 1;
            PEL_ASSERT(inc < (1U << (32 - kStatusBits)), "Scheduler: incarnation overflow");
            state.store((w >> kEpochShift << kEpochShift) | uint64_t{inc} << kStatusBits |
                            static_cast<uint64_t>(Status::kReadyToExecute),
                        std::memory_order_release);
        }
    };

    /// Locks the record `s` and renews it for this block (see
    /// TxnStatus::renew): every locked use of a record goes through here.
    [[nodiscard]] std::lock_guard<internal::SpinLock> lock_status(TxnStatus& s) noexcept {
        s.mu.lock();
        s.renew(epoch_);
        return std::lock_guard<internal::SpinLock>(s.mu, std::adopt_lock);
    }
    std::optional<Version> try_incarnate(TxnIndex txn_idx) noexcept;
    /// next_task() before it gives the worker's slot back.
    Task find_task(size_t worker) noexcept;
    /// Takes the worker's active-task slot unless it holds it already (see Active): called
    /// before every claim on a shared index.
    void hold_slot(size_t worker) noexcept;
    std::optional<Version> next_version_to_execute(size_t worker) noexcept;
    std::optional<Version> next_version_to_validate(size_t worker) noexcept;
    /// Claimed validation index `idx`: its version when executed.
    [[nodiscard]] std::optional<Version> validate_if_executed(TxnIndex idx) const noexcept;
    /// Whether the transaction has executed (a racy read of its status: a hint only).
    [[nodiscard]] bool executed_hint(TxnIndex txn_idx) const noexcept;
    /// When the sweep stands exactly at the start of the worker's last execution range, claims
    /// the whole range for validation (one compare-exchange) as its local range.
    bool claim_own_validation(size_t worker) noexcept;
    /// The next index of a worker's local range of one kind; nullopt when the range is empty.
    static std::optional<TxnIndex> take_local(TxnIndex& next, TxnIndex end) noexcept;
    /// After a claim of `batch` indices from `idx` (idx itself handed out now): keeps the rest as
    /// the worker's local range [next, end) of one kind (empty when the batch ran past the
    /// block).
    void keep_batch_rest(TxnIndex idx, TxnIndex batch, TxnIndex& next,
                         TxnIndex& end) const noexcept;
    bool no_active_tasks() const noexcept;
    void check_done() noexcept;
    void decrease_execution_idx(TxnIndex target) noexcept;
    void decrease_validation_idx(TxnIndex target) noexcept;
    void set_ready_status(TxnIndex txn_idx) noexcept;
    void resume_dependencies(const std::vector<TxnIndex>& txns) noexcept;

    TxnIndex num_txns_ = 0;
    size_t capacity_ = 0;
    /// The block (see TxnStatus::state): never 0, which is a fresh record's.
    uint32_t epoch_ = 0;
    std::unique_ptr<TxnStatus[]> status_;
    alignas(64) std::atomic<TxnIndex> execution_idx_{0};
    alignas(64) std::atomic<TxnIndex> validation_idx_{0};
    alignas(64) std::atomic<uint64_t> decrease_cnt_{0};
    /// A worker's slot (0 or 1, see the header): changed only by its worker, on that worker's
    /// cache line; check_done() reads them all.
    struct alignas(64) Active {
        std::atomic<int64_t> tasks{0};
    };
    /// A worker's claimed, not yet handed out indices: [next, end) of each kind (empty: next ==
    /// end). Only its worker touches it (its own cache line).
    struct alignas(64) Local {
        TxnIndex exec_next = 0;
        TxnIndex exec_end = 0;
        TxnIndex val_next = 0;
        TxnIndex val_end = 0;
        /// The execution ranges this worker claimed last, oldest first (a ring; the oldest is
        /// dropped when it is full): it validates each itself when the sweep reaches it (see
        /// Own validation in the header).
        struct Range {
            TxnIndex start = 0;
            TxnIndex end = 0;
        };
        static constexpr uint32_t kOwnRanges = 8;
        Range own[kOwnRanges];
        uint32_t own_head = 0;
        uint32_t own_size = 0;
        /// The worker's slot in its Active counter is taken (see Active).
        bool holding = false;
        /// A claimed range of either kind is not used up.
        [[nodiscard]] bool has_range() const noexcept {
            return val_next < val_end || exec_next < exec_end;
        }
        [[nodiscard]] Range& own_front() noexcept { return own[own_head % kOwnRanges]; }
        void own_pop() noexcept {
            ++own_head;
            --own_size;
        }
        void own_push(TxnIndex start, TxnIndex end) noexcept {
            if (own_size == kOwnRanges) {
                own_pop();
            }
            own[(own_head + own_size) % kOwnRanges] = Range{start, end};
            ++own_size;
        }
        [[nodiscard]] bool owns(TxnIndex idx) const noexcept {
            for (uint32_t i = 0; i < own_size; ++i) {
                const Range& r = own[(own_head + i) % kOwnRanges];
                if (idx >= r.start && idx < r.end) {
                    return true;
                }
            }
            return false;
        }
    };
    size_t workers_;
    size_t max_batch_;
    /// How far the validation sweep may stand behind execution_idx while a worker leaves the
    /// transaction at the sweep to the worker that executed it (see next_task).
    TxnIndex lag_limit_;
    /// max_batch_, or 1 after limit_batches() (read racily: a hint for the next claim).
    std::atomic<size_t> exec_batch_limit_{1};
    /// See maybe_batched(): the block's size while batches are allowed, 0 when max_batch_ is 1.
    std::atomic<TxnIndex> batch_horizon_{0};
    std::unique_ptr<Active[]> active_;
    std::unique_ptr<Local[]> local_;
    alignas(64) std::atomic<bool> done_{false};
};

}  // namespace pel::exec
