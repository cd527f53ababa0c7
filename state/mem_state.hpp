// SPDX-License-Identifier: Apache-2.0
// MemState: the whole world state in memory (accounts, code, storage) with Merkle Patricia roots
// computed on demand. The state-test runner loads a fixture's `pre` into it; the sequential
// executor mutates it; both compare state_root() with the expected post-state root.
#pragma once

#include <cstddef>
#include <optional>
#include <unordered_map>

#include "primitives/bytes.hpp"
#include "primitives/hash.hpp"
#include "primitives/u256.hpp"
#include "state/account.hpp"

namespace pel::state {

/// One account's storage: slot -> value. Zero values are never stored (absent means zero).
using StorageMap = std::unordered_map<U256, U256>;

/// An account as MemState holds it. Fields are read through MemState::find() and changed only
/// through MemState's setters, which keep the invariants below.
struct MemAccount {
    uint64_t nonce = 0;
    U256 balance;
    Bytes code;
    Hash32 code_hash = kEmptyCodeHash;  ///< always keccak256(code)
    StorageMap storage;                 ///< never holds a zero value

    /// EIP-161 emptiness: no nonce, no balance, no code (storage is not considered).
    [[nodiscard]] bool is_empty() const noexcept {
        return nonce == 0 && balance.is_zero() && code.empty();
    }
};

/// In-memory world state keyed by address.
///
/// Setters create the account (empty: nonce 0, balance 0, no code, no storage) when it does not
/// exist yet; readers never create. Roots are recomputed from scratch on every call (keccak of
/// every account and slot); nothing is cached.
///
/// Thread safety: none. MemState is a single-threaded value type (copyable, movable). Concurrent
/// calls to const methods are safe as long as no thread mutates it; any mutation needs exclusive
/// access. Pointers and references returned by find()/accounts() are invalidated by any
/// mutation.
class MemState {
  public:
    using AccountMap = std::unordered_map<Address, MemAccount>;

    // --- reads -------------------------------------------------------------------------------
    /// The account at `addr`, or nullptr if it does not exist.
    [[nodiscard]] const MemAccount* find(const Address& addr) const noexcept;
    [[nodiscard]] bool contains(const Address& addr) const noexcept {
        return find(addr) != nullptr;
    }
    /// The account's trie header (nonce, balance, code hash, and storage root computed from its
    /// storage: O(slots) keccak work), or nullopt if it does not exist.
    [[nodiscard]] std::optional<Account> get_account(const Address& addr) const;
    /// The value at `slot`, zero when the slot or the account is absent.
    [[nodiscard]] U256 get_storage(const Address& addr, const U256& slot) const noexcept;
    /// Number of accounts.
    [[nodiscard]] size_t size() const noexcept { return accounts_.size(); }
    [[nodiscard]] bool empty() const noexcept { return accounts_.empty(); }
    /// All accounts, for iteration (unordered).
    [[nodiscard]] const AccountMap& accounts() const noexcept { return accounts_; }

    // --- writes ------------------------------------------------------------------------------
    /// Creates an empty account if none exists; an existing account is left as it is.
    void create(const Address& addr);
    void set_nonce(const Address& addr, uint64_t nonce);
    void set_balance(const Address& addr, const U256& balance);
    /// Replaces the code and recomputes its hash.
    void set_code(const Address& addr, Bytes code);
    /// Sets one slot; a zero value erases it.
    void set_storage(const Address& addr, const U256& slot, const U256& value);
    /// Removes every storage slot of the account (if it exists).
    void clear_storage(const Address& addr) noexcept;
    /// Removes the account with its code and storage. Returns whether it existed.
    bool erase(const Address& addr) noexcept;
    /// Removes every account.
    void clear() noexcept { accounts_.clear(); }

    // --- roots -------------------------------------------------------------------------------
    /// Root of the account's storage trie: keys keccak256(slot as 32 big-endian bytes), values
    /// rlp(value as minimal big-endian bytes). kEmptyTrieRoot for a missing account or no storage.
    [[nodiscard]] Hash32 storage_root(const Address& addr) const;
    /// Root of the state trie: keys keccak256(address), values RLP(Account) with each account's
    /// storage root computed as storage_root() does. kEmptyTrieRoot when there are no accounts.
    [[nodiscard]] Hash32 state_root() const;

  private:
    MemAccount& get_or_create(const Address& addr) { return accounts_[addr]; }

    AccountMap accounts_;
};

}  // namespace pel::state
