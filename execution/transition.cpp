// SPDX-License-Identifier: Apache-2.0
#include "execution/transition.hpp"

#include <algorithm>
#include <utility>

#include "execution/host.hpp"
#include "primitives/keccak.hpp"
#include "primitives/keccak_memo.hpp"
#include "primitives/rlp.hpp"
#include "vm/precompiles.hpp"
#include "vm/vm.hpp"

namespace pel::exec {

namespace {

/// a * b, false on overflow past 2^256.
bool checked_mul(const U256& a, const U256& b, U256& out) noexcept {
    const auto full = mul_full(a, b);
    out = U256{full[0], full[1], full[2], full[3]};
    return (full[4] | full[5] | full[6] | full[7]) == 0;
}

bool checked_add(const U256& a, const U256& b, U256& out) noexcept {
    return !add_overflow(a, b, out);
}

/// Stateless checks against the block (no account read). Returns the intrinsic gas.
Result<uint64_t, TxnError> check_stateless(const Transaction& txn, const BlockEnv& env) noexcept {
    if (txn.chain_id && U256{*txn.chain_id} != env.chain_id) {
        return unexpected(TxnError::kWrongChainId);
    }
    if (env.gas_limit < 0 ||
        (!env.unlimited_gas_pool && txn.gas_limit > static_cast<uint64_t>(env.gas_limit))) {
        return unexpected(TxnError::kGasLimitExceedsBlock);
    }
    // EIP-1559 (legacy transactions too: both fee fields hold gas_price).
    if (txn.max_fee_per_gas < env.base_fee) {
        return unexpected(TxnError::kFeeCapBelowBaseFee);
    }
    if (txn.max_priority_fee_per_gas > txn.max_fee_per_gas) {
        return unexpected(TxnError::kPriorityAboveMaxFee);
    }
    if (txn.type == TxnType::kBlob) {
        // EIP-4844.
        if (!txn.to) {
            return unexpected(TxnError::kBlobCreate);
        }
        if (txn.blob_versioned_hashes.empty()) {
            return unexpected(TxnError::kBlobNone);
        }
        if (txn.blob_versioned_hashes.size() > kMaxBlobsPerBlock) {
            return unexpected(TxnError::kBlobCountExceeded);
        }
        for (const Hash32& h : txn.blob_versioned_hashes) {
            if (h.bytes[0] != kBlobHashVersionKzg) {
                return unexpected(TxnError::kBlobVersionInvalid);
            }
        }
        if (txn.max_fee_per_blob_gas < env_blob_base_fee(env)) {
            return unexpected(TxnError::kBlobFeeCapBelowBlobBaseFee);
        }
    }
    // EIP-3860.
    if (!txn.to && txn.data.size() > vm::kMaxInitcodeSize) {
        return unexpected(TxnError::kInitcodeTooLarge);
    }
    const uint64_t intrinsic = intrinsic_gas(txn);
    if (txn.gas_limit < intrinsic) {
        return unexpected(TxnError::kIntrinsicGasTooLow);
    }
    return intrinsic;
}

/// Checks against the sender's account. `max_cost` = gas_limit*max_fee + value + blob cost.
Result<void, TxnError> check_sender(const Transaction& txn, const AccountInfo* acc,
                                    bool eip3607_exempt) noexcept {
    const uint64_t nonce = acc != nullptr ? acc->nonce : 0;
    // EIP-3607: only externally owned accounts (no code) send transactions.
    if (acc != nullptr && acc->code_hash != kEmptyCodeHash && !eip3607_exempt) {
        return unexpected(TxnError::kSenderNotEoa);
    }
    if (txn.nonce > nonce) {
        return unexpected(TxnError::kNonceTooHigh);
    }
    if (txn.nonce < nonce) {
        return unexpected(TxnError::kNonceTooLow);
    }
    // EIP-2681: the nonce must stay below 2^64-1 after the increment.
    if (nonce == UINT64_MAX) {
        return unexpected(TxnError::kNonceMax);
    }

    const U256 balance = acc != nullptr ? acc->balance : U256{};
    U256 max_cost;
    bool ok = checked_mul(U256{txn.gas_limit}, txn.max_fee_per_gas, max_cost);
    ok = ok && checked_add(max_cost, txn.value, max_cost);
    if (txn.type == TxnType::kBlob) {
        U256 blob_cost;
        const U256 blob_gas = U256{kGasPerBlob} * U256{txn.blob_versioned_hashes.size()};
        ok = ok && checked_mul(blob_gas, txn.max_fee_per_blob_gas, blob_cost);
        ok = ok && checked_add(max_cost, blob_cost, max_cost);
    }
    if (!ok || balance < max_cost) {
        return unexpected(TxnError::kInsufficientFunds);
    }
    return {};
}

}  // namespace

std::string_view to_string(TxnError e) noexcept {
    switch (e) {
        case TxnError::kWrongChainId:
            return "wrong chain id";
        case TxnError::kGasLimitExceedsBlock:
            return "gas limit exceeds block gas limit";
        case TxnError::kFeeCapBelowBaseFee:
            return "max fee per gas below base fee";
        case TxnError::kPriorityAboveMaxFee:
            return "max priority fee above max fee";
        case TxnError::kBlobCreate:
            return "blob transaction without to";
        case TxnError::kBlobNone:
            return "blob transaction without blobs";
        case TxnError::kBlobCountExceeded:
            return "too many blobs";
        case TxnError::kBlobVersionInvalid:
            return "invalid blob versioned hash";
        case TxnError::kBlobFeeCapBelowBlobBaseFee:
            return "max fee per blob gas below blob base fee";
        case TxnError::kInitcodeTooLarge:
            return "initcode too large";
        case TxnError::kIntrinsicGasTooLow:
            return "intrinsic gas too low";
        case TxnError::kSenderNotEoa:
            return "sender not an EOA";
        case TxnError::kNonceTooHigh:
            return "nonce too high";
        case TxnError::kNonceTooLow:
            return "nonce too low";
        case TxnError::kNonceMax:
            return "nonce at maximum";
        case TxnError::kInsufficientFunds:
            return "insufficient funds";
    }
    return "unknown";
}

std::optional<TxnError> check_block_room(const BlockEnv& env, const Transaction& txn,
                                         uint64_t gas_used, uint64_t blob_gas_used) noexcept {
    // The block's gas pool: what the earlier transactions left.
    if (env.gas_limit < 0 || gas_used > static_cast<uint64_t>(env.gas_limit) ||
        txn.gas_limit > static_cast<uint64_t>(env.gas_limit) - gas_used) {
        return TxnError::kGasLimitExceedsBlock;
    }
    if (txn.type == TxnType::kBlob &&
        blob_gas_used + kGasPerBlob * txn.blob_versioned_hashes.size() >
            kGasPerBlob * kMaxBlobsPerBlock) {
        return TxnError::kBlobCountExceeded;
    }
    return std::nullopt;
}

uint64_t intrinsic_gas(const Transaction& txn) noexcept {
    uint64_t gas = txn.to ? kTxGas : kTxCreateGas;
    for (const uint8_t b : txn.data) {
        gas += b == 0 ? kTxDataZeroGas : kTxDataNonZeroGas;
    }
    for (const AccessListEntry& e : txn.access_list) {
        gas += kAccessListAddressGas + kAccessListStorageKeyGas * e.storage_keys.size();
    }
    if (!txn.to) {
        gas += kInitcodeWordGas * ((txn.data.size() + 31) / 32);
    }
    return gas;
}

U256 env_blob_base_fee(const BlockEnv& env) noexcept {
    return env.zero_blob_base_fee ? U256{} : blob_base_fee(env.excess_blob_gas);
}

U256 blob_base_fee(uint64_t excess_blob_gas) noexcept {
    // EIP-4844 fake_exponential(factor, numerator, denominator): Taylor series of
    // factor * e^(numerator / denominator) in integers. With no excess the series is exactly
    // `factor` (e^0): every transaction of every blob-free block asks, so skip its division.
    if (excess_blob_gas == 0) {
        return U256{kMinBlobBaseFee};
    }
    const U256 factor{kMinBlobBaseFee};
    const U256 numerator{excess_blob_gas};
    const U256 denominator{kBlobBaseFeeUpdateFraction};
    U256 output;
    U256 accum = factor * denominator;
    for (uint64_t i = 1; !accum.is_zero(); ++i) {
        output += accum;
        accum = (accum * numerator) / (denominator * U256{i});
    }
    return output / denominator;
}

U256 effective_gas_price(const Transaction& txn, const U256& base_fee) noexcept {
    if (txn.type == TxnType::kLegacy || txn.type == TxnType::kAccessList) {
        return txn.gas_price();
    }
    const U256 tip_cap = txn.max_fee_per_gas - base_fee;
    return base_fee + std::min(txn.max_priority_fee_per_gas, tip_cap);
}

Hash32 logs_hash(std::span<const Log> logs) {
    Bytes payload;
    for (const Log& log : logs) {
        Bytes item;
        rlp::encode_bytes(item, log.address.view());
        Bytes topics;
        for (const Hash32& t : log.topics) {
            rlp::encode_bytes(topics, t.view());
        }
        rlp::encode_list(item, topics);
        rlp::encode_bytes(item, log.data);
        rlp::encode_list(payload, item);
    }
    Bytes encoded;
    rlp::encode_list(encoded, payload);
    return keccak256(encoded);
}

namespace {
/// The KeccakMemo of the logs bloom's inputs (log addresses and topics).
struct BloomInputMemo {};
}  // namespace

Bloom logs_bloom(std::span<const Log> logs) noexcept {
    Bloom bloom{};
    // The same contracts and event signatures recur in every receipt (primitives/keccak_memo.hpp).
    KeccakMemo& memo = KeccakMemo::local<BloomInputMemo>();
    const auto add = [&bloom, &memo](ByteView v) {
        const Hash32 h = memo.hash(v);
        for (size_t i = 0; i < 6; i += 2) {
            const unsigned bit = ((unsigned{h.bytes[i]} << 8) | h.bytes[i + 1]) & 2047U;
            bloom[255 - bit / 8] |= static_cast<uint8_t>(1U << (bit % 8));
        }
    };
    for (const Log& log : logs) {
        add(log.address.view());
        for (const Hash32& t : log.topics) {
            add(t.view());
        }
    }
    return bloom;
}

Result<TxnResult, TxnError> apply_transaction(StateReader& reader, vm::Vm& vm, const BlockEnv& env,
                                              const Transaction& txn, const Address& sender,
                                              FrameTracer* tracer, bool defer_credits) noexcept {
    PEL_TRY(const uint64_t intrinsic, check_stateless(txn, env));
    TxnState state(reader);
    PEL_TRY_VOID(
        check_sender(txn, state.find_account(sender),
                     env.eip3607_exempt != nullptr && env.eip3607_exempt->contains(sender)));

    const U256 gas_price = effective_gas_price(txn, env.base_fee);
    const uint64_t blob_gas =
        txn.type == TxnType::kBlob ? kGasPerBlob * txn.blob_versioned_hashes.size() : 0;
    const U256 blob_price = blob_gas != 0 ? env_blob_base_fee(env) : U256{};

    // Buy gas at the effective price (the funds check used the caps); blob gas is burned.
    state.set_nonce(sender, txn.nonce + 1);
    state.sub_balance(sender, U256{txn.gas_limit} * gas_price + U256{blob_gas} * blob_price);

    // EIP-2929 (and EIP-3651 for the coinbase): the accounts and slots warm from the start.
    state.access_account(sender);
    state.access_account(env.coinbase);
    // The precompiles (0x01..0x0a) are warm too: Host::access_account answers so for them.
    for (const AccessListEntry& e : txn.access_list) {
        state.access_account(e.address);
        for (const Hash32& key : e.storage_keys) {
            state.access_storage(e.address, U256::from_hash(key));
        }
    }

    vm::TxContext ctx;
    ctx.gas_price = gas_price;
    ctx.origin = sender;
    ctx.coinbase = env.coinbase;
    ctx.block_number = env.block_num;
    ctx.timestamp = env.timestamp;
    ctx.gas_limit = env.gas_limit;
    ctx.prev_randao = env.prev_randao;
    ctx.chain_id = env.chain_id;
    ctx.base_fee = env.base_fee;
    ctx.blob_base_fee = env_blob_base_fee(env);
    ctx.blob_hashes = txn.blob_versioned_hashes;

    Host host(state, vm, ctx, env.block_hashes, tracer);
    vm::Message msg;
    msg.kind = txn.to ? vm::CallKind::kCall : vm::CallKind::kCreate;
    msg.depth = 0;
    msg.gas = static_cast<int64_t>(txn.gas_limit - intrinsic);
    msg.sender = sender;
    msg.input = txn.data;
    msg.value = txn.value;
    vm::ExecResult res;
    std::optional<TxnResult::ValueCredit> value_credit;
    if (txn.to) {
        msg.recipient = *txn.to;
        msg.code_address = *txn.to;
        state.access_account(*txn.to);
        if (defer_credits && txn.data.empty() && !txn.value.is_zero() && *txn.to != sender &&
            !vm::is_precompile(*txn.to) && !state.is_loaded(*txn.to) &&
            txn.value <= state.balance(sender) &&
            reader.read_code_hash(*txn.to) == kEmptyCodeHash) {
            // What Host::call does for a transfer into an account without code, minus reading the
            // recipient: the credit is returned as a lazy delta (the recipient cannot end up
            // empty).
            state.sub_balance(sender, txn.value);
            value_credit = TxnResult::ValueCredit{*txn.to, txn.value};
            res.status = vm::Status::kSuccess;
            res.gas_left = msg.gas;
        } else {
            res = host.call(msg);
        }
    } else {
        const Address addr = create_address(sender, txn.nonce);
        res = host.create_at(msg, addr);
    }

    // EIP-3529: the refund is capped at a fifth of the gas used.
    const bool success = res.status == vm::Status::kSuccess;
    const uint64_t gas_left = res.gas_left > 0 ? static_cast<uint64_t>(res.gas_left) : 0;
    uint64_t gas_used = txn.gas_limit - gas_left;
    const uint64_t refund =
        success && res.gas_refund > 0 ? static_cast<uint64_t>(res.gas_refund) : 0;
    gas_used -= std::min(refund, gas_used / kMaxRefundQuotient);

    state.add_balance(sender, U256{txn.gas_limit - gas_used} * gas_price);
    // EIP-1559: the priority part goes to the coinbase, the base fee is burned. The coinbase is
    // credited (and so touched) even when the tip is zero.
    const U256 fee = U256{gas_used} * (gas_price - env.base_fee);
    const bool defer = defer_credits && !state.is_loaded(env.coinbase);
    if (!defer) {
        state.add_balance(env.coinbase, fee);
    }
    state.finalize();

    TxnResult out;
    out.receipt.type = txn.type;
    out.receipt.success = success;
    out.receipt.gas_used = gas_used;
    out.receipt.cumulative_gas_used = gas_used;
    out.receipt.blob_gas_used = blob_gas;
    if (success) {
        out.receipt.logs = state.take_logs();
    }
    out.receipt.bloom = logs_bloom(out.receipt.logs);
    out.writes = state.build_writes();
    if (defer) {
        out.coinbase_fee = fee;
    }
    out.value_credit = value_credit;
    return out;
}

}  // namespace pel::exec
