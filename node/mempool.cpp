// SPDX-License-Identifier: Apache-2.0
#include "node/mempool.hpp"

#include <algorithm>
#include <queue>

#include "primitives/sorted.hpp"

namespace pel::node {
namespace {

U256 effective_tip(const Transaction& t, const U256& base_fee) {
    const U256 over = t.max_fee_per_gas - base_fee;  // caller checked fee cap >= base fee
    return t.max_priority_fee_per_gas < over ? t.max_priority_fee_per_gas : over;
}

}  // namespace

bool bumps_enough(const U256& old_fee, const U256& new_fee) {
    // geth legacypool: the replacement must be strictly higher and at least old * 110 / 100.
    const U256 threshold = old_fee * U256(110) / U256(100);
    return new_fee > old_fee && new_fee >= threshold;
}

void Mempool::recount(Queue& q, size_t queued_before) {
    const size_t before_pending = q.pending;
    size_t p = 0;
    uint64_t n = q.base_nonce;
    for (auto it = q.txs.find(n); it != q.txs.end() && it->first == n; ++it, ++n) {
        ++p;
    }
    q.pending = p;
    pending_total_ = pending_total_ - before_pending + p;
    queued_total_ = queued_total_ - queued_before + queued_of(q);
}

void Mempool::settle(std::unordered_map<Address, Queue>::iterator qit, size_t queued_before) {
    recount(qit->second, queued_before);
    if (qit->second.txs.empty()) {
        senders_.erase(qit);
    }
}

void Mempool::erase_nonce(std::unordered_map<Address, Queue>::iterator qit, uint64_t nonce) {
    const size_t queued_before = queued_of(qit->second);
    qit->second.txs.erase(nonce);
    settle(qit, queued_before);
}

void Mempool::drop_below(Queue& q, uint64_t nonce) {
    while (!q.txs.empty() && q.txs.begin()->first < nonce) {
        erase_hash(q.txs.begin()->second->hash);
        q.txs.erase(q.txs.begin());
    }
}

void Mempool::erase_hash(const Hash32& hash) {
    const auto it = by_hash_.find(hash);
    if (it == by_hash_.end()) {
        return;
    }
    if (it->second->txn.type == TxnType::kBlob) {
        --blob_txs_;
    }
    by_hash_.erase(it);
}

Result<Mempool::Added> Mempool::add(std::shared_ptr<const PoolTxn> t, const SenderState& account) {
    const std::lock_guard lock(mu_);
    return add_locked(std::move(t), account);
}

Result<std::optional<Mempool::Added>> Mempool::add_at(std::shared_ptr<const PoolTxn> t,
                                                      const SenderState& account,
                                                      uint64_t head_epoch) {
    const std::lock_guard lock(mu_);
    if (head_epoch != epoch_) {
        return std::optional<Added>();
    }
    PEL_TRY(Added added, add_locked(std::move(t), account));
    return std::optional<Added>(added);
}

uint64_t Mempool::epoch() const {
    const std::lock_guard lock(mu_);
    return epoch_;
}

Result<Mempool::Added> Mempool::add_locked(std::shared_ptr<const PoolTxn> t,
                                           const SenderState& account) {
    if (by_hash_.contains(t->hash)) {
        return make_error("already known");
    }
    auto qit = senders_.find(t->sender);
    const uint64_t base = qit != senders_.end() && qit->second.base_nonce > account.nonce
                              ? qit->second.base_nonce
                              : account.nonce;
    if (t->txn.nonce < base) {
        return make_error("nonce too low: next nonce ", base, ", tx nonce ", t->txn.nonce);
    }
    if (account.balance < t->cost) {
        return make_error("insufficient funds for gas * price + value: balance ",
                          account.balance.to_string(), ", tx cost ", t->cost.to_string(),
                          ", overshot ", (t->cost - account.balance).to_string());
    }
    std::shared_ptr<const PoolTxn> old;
    if (qit != senders_.end()) {
        const auto oit = qit->second.txs.find(t->txn.nonce);
        if (oit != qit->second.txs.end()) {
            old = oit->second;
            // A blob transaction replacing one also bumps its blob fee cap.
            const bool blobs = old->txn.type == TxnType::kBlob && t->txn.type == TxnType::kBlob;
            if (!bumps_enough(old->txn.max_fee_per_gas, t->txn.max_fee_per_gas) ||
                !bumps_enough(old->txn.max_priority_fee_per_gas, t->txn.max_priority_fee_per_gas) ||
                (blobs &&
                 !bumps_enough(old->txn.max_fee_per_blob_gas, t->txn.max_fee_per_blob_gas))) {
                return make_error("replacement transaction underpriced");
            }
        }
    }
    if (t->txn.type == TxnType::kBlob && blob_txs_ >= limits_.max_blob_txs &&
        !(old && old->txn.type == TxnType::kBlob)) {
        return make_error("txpool is full");
    }
    if (!old) {
        if (pending_total_ + queued_total_ >= limits_.max_total) {
            return make_error("txpool is full");
        }
        if (qit != senders_.end()) {
            const Queue& q = qit->second;
            if (q.txs.size() >= limits_.max_per_sender) {
                return make_error("account limit exceeded");
            }
            // Would it be queued (not extending the gap-free run)? Then the queued limit applies.
            const bool extends = t->txn.nonce == q.base_nonce + q.pending;
            if (!extends && t->txn.nonce > q.base_nonce + q.pending &&
                q.txs.size() - q.pending >= limits_.max_queued_per_sender) {
                return make_error("account limit exceeded");
            }
        } else if (t->txn.nonce > base && limits_.max_queued_per_sender == 0) {
            return make_error("account limit exceeded");
        }
    }
    if (qit == senders_.end()) {
        qit = senders_.emplace(t->sender, Queue{}).first;
    }
    Queue& q = qit->second;
    const size_t queued_before = queued_of(q);
    if (q.base_nonce < base) {
        // The account moved on since this queue was last updated: drop what is now stale.
        drop_below(q, base);
    }
    q.base_nonce = base;
    Added out;
    if (old) {
        erase_hash(old->hash);
        out.replaced = old->hash;
    }
    if (t->txn.type == TxnType::kBlob) {
        ++blob_txs_;
    }
    by_hash_[t->hash] = t;
    const uint64_t nonce = t->txn.nonce;
    q.txs[nonce] = std::move(t);
    recount(q, queued_before);
    out.pending = nonce < q.base_nonce + q.pending;
    return out;
}

std::shared_ptr<const PoolTxn> Mempool::get(const Hash32& hash) const {
    const std::lock_guard lock(mu_);
    const auto it = by_hash_.find(hash);
    return it == by_hash_.end() ? nullptr : it->second;
}

bool Mempool::contains(const Hash32& hash) const {
    const std::lock_guard lock(mu_);
    return by_hash_.contains(hash);
}

uint64_t Mempool::pending_nonce(const Address& sender, uint64_t state_nonce) const {
    const std::lock_guard lock(mu_);
    const auto it = senders_.find(sender);
    if (it == senders_.end()) {
        return state_nonce;
    }
    const uint64_t next = it->second.base_nonce + it->second.pending;
    return next > state_nonce ? next : state_nonce;
}

std::vector<std::shared_ptr<const PoolTxn>> Mempool::select(
    const U256& base_fee, uint64_t gas_limit, size_t max_txs,
    const std::function<bool(const Hash32&)>& exclude, const U256& blob_base_fee,
    size_t max_blobs) const {
    struct Head {
        U256 tip;
        uint64_t arrival;  // tie-break: earlier first (deterministic; re-queued heads go last)
        const Queue* q;
        std::map<uint64_t, std::shared_ptr<const PoolTxn>>::const_iterator it;
        uint64_t left;  // pending transactions of this sender not yet taken
    };
    const auto worse = [](const Head& a, const Head& b) {
        if (a.tip != b.tip) {
            return a.tip < b.tip;
        }
        return a.arrival > b.arrival;
    };
    std::vector<std::shared_ptr<const PoolTxn>> out;
    const std::lock_guard lock(mu_);
    std::priority_queue<Head, std::vector<Head>, decltype(worse)> heap(worse);
    const auto usable = [&](const PoolTxn& t) {
        return t.txn.max_fee_per_gas >= base_fee &&
               (t.txn.type != TxnType::kBlob || t.txn.max_fee_per_blob_gas >= blob_base_fee) &&
               !(exclude && exclude(t.hash));
    };
    uint64_t order = 0;
    for (const auto& [sender, q] : senders_) {
        if (q.pending == 0) {
            continue;
        }
        const auto it = q.txs.find(q.base_nonce);
        if (it == q.txs.end() || !usable(*it->second)) {
            continue;
        }
        heap.push(Head{effective_tip(it->second->txn, base_fee), order++, &q, it, q.pending});
    }
    uint64_t gas_left = gas_limit;
    size_t blobs_left = max_blobs;
    while (!heap.empty() && out.size() < max_txs && gas_left >= 21000) {
        Head h = heap.top();
        heap.pop();
        const PoolTxn& t = *h.it->second;
        const size_t blobs = t.txn.blob_versioned_hashes.size();
        if (t.txn.gas_limit > gas_left || blobs > blobs_left) {
            continue;  // this sender's run ends here for this block
        }
        gas_left -= t.txn.gas_limit;
        blobs_left -= blobs;
        out.push_back(h.it->second);
        if (--h.left == 0) {
            continue;
        }
        ++h.it;
        if (h.it == h.q->txs.end() || !usable(*h.it->second)) {
            continue;
        }
        h.tip = effective_tip(h.it->second->txn, base_fee);
        // Behind every sender already waiting at the same tip: equal tips interleave senders
        // round-robin (A0 B0 C0 A1 B1 ...) instead of draining one sender's run, so that a block
        // does not open with chains of dependent (same-sender) transactions that Block-STM would
        // have to serialise.
        h.arrival = order++;
        heap.push(h);
    }
    return out;
}

void Mempool::clear() {
    const std::lock_guard lock(mu_);
    ++epoch_;
    senders_.clear();
    by_hash_.clear();
    blob_txs_ = 0;
    pending_total_ = 0;
    queued_total_ = 0;
}

void Mempool::on_block(const std::vector<Hash32>& mined,
                       const std::unordered_map<Address, uint64_t>& new_nonces) {
    const std::lock_guard lock(mu_);
    ++epoch_;
    for (const auto& [sender, nonce] : new_nonces) {
        const auto qit = senders_.find(sender);
        if (qit == senders_.end()) {
            continue;
        }
        Queue& q = qit->second;
        const size_t queued_before = queued_of(q);
        drop_below(q, nonce);
        q.base_nonce = nonce;
        settle(qit, queued_before);
    }
    for (const Hash32& h : mined) {
        // Normally already gone with its nonce; a transaction mined under another nonce view
        // (cannot happen with one producer) is removed here.
        if (by_hash_.contains(h)) {
            const auto t = by_hash_.at(h);
            const auto qit = senders_.find(t->sender);
            if (qit != senders_.end()) {
                erase_nonce(qit, t->txn.nonce);
            }
            erase_hash(h);
        }
    }
}

void Mempool::remove(const Hash32& hash) {
    const std::lock_guard lock(mu_);
    const auto it = by_hash_.find(hash);
    if (it == by_hash_.end()) {
        return;
    }
    const auto t = it->second;
    erase_hash(hash);
    const auto qit = senders_.find(t->sender);
    if (qit == senders_.end()) {
        return;
    }
    erase_nonce(qit, t->txn.nonce);
}

size_t Mempool::pending_count() const {
    const std::lock_guard lock(mu_);
    return pending_total_;
}
size_t Mempool::queued_count() const {
    const std::lock_guard lock(mu_);
    return queued_total_;
}
size_t Mempool::size() const {
    const std::lock_guard lock(mu_);
    return by_hash_.size();
}

Mempool::Content Mempool::content() const {
    const std::lock_guard lock(mu_);
    Content out;
    out.pending.reserve(pending_total_);
    out.queued.reserve(queued_total_);
    for (const auto* q : entries_by_key(senders_)) {
        size_t i = 0;
        for (const auto& [nonce, t] : q->second.txs) {
            (i++ < q->second.pending ? out.pending : out.queued).push_back(t);
        }
    }
    return out;
}

std::vector<std::shared_ptr<const PoolTxn>> Mempool::all() const {
    Content c = content();
    c.pending.insert(c.pending.end(), c.queued.begin(), c.queued.end());
    return std::move(c.pending);
}

}  // namespace pel::node
