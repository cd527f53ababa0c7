// SPDX-License-Identifier: Apache-2.0
// StateReaders over a state::MemState: MemStateReader, for the sequential executor (one
// transaction on one thread), and MemStateConcurrentReader, for the base state of a block that
// every Block-STM worker reads. One implementation serves both; they differ only in when the code
// is indexed by hash (MemState does not index it).
#pragma once

#include <optional>
#include <type_traits>
#include <unordered_map>

#include "execution/state_reader.hpp"
#include "primitives/bytes.hpp"
#include "primitives/hash.hpp"
#include "primitives/u256.hpp"
#include "state/mem_state.hpp"

namespace pel::exec {

/// The reads of a MemState behind `Port` (StateReader or ConcurrentStateReader). The MemState
/// must not change while the reader is in use; code views point into its accounts.
///
/// Invariants and thread safety:
/// - `Port` a ConcurrentStateReader: every account's code is indexed by hash at construction
///   (O(accounts)) and nothing is written after it, so, the MemState's const reads being thread
///   safe, every method may be called from any number of threads at once.
/// - `Port` a plain StateReader: construction is O(1) (the sequential executor makes one reader
///   per transaction) and code is indexed as read_account() meets it, so read_code() knows only
///   the code of accounts read before; not thread safe (read_account() writes the index).
template <class Port>
class BasicMemStateReader : public Port {
    static_assert(std::is_base_of_v<StateReader, Port>, "Port is a StateReader interface");
    static constexpr bool kIndexAtConstruction = std::is_base_of_v<ConcurrentStateReader, Port>;

  public:
    explicit BasicMemStateReader(const state::MemState& state) noexcept(!kIndexAtConstruction)
        : state_(state) {
        if constexpr (kIndexAtConstruction) {
            for (const auto& [addr, acc] : state.accounts()) {
                index_code(acc);
            }
        }
    }

    [[nodiscard]] std::optional<AccountInfo> read_account(const Address& addr) noexcept override {
        const state::MemAccount* acc = state_.find(addr);
        if (acc == nullptr) {
            return std::nullopt;
        }
        if constexpr (!kIndexAtConstruction) {
            index_code(*acc);
        }
        return AccountInfo{acc->nonce, acc->balance, acc->code_hash};
    }

    [[nodiscard]] U256 read_storage(const Address& addr, const U256& key) noexcept override {
        return state_.get_storage(addr, key);
    }

    [[nodiscard]] bool has_storage(const Address& addr) noexcept override {
        const state::MemAccount* acc = state_.find(addr);
        return acc != nullptr && !acc->storage.empty();
    }

    [[nodiscard]] ByteView read_code(const Hash32& code_hash) noexcept override {
        const auto it = code_.find(code_hash);
        return it != code_.end() ? it->second : ByteView{};
    }

  private:
    void index_code(const state::MemAccount& acc) {
        if (!acc.code.empty()) {
            code_.try_emplace(acc.code_hash, ByteView{acc.code});
        }
    }

    const state::MemState& state_;
    /// Code by hash: every account's (concurrent), or those read_account() met (sequential).
    std::unordered_map<Hash32, ByteView> code_;
};

/// StateReader over a MemState, for the sequential executor (which applies a transaction's
/// writes only after its execution ends). Not thread safe: it indexes code as it reads accounts.
class MemStateReader final : public BasicMemStateReader<StateReader> {
  public:
    using BasicMemStateReader::BasicMemStateReader;
};

/// ConcurrentStateReader over a MemState that nobody mutates while the reader is in use (const
/// MemState reads are thread safe). Indexes the code by hash at construction.
class MemStateConcurrentReader final : public BasicMemStateReader<ConcurrentStateReader> {
  public:
    using BasicMemStateReader::BasicMemStateReader;
};

}  // namespace pel::exec
