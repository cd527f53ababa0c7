// SPDX-License-Identifier: Apache-2.0
#include "execution/state_view_reader.hpp"

#include <utility>

namespace pel::exec {

void StateViewReader::latch(const Error& e) noexcept {
    try {
        const std::lock_guard lock(mu_);
        if (!error_) {
            error_ = e;
        }
    } catch (...) {
        // Copying the message failed (out of memory); the flag below still reports it.
    }
    failed_.store(true, std::memory_order_release);
}

std::optional<Error> StateViewReader::error() const {
    if (!failed_.load(std::memory_order_acquire)) {
        return std::nullopt;
    }
    const std::lock_guard lock(mu_);
    return error_ ? error_ : std::optional<Error>(Error{"state read failed"});
}

std::optional<AccountInfo> StateViewReader::read_account(const Address& addr) noexcept {
    try {
        auto r = view_.account(addr);
        if (!r) {
            latch(r.error());
            return std::nullopt;
        }
        if (!*r) {
            return std::nullopt;
        }
        const state::Account& a = **r;
        return AccountInfo{a.nonce, a.balance, a.code_hash};
    } catch (...) {
        latch(Error{"state read: exception"});
        return std::nullopt;
    }
}

U256 StateViewReader::read_storage(const Address& addr, const U256& key) noexcept {
    try {
        auto r = view_.storage(addr, key);
        if (!r) {
            latch(r.error());
            return U256{};
        }
        return *r;
    } catch (...) {
        latch(Error{"state read: exception"});
        return U256{};
    }
}

bool StateViewReader::has_storage(const Address& addr) noexcept {
    try {
        auto r = view_.account(addr);
        if (!r) {
            latch(r.error());
            return false;
        }
        return *r && (*r)->storage_root != kEmptyTrieRoot;
    } catch (...) {
        latch(Error{"state read: exception"});
        return false;
    }
}

ByteView StateViewReader::read_code(const Hash32& code_hash) noexcept {
    if (code_hash == kEmptyCodeHash) {
        return {};
    }
    try {
        {
            const std::lock_guard lock(mu_);
            if (const auto it = code_.find(code_hash); it != code_.end()) {
                return *it->second;
            }
        }
        auto r = view_.code(code_hash);
        if (!r) {
            latch(r.error());
            return {};
        }
        if (!*r) {
            return {};
        }
        const std::lock_guard lock(mu_);
        const auto& kept = code_.try_emplace(code_hash, std::move(*r)).first->second;
        return *kept;
    } catch (...) {
        latch(Error{"state read: exception"});
        return {};
    }
}

state::StateDiff to_state_diff(const TxnWrites& diff) {
    state::StateDiff out;
    out.accounts.reserve(diff.accounts.size());
    for (const AccountWrite& w : diff.accounts) {
        state::AccountDiff& d = out.accounts[w.address];
        if (w.deleted) {
            d.deleted = true;
            continue;
        }
        d.storage_cleared = w.storage_cleared;
        d.nonce = w.info.nonce;
        d.balance = w.info.balance;
        if (w.code) {
            d.code =
                state::CodeChange{w.code->empty() ? kEmptyCodeHash : w.info.code_hash, *w.code};
        }
        for (const StorageWrite& s : w.storage) {
            d.storage[s.key] = s.value;
        }
    }
    return out;
}

}  // namespace pel::exec
