// SPDX-License-Identifier: Apache-2.0
// Ethereum transactions: legacy (with and without EIP-155), EIP-2930, EIP-1559 and EIP-4844.
// Encoded form is the EIP-2718 "canonical" one: legacy is an RLP list, typed is type || rlp(list).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "primitives/bytes.hpp"
#include "primitives/hash.hpp"
#include "primitives/result.hpp"
#include "primitives/secp256k1.hpp"
#include "primitives/u256.hpp"

namespace pel {

enum class TxnType : uint8_t {
    kLegacy = 0,
    kAccessList = 1,  ///< EIP-2930
    kDynamicFee = 2,  ///< EIP-1559
    kBlob = 3,        ///< EIP-4844
};

struct AccessListEntry {
    Address address;
    std::vector<Hash32> storage_keys;
    friend bool operator==(const AccessListEntry&, const AccessListEntry&) = default;
};
using AccessList = std::vector<AccessListEntry>;

struct Transaction {
    TxnType type = TxnType::kLegacy;
    /// Absent only for legacy transactions signed without EIP-155 replay protection.
    std::optional<uint64_t> chain_id;
    uint64_t nonce = 0;
    /// Legacy and EIP-2930: both fee fields hold gas_price.
    U256 max_priority_fee_per_gas;
    U256 max_fee_per_gas;
    uint64_t gas_limit = 0;
    /// Absent for contract creation (not allowed for blob transactions).
    std::optional<Address> to;
    U256 value;
    Bytes data;
    AccessList access_list;
    U256 max_fee_per_blob_gas;
    std::vector<Hash32> blob_versioned_hashes;
    crypto::Signature signature;

    [[nodiscard]] const U256& gas_price() const noexcept { return max_fee_per_gas; }
    friend bool operator==(const Transaction&, const Transaction&) = default;
};

/// Decodes a canonical transaction encoding. Errors (with messages that name the field, e.g.
/// "txn: field 'nonce': ..."): malformed or non-canonical RLP, unknown type byte, wrong field
/// count or width, invalid legacy v, typed y_parity above 1, a blob transaction without `to`,
/// trailing bytes. Signature values are not range-checked here (recover_sender does that).
/// Thread safety: no function in this header keeps shared state; call them from any thread.
[[nodiscard]] Result<Transaction> decode_transaction(ByteView encoded);

/// EIP-4844's network form, in which eth_sendRawTransaction and the pool carry a blob
/// transaction with its sidecar: 0x03 || rlp([tx_payload_body, blobs, commitments, proofs]), where
/// tx_payload_body is the field list of the canonical form (what blocks hold and what the
/// transaction hash is of).
inline constexpr size_t kBlobBytes = 131072;  ///< 4096 field elements of 32 bytes
inline constexpr size_t kKzgBytes = 48;       ///< a compressed BLS12-381 G1 point

struct PooledBlobTransaction {
    Transaction txn;
    Bytes canonical;  ///< 0x03 || tx_payload_body
    /// Views into the decoded input (which must outlive them), in sidecar order.
    std::vector<ByteView> blobs;        ///< kBlobBytes each
    std::vector<ByteView> commitments;  ///< kKzgBytes each
    std::vector<ByteView> proofs;       ///< kKzgBytes each
};

/// True when `encoded` is type 3 followed by a list whose first item is itself a list: the
/// network form (the canonical form's first item is the chain id). Looks at the headers only.
[[nodiscard]] bool is_blob_network_form(ByteView encoded) noexcept;

/// Decodes the network form. Errors (naming the part): not type 3, malformed or non-canonical RLP,
/// a payload that decode_transaction would refuse, not exactly four items, a blob that is not
/// kBlobBytes long, a commitment or proof that is not kKzgBytes long, trailing bytes. Whether the
/// counts agree with the versioned hashes and the proofs verify is for the caller to check.
[[nodiscard]] Result<PooledBlobTransaction> decode_blob_network_form(ByteView encoded);

/// The network form of blob transaction `txn` with the given sidecar (sizes not checked here).
[[nodiscard]] Bytes encode_blob_network_form(const Transaction& txn,
                                             std::span<const ByteView> blobs,
                                             std::span<const ByteView> commitments,
                                             std::span<const ByteView> proofs);

/// Encodes canonically; decode_transaction(encode_transaction(t)) == t for every transaction the
/// decoder could have produced (legacy fee fields equal; typed ones with a chain id).
[[nodiscard]] Bytes encode_transaction(const Transaction& txn);

/// What is signed: type || rlp(unsigned fields), or for legacy rlp(unsigned fields), with EIP-155's
/// chain id, 0, 0 when it has a chain id.
[[nodiscard]] Bytes signing_payload(const Transaction& txn);

/// keccak256(signing_payload(txn)): the hash that is signed.
[[nodiscard]] Hash32 signing_hash(const Transaction& txn);

/// keccak256(encode_transaction(txn)): the transaction hash.
[[nodiscard]] Hash32 transaction_hash(const Transaction& txn);

/// Recovers the sender (EIP-2 low-s enforced). Costs one ECDSA recovery (~45-80 us).
[[nodiscard]] Result<Address> recover_sender(const Transaction& txn);

/// recover_sender(*txns[i]) for every i, in order, with the signing hashes and the public keys'
/// hashes computed together (keccak256_many): for a batch of transactions from one client.
[[nodiscard]] std::vector<Result<Address>> recover_sender_many(
    std::span<const Transaction* const> txns);

/// Signs in place with `secret_key` (sets `signature`).
[[nodiscard]] Result<void> sign_transaction(Transaction& txn, const Hash32& secret_key);

}  // namespace pel
