// SPDX-License-Identifier: Apache-2.0
// JSON forms of the node's records, as go-ethereum prints them (ethers v6 and viem parse these
// strictly), and decoders of the structured request parameters (call objects, log filters).
// Thread safety: pure functions.
#pragma once

#include <functional>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "node/api.hpp"
#include "node/json_codec.hpp"
#include "primitives/result.hpp"

namespace pel::node::rpc {

using Json = nlohmann::json;

/// A transaction (geth's RPCTransaction): type, chainId, nonce, gas, gasPrice, fee caps,
/// accessList, v/r/s, yParity (typed), input, value, to, from, hash, block fields (null while
/// pending).
[[nodiscard]] Json tx_json(const TxRecord& tx);
/// A block; `full` gives transaction objects, otherwise their hashes.
[[nodiscard]] Json block_json(const BlockRecord& block, bool full);
[[nodiscard]] Json log_json(const LogRecord& log);
/// [{"address", "storageKeys": [...]}...] (transactions, eth_createAccessList).
[[nodiscard]] Json access_list_json(const AccessList& list);
[[nodiscard]] Json receipt_json(const ReceiptRecord& receipt);
/// eth_feeHistory; `reward` is left out when no percentiles were asked (geth).
[[nodiscard]] Json fee_history_json(const FeeHistory& history, bool with_reward);
/// pel_getBlockConflicts: counts as JSON numbers, the hash as hex; hot contracts (conflicts
/// summed per address) and hot slots, highest count first.
[[nodiscard]] Json conflict_report_json(const BlockConflictReport& report);

/// The transaction object of eth_call / eth_estimateGas / eth_sendTransaction (geth's
/// TransactionArgs): from, to (null for a creation), gas, gasPrice, maxFeePerGas,
/// maxPriorityFeePerGas, value, nonce, data or input (equal when both are given), accessList,
/// chainId. Unknown fields are ignored, as geth does. Errors name the field.
[[nodiscard]] Result<CallRequest> parse_call_request(const Json& v);

/// The state override object of eth_call / eth_estimateGas (geth's StateOverride): address ->
/// {balance, nonce, code, state | stateDiff} (quantities, data, and 32-byte slot -> 32-byte value
/// maps). Errors name the address and field; `state` and `stateDiff` together are refused.
[[nodiscard]] Result<std::vector<std::pair<Address, AccountOverride>>> parse_state_overrides(
    const Json& v);

/// The block override object of eth_call and its kin (geth's BlockOverrides): number, time,
/// gasLimit (quantities below 2^63), feeRecipient, prevRandao, baseFeePerGas. Errors name the
/// field; difficulty, blobBaseFee, beaconRoot, withdrawals and unknown fields are refused.
[[nodiscard]] Result<BlockOverrides> parse_block_overrides(const Json& v);

/// The options object of debug_trace* (geth's TraceConfig, and TraceCallConfig's
/// stateOverrides): tracer ("callTracer", "prestateTracer" or "noopTracer"; absent: the opcode
/// logger, with disableStack, disableStorage, enableMemory, enableReturnData and limit) and
/// tracerConfig (onlyTopCall, withLog; diffMode, disableCode, disableStorage); timeout and reexec
/// are accepted and ignored; stateOverrides and blockOverrides as eth_call takes them. Other
/// tracer names (geth's JavaScript tracers, 4byteTracer, ...) are errors naming what there is.
struct TraceParams {
    TraceOptions options;
    std::vector<std::pair<Address, AccountOverride>> state_overrides;
    std::optional<BlockOverrides> block_overrides;
};
[[nodiscard]] Result<TraceParams> parse_trace_params(const Json& v);
/// A tracer's answer as geth prints it: the opcode logger's {gas, failed, returnValue,
/// structLogs}, callTracer's frame tree (gas, gasUsed, input, output,
/// error, revertReason, calls, logs with position; empty fields left out), prestateTracer's
/// accounts (balance as a quantity, nonce as a JSON number, code, storage) or {pre, post} in
/// diff mode, noopTracer's {}.
[[nodiscard]] Json trace_json(const TraceResult& result);

/// Where a transaction's Parity-style traces sit (every trace_* entry names it).
struct TraceLocation {
    Hash32 block_hash;
    uint64_t block_number = 0;
    Hash32 tx_hash;
    uint64_t tx_index = 0;
};

/// trace_filter's object: fromBlock and toBlock (block numbers or tags; default latest),
/// fromAddress and toAddress (lists; empty or absent: any), mode ("union", the default, or
/// "intersection": how the two lists combine when both are given, as reth and anvil take it),
/// after (matching traces skipped) and count (at most this many returned).
struct TraceFilter {
    BlockSelector from_block;
    BlockSelector to_block;
    std::vector<Address> from_addresses;
    std::vector<Address> to_addresses;
    bool intersection = false;
    uint64_t after = 0;
    std::optional<uint64_t> count;
};
[[nodiscard]] Result<TraceFilter> parse_trace_filter(const Json& v);
/// Whether a frame's Parity-style trace matches the filter's addresses: fromAddress is the
/// caller (a suicide's address), toAddress the callee, the new address of a create that printed
/// a result, or a suicide's refund address. With one list given, that list decides; with both,
/// either (union) or both (intersection) must match.
[[nodiscard]] bool trace_matches(const TraceFilter& filter, const exec::CallFrame& frame);

/// Appends a transaction's Parity-style traces (trace_transaction, trace_block, trace_filter, as
/// OpenEthereum, reth and anvil print them) to the array `out`: one per frame of the callTracer
/// tree `root` (taken with TraceOptions::parity_gas), depth first, each {action, blockHash,
/// blockNumber, error (failed frames), result, subtraces, traceAddress, transactionHash,
/// transactionPosition, type}. Calls are type "call" with action.callType call, staticcall,
/// delegatecall or callcode (a STATICCALL shows value 0); creates are type "create" with
/// action.creationMethod and result {address, code, gasUsed}; a SELFDESTRUCT is type "suicide"
/// with action {address, balance, refundAddress} and a null result; a failed frame that did not
/// revert has a null result. With `keep`, only the frames it accepts are appended. Without `at`
/// (the trace_replay* answers) the four block and transaction fields are left out.
void append_parity_traces(Json& out, const exec::CallFrame& root,
                          const std::optional<TraceLocation>& at,
                          const std::function<bool(const exec::CallFrame&)>& keep = {});

/// The kinds of answer trace_replayTransaction and trace_replayBlockTransactions are asked for:
/// a non-empty array of "trace" and "stateDiff" ("vmTrace" is refused: not supported).
struct ReplayKinds {
    bool trace = false;
    bool state_diff = false;
};
[[nodiscard]] Result<ReplayKinds> parse_replay_kinds(const Json& v);

/// OpenEthereum's stateDiff of a transaction from the prestateTracer's diff mode (`diff`): per
/// account changed, balance, nonce and code each "=" (unchanged), {"+": value} (created),
/// {"-": value} (deleted) or {"*": {"from", "to"}}, and the changed slots under "storage".
[[nodiscard]] Json parity_state_diff(const PrestateTrace& diff);

/// The filter object of eth_getLogs / eth_newFilter: fromBlock, toBlock (block numbers or tags),
/// blockHash (exclusive with the range), address (one or a list), topics (at most 4 positions;
/// each null, a hash or a list of hashes where a null member matches anything).
[[nodiscard]] Result<LogFilter> parse_log_filter(const Json& v);

/// Converts a decoded block parameter that is not a hash into the API's selector.
[[nodiscard]] BlockSelector to_selector(const json::BlockParam& p);

/// Whether `log` matches the address and topic criteria of `filter` (not the block range).
[[nodiscard]] bool log_matches(const LogFilter& filter, const LogRecord& log);

}  // namespace pel::node::rpc
