// SPDX-License-Identifier: Apache-2.0
#include "execution/scheduler.hpp"

#include <algorithm>
#include <mutex>

namespace pel::exec {

Scheduler::Scheduler(size_t num_txns, size_t workers)
    : workers_(std::max<size_t>(workers, 1)), active_(std::make_unique<Active[]>(workers_)) {
    reset(num_txns);
}

void Scheduler::reset(size_t num_txns) {
    if (num_txns > capacity_) {
        status_ = std::make_unique<TxnStatus[]>(num_txns);
        capacity_ = num_txns;
    } else {
        for (size_t i = 0; i < num_txns; ++i) {
            TxnStatus& s = status_[i];
            s.incarnation = 0;
            s.status = Status::kReadyToExecute;
            s.dependents.clear();
        }
    }
    num_txns_ = static_cast<TxnIndex>(num_txns);
    execution_idx_.store(0);
    validation_idx_.store(0);
    decrease_cnt_.store(0);
    for (size_t w = 0; w < workers_; ++w) {
        active_[w].tasks.store(0);
    }
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

std::optional<Version> Scheduler::try_incarnate(TxnIndex txn_idx, size_t worker) noexcept {
    if (txn_idx < num_txns_) {
        TxnStatus& s = status_[txn_idx];
        const std::lock_guard lock(s.mu);
        if (s.status == Status::kReadyToExecute) {
            s.status = Status::kExecuting;
            return Version{txn_idx, s.incarnation};
        }
    }
    active_[worker].tasks.fetch_sub(1);
    return std::nullopt;
}

std::optional<Version> Scheduler::next_version_to_execute(size_t worker) noexcept {
    if (execution_idx_.load() >= num_txns_) {
        check_done();
        return std::nullopt;
    }
    active_[worker].tasks.fetch_add(1);
    const TxnIndex idx = execution_idx_.fetch_add(1);
    return try_incarnate(idx, worker);
}

std::optional<Version> Scheduler::next_version_to_validate(size_t worker) noexcept {
    if (validation_idx_.load() >= num_txns_) {
        check_done();
        return std::nullopt;
    }
    active_[worker].tasks.fetch_add(1);
    const TxnIndex idx = validation_idx_.fetch_add(1);
    if (idx < num_txns_) {
        TxnStatus& s = status_[idx];
        const std::lock_guard lock(s.mu);
        if (s.status == Status::kExecuted) {
            return Version{idx, s.incarnation};
        }
    }
    active_[worker].tasks.fetch_sub(1);
    return std::nullopt;
}

Scheduler::Task Scheduler::next_task(size_t worker) noexcept {
    if (validation_idx_.load() < execution_idx_.load()) {
        if (const auto v = next_version_to_validate(worker)) {
            return Task{TaskKind::kValidate, *v};
        }
    } else if (const auto v = next_version_to_execute(worker)) {
        return Task{TaskKind::kExecute, *v};
    }
    return Task{};
}

bool Scheduler::add_dependency(TxnIndex txn_idx, TxnIndex blocking, size_t worker) noexcept {
    {
        // Both locks at once (the blocker's first: it is the lower index, the only nesting order
        // used): once the blocker's lock is released its finish_execution may resume this
        // transaction, which must find it already suspended, not still executing.
        TxnStatus& b = status_[blocking];
        const std::lock_guard lock(b.mu);
        if (b.status == Status::kExecuted) {
            return false;
        }
        TxnStatus& s = status_[txn_idx];
        const std::lock_guard txn_lock(s.mu);
        s.status = Status::kAborting;
        b.dependents.push_back(txn_idx);
    }
    // The execution task ends here; the blocker's finish_execution will resume it.
    active_[worker].tasks.fetch_sub(1);
    return true;
}

void Scheduler::set_ready_status(TxnIndex txn_idx) noexcept {
    TxnStatus& s = status_[txn_idx];
    const std::lock_guard lock(s.mu);
    ++s.incarnation;
    s.status = Status::kReadyToExecute;
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

Scheduler::Task Scheduler::finish_execution(Version v, bool wrote_new_location,
                                            size_t worker) noexcept {
    std::vector<TxnIndex> deps;
    {
        TxnStatus& s = status_[v.txn_idx];
        const std::lock_guard lock(s.mu);
        s.status = Status::kExecuted;
        deps.swap(s.dependents);
    }
    resume_dependencies(deps);
    if (validation_idx_.load() > v.txn_idx) {
        if (!wrote_new_location) {
            // Only this transaction needs validating; keep the task slot for it.
            return Task{TaskKind::kValidate, v};
        }
        decrease_validation_idx(v.txn_idx);
    }
    active_[worker].tasks.fetch_sub(1);
    return Task{};
}

bool Scheduler::try_validation_abort(Version v) noexcept {
    TxnStatus& s = status_[v.txn_idx];
    const std::lock_guard lock(s.mu);
    if (s.status == Status::kExecuted && s.incarnation == v.incarnation) {
        s.status = Status::kAborting;
        return true;
    }
    return false;
}

Scheduler::Task Scheduler::finish_validation(TxnIndex txn_idx, bool aborted,
                                             size_t worker) noexcept {
    if (aborted) {
        set_ready_status(txn_idx);
        decrease_validation_idx(txn_idx + 1);
        if (execution_idx_.load() > txn_idx) {
            if (const auto v = try_incarnate(txn_idx, worker)) {
                return Task{TaskKind::kExecute, *v};
            }
            // try_incarnate released the task slot.
            return Task{};
        }
    }
    active_[worker].tasks.fetch_sub(1);
    return Task{};
}

bool Scheduler::is_executed(TxnIndex txn_idx, uint32_t* incarnation) noexcept {
    TxnStatus& s = status_[txn_idx];
    const std::lock_guard lock(s.mu);
    if (incarnation != nullptr) {
        *incarnation = s.incarnation;
    }
    return s.status == Status::kExecuted;
}

}  // namespace pel::exec
