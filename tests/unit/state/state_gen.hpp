// SPDX-License-Identifier: Apache-2.0
// Deterministic random blocks for the state store tests: block n of a seed is always the same
// StateDiff, so a crashed child and the checking parent agree on every block without talking.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>

#include "primitives/bytes.hpp"
#include "primitives/hash.hpp"
#include "primitives/keccak.hpp"
#include "primitives/u256.hpp"
#include "state/mem_state.hpp"
#include "state/state_view.hpp"

namespace pel::state::storetest {

/// A fresh directory from mkdtemp under the system temp dir ($TMPDIR), removed with its contents.
class TempDir {
  public:
    TempDir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "pel-state-XXXXXX").string();
        const char* made = ::mkdtemp(tmpl.data());
        if (made != nullptr) path_ = made;
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    TempDir(TempDir&&) = delete;
    TempDir& operator=(TempDir&&) = delete;
    ~TempDir() {
        std::error_code ec;
        if (!path_.empty()) std::filesystem::remove_all(path_, ec);
    }
    [[nodiscard]] const std::string& path() const noexcept { return path_; }
    /// A path inside the directory (not created).
    [[nodiscard]] std::string sub(const std::string& name) const { return path_ + "/" + name; }

  private:
    std::string path_;
};

/// The i-th address of a pool (spread over the key space by keccak).
inline Address pool_address(uint64_t i) {
    Bytes b(8);
    for (size_t k = 0; k < 8; ++k) b[k] = static_cast<uint8_t>(i >> (8 * k));
    const Hash32 h = keccak256(b);
    Address a;
    for (size_t k = 0; k < 20; ++k) a.bytes[k] = h.bytes[k];
    return a;
}

struct GenParams {
    uint64_t accounts = 150;    ///< address pool size
    uint64_t slots = 24;        ///< slot pool size per account
    uint64_t max_changes = 12;  ///< accounts changed per block (1..max)
};

/// Block `n` of `seed`: random balance/nonce/code changes, storage writes (some zero: deletes),
/// deletions (EIP-161 / selfdestruct) and storage clears (recreation).
inline StateDiff make_block(uint64_t seed, uint64_t n, const GenParams& p = {}) {
    std::mt19937_64 rng(seed * 0x9e3779b97f4a7c15ULL + n);
    auto pick = [&](uint64_t m) { return rng() % m; };
    StateDiff diff;
    const uint64_t changes = 1 + pick(p.max_changes);
    for (uint64_t c = 0; c < changes; ++c) {
        AccountDiff& d = diff.accounts[pool_address(pick(p.accounts))];
        d = AccountDiff{};
        const uint64_t action = pick(100);
        if (action < 8) {
            d.deleted = true;
            continue;
        }
        if (action < 14) d.storage_cleared = true;
        if (pick(100) < 70) d.balance = U256{rng(), pick(3) == 0 ? rng() : 0, 0, 0};
        if (pick(100) < 40) d.nonce = pick(1000);
        if (pick(100) < 10) {
            CodeChange code;
            code.bytes.resize(pick(50));
            for (auto& b : code.bytes) b = static_cast<uint8_t>(rng());
            code.hash = keccak256(code.bytes);
            d.code = std::move(code);
        }
        if (pick(100) < 55) {
            const uint64_t k = 1 + pick(8);
            for (uint64_t s = 0; s < k; ++s) {
                const U256 slot{pick(p.slots)};
                const uint64_t kind = pick(10);
                const U256 value = kind < 3   ? U256{}
                                   : kind < 6 ? U256{1 + pick(100)}
                                              : U256{rng(), rng(), rng(), rng()};
                d.storage[slot] = value;
            }
        }
    }
    return diff;
}

/// Applies a diff to the in-memory oracle with the StateDiff semantics.
inline void apply(MemState& ms, const StateDiff& diff) {
    for (const auto& [addr, d] : diff.accounts) {
        if (d.deleted) {
            ms.erase(addr);
            continue;
        }
        ms.create(addr);
        if (d.storage_cleared) ms.clear_storage(addr);
        if (d.nonce) ms.set_nonce(addr, *d.nonce);
        if (d.balance) ms.set_balance(addr, *d.balance);
        if (d.code) ms.set_code(addr, d.code->bytes);
        for (const auto& [slot, value] : d.storage) ms.set_storage(addr, slot, value);
    }
}

/// A diff that creates the whole of `ms` from nothing.
inline StateDiff full_diff(const MemState& ms) {
    StateDiff diff;
    for (const auto& [addr, a] : ms.accounts()) {
        AccountDiff& d = diff.accounts[addr];
        d.nonce = a.nonce;
        d.balance = a.balance;
        if (!a.code.empty()) d.code = CodeChange{a.code_hash, a.code};
        for (const auto& [slot, value] : a.storage) d.storage[slot] = value;
    }
    return diff;
}

}  // namespace pel::state::storetest
