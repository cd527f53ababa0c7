// SPDX-License-Identifier: Apache-2.0
// The sequential block executor: transactions one after the other over a state::MemState. It is
// the reference (oracle) the Block-STM executor must match, so it stays small and obvious.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "execution/host.hpp"
#include "execution/mem_state_reader.hpp"
#include "execution/state_reader.hpp"
#include "execution/transition.hpp"
#include "execution/txn_state.hpp"
#include "primitives/hash.hpp"
#include "primitives/result.hpp"
#include "primitives/transaction.hpp"
#include "state/mem_state.hpp"

namespace pel::vm {
class Vm;
}  // namespace pel::vm

namespace pel::exec {

/// Applies a transaction's write set to `state`.
void apply_writes(state::MemState& state, const TxnWrites& writes);

struct BlockResult {
    /// One per transaction, cumulative_gas_used filled in.
    std::vector<Receipt> receipts;
    uint64_t gas_used = 0;
    uint64_t blob_gas_used = 0;
};

/// The first invalid transaction of a block.
struct BlockError {
    size_t txn_idx = 0;
    /// kGasLimitExceedsBlock and kBlobCountExceeded also cover the block's running totals.
    TxnError error = TxnError::kIntrinsicGasTooLow;
};

/// Executes `txns` (sent by `senders`, same length) in order on `state`. On success `state` is the
/// post-block state. On error `state` holds the effects of the transactions before the invalid
/// one (so a single-transaction block leaves it unchanged). Block rewards and withdrawals are
/// not part of this. `tracer` (optional) observes every transaction's call frames.
[[nodiscard]] Result<BlockResult, BlockError> execute_block_sequential(
    state::MemState& state, vm::Vm& vm, const BlockEnv& env, std::span<const Transaction> txns,
    std::span<const Address> senders, FrameTracer* tracer = nullptr);

}  // namespace pel::exec
