// SPDX-License-Identifier: Apache-2.0
// exec::StateReader: the narrow read port a transaction executes against. The sequential executor
// implements it over state::MemState; Block-STM will implement it over multi-version memory, where
// a read returns the latest value written by a lower transaction (or the block's base state).
#pragma once

#include <cstdint>
#include <optional>

#include "primitives/bytes.hpp"
#include "primitives/hash.hpp"
#include "primitives/u256.hpp"

namespace pel::exec {

/// The account header execution sees: everything but storage and code bytes.
struct AccountInfo {
    uint64_t nonce = 0;
    U256 balance;
    Hash32 code_hash = kEmptyCodeHash;

    /// EIP-161: no code, zero nonce and zero balance.
    [[nodiscard]] bool is_empty() const noexcept {
        return nonce == 0 && balance.is_zero() && code_hash == kEmptyCodeHash;
    }
    friend bool operator==(const AccountInfo&, const AccountInfo&) = default;
};

/// Read-only view of the state a transaction starts from.
///
/// Contract: reads are pure for the lifetime of one transaction execution (the same call returns
/// the same answer). A Block-STM reader that meets an unfinished write (an ESTIMATE) records the
/// dependency, returns a default (absent account, zero slot) and lets the incarnation finish; the
/// executor then discards that incarnation's result. Reads never fail otherwise.
///
/// Thread safety: one reader serves one transaction on one thread; implementations over shared
/// structures (MVMemory) synchronise internally.
class StateReader {
  public:
    StateReader() = default;
    virtual ~StateReader() = default;
    StateReader(const StateReader&) = delete;
    StateReader& operator=(const StateReader&) = delete;
    StateReader(StateReader&&) = delete;
    StateReader& operator=(StateReader&&) = delete;

    /// The account, or nullopt if it does not exist.
    [[nodiscard]] virtual std::optional<AccountInfo> read_account(const Address& addr) noexcept = 0;

    /// A storage slot; zero if unset or the account does not exist.
    [[nodiscard]] virtual U256 read_storage(const Address& addr, const U256& key) noexcept = 0;

    /// True if the account has at least one non-zero storage slot (EIP-7610 collision rule).
    [[nodiscard]] virtual bool has_storage(const Address& addr) noexcept = 0;

    /// The account's code hash (kEmptyCodeHash when absent), for a caller that depends on nothing
    /// else of the account. Block-STM validates such a read on the code hash alone, so balance
    /// changes of the account by other transactions do not conflict with it.
    [[nodiscard]] virtual Hash32 read_code_hash(const Address& addr) noexcept {
        const std::optional<AccountInfo> a = read_account(addr);
        return a ? a->code_hash : kEmptyCodeHash;
    }

    /// The code whose keccak256 is `code_hash` (empty for kEmptyCodeHash or unknown hashes).
    /// Code is content addressed, so the view stays valid for the reader's whole lifetime.
    [[nodiscard]] virtual ByteView read_code(const Hash32& code_hash) noexcept = 0;
};

/// A StateReader whose four methods may be called from any number of threads at once, and whose
/// answers never change while it is in use: the base state of a block executed by Block-STM
/// (every worker reads it). Code views stay valid for the reader's lifetime.
class ConcurrentStateReader : public StateReader {};

}  // namespace pel::exec
