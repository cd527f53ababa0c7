// SPDX-License-Identifier: Apache-2.0
// The account as the state trie stores it (Yellow Paper section 4.1):
// RLP([nonce, balance, storageRoot, codeHash]).
#pragma once

#include <cstdint>

#include "primitives/bytes.hpp"
#include "primitives/hash.hpp"
#include "primitives/result.hpp"
#include "primitives/u256.hpp"

namespace pel::state {

/// An account's header fields. A plain value type.
struct Account {
    uint64_t nonce = 0;
    U256 balance;
    Hash32 storage_root = kEmptyTrieRoot;  ///< root of the account's storage trie
    Hash32 code_hash = kEmptyCodeHash;     ///< keccak256 of the account's code

    /// EIP-161 emptiness: no nonce, no balance, no code.
    [[nodiscard]] bool is_empty() const noexcept {
        return nonce == 0 && balance.is_zero() && code_hash == kEmptyCodeHash;
    }

    friend bool operator==(const Account&, const Account&) = default;
};

/// Number of bytes encode_account() appends for `a`.
[[nodiscard]] size_t encoded_account_size(const Account& a) noexcept;

/// Appends RLP([nonce, balance, storage_root, code_hash]) to `out` (integers minimal big-endian).
void encode_account(Bytes& out, const Account& a);

/// RLP([nonce, balance, storage_root, code_hash]) as a new buffer.
[[nodiscard]] Bytes encode_account(const Account& a);

/// Strict decoding of exactly one account RLP: a list of exactly four items, canonical integers
/// (nonce fits 64 bits, balance 256 bits, no leading zeros), 32-byte hashes, no bytes after the
/// list. Errors name the field and the offset.
[[nodiscard]] Result<Account> decode_account(ByteView rlp);

}  // namespace pel::state
