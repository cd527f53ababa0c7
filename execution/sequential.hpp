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

/// StateReader over a MemState. The MemState must not change while the reader is in use (the
/// sequential executor applies a transaction's writes only after its execution ends); code views
/// point into the MemState's accounts.
///
/// Thread safety: not thread safe (it caches code lookups).
class MemStateReader final : public StateReader {
  public:
    explicit MemStateReader(const state::MemState& state) noexcept : state_(state) {}

    [[nodiscard]] std::optional<AccountInfo> read_account(const Address& addr) noexcept override;
    [[nodiscard]] U256 read_storage(const Address& addr, const U256& key) noexcept override;
    [[nodiscard]] bool has_storage(const Address& addr) noexcept override;
    [[nodiscard]] ByteView read_code(const Hash32& code_hash) noexcept override;

  private:
    const state::MemState& state_;
    /// Code seen through read_account, by hash (MemState does not index code by hash).
    std::unordered_map<Hash32, ByteView> code_;
};

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
