// SPDX-License-Identifier: Apache-2.0
// The seam between execution and the persistent state store: a ConcurrentStateReader over a
// state::StateView (the base state of a block for either executor), and the conversion of a
// block's diff into the state::StateDiff that StateStore::commit() applies.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "execution/state_reader.hpp"
#include "execution/txn_state.hpp"
#include "primitives/bytes.hpp"
#include "primitives/hash.hpp"
#include "primitives/result.hpp"
#include "primitives/u256.hpp"
#include "state/state_view.hpp"

namespace pel::exec {

/// ConcurrentStateReader over a state::StateView (thread safe by its own contract).
///
/// Read errors (I/O, corruption) cannot travel through the StateReader port: the first one is
/// latched, the read answers a default (absent account, zero slot, no code), and the caller must
/// check error() after executing the block and discard its result when set.
///
/// Thread safety: every method may be called from any number of threads at once. Code read
/// through the view is kept (shared ownership) until the reader is destroyed, so views returned
/// by read_code() stay valid for the block.
class StateViewReader final : public ConcurrentStateReader {
  public:
    /// `view` must outlive the reader.
    explicit StateViewReader(const state::StateView& view) noexcept : view_(view) {}

    [[nodiscard]] std::optional<AccountInfo> read_account(const Address& addr) noexcept override;
    [[nodiscard]] U256 read_storage(const Address& addr, const U256& key) noexcept override;
    /// From the account's storage root (not kEmptyTrieRoot).
    [[nodiscard]] bool has_storage(const Address& addr) noexcept override;
    [[nodiscard]] ByteView read_code(const Hash32& code_hash) noexcept override;

    /// The first read error, if any.
    [[nodiscard]] std::optional<Error> error() const;

  private:
    void latch(const Error& e) noexcept;

    const state::StateView& view_;
    std::atomic<bool> failed_{false};
    mutable std::mutex mu_;
    std::optional<Error> error_;                                     // guarded by mu_
    std::unordered_map<Hash32, std::shared_ptr<const Bytes>> code_;  // guarded by mu_
};

/// The block diff (BlockOutput::diff, or any TxnWrites) as a state::StateDiff for
/// StateStore::commit(). Deleted accounts map to `deleted`; everything else sets nonce and
/// balance, code when it changed (empty code after a re-creation), `storage_cleared`, and the
/// slots (a zero value deletes).
[[nodiscard]] state::StateDiff to_state_diff(const TxnWrites& diff);

}  // namespace pel::exec
