// SPDX-License-Identifier: Apache-2.0
// pel::node::Node: the node core. Owns the state store (LevelDB under the datadir), the chain
// records, the mempool and the block producer thread, and implements NodeApi (node/api.hpp).
// main() opens it with a NodeConfig, starts it, serves RPC on it, and stops it.
//
// Two modes, chosen by the genesis: without config.pel.validators a single node produces blocks
// itself (automine or --block-time); with it the node is one validator of a BFT chain: it owns a
// net::Network (peers, transaction gossip) and a ConsensusHost (node/consensus_host.hpp) whose
// engine decides every block, and it builds, validates and stores the blocks the engine asks for
// (the file comment of node.cpp describes the block payload and the validation rules).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "consensus/engine.hpp"
#include "net/network.hpp"
#include "node/api.hpp"
#include "primitives/hash.hpp"
#include "primitives/result.hpp"

namespace pel::node {

/// A dev account: address and secret key (printed at startup, as anvil does).
struct DevAccount {
    Address address;
    Hash32 secret_key;
};

/// Node settings (the CLI maps onto these one to one).
struct NodeConfig {
    std::string datadir = "pel-data";  ///< LevelDB lives in <datadir>/chaindata
    /// Used when no genesis file is given (dev chain). With a genesis file, config.chainId wins.
    uint64_t chain_id = 31337;
    std::optional<std::string> genesis_path;  ///< geth genesis.json; empty: dev chain
    /// 0: automine (a block as soon as the pool has executable transactions). S > 0: a block every
    /// S seconds, empty ones included.
    double block_time_s = 0;
    /// Automine only: when transactions arrived while a block was being built, wait up to this
    /// many milliseconds for more before building the next (less when the pool holds a block's
    /// worth; not at all after a block full by gas). 0: the next block at once. The first block
    /// after an empty pool is never delayed.
    double automine_gather_ms = 2;
    /// State reads (eth_getBalance, eth_call, debug_trace*, ...) also at the last N blocks below
    /// the head, from the old values of what each block changed: stored with each block (so that
    /// a restart reads them back), the newest also kept in memory. 0: the head only.
    uint64_t state_history = 128;
    /// Old values (accounts and slots, a few hundred bytes each) of the history window kept in
    /// memory beyond what evm_snapshot needs; reads further back decode the blocks' records.
    size_t history_memory_values = size_t{1} << 20;
    size_t threads = 4;  ///< executor threads (>= 1)
    /// Dev chain block gas limit (a genesis file's gasLimit wins).
    uint64_t gas_limit = 30'000'000;
    /// Dev chain initial base fee (a genesis file's baseFeePerGas wins). 1 gwei as geth --dev.
    uint64_t initial_base_fee = 1'000'000'000;
    /// Mempool limits.
    size_t mempool_max_total = 100'000;      ///< pending + queued
    size_t mempool_max_per_sender = 16'384;  ///< pending + queued of one sender
    size_t mempool_max_queued_per_sender = 1'024;
    size_t mempool_max_blob_txs = 256;  ///< blob transactions (each held with its sidecar)
    /// eth_call / eth_estimateGas gas cap (geth --rpc.gascap default).
    uint64_t rpc_gas_cap = 50'000'000;
    /// eth_getLogs limits.
    uint64_t max_log_block_range = 10'000;
    size_t max_log_results = 10'000;
    /// Automine: at most this many transactions per block (besides the gas limit).
    size_t max_block_txs = 20'000;
    /// fsync every block commit (off only in tests).
    bool sync = true;
    /// Number of dev accounts derived from the mnemonic (dev chain, and consensus devnets whose
    /// genesis funds them).
    size_t dev_account_count = 10;
    /// The pool's transactions are written to <datadir>/txpool.rlp when the node closes and
    /// admitted again (then the file is removed) when it opens (node/pool_journal.hpp).
    bool txpool_journal = true;

    // --- consensus mode (a genesis with config.pel.validators) ---------------------------------
    // block_time_s is then the longest a proposer with an empty pool waits for transactions
    // before it proposes an empty block (capped below the propose timeout).
    /// The node key (validator key); required in consensus mode.
    std::optional<Hash32> node_key;
    std::string p2p_addr = "127.0.0.1";
    uint16_t p2p_port = 30303;  ///< 0: any free port (see Node::p2p_port())
    std::vector<net::PeerAddress> peers;
    size_t p2p_threads = 1;
    /// Engine timeouts (ms). The propose timeout must leave time to build and validate a block.
    consensus::TimeoutConfig timeouts{3000, 500, 1000, 500, 1000, 500, 1000};
    /// Transaction gossip: accepted transactions are sent in batches at this interval.
    uint32_t txn_gossip_interval_ms = 20;
    /// Called on the consensus thread when a decided block cannot be stored or re-executed
    /// (consensus cannot go on). Default: log and exit the process with status 1.
    std::function<void(const std::string&)> on_fatal;
};

/// The node core.
///
/// Lifecycle: open() (creates or reopens the datadir, writes genesis on first use, checks a
/// reopened datadir has the same genesis hash and a head whose stateRoot matches the store),
/// start() (block producer thread), stop() (finishes the block in progress; every block whose
/// commit began is committed; idempotent; the destructor calls it).
///
/// Thread safety: all NodeApi methods and the accessors below may be called from any thread at
/// once; open/start/stop from one controlling thread.
class Node final : public NodeApi {
  public:
    /// Errors: bad genesis file (message names the field), a datadir created with another
    /// genesis ("datadir ... was created with genesis 0x.., this genesis is 0x.."), a corrupt or
    /// inconsistent datadir, I/O, a datadir held open by another process.
    [[nodiscard]] static Result<std::unique_ptr<Node>> open(const NodeConfig& config);

    ~Node() override;
    Node(const Node&) = delete;
    Node& operator=(const Node&) = delete;
    Node(Node&&) = delete;
    Node& operator=(Node&&) = delete;

    /// Starts the block producer thread (single mode) or the network and the consensus thread
    /// (consensus mode). Errors: already started, the p2p port cannot be bound.
    [[nodiscard]] Result<void> start();
    /// Stops the producer after the block in progress; safe to call more than once.
    void stop();

    /// Genesis block hash (stable across restarts of the same datadir).
    [[nodiscard]] Hash32 genesis_hash() const;
    /// The dev accounts with their keys (empty for a genesis-file chain, except a consensus
    /// genesis that funds them: eth_sendTransaction signs for those).
    [[nodiscard]] const std::vector<DevAccount>& dev_accounts() const;

    /// Test hook: produce one block now from the pool (whatever the block time), waiting until it
    /// is committed; returns its number. Works with or without start(). Single mode only.
    [[nodiscard]] Result<uint64_t> test_mine_block();

    /// Whether the genesis names validators (consensus mode).
    [[nodiscard]] bool consensus_mode() const;
    /// This node's id (its node key's address); zero without a node key.
    [[nodiscard]] Address node_id() const;
    /// The bound p2p port after start() in consensus mode; 0 otherwise.
    [[nodiscard]] uint16_t p2p_port() const;
    /// Test hooks (consensus mode): Application::validate of the head's child, and the stored
    /// consensus payload of a committed block (nullopt if not stored).
    [[nodiscard]] Result<void> test_validate(ByteView payload);
    /// Test hook (consensus mode, node not started): the payload this node would propose as the
    /// head's child now (no wait for transactions).
    [[nodiscard]] Result<Bytes> test_propose();
    [[nodiscard]] std::optional<Bytes> test_block_payload(uint64_t block_num);
    /// Own consensus messages held back by the double-sign guard since start.
    [[nodiscard]] uint64_t test_suppressed_messages() const;

    // NodeApi
    [[nodiscard]] uint64_t chain_id() const noexcept override;
    [[nodiscard]] Address coinbase() const noexcept override;
    [[nodiscard]] Head head() const override;
    [[nodiscard]] ApiResult<std::optional<BlockRecord>> block_by_number(
        BlockSelector selector) const override;
    [[nodiscard]] ApiResult<std::optional<BlockRecord>> block_by_hash(
        const Hash32& hash) const override;
    [[nodiscard]] ApiResult<std::optional<TxRecord>> transaction_by_hash(
        const Hash32& hash) const override;
    [[nodiscard]] ApiResult<std::optional<ReceiptRecord>> receipt_by_hash(
        const Hash32& hash) const override;
    [[nodiscard]] ApiResult<std::vector<LogRecord>> logs(const LogFilter& filter) const override;
    [[nodiscard]] ApiResult<U256> balance(const Address& addr,
                                          BlockSelector selector) const override;
    [[nodiscard]] ApiResult<uint64_t> nonce(const Address& addr,
                                            BlockSelector selector) const override;
    [[nodiscard]] ApiResult<Bytes> code(const Address& addr, BlockSelector selector) const override;
    [[nodiscard]] ApiResult<Hash32> storage_at(const Address& addr, const U256& slot,
                                               BlockSelector selector) const override;
    [[nodiscard]] ApiResult<AccountProof> account_proof(const Address& addr,
                                                        const std::vector<U256>& slots,
                                                        BlockSelector selector) const override;
    [[nodiscard]] ApiResult<CallResult> call(const CallRequest& request,
                                             BlockSelector selector) const override;
    [[nodiscard]] ApiResult<std::optional<TraceResult>> trace_transaction(
        const Hash32& hash, const TraceOptions& options) const override;
    [[nodiscard]] ApiResult<std::optional<std::vector<TxTrace>>> trace_block(
        BlockSelector selector, const TraceOptions& options) const override;
    [[nodiscard]] ApiResult<std::vector<TraceResult>> trace_call_each(
        const CallRequest& request, BlockSelector selector,
        std::span<const TraceOptions> options) const override;
    [[nodiscard]] ApiResult<AccessListResult> create_access_list(
        const CallRequest& request, BlockSelector selector) const override;
    [[nodiscard]] ApiResult<uint64_t> estimate_gas(const CallRequest& request,
                                                   BlockSelector selector) const override;
    [[nodiscard]] U256 gas_price() const override;
    [[nodiscard]] U256 max_priority_fee() const override;
    [[nodiscard]] ApiResult<FeeHistory> fee_history(
        uint64_t block_count, BlockSelector newest,
        const std::vector<double>& reward_percentiles) const override;
    [[nodiscard]] ApiResult<Hash32> submit_raw_transaction(ByteView raw) override;
    [[nodiscard]] std::vector<ApiResult<Hash32>> submit_raw_transactions(
        std::span<const ByteView> raws) override;
    [[nodiscard]] ApiResult<Hash32> send_transaction(const CallRequest& request) override;
    [[nodiscard]] ApiResult<Bytes> sign_transaction(const CallRequest& request) override;
    [[nodiscard]] std::vector<Address> accounts() const override;
    [[nodiscard]] PoolContent pool_content() const override;
    [[nodiscard]] ApiResult<uint64_t> mine_block(std::optional<uint64_t> timestamp) override;
    [[nodiscard]] ApiResult<uint64_t> increase_time(uint64_t seconds) override;
    [[nodiscard]] ApiResult<void> set_next_block_timestamp(uint64_t timestamp) override;
    [[nodiscard]] ApiResult<void> set_account(const Address& addr,
                                              const DevAccountChange& change) override;
    [[nodiscard]] ApiResult<void> set_mining(std::optional<bool> automine,
                                             std::optional<double> interval_s) override;
    [[nodiscard]] MiningMode mining_mode() const override;
    [[nodiscard]] ApiResult<void> impersonate(const Address& addr, bool on) override;
    [[nodiscard]] ApiResult<uint64_t> snapshot() override;
    [[nodiscard]] ApiResult<bool> revert(uint64_t id) override;
    [[nodiscard]] ApiResult<crypto::Signature> sign_hash(const Address& account,
                                                         const Hash32& digest) const override;
    [[nodiscard]] SubscriptionId subscribe(Subscriber subscriber) override;
    void unsubscribe(SubscriptionId id) override;
    [[nodiscard]] ApiResult<std::optional<BlockConflictReport>> conflict_report(
        BlockSelector selector) const override;
    [[nodiscard]] NodeMetrics metrics() const override;
    [[nodiscard]] ConsensusStatus consensus_status() const override;
    [[nodiscard]] size_t peer_count() const override;

  private:
    /// Pool admission (RPC and gossip); `gossip`: forward to peers once accepted. `impersonated`:
    /// the sender of an unsigned transaction from an impersonated account (not recovered).
    [[nodiscard]] ApiResult<Hash32> admit(ByteView raw, bool gossip,
                                          std::optional<Address> impersonated = std::nullopt);
    /// admit() for each of `raws`, in order, with their hashes and senders computed together.
    [[nodiscard]] std::vector<ApiResult<Hash32>> admit_many(std::span<const ByteView> raws,
                                                            bool gossip,
                                                            std::optional<Address> impersonated);
    /// eth_sendTransaction / eth_signTransaction: the request filled (node.cpp), and signed with
    /// its dev account's key.
    [[nodiscard]] ApiResult<Transaction> fill_transaction(const CallRequest& request);
    [[nodiscard]] ApiResult<Bytes> fill_and_sign(const CallRequest& request);
    /// Admits the journal's transactions (open) / writes the pool to it (destruction).
    void readmit_journal();
    void write_journal() const;
    struct Impl;
    explicit Node(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace pel::node
