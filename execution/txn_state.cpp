// SPDX-License-Identifier: Apache-2.0
#include "execution/txn_state.hpp"

#include <algorithm>
#include <utility>

#include "primitives/keccak.hpp"
#include "primitives/sorted.hpp"

namespace pel::exec {

TxnState::~TxnState() = default;

TxnState::Account& TxnState::load(const Address& addr) noexcept {
    auto it = accounts_.find(addr);
    if (it == accounts_.end()) {
        // First access: this read is the transaction's dependency on the account header.
        Account acc;
        acc.original = reader_.read_account(addr);
        acc.current = acc.original;
        it = accounts_.emplace(addr, std::move(acc)).first;
    }
    return it->second;
}

TxnState::Slot& TxnState::load_slot(const Address& addr, Account& acc, const U256& key) noexcept {
    auto it = acc.slots.find(key);
    if (it == acc.slots.end()) {
        // A (re)created account does not see its former storage; EIP-7610 guarantees there was
        // none, so asking the reader would only add a needless read dependency.
        const U256 v = acc.storage_cleared ? U256{} : reader_.read_storage(addr, key);
        it = acc.slots.emplace(key, Slot{v, v}).first;
    }
    return it->second;
}

void TxnState::save(const Address& addr, const Account& acc) noexcept {
    journal_.emplace_back(
        UndoAccount{addr, acc.current, acc.created, acc.destructed, acc.storage_cleared});
}

AccountInfo& TxnState::mutable_info(const Address& addr, Account& acc) noexcept {
    save(addr, acc);
    if (!acc.current) {
        acc.current = AccountInfo{};
    }
    return *acc.current;
}

const AccountInfo* TxnState::find_account(const Address& addr) noexcept {
    Account& acc = load(addr);
    return acc.current ? &*acc.current : nullptr;
}

bool TxnState::is_live(const Address& addr) noexcept {
    const AccountInfo* info = find_account(addr);
    return info != nullptr && !info->is_empty();
}

uint64_t TxnState::nonce(const Address& addr) noexcept {
    const AccountInfo* info = find_account(addr);
    return info != nullptr ? info->nonce : 0;
}

U256 TxnState::balance(const Address& addr) noexcept {
    const AccountInfo* info = find_account(addr);
    return info != nullptr ? info->balance : U256{};
}

Hash32 TxnState::code_hash(const Address& addr) noexcept {
    const AccountInfo* info = find_account(addr);
    return info != nullptr ? info->code_hash : kEmptyCodeHash;
}

ByteView TxnState::code(const Address& addr) noexcept {
    const Hash32 h = code_hash(addr);
    if (h == kEmptyCodeHash) {
        return {};
    }
    if (const auto it = new_code_.find(h); it != new_code_.end()) {
        return it->second;
    }
    return reader_.read_code(h);
}

bool TxnState::has_storage(const Address& addr) noexcept {
    Account& acc = load(addr);
    for (const auto& [key, slot] : acc.slots) {
        if (!slot.current.is_zero()) {
            return true;
        }
    }
    // Approximation: a base-state slot zeroed in this transaction still counts. Only an account
    // with code can have written its slots, and such an account collides anyway.
    return !acc.storage_cleared && reader_.has_storage(addr);
}

void TxnState::set_nonce(const Address& addr, uint64_t nonce) noexcept {
    Account& acc = load(addr);
    mutable_info(addr, acc).nonce = nonce;
}

void TxnState::add_balance(const Address& addr, const U256& amount) noexcept {
    Account& acc = load(addr);
    AccountInfo& info = mutable_info(addr, acc);
    info.balance += amount;
    touch(addr);
}

void TxnState::sub_balance(const Address& addr, const U256& amount) noexcept {
    Account& acc = load(addr);
    AccountInfo& info = mutable_info(addr, acc);
    info.balance -= amount;
    touch(addr);
}

void TxnState::set_balance(const Address& addr, const U256& amount) noexcept {
    Account& acc = load(addr);
    mutable_info(addr, acc).balance = amount;
}

void TxnState::set_code(const Address& addr, ByteView code) noexcept {
    const Hash32 h = keccak256(code);
    if (!code.empty()) {
        new_code_.try_emplace(h, code.begin(), code.end());
    }
    Account& acc = load(addr);
    mutable_info(addr, acc).code_hash = code.empty() ? kEmptyCodeHash : h;
}

void TxnState::create_account(const Address& addr, uint64_t nonce) noexcept {
    Account& acc = load(addr);
    const U256 balance = acc.current ? acc.current->balance : U256{};
    save(addr, acc);
    acc.current = AccountInfo{nonce, balance, kEmptyCodeHash};
    acc.created = true;
    acc.storage_cleared = true;
    // Slots seen so far belong to the former account; they read as zero from now on.
    for (auto& [key, slot] : acc.slots) {
        if (!slot.current.is_zero()) {
            journal_.emplace_back(UndoSlot{addr, key, slot.current});
            slot.current = U256{};
        }
    }
}

bool TxnState::is_created(const Address& addr) const noexcept {
    const auto it = accounts_.find(addr);
    return it != accounts_.end() && it->second.created;
}

void TxnState::touch(const Address& addr) noexcept {
    if (touched_.insert(addr).second) {
        journal_.emplace_back(UndoTouch{addr});
    }
}

bool TxnState::mark_destructed(const Address& addr) noexcept {
    Account& acc = load(addr);
    if (acc.destructed) {
        return false;
    }
    save(addr, acc);
    acc.destructed = true;
    return true;
}

U256 TxnState::storage(const Address& addr, const U256& key) noexcept {
    Account& acc = load(addr);
    return load_slot(addr, acc, key).current;
}

U256 TxnState::original_storage(const Address& addr, const U256& key) noexcept {
    Account& acc = load(addr);
    return load_slot(addr, acc, key).original;
}

vm::StorageStatus TxnState::set_storage(const Address& addr, const U256& key,
                                        const U256& value) noexcept {
    using vm::StorageStatus;
    Account& acc = load(addr);
    Slot& slot = load_slot(addr, acc, key);
    const U256 original = slot.original;
    const U256 current = slot.current;
    if (current == value) {
        return StorageStatus::kAssigned;
    }
    journal_.emplace_back(UndoSlot{addr, key, current});
    slot.current = value;
    return vm::storage_status(original, current, value);
}

U256 TxnState::transient_storage(const Address& addr, const U256& key) const noexcept {
    const auto it = transient_.find(SlotKey{addr, key});
    return it != transient_.end() ? it->second : U256{};
}

void TxnState::set_transient_storage(const Address& addr, const U256& key,
                                     const U256& value) noexcept {
    U256& v = transient_[SlotKey{addr, key}];
    if (v == value) {
        return;
    }
    journal_.emplace_back(UndoTransient{addr, key, v});
    v = value;
}

vm::AccessStatus TxnState::access_account(const Address& addr) noexcept {
    if (!warm_accounts_.insert(addr).second) {
        return vm::AccessStatus::kWarm;
    }
    journal_.emplace_back(UndoWarmAccount{addr});
    return vm::AccessStatus::kCold;
}

vm::AccessStatus TxnState::access_storage(const Address& addr, const U256& key) noexcept {
    if (!warm_slots_.insert(SlotKey{addr, key}).second) {
        return vm::AccessStatus::kWarm;
    }
    journal_.emplace_back(UndoWarmSlot{addr, key});
    return vm::AccessStatus::kCold;
}

void TxnState::add_log(Log log) noexcept {
    journal_.emplace_back(UndoLog{});
    logs_.push_back(std::move(log));
}

void TxnState::revert(size_t snap) noexcept {
    PEL_ASSERT(snap <= journal_.size(), "TxnState::revert past the journal");
    while (journal_.size() > snap) {
        Undo& undo = journal_.back();
        if (const auto* u = std::get_if<UndoAccount>(&undo)) {
            Account& acc = accounts_.find(u->addr)->second;
            acc.current = u->current;
            acc.created = u->created;
            acc.destructed = u->destructed;
            acc.storage_cleared = u->storage_cleared;
        } else if (const auto* s = std::get_if<UndoSlot>(&undo)) {
            accounts_.find(s->addr)->second.slots.find(s->key)->second.current = s->current;
        } else if (const auto* t = std::get_if<UndoTransient>(&undo)) {
            transient_[SlotKey{t->addr, t->key}] = t->value;
        } else if (const auto* wa = std::get_if<UndoWarmAccount>(&undo)) {
            warm_accounts_.erase(wa->addr);
        } else if (const auto* ws = std::get_if<UndoWarmSlot>(&undo)) {
            warm_slots_.erase(SlotKey{ws->addr, ws->key});
        } else if (const auto* th = std::get_if<UndoTouch>(&undo)) {
            touched_.erase(th->addr);
        } else {
            PEL_ASSERT(std::holds_alternative<UndoLog>(undo), "unknown undo record");
            logs_.pop_back();
        }
        journal_.pop_back();
    }
}

void TxnState::finalize() noexcept {
    for (auto& [addr, acc] : accounts_) {
        if (acc.destructed) {
            acc.current.reset();
        }
    }
    for (const Address& addr : touched_) {
        Account& acc = load(addr);
        if (acc.current && acc.current->is_empty()) {
            acc.current.reset();
        }
    }
    journal_.clear();
}

TxnWrites TxnState::build_writes() const {
    // Visit the accounts in address order (sorting the records themselves would move optional
    // code buffers around, and trips GCC 12's -Wmaybe-uninitialized under sanitizers).
    const auto order = entries_by_key(accounts_);
    TxnWrites out;
    out.accounts.reserve(accounts_.size());
    for (const auto* entry : order) {
        const Address& addr = entry->first;
        const Account& acc = entry->second;
        if (!acc.current) {
            if (acc.original) {
                AccountWrite w;
                w.address = addr;
                w.deleted = true;
                out.accounts.push_back(std::move(w));
            }
            continue;
        }
        AccountWrite w;
        w.address = addr;
        w.info = *acc.current;
        w.storage_cleared = acc.storage_cleared;
        const Hash32 old_code_hash = acc.original ? acc.original->code_hash : kEmptyCodeHash;
        if (acc.current->code_hash != old_code_hash ||
            (acc.storage_cleared && acc.current->code_hash != kEmptyCodeHash)) {
            const auto it = new_code_.find(acc.current->code_hash);
            w.code = it != new_code_.end() ? it->second : Bytes{};
        }
        for (const auto& [key, slot] : acc.slots) {
            const bool write =
                acc.storage_cleared ? !slot.current.is_zero() : slot.current != slot.original;
            if (write) {
                w.storage.push_back(StorageWrite{key, slot.current});
            }
        }
        std::sort(w.storage.begin(), w.storage.end(),
                  [](const StorageWrite& a, const StorageWrite& b) { return a.key < b.key; });
        const bool header_changed = !acc.original || *acc.original != *acc.current;
        if (header_changed || acc.storage_cleared || !w.storage.empty()) {
            out.accounts.push_back(std::move(w));
        }
    }
    return out;
}

}  // namespace pel::exec
