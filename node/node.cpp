// SPDX-License-Identifier: Apache-2.0
// Node: the chain (records in the state store's auxiliary range), the mempool, block production
// and, in consensus mode, the validator's side of consensus, behind NodeApi.
//
// Storing a block atomically: a block is built (single mode: picked from the pool) or received
// (consensus mode: proposed by a validator), executed with the parallel executor, and prepared in
// the state store (StateStore::prepare computes the state root and writes nothing); the complete
// header, body, receipts, indexes, conflict report, the old values of what the block changed
// (--history.state) and (consensus mode) commit certificate then go in the same batch as the
// state (commit_prepared). After a crash the store holds every record of
// exactly the blocks whose state it holds. Single mode = build + apply; consensus mode runs the
// same two steps from the engine's Application calls.
//
// Consensus payload (the value validators agree on): rlp([header, [txn encodings]])
// (encode_block in chain.hpp); value id = keccak256(payload), block hash = keccak256(header).
// A proposed block is valid on the head iff: it decodes strictly; parentHash = head hash;
// number = head + 1; timestamp >= the parent's and <= local time + 15 s (equal timestamps are
// allowed: see build()); gasLimit = the parent's;
// baseFeePerGas = next_base_fee(parent); excessBlobGas = next_excess_blob_gas(parent); mixHash =
// keccak256(parentHash); every transaction's sender recovers and every transaction is valid in
// order on the head state (parallel re-execution); and transactionsRoot, receiptsRoot, logsBloom,
// gasUsed, blobGasUsed, the constant post-merge fields and the state root equal what the
// re-execution gives (the header must re-encode byte for byte). The coinbase is the proposer's
// choice (pel-node puts its own address there).
#include "node/node.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include <spdlog/spdlog.h>

#include "consensus/certificate.hpp"
#include "consensus/message.hpp"
#include "execution/block_executor.hpp"
#include "execution/host.hpp"
#include "execution/state_view_reader.hpp"
#include "execution/transition.hpp"
#include "net/message.hpp"
#include "node/chain.hpp"
#include "node/consensus_host.hpp"
#include "node/dev_accounts.hpp"
#include "node/genesis.hpp"
#include "node/lru_cache.hpp"
#include "node/mempool.hpp"
#include "node/pool_journal.hpp"
#include "node/revert.hpp"
#include "node/trace.hpp"
#include "primitives/keccak.hpp"
#include "primitives/log.hpp"
#include "primitives/rlp.hpp"
#include "state/kv_store.hpp"
#include "state/state_view.hpp"
#include "state/trie.hpp"
#include "vm/host.hpp"
#include "vm/precompiles.hpp"
#include "vm/vm.hpp"

namespace pel::node {
namespace {

using Clock = std::chrono::steady_clock;

constexpr uint64_t kGwei = 1'000'000'000;
constexpr size_t kMaxTxBytes = 128 * 1024;  // geth txMaxSize (4 slots of 32 KiB)
constexpr size_t kMaxRetriesPerBlock = 4096;

ApiError rejected(std::string msg) { return {ApiErrorKind::kRejected, std::move(msg), {}}; }
ApiError invalid(std::string msg) { return {ApiErrorKind::kInvalidInput, std::move(msg), {}}; }
ApiError internal(std::string msg) { return {ApiErrorKind::kInternal, std::move(msg), {}}; }

std::string_view geth_message(exec::TxnError e) {
    using E = exec::TxnError;
    switch (e) {
        case E::kWrongChainId:
            return "invalid chain id for signer";
        case E::kGasLimitExceedsBlock:
            return "exceeds block gas limit";
        case E::kFeeCapBelowBaseFee:
            return "max fee per gas less than block base fee";
        case E::kPriorityAboveMaxFee:
            return "max priority fee per gas higher than max fee per gas";
        case E::kBlobCreate:
            return "blob transaction of type create";
        case E::kBlobNone:
            return "blob transaction missing blob hashes";
        case E::kBlobCountExceeded:
            return "too many blobs in transaction";
        case E::kBlobVersionInvalid:
            return "blob transaction has an invalid versioned hash";
        case E::kBlobFeeCapBelowBlobBaseFee:
            return "max fee per blob gas less than block blob gas fee";
        case E::kInitcodeTooLarge:
            return "max initcode size exceeded";
        case E::kIntrinsicGasTooLow:
            return "intrinsic gas too low";
        case E::kSenderNotEoa:
            return "sender not an eoa";
        case E::kNonceTooHigh:
            return "nonce too high";
        case E::kNonceTooLow:
            return "nonce too low";
        case E::kNonceMax:
            return "nonce has max value";
        case E::kInsufficientFunds:
            return "insufficient funds for gas * price + value";
    }
    return "invalid transaction";
}

/// gas_limit * fee + value + blob gas * blob fee cap, saturating at 2^256-1.
U256 txn_cost(const Transaction& t) {
    const auto product = [](const U256& a, const U256& b) -> std::optional<U256> {
        const auto prod = mul_full(a, b);
        if ((prod[4] | prod[5] | prod[6] | prod[7]) != 0) {
            return std::nullopt;
        }
        return U256(prod[0], prod[1], prod[2], prod[3]);
    };
    const auto gas_cost = product(U256(t.gas_limit), t.max_fee_per_gas);
    const auto blob_cost =
        product(U256(exec::kGasPerBlob * t.blob_versioned_hashes.size()), t.max_fee_per_blob_gas);
    U256 out;
    if (!gas_cost || !blob_cost || add_overflow(*gas_cost, t.value, out) ||
        add_overflow(out, *blob_cost, out)) {
        return U256::max();
    }
    return out;
}

/// The EIP-4844 sidecar checks of geth's pool (core/txpool validateBlobTx, same messages): blob
/// count, one blob, commitment and proof per versioned hash, each hash the commitment's, and
/// each KZG proof valid for its blob. Empty when the sidecar is sound.
std::optional<std::string> blob_sidecar_error(const PooledBlobTransaction& p) {
    const size_t n = p.txn.blob_versioned_hashes.size();
    if (n == 0) {
        return "blobless blob transaction";
    }
    if (n > exec::kMaxBlobsPerBlock) {
        return "too many blobs in transaction: have " + std::to_string(n) + ", permitted " +
               std::to_string(exec::kMaxBlobsPerBlock);
    }
    const auto count = [&](size_t have, const char* what) -> std::optional<std::string> {
        if (have == n) return std::nullopt;
        return "invalid number of " + std::to_string(have) + " " + what + " compared to " +
               std::to_string(n) + " blob hashes";
    };
    if (auto e = count(p.blobs.size(), "blobs")) return e;
    if (auto e = count(p.commitments.size(), "blob commitments")) return e;
    if (auto e = count(p.proofs.size(), "blob proofs")) return e;
    for (size_t i = 0; i < n; ++i) {
        const Hash32 computed = vm::kzg_to_versioned_hash(p.commitments[i]);
        if (computed != p.txn.blob_versioned_hashes[i]) {
            return "blob " + std::to_string(i) + ": computed hash " + computed.to_hex() +
                   " mismatches transaction one " + p.txn.blob_versioned_hashes[i].to_hex();
        }
    }
    for (size_t i = 0; i < n; ++i) {
        const auto ok = vm::verify_blob_kzg_proof(p.blobs[i], p.commitments[i], p.proofs[i]);
        if (!ok) {
            return "invalid blob " + std::to_string(i) +
                   ": a field element, the commitment or the proof is not a valid encoding";
        }
        if (!*ok) {
            return "invalid blob " + std::to_string(i) + ": can't verify opening proof";
        }
    }
    return std::nullopt;
}

uint64_t now_seconds() {
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count());
}

double ms_since(Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

Bloom or_blooms(const Bloom& a, const Bloom& b) {
    Bloom out{};
    for (size_t i = 0; i < out.size(); ++i) {
        out[i] = static_cast<uint8_t>(a[i] | b[i]);
    }
    return out;
}

/// The bloom may contain `data` (the 3 bits of keccak256(data), Yellow Paper 4.3.1).
bool bloom_may_contain(const Bloom& bloom, ByteView data) {
    const Hash32 h = keccak256(data);
    for (size_t i = 0; i < 6; i += 2) {
        const unsigned bit = ((static_cast<unsigned>(h.bytes[i]) << 8) | h.bytes[i + 1]) & 2047U;
        if ((bloom[255 - bit / 8] & (1U << (bit % 8))) == 0) {
            return false;
        }
    }
    return true;
}

/// Hashes kept for BLOCKHASH: the head's and the 256 before it, the window of the next block
/// (the last 256) and of calls that run in the head's own block (the 256 before it).
constexpr uint64_t kRecentHashes = 257;

/// BLOCKHASH over a copy of the recent hashes (kRecentHashes). Immutable, so thread safe.
class RecentHashes final : public exec::BlockHashSource {
  public:
    RecentHashes(uint64_t first, std::vector<Hash32> hashes)
        : first_(first), hashes_(std::move(hashes)) {}
    [[nodiscard]] Hash32 block_hash(int64_t block_num) const noexcept override {
        if (block_num < 0) {
            return {};
        }
        const auto n = static_cast<uint64_t>(block_num);
        if (n < first_ || n - first_ >= hashes_.size()) {
            return {};
        }
        return hashes_[n - first_];
    }
    /// The window as block `num` (at most the last one here) sees it: the hashes up to `num`.
    [[nodiscard]] std::shared_ptr<const RecentHashes> up_to(uint64_t num) const {
        if (num < first_) {
            return std::make_shared<const RecentHashes>(num, std::vector<Hash32>{});
        }
        const size_t count = std::min<uint64_t>(hashes_.size(), num - first_ + 1);
        return std::make_shared<const RecentHashes>(
            first_, std::vector<Hash32>(hashes_.begin(),
                                        hashes_.begin() + static_cast<std::ptrdiff_t>(count)));
    }

  private:
    uint64_t first_;
    std::vector<Hash32> hashes_;
};

/// eth_call's view of the head: the caller's nonce is the call's, and a caller with code is
/// treated as an EOA (geth skips those checks for calls).
// Passes reads through and lists the accounts and slots read (eth_createAccessList). Every
// account or slot a transaction touches is read once, on its first (cold) access.
class RecordingReader final : public exec::StateReader {
  public:
    explicit RecordingReader(exec::StateReader& base) : base_(base) {}
    [[nodiscard]] std::optional<exec::AccountInfo> read_account(
        const Address& addr) noexcept override {
        touched_.try_emplace(addr);
        return base_.read_account(addr);
    }
    [[nodiscard]] U256 read_storage(const Address& addr, const U256& key) noexcept override {
        touched_[addr].insert(key.to_hash());
        return base_.read_storage(addr, key);
    }
    [[nodiscard]] bool has_storage(const Address& addr) noexcept override {
        return base_.has_storage(addr);
    }
    [[nodiscard]] Hash32 read_code_hash(const Address& addr) noexcept override {
        touched_.try_emplace(addr);
        return base_.read_code_hash(addr);
    }
    [[nodiscard]] ByteView read_code(const Hash32& code_hash) noexcept override {
        return base_.read_code(code_hash);
    }
    void note_slot(const Address& addr, const U256& key) { touched_[addr].insert(key.to_hash()); }
    /// What was read, by address then key, less the accounts `skip` names when none of their
    /// slots was read (geth's tracer lists the slots of `to` and of a created contract too).
    [[nodiscard]] AccessList list(const std::function<bool(const Address&)>& skip) const {
        AccessList out;
        for (const auto& [addr, keys] : touched_) {
            if (!keys.empty() || !skip(addr)) {
                out.push_back(AccessListEntry{addr, {keys.begin(), keys.end()}});
            }
        }
        return out;
    }

  private:
    exec::StateReader& base_;
    std::map<Address, std::set<Hash32>> touched_;
};

class CallReader final : public exec::StateReader {
  public:
    CallReader(exec::StateReader& base, const Address& from, std::optional<uint64_t> nonce)
        : base_(base), from_(from), nonce_(nonce) {}
    [[nodiscard]] std::optional<exec::AccountInfo> read_account(
        const Address& addr) noexcept override {
        auto a = base_.read_account(addr);
        if (addr == from_) {
            if (nonce_) {
                if (!a) {
                    a = exec::AccountInfo{};
                }
                a->nonce = *nonce_;
            }
            if (a && a->code_hash != kEmptyCodeHash) {
                a->code_hash = kEmptyCodeHash;
            }
        }
        return a;
    }
    [[nodiscard]] U256 read_storage(const Address& addr, const U256& key) noexcept override {
        return base_.read_storage(addr, key);
    }
    [[nodiscard]] bool has_storage(const Address& addr) noexcept override {
        return base_.has_storage(addr);
    }
    [[nodiscard]] ByteView read_code(const Hash32& code_hash) noexcept override {
        return base_.read_code(code_hash);
    }

  private:
    exec::StateReader& base_;
    Address from_;
    std::optional<uint64_t> nonce_;
};

/// The head state with the dev chain's pending account changes (anvil_setBalance and friends)
/// over it: what reads and the next block's execution see until that block carries them into the
/// store. An account's storage_root stays the stored one (the trie is only hashed with the block).
/// Immutable, so thread safe.
class OverlayView final : public state::StateView {
  public:
    OverlayView(std::shared_ptr<const state::StateView> base,
                std::shared_ptr<const state::StateDiff> changes)
        : base_(std::move(base)), changes_(std::move(changes)) {}

    [[nodiscard]] Result<std::optional<state::Account>> account(
        const Address& addr) const override {
        PEL_TRY(auto acc, base_->account(addr));
        const auto it = changes_->accounts.find(addr);
        if (it == changes_->accounts.end()) {
            return acc;
        }
        const state::AccountDiff& d = it->second;
        state::Account a = acc.value_or(state::Account{});
        if (d.nonce) a.nonce = *d.nonce;
        if (d.balance) a.balance = *d.balance;
        if (d.code) a.code_hash = d.code->hash;
        return std::optional<state::Account>(a);
    }
    [[nodiscard]] Result<U256> storage(const Address& addr, const U256& slot) const override {
        const auto it = changes_->accounts.find(addr);
        if (it != changes_->accounts.end()) {
            if (const auto v = it->second.storage.find(slot); v != it->second.storage.end()) {
                return v->second;
            }
            if (it->second.storage_cleared) {
                return U256{};  // the storage was replaced as a whole
            }
        }
        return base_->storage(addr, slot);
    }
    [[nodiscard]] Result<std::shared_ptr<const Bytes>> code(const Hash32& hash) const override {
        for (const auto& [addr, d] : changes_->accounts) {
            if (d.code && d.code->hash == hash) {
                return std::make_shared<const Bytes>(d.code->bytes);
            }
        }
        return base_->code(hash);
    }
    [[nodiscard]] std::optional<uint64_t> block_num() const noexcept override {
        return base_->block_num();
    }
    [[nodiscard]] Hash32 state_root() const noexcept override { return base_->state_root(); }

  private:
    std::shared_ptr<const state::StateView> base_;
    std::shared_ptr<const state::StateDiff> changes_;
};

/// A block below the head, as the head's stored state with the old values of everything the later
/// blocks changed put back (Node::Impl::state_at). Immutable, so thread safe.
class HistoryView final : public state::StateView {
  public:
    HistoryView(std::shared_ptr<const state::StateView> head,
                std::unordered_map<Address, OldAccount> accounts, uint64_t block_num,
                const Hash32& state_root)
        : head_(std::move(head)),
          accounts_(std::move(accounts)),
          block_num_(block_num),
          state_root_(state_root) {}

    [[nodiscard]] Result<std::optional<state::Account>> account(
        const Address& addr) const override {
        if (const auto it = accounts_.find(addr); it != accounts_.end()) {
            return it->second.account;
        }
        return head_->account(addr);
    }
    [[nodiscard]] Result<U256> storage(const Address& addr, const U256& slot) const override {
        if (const auto it = accounts_.find(addr); it != accounts_.end()) {
            if (!it->second.account) {
                return U256{};
            }
            if (const auto v = it->second.slots.find(slot); v != it->second.slots.end()) {
                return v->second;
            }
            if (it->second.wiped) {
                return U256{};
            }
        }
        return head_->storage(addr, slot);
    }
    [[nodiscard]] Result<std::shared_ptr<const Bytes>> code(const Hash32& hash) const override {
        return head_->code(hash);  // code is never deleted
    }
    [[nodiscard]] std::optional<uint64_t> block_num() const noexcept override { return block_num_; }
    [[nodiscard]] Hash32 state_root() const noexcept override { return state_root_; }

  private:
    std::shared_ptr<const state::StateView> head_;
    std::unordered_map<Address, OldAccount> accounts_;
    uint64_t block_num_;
    Hash32 state_root_;
};

struct HeadState {
    BlockHeader header;
    Hash32 hash;
    /// The state reads see: the store's view of this block, or an OverlayView of it (dev account
    /// changes) or a HistoryView (a block below the head).
    std::shared_ptr<const state::StateView> view;
    /// The store's view of the head this was made from (no dev changes), and the history
    /// generation then (Impl::history_generation: an evm_revert makes kept old values of other
    /// blocks carry the same numbers).
    std::shared_ptr<const state::StateView> stored;
    uint64_t generation = 0;
    /// Hashes of the last (up to) kRecentHashes blocks, the head's included: BLOCKHASH for the
    /// next block and for calls in this one.
    std::shared_ptr<const RecentHashes> hashes;
};

/// A committed block, decoded once (immutable: there are no reorgs).
struct CachedBlock {
    BlockHeader header;  ///< with its state root
    Hash32 hash;
    uint64_t size = 0;
    std::vector<Bytes> raw;  ///< canonical transaction encodings
    std::vector<Transaction> txns;
    std::vector<Hash32> tx_hashes;
    std::vector<Address> senders;
    std::vector<StoredReceipt> receipts;
};

/// A block built or validated on the head and prepared in the state store, ready to be applied.
struct PreparedBlock {
    BlockHeader header;  ///< complete once prepared (state root)
    Bytes header_rlp;
    Hash32 hash;
    Bytes payload;  ///< the consensus value: encode_block(header_rlp, raw)
    Hash32 id;      ///< keccak256(payload)
    std::vector<Bytes> raw;
    std::vector<Transaction> txns;
    std::vector<Hash32> tx_hashes;
    std::vector<Address> senders;
    exec::BlockOutput output;
    std::vector<Bytes> receipt_encodings;  ///< encode_receipt: the receipts root's leaves
    std::vector<Bytes> stored_receipts;    ///< encode_stored_receipt: what "xr" keeps
    double exec_ms = 0;
};

/// A proposed block's timestamp may run ahead of the local clock by this much.
constexpr uint64_t kMaxFutureSeconds = 15;
/// Received kTxns messages waiting for admission; beyond this, new ones are dropped.
constexpr size_t kMaxIncomingTxnMsgs = 1024;
/// Candidate blocks kept per height (one per round's proposal, normally one or two).
constexpr size_t kMaxCandidates = 16;

/// Decoded blocks kept for the RPC (transactions, receipts, logs by hash or number), least
/// recently used evicted first: bounded by the transactions they hold (about 1 KiB each
/// decoded), and by count for empty blocks.
constexpr size_t kBlockCacheTxns = 32768;
constexpr size_t kBlockCacheBlocks = 1024;
constexpr size_t kCommitTimes = 4096;
/// Folds one block's old values into `fold` (the values as they were below every block folded
/// so far): an account's earliest old value wins; a later wipe keeps every slot it removed, so
/// the slots stay complete.
void fold_block(std::unordered_map<Address, OldAccount>& fold, const OldValues& block) {
    for (const auto& [addr, o] : block.accounts) {
        auto [f, fresh] = fold.try_emplace(addr, o);
        if (!fresh) {
            f->second.wiped = f->second.wiped || o.wiped;
            for (const auto& [slot, v] : o.slots) {
                f->second.slots.try_emplace(slot, v);
            }
        }
    }
}

}  // namespace

struct Node::Impl {
    NodeConfig config;
    Genesis genesis;
    std::vector<DevAccount> dev;
    std::unique_ptr<state::StateStore> store;
    std::unique_ptr<Mempool> pool;
    std::unique_ptr<exec::ParallelExecutor> executor;  // producer only (under produce_mu)
    Hash32 genesis_hash;

    mutable std::mutex head_mu;
    std::shared_ptr<const HeadState> head_state;  // guarded by head_mu

    // Serialises block production (producer thread and test_mine_block).
    std::mutex produce_mu;
    std::deque<Hash32> recent;  // guarded by produce_mu: hashes of blocks [recent_first, head]
    uint64_t recent_first = 0;  // guarded by produce_mu

    std::thread producer;
    std::mutex wake_mu;
    std::condition_variable wake_cv;
    bool stopping = false;  // guarded by wake_mu
    bool work = false;      // guarded by wake_mu: the pool changed since the producer looked
    // Single mode's mining (evm_setAutomine, evm_setIntervalMining; guarded by wake_mu): a block
    // whenever the pool has ready transactions (automine), and/or one every interval_s seconds,
    // empty or not. From --block-time at open; each change bumps mining_epoch (the producer
    // restarts its period).
    bool automine = true;
    double interval_s = 0;
    uint64_t mining_epoch = 0;
    bool started = false;  // controlling thread only

    // Subscriptions: callbacks run under dispatch_mu (recursive: a callback may unsubscribe),
    // so unsubscribe() waits for a callback running on another thread.
    std::recursive_mutex dispatch_mu;
    std::map<SubscriptionId, Subscriber> subs;  // guarded by dispatch_mu
    SubscriptionId next_sub = 1;                // guarded by dispatch_mu

    std::mutex send_mu;  // send_transaction: nonce assignment and submission
    mutable std::mutex impersonate_mu;
    std::unordered_set<Address> impersonated;  // guarded by impersonate_mu
    [[nodiscard]] bool is_impersonated(const Address& a) const {
        const std::lock_guard lock(impersonate_mu);
        return impersonated.contains(a);
    }
    [[nodiscard]] const DevAccount* dev_key(const Address& a) const {
        const auto it = std::find_if(dev.begin(), dev.end(),
                                     [&](const DevAccount& d) { return d.address == a; });
        return it == dev.end() ? nullptr : &*it;
    }

    // Recently read or produced blocks, decoded (receipt lookups of a big block would otherwise
    // decode the whole block each time).
    mutable std::mutex cache_mu;
    // Guarded by cache_mu; weighed by transactions.
    mutable LruCache<uint64_t, CachedBlock> cache{kBlockCacheBlocks, kBlockCacheTxns};
    // Commit wall time of the blocks produced by this process (the stored report is written in
    // the commit it would measure); guarded by cache_mu, at most kCommitTimes entries.
    std::map<uint64_t, double> commit_times;

    mutable std::mutex vm_mu;
    mutable std::vector<std::unique_ptr<vm::Vm>> vms;  // guarded by vm_mu: idle VMs for calls

    // Metrics.
    std::atomic<uint64_t> blocks_produced{0};
    std::atomic<uint64_t> txs_committed{0};
    std::atomic<uint64_t> gas_committed{0};
    std::atomic<uint64_t> re_executions{0};
    std::atomic<uint64_t> txs_rejected{0};
    mutable std::mutex metrics_mu;
    double execution_ms_total = 0;         // guarded by metrics_mu
    double last_execution_ms = 0;          // guarded by metrics_mu
    double last_re_executions_per_tx = 0;  // guarded by metrics_mu

    // --- helpers ---------------------------------------------------------------------------

    std::shared_ptr<const HeadState> head() const {
        const std::lock_guard lock(head_mu);
        return head_state;
    }

    /// A pooled Vm for one execution, given back when the lease ends.
    class VmLease {
      public:
        explicit VmLease(const Impl& im) : im_(im), vm_(im.take_vm()) {}
        VmLease(const VmLease&) = delete;
        VmLease& operator=(const VmLease&) = delete;
        VmLease(VmLease&&) = delete;
        VmLease& operator=(VmLease&&) = delete;
        ~VmLease() { im_.give_vm(std::move(vm_)); }
        [[nodiscard]] vm::Vm& operator*() const noexcept { return *vm_; }

      private:
        const Impl& im_;
        std::unique_ptr<vm::Vm> vm_;
    };

    std::unique_ptr<vm::Vm> take_vm() const {
        {
            const std::lock_guard lock(vm_mu);
            if (!vms.empty()) {
                auto v = std::move(vms.back());
                vms.pop_back();
                return v;
            }
        }
        return std::make_unique<vm::Vm>();
    }
    void give_vm(std::unique_ptr<vm::Vm> v) const {
        const std::lock_guard lock(vm_mu);
        if (vms.size() < 16) {
            vms.push_back(std::move(v));
        }
    }

    /// The full header of block `num` (nullopt past the head).
    ApiResult<std::optional<BlockHeader>> header_at(uint64_t num, const HeadState& h) const {
        if (num == h.header.number) {
            return std::optional<BlockHeader>(h.header);
        }
        if (num > h.header.number) {
            return std::optional<BlockHeader>();
        }
        auto raw = store->get_aux(keys::header(num));
        if (!raw) {
            return unexpected(internal(raw.error().message));
        }
        if (!*raw) {
            return unexpected(internal("missing header record of block " + std::to_string(num)));
        }
        auto header = decode_header(**raw);
        if (!header) {
            return unexpected(
                internal("block " + std::to_string(num) + ": " + header.error().message));
        }
        return std::optional<BlockHeader>(std::move(*header));
    }

    ApiResult<std::optional<uint64_t>> number_of_hash(const Hash32& hash,
                                                      const HeadState& h) const {
        if (hash == h.hash) {
            return std::optional<uint64_t>(h.header.number);
        }
        auto raw = store->get_aux(keys::hash_index(hash));
        if (!raw) {
            return unexpected(internal(raw.error().message));
        }
        if (!*raw) {
            return std::optional<uint64_t>();
        }
        auto n = decode_u64_be(**raw);
        if (!n) {
            return unexpected(internal(n.error().message));
        }
        if (*n > h.header.number) {
            return std::optional<uint64_t>();
        }
        return std::optional<uint64_t>(*n);
    }

    ApiResult<StoredBody> body_at(uint64_t num) const {
        auto raw = store->get_aux(keys::body(num));
        if (!raw) {
            return unexpected(internal(raw.error().message));
        }
        if (!*raw) {
            return unexpected(internal("missing body of block " + std::to_string(num)));
        }
        auto b = decode_body(**raw);
        if (!b) {
            return unexpected(internal(b.error().message));
        }
        return std::move(*b);
    }

    ApiResult<std::vector<StoredReceipt>> receipts_at(uint64_t num) const {
        auto raw = store->get_aux(keys::receipts(num));
        if (!raw) {
            return unexpected(internal(raw.error().message));
        }
        if (!*raw) {
            return unexpected(internal("missing receipts of block " + std::to_string(num)));
        }
        auto list = decode_receipt_list(**raw);
        if (!list) {
            return unexpected(internal(list.error().message));
        }
        std::vector<StoredReceipt> out;
        out.reserve(list->size());
        for (const Bytes& r : *list) {
            auto d = decode_stored_receipt(r);
            if (!d) {
                return unexpected(internal(d.error().message));
            }
            out.push_back(std::move(*d));
        }
        return out;
    }

    /// Block number a selector names for block queries (nullopt: past the head).
    static std::optional<uint64_t> block_number_of(BlockSelector s, const HeadState& h) {
        switch (s.tag) {
            case BlockTag::kEarliest:
                return 0;
            case BlockTag::kNumber:
                if (s.number > h.header.number) {
                    return std::nullopt;
                }
                return s.number;
            default:
                return h.header.number;
        }
    }

    /// The head, if the selector names the head's state; an error otherwise.
    static ApiResult<void> check_state_selector(BlockSelector s, const HeadState& h) {
        const uint64_t head_num = h.header.number;
        if (s.tag == BlockTag::kNumber) {
            if (s.number > head_num) {
                return unexpected(rejected("header not found"));
            }
            if (s.number != head_num) {
                return unexpected(rejected("historical state not available: only block " +
                                           std::to_string(head_num) + " (the head) is kept"));
            }
        }
        if (s.tag == BlockTag::kEarliest && head_num != 0) {
            return unexpected(rejected("historical state not available: only block " +
                                       std::to_string(head_num) + " (the head) is kept"));
        }
        return {};
    }

    void cache_put(std::shared_ptr<const CachedBlock> b) const {
        const uint64_t num = b->header.number;
        const size_t txns = b->txns.size();
        const std::lock_guard lock(cache_mu);
        cache.put(num, std::move(b), txns);
    }

    /// Block `num` decoded (null past the head).
    ApiResult<std::shared_ptr<const CachedBlock>> load_block(uint64_t num,
                                                             const HeadState& h) const {
        if (num > h.header.number) {
            return std::shared_ptr<const CachedBlock>();
        }
        {
            const std::lock_guard lock(cache_mu);
            if (auto hit = cache.get(num)) {
                return hit;
            }
        }
        spdlog::debug("block cache miss: decoding block {} from the database", num);
        auto header = header_at(num, h);
        if (!header) {
            return unexpected(std::move(header).error());
        }
        if (!*header) {
            return std::shared_ptr<const CachedBlock>();
        }
        auto body = body_at(num);
        if (!body) {
            return unexpected(std::move(body).error());
        }
        auto receipts = receipts_at(num);
        if (!receipts) {
            return unexpected(std::move(receipts).error());
        }
        if (receipts->size() != body->txns.size()) {
            return unexpected(internal("block " + std::to_string(num) + ": " +
                                       std::to_string(body->txns.size()) + " transactions but " +
                                       std::to_string(receipts->size()) + " receipts"));
        }
        auto b = std::make_shared<CachedBlock>();
        b->header = std::move(**header);
        const Bytes header_rlp = encode_header(b->header);
        b->hash = keccak256(header_rlp);
        b->size = block_size(header_rlp, body->txns);
        b->txns.reserve(body->txns.size());
        b->tx_hashes.reserve(body->txns.size());
        for (const Bytes& r : body->txns) {
            auto txn = decode_transaction(r);
            if (!txn) {
                return unexpected(internal(txn.error().message));
            }
            b->txns.push_back(std::move(*txn));
            b->tx_hashes.push_back(keccak256(r));
        }
        b->raw = std::move(body->txns);
        b->senders = std::move(body->senders);
        b->receipts = std::move(*receipts);
        std::shared_ptr<const CachedBlock> out = b;
        cache_put(out);
        return out;
    }

    static TxRecord tx_record(const CachedBlock& b, size_t i) {
        TxRecord t;
        t.txn = b.txns[i];
        t.hash = b.tx_hashes[i];
        t.from = b.senders[i];
        t.block_hash = b.hash;
        t.block_number = b.header.number;
        t.index = i;
        t.gas_price = exec::effective_gas_price(b.txns[i], b.header.base_fee_per_gas);
        return t;
    }

    static BlockRecord make_block_record(const CachedBlock& b) {
        BlockRecord rec;
        rec.header = b.header;
        rec.hash = b.hash;
        rec.size = b.size;
        rec.transactions.reserve(b.txns.size());
        for (size_t i = 0; i < b.txns.size(); ++i) {
            rec.transactions.push_back(tx_record(b, i));
        }
        return rec;
    }

    static ReceiptRecord receipt_record(const CachedBlock& b, size_t i) {
        const StoredReceipt& sr = b.receipts[i];
        const Transaction& txn = b.txns[i];
        ReceiptRecord r;
        r.tx_hash = b.tx_hashes[i];
        r.tx_index = i;
        r.block_hash = b.hash;
        r.block_number = b.header.number;
        r.from = b.senders[i];
        r.to = txn.to;
        if (!txn.to) {
            r.contract_address = exec::create_address(r.from, txn.nonce);
        }
        r.cumulative_gas_used = sr.cumulative_gas_used;
        r.gas_used = sr.cumulative_gas_used - (i == 0 ? 0 : b.receipts[i - 1].cumulative_gas_used);
        r.effective_gas_price = exec::effective_gas_price(txn, b.header.base_fee_per_gas);
        if (txn.type == TxnType::kBlob) {
            r.blob_gas_used = exec::kGasPerBlob * txn.blob_versioned_hashes.size();
            r.blob_gas_price = exec::blob_base_fee(b.header.excess_blob_gas);
        }
        r.status = sr.status;
        r.logs_bloom = sr.bloom;
        r.type = sr.type;
        uint64_t log_index = 0;
        for (size_t k = 0; k < i; ++k) {
            log_index += b.receipts[k].logs.size();
        }
        for (const exec::Log& log : sr.logs) {
            LogRecord lr;
            lr.address = log.address;
            lr.topics = log.topics;
            lr.data = log.data;
            lr.block_number = b.header.number;
            lr.block_hash = b.hash;
            lr.tx_hash = r.tx_hash;
            lr.tx_index = i;
            lr.log_index = log_index++;
            r.logs.push_back(std::move(lr));
        }
        return r;
    }

    static bool log_matches(const exec::Log& log, const LogFilter& f) {
        if (!f.addresses.empty() &&
            std::find(f.addresses.begin(), f.addresses.end(), log.address) == f.addresses.end()) {
            return false;
        }
        if (f.topics.size() > log.topics.size()) {
            return false;
        }
        for (size_t t = 0; t < f.topics.size(); ++t) {
            const auto& alts = f.topics[t];
            if (!alts.empty() && std::find(alts.begin(), alts.end(), log.topics[t]) == alts.end()) {
                return false;
            }
        }
        return true;
    }

    /// Appends the logs of block `b` that match `filter`; errors past `limit` results.
    static ApiResult<void> block_logs(const CachedBlock& b, const LogFilter& filter,
                                      std::vector<LogRecord>& out, size_t limit) {
        uint64_t log_index = 0;
        for (size_t i = 0; i < b.receipts.size(); ++i) {
            for (const exec::Log& log : b.receipts[i].logs) {
                const uint64_t idx = log_index++;
                if (!log_matches(log, filter)) {
                    continue;
                }
                if (out.size() >= limit) {
                    return unexpected(
                        rejected("query returned more than " + std::to_string(limit) + " results"));
                }
                LogRecord r;
                r.address = log.address;
                r.topics = log.topics;
                r.data = log.data;
                r.block_number = b.header.number;
                r.block_hash = b.hash;
                r.tx_hash = b.tx_hashes[i];
                r.tx_index = i;
                r.log_index = idx;
                out.push_back(std::move(r));
            }
        }
        return {};
    }

    /// (block number, index) of a mined transaction, if mined at or below the head.
    ApiResult<std::optional<std::pair<uint64_t, size_t>>> locate(const Hash32& hash,
                                                                 const HeadState& h) const {
        using Loc = std::optional<std::pair<uint64_t, size_t>>;
        auto loc = store->get_aux(keys::txn(hash));
        if (!loc) {
            return unexpected(internal(loc.error().message));
        }
        if (!*loc) {
            return Loc();
        }
        rlp::Decoder outer(**loc);
        auto l = outer.read_list();
        if (!l) {
            return unexpected(internal("bad transaction index record"));
        }
        auto num = l->read_u64();
        auto idx = l->read_u64();
        if (!num || !idx) {
            return unexpected(internal("bad transaction index record"));
        }
        if (*num > h.header.number) {
            return Loc();  // committed after the head this call looks at
        }
        return Loc(std::pair<uint64_t, size_t>(*num, static_cast<size_t>(*idx)));
    }

    static bool bloom_matches(const Bloom& bloom, const LogFilter& f) {
        if (!f.addresses.empty()) {
            bool any = false;
            for (const Address& a : f.addresses) {
                any = any || bloom_may_contain(bloom, a.view());
            }
            if (!any) {
                return false;
            }
        }
        for (const auto& alts : f.topics) {
            if (alts.empty()) {
                continue;
            }
            bool any = false;
            for (const Hash32& t : alts) {
                any = any || bloom_may_contain(bloom, t.view());
            }
            if (!any) {
                return false;
            }
        }
        return true;
    }

    // --- calls ----------------------------------------------------------------------------

    struct CallOutcome {
        bool started = false;  // false: the transaction was invalid (error set)
        std::string error;
        bool success = false;
        bool reverted = false;
        Bytes output;
        exec::TxnWrites writes;  // the call's write set (eth_createAccessList)
        uint64_t gas_used = 0;
        uint64_t intrinsic_gas = 0;  // of the transaction the call runs as (trace_call's gas)
    };

    /// Runs `req` with `gas` over `base` (block `h`'s state); nothing is committed. As geth and
    /// anvil run calls: in block `h`'s own environment (its number, timestamp, coinbase, gas
    /// limit, prevrandao and base fee), or with `next_block` ("pending") in the environment of
    /// the block that would follow it. The call's gas is not bounded by the block's gas limit
    /// (geth's unlimited gas pool); GASLIMIT still reads the block's. `trace` (optional) sees
    /// the call's frames too (debug_traceCall).
    CallOutcome run_call(const CallRequest& req, uint64_t gas, const HeadState& h, bool next_block,
                         exec::StateReader& base, exec::FrameTracer* trace = nullptr) const {
        CallOutcome out;
        const Address from = req.from.value_or(Address{});
        Transaction txn;
        txn.chain_id = genesis.chain_id;
        const bool legacy = req.gas_price.has_value();
        txn.type = legacy ? TxnType::kLegacy : TxnType::kDynamicFee;
        if (req.access_list && !legacy) {
            txn.access_list = *req.access_list;
        } else if (req.access_list) {
            txn.type = TxnType::kAccessList;
            txn.access_list = *req.access_list;
        }
        if (legacy) {
            txn.max_fee_per_gas = *req.gas_price;
            txn.max_priority_fee_per_gas = *req.gas_price;
        } else {
            txn.max_fee_per_gas = req.max_fee_per_gas.value_or(U256{});
            txn.max_priority_fee_per_gas = req.max_priority_fee_per_gas.value_or(U256{});
            if (req.max_priority_fee_per_gas && !req.max_fee_per_gas) {
                txn.max_fee_per_gas =
                    (next_block ? next_base_fee(h.header) : h.header.base_fee_per_gas) +
                    txn.max_priority_fee_per_gas;
            }
        }
        if (req.blob_versioned_hashes) {
            txn.type = TxnType::kBlob;
            txn.blob_versioned_hashes = *req.blob_versioned_hashes;
            txn.max_fee_per_blob_gas = req.max_fee_per_blob_gas.value_or(U256{});
        }
        txn.gas_limit = gas;
        txn.to = req.to;
        txn.value = req.value.value_or(U256{});
        txn.data = req.data;
        if (req.nonce) {
            txn.nonce = *req.nonce;
        } else {
            const auto acc = base.read_account(from);
            txn.nonce = acc ? acc->nonce : 0;
        }
        CallReader nonce_reader(base, from, txn.nonce);
        out.intrinsic_gas = exec::intrinsic_gas(txn);

        exec::BlockEnv env;
        if (next_block) {
            env = block_env(h, genesis.coinbase, next_block_timestamp(h.header)).env;
        } else {
            env = header_env(h.header, h.hashes.get());
        }
        if (const auto& o = req.block_overrides) {
            // geth's BlockOverrides (the values were checked to fit the environment's fields).
            env.block_num = o->number ? static_cast<int64_t>(*o->number) : env.block_num;
            env.timestamp = o->time ? static_cast<int64_t>(*o->time) : env.timestamp;
            env.gas_limit = o->gas_limit ? static_cast<int64_t>(*o->gas_limit) : env.gas_limit;
            env.coinbase = o->fee_recipient.value_or(env.coinbase);
            env.prev_randao = o->prev_randao.value_or(env.prev_randao);
            env.base_fee = o->base_fee.value_or(env.base_fee);
        }
        env.unlimited_gas_pool = true;
        // geth's NoBaseFee for calls: a call that names no fee pays none (BASEFEE reads 0), and
        // one that names no blob fee cap pays no blob gas (BLOBBASEFEE reads 0).
        if (txn.max_fee_per_gas.is_zero() && txn.max_priority_fee_per_gas.is_zero()) {
            env.base_fee = U256{};
        }
        env.zero_blob_base_fee = (req.blob_versioned_hashes || req.max_fee_per_blob_gas) &&
                                 req.max_fee_per_blob_gas.value_or(U256{}).is_zero();

        exec::TopFrameTracer tracer;
        std::optional<TeeTracer> tee;
        exec::FrameTracer* observer = &tracer;
        if (trace != nullptr) {
            observer = &tee.emplace(tracer, *trace);
        }
        auto res =
            exec::apply_transaction(nonce_reader, *VmLease(*this), env, txn, from, observer, false);
        if (!res) {
            out.error = std::string(geth_message(res.error()));
            return out;
        }
        out.started = true;
        out.writes = std::move(res->writes);
        out.gas_used = res->receipt.gas_used;
        out.success = res->receipt.success;
        if (tracer.seen) {
            out.reverted = tracer.status == vm::Status::kRevert;
            if (out.success || out.reverted) {
                out.output = std::move(tracer.output);
            }
            out.error = halt_message(tracer.status);
        }
        if (out.reverted) {
            if (const auto reason = decode_revert_reason(out.output)) {
                out.error += ": " + *reason;
            }
        }
        return out;
    }

    ApiError call_error(const CallOutcome& o) const {
        if (o.reverted) {
            return {ApiErrorKind::kReverted, o.error, o.output};
        }
        return rejected(o.error);
    }

    // --- production -----------------------------------------------------------------------

    void notify_block(const NewBlockEvent& ev) {
        const std::lock_guard lock(dispatch_mu);
        // Copy: a callback may unsubscribe (erase) while we iterate.
        const auto copy = subs;
        for (const auto& [id, s] : copy) {
            if (s.on_block && subs.contains(id)) {
                s.on_block(ev);
            }
        }
    }
    void notify_pending(const Hash32& hash) {
        const std::lock_guard lock(dispatch_mu);
        const auto copy = subs;
        for (const auto& [id, s] : copy) {
            if (s.on_pending && subs.contains(id)) {
                s.on_pending(hash);
            }
        }
    }

    void wake() {
        {
            const std::lock_guard lock(wake_mu);
            work = true;
        }
        wake_cv.notify_all();
    }

    // --- blocks: build (pick, execute, prepare) and apply (commit, publish) ------------------
    // Every function below runs under produce_mu (block production is serialised: the producer
    // thread and test_mine_block in single mode, the consensus thread in consensus mode).

    struct BuildEnv {
        exec::BlockEnv env;
    };
    BuildEnv block_env(const HeadState& h, const Address& coinbase, uint64_t timestamp) const;
    /// The environment block `header` ran in (replays, calls at a block), BLOCKHASH from
    /// `hashes`.
    [[nodiscard]] exec::BlockEnv header_env(const BlockHeader& header,
                                            const exec::BlockHashSource* hashes) const {
        exec::BlockEnv env;
        env.coinbase = header.coinbase;
        env.block_num = static_cast<int64_t>(header.number);
        env.timestamp = static_cast<int64_t>(header.timestamp);
        env.gas_limit = static_cast<int64_t>(header.gas_limit);
        env.prev_randao = header.mix_hash;
        env.base_fee = header.base_fee_per_gas;
        env.excess_blob_gas = header.excess_blob_gas;
        env.chain_id = genesis.chain_id;
        env.block_hashes = hashes;
        return env;
    }
    /// Records and header (without the state root) of an executed block.
    std::shared_ptr<PreparedBlock> assemble(const HeadState& h, const exec::BlockEnv& env,
                                            std::vector<Bytes> raw, std::vector<Transaction> txns,
                                            std::vector<Hash32> hashes,
                                            std::vector<Address> senders, exec::BlockOutput output,
                                            double exec_ms);
    /// StateStore::prepare: fills the state root, the header encoding, hash, payload and id.
    Result<void> prepare_block(PreparedBlock& b);
    /// A block on the head from the pool (null when the pool has nothing and !allow_empty).
    Result<std::shared_ptr<PreparedBlock>> build(const HeadState& h, bool allow_empty,
                                                 const Address& coinbase);
    /// Decodes, checks and re-executes a proposed block (the rules in the file comment).
    Result<std::shared_ptr<PreparedBlock>> validate_block(const HeadState& h, ByteView payload);
    /// Stores a prepared block (with its certificate in consensus mode) and makes it the head.
    Result<void> apply(PreparedBlock& b, const consensus::CommitCertificate* cert);

    /// Produces the next block from the pool (an empty one when `allow_empty`). Returns the new
    /// block's number, or nullopt when there was nothing to do. Single mode.
    Result<std::optional<uint64_t>> produce(bool allow_empty);
    Result<std::optional<uint64_t>> produce_locked(bool allow_empty);  // produce_mu held

    void producer_loop();
    // Automine under sustained load (transactions arrived while the last block was built): waits
    // up to config.automine_gather_ms for more before the next block, ending early when the pool
    // holds a block's worth, on stop() or when automine is switched off (and not waiting at all
    // after a block full by gas: what is left did not fit). Each block costs about a
    // millisecond on top of its transactions (a synced LevelDB write, the trie nodes near the
    // root, the executor's start), as much as a dozen ERC-20 transfers; building the next block
    // at once from the few that arrived meanwhile spends most of the machine on that. An idle
    // node is not delayed: the first block after a quiet pool is built at once. Returns false when
    // it stopped waiting because the node is stopping or automine was switched off.
    bool gather_more();

    // --- consensus mode --------------------------------------------------------------------

    /// consensus::Application over this node; every call comes from the consensus thread.
    struct ConsensusApp final : consensus::Application {
        explicit ConsensusApp(Impl& i) : impl(i) {}
        Result<Bytes> propose(consensus::Height height) override;
        Result<void> validate(consensus::Height height, ByteView payload) override;
        void commit(consensus::Height height, ByteView payload,
                    const consensus::CommitCertificate& cert) override;
        std::optional<consensus::DecidedBlock> decided(consensus::Height height) override;
        Impl& impl;
    };

    std::optional<consensus::DecidedBlock> decided_block(uint64_t num) const;
    void remember(const std::shared_ptr<PreparedBlock>& b);
    void fatal(const std::string& msg);
    void on_network(const Address& from, net::MsgKind kind, ByteView payload);
    void gossip_loop();
    void admit_loop();

    bool consensus = false;
    Hash32 node_key;
    Address node_address;
    Node* owner = nullptr;
    std::optional<Hash32> prepared_id;  // under produce_mu: the block the store has prepared
    // Single mode's dev clock (evm_increaseTime, evm_setNextBlockTimestamp): seconds added to the
    // wall clock for later blocks and calls, and the next block's timestamp when one was set (0:
    // none, a set one is above the head's; written under produce_mu, taken by the block that uses
    // it, read without the lock by "pending" calls).
    std::atomic<uint64_t> time_offset{0};
    std::atomic<uint64_t> next_timestamp{0};
    [[nodiscard]] uint64_t dev_clock() const { return now_seconds() + time_offset.load(); }
    /// The timestamp of the block that would follow `parent` now: in consensus mode the wall
    /// clock, never below the parent's (equal allowed: with one-second timestamps a strictly
    /// increasing rule would cap the chain at one block per second, or push timestamps ahead of
    /// the clock until validators reject them); in single mode strictly increasing, from the
    /// dev clock or the timestamp set for the next block.
    [[nodiscard]] uint64_t next_block_timestamp(const BlockHeader& parent) const {
        if (consensus) {
            return std::max(now_seconds(), parent.timestamp);
        }
        const uint64_t set = next_timestamp.load();
        return std::max(set != 0 ? set : dev_clock(), parent.timestamp + 1);
    }

    // evm_snapshot / evm_revert (single mode; everything here under produce_mu). While a snapshot
    // exists, each new block keeps the old values of what it changes (read from its parent's
    // state before it is applied), by block number. A revert folds those of the blocks above the
    // snapshot's block, earliest first, into the diff that takes the state back, and checks the
    // root it gives against that block's header before anything is written.
    struct DevSnapshot {
        uint64_t id = 0;
        uint64_t block = 0;
        uint64_t time_offset = 0;
        uint64_t next_timestamp = 0;
        std::shared_ptr<const state::StateDiff> dev_changes;
    };
    // anvil_setBalance / setNonce / setCode / setStorageAt: account changes not yet in a block
    // (null when none). The head's view shows them (OverlayView); the next block produced here
    // writes them with its transactions' changes (block_diff) and clears them.
    std::shared_ptr<const state::StateDiff> dev_changes;
    /// The state diff of `writes` (a block built on the head), with dev_changes under it.
    [[nodiscard]] state::StateDiff block_diff(const exec::TxnWrites& writes) const;
    /// Publishes the head again with the store's view of it and dev_changes over it.
    void publish_dev_changes();
    std::vector<DevSnapshot> snapshots;  // ascending ids, non-decreasing blocks
    uint64_t next_snapshot_id = 1;
    // By block number; guarded by history_mu (written under produce_mu as well, read by RPC
    // threads for historical state). Kept for the blocks above the oldest snapshot's and for the
    // last config.state_history blocks, at most about config.history_memory_values values beyond
    // what snapshots need (the window's older blocks are read from their records).
    mutable std::mutex history_mu;
    struct KeptBlock {
        /// debug_trace* replays the block over its parent's state with old->dev_changes.
        std::shared_ptr<const OldValues> old;
        size_t values = 0;  // accounts + slots
    };
    std::map<uint64_t, KeptBlock> old_values;
    size_t old_value_total = 0;  // the sum of the kept blocks' values
    /// Blocks whose stored old values lie outside the window (left by a larger --history.state,
    /// or by one now off), found at open: the next blocks' batches delete their records,
    /// kStaleHistoryPerBlock each (history_mu; a batch that fails to commit leaves its share on
    /// disk, for the next open to find again).
    std::vector<uint64_t> stale_history;
    static constexpr size_t kStaleHistoryPerBlock = 4096;
    /// Drops the kept old values of the blocks from `first` on (history_mu held).
    void drop_old_values_from_locked(uint64_t first) {
        for (auto it = old_values.lower_bound(first); it != old_values.end();) {
            old_value_total -= it->second.values;
            it = old_values.erase(it);
        }
    }
    uint64_t history_generation = 0;  // bumped by every rewind
    /// Drops what neither a snapshot nor the history window needs (produce_mu and history_mu).
    void prune_old_values_locked(uint64_t head_num);
    /// Everything blocks (n, top] changed, as it was at block n: each block's old values folded,
    /// earliest first (history_mu held). Nullopt when a block of the range is not kept.
    [[nodiscard]] std::optional<std::unordered_map<Address, OldAccount>> fold_old_values_locked(
        uint64_t n, uint64_t top) const;
    /// As fold_old_values_locked (history_mu not held), for reads below the head: within the
    /// --history.state window, the blocks the memory budget let go are read from their records.
    /// Nullopt when a block of the range has neither (the caller checks the generation: an
    /// evm_revert meanwhile also deletes records).
    [[nodiscard]] ApiResult<std::optional<std::unordered_map<Address, OldAccount>>> fold_history(
        uint64_t n, uint64_t top) const;
    /// Block `k`'s old values as stored with it (null: no record).
    [[nodiscard]] ApiResult<std::shared_ptr<const OldValues>> stored_old_values(uint64_t k) const;
    /// The state `selector` names: the head, or (single mode) a block of the history window.
    [[nodiscard]] ApiResult<std::shared_ptr<const HeadState>> state_at(BlockSelector s) const;
    /// debug_trace*: replays block `b` (read at a head of history generation `generation`) from
    /// its parent's state, with the dev changes it carried, and traces transaction `only` (all
    /// of them when nullopt). Every replayed receipt is checked against the stored one.
    [[nodiscard]] ApiResult<std::vector<TraceResult>> replay_block(
        const CachedBlock& b, uint64_t generation, std::optional<size_t> only,
        const TraceOptions& options) const;
    /// Keeps the old values (the store's, at the head) of what block `number` changes.
    Result<void> keep_old_values(uint64_t number, const state::StateDiff& diff);
    /// Takes the chain back to block `target` (below the head): state, records, head, caches.
    Result<void> rewind(uint64_t target);
    /// The BLOCKHASH window of block `head_num` read from the header records, in `recent`.
    Result<void> load_recent(uint64_t head_num);
    /// The head for eth_call, eth_estimateGas and eth_createAccessList, after the checks they
    /// share: the selector names the head, and the request's chain id (if any) is the chain's.
    [[nodiscard]] ApiResult<std::shared_ptr<const HeadState>> call_head(
        const CallRequest& request, BlockSelector selector) const {
        PEL_TRY(auto h, state_at(selector));
        if (request.chain_id && *request.chain_id != genesis.chain_id) {
            return unexpected(rejected("invalid chain id for signer"));
        }
        return h;
    }
    /// The gas a call runs with: the request's, at most NodeConfig::rpc_gas_cap (the cap when
    /// absent).
    [[nodiscard]] uint64_t call_gas(const CallRequest& request) const {
        return std::min(request.gas.value_or(config.rpc_gas_cap), config.rpc_gas_cap);
    }
    /// The state a call runs on: the head's, with the request's state overrides over it.
    [[nodiscard]] static std::shared_ptr<const state::StateView> call_view(
        const HeadState& h, const CallRequest& request) {
        if (request.state_overrides.empty()) {
            return h.view;
        }
        auto diff = std::make_shared<state::StateDiff>();
        for (const auto& [addr, o] : request.state_overrides) {
            state::AccountDiff& d = diff->accounts[addr];
            d.balance = o.balance;
            d.nonce = o.nonce;
            if (o.code) {
                d.code = state::CodeChange{keccak256(*o.code), *o.code};
            }
            d.storage_cleared = o.state.has_value();
            for (const auto& [slot, value] : o.state ? *o.state : o.state_diff) {
                d.storage[slot] = value;
            }
        }
        return std::make_shared<const OverlayView>(h.view, std::move(diff));
    }
    [[nodiscard]] ApiResult<void> check_next_timestamp(uint64_t timestamp) const {
        const uint64_t head_ts = head()->header.timestamp;
        if (timestamp <= head_ts) {
            return unexpected(rejected("timestamp " + std::to_string(timestamp) +
                                       " is not after the head's " + std::to_string(head_ts)));
        }
        return {};
    }
    // under produce_mu: this height's built or validated blocks by value id
    std::map<Hash32, std::shared_ptr<PreparedBlock>> candidates;
    std::unique_ptr<net::Network> network;
    std::unique_ptr<ConsensusApp> app;
    std::unique_ptr<ConsensusHost> host;

    std::thread gossip_thread;
    std::mutex gossip_mu;
    std::condition_variable gossip_cv;
    std::vector<Bytes> gossip_queue;  // guarded by gossip_mu
    bool gossip_stop = false;         // guarded by gossip_mu
    std::thread admit_thread;
    std::condition_variable admit_cv;
    std::deque<std::pair<Address, Bytes>> incoming_txns;  // guarded by gossip_mu: kTxns received
};

Node::Impl::BuildEnv Node::Impl::block_env(const HeadState& h, const Address& coinbase,
                                           uint64_t timestamp) const {
    BuildEnv b;
    const BlockHeader& parent = h.header;
    b.env.coinbase = coinbase;
    b.env.block_num = static_cast<int64_t>(parent.number + 1);
    b.env.timestamp = static_cast<int64_t>(timestamp);
    b.env.gas_limit = static_cast<int64_t>(parent.gas_limit);
    b.env.prev_randao = keccak256(h.hash.view());
    b.env.base_fee = next_base_fee(parent);
    b.env.excess_blob_gas = next_excess_blob_gas(parent);
    b.env.chain_id = genesis.chain_id;
    b.env.block_hashes = h.hashes.get();
    return b;
}

std::shared_ptr<PreparedBlock> Node::Impl::assemble(const HeadState& h, const exec::BlockEnv& env,
                                                    std::vector<Bytes> raw,
                                                    std::vector<Transaction> txns,
                                                    std::vector<Hash32> hashes,
                                                    std::vector<Address> senders,
                                                    exec::BlockOutput output, double exec_ms) {
    auto b = std::make_shared<PreparedBlock>();
    Bloom bloom{};
    b->receipt_encodings.reserve(output.receipts.size());
    b->stored_receipts.reserve(output.receipts.size());
    for (const exec::Receipt& r : output.receipts) {
        StoredReceipt s{r.type, r.success, r.cumulative_gas_used, r.bloom, r.logs};
        b->receipt_encodings.push_back(encode_receipt(s));
        b->stored_receipts.push_back(encode_stored_receipt(s));
        bloom = or_blooms(bloom, r.bloom);
    }
    BlockHeader& header = b->header;
    header.parent_hash = h.hash;
    header.ommers_hash = kEmptyOmmersHash;
    header.coinbase = env.coinbase;
    header.transactions_root = state::ordered_trie_root(raw);
    header.receipts_root = state::ordered_trie_root(b->receipt_encodings);
    header.logs_bloom = bloom;
    header.number = h.header.number + 1;
    header.gas_limit = h.header.gas_limit;
    header.gas_used = output.gas_used;
    header.timestamp = static_cast<uint64_t>(env.timestamp);
    header.mix_hash = env.prev_randao;
    header.base_fee_per_gas = env.base_fee;
    header.withdrawals_root = kEmptyTrieRoot;
    header.blob_gas_used = output.blob_gas_used;
    header.excess_blob_gas = env.excess_blob_gas;
    b->raw = std::move(raw);
    b->txns = std::move(txns);
    b->tx_hashes = std::move(hashes);
    b->senders = std::move(senders);
    b->output = std::move(output);
    b->exec_ms = exec_ms;
    return b;
}

Result<void> Node::Impl::prepare_block(PreparedBlock& b) {
    const uint64_t number = b.header.number;
    state::StateDiff diff = block_diff(b.output.diff);
    if (config.state_history > 0 || !snapshots.empty()) {
        if (auto r = keep_old_values(number, diff); !r) {
            return make_error("block ", number, ": reading the old values (history, evm_revert): ",
                              r.error().message);
        }
    }
    auto root = store->prepare(number, std::move(diff));
    prepared_id.reset();
    if (!root) {
        return make_error("block ", number, ": state root: ", root.error().message);
    }
    b.header.state_root = *root;
    b.header_rlp = encode_header(b.header);
    b.hash = keccak256(b.header_rlp);
    b.payload = encode_block(b.header_rlp, b.raw);
    b.id = keccak256(b.payload);
    prepared_id = b.id;
    return {};
}

Result<std::shared_ptr<PreparedBlock>> Node::Impl::build(const HeadState& h, bool allow_empty,
                                                         const Address& coinbase) {
    const BlockHeader& parent = h.header;
    const uint64_t number = parent.number + 1;
    const BuildEnv be = block_env(h, coinbase, next_block_timestamp(parent));
    exec::BlockEnv env = be.env;
    const U256 base_fee = env.base_fee;
    std::unordered_set<Address> exempt;  // impersonated senders: EIP-3607 waived

    std::unordered_set<Hash32> excluded;
    std::vector<std::shared_ptr<const PoolTxn>> picked;
    std::vector<Transaction> txns;
    std::vector<Address> senders;
    std::optional<exec::BlockOutput> output;
    double exec_ms = 0;
    for (size_t attempt = 0; attempt < kMaxRetriesPerBlock; ++attempt) {
        picked = pool->select(
            base_fee, parent.gas_limit, config.max_block_txs,
            [&](const Hash32& x) { return excluded.contains(x); },
            exec::blob_base_fee(env.excess_blob_gas));
        if (picked.empty() && !allow_empty) {
            return std::shared_ptr<PreparedBlock>();
        }
        txns.clear();
        senders.clear();
        txns.reserve(picked.size());
        senders.reserve(picked.size());
        exempt.clear();
        for (const auto& p : picked) {
            txns.push_back(p->txn);
            senders.push_back(p->sender);
            if (p->impersonated) {
                exempt.insert(p->sender);
            }
        }
        env.eip3607_exempt = exempt.empty() ? nullptr : &exempt;
        exec::StateViewReader reader(*h.view);
        const auto t0 = Clock::now();
        auto res = executor->execute(env, txns, senders, reader);
        exec_ms = ms_since(t0);
        if (const auto err = reader.error()) {
            return make_error("block ", number, ": state read failed: ", err->message);
        }
        if (res) {
            output = std::move(*res);
            break;
        }
        const size_t idx = res.error().txn_idx;
        const exec::TxnError why = res.error().error;
        const PoolTxn& bad = *picked.at(idx);
        switch (why) {
            case exec::TxnError::kGasLimitExceedsBlock:
            case exec::TxnError::kFeeCapBelowBaseFee:
            case exec::TxnError::kBlobFeeCapBelowBlobBaseFee:
            case exec::TxnError::kNonceTooHigh:
                // Not this block: keep it in the pool for a later one.
                excluded.insert(bad.hash);
                break;
            default:
                spdlog::warn("block {}: dropping transaction {} from {}: {}", number,
                             bad.hash.to_hex(), bad.sender.to_hex(), geth_message(why));
                pool->remove(bad.hash);
                break;
        }
    }
    if (!output) {
        // Too many invalid transactions in a row: produce an empty block rather than nothing.
        picked.clear();
        txns.clear();
        senders.clear();
        exec::StateViewReader reader(*h.view);
        auto res = executor->execute(env, txns, senders, reader);
        if (!res) {
            return make_error("block ", number, ": empty block failed to execute");
        }
        output = std::move(*res);
    }
    std::vector<Bytes> raw;
    std::vector<Hash32> hashes;
    raw.reserve(picked.size());
    hashes.reserve(picked.size());
    for (const auto& p : picked) {
        raw.push_back(p->raw);
        hashes.push_back(p->hash);
    }
    auto b = assemble(h, env, std::move(raw), std::move(txns), std::move(hashes),
                      std::move(senders), std::move(*output), exec_ms);
    PEL_TRY_VOID(prepare_block(*b));
    return b;
}

namespace {

/// The first header field in which `got` differs from `want` (empty if none).
std::string header_mismatch(const BlockHeader& got, const BlockHeader& want) {
    const auto h = [](const Hash32& x) { return x.to_hex(); };
#define PEL_CMP(field, name, fmt)                                                          \
    if (!(got.field == want.field)) {                                                      \
        return std::string(name) + " " + fmt(got.field) + ", expected " + fmt(want.field); \
    }
    const auto n = [](uint64_t x) { return std::to_string(x); };
    const auto u = [](const U256& x) { return x.to_string(); };
    const auto a = [](const Address& x) { return x.to_hex(); };
    const auto bl = [](const Bloom& x) { return to_hex(ByteView(x.data(), 8)) + ".."; };
    const auto by = [](const Bytes& x) { return "0x" + to_hex(x); };
    PEL_CMP(parent_hash, "parentHash", h)
    PEL_CMP(ommers_hash, "ommersHash", h)
    PEL_CMP(coinbase, "coinbase", a)
    PEL_CMP(transactions_root, "transactionsRoot", h)
    PEL_CMP(receipts_root, "receiptsRoot", h)
    PEL_CMP(logs_bloom, "logsBloom", bl)
    PEL_CMP(difficulty, "difficulty", u)
    PEL_CMP(number, "number", n)
    PEL_CMP(gas_limit, "gasLimit", n)
    PEL_CMP(gas_used, "gasUsed", n)
    PEL_CMP(timestamp, "timestamp", n)
    PEL_CMP(extra_data, "extraData", by)
    PEL_CMP(mix_hash, "mixHash", h)
    PEL_CMP(nonce, "nonce", n)
    PEL_CMP(base_fee_per_gas, "baseFeePerGas", u)
    PEL_CMP(withdrawals_root, "withdrawalsRoot", h)
    PEL_CMP(blob_gas_used, "blobGasUsed", n)
    PEL_CMP(excess_blob_gas, "excessBlobGas", n)
    PEL_CMP(parent_beacon_block_root, "parentBeaconBlockRoot", h)
    PEL_CMP(state_root, "stateRoot", h)
#undef PEL_CMP
    return {};
}

}  // namespace

Result<std::shared_ptr<PreparedBlock>> Node::Impl::validate_block(const HeadState& h,
                                                                  ByteView payload) {
    const BlockHeader& parent = h.header;
    const uint64_t number = parent.number + 1;
    PEL_TRY(DecodedBlock d, decode_block(payload));
    const BlockHeader& got = d.header;
    const auto bad = [&](const std::string& why) {
        return make_error("block ", number, " invalid: ", why);
    };
    // The fields the proposer chooses, checked before any execution.
    if (got.parent_hash != h.hash) {
        return bad("parentHash " + got.parent_hash.to_hex() + " is not the head " +
                   h.hash.to_hex());
    }
    if (got.number != number) {
        return bad("number " + std::to_string(got.number) + ", expected " + std::to_string(number));
    }
    if (got.timestamp < parent.timestamp) {
        return bad("timestamp " + std::to_string(got.timestamp) + " before the parent's " +
                   std::to_string(parent.timestamp));
    }
    if (got.timestamp > now_seconds() + kMaxFutureSeconds) {
        return bad("timestamp " + std::to_string(got.timestamp) + " is more than " +
                   std::to_string(kMaxFutureSeconds) + " s in the future");
    }
    const BuildEnv be = block_env(h, got.coinbase, got.timestamp);
    if (got.gas_limit != parent.gas_limit) {
        return bad("gasLimit " + std::to_string(got.gas_limit) + ", expected the parent's " +
                   std::to_string(parent.gas_limit));
    }
    if (got.base_fee_per_gas != be.env.base_fee) {
        return bad("baseFeePerGas " + got.base_fee_per_gas.to_string() + ", expected " +
                   be.env.base_fee.to_string());
    }
    if (got.excess_blob_gas != be.env.excess_blob_gas) {
        return bad("excessBlobGas " + std::to_string(got.excess_blob_gas) + ", expected " +
                   std::to_string(be.env.excess_blob_gas));
    }
    if (got.mix_hash != be.env.prev_randao) {
        return bad("mixHash " + got.mix_hash.to_hex() + ", expected keccak256(parentHash)");
    }
    const size_t n = d.txns.size();
    // Senders: the pool knows most of them already.
    std::vector<Hash32> hashes(n);
    std::vector<Address> senders(n);
    std::vector<size_t> unknown;
    for (size_t i = 0; i < n; ++i) {
        hashes[i] = keccak256(d.raw_txns[i]);
        if (auto p = pool->get(hashes[i])) {
            senders[i] = p->sender;
        } else {
            unknown.push_back(i);
        }
    }
    if (!unknown.empty()) {
        std::vector<Transaction> todo;
        todo.reserve(unknown.size());
        for (const size_t i : unknown) {
            todo.push_back(d.txns[i]);
        }
        auto rec = exec::recover_senders(todo, config.threads);
        if (!rec) {
            return bad("transaction " + std::to_string(unknown[rec.error()]) +
                       ": invalid signature (sender does not recover)");
        }
        for (size_t k = 0; k < unknown.size(); ++k) {
            senders[unknown[k]] = (*rec)[k];
        }
    }
    exec::StateViewReader reader(*h.view);
    const auto t0 = Clock::now();
    auto res = executor->execute(be.env, d.txns, senders, reader);
    const double exec_ms = ms_since(t0);
    if (const auto err = reader.error()) {
        return make_error("block ", number, ": state read failed: ", err->message);
    }
    if (!res) {
        return bad("transaction " + std::to_string(res.error().txn_idx) + " (" +
                   hashes[res.error().txn_idx].to_hex() +
                   "): " + std::string(geth_message(res.error().error)));
    }
    auto b = assemble(h, be.env, std::move(d.raw_txns), std::move(d.txns), std::move(hashes),
                      std::move(senders), std::move(*res), exec_ms);
    // Everything but the state root first (cheap), then the root.
    {
        BlockHeader want = b->header;
        want.state_root = got.state_root;
        if (auto m = header_mismatch(got, want); !m.empty()) {
            return bad(m);
        }
    }
    PEL_TRY_VOID(prepare_block(*b));
    if (auto m = header_mismatch(got, b->header); !m.empty()) {
        store->abandon_prepared();
        prepared_id.reset();
        return bad(m);
    }
    if (b->header_rlp != d.header_rlp) {
        store->abandon_prepared();
        prepared_id.reset();
        return bad("header encoding differs from the re-executed block's");
    }
    return b;
}

Result<void> Node::Impl::apply(PreparedBlock& b, const consensus::CommitCertificate* cert) {
    const uint64_t number = b.header.number;
    {
        const auto h = head();
        if (b.header.parent_hash != h->hash || number != h->header.number + 1) {
            return make_error("block ", number, ": does not extend the head ", h->header.number);
        }
    }
    // The store keeps one prepared block; another one may have been prepared since (a
    // proposal of another round was validated): prepare this one again.
    const auto sp = store->prepared();
    if (!prepared_id || *prepared_id != b.id || !sp || sp->block_num != number ||
        sp->state_root != b.header.state_root) {
        const Hash32 want = b.header.state_root;
        state::StateDiff diff = exec::to_state_diff(b.output.diff);  // consensus: no dev changes
        if (config.state_history > 0) {
            // The old values kept are the last prepared block's: this block's now.
            if (auto r = keep_old_values(number, diff); !r) {
                return make_error("block ", number,
                                  ": reading the old values (history): ", r.error().message);
            }
        }
        auto root = store->prepare(number, std::move(diff));
        prepared_id.reset();
        if (!root) {
            return make_error("block ", number, ": state root: ", root.error().message);
        }
        if (*root != want) {
            store->abandon_prepared();
            return make_error("block ", number, ": re-executed state root ", root->to_hex(),
                              " differs from the header's ", want.to_hex());
        }
        prepared_id = b.id;
    }

    const size_t ntx = b.txns.size();
    BlockConflictReport report;
    report.block_number = number;
    report.txs = ntx;
    report.gas_used = b.output.gas_used;
    report.executions = b.output.stats.executions;
    report.re_executions = b.output.stats.re_executions;
    report.validations = b.output.stats.validations;
    report.aborts = b.output.stats.aborts;
    report.dependency_waits = b.output.stats.dependency_waits;
    report.fallback = b.output.stats.fallback;
    report.fallback_from = b.output.stats.fallback_from;
    for (const auto& c : b.output.stats.top_conflicts) {
        report.top_conflicts.push_back({c.location.address, c.location.slot, c.count});
    }
    report.execution_ms = b.exec_ms;
    report.threads = config.threads;
    report.block_hash = b.hash;

    state::KvWriteBatch aux;
    aux.put(keys::header(number), b.header_rlp);
    aux.put(keys::hash_index(b.hash), encode_u64_be(number));
    StoredBody body{b.raw, b.senders};
    aux.put(keys::body(number), encode_body(body));
    aux.put(keys::receipts(number), encode_receipt_list(b.stored_receipts));
    for (size_t i = 0; i < ntx; ++i) {
        Bytes loc;
        Bytes payload;
        rlp::encode_uint(payload, number);
        rlp::encode_uint(payload, uint64_t{i});
        rlp::encode_list(loc, payload);
        aux.put(keys::txn(b.tx_hashes[i]), loc);
    }
    aux.put(keys::conflicts(number), as_bytes(encode_conflict_report(report)));
    if (cert != nullptr) {
        Bytes c;
        consensus::encode_certificate(c, *cert);
        aux.put(keys::certificate(number), c);
    }
    if (config.state_history > 0) {
        // The history window survives a restart: this block's old values are stored with it,
        // and the record of the block that leaves the window goes.
        std::shared_ptr<const OldValues> kept;  // immutable: encoded outside the lock
        {
            const std::lock_guard lock(history_mu);
            if (const auto it = old_values.find(number); it != old_values.end()) {
                kept = it->second.old;
            }
        }
        if (kept) {
            aux.put(keys::old_values(number), encode_old_values(*kept));
        }
        if (number >= config.state_history) {
            aux.del(keys::old_values(number - config.state_history));
        }
    }
    std::vector<uint64_t> stale;
    {
        const std::lock_guard lock(history_mu);
        const size_t take = std::min(stale_history.size(), kStaleHistoryPerBlock);
        stale.assign(stale_history.end() - static_cast<std::ptrdiff_t>(take), stale_history.end());
        stale_history.resize(stale_history.size() - take);
    }
    for (const uint64_t n : stale) {
        aux.del(keys::old_values(n));
    }

    const auto c0 = Clock::now();
    auto root = store->commit_prepared(aux);
    const double commit_ms = ms_since(c0);
    prepared_id.reset();
    if (!root) {
        return make_error("block ", number, ": commit failed: ", root.error().message);
    }
    auto next = std::make_shared<HeadState>();
    next->header = b.header;
    next->hash = b.hash;
    next->view = store->view();
    next->stored = next->view;
    {
        const std::lock_guard lock(history_mu);
        next->generation = history_generation;
    }
    const Hash32 block_hash = b.hash;
    recent.push_back(block_hash);  // under produce_mu (every caller holds it)
    while (recent.size() > kRecentHashes) {
        recent.pop_front();
        ++recent_first;
    }
    next->hashes = std::make_shared<const RecentHashes>(
        recent_first, std::vector<Hash32>(recent.begin(), recent.end()));
    {
        const std::lock_guard lock(cache_mu);
        commit_times[number] = commit_ms;
        while (commit_times.size() > kCommitTimes) {
            commit_times.erase(commit_times.begin());
        }
    }
    std::shared_ptr<const CachedBlock> produced;
    {
        auto cached = std::make_shared<CachedBlock>();
        cached->header = b.header;
        cached->hash = block_hash;
        cached->size = block_size(b.header_rlp, b.raw);
        cached->txns = b.txns;
        cached->tx_hashes = b.tx_hashes;
        cached->senders = b.senders;
        cached->receipts.reserve(b.output.receipts.size());
        for (const exec::Receipt& r : b.output.receipts) {
            cached->receipts.push_back(
                StoredReceipt{r.type, r.success, r.cumulative_gas_used, r.bloom, r.logs});
        }
        cached->raw = b.raw;
        produced = cached;
        cache_put(std::move(cached));
    }
    // Published after the block is in the cache, so that readers of the new head do not decode
    // it from the database.
    {
        const std::lock_guard lock(head_mu);
        head_state = next;
    }
    {
        const std::lock_guard lock(history_mu);
        prune_old_values_locked(number);
    }

    // Pool maintenance: mined transactions go, senders' nonces move on.
    std::unordered_map<Address, uint64_t> nonces;
    for (size_t i = 0; i < ntx; ++i) {
        uint64_t& nn = nonces[b.senders[i]];
        nn = std::max(nn, b.txns[i].nonce + 1);
    }
    pool->on_block(b.tx_hashes, nonces);

    // Metrics and the block's log line.
    blocks_produced.fetch_add(1, std::memory_order_relaxed);
    txs_committed.fetch_add(ntx, std::memory_order_relaxed);
    gas_committed.fetch_add(b.output.gas_used, std::memory_order_relaxed);
    re_executions.fetch_add(b.output.stats.re_executions, std::memory_order_relaxed);
    {
        const std::lock_guard lock(metrics_mu);
        execution_ms_total += b.exec_ms;
        last_execution_ms = b.exec_ms;
        last_re_executions_per_tx =
            ntx == 0 ? 0.0
                     : static_cast<double>(b.output.stats.re_executions) / static_cast<double>(ntx);
    }
    const double mgas_s =
        b.exec_ms > 0 ? static_cast<double>(b.output.gas_used) / 1e3 / b.exec_ms : 0.0;
    spdlog::info(
        "block {} hash {} txs {} gas {} ({:.1f} Mgas/s) exec {:.2f} ms commit {:.2f} ms "
        "re-executions {}{}{}",
        number, block_hash.to_hex(), ntx, b.output.gas_used, mgas_s, b.exec_ms, commit_ms,
        b.output.stats.re_executions,
        b.output.stats.fallback.empty() ? "" : " fallback: " + b.output.stats.fallback,
        cert != nullptr && cert->round > 0 ? " round " + std::to_string(cert->round) : "");

    // Subscribers.
    bool any = false;
    {
        const std::lock_guard lock(dispatch_mu);
        any = !subs.empty();
    }
    if (any) {
        NewBlockEvent ev;
        ev.number = number;
        ev.hash = block_hash;
        ev.tx_hashes = b.tx_hashes;
        uint64_t log_index = 0;
        for (size_t i = 0; i < produced->receipts.size(); ++i) {
            for (const exec::Log& log : produced->receipts[i].logs) {
                LogRecord r;
                r.address = log.address;
                r.topics = log.topics;
                r.data = log.data;
                r.block_number = number;
                r.block_hash = block_hash;
                r.tx_hash = b.tx_hashes[i];
                r.tx_index = i;
                r.log_index = log_index++;
                ev.logs.push_back(std::move(r));
            }
        }
        notify_block(ev);
    }
    return {};
}

Result<std::optional<uint64_t>> Node::Impl::produce(bool allow_empty) {
    const std::lock_guard produce_lock(produce_mu);
    return produce_locked(allow_empty);
}

Result<std::optional<uint64_t>> Node::Impl::produce_locked(bool allow_empty) {
    const auto h = head();
    PEL_TRY(auto b, build(*h, allow_empty, genesis.coinbase));
    if (!b) {
        return std::optional<uint64_t>();
    }
    if (auto r = apply(*b, nullptr); !r) {
        store->abandon_prepared();
        prepared_id.reset();
        const std::lock_guard lock(history_mu);
        drop_old_values_from_locked(b->header.number);
        return unexpected(std::move(r).error());
    }
    dev_changes.reset();  // written with the block
    if (next_timestamp.load() != 0) {
        // Later blocks go on from the timestamp that was set (as anvil and hardhat do).
        const uint64_t now = now_seconds();
        time_offset.store(b->header.timestamp > now ? b->header.timestamp - now : 0);
        next_timestamp.store(0);
    }
    return std::optional<uint64_t>(b->header.number);
}

// --- evm_snapshot / evm_revert -------------------------------------------------------------------

state::StateDiff Node::Impl::block_diff(const exec::TxnWrites& writes) const {
    if (!dev_changes) {
        return exec::to_state_diff(writes);
    }
    // The transactions ran over the changes: their writes go on top, as the store applies a diff
    // (a deletion or storage clear drops the changes' slots).
    state::StateDiff diff = *dev_changes;
    for (const exec::AccountWrite& w : writes.accounts) {
        state::AccountDiff& d = diff.accounts[w.address];
        if (w.deleted) {
            d = state::AccountDiff{};
            d.deleted = true;
            continue;
        }
        if (w.storage_cleared) {
            d.storage.clear();
            d.storage_cleared = true;
        }
        d.nonce = w.info.nonce;
        d.balance = w.info.balance;
        if (w.code) {
            d.code =
                state::CodeChange{w.code->empty() ? kEmptyCodeHash : w.info.code_hash, *w.code};
        }
        for (const exec::StorageWrite& sw : w.storage) {
            d.storage[sw.key] = sw.value;
        }
    }
    return diff;
}

void Node::Impl::publish_dev_changes() {
    const auto h = head();
    auto next = std::make_shared<HeadState>(*h);
    next->view =
        dev_changes ? std::make_shared<const OverlayView>(h->stored, dev_changes) : h->stored;
    const std::lock_guard lock(head_mu);
    head_state = std::move(next);
}

void Node::Impl::prune_old_values_locked(uint64_t head_num) {
    // Needed: the blocks above the oldest snapshot's, and the last state_history blocks (their
    // old values give the blocks below them). Beyond the first, at most
    // config.history_memory_values (reads decode the window's older records).
    const uint64_t window =
        head_num >= config.state_history ? head_num - config.state_history + 1 : 0;
    const uint64_t for_snapshots = snapshots.empty() ? UINT64_MAX : snapshots.front().block + 1;
    const uint64_t keep_from = std::min(window, for_snapshots);
    while (!old_values.empty()) {
        const uint64_t oldest = old_values.begin()->first;
        const bool unneeded = oldest < keep_from;
        const bool over_budget =
            old_value_total > config.history_memory_values && oldest < for_snapshots;
        if (!unneeded && !over_budget) {
            break;
        }
        old_value_total -= old_values.begin()->second.values;
        old_values.erase(old_values.begin());
    }
}

std::optional<std::unordered_map<Address, OldAccount>> Node::Impl::fold_old_values_locked(
    uint64_t n, uint64_t top) const {
    std::unordered_map<Address, OldAccount> fold;
    for (uint64_t k = n + 1; k <= top; ++k) {
        const auto kept = old_values.find(k);
        if (kept == old_values.end()) {
            return std::nullopt;
        }
        fold_block(fold, *kept->second.old);
    }
    return fold;
}

ApiResult<std::shared_ptr<const OldValues>> Node::Impl::stored_old_values(uint64_t k) const {
    auto raw = store->get_aux(keys::old_values(k));
    if (!raw) {
        return unexpected(internal("reading the old values of block " + std::to_string(k) + ": " +
                                   raw.error().message));
    }
    if (!*raw) {
        return std::shared_ptr<const OldValues>();
    }
    auto old = decode_old_values(**raw);
    if (!old) {
        return unexpected(internal("old values of block " + std::to_string(k) + ": " +
                                   old.error().message + " (corrupt chain records)"));
    }
    return std::shared_ptr<const OldValues>(std::make_shared<OldValues>(std::move(*old)));
}

ApiResult<std::optional<std::unordered_map<Address, OldAccount>>> Node::Impl::fold_history(
    uint64_t n, uint64_t top) const {
    using Fold = std::optional<std::unordered_map<Address, OldAccount>>;
    if (top - n > config.state_history) {
        // Beyond the window: only what the snapshots keep in memory.
        const std::lock_guard lock(history_mu);
        return fold_old_values_locked(n, top);
    }
    std::vector<std::shared_ptr<const OldValues>> blocks;
    blocks.reserve(top - n);
    {
        const std::lock_guard lock(history_mu);
        for (uint64_t k = n + 1; k <= top; ++k) {
            const auto kept = old_values.find(k);
            blocks.push_back(kept != old_values.end() ? kept->second.old : nullptr);
        }
    }
    std::unordered_map<Address, OldAccount> fold;
    for (uint64_t k = n + 1; k <= top; ++k) {
        std::shared_ptr<const OldValues> block = blocks[k - n - 1];
        if (!block) {
            PEL_TRY(block, stored_old_values(k));
            if (!block) {
                return Fold();
            }
        }
        fold_block(fold, *block);
    }
    return Fold(std::move(fold));
}

ApiResult<std::shared_ptr<const HeadState>> Node::Impl::state_at(BlockSelector s) const {
    for (int attempt = 0;; ++attempt) {
        auto h = head();
        const uint64_t head_num = h->header.number;
        uint64_t n = head_num;
        if (s.tag == BlockTag::kNumber) {
            if (s.number > head_num) {
                return unexpected(rejected("header not found"));
            }
            n = s.number;
        } else if (s.tag == BlockTag::kEarliest) {
            n = 0;
        }
        if (n == head_num) {
            return std::shared_ptr<const HeadState>(std::move(h));
        }
        const auto unavailable = [&] {
            return unexpected(
                rejected("historical state not available: block " + std::to_string(n) +
                         " is older than the blocks kept (the head " + std::to_string(head_num) +
                         " and the " + std::to_string(config.state_history) +
                         " before it, see --history.state)"));
        };
        PEL_TRY(auto fold, fold_history(n, head_num));
        {
            const std::lock_guard lock(history_mu);
            if (h->generation != history_generation) {
                if (attempt < 8) {
                    continue;  // an evm_revert since the head was read
                }
                return unexpected(internal("the head kept changing"));
            }
        }
        if (!fold) {
            return unavailable();
        }
        PEL_TRY(const auto header, header_at(n, *h));
        if (!header) {
            return unexpected(internal("missing header of block " + std::to_string(n)));
        }
        auto past = std::make_shared<HeadState>();
        past->header = *header;
        past->hash = header_hash(*header);
        past->view =
            std::make_shared<const HistoryView>(h->stored, std::move(*fold), n, header->state_root);
        past->stored = h->stored;
        past->generation = h->generation;
        past->hashes = h->hashes->up_to(n);
        return std::shared_ptr<const HeadState>(std::move(past));
    }
}

ApiResult<std::vector<TraceResult>> Node::Impl::replay_block(const CachedBlock& b,
                                                             uint64_t generation,
                                                             std::optional<size_t> only,
                                                             const TraceOptions& options) const {
    std::vector<TraceResult> out;
    const uint64_t num = b.header.number;
    if (b.txns.empty() || (only && *only >= b.txns.size())) {
        return out;
    }
    PEL_TRY(const auto parent, state_at(BlockSelector::at(num - 1)));
    std::shared_ptr<const OldValues> kept;
    {
        const std::lock_guard lock(history_mu);
        if (const auto it = old_values.find(num); it != old_values.end()) {
            kept = it->second.old;
        }
    }
    if (!kept) {
        PEL_TRY(kept, stored_old_values(num));
    }
    {
        const std::lock_guard lock(history_mu);
        if (generation != history_generation || parent->generation != history_generation) {
            return unexpected(rejected("the chain was reverted (evm_revert) while tracing"));
        }
    }
    const std::shared_ptr<const state::StateDiff> carried = kept ? kept->dev_changes : nullptr;
    const auto view =
        carried ? std::make_shared<const OverlayView>(parent->view, carried) : parent->view;

    exec::BlockEnv env = header_env(b.header, parent->hashes.get());
    // Every transaction of the block was valid when it was included (impersonated senders had
    // EIP-3607 waived): the replay waives it for all of them.
    const std::unordered_set<Address> exempt(b.senders.begin(), b.senders.end());
    env.eip3607_exempt = &exempt;

    exec::StateViewReader base(*view);
    ReplayReader replay(base);
    const VmLease vm(*this);
    const size_t last = only ? *only : b.txns.size() - 1;
    uint64_t cumulative = 0;
    for (size_t i = 0; i <= last; ++i) {
        std::optional<TraceRun> run;
        if (!only || *only == i) {
            run.emplace(options, replay);
        }
        auto r = exec::apply_transaction(run ? run->reader() : replay, *vm, env, b.txns[i],
                                         b.senders[i], run ? run->tracer() : nullptr, false);
        if (const auto err = base.error()) {
            return unexpected(internal(err->message));
        }
        const std::string where =
            "block " + std::to_string(num) + " transaction " + std::to_string(i);
        if (!r) {
            return unexpected(
                internal("replaying " + where + ": " + std::string(geth_message(r.error()))));
        }
        cumulative += r->receipt.gas_used;
        const StoredReceipt& stored = b.receipts[i];
        if (r->receipt.success != stored.status || cumulative != stored.cumulative_gas_used) {
            return unexpected(internal("replaying " + where + " did not reproduce its receipt"));
        }
        if (run) {
            PEL_TRY(auto t, run->result(r->writes, r->receipt.success, b.txns[i].gas_limit,
                                        r->receipt.gas_used, exec::intrinsic_gas(b.txns[i])));
            out.push_back(std::move(t));
        }
        replay.apply(r->writes);
    }
    return out;
}

Result<void> Node::Impl::keep_old_values(uint64_t number, const state::StateDiff& diff) {
    // The store is at the head (the block is not prepared yet): its values are the old ones.
    const auto view = store->view();
    std::unordered_map<Address, OldAccount> kept;
    size_t count = 0;
    for (const auto& [addr, d] : diff.accounts) {
        OldAccount o;
        PEL_TRY(o.account, view->account(addr));
        for (const auto& [slot, value] : d.storage) {
            PEL_TRY(const U256 v, view->storage(addr, slot));
            o.slots.emplace(slot, v);
        }
        if (d.deleted || d.storage_cleared) {
            o.wiped = true;
            if (o.account && o.account->storage_root != kEmptyTrieRoot) {
                PEL_TRY_VOID(store->for_each_slot(addr, [&](const U256& k, const U256& v) {
                    o.slots.try_emplace(k, v);
                    return true;
                }));
            }
        }
        count += 1 + o.slots.size();
        kept.insert_or_assign(addr, std::move(o));
    }
    const std::lock_guard lock(history_mu);
    drop_old_values_from_locked(number);  // a block prepared again (a retry)
    old_values.emplace(
        number,
        KeptBlock{std::make_shared<const OldValues>(OldValues{std::move(kept), dev_changes}),
                  count});
    old_value_total += count;
    return {};
}

Result<void> Node::Impl::load_recent(uint64_t head_num) {
    const uint64_t first = head_num >= kRecentHashes - 1 ? head_num - (kRecentHashes - 1) : 0;
    std::deque<Hash32> hashes;
    for (uint64_t n = first; n <= head_num; ++n) {
        PEL_TRY(auto raw, store->get_aux(keys::header(n)));
        if (!raw) {
            return make_error("missing header record of block ", n);
        }
        PEL_TRY(const BlockHeader header, decode_header(*raw));
        if (!hashes.empty() && header.parent_hash != hashes.back()) {
            return make_error("block ", n, " parentHash ", header.parent_hash.to_hex(),
                              " != hash of block ", n - 1, " ", hashes.back().to_hex(),
                              " (corrupt chain records)");
        }
        hashes.push_back(header_hash(header));
    }
    recent = std::move(hashes);
    recent_first = first;
    return {};
}

Result<void> Node::Impl::rewind(uint64_t target) {
    const auto h = head();
    const auto view = store->view();  // the head block's state, without dev_changes
    const uint64_t top = h->header.number;
    PEL_ASSERT(target < top, "rewind to a block below the head");
    // 1. The value before its first change above `target`, of everything changed there.
    std::optional<std::unordered_map<Address, OldAccount>> folded;
    {
        const std::lock_guard lock(history_mu);
        folded = fold_old_values_locked(target, top);
    }
    if (!folded) {
        return make_error("old values of the blocks above ", target, " are not all kept");
    }
    const std::unordered_map<Address, OldAccount>& fold = *folded;
    // 2. The diff from the head back to `target`. After a wipe the account's slots at `target`
    // are exactly the non-zero ones kept (a wipe keeps every slot it removes).
    state::StateDiff diff;
    for (const auto& [addr, o] : fold) {
        PEL_TRY(const auto now, view->account(addr));
        if (!o.account) {
            if (now) {
                diff.accounts[addr].deleted = true;
            }
            continue;
        }
        state::AccountDiff& d = diff.accounts[addr];
        d.nonce = o.account->nonce;
        d.balance = o.account->balance;
        if (!now || now->code_hash != o.account->code_hash) {
            PEL_TRY(const auto code, view->code(o.account->code_hash));
            if (!code) {
                return make_error("code ", o.account->code_hash.to_hex(), " of ", addr.to_hex(),
                                  " is not in the store");
            }
            d.code = state::CodeChange{o.account->code_hash, *code};
        }
        d.storage_cleared = o.wiped;
        for (const auto& [k, v] : o.slots) {
            if (!o.wiped || !v.is_zero()) {
                d.storage[k] = v;
            }
        }
    }
    // 3. The records of the blocks above `target` go in the same batch.
    state::KvWriteBatch aux;
    for (uint64_t n = target + 1; n <= top; ++n) {
        PEL_TRY(auto raw, store->get_aux(keys::header(n)));
        if (!raw) {
            return make_error("missing header record of block ", n);
        }
        PEL_TRY(const BlockHeader header, decode_header(*raw));
        aux.del(keys::hash_index(header_hash(header)));
        PEL_TRY(auto body_raw, store->get_aux(keys::body(n)));
        if (body_raw) {
            PEL_TRY(const StoredBody body, decode_body(*body_raw));
            for (const Bytes& txn : body.txns) {
                aux.del(keys::txn(keccak256(txn)));
            }
        }
        aux.del(keys::header(n));
        aux.del(keys::body(n));
        aux.del(keys::receipts(n));
        aux.del(keys::conflicts(n));
        aux.del(keys::certificate(n));
        aux.del(keys::old_values(n));
    }
    PEL_TRY(auto target_raw, store->get_aux(keys::header(target)));
    if (!target_raw) {
        return make_error("missing header record of block ", target);
    }
    PEL_TRY(const BlockHeader target_header, decode_header(*target_raw));
    // 4. Prepared, checked against the block's state root, then written in one synced batch.
    PEL_TRY(const Hash32 root, store->prepare_rewind(target, std::move(diff)));
    if (root != target_header.state_root) {
        store->abandon_prepared();
        return make_error("the state taken back gives root ", root.to_hex(), ", block ", target,
                          " has ", target_header.state_root.to_hex(), " (nothing changed)");
    }
    PEL_TRY_VOID(store->commit_prepared(aux));
    // 5. The new head. A reader still holding the old head may find the records above `target`
    // gone meanwhile (an internal error for that one request).
    auto next = std::make_shared<HeadState>();
    next->header = target_header;
    next->hash = header_hash(target_header);
    next->view = store->view();
    if (auto r = load_recent(target); !r) {
        fatal("evm_revert: " + r.error().message);
    }
    next->stored = next->view;
    {
        // The old values kept for the blocks above `target` are gone; readers of the old head
        // see the generation change and read the head again.
        const std::lock_guard lock(history_mu);
        drop_old_values_from_locked(target + 1);
        next->generation = ++history_generation;
    }
    next->hashes = std::make_shared<const RecentHashes>(
        recent_first, std::vector<Hash32>(recent.begin(), recent.end()));
    {
        const std::lock_guard lock(cache_mu);
        cache.clear();
        commit_times.erase(commit_times.upper_bound(target), commit_times.end());
    }
    {
        const std::lock_guard lock(head_mu);
        head_state = next;
    }
    spdlog::info("evm_revert: head {} -> {} ({} accounts restored)", top, target, fold.size());
    return {};
}

// --- consensus: the Application port ----------------------------------------------------------

void Node::Impl::fatal(const std::string& msg) {
    spdlog::critical("consensus cannot go on: {}", msg);
    if (config.on_fatal) {
        config.on_fatal(msg);
        return;
    }
    spdlog::default_logger()->flush();
    std::_Exit(1);
}

Result<Bytes> Node::Impl::ConsensusApp::propose(consensus::Height height) {
    Impl& im = impl;
    const std::lock_guard produce_lock(im.produce_mu);
    auto h = im.head();
    if (h->header.number + 1 != height) {
        return make_error("propose: height ", height, " is not the head's child");
    }
    // With an empty pool, wait a little for transactions (not when catching up: others are
    // ahead and the block would be stale anyway).
    const double wait_s = std::min(im.config.block_time_s,
                                   0.6 * static_cast<double>(im.config.timeouts.propose_ms) / 1e3);
    if (wait_s > 0 && im.pool->pending_count() == 0 && im.host &&
        im.host->max_seen_height() <= height) {
        const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                                 std::chrono::duration<double>(wait_s));
        std::unique_lock lock(im.wake_mu);
        im.wake_cv.wait_until(lock, deadline,
                              [&] { return im.stopping || im.pool->pending_count() > 0; });
    }
    {
        // Stopping: propose nothing, so that the engine returns to the host (a validator that
        // decides alone would otherwise go on from height to height inside one engine call).
        const std::lock_guard lock(im.wake_mu);
        if (im.stopping) {
            return make_error("propose: the node is stopping");
        }
    }
    PEL_TRY(auto b, im.build(*h, true, im.node_address));
    im.remember(b);
    return b->payload;
}

Result<void> Node::Impl::ConsensusApp::validate(consensus::Height height, ByteView payload) {
    Impl& im = impl;
    const std::lock_guard produce_lock(im.produce_mu);
    auto h = im.head();
    if (h->header.number + 1 != height) {
        return make_error("validate: height ", height, " is not the head's child");
    }
    const Hash32 id = keccak256(payload);
    if (im.candidates.contains(id)) {
        return {};
    }
    auto b = im.validate_block(*h, payload);
    if (!b) {
        spdlog::warn("consensus: rejecting a proposed block: {}", b.error().message);
        return unexpected(std::move(b).error());
    }
    im.remember(*b);
    return {};
}

void Node::Impl::ConsensusApp::commit(consensus::Height height, ByteView payload,
                                      const consensus::CommitCertificate& cert) {
    Impl& im = impl;
    const std::lock_guard produce_lock(im.produce_mu);
    const Hash32 id = keccak256(payload);
    std::shared_ptr<PreparedBlock> b;
    if (auto it = im.candidates.find(id); it != im.candidates.end()) {
        b = it->second;
    } else {
        auto v = im.validate_block(*im.head(), payload);
        if (!v) {
            im.fatal("decided block " + std::to_string(height) +
                     " fails re-execution: " + v.error().message);
            return;
        }
        b = *v;
    }
    if (auto r = im.apply(*b, &cert); !r) {
        im.fatal("decided block " + std::to_string(height) + ": " + r.error().message);
        return;
    }
    im.candidates.clear();
}

std::optional<consensus::DecidedBlock> Node::Impl::ConsensusApp::decided(consensus::Height height) {
    return impl.decided_block(height);
}

std::optional<consensus::DecidedBlock> Node::Impl::decided_block(uint64_t num) const {
    if (num == 0 || num > head()->header.number) {
        return std::nullopt;
    }
    auto header = store->get_aux(keys::header(num));
    auto body = store->get_aux(keys::body(num));
    auto cert = store->get_aux(keys::certificate(num));
    if (!header || !*header || !body || !*body || !cert || !*cert) {
        return std::nullopt;
    }
    auto b = decode_body(**body);
    auto c = consensus::decode_certificate(**cert);
    if (!b || !c) {
        spdlog::error("block {}: unreadable body or certificate record", num);
        return std::nullopt;
    }
    consensus::DecidedBlock d;
    d.payload = encode_block(**header, b->txns);
    d.certificate = std::move(*c);
    return d;
}

void Node::Impl::remember(const std::shared_ptr<PreparedBlock>& b) {
    if (candidates.size() >= kMaxCandidates) {
        candidates.erase(candidates.begin());
    }
    candidates[b->id] = b;
}

// --- consensus: networking ----------------------------------------------------------------------

void Node::Impl::on_network(const Address& from, net::MsgKind kind, ByteView payload) {
    if (kind == net::MsgKind::kConsensus) {
        if (host) {
            host->on_network_message(from, payload);
        }
        return;
    }
    if (kind != net::MsgKind::kTxns || owner == nullptr) {
        return;
    }
    // Admission (sender recovery, pool checks) runs on admit_thread, not on net's I/O thread,
    // which also carries the consensus messages.
    {
        const std::lock_guard lock(gossip_mu);
        if (gossip_stop || incoming_txns.size() >= kMaxIncomingTxnMsgs) {
            return;  // best effort, as gossip is: the sender's node still has them
        }
        incoming_txns.emplace_back(from, Bytes(payload.begin(), payload.end()));
    }
    admit_cv.notify_one();
}

void Node::Impl::admit_loop() {
    for (;;) {
        std::pair<Address, Bytes> item;
        {
            std::unique_lock lock(gossip_mu);
            admit_cv.wait(lock, [&] { return gossip_stop || !incoming_txns.empty(); });
            if (gossip_stop) {
                return;
            }
            item = std::move(incoming_txns.front());
            incoming_txns.pop_front();
        }
        auto txns = net::decode_txns(item.second);
        if (!txns) {
            continue;  // net checked it already
        }
        std::vector<ByteView> raws;
        raws.reserve(txns->size());
        for (const auto& t : *txns) raws.emplace_back(t.encoded);
        const auto results = owner->admit_many(raws, false, std::nullopt);
        for (size_t i = 0; i < results.size(); ++i) {
            if (!results[i]) {
                spdlog::debug("gossiped transaction {} from {}: {}", (*txns)[i].hash.to_hex(),
                              item.first.to_hex(), results[i].error().message);
            }
        }
    }
}

void Node::Impl::gossip_loop() {
    for (;;) {
        std::vector<Bytes> batch;
        {
            std::unique_lock lock(gossip_mu);
            gossip_cv.wait(lock, [&] { return gossip_stop || !gossip_queue.empty(); });
            if (gossip_stop) {
                return;
            }
            // Let a burst accumulate into one message.
            gossip_cv.wait_for(lock, std::chrono::milliseconds(config.txn_gossip_interval_ms),
                               [&] { return gossip_stop; });
            if (gossip_stop) {
                return;
            }
            batch.swap(gossip_queue);
        }
        // Messages of at most kMaxTxnsPerMsg transactions and kGossipBytes (blob transactions
        // carry up to 786 KB of blobs each; a frame holds 16 MiB).
        constexpr size_t kGossipBytes = size_t{4} << 20;
        for (size_t i = 0; i < batch.size();) {
            size_t end = i;
            size_t bytes = 0;
            while (end < batch.size() && end - i < net::kMaxTxnsPerMsg &&
                   (end == i || bytes + batch[end].size() <= kGossipBytes)) {
                bytes += batch[end++].size();
            }
            const std::vector<Bytes> part(
                std::make_move_iterator(batch.begin() + static_cast<std::ptrdiff_t>(i)),
                std::make_move_iterator(batch.begin() + static_cast<std::ptrdiff_t>(end)));
            i = end;
            if (auto r = network->broadcast(net::MsgKind::kTxns, net::encode_txns(part)); !r) {
                spdlog::debug("transaction gossip: {}", r.error().message);
            }
        }
    }
}

void Node::Impl::producer_loop() {
    const auto period_of = [](double seconds) {
        return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    };
    Clock::time_point next_block;
    uint64_t seen_epoch = UINT64_MAX;
    for (;;) {
        bool periodic = false;
        Clock::duration period{};
        {
            std::unique_lock lock(wake_mu);
            for (;;) {
                if (stopping) {
                    return;
                }
                if (seen_epoch != mining_epoch) {  // started, or the mode changed
                    seen_epoch = mining_epoch;
                    next_block = Clock::now() + period_of(interval_s);
                }
                period = period_of(interval_s);
                if (interval_s > 0 && Clock::now() >= next_block) {
                    periodic = true;
                    break;
                }
                if (automine && work) {
                    break;
                }
                if (interval_s > 0) {
                    wake_cv.wait_until(lock, next_block);
                } else {
                    wake_cv.wait(lock);
                }
            }
            work = false;
        }
        if (periodic) {
            next_block += period;
            if (next_block < Clock::now()) {
                next_block = Clock::now() + period;
            }
        }
        // Automine: keep producing while the pool has executable transactions.
        for (;;) {
            auto r = produce(periodic);
            if (!r) {
                spdlog::error("block production failed: {}", r.error().message);
                break;
            }
            if (periodic || !r->has_value() || pool->pending_count() == 0) {
                break;
            }
            {
                const std::lock_guard lock(wake_mu);
                if (stopping) {
                    return;
                }
                if (!automine) {
                    break;
                }
            }
            if (!gather_more()) {
                break;  // stopping, or automine switched off: the outer loop sees which
            }
        }
    }
}

bool Node::Impl::gather_more() {
    if (config.automine_gather_ms <= 0) {
        return true;
    }
    // A block's worth: as many transactions as the head's gas limit can hold (21,000 gas each).
    // When the last block was full by gas, what is left did not fit: no reason to wait.
    const auto h = head();
    const uint64_t gas_limit = h->header.gas_limit;
    if (h->header.gas_used + 21'000 > gas_limit) {
        return true;
    }
    const size_t full = static_cast<size_t>(
        std::min<uint64_t>(config.max_block_txs, std::max<uint64_t>(gas_limit / 21'000, 1)));
    const auto deadline =
        Clock::now() + std::chrono::duration_cast<Clock::duration>(
                           std::chrono::duration<double, std::milli>(config.automine_gather_ms));
    // Short sleeps rather than a wait on wake_cv: every admission notifies wake_cv, and waking
    // the producer for each of them (one per request under load) costs a context switch each.
    constexpr auto kSlice = std::chrono::microseconds(250);
    for (;;) {
        if (pool->pending_count() >= full) {
            return true;
        }
        {
            const std::lock_guard lock(wake_mu);
            if (stopping || !automine) {
                return false;
            }
        }
        const auto now = Clock::now();
        if (now >= deadline) {
            return true;
        }
        std::this_thread::sleep_for(std::min<Clock::duration>(kSlice, deadline - now));
    }
}

// --- Node --------------------------------------------------------------------------------------

Node::Node(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Node::~Node() {
    stop();
    if (impl_ && impl_->config.txpool_journal && impl_->pool) {
        write_journal();
    }
}

Result<std::unique_ptr<Node>> Node::open(const NodeConfig& config) {
    auto impl = std::make_unique<Impl>();
    impl->config = config;
    impl->automine = config.block_time_s <= 0;
    impl->interval_s = std::max(config.block_time_s, 0.0);
    if (config.threads == 0) {
        return make_error("threads must be at least 1");
    }

    // Genesis.
    Genesis defaults;
    defaults.chain_id = config.chain_id;
    defaults.gas_limit = config.gas_limit;
    defaults.base_fee = config.initial_base_fee;
    if (config.genesis_path) {
        PEL_TRY(impl->genesis, load_genesis_file(*config.genesis_path, defaults));
        if (!impl->genesis.validators.empty()) {
            // A devnet (pel-node --init-genesis funds the dev accounts): eth_sendTransaction
            // signs for the dev accounts the genesis funds, as on the dev chain.
            PEL_TRY(auto dev, derive_dev_accounts(kDevMnemonic, config.dev_account_count));
            for (const DevAccount& a : dev) {
                if (impl->genesis.alloc.contains(a.address)) {
                    impl->dev.push_back(a);
                }
            }
        }
    } else {
        impl->genesis = defaults;
        PEL_TRY(impl->dev, derive_dev_accounts(kDevMnemonic, config.dev_account_count));
        for (const DevAccount& a : impl->dev) {
            impl->genesis.alloc[a.address].balance = dev_account_balance();
        }
    }
    const Hash32 genesis_root = genesis_state_root(impl->genesis);
    const BlockHeader genesis = genesis_header(impl->genesis, genesis_root);
    impl->genesis_hash = header_hash(genesis);

    // Store.
    std::error_code ec;
    std::filesystem::create_directories(config.datadir, ec);
    if (ec) {
        return make_error("datadir ", config.datadir, ": ", ec.message());
    }
    const std::string db_path = (std::filesystem::path(config.datadir) / "chaindata").string();
    state::StateStoreOptions so;
    so.sync = config.sync;
    PEL_TRY(impl->store, state::StateStore::open(db_path, so));
    state::StateStore& store = *impl->store;

    Bytes identity;
    {
        Bytes p;
        rlp::encode_bytes(p, impl->genesis_hash.view());
        rlp::encode_uint(p, impl->genesis.chain_id);
        rlp::encode_uint(p, kChainFormatVersion);
        rlp::encode_list(identity, p);
    }
    PEL_TRY(auto stored_identity, store.get_aux(keys::identity()));
    if (!stored_identity) {
        if (store.head().block_num) {
            return make_error("datadir ", config.datadir,
                              ": the state store has blocks but no chain records (not a pel-node "
                              "datadir?)");
        }
        state::KvWriteBatch aux;
        aux.put(keys::header(0), encode_header(genesis));
        aux.put(keys::hash_index(impl->genesis_hash), encode_u64_be(0));
        aux.put(keys::body(0), encode_body({}));
        aux.put(keys::receipts(0), encode_receipt_list({}));
        BlockConflictReport report;
        aux.put(keys::conflicts(0), as_bytes(encode_conflict_report(report)));
        aux.put(keys::identity(), identity);
        PEL_TRY(Hash32 root, store.commit(0, genesis_diff(impl->genesis), aux));
        if (root != genesis_root) {
            return make_error("genesis: state store root ", root.to_hex(),
                              " differs from the computed genesis root ", genesis_root.to_hex());
        }
        spdlog::info("initialised datadir {} with genesis {} (chain id {})", config.datadir,
                     impl->genesis_hash.to_hex(), impl->genesis.chain_id);
    } else if (*stored_identity != identity) {
        std::string stored = "an unreadable identity record";
        rlp::Decoder d(*stored_identity);
        if (auto l = d.read_list()) {
            auto hash = l->read_hash();
            auto id = l->read_u64();
            if (hash && id) {
                uint64_t version = 1;  // format 1 had no version field
                if (!l->at_end()) {
                    auto v = l->read_u64();
                    version = v ? *v : 0;
                }
                if (version != kChainFormatVersion) {
                    return make_error(
                        "datadir ", config.datadir, " holds chain format version ", version,
                        version == 1   ? " (headers stored without their state root, by an "
                                         "older pel-node)"
                        : version == 2 ? " (receipts stored with their logsBloom, by an older "
                                         "pel-node)"
                                       : "",
                        "; this pel-node reads version ", kChainFormatVersion,
                        ": use a new --datadir (nothing was changed)");
                }
                stored = "genesis " + hash->to_hex() + " (chain id " + std::to_string(*id) + ")";
            }
        }
        return make_error("datadir ", config.datadir, " was created with ", stored,
                          "; this node's genesis is ", impl->genesis_hash.to_hex(), " (chain id ",
                          impl->genesis.chain_id,
                          "): use another --datadir or the genesis it was created with");
    }

    // Head: the store's last block; its header is the stored template with the store's root.
    const state::StateHead sh = store.head();
    if (!sh.block_num) {
        return make_error("datadir ", config.datadir, ": state store has no block");
    }
    const uint64_t head_num = *sh.block_num;
    PEL_TRY(auto head_raw, store.get_aux(keys::header(head_num)));
    if (!head_raw) {
        return make_error("datadir ", config.datadir, ": no header record for head block ",
                          head_num, " (corrupt chain records)");
    }
    PEL_TRY(BlockHeader head_header, decode_header(*head_raw));
    if (head_header.number != head_num) {
        return make_error("datadir ", config.datadir, ": head header number ", head_header.number,
                          " != state store head ", head_num);
    }
    if (head_header.state_root != sh.state_root) {
        return make_error("datadir ", config.datadir, ": head block ", head_num, " stateRoot ",
                          head_header.state_root.to_hex(), " != state store root ",
                          sh.state_root.to_hex());
    }
    if (head_num == 0 && sh.state_root != genesis_root) {
        return make_error("datadir ", config.datadir, ": genesis state root ",
                          sh.state_root.to_hex(), " != expected ", genesis_root.to_hex());
    }
    PEL_TRY(auto next_raw, store.get_aux(keys::header(head_num + 1)));
    if (next_raw) {
        return make_error("datadir ", config.datadir, ": a header record exists past the head ",
                          head_num, " (corrupt chain records)");
    }
    auto hs = std::make_shared<HeadState>();
    hs->header = head_header;
    hs->hash = header_hash(head_header);
    hs->view = store.view();
    hs->stored = hs->view;
    impl->head_state = hs;

    // The BLOCKHASH window (and a check of the last 256 links).
    const uint64_t first = head_num >= kRecentHashes - 1 ? head_num - (kRecentHashes - 1) : 0;
    impl->recent_first = first;
    for (uint64_t n = first; n <= head_num; ++n) {
        auto h = impl->header_at(n, *hs);
        if (!h || !*h) {
            return make_error("datadir ", config.datadir, ": cannot read header of block ", n,
                              h ? std::string() : ": " + h.error().message);
        }
        // The stored chain links up: each header names its parent's hash.
        if (!impl->recent.empty() && (*h)->parent_hash != impl->recent.back()) {
            return make_error("datadir ", config.datadir, ": block ", n, " parentHash ",
                              (*h)->parent_hash.to_hex(), " != hash of block ", n - 1, " ",
                              impl->recent.back().to_hex(), " (corrupt chain records)");
        }
        impl->recent.push_back(header_hash(**h));
    }
    hs->hashes = std::make_shared<const RecentHashes>(
        first, std::vector<Hash32>(impl->recent.begin(), impl->recent.end()));
    if (head_num > 0) {
        auto h0 = impl->header_at(0, *hs);
        if (!h0 || !*h0 || header_hash(**h0) != impl->genesis_hash) {
            return make_error("datadir ", config.datadir, ": stored genesis header differs");
        }
    }

    // The newest blocks of the history window stored with them, into memory (newest first,
    // while contiguous, within the window and the memory budget; reads decode the others' records
    // when they need them): reads below the head and debug_trace* go on after a restart.
    for (uint64_t n = head_num; n > 0 && head_num - n < config.state_history &&
                                impl->old_value_total <= config.history_memory_values;
         --n) {
        PEL_TRY(auto raw, store.get_aux(keys::old_values(n)));
        if (!raw) {
            break;  // written before this node kept history on disk, or outside an older window
        }
        auto old = decode_old_values(*raw);
        if (!old) {
            return make_error("datadir ", config.datadir, ": old values of block ", n, ": ",
                              old.error().message, " (corrupt chain records)");
        }
        size_t count = 0;
        for (const auto& [addr, o] : old->accounts) {
            count += 1 + o.slots.size();
        }
        impl->old_values.emplace(
            n, Impl::KeptBlock{std::make_shared<const OldValues>(std::move(*old)), count});
        impl->old_value_total += count;
    }
    // Records below the window (in key order, i.e. by number) go with the next blocks.
    const Bytes history_prefix = keys::old_values_prefix();
    PEL_TRY_VOID(store.for_each_aux(history_prefix, [&](ByteView key, ByteView /*value*/) {
        auto n = decode_u64_be(key.subspan(history_prefix.size()));
        if (!n || *n > head_num || head_num - *n < config.state_history) {
            return false;  // in the window, or above the head (a rewind deletes those), or a
                           // key of another length (none is written): ends the scan
        }
        impl->stale_history.push_back(*n);
        return true;
    }));

    MempoolLimits limits;
    limits.max_total = config.mempool_max_total;
    limits.max_per_sender = config.mempool_max_per_sender;
    limits.max_queued_per_sender = config.mempool_max_queued_per_sender;
    limits.max_blob_txs = config.mempool_max_blob_txs;
    impl->pool = std::make_unique<Mempool>(limits);
    exec::ParallelOptions po;
    po.threads = config.threads;
    impl->executor = std::make_unique<exec::ParallelExecutor>(po);

    // Consensus mode.
    if (!impl->genesis.validators.empty()) {
        impl->consensus = true;
        if (!config.node_key) {
            return make_error("consensus mode (genesis config.pel.validators) needs a node key");
        }
        impl->node_key = *config.node_key;
        PEL_TRY(impl->node_address, crypto::address_from_secret(impl->node_key));
        PEL_TRY(auto vset, consensus::make_validator_set(impl->genesis.validators));
        const auto index = vset.index_of(impl->node_address);
        if (!index) {
            return make_error("node key ", impl->node_address.to_hex(),
                              " is not a validator of this genesis (non-validator nodes are not "
                              "supported)");
        }
        PEL_TRY(auto mark,
                SignMark::open((std::filesystem::path(config.datadir) / "signmark").string()));
        net::Config nc;
        nc.chain_id = impl->genesis.chain_id;
        nc.genesis_hash = impl->genesis_hash;
        nc.node_key = impl->node_key;
        nc.listen_host = config.p2p_addr;
        nc.listen_port = config.p2p_port;
        nc.static_peers = config.peers;
        for (const auto& v : impl->genesis.validators) {
            nc.allowed_ids.push_back(v.address);
        }
        nc.threads = std::max<size_t>(1, config.p2p_threads);
        impl->network = std::make_unique<net::Network>(nc);
        Impl* raw = impl.get();
        impl->network->on_message([raw](const Address& from, net::MsgKind kind, ByteView payload) {
            raw->on_network(from, kind, payload);
        });
        impl->network->on_peer([](const Address& peer, bool connected) {
            spdlog::info("peer {} {}", peer.to_hex(), connected ? "connected" : "disconnected");
        });
        consensus::EngineConfig engine_cfg;
        engine_cfg.chain_id = impl->genesis.chain_id;
        engine_cfg.validators = std::move(vset);
        engine_cfg.secret_key = impl->node_key;
        engine_cfg.timeouts = config.timeouts;
        impl->app = std::make_unique<Impl::ConsensusApp>(*impl);
        impl->host = std::make_unique<ConsensusHost>(std::move(engine_cfg), *impl->app,
                                                     *impl->network, std::move(mark));
        spdlog::info("consensus: validator {} of {} (index {})", impl->node_address.to_hex(),
                     impl->genesis.validators.size(), *index);
    } else if (config.node_key) {
        impl->node_key = *config.node_key;
        PEL_TRY(impl->node_address, crypto::address_from_secret(impl->node_key));
    }
    spdlog::info("chain id {} head block {} hash {} state root {}", impl->genesis.chain_id,
                 head_num, hs->hash.to_hex(), sh.state_root.to_hex());
    auto node = std::unique_ptr<Node>(new Node(std::move(impl)));
    node->impl_->owner = node.get();
    if (config.txpool_journal) {
        node->readmit_journal();
    }
    return node;
}

void Node::readmit_journal() {
    const std::filesystem::path file =
        std::filesystem::path(impl_->config.datadir) / kPoolJournalFile;
    auto raws = read_pool_journal(file);
    if (!raws) {
        // Kept aside for inspection; the node starts with an empty pool rather than not at all.
        std::filesystem::path bad = file;
        bad += ".bad";
        std::error_code ec;
        std::filesystem::rename(file, bad, ec);
        spdlog::warn("{}; no transaction re-admitted, file moved to {}", raws.error().message,
                     ec ? std::string("(not moved: ") + ec.message() + ")" : bad.string());
        return;
    }
    if (!*raws) {
        return;
    }
    size_t admitted = 0;
    std::map<std::string, size_t> dropped;  // by error message, for one log line
    const std::vector<ByteView> views((**raws).begin(), (**raws).end());
    for (const auto& r : admit_many(views, false, std::nullopt)) {
        if (r) {
            ++admitted;
        } else {
            ++dropped[r.error().message.substr(0, r.error().message.find(':'))];
        }
    }
    std::string why;
    for (const auto& [msg, n] : dropped) {
        why += (why.empty() ? "" : ", ") + std::to_string(n) + " " + msg;
    }
    spdlog::info("txpool journal: {} of {} transactions admitted again{}{}", admitted,
                 (*raws)->size(), why.empty() ? "" : "; dropped: ", why);
    std::error_code ec;
    std::filesystem::remove(file, ec);
    if (ec) {
        spdlog::warn("txpool journal: cannot remove {}: {}", file.string(), ec.message());
    }
}

void Node::write_journal() const {
    const auto txs = impl_->pool->all();
    if (txs.empty()) {
        return;
    }
    std::vector<Bytes> raws;
    raws.reserve(txs.size());
    for (const auto& t : txs) {
        if (!t->impersonated) {  // unsigned: it would not be admitted again
            raws.push_back(t->pooled.empty() ? t->raw : t->pooled);
        }
    }
    if (raws.empty()) {
        return;
    }
    const std::filesystem::path file =
        std::filesystem::path(impl_->config.datadir) / kPoolJournalFile;
    if (auto r = write_pool_journal(file, raws); !r) {
        spdlog::error("{}: {} pool transactions not kept", r.error().message, raws.size());
        return;
    }
    spdlog::info("txpool journal: {} transactions written to {}", raws.size(), file.string());
}

Result<void> Node::start() {
    auto& im = *impl_;
    if (im.started) {
        return make_error("node already started");
    }
    {
        const std::lock_guard lock(im.wake_mu);
        im.stopping = false;
        im.work = im.pool->pending_count() > 0;
    }
    if (im.consensus) {
        PEL_TRY_VOID(im.network->start());
        spdlog::info("p2p: node id {} listening on {}:{}", im.node_address.to_hex(),
                     im.config.p2p_addr, im.network->listen_port());
        {
            const std::lock_guard lock(im.gossip_mu);
            im.gossip_stop = false;
            im.incoming_txns.clear();
        }
        im.gossip_thread = std::thread([&im] {
            log::name_thread("pel-gossip");
            im.gossip_loop();
        });
        im.admit_thread = std::thread([&im] {
            log::name_thread("pel-admit");
            im.admit_loop();
        });
        if (auto r = im.host->start(im.head()->header.number + 1); !r) {
            {
                const std::lock_guard lock(im.gossip_mu);
                im.gossip_stop = true;
            }
            im.gossip_cv.notify_all();
            im.admit_cv.notify_all();
            im.gossip_thread.join();
            im.admit_thread.join();
            im.network->stop();
            return r;
        }
    } else {
        im.producer = std::thread([&im] {
            log::name_thread("pel-producer");
            im.producer_loop();
        });
    }
    im.started = true;
    return {};
}

void Node::stop() {
    if (!impl_ || !impl_->started) {
        return;
    }
    auto& im = *impl_;
    {
        const std::lock_guard lock(im.wake_mu);
        im.stopping = true;
    }
    im.wake_cv.notify_all();
    if (im.consensus) {
        // The consensus thread finishes the event in progress (a block being stored is stored).
        im.host->stop();
        {
            const std::lock_guard lock(im.gossip_mu);
            im.gossip_stop = true;
        }
        im.gossip_cv.notify_all();
        im.admit_cv.notify_all();
        if (im.gossip_thread.joinable()) {
            im.gossip_thread.join();
        }
        if (im.admit_thread.joinable()) {
            im.admit_thread.join();
        }
        im.network->stop();
        const std::lock_guard produce_lock(im.produce_mu);
        im.store->abandon_prepared();
        im.prepared_id.reset();
        im.candidates.clear();
    }
    if (im.producer.joinable()) {
        im.producer.join();
    }
    im.started = false;
}

bool Node::consensus_mode() const { return impl_->consensus; }
Address Node::node_id() const { return impl_->node_address; }
uint16_t Node::p2p_port() const {
    return impl_->network && impl_->started ? impl_->network->listen_port() : 0;
}

Result<void> Node::test_validate(ByteView payload) {
    if (!impl_->app) {
        return make_error("not in consensus mode");
    }
    const auto h = head();
    return impl_->app->validate(h.number + 1, payload);
}

Result<Bytes> Node::test_propose() {
    auto& im = *impl_;
    if (!im.consensus || im.started) {
        return make_error("test_propose: consensus mode, before start()");
    }
    const std::lock_guard produce_lock(im.produce_mu);
    PEL_TRY(auto b, im.build(*im.head(), true, im.node_address));
    im.remember(b);
    return b->payload;
}

std::optional<Bytes> Node::test_block_payload(uint64_t block_num) {
    auto d = impl_->decided_block(block_num);
    if (!d) {
        return std::nullopt;
    }
    return std::move(d->payload);
}

uint64_t Node::test_suppressed_messages() const {
    return impl_->host ? impl_->host->suppressed() : 0;
}

ConsensusStatus Node::consensus_status() const {
    ConsensusStatus s;
    if (!impl_->consensus) {
        return s;
    }
    const HostStatus hs = impl_->host->status();
    s.enabled = true;
    s.block_num = hs.height;
    s.round = hs.round;
    s.step = std::string(consensus::to_string(hs.step));
    s.validators = hs.validators;
    s.proposer = hs.proposer;
    for (const auto& p : impl_->network->peers()) {
        s.peers.push_back(p.node_id);
    }
    return s;
}

size_t Node::peer_count() const { return impl_->network ? impl_->network->peer_count() : 0; }

Hash32 Node::genesis_hash() const { return impl_->genesis_hash; }
const std::vector<DevAccount>& Node::dev_accounts() const { return impl_->dev; }

Result<uint64_t> Node::test_mine_block() {
    if (impl_->consensus) {
        return make_error("test_mine_block: consensus mode decides blocks");
    }
    PEL_TRY(auto n, impl_->produce(true));
    return n.value_or(0);
}

uint64_t Node::chain_id() const noexcept { return impl_->genesis.chain_id; }

NodeApi::Head Node::head() const {
    const auto h = impl_->head();
    return {h->header.number, h->hash, h->header.timestamp, h->header.base_fee_per_gas};
}

Address Node::coinbase() const noexcept {
    return impl_->consensus ? impl_->node_address : impl_->genesis.coinbase;
}

ApiResult<std::optional<BlockRecord>> Node::block_by_number(BlockSelector selector) const {
    const auto h = impl_->head();
    const auto n = Impl::block_number_of(selector, *h);
    if (!n) {
        return std::optional<BlockRecord>();
    }
    auto b = impl_->load_block(*n, *h);
    if (!b) {
        return unexpected(std::move(b).error());
    }
    if (!*b) {
        return std::optional<BlockRecord>();
    }
    return std::optional<BlockRecord>(Impl::make_block_record(**b));
}

ApiResult<std::optional<BlockRecord>> Node::block_by_hash(const Hash32& hash) const {
    const auto h = impl_->head();
    auto n = impl_->number_of_hash(hash, *h);
    if (!n) {
        return unexpected(std::move(n).error());
    }
    if (!*n) {
        return std::optional<BlockRecord>();
    }
    return block_by_number(BlockSelector::at(**n));
}

namespace {
// A pool transaction as eth_getTransactionByHash shows a pending one (no block fields).
TxRecord pool_record(const PoolTxn& p) {
    TxRecord t;
    t.txn = p.txn;
    t.hash = p.hash;
    t.from = p.sender;
    t.gas_price = p.txn.max_fee_per_gas;
    return t;
}
}  // namespace

NodeApi::PoolContent Node::pool_content() const {
    const Mempool::Content c = impl_->pool->content();
    PoolContent out;
    out.pending.reserve(c.pending.size());
    out.queued.reserve(c.queued.size());
    for (const auto& p : c.pending) out.pending.push_back(pool_record(*p));
    for (const auto& p : c.queued) out.queued.push_back(pool_record(*p));
    return out;
}

ApiResult<std::optional<TxRecord>> Node::transaction_by_hash(const Hash32& hash) const {
    if (auto p = impl_->pool->get(hash)) {
        return std::optional<TxRecord>(pool_record(*p));
    }
    const auto h = impl_->head();
    PEL_TRY(auto loc, impl_->locate(hash, *h));
    if (!loc) {
        return std::optional<TxRecord>();
    }
    PEL_TRY(auto b, impl_->load_block(loc->first, *h));
    if (!b || loc->second >= b->txns.size()) {
        return unexpected(internal("transaction index points past its block"));
    }
    return std::optional<TxRecord>(Impl::tx_record(*b, loc->second));
}

ApiResult<std::optional<ReceiptRecord>> Node::receipt_by_hash(const Hash32& hash) const {
    const auto h = impl_->head();
    PEL_TRY(auto loc, impl_->locate(hash, *h));
    if (!loc) {
        return std::optional<ReceiptRecord>();
    }
    PEL_TRY(auto b, impl_->load_block(loc->first, *h));
    if (!b || loc->second >= b->txns.size()) {
        return unexpected(internal("transaction index points past its block"));
    }
    return std::optional<ReceiptRecord>(Impl::receipt_record(*b, loc->second));
}

ApiResult<std::vector<LogRecord>> Node::logs(const LogFilter& filter) const {
    const auto h = impl_->head();
    std::vector<LogRecord> out;
    if (filter.block_hash) {
        auto n = impl_->number_of_hash(*filter.block_hash, *h);
        if (!n) {
            return unexpected(std::move(n).error());
        }
        if (!*n) {
            return unexpected(invalid("unknown block"));
        }
        PEL_TRY(auto b, impl_->load_block(**n, *h));
        if (!b) {
            return unexpected(invalid("unknown block"));
        }
        PEL_TRY_VOID(Impl::block_logs(*b, filter, out, impl_->config.max_log_results));
        return out;
    }
    const auto resolve = [&](BlockSelector s) -> uint64_t {
        if (s.tag == BlockTag::kEarliest) {
            return 0;
        }
        if (s.tag == BlockTag::kNumber) {
            return std::min(s.number, h->header.number);
        }
        return h->header.number;
    };
    const uint64_t from = filter.from_block.tag == BlockTag::kNumber ? filter.from_block.number
                                                                     : resolve(filter.from_block);
    const uint64_t to = resolve(filter.to_block);
    if (from > to) {
        if (from > h->header.number) {
            return out;  // nothing mined there yet (geth answers [] for a range past the head)
        }
        return unexpected(invalid("invalid block range params"));
    }
    if (to - from + 1 > impl_->config.max_log_block_range) {
        return unexpected(rejected("query exceeds max block range " +
                                   std::to_string(impl_->config.max_log_block_range)));
    }
    for (uint64_t n = from; n <= to; ++n) {
        auto header = impl_->header_at(n, *h);
        if (!header) {
            return unexpected(std::move(header).error());
        }
        if (!*header) {
            break;
        }
        if (!Impl::bloom_matches((*header)->logs_bloom, filter)) {
            continue;
        }
        PEL_TRY(auto b, impl_->load_block(n, *h));
        if (!b) {
            break;
        }
        PEL_TRY_VOID(Impl::block_logs(*b, filter, out, impl_->config.max_log_results));
    }
    return out;
}

ApiResult<U256> Node::balance(const Address& addr, BlockSelector selector) const {
    PEL_TRY(const auto h, impl_->state_at(selector));
    auto a = h->view->account(addr);
    if (!a) {
        return unexpected(internal(a.error().message));
    }
    return *a ? (*a)->balance : U256{};
}

ApiResult<uint64_t> Node::nonce(const Address& addr, BlockSelector selector) const {
    for (;;) {
        PEL_TRY(const auto h, impl_->state_at(selector));
        auto a = h->view->account(addr);
        if (!a) {
            return unexpected(internal(a.error().message));
        }
        const uint64_t n = *a ? (*a)->nonce : 0;
        if (selector.tag != BlockTag::kPending) {
            return n;
        }
        const uint64_t pending = impl_->pool->pending_nonce(addr, n);
        // A block's transactions leave the pool after its head is published, so a head read
        // before a block and a pool read after it would both miss them (eth_sendTransaction then
        // signed a used nonce): when the head moved meanwhile, read both again.
        if (impl_->head() == h) {
            return pending;
        }
    }
}

ApiResult<Bytes> Node::code(const Address& addr, BlockSelector selector) const {
    PEL_TRY(const auto h, impl_->state_at(selector));
    auto a = h->view->account(addr);
    if (!a) {
        return unexpected(internal(a.error().message));
    }
    if (!*a || (*a)->code_hash == kEmptyCodeHash) {
        return Bytes{};
    }
    auto c = h->view->code((*a)->code_hash);
    if (!c) {
        return unexpected(internal(c.error().message));
    }
    if (!*c) {
        return unexpected(internal("missing code " + (*a)->code_hash.to_hex()));
    }
    return Bytes(**c);
}

ApiResult<Hash32> Node::storage_at(const Address& addr, const U256& slot,
                                   BlockSelector selector) const {
    PEL_TRY(const auto h, impl_->state_at(selector));
    auto v = h->view->storage(addr, slot);
    if (!v) {
        return unexpected(internal(v.error().message));
    }
    return v->to_hash();
}

ApiResult<AccountProof> Node::account_proof(const Address& addr, const std::vector<U256>& slots,
                                            BlockSelector selector) const {
    const auto h = impl_->head();
    PEL_TRY_VOID(Impl::check_state_selector(selector, *h));
    auto p = impl_->store->prove(addr, slots);
    if (!p) {
        return unexpected(internal(p.error().message));
    }
    // A block committed since the head was read: the store proves the newer one, which a request
    // for this block number must not get.
    const bool by_number = selector.tag == BlockTag::kNumber || selector.tag == BlockTag::kEarliest;
    if (by_number && p->head.block_num != h->header.number) {
        return unexpected(rejected("historical state not available: only block " +
                                   std::to_string(p->head.block_num.value_or(0)) +
                                   " (the head) is kept"));
    }
    AccountProof out;
    out.address = addr;
    out.code_hash = kEmptyCodeHash;
    out.storage_hash = kEmptyTrieRoot;
    if (p->account) {
        out.balance = p->account->balance;
        out.nonce = p->account->nonce;
        out.code_hash = p->account->code_hash;
        out.storage_hash = p->account->storage_root;
    }
    out.account_proof = std::move(p->account_proof);
    for (auto& s : p->storage) {
        out.storage_proof.push_back(StorageProof{s.slot, s.value, std::move(s.proof)});
    }
    return out;
}

ApiResult<CallResult> Node::call(const CallRequest& request, BlockSelector selector) const {
    PEL_TRY(const auto h, impl_->call_head(request, selector));
    const bool pending = selector.tag == BlockTag::kPending;
    const uint64_t gas = impl_->call_gas(request);
    const auto view = Impl::call_view(*h, request);
    exec::StateViewReader base(*view);
    const auto o = impl_->run_call(request, gas, *h, pending, base);
    if (const auto err = base.error()) {
        return unexpected(internal(err->message));
    }
    if (!o.started) {
        return unexpected(rejected(o.error));
    }
    CallResult r;
    r.success = o.success;
    r.output = o.output;
    r.gas_used = o.gas_used;
    r.reverted = o.reverted;
    r.error = o.error;
    return r;
}

ApiResult<std::optional<TraceResult>> Node::trace_transaction(const Hash32& hash,
                                                              const TraceOptions& options) const {
    const auto h = impl_->head();
    PEL_TRY(auto loc, impl_->locate(hash, *h));
    if (!loc) {
        return std::optional<TraceResult>();
    }
    PEL_TRY(auto b, impl_->load_block(loc->first, *h));
    if (!b || loc->second >= b->txns.size()) {
        return unexpected(internal("transaction index points past its block"));
    }
    PEL_TRY(auto traces, impl_->replay_block(*b, h->generation, loc->second, options));
    if (traces.size() != 1) {
        return unexpected(internal("replaying the block gave no trace"));
    }
    return std::optional<TraceResult>(std::move(traces.front()));
}

ApiResult<std::optional<std::vector<TxTrace>>> Node::trace_block(
    BlockSelector selector, const TraceOptions& options) const {
    const auto h = impl_->head();
    const auto n = Impl::block_number_of(selector, *h);
    if (!n) {
        return std::optional<std::vector<TxTrace>>();
    }
    PEL_TRY(auto b, impl_->load_block(*n, *h));
    if (!b) {
        return std::optional<std::vector<TxTrace>>();
    }
    PEL_TRY(auto traces, impl_->replay_block(*b, h->generation, std::nullopt, options));
    if (traces.size() != b->txns.size()) {
        return unexpected(internal("replaying the block gave too few traces"));
    }
    std::vector<TxTrace> out;
    out.reserve(traces.size());
    for (size_t i = 0; i < traces.size(); ++i) {
        out.push_back(TxTrace{b->tx_hashes[i], std::move(traces[i])});
    }
    return std::optional<std::vector<TxTrace>>(std::move(out));
}

ApiResult<std::vector<TraceResult>> Node::trace_call_each(
    const CallRequest& request, BlockSelector selector,
    std::span<const TraceOptions> options) const {
    // One head and one view for every tracer: "latest" must not move between the runs.
    PEL_TRY(const auto h, impl_->call_head(request, selector));
    const bool pending = selector.tag == BlockTag::kPending;
    const uint64_t gas = impl_->call_gas(request);
    const auto view = Impl::call_view(*h, request);
    std::vector<TraceResult> out;
    out.reserve(options.size());
    for (const TraceOptions& o : options) {
        exec::StateViewReader base(*view);
        TraceRun run(o, base);
        const auto r = impl_->run_call(request, gas, *h, pending, run.reader(), run.tracer());
        if (const auto err = base.error()) {
            return unexpected(internal(err->message));
        }
        if (!r.started) {
            return unexpected(rejected(r.error));
        }
        PEL_TRY(TraceResult t, run.result(r.writes, r.success, gas, r.gas_used, r.intrinsic_gas));
        out.push_back(std::move(t));
    }
    return out;
}

ApiResult<AccessListResult> Node::create_access_list(const CallRequest& request,
                                                     BlockSelector selector) const {
    PEL_TRY(const auto h, impl_->call_head(request, selector));
    const bool pending = selector.tag == BlockTag::kPending;
    const uint64_t gas = impl_->call_gas(request);
    const Address from = request.from.value_or(Address{});
    const auto view = Impl::call_view(*h, request);
    std::optional<Address> created;
    if (!request.to) {
        exec::StateViewReader r(*view);
        const auto acc = r.read_account(from);
        created = exec::create_address(from, request.nonce.value_or(acc ? acc->nonce : 0));
    }
    const auto skip = [&](const Address& a) {
        return a == from || a == request.to || a == created || a == impl_->genesis.coinbase ||
               vm::is_precompile(a);
    };
    CallRequest req = request;
    AccessList list = request.access_list.value_or(AccessList{});
    AccessListResult out;
    constexpr int kMaxRounds = 8;
    for (int round = 0; round < kMaxRounds; ++round) {
        req.access_list = list;
        exec::StateViewReader base(*view);
        RecordingReader recording(base);
        const auto o = impl_->run_call(req, gas, *h, pending, recording);
        if (const auto err = base.error()) {
            return unexpected(internal(err->message));
        }
        if (!o.started) {
            return unexpected(rejected(o.error));
        }
        out.gas_used = o.gas_used;
        out.error = o.success ? std::string{} : o.error;
        // Slots written in an account the call created were never read (its storage starts
        // empty): geth's tracer lists them (SSTOREs), so they are added from the write set.
        for (const exec::AccountWrite& w : o.writes.accounts) {
            if (!w.storage_cleared) {
                continue;
            }
            for (const auto& sw : w.storage) {
                recording.note_slot(w.address, sw.key);
            }
        }
        AccessList next = recording.list(skip);
        out.access_list = list;
        if (next == list) {
            break;
        }
        list = std::move(next);
    }
    return out;
}

ApiResult<uint64_t> Node::estimate_gas(const CallRequest& request, BlockSelector selector) const {
    PEL_TRY(const auto h, impl_->call_head(request, selector));
    const bool pending = selector.tag == BlockTag::kPending;
    const auto view = Impl::call_view(*h, request);
    exec::StateViewReader base(*view);
    uint64_t hi = h->header.gas_limit;
    if (request.gas && *request.gas >= exec::kTxGas) {
        hi = *request.gas;
    }
    hi = std::min(hi, impl_->config.rpc_gas_cap);
    // With a fee, the sender's balance bounds the gas (geth).
    U256 fee = request.gas_price.value_or(request.max_fee_per_gas.value_or(U256{}));
    if (!fee.is_zero()) {
        const Address from = request.from.value_or(Address{});
        const auto acc = base.read_account(from);
        U256 available = acc ? acc->balance : U256{};
        const U256 value = request.value.value_or(U256{});
        if (available < value) {
            return unexpected(rejected("insufficient funds for transfer"));
        }
        available -= value;
        const U256 allowance = available / fee;
        if (allowance.fits_u64() && allowance.low64() < hi) {
            hi = allowance.low64();
        }
    }
    // A plain transfer to an account without code needs exactly its intrinsic gas (geth answers
    // 21000 without searching).
    if (request.to && request.data.empty() && hi >= exec::kTxGas) {
        const auto to = base.read_account(*request.to);
        if (!to || to->code_hash == kEmptyCodeHash) {
            Transaction probe;
            probe.to = request.to;
            if (request.access_list) {
                probe.access_list = *request.access_list;
            }
            const uint64_t need = exec::intrinsic_gas(probe);
            if (need <= hi) {
                const auto o = impl_->run_call(request, need, *h, pending, base);
                if (o.started && o.success) {
                    return need;
                }
            }
        }
    }
    auto first = impl_->run_call(request, hi, *h, pending, base);
    if (const auto err = base.error()) {
        return unexpected(internal(err->message));
    }
    if (!first.started) {
        if (first.error == "intrinsic gas too low") {
            return unexpected(
                rejected("gas required exceeds allowance (" + std::to_string(hi) + ")"));
        }
        return unexpected(rejected(first.error));
    }
    if (!first.success) {
        if (first.reverted) {
            return unexpected(impl_->call_error(first));
        }
        if (first.error == "out of gas") {
            return unexpected(
                rejected("gas required exceeds allowance (" + std::to_string(hi) + ")"));
        }
        return unexpected(rejected(first.error));
    }
    uint64_t lo = first.gas_used > 0 ? first.gas_used - 1 : 0;  // it cannot succeed with less
    // Most calls need little more than they use (refunds, the 63/64 rule); try that first.
    const uint64_t optimistic = (first.gas_used + 2300) * 64 / 63;
    if (optimistic < hi) {
        const auto o = impl_->run_call(request, optimistic, *h, pending, base);
        if (o.started && o.success) {
            hi = optimistic;
        } else {
            lo = optimistic;
        }
    }
    while (lo + 1 < hi) {
        // geth stops within 1.5% of the answer (it is an estimate; the upper end always works).
        if (static_cast<double>(hi - lo) / static_cast<double>(hi) < 0.015) {
            break;
        }
        uint64_t mid = lo + (hi - lo) / 2;
        const auto o = impl_->run_call(request, mid, *h, pending, base);
        if (o.started && o.success) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    return hi;
}

U256 Node::gas_price() const {
    const auto h = impl_->head();
    return next_base_fee(h->header) + max_priority_fee();
}

U256 Node::max_priority_fee() const { return U256(kGwei); }

ApiResult<FeeHistory> Node::fee_history(uint64_t block_count, BlockSelector newest,
                                        const std::vector<double>& reward_percentiles) const {
    for (size_t i = 0; i < reward_percentiles.size(); ++i) {
        const double p = reward_percentiles[i];
        if (!(p >= 0 && p <= 100) || (i > 0 && p < reward_percentiles[i - 1])) {
            return unexpected(invalid("invalid reward percentile " + std::to_string(p)));
        }
    }
    const auto h = impl_->head();
    FeeHistory fh;
    block_count = std::min<uint64_t>(block_count, 1024);
    const auto last = Impl::block_number_of(newest, *h);
    if (!last) {
        return unexpected(invalid("request beyond head block"));
    }
    if (block_count == 0) {
        fh.oldest_block = *last;
        return fh;
    }
    block_count = std::min<uint64_t>(block_count, *last + 1);
    fh.oldest_block = *last + 1 - block_count;
    BlockHeader last_header;
    for (uint64_t n = fh.oldest_block; n <= *last; ++n) {
        auto header = impl_->header_at(n, *h);
        if (!header || !*header) {
            return unexpected(internal("missing header of block " + std::to_string(n)));
        }
        const BlockHeader& bh = **header;
        fh.base_fee_per_gas.push_back(bh.base_fee_per_gas);
        fh.gas_used_ratio.push_back(bh.gas_limit == 0 ? 0.0
                                                      : static_cast<double>(bh.gas_used) /
                                                            static_cast<double>(bh.gas_limit));
        fh.base_fee_per_blob_gas.push_back(exec::blob_base_fee(bh.excess_blob_gas));
        fh.blob_gas_used_ratio.push_back(
            static_cast<double>(bh.blob_gas_used) /
            static_cast<double>(exec::kMaxBlobsPerBlock * exec::kGasPerBlob));
        if (!reward_percentiles.empty()) {
            std::vector<U256> row;
            if (bh.gas_used == 0) {
                row.assign(reward_percentiles.size(), U256{});
            } else {
                PEL_TRY(auto blk, impl_->load_block(n, *h));
                if (!blk) {
                    return unexpected(internal("missing block " + std::to_string(n)));
                }
                // (tip, gas used) sorted by tip; percentiles weighted by gas (geth).
                std::vector<std::pair<U256, uint64_t>> tips;
                for (size_t i = 0; i < blk->txns.size(); ++i) {
                    const U256 price = exec::effective_gas_price(blk->txns[i], bh.base_fee_per_gas);
                    const uint64_t used = blk->receipts[i].cumulative_gas_used -
                                          (i == 0 ? 0 : blk->receipts[i - 1].cumulative_gas_used);
                    tips.emplace_back(price - bh.base_fee_per_gas, used);
                }
                std::sort(tips.begin(), tips.end(),
                          [](const auto& a, const auto& b) { return a.first < b.first; });
                size_t idx = 0;
                uint64_t sum = tips.empty() ? 0 : tips[0].second;
                for (const double p : reward_percentiles) {
                    const double threshold = static_cast<double>(bh.gas_used) * p / 100.0;
                    while (static_cast<double>(sum) < threshold && idx + 1 < tips.size()) {
                        ++idx;
                        sum += tips[idx].second;
                    }
                    row.push_back(tips.empty() ? U256{} : tips[idx].first);
                }
            }
            fh.reward.push_back(std::move(row));
        }
        last_header = bh;
    }
    fh.base_fee_per_gas.push_back(next_base_fee(last_header));
    fh.base_fee_per_blob_gas.push_back(exec::blob_base_fee(next_excess_blob_gas(last_header)));
    return fh;
}

ApiResult<Hash32> Node::submit_raw_transaction(ByteView raw) { return admit(raw, true); }

std::vector<ApiResult<Hash32>> Node::submit_raw_transactions(std::span<const ByteView> raws) {
    return admit_many(raws, true, std::nullopt);
}

ApiResult<Hash32> Node::admit(ByteView raw, bool gossip, std::optional<Address> impersonated) {
    const ByteView raws[] = {raw};
    return std::move(admit_many(raws, gossip, impersonated).front());
}

// Three passes: the checks that need only the bytes; then the hashes and senders of every
// transaction that passed them, computed together (keccak256_many, recoveries back to back); then,
// in order, the checks against the pool and the head, and the pool insertion. The first pass's
// checks come before "already known" (one transaction at a time checked it first): the same bytes
// pass them again, so a transaction in the pool never fails one, and every answer is unchanged.
std::vector<ApiResult<Hash32>> Node::admit_many(std::span<const ByteView> raws, bool gossip,
                                                std::optional<Address> impersonated) {
    auto& impl = *impl_;
    const auto reject = [&](std::string msg) -> ApiResult<Hash32> {
        impl.txs_rejected.fetch_add(1, std::memory_order_relaxed);
        return unexpected(rejected(std::move(msg)));
    };
    const size_t n = raws.size();
    std::vector<std::optional<ApiResult<Hash32>>> out(n);
    std::vector<std::optional<Transaction>> txns(n);
    std::vector<Bytes> canonical(n);  // blob transactions: the form without the sidecar
    std::vector<size_t> todo;         // indices that passed the first pass
    todo.reserve(n);
    for (size_t i = 0; i < n; ++i) {
        const ByteView raw = raws[i];
        if (raw.empty()) {
            out[i] = unexpected(invalid("empty transaction"));
            continue;
        }
        // The transaction as it will be pooled, and the size that counts against kMaxTxBytes.
        Transaction txn;
        size_t size = raw.size();
        if (is_blob_network_form(raw)) {
            // EIP-4844's network form: the sidecar is checked here (the KZG proofs are the
            // expensive part), then the transaction goes on in its canonical form.
            auto pooled = decode_blob_network_form(raw);
            if (!pooled) {
                impl.txs_rejected.fetch_add(1, std::memory_order_relaxed);
                out[i] = unexpected(invalid(pooled.error().message));
                continue;
            }
            size = pooled->canonical.size();
            if (size <= kMaxTxBytes) {
                if (auto e = blob_sidecar_error(*pooled)) {
                    out[i] = reject(std::move(*e));
                    continue;
                }
            }
            txn = std::move(pooled->txn);
            canonical[i] = std::move(pooled->canonical);
        } else {
            auto decoded = decode_transaction(raw);
            if (!decoded) {
                impl.txs_rejected.fetch_add(1, std::memory_order_relaxed);
                out[i] = unexpected(invalid(decoded.error().message));
                continue;
            }
            if (decoded->type == TxnType::kBlob) {
                // The canonical form: what a block holds, without the blobs a pool must see.
                out[i] = reject("missing sidecar in blob transaction");
                continue;
            }
            txn = std::move(*decoded);
        }
        if (size > kMaxTxBytes) {
            out[i] = reject("oversized data");
        } else if (txn.chain_id && *txn.chain_id != impl.genesis.chain_id) {
            out[i] = reject("invalid chain id for signer");
        } else if (txn.max_priority_fee_per_gas > txn.max_fee_per_gas) {
            out[i] = reject("max priority fee per gas higher than max fee per gas");
        } else {
            txns[i] = std::move(txn);
            todo.push_back(i);
        }
    }

    std::vector<Hash32> hashes(n);
    std::vector<std::optional<Result<Address>>> senders(n);
    {
        std::vector<ByteView> in;
        in.reserve(todo.size());
        for (const size_t i : todo) in.push_back(canonical[i].empty() ? raws[i] : canonical[i]);
        std::vector<Hash32> h(todo.size());
        keccak256_many(in, h);
        std::vector<const Transaction*> recover;  // not impersonated, not already in the pool
        std::vector<size_t> recover_at;
        for (size_t k = 0; k < todo.size(); ++k) {
            const size_t i = todo[k];
            hashes[i] = h[k];
            if (impersonated) {
                senders[i] = Result<Address>(*impersonated);
            } else if (!impl.pool->contains(hashes[i])) {
                recover.push_back(&*txns[i]);
                recover_at.push_back(i);
            }
        }
        auto got = recover_sender_many(recover);
        for (size_t k = 0; k < got.size(); ++k) senders[recover_at[k]] = std::move(got[k]);
    }

    bool wake = false;
    for (const size_t i : todo) {
        out[i] = [&]() -> ApiResult<Hash32> {
            const Transaction& txn = *txns[i];
            const Hash32& hash = hashes[i];
            if (impl.pool->contains(hash)) {
                return reject("already known");
            }
            if (!senders[i]) {
                // In the pool during the second pass, gone since (a block took it).
                senders[i] = recover_sender(txn);
            }
            const Result<Address>& sender = *senders[i];
            if (!sender) {
                return reject("invalid sender");
            }
            if (!txn.to && txn.data.size() > vm::kMaxInitcodeSize) {
                return reject("max initcode size exceeded");
            }
            if (exec::intrinsic_gas(txn) > txn.gas_limit) {
                return reject("intrinsic gas too low");
            }
            auto p = std::make_shared<PoolTxn>();
            p->hash = hash;
            p->sender = *sender;
            if (canonical[i].empty()) {
                p->raw.assign(raws[i].begin(), raws[i].end());
            } else {
                p->raw = std::move(canonical[i]);
                p->pooled.assign(raws[i].begin(), raws[i].end());
            }
            p->cost = txn_cost(txn);
            p->impersonated = impersonated.has_value();
            p->txn = std::move(*txns[i]);
            const Transaction& t = p->txn;
            // The checks against the head, then the pool: the pool's epoch is read before the
            // head, so that a block applied to the pool in between (its head then newer than
            // ours) sends us back for the new head instead of admitting against a stale nonce.
            // Blocks are far apart next to this, so a retry is rare and a second one rarer.
            std::optional<Mempool::Added> added;
            for (int attempt = 0; !added; ++attempt) {
                if (attempt == 64) {
                    return unexpected(internal("the head kept moving during admission"));
                }
                const uint64_t epoch = impl.pool->epoch();
                const auto h = impl.head();
                if (t.gas_limit > h->header.gas_limit) {
                    return reject("exceeds block gas limit");
                }
                if (t.max_fee_per_gas < next_base_fee(h->header)) {
                    return reject("max fee per gas less than block base fee");
                }
                if (t.type == TxnType::kBlob &&
                    t.max_fee_per_blob_gas < exec::blob_base_fee(next_excess_blob_gas(h->header))) {
                    return reject("max fee per blob gas less than block blob gas fee");
                }
                auto acc = h->view->account(*sender);
                if (!acc) {
                    return unexpected(internal(acc.error().message));
                }
                SenderState st;
                if (*acc) {
                    st.nonce = (*acc)->nonce;
                    st.balance = (*acc)->balance;
                    if ((*acc)->code_hash != kEmptyCodeHash && !impersonated) {
                        return reject("sender not an eoa");
                    }
                }
                if (st.nonce == UINT64_MAX) {
                    return reject("nonce has max value");
                }
                auto r = impl.pool->add_at(p, st, epoch);
                if (!r) {
                    return reject(r.error().message);
                }
                added = *r;
            }
            impl.notify_pending(hash);
            wake = wake || added->pending;
            if (gossip && impl.consensus) {
                {
                    const std::lock_guard lock(impl.gossip_mu);
                    impl.gossip_queue.emplace_back(raws[i].begin(), raws[i].end());
                }
                impl.gossip_cv.notify_one();
            }
            return hash;
        }();
    }
    if (wake) {
        impl.wake();
    }
    std::vector<ApiResult<Hash32>> results;
    results.reserve(n);
    for (auto& r : out) results.push_back(std::move(*r));
    return results;
}

// Fills the unset fields of `request` (nonce: the pending one; gas: an estimate; fees), unsigned.
// Callers that submit hold send_mu, so that concurrent calls take distinct nonces.
ApiResult<Transaction> Node::fill_transaction(const CallRequest& request) {
    auto& impl = *impl_;
    if (request.chain_id && *request.chain_id != impl.genesis.chain_id) {
        return unexpected(rejected("invalid chain id for signer"));
    }
    if (request.blob_versioned_hashes) {
        // The node has no blobs to attach: sign a blob transaction with its sidecar and send it
        // with eth_sendRawTransaction.
        return unexpected(rejected("missing sidecar in blob transaction"));
    }
    Transaction txn;
    txn.chain_id = impl.genesis.chain_id;
    const auto h = impl.head();
    if (request.gas_price) {
        txn.type = request.access_list ? TxnType::kAccessList : TxnType::kLegacy;
        txn.max_fee_per_gas = *request.gas_price;
        txn.max_priority_fee_per_gas = *request.gas_price;
    } else {
        txn.type = TxnType::kDynamicFee;
        txn.max_priority_fee_per_gas =
            request.max_priority_fee_per_gas.value_or(max_priority_fee());
        txn.max_fee_per_gas = request.max_fee_per_gas.value_or(next_base_fee(h->header) * U256(2) +
                                                               txn.max_priority_fee_per_gas);
    }
    if (request.access_list) {
        txn.access_list = *request.access_list;
    }
    txn.to = request.to;
    txn.value = request.value.value_or(U256{});
    txn.data = request.data;
    if (request.nonce) {
        txn.nonce = *request.nonce;
    } else {
        PEL_TRY(txn.nonce, nonce(*request.from, BlockSelector{BlockTag::kPending, 0}));
    }
    if (request.gas) {
        txn.gas_limit = *request.gas;
    } else {
        CallRequest est = request;
        est.nonce = std::nullopt;  // estimate on the head state
        PEL_TRY(txn.gas_limit, estimate_gas(est, BlockSelector::latest()));
    }
    return txn;
}

ApiResult<Bytes> Node::fill_and_sign(const CallRequest& request) {
    const DevAccount* key = request.from ? impl_->dev_key(*request.from) : nullptr;
    if (key == nullptr) {
        return unexpected(rejected("unknown account"));
    }
    PEL_TRY(Transaction txn, fill_transaction(request));
    if (auto s = pel::sign_transaction(txn, key->secret_key); !s) {
        return unexpected(internal(s.error().message));
    }
    return encode_transaction(txn);
}

ApiResult<Hash32> Node::send_transaction(const CallRequest& request) {
    const std::lock_guard lock(impl_->send_mu);
    if (request.from && impl_->dev_key(*request.from) == nullptr &&
        impl_->is_impersonated(*request.from)) {
        PEL_TRY(Transaction txn, fill_transaction(request));
        // A placeholder signature that recovers to nothing in particular; the hash still differs
        // per sender and transaction.
        txn.signature = crypto::Signature{};
        for (const uint8_t b : request.from->bytes) {
            txn.signature.r = (txn.signature.r << 8) | U256(b);
        }
        txn.signature.s = U256(1);
        return admit(encode_transaction(txn), false, *request.from);
    }
    PEL_TRY(const Bytes raw, fill_and_sign(request));
    return submit_raw_transaction(raw);
}

ApiResult<Bytes> Node::sign_transaction(const CallRequest& request) {
    return fill_and_sign(request);
}

ApiResult<crypto::Signature> Node::sign_hash(const Address& account, const Hash32& digest) const {
    const auto& dev = impl_->dev;
    const auto it = std::find_if(dev.begin(), dev.end(),
                                 [&](const DevAccount& a) { return a.address == account; });
    if (it == dev.end()) {
        return unexpected(rejected("unknown account"));
    }
    auto sig = crypto::sign(digest, it->secret_key);
    if (!sig) {
        return unexpected(internal(sig.error().message));
    }
    return *sig;
}

ApiResult<uint64_t> Node::mine_block(std::optional<uint64_t> timestamp) {
    auto& im = *impl_;
    if (im.consensus) {
        return unexpected(
            rejected("not available in consensus mode: the validators decide blocks"));
    }
    const std::lock_guard lock(im.produce_mu);
    if (timestamp) {
        PEL_TRY_VOID(im.check_next_timestamp(*timestamp));
        im.next_timestamp.store(*timestamp);
    }
    auto r = im.produce_locked(/*allow_empty=*/true);
    if (!r) {
        return unexpected(internal(r.error().message));
    }
    PEL_ASSERT(r->has_value(), "an empty block is always allowed");
    return **r;
}

ApiResult<uint64_t> Node::increase_time(uint64_t seconds) {
    auto& im = *impl_;
    if (im.consensus) {
        return unexpected(rejected("not available in consensus mode: timestamps follow the clock"));
    }
    if (seconds > (uint64_t{1} << 40)) {
        return unexpected(rejected("time increase too large"));
    }
    return im.time_offset.fetch_add(seconds) + seconds;
}

ApiResult<void> Node::set_next_block_timestamp(uint64_t timestamp) {
    auto& im = *impl_;
    if (im.consensus) {
        return unexpected(rejected("not available in consensus mode: timestamps follow the clock"));
    }
    const std::lock_guard lock(im.produce_mu);
    PEL_TRY_VOID(im.check_next_timestamp(timestamp));
    im.next_timestamp.store(timestamp);
    return {};
}

ApiResult<void> Node::set_account(const Address& addr, const DevAccountChange& change) {
    auto& im = *impl_;
    if (im.consensus) {
        return unexpected(
            rejected("not available in consensus mode: state changes only through blocks"));
    }
    const std::lock_guard lock(im.produce_mu);
    auto next = im.dev_changes ? std::make_shared<state::StateDiff>(*im.dev_changes)
                               : std::make_shared<state::StateDiff>();
    state::AccountDiff& d = next->accounts[addr];
    if (change.balance) d.balance = *change.balance;
    if (change.nonce) d.nonce = *change.nonce;
    if (change.code) d.code = state::CodeChange{keccak256(*change.code), *change.code};
    for (const auto& [slot, value] : change.storage) {
        d.storage[slot] = value;
    }
    im.dev_changes = std::move(next);
    im.publish_dev_changes();
    return {};
}

ApiResult<void> Node::set_mining(std::optional<bool> automine, std::optional<double> interval_s) {
    auto& im = *impl_;
    if (im.consensus) {
        return unexpected(
            rejected("not available in consensus mode: the validators decide blocks"));
    }
    if (interval_s && (*interval_s < 0 || *interval_s > 86'400.0)) {
        return unexpected(rejected("the mining interval must be 0 to 86400 seconds"));
    }
    {
        const std::lock_guard lock(im.wake_mu);
        if (automine) {
            im.automine = *automine;
            im.work = im.work || *automine;  // what is already in the pool goes in a block now
        }
        if (interval_s) {
            im.interval_s = *interval_s;
        }
        ++im.mining_epoch;
    }
    im.wake_cv.notify_all();
    return {};
}

MiningMode Node::mining_mode() const {
    const std::lock_guard lock(impl_->wake_mu);
    return MiningMode{impl_->automine, impl_->interval_s};
}

ApiResult<void> Node::impersonate(const Address& addr, bool on) {
    auto& im = *impl_;
    if (im.consensus) {
        return unexpected(rejected("not available in consensus mode: every sender signs"));
    }
    const std::lock_guard lock(im.impersonate_mu);
    if (on) {
        im.impersonated.insert(addr);
    } else {
        im.impersonated.erase(addr);
    }
    return {};
}

ApiResult<uint64_t> Node::snapshot() {
    auto& im = *impl_;
    if (im.consensus) {
        return unexpected(
            rejected("not available in consensus mode: the validators decide blocks"));
    }
    const std::lock_guard lock(im.produce_mu);
    Impl::DevSnapshot s;
    s.id = im.next_snapshot_id++;
    s.block = im.head()->header.number;
    s.time_offset = im.time_offset.load();
    s.next_timestamp = im.next_timestamp.load();
    s.dev_changes = im.dev_changes;
    im.snapshots.push_back(s);
    return s.id;
}

ApiResult<bool> Node::revert(uint64_t id) {
    auto& im = *impl_;
    if (im.consensus) {
        return unexpected(
            rejected("not available in consensus mode: the validators decide blocks"));
    }
    const std::lock_guard lock(im.produce_mu);
    const auto it = std::find_if(im.snapshots.begin(), im.snapshots.end(),
                                 [&](const Impl::DevSnapshot& s) { return s.id == id; });
    if (it == im.snapshots.end()) {
        return false;
    }
    if (it->block < im.head()->header.number) {
        if (auto r = im.rewind(it->block); !r) {
            return unexpected(internal("evm_revert: " + r.error().message));
        }
    }
    im.time_offset.store(it->time_offset);
    im.next_timestamp.store(it->next_timestamp);
    im.dev_changes = it->dev_changes;
    im.publish_dev_changes();
    im.snapshots.erase(it, im.snapshots.end());
    {
        const std::lock_guard history_lock(im.history_mu);
        im.prune_old_values_locked(im.head()->header.number);
    }
    im.pool->clear();
    return true;
}

std::vector<Address> Node::accounts() const {
    std::vector<Address> out;
    out.reserve(impl_->dev.size());
    for (const DevAccount& a : impl_->dev) {
        out.push_back(a.address);
    }
    return out;
}

SubscriptionId Node::subscribe(Subscriber subscriber) {
    const std::lock_guard lock(impl_->dispatch_mu);
    const SubscriptionId id = impl_->next_sub++;
    impl_->subs.emplace(id, std::move(subscriber));
    return id;
}

void Node::unsubscribe(SubscriptionId id) {
    const std::lock_guard lock(impl_->dispatch_mu);
    impl_->subs.erase(id);
}

ApiResult<std::optional<BlockConflictReport>> Node::conflict_report(BlockSelector selector) const {
    const auto h = impl_->head();
    const auto n = Impl::block_number_of(selector, *h);
    if (!n) {
        return std::optional<BlockConflictReport>();
    }
    auto header = impl_->header_at(*n, *h);
    if (!header) {
        return unexpected(std::move(header).error());
    }
    if (!*header) {
        return std::optional<BlockConflictReport>();
    }
    auto raw = impl_->store->get_aux(keys::conflicts(*n));
    if (!raw || !*raw) {
        return unexpected(internal("missing conflict report of block " + std::to_string(*n)));
    }
    auto r = decode_conflict_report(**raw);
    if (!r) {
        return unexpected(internal(r.error().message));
    }
    r->block_number = *n;
    r->block_hash = header_hash(**header);
    {
        const std::lock_guard lock(impl_->cache_mu);
        const auto it = impl_->commit_times.find(*n);
        if (it != impl_->commit_times.end()) {
            r->commit_ms = it->second;
        }
    }
    return std::optional<BlockConflictReport>(std::move(*r));
}

NodeMetrics Node::metrics() const {
    NodeMetrics m;
    m.head_number = impl_->head()->header.number;
    m.blocks_produced = impl_->blocks_produced.load(std::memory_order_relaxed);
    m.txs_committed = impl_->txs_committed.load(std::memory_order_relaxed);
    m.gas_committed = impl_->gas_committed.load(std::memory_order_relaxed);
    m.re_executions = impl_->re_executions.load(std::memory_order_relaxed);
    m.txs_rejected = impl_->txs_rejected.load(std::memory_order_relaxed);
    {
        const std::lock_guard lock(impl_->metrics_mu);
        m.execution_ms_total = impl_->execution_ms_total;
        m.last_block_execution_ms = impl_->last_execution_ms;
        m.last_block_re_executions_per_tx = impl_->last_re_executions_per_tx;
    }
    m.mempool_pending = impl_->pool->pending_count();
    m.mempool_queued = impl_->pool->queued_count();
    return m;
}

}  // namespace pel::node
