// SPDX-License-Identifier: Apache-2.0
// node::NodeApi: everything the JSON-RPC layer (node/rpc) asks of the node core. The core
// (pel::node::Node, node/node.hpp) implements it over the state store, the mempool and the block
// producer; the RPC layer only converts between JSON and these plain value types.
//
// Conventions:
//  - Nothing here throws. Fallible calls return ApiResult<T> = Result<T, ApiError>; ApiError::kind
//    says which JSON-RPC error code to answer (see ApiErrorKind). "Not found" is not an error: it
//    is an empty std::optional (JSON null).
//  - Quantities are uint64_t or U256; the RPC layer writes them as shortest 0x hex.
//  - No archive: account reads, calls and traces need the state of a block among the head and the
//    NodeConfig::state_history blocks below it; older ones answer kRejected ("historical state
//    not available: ...").
//
// Thread safety: every NodeApi method may be called from any number of threads at once, and
// concurrently with block production. Each answer is consistent within itself (one block), but
// two calls may see different heads.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "execution/call_tracer.hpp"
#include "execution/struct_logger.hpp"
#include "primitives/bytes.hpp"
#include "primitives/hash.hpp"
#include "primitives/result.hpp"
#include "primitives/transaction.hpp"
#include "primitives/u256.hpp"

namespace pel::node {

// --- errors -------------------------------------------------------------------------------------

/// What kind of failure an ApiError is, and the JSON-RPC code the RPC layer answers with.
enum class ApiErrorKind : uint8_t {
    /// -32602 "invalid params": an argument that cannot be decoded or makes no sense by itself
    /// (undecodable raw transaction RLP, trailing bytes, a block range with from > to, ...).
    kInvalidInput,
    /// -32000 "server error": the request was understood but refused. Messages are go-ethereum's
    /// exact strings where geth has one (txpool admission: "nonce too low", "already known",
    /// "insufficient funds for gas * price + value", ...; estimateGas "gas required exceeds
    /// allowance (N)"; unknown sender for eth_sendTransaction: "unknown account"), since ethers
    /// and viem match on them. Also: log queries past the limits, historical state requests.
    kRejected,
    /// 3 "execution reverted": message "execution reverted" or "execution reverted: <reason>"
    /// (reason decoded from Error(string) / Panic(uint256)); `data` holds the raw revert bytes
    /// (the RPC writes them as 0x hex in the error's `data`).
    kReverted,
    /// -32603 "internal error": I/O or corruption in the database. Should not happen.
    kInternal,
};

struct ApiError {
    ApiErrorKind kind = ApiErrorKind::kRejected;
    std::string message;
    Bytes data;  ///< revert data for kReverted; empty otherwise

    friend bool operator==(const ApiError&, const ApiError&) = default;
};

template <class T>
using ApiResult = Result<T, ApiError>;

/// JSON-RPC error code of an error kind (-32602, -32000, 3, -32603).
[[nodiscard]] constexpr int rpc_error_code(ApiErrorKind kind) noexcept {
    switch (kind) {
        case ApiErrorKind::kInvalidInput:
            return -32602;
        case ApiErrorKind::kRejected:
            return -32000;
        case ApiErrorKind::kReverted:
            return 3;
        case ApiErrorKind::kInternal:
            return -32603;
    }
    return -32603;
}

// --- block selectors ----------------------------------------------------------------------------

/// A block parameter: "latest", "pending", "safe", "finalized", "earliest" or a number.
/// On this single-node dev chain every block is final: safe, finalized and latest all mean the
/// head. For block queries "pending" is the head too (no pending block is built ahead of time);
/// for account nonces "pending" also counts the pool's executable transactions of the sender.
enum class BlockTag : uint8_t { kLatest, kPending, kSafe, kFinalized, kEarliest, kNumber };

struct BlockSelector {
    BlockTag tag = BlockTag::kLatest;
    uint64_t number = 0;  ///< only for kNumber

    [[nodiscard]] static BlockSelector latest() noexcept { return {}; }
    [[nodiscard]] static BlockSelector at(uint64_t n) noexcept { return {BlockTag::kNumber, n}; }
    friend bool operator==(const BlockSelector&, const BlockSelector&) = default;
};

/// eth_getProof's answer (EIP-1186).
struct StorageProof {
    U256 key;
    U256 value;
    std::vector<Bytes> proof;
};
struct AccountProof {
    Address address;
    U256 balance;
    uint64_t nonce = 0;
    Hash32 code_hash;
    Hash32 storage_hash;
    std::vector<Bytes> account_proof;
    std::vector<StorageProof> storage_proof;
};

// --- chain records ------------------------------------------------------------------------------

using Bloom = std::array<uint8_t, 256>;

/// A Cancun block header. The block hash is keccak256(rlp(header)) with the fields in this order.
struct BlockHeader {
    Hash32 parent_hash;
    Hash32 ommers_hash;  ///< keccak256(rlp([])) always
    Address coinbase;    ///< "miner" in JSON
    Hash32 state_root;
    Hash32 transactions_root;
    Hash32 receipts_root;
    Bloom logs_bloom{};
    U256 difficulty;  ///< 0 (post-merge)
    uint64_t number = 0;
    uint64_t gas_limit = 0;
    uint64_t gas_used = 0;
    uint64_t timestamp = 0;
    Bytes extra_data;
    Hash32 mix_hash;     ///< prevRandao ("mixHash" in JSON)
    uint64_t nonce = 0;  ///< 8 bytes, always 0 ("0x0000000000000000" in JSON)
    U256 base_fee_per_gas;
    Hash32 withdrawals_root;  ///< empty trie root (no withdrawals)
    uint64_t blob_gas_used = 0;
    uint64_t excess_blob_gas = 0;
    Hash32 parent_beacon_block_root;  ///< zero

    friend bool operator==(const BlockHeader&, const BlockHeader&) = default;
};

/// A transaction as eth_getTransactionByHash / eth_getBlockByNumber(full) show it.
struct TxRecord {
    Transaction txn;  ///< type, chainId, nonce, fees, gas, to, value, input, accessList, v/r/s
    Hash32 hash;      ///< keccak256 of the canonical encoding (the raw bytes that were sent)
    Address from;
    /// Set when mined; all three empty for a pending transaction (JSON null).
    std::optional<Hash32> block_hash;
    std::optional<uint64_t> block_number;
    std::optional<uint64_t> index;
    /// "gasPrice" in JSON: the effective gas price when mined, max_fee_per_gas when pending
    /// (legacy and EIP-2930: the gas price).
    U256 gas_price;
};

/// A block with its transactions.
struct BlockRecord {
    BlockHeader header;
    Hash32 hash;
    uint64_t size = 0;  ///< bytes of rlp([header, transactions, ommers=[], withdrawals=[]])
    std::vector<TxRecord> transactions;  ///< in block order, all mined fields set
};

/// A log with its position, as receipts and eth_getLogs show it.
struct LogRecord {
    Address address;
    std::vector<Hash32> topics;
    Bytes data;
    uint64_t block_number = 0;
    Hash32 block_hash;
    Hash32 tx_hash;
    uint64_t tx_index = 0;
    uint64_t log_index = 0;  ///< index within the block
    bool removed = false;    ///< always false (no reorgs)
};

/// eth_getTransactionReceipt.
struct ReceiptRecord {
    Hash32 tx_hash;
    uint64_t tx_index = 0;
    Hash32 block_hash;
    uint64_t block_number = 0;
    Address from;
    std::optional<Address> to;                ///< empty for a contract creation
    std::optional<Address> contract_address;  ///< set only for a contract creation
    uint64_t cumulative_gas_used = 0;
    uint64_t gas_used = 0;
    U256 effective_gas_price;
    uint64_t blob_gas_used = 0;  ///< blob transactions only: GAS_PER_BLOB per blob
    U256 blob_gas_price;         ///< blob transactions only: the block's blob base fee
    bool status = false;         ///< 1 success, 0 failure ("status" in JSON)
    std::vector<LogRecord> logs;
    Bloom logs_bloom{};
    TxnType type = TxnType::kLegacy;
};

/// eth_getLogs / eth_newFilter criteria.
struct LogFilter {
    /// Either a block hash (then from/to are ignored) or a range; defaults: latest..latest.
    std::optional<Hash32> block_hash;
    BlockSelector from_block;
    BlockSelector to_block;
    /// Empty: any address; otherwise any of these.
    std::vector<Address> addresses;
    /// topics[i]: empty = any value at position i (JSON null); otherwise any of these (OR).
    /// A log with fewer topics than the filter's length does not match (geth).
    std::vector<std::vector<Hash32>> topics;
};

/// How a single node mines (hardhat_getAutomine; evm_setAutomine, evm_setIntervalMining).
struct MiningMode {
    bool automine = true;   ///< a block whenever the pool has ready transactions
    double interval_s = 0;  ///< > 0: also a block every interval_s seconds, empty or not
};

/// What anvil_setBalance and friends change in one account (unset fields stay as they are).
struct DevAccountChange {
    std::optional<U256> balance;
    std::optional<uint64_t> nonce;
    std::optional<Bytes> code;
    std::vector<std::pair<U256, U256>> storage;  ///< slot -> value (zero clears it)
};

/// A state override of one account for a call (geth's OverrideAccount): set fields replace the
/// head's; `state` replaces the whole storage, `state_diff` only the slots it names.
struct AccountOverride {
    std::optional<U256> balance;
    std::optional<uint64_t> nonce;
    std::optional<Bytes> code;
    std::optional<std::vector<std::pair<U256, U256>>> state;
    std::vector<std::pair<U256, U256>> state_diff;
};

// --- calls and fees ------------------------------------------------------------------------------

/// eth_call / eth_estimateGas / eth_sendTransaction arguments. Absent fields take defaults:
/// from = zero address (sendTransaction: required), gas = the call gas cap (sendTransaction:
/// estimated), fees = zero for calls (a zero fee means "no fee": like geth's NoBaseFee, the call
/// pays nothing and the base fee check is skipped; sendTransaction: tip 1 gwei, fee cap 2*base fee
/// + tip), value = 0, nonce = the sender's (sendTransaction: the pending nonce).
/// eth_call's block overrides (geth's BlockOverrides): the fields of the call's block
/// environment that are replaced (BLOCKHASH still answers for the chain's blocks only).
struct BlockOverrides {
    std::optional<uint64_t> number;
    std::optional<uint64_t> time;
    std::optional<uint64_t> gas_limit;
    std::optional<Address> fee_recipient;
    std::optional<Hash32> prev_randao;
    std::optional<U256> base_fee;
    friend bool operator==(const BlockOverrides&, const BlockOverrides&) = default;
};

struct CallRequest {
    /// eth_call / eth_estimateGas / eth_createAccessList: the head state as changed by these
    /// overrides (nothing is committed); ignored by eth_sendTransaction.
    std::vector<std::pair<Address, AccountOverride>> state_overrides;
    /// The same calls and debug_traceCall: the block environment as changed by these.
    std::optional<BlockOverrides> block_overrides;
    std::optional<Address> from;
    std::optional<Address> to;  ///< empty: contract creation with `data` as init code
    std::optional<uint64_t> gas;
    std::optional<U256> gas_price;  ///< legacy pricing; exclusive with the two below
    std::optional<U256> max_fee_per_gas;
    std::optional<U256> max_priority_fee_per_gas;
    std::optional<U256> value;
    Bytes data;  ///< "data" or "input" in JSON
    std::optional<uint64_t> nonce;
    std::optional<AccessList> access_list;
    std::optional<uint64_t> chain_id;  ///< checked against the node's when present
    /// EIP-4844: with versioned hashes the call runs as a blob transaction (BLOBHASH reads them);
    /// without a blob fee cap (or with 0) the blob base fee is 0 for it, as in geth.
    /// eth_sendTransaction refuses them (a blob transaction needs its sidecar).
    std::optional<std::vector<Hash32>> blob_versioned_hashes;
    std::optional<U256> max_fee_per_blob_gas;
};

/// What eth_call produced. A call that ran (even if it reverted) is a CallResult; a call that could
/// not start (e.g. insufficient funds for value) is an ApiError (kRejected).
struct CallResult {
    bool success = false;
    /// Return data on success; revert data on revert; empty for other failures.
    Bytes output;
    uint64_t gas_used = 0;
    bool reverted = false;
    /// Empty on success. "execution reverted" / "execution reverted: <reason>" on revert (the RPC
    /// answers code 3 with `output` as data), else geth's text for the halt ("out of gas",
    /// "invalid opcode: INVALID", "stack underflow", ...; the RPC answers -32000).
    std::string error;
};

/// eth_createAccessList: the accounts and slots a call touches, and its gas with that list.
struct AccessListResult {
    AccessList access_list;  ///< sorted by address, then key
    uint64_t gas_used = 0;   ///< of the call with `access_list` applied
    std::string error;       ///< empty on success; else as CallResult::error
};

/// eth_feeHistory. Arrays are oldest first; base_fee_per_gas has block_count + 1 entries (the
/// last is the next block's), reward has one row per block (one entry per requested percentile,
/// empty rows when no percentiles were asked).
struct FeeHistory {
    uint64_t oldest_block = 0;
    std::vector<U256> base_fee_per_gas;
    std::vector<double> gas_used_ratio;
    std::vector<U256> base_fee_per_blob_gas;  ///< block_count + 1 entries
    std::vector<double> blob_gas_used_ratio;
    std::vector<std::vector<U256>> reward;
};

// --- conflict report and metrics -----------------------------------------------------------------

/// A state location that caused re-executions: an account header (slot empty) or a storage slot.
struct ConflictLocation {
    Address address;
    std::optional<U256> slot;
    uint64_t count = 0;
};

/// The per-block Block-STM report (pel_getBlockConflicts), stored with the block.
struct BlockConflictReport {
    uint64_t block_number = 0;
    Hash32 block_hash;
    uint64_t txs = 0;
    uint64_t gas_used = 0;
    uint64_t executions = 0;
    uint64_t re_executions = 0;
    uint64_t validations = 0;
    uint64_t aborts = 0;
    uint64_t dependency_waits = 0;
    std::string fallback;  ///< "" when none, else e.g. "sequential after contention"
    uint64_t fallback_from = 0;
    std::vector<ConflictLocation> top_conflicts;  ///< highest count first (at most 8)
    double execution_ms = 0;                      ///< executor wall time
    double commit_ms = 0;  ///< state store commit wall time (0 for blocks of an earlier run)
    uint64_t threads = 0;  ///< executor threads
};

// --- tracing (debug_trace*) ---------------------------------------------------------------------

/// geth's TraceConfig, for the tracers pel has.
struct TraceOptions {
    enum class Tracer : uint8_t {
        kStruct,    ///< no tracer: geth's opcode logger (exec::StructTrace)
        kCall,      ///< "callTracer": the call frames (exec::CallFrame)
        kPrestate,  ///< "prestateTracer": the accounts and slots the transaction touched
        kNoop,      ///< "noopTracer": {}
    };
    Tracer tracer = Tracer::kStruct;
    exec::StructLogger::Options logger;  ///< disableStack, disableStorage, enableMemory, ...
    exec::CallTracer::Options call;      ///< callTracer's onlyTopCall, withLog
    bool diff_mode = false;              ///< prestateTracer: {pre, post} of what changed
    bool disable_code = false;           ///< prestateTracer
    bool disable_storage = false;        ///< prestateTracer
    /// trace_* (Parity style, as OpenEthereum, reth and anvil answer): the callTracer's top frame
    /// gets the gas left after the intrinsic gas and the gas used less it (geth: the
    /// transaction's gas limit and the receipt's gas used). Not a geth option.
    bool parity_gas = false;
};

/// One account in a prestateTracer answer. Fields left empty are not printed (geth's omitempty).
struct PrestateAccount {
    std::optional<U256> balance;
    std::optional<uint64_t> nonce;  ///< zero is not printed
    std::optional<Bytes> code;
    std::map<Hash32, Hash32> storage;
};

/// prestateTracer: `pre` (the touched accounts before the transaction, with the slots it read or
/// wrote), or in diff mode `pre` and `post` limited to what changed.
struct PrestateTrace {
    bool diff_mode = false;
    std::map<Address, PrestateAccount> pre;
    std::map<Address, PrestateAccount> post;
};

/// What a tracer produced for one transaction (monostate: noopTracer).
using TraceResult = std::variant<exec::CallFrame, PrestateTrace, exec::StructTrace, std::monostate>;

/// One transaction of debug_traceBlockBy*.
struct TxTrace {
    Hash32 tx_hash;
    TraceResult result;
};

/// Counters for /metrics. Monotonic totals since the process started (rates are the RPC's job),
/// plus gauges.
struct NodeMetrics {
    uint64_t head_number = 0;                    ///< gauge
    uint64_t blocks_produced = 0;                ///< counter (since start)
    uint64_t txs_committed = 0;                  ///< counter
    uint64_t gas_committed = 0;                  ///< counter
    uint64_t re_executions = 0;                  ///< counter (sum over blocks)
    double execution_ms_total = 0;               ///< counter: sum of block execution wall times
    double last_block_execution_ms = 0;          ///< gauge
    double last_block_re_executions_per_tx = 0;  ///< gauge (0 for an empty block)
    uint64_t mempool_pending = 0;                ///< gauge: executable transactions
    uint64_t mempool_queued = 0;                 ///< gauge: waiting for a nonce gap
    uint64_t txs_rejected = 0;                   ///< counter: admission refusals
};

/// pel_consensusStatus: where this validator's consensus engine is (consensus mode only).
struct ConsensusStatus {
    bool enabled = false;    ///< false: a single node (the other fields are unset)
    uint64_t block_num = 0;  ///< the block being decided (head + 1)
    int64_t round = 0;
    std::string step;  ///< "propose", "prevote" or "precommit"
    size_t validators = 0;
    std::vector<Address> peers;  ///< connected peers' node ids
    bool proposer = false;       ///< this validator proposes in the current round
};

// --- subscriptions -------------------------------------------------------------------------------

/// What a new block brings to the filters.
struct NewBlockEvent {
    uint64_t number = 0;
    Hash32 hash;
    std::vector<Hash32> tx_hashes;
    std::vector<LogRecord> logs;  ///< every log of the block, in order
};

/// Callbacks of a subscription. Either may be empty.
/// Called synchronously: on_block from the block producer right after the block is committed (in
/// block order, each block once); on_pending from the thread that admitted the transaction (into
/// the pending or the queued set). Called with no node lock held: a callback may call NodeApi
/// methods, but must be quick (it delays block production) and must not throw.
struct Subscriber {
    std::function<void(const NewBlockEvent&)> on_block;
    std::function<void(const Hash32& tx_hash)> on_pending;
};

using SubscriptionId = uint64_t;

// --- the interface
// --------------------------------------------------------------------------------

class NodeApi {
  public:
    NodeApi() = default;
    virtual ~NodeApi() = default;
    NodeApi(const NodeApi&) = delete;
    NodeApi& operator=(const NodeApi&) = delete;
    NodeApi(NodeApi&&) = delete;
    NodeApi& operator=(NodeApi&&) = delete;

    // chain ---------------------------------------------------------------------------------------

    /// eth_chainId and net_version (decimal string).
    [[nodiscard]] virtual uint64_t chain_id() const noexcept = 0;
    /// eth_coinbase: the beneficiary this node writes into the blocks it makes (the dev chain's
    /// coinbase; a validator's own address in consensus mode).
    [[nodiscard]] virtual Address coinbase() const noexcept = 0;

    struct Head {
        uint64_t number = 0;
        Hash32 hash;
        uint64_t timestamp = 0;
        U256 base_fee_per_gas;
    };
    /// eth_blockNumber: the last committed block.
    [[nodiscard]] virtual Head head() const = 0;

    /// eth_getBlockByNumber. Empty when the block does not exist (a number above the head).
    /// Errors: kInternal.
    [[nodiscard]] virtual ApiResult<std::optional<BlockRecord>> block_by_number(
        BlockSelector selector) const = 0;
    /// eth_getBlockByHash. Empty when unknown.
    [[nodiscard]] virtual ApiResult<std::optional<BlockRecord>> block_by_hash(
        const Hash32& hash) const = 0;

    /// txpool_content / txpool_inspect / txpool_status: the pool's transactions as pending ones
    /// (executable: each sender's gap-free run from its account nonce) and queued ones (behind a
    /// nonce gap); senders ascending, each sender's by nonce; no block fields.
    struct PoolContent {
        std::vector<TxRecord> pending;
        std::vector<TxRecord> queued;
    };
    [[nodiscard]] virtual PoolContent pool_content() const = 0;

    /// eth_getTransactionByHash: mined (block fields set) or pending in the pool (queued too);
    /// empty when unknown.
    [[nodiscard]] virtual ApiResult<std::optional<TxRecord>> transaction_by_hash(
        const Hash32& hash) const = 0;

    /// eth_getTransactionReceipt: empty for unknown or pending transactions.
    [[nodiscard]] virtual ApiResult<std::optional<ReceiptRecord>> receipt_by_hash(
        const Hash32& hash) const = 0;

    /// eth_getLogs. Errors: kInvalidInput for from > to or an unknown block hash ("unknown
    /// block"); kRejected past the limits: a range of more than NodeConfig::max_log_block_range
    /// blocks ("query exceeds max block range N") or more than max_log_results logs ("query
    /// returned more than N results"). A to_block above the head is clamped to the head.
    [[nodiscard]] virtual ApiResult<std::vector<LogRecord>> logs(const LogFilter& filter) const = 0;

    // accounts at a block
    // --------------------------------------------------------------------------- Selector:
    // latest/pending/safe/finalized, or the head's number, read the head state; anything else
    // (earliest on a chain with blocks, another number) is kRejected "historical state not
    // available: only block N (the head) is kept"; a number above the head is kRejected
    // "header not found" (geth's text).

    [[nodiscard]] virtual ApiResult<U256> balance(const Address& addr,
                                                  BlockSelector selector) const = 0;
    /// For "pending": the next nonce counting the pool's executable transactions of `addr`.
    [[nodiscard]] virtual ApiResult<uint64_t> nonce(const Address& addr,
                                                    BlockSelector selector) const = 0;
    [[nodiscard]] virtual ApiResult<Bytes> code(const Address& addr,
                                                BlockSelector selector) const = 0;
    /// The slot's value as a 32-byte word.
    [[nodiscard]] virtual ApiResult<Hash32> storage_at(const Address& addr, const U256& slot,
                                                       BlockSelector selector) const = 0;
    /// eth_getProof (EIP-1186): the account's Merkle proof in the state trie and each slot's in
    /// its storage trie, root node first; for what is absent, proofs of exclusion (an absent
    /// account: balance and nonce 0, the empty code hash and the empty trie root; an empty storage
    /// trie: no proof nodes). `storage_proof` follows `slots`.
    [[nodiscard]] virtual ApiResult<AccountProof> account_proof(const Address& addr,
                                                                const std::vector<U256>& slots,
                                                                BlockSelector selector) const = 0;

    // execution
    // -------------------------------------------------------------------------------------

    /// eth_call on the selected state (see the conventions above), as geth and anvil run it: in
    /// that block's own environment (its number, timestamp, gas limit, coinbase, prevrandao and
    /// BLOCKHASH window; "pending": the next block's), with a zero BASEFEE when the call names no
    /// fee (geth's rule); nothing is committed. Gas defaults to and is capped
    /// at NodeConfig::rpc_gas_cap. Errors: kRejected for a transaction that cannot start ("nonce
    /// too low"-style checks are skipped: the sender's nonce is taken as the call's; insufficient
    /// funds for value or for a non-zero fee: "insufficient funds for gas * price + value").
    [[nodiscard]] virtual ApiResult<CallResult> call(const CallRequest& request,
                                                     BlockSelector selector) const = 0;

    /// eth_estimateGas: binary search (as geth) for the least gas at which the call succeeds.
    /// Errors: kReverted (with revert data and reason) when it fails even at the cap with a revert;
    /// kRejected "gas required exceeds allowance (N)" when it fails at the cap otherwise, or the
    /// halt's text; kRejected for calls that cannot start (as call()).
    /// eth_createAccessList on the selected state: runs the call, lists every account
    /// and slot it read (as geth: `from`, `to` or the created address, the precompiles and the
    /// coinbase, which are warm anyway, only when some of their slots were read), runs it again
    /// with that list until the list stops changing (at most 8 rounds), and answers the last list
    /// with its run's gas; a failing call still answers, with its error (geth). Errors: as call()'s
    /// for a transaction that cannot start.
    [[nodiscard]] virtual ApiResult<AccessListResult> create_access_list(
        const CallRequest& request, BlockSelector selector) const = 0;
    [[nodiscard]] virtual ApiResult<uint64_t> estimate_gas(const CallRequest& request,
                                                           BlockSelector selector) const = 0;

    /// debug_traceTransaction: re-executes the transaction's block from its parent's state
    /// (--history.state must still hold the parent, as for eth_call at that block) up to the
    /// transaction, and traces it. Empty if the transaction is not in a block (pending or
    /// unknown). Errors: kRejected when the parent's state is not available, or when an opcode
    /// logger trace passes its size bound; kInternal when the re-execution does not reproduce the
    /// stored receipts.
    [[nodiscard]] virtual ApiResult<std::optional<TraceResult>> trace_transaction(
        const Hash32& hash, const TraceOptions& options) const = 0;
    /// debug_traceBlockByNumber / ByHash: every transaction of the block, in order. Empty if the
    /// block does not exist. Errors: as trace_transaction's.
    [[nodiscard]] virtual ApiResult<std::optional<std::vector<TxTrace>>> trace_block(
        BlockSelector selector, const TraceOptions& options) const = 0;
    /// debug_traceCall and trace_call: eth_call's run (same state, environment, gas and
    /// overrides), traced once per entry of `options`, in order. Every run is on the same head (one
    /// state snapshot, taken once): a block produced meanwhile changes none of the answers.
    [[nodiscard]] virtual ApiResult<std::vector<TraceResult>> trace_call_each(
        const CallRequest& request, BlockSelector selector,
        std::span<const TraceOptions> options) const = 0;
    /// trace_call_each with one tracer.
    [[nodiscard]] ApiResult<TraceResult> trace_call(const CallRequest& request,
                                                    BlockSelector selector,
                                                    const TraceOptions& options) const {
        auto r = trace_call_each(request, selector, std::span(&options, 1));
        if (!r) {
            return unexpected(std::move(r.error()));
        }
        return std::move(r->front());
    }

    /// eth_gasPrice: next block's base fee + max_priority_fee().
    [[nodiscard]] virtual U256 gas_price() const = 0;
    /// eth_maxPriorityFeePerGas: the suggested tip (1 gwei).
    [[nodiscard]] virtual U256 max_priority_fee() const = 0;
    /// eth_feeHistory over up to 1024 blocks ending at `newest`; reward percentiles must be
    /// ascending in [0, 100] (kInvalidInput otherwise). block_count 0 gives empty arrays.
    [[nodiscard]] virtual ApiResult<FeeHistory> fee_history(
        uint64_t block_count, BlockSelector newest,
        const std::vector<double>& reward_percentiles) const = 0;

    // transactions --------------------------------------------------------------------------------

    /// eth_sendRawTransaction: decodes, checks and admits into the pool; returns the transaction
    /// hash (keccak256 of `raw`; for a blob transaction, which comes in EIP-4844's network form
    /// with its blobs, commitments and proofs, keccak256 of the canonical form without them).
    /// Errors: kInvalidInput when `raw` does not decode (message starts with "rlp:" / "txn:" /
    /// "blob txn:"); kRejected with geth's admission strings otherwise:
    /// "invalid sender", "invalid chain id for signer" (wrong chain id, or legacy without EIP-155
    /// is accepted), "already known", "nonce too low", "replacement transaction underpriced",
    /// "intrinsic gas too low", "exceeds block gas limit", "max fee per gas less than block base
    /// fee", "max priority fee per gas higher than max fee per gas",
    /// "insufficient funds for gas * price + value" (the cost includes blob gas at the blob fee
    /// cap), for blob transactions "missing sidecar in blob transaction" (the canonical form),
    /// "blobless blob transaction", "too many blobs in transaction: ...", "invalid number of ...",
    /// "blob N: computed hash ... mismatches ...", "invalid blob N: ..." (a KZG proof that does
    /// not verify), "max fee per blob gas less than block blob gas fee"; "txpool is full", "account
    /// limit exceeded", "oversized data", "max initcode size exceeded", "sender not an eoa". "nonce
    /// too low" and "insufficient funds
    /// ..." carry geth's suffixes (": next nonce N, tx nonce M", ": balance B, tx cost C, overshot
    /// D"), so match them as prefixes. A transaction whose nonce leaves a gap is accepted and
    /// queued (not an error). The pool is journaled at shutdown and admitted again at the next
    /// start (unless --txpool.nojournal); a killed node loses it.
    [[nodiscard]] virtual ApiResult<Hash32> submit_raw_transaction(ByteView raw) = 0;

    /// submit_raw_transaction() for each of `raws`, in order (each sees those before it in the
    /// pool): out[i] is what submit_raw_transaction(raws[i]) would answer at that point. A JSON-RPC
    /// batch of eth_sendRawTransaction calls comes here; an implementation may hash and recover
    /// the senders together. The default submits them one by one.
    [[nodiscard]] virtual std::vector<ApiResult<Hash32>> submit_raw_transactions(
        std::span<const ByteView> raws) {
        std::vector<ApiResult<Hash32>> out;
        out.reserve(raws.size());
        for (const ByteView raw : raws) out.push_back(submit_raw_transaction(raw));
        return out;
    }

    /// eth_sendTransaction for the dev accounts: fills nonce (pending), gas (estimate), fees,
    /// chain id, signs with the account's key and submits. Errors: kRejected "unknown account"
    /// when `from` is missing or not a dev account; estimate and admission errors as above.
    [[nodiscard]] virtual ApiResult<Hash32> send_transaction(const CallRequest& request) = 0;

    /// eth_signTransaction: fills and signs as send_transaction does (the nonce defaults to the
    /// pending one, which signing does not take) and returns the signed encoding, submitting
    /// nothing. Errors: as send_transaction's before admission.
    [[nodiscard]] virtual ApiResult<Bytes> sign_transaction(const CallRequest& request) = 0;

    /// eth_accounts: the dev accounts (empty when the chain came from a genesis file without dev
    /// keys).
    [[nodiscard]] virtual std::vector<Address> accounts() const = 0;

    // The dev chain's controls (single node; kRejected in consensus mode), as anvil and hardhat
    // name them.
    /// evm_mine: a block now, with the pool's ready transactions or empty; at `timestamp` when
    /// given (as set_next_block_timestamp). Returns its number.
    [[nodiscard]] virtual ApiResult<uint64_t> mine_block(std::optional<uint64_t> timestamp) = 0;
    /// evm_increaseTime: later blocks (and calls) see the clock `seconds` further on. Returns the
    /// total offset.
    [[nodiscard]] virtual ApiResult<uint64_t> increase_time(uint64_t seconds) = 0;
    /// evm_setNextBlockTimestamp: the next block's timestamp, which must be after the head's;
    /// later blocks go on from it. kRejected for a timestamp not after the head's.
    [[nodiscard]] virtual ApiResult<void> set_next_block_timestamp(uint64_t timestamp) = 0;
    /// anvil_setBalance / setNonce / setCode / setStorageAt (and hardhat_*): changes `addr` as
    /// given, at once for every read and for the next block's execution, without a block: the
    /// next block produced writes the changes with its own (the head's stateRoot is unchanged
    /// until then, as on anvil; eth_getProof proves the stored state). Changes not yet in a block
    /// are lost when the node stops.
    [[nodiscard]] virtual ApiResult<void> set_account(const Address& addr,
                                                      const DevAccountChange& change) = 0;
    /// evm_setAutomine / evm_setIntervalMining and anvil's kin: changes what is set (at open:
    /// automine with --block-time 0, else the interval). Turning automine on also mines what
    /// the pool holds. kRejected for an interval outside 0..86400 s, and in consensus mode.
    [[nodiscard]] virtual ApiResult<void> set_mining(std::optional<bool> automine,
                                                     std::optional<double> interval_s) = 0;
    [[nodiscard]] virtual MiningMode mining_mode() const = 0;
    /// anvil_impersonateAccount / anvil_stopImpersonatingAccount (and hardhat_*): while on,
    /// eth_sendTransaction from `addr` is accepted without its key, as if signed by it (the
    /// transaction carries a placeholder signature: r = the address, s = 1), also from a contract
    /// (EIP-3607 is waived for such transactions). Single node only; not kept across a restart,
    /// nor are such transactions in the pool journal.
    [[nodiscard]] virtual ApiResult<void> impersonate(const Address& addr, bool on) = 0;
    /// evm_snapshot: remembers the head (and the dev clock) under a new id, 1, 2, ... From then
    /// on every block also keeps the old values of what it changes, in memory (snapshots do not
    /// survive a restart).
    [[nodiscard]] virtual ApiResult<uint64_t> snapshot() = 0;
    /// evm_revert: takes the chain back to snapshot `id`'s head: the state, and the blocks,
    /// receipts and transaction index above it are removed (in one synced batch), the pool is
    /// emptied, and the dev clock (evm_increaseTime, evm_setNextBlockTimestamp) is as it was.
    /// Snapshot `id` and every later one are used up. False for an unknown id (nothing changes).
    [[nodiscard]] virtual ApiResult<bool> revert(uint64_t id) = 0;

    /// Signs `digest` with the key of dev account `account` (for eth_sign, personal_sign and
    /// eth_signTypedData_v4, whose EIP-191 / EIP-712 digests the RPC layer computes). Errors:
    /// kRejected "unknown account" when `account` is not a dev account.
    [[nodiscard]] virtual ApiResult<crypto::Signature> sign_hash(const Address& account,
                                                                 const Hash32& digest) const = 0;

    // filters, reports, metrics
    // -----------------------------------------------------------------------

    /// Registers callbacks (see Subscriber). Thread safe; a callback may be running on another
    /// thread when unsubscribe() returns only if unsubscribe is called from within a callback.
    /// After unsubscribe() returns (from outside a callback) the callbacks are not called again:
    /// it waits for a callback running on another thread, so do not call it while holding a lock
    /// that your callbacks take.
    [[nodiscard]] virtual SubscriptionId subscribe(Subscriber subscriber) = 0;
    virtual void unsubscribe(SubscriptionId id) = 0;

    /// pel_getBlockConflicts: the conflict report stored with the block; empty when the block does
    /// not exist (genesis has an all-zero report).
    [[nodiscard]] virtual ApiResult<std::optional<BlockConflictReport>> conflict_report(
        BlockSelector selector) const = 0;

    /// Snapshot of the counters for /metrics.
    [[nodiscard]] virtual NodeMetrics metrics() const = 0;

    /// Consensus state (a single node answers enabled = false). Thread safe.
    [[nodiscard]] virtual ConsensusStatus consensus_status() const { return {}; }
    /// Connected peers (0 for a single node). Thread safe.
    [[nodiscard]] virtual size_t peer_count() const { return 0; }
};

}  // namespace pel::node
