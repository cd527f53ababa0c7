// SPDX-License-Identifier: Apache-2.0
// Chain records: the Cancun header RLP and block hash, the EIP-2718 receipt encoding (what the
// receiptsRoot commits to), block bodies, and the auxiliary-record keys under which the node keeps
// them in the state store (written in the same batch as the block's state, see
// StateStore::commit(block_num, diff, aux)).
//
// Aux records (every key starts with StateStore::kAuxPrefix 'x'; numbers are 8-byte big-endian):
//   "xh" num   -> header RLP (complete: the state root comes from StateStore::prepare)
//   "xn" hash  -> num (block hash index)
//   "xb" num   -> body: rlp([[tx encoding as a byte string]..., [sender]...])
//   "xr" num   -> rlp([stored receipt as a byte string]...) (encode_stored_receipt: the
//                 consensus encoding without its logsBloom)
//   "xt" hash  -> rlp([num, index]) (transaction index)
//   "xc" num   -> conflict report (JSON text)
//   "xq" num   -> commit certificate (consensus::encode_certificate; consensus chains only)
//   "xg"       -> rlp([genesis hash, chain id, kChainFormatVersion]) (the datadir's identity)
//   "xo" num   -> the old values block num changed (encode_old_values; the last --history.state
//                 blocks only: a block's record is deleted in the batch of the block N above it)
//
// Chain format versions: 1 (no version field in "xg") stored headers with a zero stateRoot and
// the root under "xs" with the next block; 2 stores complete headers; 3 stores receipts without
// their logsBloom. A datadir of another version is refused at open (nothing is overwritten).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "execution/transition.hpp"
#include "execution/txn_state.hpp"
#include "node/api.hpp"
#include "primitives/bytes.hpp"
#include "primitives/hash.hpp"
#include "primitives/result.hpp"
#include "primitives/transaction.hpp"
#include "state/account.hpp"
#include "state/state_view.hpp"

namespace pel::node {

/// keccak256(rlp([])): the ommers hash of every post-merge block.
inline constexpr Hash32 kEmptyOmmersHash{{0x1d, 0xcc, 0x4d, 0xe8, 0xde, 0xc7, 0x5d, 0x7a,
                                          0xab, 0x85, 0xb5, 0x67, 0xb6, 0xcc, 0xd4, 0x1a,
                                          0xd3, 0x12, 0x45, 0x1b, 0x94, 0x8a, 0x74, 0x13,
                                          0xf0, 0xa1, 0x42, 0xfd, 0x40, 0xd4, 0x93, 0x47}};

/// EIP-4844 target blob gas per block (3 blobs).
inline constexpr uint64_t kTargetBlobGasPerBlock = 393216;

/// rlp([parentHash, ommersHash, coinbase, stateRoot, transactionsRoot, receiptsRoot, logsBloom,
/// difficulty, number, gasLimit, gasUsed, timestamp, extraData, mixHash, nonce, baseFeePerGas,
/// withdrawalsRoot, blobGasUsed, excessBlobGas, parentBeaconBlockRoot]) (Cancun).
[[nodiscard]] Bytes encode_header(const BlockHeader& h);
/// Strict inverse of encode_header (all 20 fields). Errors name the field.
[[nodiscard]] Result<BlockHeader> decode_header(ByteView rlp);
/// keccak256(encode_header(h)).
[[nodiscard]] Hash32 header_hash(const BlockHeader& h);

/// EIP-1559 base fee of the child of `parent` (elasticity 2, change denominator 8).
[[nodiscard]] U256 next_base_fee(const BlockHeader& parent);
/// EIP-4844 excess blob gas of the child of `parent`.
[[nodiscard]] uint64_t next_excess_blob_gas(const BlockHeader& parent);

/// A receipt as stored: the consensus fields.
struct StoredReceipt {
    TxnType type = TxnType::kLegacy;
    bool status = false;
    uint64_t cumulative_gas_used = 0;
    Bloom bloom{};
    std::vector<exec::Log> logs;
};

/// EIP-2718 receipt encoding: rlp([status, cumulativeGasUsed, logsBloom, logs]), prefixed by the
/// type byte for typed transactions. This is the receipts trie's value.
[[nodiscard]] Bytes encode_receipt(const StoredReceipt& r);
/// The receipt as the "xr" records keep it: encode_receipt without the logsBloom, which is 256 of
/// the about 430 bytes of an ERC-20 transfer's receipt and follows from the logs (geth stores
/// receipts the same way). decode_stored_receipt computes the bloom again.
[[nodiscard]] Bytes encode_stored_receipt(const StoredReceipt& r);
[[nodiscard]] Result<StoredReceipt> decode_stored_receipt(ByteView encoded);

/// A block body as stored.
struct StoredBody {
    std::vector<Bytes> txns;  ///< canonical encodings
    std::vector<Address> senders;
};
[[nodiscard]] Bytes encode_body(const StoredBody& b);
[[nodiscard]] Result<StoredBody> decode_body(ByteView rlp);

[[nodiscard]] Bytes encode_receipt_list(std::span<const Bytes> receipts);
[[nodiscard]] Result<std::vector<Bytes>> decode_receipt_list(ByteView rlp);

/// Size of rlp([header, [txs], [], []]) (the "size" of a block in JSON-RPC).
[[nodiscard]] uint64_t block_size(ByteView header_rlp, std::span<const Bytes> txns);

/// Conflict report as stored (JSON), and back.
[[nodiscard]] std::string encode_conflict_report(const BlockConflictReport& r);
[[nodiscard]] Result<BlockConflictReport> decode_conflict_report(ByteView text);

/// An account as a block found it before changing it, with the old values of the slots the block
/// wrote; when the block deleted the account or cleared its storage (`wiped`), every slot it had.
struct OldAccount {
    std::optional<state::Account> account;  ///< nullopt: absent
    bool wiped = false;                     ///< deleted or storage cleared: `slots` is all of it
    std::unordered_map<U256, U256> slots;   ///< slot -> value
    friend bool operator==(const OldAccount&, const OldAccount&) = default;
};

/// What one block changed, as it was before the block (reads below the head, debug_trace*
/// replays, evm_revert), and the dev changes (anvil_set*) the block carried under its
/// transactions.
struct OldValues {
    std::unordered_map<Address, OldAccount> accounts;
    std::shared_ptr<const state::StateDiff> dev_changes;  ///< null: none
};

/// rlp([[[address, account, wiped, [[slot, value]...]]...], dev]) with addresses and slots in
/// ascending order; account is the account RLP (state::encode_account) or the empty string when
/// absent, wiped 0 or 1; dev is the empty string (none) or
/// [[address, flags, [nonce]?, [balance]?, [code hash, code]?, [[slot, value]...]]...] where
/// flags is 1 (deleted) | 2 (storage cleared) and each `?` item is an empty list when not set.
[[nodiscard]] Bytes encode_old_values(const OldValues& v);
/// Strict inverse of encode_old_values: what it accepts encodes back to the same bytes (ascending
/// addresses and slots without repeats, canonical integers, no unknown flags, no trailing bytes).
/// Errors name the part.
[[nodiscard]] Result<OldValues> decode_old_values(ByteView rlp);

/// Version of the chain records' layout, stored in the identity record.
inline constexpr uint64_t kChainFormatVersion = 3;

/// A block as consensus carries it (the value's payload):
///   rlp([header, [transaction encoding as a byte string, ...]])
/// where header is the complete header list (encode_header, state root included). The value id
/// is keccak256(payload); the block hash stays keccak256(header).
struct DecodedBlock {
    BlockHeader header;
    Bytes header_rlp;               ///< encode_header(header)
    std::vector<Bytes> raw_txns;    ///< canonical encodings
    std::vector<Transaction> txns;  ///< decoded raw_txns
};
[[nodiscard]] Bytes encode_block(ByteView header_rlp, std::span<const Bytes> raw_txns);
/// Strict: exactly one list of two items, a header that decodes strictly (decode_header), a list
/// of byte strings each of which is a transaction that decodes and re-encodes byte for byte, no
/// trailing bytes. Errors name the part ("block: transaction 3: ...").
[[nodiscard]] Result<DecodedBlock> decode_block(ByteView payload);

/// Aux keys.
namespace keys {
[[nodiscard]] Bytes header(uint64_t num);
[[nodiscard]] Bytes hash_index(const Hash32& hash);
[[nodiscard]] Bytes certificate(uint64_t num);
[[nodiscard]] Bytes body(uint64_t num);
[[nodiscard]] Bytes receipts(uint64_t num);
[[nodiscard]] Bytes txn(const Hash32& hash);
[[nodiscard]] Bytes conflicts(uint64_t num);
[[nodiscard]] Bytes old_values(uint64_t num);
/// The prefix of every old_values(num) key (num follows as 8 big-endian bytes).
[[nodiscard]] Bytes old_values_prefix();
[[nodiscard]] Bytes identity();
}  // namespace keys

[[nodiscard]] Bytes encode_u64_be(uint64_t v);
[[nodiscard]] Result<uint64_t> decode_u64_be(ByteView b);

}  // namespace pel::node
