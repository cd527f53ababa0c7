// SPDX-License-Identifier: Apache-2.0
// The Cancun state transition of one transaction: validation, gas purchase, execution, refunds,
// fee payment and EIP-161 cleanup, over a StateReader. The result is a receipt plus the write
// set; nothing is applied here, so the same function serves the sequential executor and Block-STM.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "execution/state_reader.hpp"
#include "execution/txn_state.hpp"
#include "primitives/hash.hpp"
#include "primitives/result.hpp"
#include "primitives/transaction.hpp"
#include "primitives/u256.hpp"

namespace pel::vm {
class Vm;
}  // namespace pel::vm

namespace pel::exec {

class BlockHashSource;
class FrameTracer;

/// Why a transaction is invalid (it cannot be included in a block; state is unchanged).
/// Checked in this order by apply_transaction.
enum class TxnError : uint8_t {
    kWrongChainId,                ///< EIP-155/EIP-2930: chain id differs from the block's
    kGasLimitExceedsBlock,        ///< gas limit above the block's gas limit (gas pool)
    kFeeCapBelowBaseFee,          ///< EIP-1559: max_fee_per_gas < base fee
    kPriorityAboveMaxFee,         ///< EIP-1559: max_priority_fee_per_gas > max_fee_per_gas
    kBlobCreate,                  ///< EIP-4844: a blob transaction must have a `to`
    kBlobNone,                    ///< EIP-4844: a blob transaction carries at least one blob
    kBlobCountExceeded,           ///< EIP-4844: more than 6 blobs (MAX_BLOB_GAS_PER_BLOCK)
    kBlobVersionInvalid,          ///< EIP-4844: versioned hash not starting with 0x01 (KZG)
    kBlobFeeCapBelowBlobBaseFee,  ///< EIP-4844: max_fee_per_blob_gas < blob base fee
    kInitcodeTooLarge,            ///< EIP-3860: create data above 49152 bytes
    kIntrinsicGasTooLow,          ///< gas limit below the intrinsic gas
    kSenderNotEoa,                ///< EIP-3607: the sender has code
    kNonceTooHigh,                ///< txn nonce above the sender's
    kNonceTooLow,                 ///< txn nonce below the sender's
    kNonceMax,                    ///< EIP-2681: the sender's nonce is 2^64-1
    kInsufficientFunds,           ///< balance < gas_limit*max_fee + value + blob_gas*max_blob_fee
};

[[nodiscard]] std::string_view to_string(TxnError e) noexcept;

/// Block header fields the transition needs.
struct BlockEnv {
    Address coinbase;
    int64_t block_num = 0;
    int64_t timestamp = 0;
    int64_t gas_limit = 0;
    Hash32 prev_randao;
    U256 base_fee;
    uint64_t excess_blob_gas = 0;
    U256 chain_id = 1;
    /// BLOCKHASH source; null answers zero. Must outlive every use of the BlockEnv.
    const BlockHashSource* block_hashes = nullptr;
    /// Senders whose code does not make their transactions invalid (EIP-3607 waived): a dev
    /// chain's impersonated contracts (anvil_impersonateAccount). Null: none, as the protocol
    /// says. Must outlive every use of the BlockEnv.
    const std::unordered_set<Address>* eip3607_exempt = nullptr;
    /// eth_call and its kin (geth's gas pool of 2^64-1): a transaction's gas limit is not checked
    /// against gas_limit, which stays what GASLIMIT reads. Never set for blocks.
    bool unlimited_gas_pool = false;
    /// eth_call and its kin with no blob fee cap (geth's NoBaseFee): the blob base fee is 0 for
    /// the call (BLOBBASEFEE reads 0, blob gas costs nothing). Never set for blocks.
    bool zero_blob_base_fee = false;
};

/// The blob base fee that transactions in `env` pay: blob_base_fee(env.excess_blob_gas), or 0
/// under zero_blob_base_fee.
[[nodiscard]] U256 env_blob_base_fee(const BlockEnv& env) noexcept;

using Bloom = std::array<uint8_t, 256>;

struct Receipt {
    TxnType type = TxnType::kLegacy;
    bool success = false;
    /// Gas charged to the sender (after refunds).
    uint64_t gas_used = 0;
    /// Gas used by this and all earlier transactions of the block (set by the block executor;
    /// apply_transaction sets it to gas_used).
    uint64_t cumulative_gas_used = 0;
    uint64_t blob_gas_used = 0;
    std::vector<Log> logs;
    Bloom bloom{};
};

struct TxnResult {
    Receipt receipt;
    TxnWrites writes;
    /// Set when the coinbase's fee credit was deferred (see apply_transaction's
    /// `defer_credits`): the amount to add to the coinbase's balance, with EIP-161 touch
    /// semantics (create if absent, delete if empty afterwards). `writes` then has no coinbase
    /// record.
    std::optional<U256> coinbase_fee;
    /// Set when a plain value transfer's credit to the recipient was deferred: add `amount`
    /// (non-zero) to `to`'s balance, creating the account if absent. `writes` then has no record
    /// of `to`. Applied before coinbase_fee (they commute).
    struct ValueCredit {
        Address to;
        U256 amount;
    };
    std::optional<ValueCredit> value_credit;
};

inline constexpr uint64_t kTxGas = 21000;
inline constexpr uint64_t kTxCreateGas = 53000;  ///< EIP-2: 21000 + 32000
inline constexpr uint64_t kTxDataZeroGas = 4;
inline constexpr uint64_t kTxDataNonZeroGas = 16;           ///< EIP-2028
inline constexpr uint64_t kAccessListAddressGas = 2400;     ///< EIP-2930
inline constexpr uint64_t kAccessListStorageKeyGas = 1900;  ///< EIP-2930
inline constexpr uint64_t kInitcodeWordGas = 2;             ///< EIP-3860
inline constexpr uint64_t kGasPerBlob = 131072;             ///< EIP-4844: 2^17
inline constexpr size_t kMaxBlobsPerBlock = 6;  ///< EIP-4844: MAX_BLOB_GAS_PER_BLOCK / GAS_PER_BLOB
inline constexpr uint64_t kBlobBaseFeeUpdateFraction = 3338477;  ///< EIP-4844
inline constexpr uint64_t kMinBlobBaseFee = 1;                   ///< EIP-4844
inline constexpr uint8_t kBlobHashVersionKzg = 0x01;             ///< EIP-4844
inline constexpr uint64_t kMaxRefundQuotient = 5;                ///< EIP-3529

/// Intrinsic gas: 21000 (53000 for creates), 4/16 per zero/non-zero data byte, 2400 per
/// access-list address and 1900 per key, and for creates 2 per 32-byte word of init code.
[[nodiscard]] uint64_t intrinsic_gas(const Transaction& txn) noexcept;

/// EIP-4844: fake_exponential(MIN_BLOB_BASE_FEE, excess_blob_gas, BLOB_BASE_FEE_UPDATE_FRACTION).
[[nodiscard]] U256 blob_base_fee(uint64_t excess_blob_gas) noexcept;

/// The price per gas the sender pays: gas_price for legacy and EIP-2930, otherwise
/// min(max_fee_per_gas, base_fee + max_priority_fee_per_gas). Assumes max_fee >= base_fee.
[[nodiscard]] U256 effective_gas_price(const Transaction& txn, const U256& base_fee) noexcept;

/// keccak256(rlp([[address, [topics...], data], ...])): the state tests' "logs" hash.
[[nodiscard]] Hash32 logs_hash(std::span<const Log> logs);
/// The 2048-bit bloom of the logs' addresses and topics (Yellow Paper section 4.3.1).
[[nodiscard]] Bloom logs_bloom(std::span<const Log> logs) noexcept;

/// The block-level checks before a transaction runs, given the gas and blob gas the block's
/// earlier transactions used: the block's remaining gas must cover txn.gas_limit
/// (kGasLimitExceedsBlock), and its blobs must fit the block's blob limit (kBlobCountExceeded).
[[nodiscard]] std::optional<TxnError> check_block_room(const BlockEnv& env, const Transaction& txn,
                                                       uint64_t gas_used,
                                                       uint64_t blob_gas_used) noexcept;

/// Validates and executes `txn`, sent by `sender` (already recovered), against `reader`.
/// On success returns the receipt and the write set; `reader` must reflect the state after the
/// preceding transactions of the block. Errors: the TxnError of the first failed check; no
/// state is produced then. `vm` is reused scratch (one per thread). Does not check the block's
/// remaining gas; the block executor does. `tracer` (optional) observes the call frames.
///
/// `defer_credits` (Block-STM's lazy balance updates), so that transactions do not all
/// read-modify-write the same balances:
///  - when the transaction itself never accessed the coinbase's account, the fee credit is not
///    applied but returned in TxnResult::coinbase_fee;
///  - a plain value transfer (no data, non-zero value) to another account without code (and not
///    a precompile) does not read the recipient's balance: the credit is returned in
///    TxnResult::value_credit, and only the recipient's code hash is read (read_code_hash).
/// Otherwise the credits are applied as usual. Either way the post-state after applying the
/// result is the same.
[[nodiscard]] Result<TxnResult, TxnError> apply_transaction(
    StateReader& reader, vm::Vm& vm, const BlockEnv& env, const Transaction& txn,
    const Address& sender, FrameTracer* tracer = nullptr, bool defer_credits = false) noexcept;

}  // namespace pel::exec
