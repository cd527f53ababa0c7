// SPDX-License-Identifier: Apache-2.0
#include "execution/scheduler.hpp"

#include <algorithm>
#include <mutex>

namespace pel::exec {

Scheduler::Scheduler(size_t num_txns, size_t workers, size_t max_batch)
    : workers_(std::max<size_t>(workers, 1)),
      max_batch_(std::max<size_t>(max_batch, 1)),
      lag_limit_(static_cast<TxnIndex>(
          std::min<size_t>(Local::kOwnRanges * max_batch_ * workers_, UINT32_MAX))),
      active_(std::make_unique<Active[]>(workers_)),
      local_(std::make_unique<Local[]>(workers_)) {
    reset(num_txns);
}

void Scheduler::reset(size_t num_txns) {
    // No record is written here: each is renewed by its first use in the block (a block of ten
    // thousand transactions would otherwise write 640 KB on this thread, lines the other
    // workers then pull over one by one).
    if (num_txns > capacity_) {
        status_ = std::make_unique<TxnStatus[]>(num_txns);  // epoch 0: older than any block's
        capacity_ = num_txns;
    }
    if (++epoch_ == 0) {
        // After 2^32 blocks: mark every record as older than the next block.
        for (size_t i = 0; i < capacity_; ++i) {
            status_[i].state.store(0, std::memory_order_relaxed);
        }
        epoch_ = 1;
    }
    num_txns_ = static_cast<TxnIndex>(num_txns);
    execution_idx_.store(0);
    validation_idx_.store(0);
    decrease_cnt_.store(0);
    for (size_t w = 0; w < workers_; ++w) {
        active_[w].tasks.store(0);
        local_[w] = Local{};
    }
    exec_batch_limit_.store(max_batch_);
    batch_horizon_.store(max_batch_ > 1 ? num_txns_ : 0);
    done_.store(num_txns_ == 0);
}

Scheduler::~Scheduler() = default;

void Scheduler::decrease_execution_idx(TxnIndex target) noexcept {
    TxnIndex cur = execution_idx_.load();
    while (cur > target && !execution_idx_.compare_exchange_weak(cur, target)) {
    }
    decrease_cnt_.fetch_add(1);
}

void Scheduler::decrease_validation_idx(TxnIndex target) noexcept {
    TxnIndex cur = validation_idx_.load();
    while (cur > target && !validation_idx_.compare_exchange_weak(cur, target)) {
    }
    decrease_cnt_.fetch_add(1);
}

bool Scheduler::no_active_tasks() const noexcept {
    for (size_t w = 0; w < workers_; ++w) {
        if (active_[w].tasks.load() != 0) {
            return false;
        }
    }
    return true;
}

void Scheduler::check_done() noexcept {
    // The decrease counter read first and last detects an index moving back during the check.
    const uint64_t observed = decrease_cnt_.load();
    if (std::min(execution_idx_.load(), validation_idx_.load()) >= num_txns_ && no_active_tasks() &&
        observed == decrease_cnt_.load()) {
        done_.store(true, std::memory_order_release);
    }
}

std::optional<Version> Scheduler::try_incarnate(TxnIndex txn_idx) noexcept {
    if (txn_idx + 1 < num_txns_) {
        // A worker usually takes the next index next (its batch): its status line is then there.
        internal::prefetch_for_write(&status_[txn_idx + 1], sizeof(TxnStatus));
    }
    if (txn_idx < num_txns_) {
        TxnStatus& s = status_[txn_idx];
        const auto lock = lock_status(s);
        if (s.get() == Status::kReadyToExecute) {
            s.set(Status::kExecuting);
            return Version{txn_idx, s.incarnation()};
        }
    }
    return std::nullopt;
}

void Scheduler::hold_slot(size_t worker) noexcept {
    Local& l = local_[worker];
    if (!l.holding) {
        active_[worker].tasks.fetch_add(1);
        l.holding = true;
    }
}

std::optional<TxnIndex> Scheduler::take_local(TxnIndex& next, TxnIndex end) noexcept {
    if (next >= end) {
        return std::nullopt;
    }
    return next++;
}

std::optional<Version> Scheduler::next_version_to_execute(size_t worker) noexcept {
    Local& l = local_[worker];
    if (const auto idx = take_local(l.exec_next, l.exec_end)) {
        return try_incarnate(*idx);
    }
    const TxnIndex at = execution_idx_.load();
    if (at >= num_txns_) {
        check_done();
        return std::nullopt;
    }
    // Far from the end of the block, a batch: the last few transactions go one at a time so that
    // the workers finish together.
    const TxnIndex left = num_txns_ - at;
    const auto batch = static_cast<TxnIndex>(std::clamp<size_t>(
        left / (4 * workers_), 1, exec_batch_limit_.load(std::memory_order_relaxed)));
    hold_slot(worker);
    const TxnIndex idx = execution_idx_.fetch_add(batch);
    if (idx < num_txns_) {
        // Validated by this worker when the sweep reaches it (see claim_own_validation).
        l.own_push(idx, std::min(idx + batch, num_txns_));
    }
    keep_batch_rest(idx, batch, l.exec_next, l.exec_end);
    return try_incarnate(idx);
}

void Scheduler::keep_batch_rest(TxnIndex idx, TxnIndex batch, TxnIndex& next,
                                TxnIndex& end) const noexcept {
    if (batch <= 1) {
        return;
    }
    next = std::min(idx + 1, num_txns_);
    end = std::min(idx + batch, num_txns_);
    if (next >= end) {  // the batch ran past the block: nothing kept
        next = end = 0;
    }
}

std::optional<Version> Scheduler::validate_if_executed(TxnIndex idx) const noexcept {
    if (idx < num_txns_) {
        // A snapshot, without the lock: validating a version that is aborted or re-executed
        // meanwhile is harmless (try_validation_abort rechecks the version under the lock), and
        // the acquire makes the version's recorded reads visible.
        const uint32_t w = status_[idx].load(epoch_);
        if (TxnStatus::status_of(w) == Status::kExecuted) {
            return Version{idx, TxnStatus::incarnation_of(w)};
        }
    }
    return std::nullopt;
}

std::optional<Version> Scheduler::next_version_to_validate(size_t worker) noexcept {
    Local& l = local_[worker];
    if (const auto idx = take_local(l.val_next, l.val_end)) {
        return validate_if_executed(*idx);
    }
    const TxnIndex at = validation_idx_.load();
    if (at >= num_txns_) {
        check_done();
        return std::nullopt;
    }
    // Far behind the execution front, a batch (never past it: those are not executed yet).
    const TxnIndex exec_at = std::min(execution_idx_.load(), num_txns_);
    const TxnIndex behind = exec_at > at ? exec_at - at : 0;
    const auto batch =
        static_cast<TxnIndex>(std::clamp<size_t>(behind / (2 * workers_), 1, max_batch_));
    hold_slot(worker);
    const TxnIndex idx = validation_idx_.fetch_add(batch);
    keep_batch_rest(idx, batch, l.val_next, l.val_end);
    return validate_if_executed(idx);
}

bool Scheduler::executed_hint(TxnIndex txn_idx) const noexcept {
    return txn_idx < num_txns_ &&
           TxnStatus::status_of(status_[txn_idx].load(epoch_)) == Status::kExecuted;
}

bool Scheduler::claim_own_validation(size_t worker) noexcept {
    Local& l = local_[worker];
    while (l.own_size > 0) {
        Local::Range& r = l.own_front();
        TxnIndex expected = validation_idx_.load();
        if (expected >= r.end) {
            l.own_pop();  // the sweep passed it: someone validated it already
            continue;
        }
        if (expected < r.start) {
            return false;  // the sweep has not reached it yet
        }
        // Only a range this worker has executed whole (not the batch it is executing).
        if (l.exec_next < l.exec_end && l.exec_end == r.end) {
            return false;
        }
        const TxnIndex end = r.end;
        hold_slot(worker);  // before the claim, as for a fetch_add
        if (!validation_idx_.compare_exchange_strong(expected, end)) {
            return false;  // the sweep moved meanwhile
        }
        l.own_pop();
        l.val_next = expected;
        l.val_end = end;
        return true;
    }
    return false;
}

Scheduler::Task Scheduler::next_task(size_t worker) noexcept {
    const Task t = find_task(worker);
    Local& l = local_[worker];
    if (t.kind == TaskKind::kNone && l.holding && !l.has_range()) {
        // Nothing to do and nothing claimed: the slot goes back, and this may be the end.
        l.holding = false;
        active_[worker].tasks.fetch_sub(1);
        check_done();
    }
    return t;
}

Scheduler::Task Scheduler::find_task(size_t worker) noexcept {
    // A claimed range first: its indices were taken from the shared index and are this worker's
    // to hand out (validations before executions, as below).
    const Local& l = local_[worker];
    if (l.val_next < l.val_end || claim_own_validation(worker)) {
        if (const auto v = next_version_to_validate(worker)) {
            return Task{TaskKind::kValidate, *v};
        }
        return Task{};
    }
    if (l.exec_next < l.exec_end) {
        if (const auto v = next_version_to_execute(worker)) {
            return Task{TaskKind::kExecute, *v};
        }
        return Task{};
    }
    const TxnIndex val_at = validation_idx_.load();
    const TxnIndex exec_at = execution_idx_.load();
    // Validate when the sweep is behind execution and its next transaction has executed. The
    // sweep does not pass a transaction still executing: that one would find the sweep past it
    // when it finishes and, having written new locations (every first incarnation does), pull
    // it back and make every transaction above it validate again. Execute instead meanwhile;
    // also while the transaction is another worker's to validate (Own validation, header).
    const bool sweep_behind = val_at < exec_at;
    const bool leave_to_owner =
        sweep_behind && exec_at < num_txns_ && exec_at - val_at < lag_limit_ && !l.owns(val_at);
    if (sweep_behind && !leave_to_owner && (exec_at >= num_txns_ || executed_hint(val_at))) {
        if (const auto v = next_version_to_validate(worker)) {
            return Task{TaskKind::kValidate, *v};
        }
    } else if (const auto v = next_version_to_execute(worker)) {
        return Task{TaskKind::kExecute, *v};
    }
    return Task{};
}

bool Scheduler::add_dependency(TxnIndex txn_idx, TxnIndex blocking) noexcept {
    {
        // Both locks at once (the blocker's first: it is the lower index, the only nesting order
        // used): once the blocker's lock is released its finish_execution may resume this
        // transaction, which must find it already suspended, not still executing.
        TxnStatus& b = status_[blocking];
        const auto lock = lock_status(b);
        if (b.get() == Status::kExecuted) {
            return false;
        }
        TxnStatus& s = status_[txn_idx];
        const auto txn_lock = lock_status(s);
        s.set(Status::kAborting);
        b.dependents.push_back(txn_idx);
    }
    // The execution task ends here; the blocker's finish_execution will resume it.
    return true;
}

void Scheduler::set_ready_status(TxnIndex txn_idx) noexcept {
    TxnStatus& s = status_[txn_idx];
    const auto lock = lock_status(s);
    s.next_incarnation();
}

void Scheduler::resume_dependencies(const std::vector<TxnIndex>& txns) noexcept {
    if (txns.empty()) {
        return;
    }
    TxnIndex min_idx = txns.front();
    for (const TxnIndex t : txns) {
        set_ready_status(t);
        min_idx = std::min(min_idx, t);
    }
    decrease_execution_idx(min_idx);
}

Scheduler::Task Scheduler::finish_execution(Version v, bool wrote_new_location) noexcept {
    std::vector<TxnIndex> deps;
    {
        TxnStatus& s = status_[v.txn_idx];
        const auto lock = lock_status(s);
        s.set(Status::kExecuted);
        deps.swap(s.dependents);
    }
    resume_dependencies(deps);
    if (validation_idx_.load() > v.txn_idx) {
        if (!wrote_new_location) {
            // Only this transaction needs validating.
            return Task{TaskKind::kValidate, v};
        }
        decrease_validation_idx(v.txn_idx);
    }
    return Task{};
}

bool Scheduler::try_validation_abort(Version v) noexcept {
    TxnStatus& s = status_[v.txn_idx];
    const auto lock = lock_status(s);
    if (s.get() == Status::kExecuted && s.incarnation() == v.incarnation) {
        s.set(Status::kAborting);
        return true;
    }
    return false;
}

Scheduler::Task Scheduler::finish_validation(TxnIndex txn_idx, bool aborted) noexcept {
    if (aborted) {
        set_ready_status(txn_idx);
        decrease_validation_idx(txn_idx + 1);
        if (execution_idx_.load() > txn_idx) {
            if (const auto v = try_incarnate(txn_idx)) {
                return Task{TaskKind::kExecute, *v};
            }
        }
    }
    return Task{};
}

bool Scheduler::is_executed(TxnIndex txn_idx, uint32_t* incarnation) noexcept {
    const uint32_t w = status_[txn_idx].load(epoch_);  // a snapshot (see TxnStatus::state)
    if (incarnation != nullptr) {
        *incarnation = TxnStatus::incarnation_of(w);
    }
    return TxnStatus::status_of(w) == Status::kExecuted;
}

}  // namespace pel::exec
