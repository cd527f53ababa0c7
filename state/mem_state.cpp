// SPDX-License-Identifier: Apache-2.0
#include "state/mem_state.hpp"

#include <algorithm>
#include <utility>
#include <vector>

#include "primitives/keccak.hpp"
#include "primitives/rlp.hpp"
#include "state/trie.hpp"

namespace pel::state {

namespace {

// Buffers reused across the accounts of one state_root() call, so that hashing N accounts does
// not allocate per account once the largest storage has been seen.
struct RootScratch {
    HashBuilder builder;
    std::vector<std::pair<Hash32, U256>> slots;
    Bytes value;
};

Hash32 compute_storage_root(const StorageMap& storage, RootScratch& s) {
    if (storage.empty()) return kEmptyTrieRoot;
    s.slots.clear();
    s.slots.reserve(storage.size());
    for (const auto& [slot, value] : storage) {
        PEL_DEBUG_ASSERT(!value.is_zero(), "zero values are never stored");
        std::array<uint8_t, 32> be{};
        slot.to_be32(be.data());
        s.slots.emplace_back(keccak256(be), value);
    }
    std::sort(s.slots.begin(), s.slots.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    for (const auto& [key, value] : s.slots) {
        s.value.clear();
        rlp::encode_uint(s.value, value);
        s.builder.add(key, s.value);
    }
    return s.builder.root();
}

}  // namespace

const MemAccount* MemState::find(const Address& addr) const noexcept {
    const auto it = accounts_.find(addr);
    return it == accounts_.end() ? nullptr : &it->second;
}

std::optional<Account> MemState::get_account(const Address& addr) const {
    const MemAccount* a = find(addr);
    if (a == nullptr) return std::nullopt;
    RootScratch scratch;
    return Account{a->nonce, a->balance, compute_storage_root(a->storage, scratch), a->code_hash};
}

U256 MemState::get_storage(const Address& addr, const U256& slot) const noexcept {
    const MemAccount* a = find(addr);
    if (a == nullptr) return {};
    const auto it = a->storage.find(slot);
    return it == a->storage.end() ? U256{} : it->second;
}

void MemState::create(const Address& addr) { static_cast<void>(get_or_create(addr)); }

void MemState::set_nonce(const Address& addr, uint64_t nonce) { get_or_create(addr).nonce = nonce; }

void MemState::set_balance(const Address& addr, const U256& balance) {
    get_or_create(addr).balance = balance;
}

void MemState::set_code(const Address& addr, Bytes code) {
    MemAccount& a = get_or_create(addr);
    a.code_hash = keccak256(code);
    a.code = std::move(code);
}

void MemState::set_storage(const Address& addr, const U256& slot, const U256& value) {
    MemAccount& a = get_or_create(addr);
    if (value.is_zero()) {
        a.storage.erase(slot);
    } else {
        a.storage.insert_or_assign(slot, value);
    }
}

void MemState::clear_storage(const Address& addr) noexcept {
    const auto it = accounts_.find(addr);
    if (it != accounts_.end()) it->second.storage.clear();
}

bool MemState::erase(const Address& addr) noexcept { return accounts_.erase(addr) != 0; }

Hash32 MemState::storage_root(const Address& addr) const {
    const MemAccount* a = find(addr);
    if (a == nullptr) return kEmptyTrieRoot;
    RootScratch scratch;
    return compute_storage_root(a->storage, scratch);
}

Hash32 MemState::state_root() const {
    if (accounts_.empty()) return kEmptyTrieRoot;
    std::vector<std::pair<Hash32, const MemAccount*>> entries;
    entries.reserve(accounts_.size());
    for (const auto& [addr, account] : accounts_) {
        entries.emplace_back(keccak256(addr.view()), &account);
    }
    std::sort(entries.begin(), entries.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    RootScratch scratch;
    HashBuilder accounts_builder;
    Bytes value;
    value.reserve(128);
    for (const auto& [key, a] : entries) {
        const Account header{a->nonce, a->balance, compute_storage_root(a->storage, scratch),
                             a->code_hash};
        value.clear();
        encode_account(value, header);
        accounts_builder.add(key, value);
    }
    return accounts_builder.root();
}

}  // namespace pel::state
