// SPDX-License-Identifier: Apache-2.0
// The transaction pool: per-sender nonce-ordered queues. A sender's transactions whose nonces run
// without a gap from the sender's account nonce are *pending* (executable); the rest are *queued*
// until the gap fills. Admission checks that need the pool (already known, nonce too low, funds,
// replacement, limits) happen here with go-ethereum's error strings; the stateless checks
// (decoding, signature, chain id, intrinsic gas, fee fields) are the node's, before add().
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include "execution/transition.hpp"
#include "primitives/bytes.hpp"
#include "primitives/hash.hpp"
#include "primitives/result.hpp"
#include "primitives/transaction.hpp"
#include "primitives/u256.hpp"

namespace pel::node {

/// An admitted transaction. Immutable once shared.
struct PoolTxn {
    Transaction txn;
    Hash32 hash;
    Address sender;
    Bytes raw;  ///< canonical encoding (what a block holds)
    /// A blob transaction's network form (EIP-4844: with its blobs, commitments and proofs), which
    /// gossip and the pool's journal carry, as admission checked it; empty for other types.
    Bytes pooled;
    /// gas_limit * max_fee_per_gas + value (+ blob gas * max_fee_per_blob_gas): what the sender
    /// must hold (geth's tx.Cost()).
    U256 cost;
    /// Sent from an impersonated account (anvil_impersonateAccount): `sender` was given, not
    /// recovered (the signature is a placeholder), and EIP-3607 is waived for it.
    bool impersonated = false;
};

struct MempoolLimits {
    size_t max_total = 100'000;
    size_t max_per_sender = 16'384;
    size_t max_queued_per_sender = 1'024;
    /// Blob transactions held (each with its sidecar: up to 6 blobs of 128 KiB, so 256 of them
    /// hold at most about 200 MB).
    size_t max_blob_txs = 256;
};

/// The sender's account at the head, as admission sees it.
struct SenderState {
    uint64_t nonce = 0;
    U256 balance;
};

/// Thread safety / Invariants: every method may be called from any thread; one mutex guards
/// everything (no callbacks run under it).
///  - by_hash_ holds exactly the transactions in senders_ (one entry per (sender, nonce));
///    blob_txs_ counts the blob transactions among them (every erase goes through erase_hash).
///  - senders_ has no empty queue; each queue's nonces are all >= its base_nonce (the account
///    nonce at the last add or block for that sender).
///  - pending (per queue) is the length of the gap-free run of nonces starting at base_nonce;
///    pending_total_ / queued_total_ are the sums over queues of pending and size - pending.
class Mempool {
  public:
    explicit Mempool(const MempoolLimits& limits) : limits_(limits) {}

    struct Added {
        bool pending = false;            ///< executable now (else queued)
        std::optional<Hash32> replaced;  ///< the transaction it replaced
    };

    /// Admits `t` given its sender's head account. Errors (geth's strings): "already known",
    /// "nonce too low: next nonce N, tx nonce M", "insufficient funds for gas * price + value:
    /// balance B, tx cost C, overshot D", "replacement transaction underpriced", "txpool is full",
    /// "account limit exceeded". Nothing changes on error.
    [[nodiscard]] Result<Added> add(std::shared_ptr<const PoolTxn> t, const SenderState& account);

    /// As add(), but only if no block was applied (on_block) since `epoch()` returned
    /// `head_epoch`; otherwise changes nothing and returns an empty optional, and the caller
    /// reads the head again and retries. The node reads the epoch before the head state it takes
    /// `account` from, and publishes a new head before on_block: so an account read from a head
    /// that on_block has already been applied for is never taken for newer than it is. (Without
    /// this, a sender's next transaction checked against the head before a block, and added
    /// after on_block emptied its queue, would stay queued behind a nonce already mined.)
    [[nodiscard]] Result<std::optional<Added>> add_at(std::shared_ptr<const PoolTxn> t,
                                                      const SenderState& account,
                                                      uint64_t head_epoch);

    /// How many times on_block (or clear) has run (read before the head, for add_at).
    [[nodiscard]] uint64_t epoch() const;

    /// The transaction with this hash, or null.
    [[nodiscard]] std::shared_ptr<const PoolTxn> get(const Hash32& hash) const;
    [[nodiscard]] bool contains(const Hash32& hash) const;

    /// The next nonce of `sender` counting its pending transactions (`state_nonce` is the head's).
    [[nodiscard]] uint64_t pending_nonce(const Address& sender, uint64_t state_nonce) const;

    /// Executable transactions for the next block: nonce order per sender, highest effective tip
    /// (min(tip, fee cap - base fee)) first across senders, senders with equal tips taken
    /// round-robin (one transaction each in turn); at most `max_txs`, whose gas limits
    /// sum to at most `gas_limit`. A sender's run stops at a transaction whose fee cap is below
    /// `base_fee` or whose gas limit does not fit. `exclude`d hashes (and their sender's later
    /// transactions) are skipped. Blob transactions (EIP-4844) carry at most `max_blobs` blobs in
    /// all; a sender's run also stops at one whose blob fee cap is below `blob_base_fee` or whose
    /// blobs do not fit.
    [[nodiscard]] std::vector<std::shared_ptr<const PoolTxn>> select(
        const U256& base_fee, uint64_t gas_limit, size_t max_txs,
        const std::function<bool(const Hash32&)>& exclude = {}, const U256& blob_base_fee = U256{1},
        size_t max_blobs = exec::kMaxBlobsPerBlock) const;

    /// After a block: removes `mined` and, for each sender in `new_nonces` (sender -> account
    /// nonce after the block), every transaction below that nonce; later ones are promoted when
    /// the gap is filled.
    void on_block(const std::vector<Hash32>& mined,
                  const std::unordered_map<Address, uint64_t>& new_nonces);

    /// Removes every transaction (evm_revert: the head went back, so the pool's nonces no longer
    /// hold). Counts as a block for add_at: an admission checked before it is retried.
    void clear();

    /// Removes one transaction (invalid in a block); the sender's later ones become queued.
    void remove(const Hash32& hash);

    [[nodiscard]] size_t pending_count() const;
    [[nodiscard]] size_t queued_count() const;
    [[nodiscard]] size_t size() const;
    /// The pool split as txpool_content shows it: pending (each sender's gap-free run from its
    /// account nonce) and queued; senders in ascending address order, each sender's by nonce.
    struct Content {
        std::vector<std::shared_ptr<const PoolTxn>> pending;
        std::vector<std::shared_ptr<const PoolTxn>> queued;
    };
    [[nodiscard]] Content content() const;
    /// Every transaction: content()'s pending, then its queued (each sender's by nonce, the order
    /// in which adding them again to an empty pool queues none needlessly).
    [[nodiscard]] std::vector<std::shared_ptr<const PoolTxn>> all() const;

  private:
    struct Queue {
        uint64_t base_nonce = 0;
        std::map<uint64_t, std::shared_ptr<const PoolTxn>> txs;
        size_t pending = 0;
    };
    static size_t queued_of(const Queue& q) { return q.txs.size() - q.pending; }
    /// After a change to `q` that began with `queued_before` queued transactions: recounts its
    /// pending ones and updates both totals. Requires mu_.
    void recount(Queue& q, size_t queued_before);
    /// recount(), then drops the sender's queue if it is empty. Requires mu_.
    void settle(std::unordered_map<Address, Queue>::iterator qit, size_t queued_before);
    /// Takes the sender's transaction at `nonce` out of its queue (not out of by_hash_), then
    /// settle(). Requires mu_.
    void erase_nonce(std::unordered_map<Address, Queue>::iterator qit, uint64_t nonce);
    /// Drops (and unindexes) the queue's transactions below `nonce`. Requires mu_.
    void drop_below(Queue& q, uint64_t nonce);
    void erase_hash(const Hash32& hash);  // requires mu_
    Result<Added> add_locked(std::shared_ptr<const PoolTxn> t, const SenderState& account);

    const MempoolLimits limits_;
    mutable std::mutex mu_;
    std::unordered_map<Address, Queue> senders_;                          // guarded by mu_
    std::unordered_map<Hash32, std::shared_ptr<const PoolTxn>> by_hash_;  // guarded by mu_
    size_t pending_total_ = 0;                                            // guarded by mu_
    size_t queued_total_ = 0;                                             // guarded by mu_
    uint64_t epoch_ = 0;                                                  // guarded by mu_
    size_t blob_txs_ = 0;                                                 // guarded by mu_
};

/// fee * 110 / 100 rounded up as geth compares (new >= old * (100 + 10) / 100, and new > old).
[[nodiscard]] bool bumps_enough(const U256& old_fee, const U256& new_fee);

}  // namespace pel::node
