// SPDX-License-Identifier: Apache-2.0
// The account as the state trie stores it (Yellow Paper section 4.1):
// RLP([nonce, balance, storageRoot, codeHash]).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

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

/// The stored form of an account (the flat account records): its RLP, except that an account
/// without storage and code (storage root kEmptyTrieRoot, code hash kEmptyCodeHash: every
/// externally owned account) is stored as RLP([nonce, balance]), 66 bytes shorter.
void encode_stored_account(Bytes& out, const Account& a);

/// Decodes exactly what encode_stored_account() writes (strictly, as decode_account(); the full
/// form of an account without storage and code is refused: one stored form per account).
[[nodiscard]] Result<Account> decode_stored_account(ByteView stored);

/// The same shortening at the byte level, for the state trie's leaf records, which hold an
/// account RLP as an opaque value: if `rlp` has the framing of an account RLP ending in the two
/// empty hashes (a long list header, then at most 189 more bytes, then the 66 bytes), returns
/// what lies between the header and those hashes (RLP(nonce) || RLP(balance) for a real account).
[[nodiscard]] std::optional<ByteView> shortened_account_rlp(ByteView rlp) noexcept;

/// The inverse of shortened_account_rlp(): appends the list header, `middle` and the two empty
/// hashes. `middle` is at most 189 bytes.
void append_lengthened_account_rlp(Bytes& out, ByteView middle);

/// The most bytes shortened_account_rlp() leaves (a list of at most 255 payload bytes).
inline constexpr size_t kMaxShortenedAccountRlp = 255 - 66;

}  // namespace pel::state
