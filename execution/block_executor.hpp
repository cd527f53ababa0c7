// SPDX-License-Identifier: Apache-2.0
// exec::BlockExecutor: the front door of block execution. Two implementations behind one
// interface: SequentialExecutor (the reference: one transaction after the other) and
// ParallelExecutor (Block-STM: optimistic execution on many threads over multi-version memory,
// validation and re-execution). Both take the block's base state as a ConcurrentStateReader and
// return the receipts, the block's state diff and statistics; for every block and thread count
// their outputs are identical.
//
// Invalid transactions: a block with an invalid transaction (TxnError from apply_transaction, or
// the block's gas pool / blob limit exceeded) is invalid as a whole. Both executors return
// BlockError with the index of the lowest invalid transaction and the error the sequential order
// meets first (gas pool, then blob count, then the transaction's own checks), exactly as
// execute_block_sequential does, and no diff.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "execution/mv_memory.hpp"
#include "execution/sequential.hpp"
#include "execution/state_reader.hpp"
#include "execution/transition.hpp"
#include "execution/txn_state.hpp"
#include "primitives/hash.hpp"
#include "primitives/result.hpp"
#include "primitives/transaction.hpp"
#include "state/mem_state.hpp"

namespace pel::state {
class StateView;
}  // namespace pel::state

namespace pel::exec {

/// How a location contributed to re-executions.
struct ConflictCount {
    Location location;
    uint64_t count = 0;
};

/// Execution statistics of one block (the conflict report).
struct BlockStats {
    uint64_t executions = 0;        ///< transaction executions, incarnations and reruns included
    uint64_t re_executions = 0;     ///< executions beyond one per transaction
    uint64_t validations = 0;       ///< read-set validations
    uint64_t aborts = 0;            ///< failed validations that aborted an incarnation
    uint64_t dependency_waits = 0;  ///< executions that met an ESTIMATE
    /// The fallback taken, if any ("" when none): "sequential after contention".
    std::string fallback;
    /// First transaction run sequentially by the fallback.
    size_t fallback_from = 0;
    /// The diff was read from the final versions (no in-order fold of the transactions' results;
    /// see ParallelExecutor).
    bool diff_from_versions = false;
    /// The locations whose changes aborted incarnations most often, highest first (at most 8).
    std::vector<ConflictCount> top_conflicts;
    /// Wall time of the Block-STM phases (zero for the sequential paths): building MvMemory and
    /// the scheduler, the workers, the in-order fold of the results into the diff (and any
    /// fallback completion), freeing the shared structures. When the diff is read from the final
    /// versions, the workers do that, the receipts and the freeing themselves: `workers_ms`
    /// includes it (`finish_ms` and `teardown_ms` are then about zero).
    double setup_ms = 0;
    double workers_ms = 0;
    double finish_ms = 0;
    double teardown_ms = 0;
};

/// What executing a block produced.
struct BlockOutput {
    /// One per transaction, cumulative_gas_used filled in.
    std::vector<Receipt> receipts;
    /// The block's net effect on the base state, sorted by address (slots by key); apply it with
    /// apply_writes(). Coinbase fee credits are folded in.
    TxnWrites diff;
    uint64_t gas_used = 0;
    uint64_t blob_gas_used = 0;
    BlockStats stats;
};

/// Executes ordered blocks of transactions.
///
/// Thread safety: an executor runs one block at a time (it owns per-worker VMs); use one executor
/// per concurrently executed block.
class BlockExecutor {
  public:
    BlockExecutor() = default;
    virtual ~BlockExecutor() = default;
    BlockExecutor(const BlockExecutor&) = delete;
    BlockExecutor& operator=(const BlockExecutor&) = delete;
    BlockExecutor(BlockExecutor&&) = delete;
    BlockExecutor& operator=(BlockExecutor&&) = delete;

    /// Executes `txns` sent by `senders` (same length, recovered beforehand, e.g. with
    /// recover_senders) on `base`, which must not change during the call. Errors: see the file
    /// comment. Never throws; allocation failure terminates.
    [[nodiscard]] virtual Result<BlockOutput, BlockError> execute(
        const BlockEnv& env, std::span<const Transaction> txns, std::span<const Address> senders,
        ConcurrentStateReader& base) noexcept = 0;
};

/// The reference executor: transactions in order over an overlay of the base state.
class SequentialExecutor final : public BlockExecutor {
  public:
    SequentialExecutor();
    ~SequentialExecutor() override;
    SequentialExecutor(const SequentialExecutor&) = delete;
    SequentialExecutor& operator=(const SequentialExecutor&) = delete;
    SequentialExecutor(SequentialExecutor&&) = delete;
    SequentialExecutor& operator=(SequentialExecutor&&) = delete;

    [[nodiscard]] Result<BlockOutput, BlockError> execute(
        const BlockEnv& env, std::span<const Transaction> txns, std::span<const Address> senders,
        ConcurrentStateReader& base) noexcept override;

  private:
    std::unique_ptr<vm::Vm> vm_;
};

struct ParallelOptions {
    /// Worker threads (>= 1, at most 65,536), the calling thread included.
    size_t threads = 2;
    /// Contention fallback, two rules. Before execution: when at least half the transactions
    /// share a sender or plain-transfer recipient with one of the `threads` transactions before
    /// them (a chain), the block runs in order from the start. During execution: once at least
    /// `fallback_min_conflicts` executions met a dependency, were aborted or read what one of the
    /// `threads` transactions just below them wrote, and such conflicts
    /// are at least a third of all executions so far (or, in two windows of 64 executions in a
    /// row, at least `fallback_min_conflicts` aborts and dependency waits and a third of each
    /// window, or as many conflicts and two thirds of each: contention that starts late in a
    /// block, and lasts), the
    /// workers stop and the rest of the block runs in order (after the longest prefix that
    /// validates). Off: Block-STM to the end whatever the contention.
    bool fallback = true;
    uint64_t fallback_min_conflicts = 16;
    /// Scheduler batches: the most consecutive transactions (or validations) a worker claims at
    /// once when far from the end of the block (see scheduler.hpp); 1 claims one at a time.
    /// Execution batches end at the block's first conflict, and the conflicts of transactions
    /// they may have claimed do not count for the contention fallback. Default 1: at 2 threads
    /// on 2 cores, `pel-bench --profile compare --variants 'max_batch=1/max_batch=16'` (variants
    /// in rotating order) measured no difference beyond the noise (see the README).
    size_t max_batch = 1;
    /// Test hook: when non-zero, the runtime fallback is taken once this many executions have
    /// run, contention or not (exercises the prefix validation and the in-order completion).
    uint64_t test_fallback_after_executions = 0;
};

/// Block-STM. See mv_memory.hpp and scheduler.hpp for the shared structures.
class ParallelExecutor final : public BlockExecutor {
  public:
    explicit ParallelExecutor(const ParallelOptions& options);
    ~ParallelExecutor() override;
    ParallelExecutor(const ParallelExecutor&) = delete;
    ParallelExecutor& operator=(const ParallelExecutor&) = delete;
    ParallelExecutor(ParallelExecutor&&) = delete;
    ParallelExecutor& operator=(ParallelExecutor&&) = delete;

    [[nodiscard]] Result<BlockOutput, BlockError> execute(
        const BlockEnv& env, std::span<const Transaction> txns, std::span<const Address> senders,
        ConcurrentStateReader& base) noexcept override;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

/// Recovers every transaction's sender on `threads` threads (the stage before execution; never
/// repeated by re-executions). Error: the index of the first transaction whose signature does not
/// recover.
[[nodiscard]] Result<std::vector<Address>, size_t> recover_senders(
    std::span<const Transaction> txns, size_t threads) noexcept;

}  // namespace pel::exec
