// SPDX-License-Identifier: Apache-2.0
// A scripted NodeApi for the RPC tests: fixed answers that the tests set, the last arguments
// each method saw, and hooks to fire the subscribers' callbacks.
#pragma once

#include <algorithm>
#include <map>
#include <mutex>

#include "node/api.hpp"

namespace pel::node::test {

class FakeNode final : public NodeApi {
  public:
    uint64_t chain = 31337;
    Head head_value{7, {}, 1700000000, U256(1000000000)};
    std::map<uint64_t, BlockRecord> blocks;
    std::map<Hash32, TxRecord> txs;
    std::map<Hash32, ReceiptRecord> receipts;
    std::vector<LogRecord> log_answer;
    U256 balance_value = 0;
    uint64_t nonce_value = 0;
    Bytes code_value;
    Hash32 storage_value;
    ApiResult<CallResult> call_answer = CallResult{};
    ApiResult<uint64_t> estimate_answer = uint64_t{21000};
    ApiResult<Hash32> submit_answer = Hash32{};
    ApiResult<Bytes> sign_answer = Bytes{};
    ApiResult<AccountProof> proof_answer = AccountProof{};
    ApiResult<AccessListResult> access_list_answer = AccessListResult{};
    ApiResult<std::optional<TraceResult>> trace_tx_answer = std::optional<TraceResult>();
    ApiResult<std::optional<std::vector<TxTrace>>> trace_block_answer =
        std::optional<std::vector<TxTrace>>();
    ApiResult<TraceResult> trace_call_answer = TraceResult{std::monostate{}};
    std::vector<Address> accounts_value;
    PoolContent pool_value;
    Address coinbase_value;
    Hash32 signing_key;  ///< sign_hash() signs with it for every account in accounts_value
    std::optional<BlockConflictReport> report;
    NodeMetrics metrics_value;

    // What the last calls were given.
    mutable std::mutex mu;
    mutable std::optional<BlockSelector> last_selector;
    mutable std::optional<Address> last_address;
    mutable std::optional<U256> last_slot;
    mutable std::optional<CallRequest> last_call;
    mutable std::optional<LogFilter> last_filter;
    mutable std::optional<Bytes> last_raw;
    std::vector<Bytes> submitted;  ///< raw transactions submitted, in order (emptied at 1,024)
    mutable std::optional<Hash32> last_signed_digest;
    mutable std::optional<Hash32> last_hash;
    mutable std::optional<TraceOptions> last_trace_options;
    /// The tracers of the last trace_call_each, in order.
    mutable std::vector<TraceOptions> trace_call_runs;
    mutable std::vector<U256> last_slots;
    std::optional<uint64_t> last_timestamp;
    std::vector<std::optional<uint64_t>> mined_timestamps;
    uint64_t time_offset = 0;
    uint64_t snapshots_taken = 0;
    std::vector<std::pair<Address, DevAccountChange>> account_changes;
    std::vector<std::pair<Address, bool>> impersonations;
    MiningMode mining;
    std::vector<uint64_t> reverted;
    mutable std::optional<std::vector<double>> last_percentiles;

    [[nodiscard]] uint64_t chain_id() const noexcept override { return chain; }
    [[nodiscard]] Head head() const override { return head_value; }

    [[nodiscard]] ApiResult<std::optional<BlockRecord>> block_by_number(
        BlockSelector s) const override {
        remember(s);
        const uint64_t n = s.tag == BlockTag::kNumber     ? s.number
                           : s.tag == BlockTag::kEarliest ? 0
                                                          : head_value.number;
        const auto it = blocks.find(n);
        if (it == blocks.end()) {
            return std::optional<BlockRecord>();
        }
        return std::optional<BlockRecord>(it->second);
    }
    [[nodiscard]] ApiResult<std::optional<BlockRecord>> block_by_hash(
        const Hash32& h) const override {
        for (const auto& [n, b] : blocks) {
            if (b.hash == h) {
                return std::optional<BlockRecord>(b);
            }
        }
        return std::optional<BlockRecord>();
    }
    [[nodiscard]] ApiResult<std::optional<TxRecord>> transaction_by_hash(
        const Hash32& h) const override {
        const auto it = txs.find(h);
        return it == txs.end() ? std::optional<TxRecord>() : std::optional<TxRecord>(it->second);
    }
    [[nodiscard]] ApiResult<std::optional<ReceiptRecord>> receipt_by_hash(
        const Hash32& h) const override {
        const auto it = receipts.find(h);
        return it == receipts.end() ? std::optional<ReceiptRecord>()
                                    : std::optional<ReceiptRecord>(it->second);
    }
    [[nodiscard]] ApiResult<std::vector<LogRecord>> logs(const LogFilter& f) const override {
        const std::lock_guard lock(mu);
        last_filter = f;
        return log_answer;
    }
    [[nodiscard]] ApiResult<U256> balance(const Address& a, BlockSelector s) const override {
        remember(s, a);
        return balance_value;
    }
    [[nodiscard]] ApiResult<uint64_t> nonce(const Address& a, BlockSelector s) const override {
        remember(s, a);
        return nonce_value;
    }
    [[nodiscard]] ApiResult<Bytes> code(const Address& a, BlockSelector s) const override {
        remember(s, a);
        return code_value;
    }
    [[nodiscard]] ApiResult<Hash32> storage_at(const Address& a, const U256& slot,
                                               BlockSelector s) const override {
        remember(s, a);
        const std::lock_guard lock(mu);
        last_slot = slot;
        return storage_value;
    }
    [[nodiscard]] ApiResult<AccountProof> account_proof(const Address& a,
                                                        const std::vector<U256>& slots,
                                                        BlockSelector s) const override {
        remember(s, a);
        const std::lock_guard lock(mu);
        last_slots = slots;
        return proof_answer;
    }
    [[nodiscard]] ApiResult<AccessListResult> create_access_list(const CallRequest& r,
                                                                 BlockSelector s) const override {
        remember(s);
        const std::lock_guard lock(mu);
        last_call = r;
        return access_list_answer;
    }
    [[nodiscard]] ApiResult<std::optional<TraceResult>> trace_transaction(
        const Hash32& hash, const TraceOptions& o) const override {
        const std::lock_guard lock(mu);
        last_hash = hash;
        last_trace_options = o;
        return trace_tx_answer;
    }
    [[nodiscard]] ApiResult<std::optional<std::vector<TxTrace>>> trace_block(
        BlockSelector s, const TraceOptions& o) const override {
        remember(s);
        const std::lock_guard lock(mu);
        last_trace_options = o;
        return trace_block_answer;
    }
    [[nodiscard]] ApiResult<std::vector<TraceResult>> trace_call_each(
        const CallRequest& r, BlockSelector s,
        std::span<const TraceOptions> options) const override {
        remember(s);
        const std::lock_guard lock(mu);
        last_call = r;
        trace_call_runs.assign(options.begin(), options.end());
        std::vector<TraceResult> out;
        for (const TraceOptions& o : options) {
            last_trace_options = o;
            if (!trace_call_answer) {
                return unexpected(trace_call_answer.error());
            }
            if (std::holds_alternative<std::monostate>(*trace_call_answer)) {
                // Unscripted: an empty answer of the kind the tracer gives (the real node's
                // shapes).
                if (o.tracer == TraceOptions::Tracer::kCall) {
                    out.emplace_back(exec::CallFrame{});
                    continue;
                }
                if (o.tracer == TraceOptions::Tracer::kPrestate) {
                    PrestateTrace p;
                    p.diff_mode = o.diff_mode;
                    out.emplace_back(std::move(p));
                    continue;
                }
            }
            out.push_back(*trace_call_answer);
        }
        return out;
    }
    [[nodiscard]] ApiResult<CallResult> call(const CallRequest& r, BlockSelector s) const override {
        remember(s);
        const std::lock_guard lock(mu);
        last_call = r;
        return call_answer;
    }
    [[nodiscard]] ApiResult<uint64_t> estimate_gas(const CallRequest& r,
                                                   BlockSelector s) const override {
        remember(s);
        const std::lock_guard lock(mu);
        last_call = r;
        return estimate_answer;
    }
    [[nodiscard]] U256 gas_price() const override { return U256(2000000000); }
    [[nodiscard]] U256 max_priority_fee() const override { return U256(1000000000); }
    [[nodiscard]] ApiResult<FeeHistory> fee_history(uint64_t count, BlockSelector newest,
                                                    const std::vector<double>& p) const override {
        remember(newest);
        const std::lock_guard lock(mu);
        last_percentiles = p;
        FeeHistory h;
        h.oldest_block = head_value.number + 1 - count;
        for (uint64_t i = 0; i <= count; ++i) {
            h.base_fee_per_gas.emplace_back(1000000000);
            h.base_fee_per_blob_gas.emplace_back(1);
        }
        for (uint64_t i = 0; i < count; ++i) {
            h.gas_used_ratio.push_back(0.5);
            h.blob_gas_used_ratio.push_back(0);
            h.reward.emplace_back(p.size(), U256(1000000000));
        }
        return h;
    }
    [[nodiscard]] ApiResult<Hash32> submit_raw_transaction(ByteView raw) override {
        const std::lock_guard lock(mu);
        last_raw = Bytes(raw.begin(), raw.end());
        if (submitted.size() == 1024) submitted.clear();  // bounded under the fuzzer
        submitted.push_back(*last_raw);
        return submit_answer;
    }
    [[nodiscard]] ApiResult<Hash32> send_transaction(const CallRequest& r) override {
        const std::lock_guard lock(mu);
        last_call = r;
        return submit_answer;
    }
    [[nodiscard]] ApiResult<Bytes> sign_transaction(const CallRequest& r) override {
        const std::lock_guard lock(mu);
        last_call = r;
        return sign_answer;
    }
    [[nodiscard]] std::vector<Address> accounts() const override { return accounts_value; }
    [[nodiscard]] Address coinbase() const noexcept override { return coinbase_value; }
    [[nodiscard]] PoolContent pool_content() const override { return pool_value; }
    [[nodiscard]] ApiResult<uint64_t> mine_block(std::optional<uint64_t> timestamp) override {
        const std::lock_guard lock(mu);
        last_timestamp = timestamp;
        mined_timestamps.push_back(timestamp);
        return uint64_t{7};
    }
    [[nodiscard]] ApiResult<uint64_t> increase_time(uint64_t seconds) override {
        const std::lock_guard lock(mu);
        time_offset += seconds;
        return time_offset;
    }
    [[nodiscard]] ApiResult<void> set_next_block_timestamp(uint64_t timestamp) override {
        const std::lock_guard lock(mu);
        last_timestamp = timestamp;
        return {};
    }
    [[nodiscard]] ApiResult<void> set_account(const Address& addr,
                                              const DevAccountChange& change) override {
        const std::lock_guard lock(mu);
        account_changes.emplace_back(addr, change);
        return {};
    }
    [[nodiscard]] ApiResult<void> set_mining(std::optional<bool> automine,
                                             std::optional<double> interval_s) override {
        const std::lock_guard lock(mu);
        if (automine) mining.automine = *automine;
        if (interval_s) mining.interval_s = *interval_s;
        return {};
    }
    [[nodiscard]] MiningMode mining_mode() const override {
        const std::lock_guard lock(mu);
        return mining;
    }
    [[nodiscard]] ApiResult<void> impersonate(const Address& addr, bool on) override {
        const std::lock_guard lock(mu);
        impersonations.emplace_back(addr, on);
        return {};
    }
    [[nodiscard]] ApiResult<uint64_t> snapshot() override {
        const std::lock_guard lock(mu);
        return ++snapshots_taken;
    }
    [[nodiscard]] ApiResult<bool> revert(uint64_t id) override {
        const std::lock_guard lock(mu);
        reverted.push_back(id);
        return id != 0 && id <= snapshots_taken;
    }
    /// Signs with `signing_key` for any account in accounts_value (the real node: its dev keys).
    [[nodiscard]] ApiResult<crypto::Signature> sign_hash(const Address& account,
                                                         const Hash32& digest) const override {
        const std::lock_guard lock(mu);
        if (std::find(accounts_value.begin(), accounts_value.end(), account) ==
            accounts_value.end()) {
            return unexpected(ApiError{ApiErrorKind::kRejected, "unknown account", {}});
        }
        last_signed_digest = digest;
        auto sig = crypto::sign(digest, signing_key);
        if (!sig) {
            return unexpected(ApiError{ApiErrorKind::kInternal, sig.error().message, {}});
        }
        return *sig;
    }

    [[nodiscard]] SubscriptionId subscribe(Subscriber s) override {
        const std::lock_guard lock(mu);
        subs_.emplace(++next_id_, std::move(s));
        return next_id_;
    }
    void unsubscribe(SubscriptionId id) override {
        const std::lock_guard lock(mu);
        subs_.erase(id);
    }
    [[nodiscard]] ApiResult<std::optional<BlockConflictReport>> conflict_report(
        BlockSelector s) const override {
        remember(s);
        return report;
    }
    [[nodiscard]] NodeMetrics metrics() const override { return metrics_value; }

    /// Fires every subscriber's on_block / on_pending.
    void fire_block(const NewBlockEvent& ev) {
        for (auto& s : subscribers()) {
            if (s.on_block) s.on_block(ev);
        }
    }
    void fire_pending(const Hash32& h) {
        for (auto& s : subscribers()) {
            if (s.on_pending) s.on_pending(h);
        }
    }
    [[nodiscard]] size_t subscriber_count() const {
        const std::lock_guard lock(mu);
        return subs_.size();
    }

  private:
    void remember(BlockSelector s, std::optional<Address> a = std::nullopt) const {
        const std::lock_guard lock(mu);
        last_selector = s;
        if (a) last_address = a;
    }
    std::vector<Subscriber> subscribers() const {
        const std::lock_guard lock(mu);
        std::vector<Subscriber> out;
        for (const auto& [id, s] : subs_) out.push_back(s);
        return out;
    }
    std::map<SubscriptionId, Subscriber> subs_;
    SubscriptionId next_id_ = 0;
};

}  // namespace pel::node::test
