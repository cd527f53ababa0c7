// SPDX-License-Identifier: Apache-2.0
// What debug_trace* runs a transaction with (node::Node's replay and debug_traceCall): a tracer
// that feeds two, the reader of a block being replayed over its parent's state,
// prestateTracer's recorder, and TraceRun, which sets up the tracer the options name and turns
// what it saw into the answer. Internal to the node core.
//
// Thread safety: each object serves one replay or call on one thread.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "execution/call_tracer.hpp"
#include "execution/host.hpp"
#include "execution/state_reader.hpp"
#include "execution/struct_logger.hpp"
#include "execution/txn_state.hpp"
#include "node/api.hpp"
#include "primitives/bytes.hpp"
#include "primitives/hash.hpp"
#include "primitives/u256.hpp"
#include "vm/host.hpp"

namespace pel::node {

/// Passes every frame event on to two tracers (run_call's own and a debug_traceCall tracer).
class TeeTracer final : public exec::FrameTracer {
  public:
    TeeTracer(exec::FrameTracer& a, exec::FrameTracer& b) : a_(a), b_(b) {}
    void on_enter(const vm::Message& msg) noexcept override {
        a_.on_enter(msg);
        b_.on_enter(msg);
    }
    void on_exit(const vm::Message& msg, const vm::ExecResult& result) noexcept override {
        a_.on_exit(msg, result);
        b_.on_exit(msg, result);
    }
    void on_log(const exec::Log& log) noexcept override {
        a_.on_log(log);
        b_.on_log(log);
    }
    void on_selfdestruct(const Address& addr, const Address& beneficiary,
                         const U256& value) noexcept override {
        a_.on_selfdestruct(addr, beneficiary, value);
        b_.on_selfdestruct(addr, beneficiary, value);
    }
    /// The one step tracer among the two (at most one of them has one).
    [[nodiscard]] vm::StepTracer* step_tracer() noexcept override {
        vm::StepTracer* a = a_.step_tracer();
        return a != nullptr ? a : b_.step_tracer();
    }

  private:
    exec::FrameTracer& a_;
    exec::FrameTracer& b_;
};

/// A block being replayed for debug_trace*: the parent's state with the write sets of the
/// transactions replayed so far over it. One thread.
class ReplayReader final : public exec::StateReader {
  public:
    explicit ReplayReader(exec::StateReader& base) : base_(base) {}
    [[nodiscard]] std::optional<exec::AccountInfo> read_account(
        const Address& addr) noexcept override {
        if (const auto it = accounts_.find(addr); it != accounts_.end()) {
            return it->second.info;
        }
        return base_.read_account(addr);
    }
    [[nodiscard]] U256 read_storage(const Address& addr, const U256& key) noexcept override {
        if (const auto it = accounts_.find(addr); it != accounts_.end()) {
            const Entry& e = it->second;
            if (!e.info) {
                return U256{};
            }
            if (const auto v = e.storage.find(key); v != e.storage.end()) {
                return v->second;
            }
            if (e.cleared) {
                return U256{};
            }
        }
        return base_.read_storage(addr, key);
    }
    // A slot zeroed by an earlier transaction of the block still counts if the parent's state
    // has it (the EIP-7610 collision check of a create over such an account); a replay that
    // differs from the stored receipts is reported by the caller.
    [[nodiscard]] bool has_storage(const Address& addr) noexcept override {
        if (const auto it = accounts_.find(addr); it != accounts_.end()) {
            const Entry& e = it->second;
            if (!e.info) {
                return false;
            }
            for (const auto& [k, v] : e.storage) {
                if (!v.is_zero()) {
                    return true;
                }
            }
            if (e.cleared) {
                return false;
            }
        }
        return base_.has_storage(addr);
    }
    [[nodiscard]] ByteView read_code(const Hash32& code_hash) noexcept override {
        if (const auto it = codes_.find(code_hash); it != codes_.end()) {
            return it->second;
        }
        return base_.read_code(code_hash);
    }
    /// Applies a replayed transaction's writes.
    void apply(const exec::TxnWrites& writes) {
        for (const exec::AccountWrite& w : writes.accounts) {
            Entry& e = accounts_[w.address];
            if (w.deleted || w.storage_cleared) {
                e.cleared = true;
                e.storage.clear();
            }
            if (w.deleted) {
                e.info.reset();
                continue;
            }
            e.info = w.info;
            if (w.code) {
                codes_.try_emplace(w.info.code_hash, *w.code);  // node-based: views stay valid
            }
            for (const exec::StorageWrite& sw : w.storage) {
                e.storage.insert_or_assign(sw.key, sw.value);
            }
        }
    }

  private:
    struct Entry {
        std::optional<exec::AccountInfo> info;  ///< nullopt: deleted
        bool cleared = false;                   ///< the parent's slots are gone
        std::unordered_map<U256, U256> storage;
    };
    exec::StateReader& base_;
    std::unordered_map<Address, Entry> accounts_;
    std::unordered_map<Hash32, Bytes> codes_;
};

/// prestateTracer's recorder: passes reads through and keeps the first answer for every account
/// and slot, i.e. the values before the transaction (a transaction reads each once, on first
/// access). As a tracer it also looks up what geth's tracer looks up without the state being read
/// (the target of every call, precompiles included, even when the frame's changes are undone) and
/// notes self-destructing contracts (geth's diff mode leaves them out of `post`).
class PrestateRecorder final : public exec::StateReader, public exec::FrameTracer {
  public:
    explicit PrestateRecorder(exec::StateReader& base) : base_(base) {}
    void on_enter(const vm::Message& msg) noexcept override {
        note(msg.code_address);
        note(msg.recipient);
        if (msg.kind == vm::CallKind::kCreate || msg.kind == vm::CallKind::kCreate2) {
            created_.insert(msg.recipient);
        }
    }
    void on_exit(const vm::Message& /*msg*/, const vm::ExecResult& /*result*/) noexcept override {}
    void on_selfdestruct(const Address& addr, const Address& beneficiary,
                         const U256& /*value*/) noexcept override {
        note(beneficiary);
        destructed_.insert(addr);
    }
    [[nodiscard]] std::optional<exec::AccountInfo> read_account(
        const Address& addr) noexcept override {
        auto a = base_.read_account(addr);
        accounts_.try_emplace(addr, a);
        return a;
    }
    [[nodiscard]] U256 read_storage(const Address& addr, const U256& key) noexcept override {
        if (!accounts_.contains(addr)) {
            accounts_.emplace(addr, base_.read_account(addr));
        }
        const U256 v = base_.read_storage(addr, key);
        slots_[addr].try_emplace(key, v);
        return v;
    }
    [[nodiscard]] bool has_storage(const Address& addr) noexcept override {
        return base_.has_storage(addr);
    }
    [[nodiscard]] ByteView read_code(const Hash32& code_hash) noexcept override {
        return base_.read_code(code_hash);
    }

    /// geth's prestateTracer answer, given the transaction's write set: every account read (and
    /// its slots read) as it was before, less the contracts the transaction created where nothing
    /// was; in diff mode, pre and post of what changed (eth/tracers/native/prestate.go).
    [[nodiscard]] PrestateTrace result(const exec::TxnWrites& writes, const TraceOptions& o) {
        std::unordered_map<Address, const exec::AccountWrite*> written;
        for (const exec::AccountWrite& w : writes.accounts) {
            written.emplace(w.address, &w);
        }
        PrestateTrace out;
        out.diff_mode = o.diff_mode;
        for (const auto& [addr, info] : accounts_) {
            Pre a = account(info, o);
            if (!o.disable_storage) {
                if (const auto it = slots_.find(addr); it != slots_.end()) {
                    for (const auto& [k, v] : it->second) {
                        a.storage.emplace(k.to_hash(), v.to_hash());
                    }
                }
            }
            const auto w = written.find(addr);
            const exec::AccountWrite* wr = w == written.end() ? nullptr : w->second;
            const bool destructed = destructed_.contains(addr) || (wr != nullptr && wr->deleted);
            // A contract the transaction created (or tried to) where nothing was before has no
            // prestate; in diff mode what it holds afterwards is its post state.
            if (created_.contains(addr) && (!info || info->is_empty())) {
                if (o.diff_mode && wr != nullptr && !destructed) {
                    out.post.emplace(addr, post_account(a, *wr, o, true));
                }
                continue;
            }
            if (!o.diff_mode) {
                out.pre.emplace(addr, std::move(a));
                continue;
            }
            if (destructed) {
                out.pre.emplace(addr, std::move(a));  // deleted: in pre only
                continue;
            }
            if (wr == nullptr) {
                continue;  // unchanged
            }
            PrestateAccount post = post_account(a, *wr, o, false);
            const bool modified =
                post.balance || post.nonce || post.code || !post.storage.empty() || a.changed;
            if (modified) {
                out.pre.emplace(addr, std::move(a));
                out.post.emplace(addr, std::move(post));
            }
        }
        return out;
    }

  private:
    struct Pre : PrestateAccount {
        Hash32 code_hash = kEmptyCodeHash;
        bool changed = false;  ///< a slot changed (set by post_account)
    };
    Pre account(const std::optional<exec::AccountInfo>& info, const TraceOptions& o) {
        Pre a;
        a.balance = info ? info->balance : U256{};
        if (info && info->nonce != 0) {
            a.nonce = info->nonce;
        }
        if (info) {
            a.code_hash = info->code_hash;
        }
        if (!o.disable_code && info && info->code_hash != kEmptyCodeHash) {
            const ByteView code = base_.read_code(info->code_hash);
            a.code = Bytes(code.begin(), code.end());
        }
        return a;
    }
    /// The changed fields after the transaction; in `a`, drops the slots that did not change
    /// (and zero ones), as geth's diff mode does.
    PrestateAccount post_account(Pre& a, const exec::AccountWrite& w, const TraceOptions& o,
                                 bool created) {
        PrestateAccount p;
        if (w.info.balance != a.balance.value_or(U256{})) {
            p.balance = w.info.balance;
        }
        if (w.info.nonce != a.nonce.value_or(0)) {
            p.nonce = w.info.nonce;
        }
        if (!o.disable_code && w.info.code_hash != a.code_hash) {
            const ByteView code = w.code ? ByteView(*w.code) : base_.read_code(w.info.code_hash);
            p.code = Bytes(code.begin(), code.end());
        }
        if (o.disable_storage) {
            return p;
        }
        std::unordered_map<U256, U256> after;
        for (const exec::StorageWrite& sw : w.storage) {
            after.emplace(sw.key, sw.value);
        }
        if (created) {
            for (const auto& [k, v] : after) {
                if (!v.is_zero()) {
                    p.storage.emplace(k.to_hash(), v.to_hash());
                }
            }
            return p;
        }
        for (auto it = a.storage.begin(); it != a.storage.end();) {
            const U256 before = U256::from_hash(it->second);
            const U256 key = U256::from_hash(it->first);
            U256 now = before;
            if (const auto f = after.find(key); f != after.end()) {
                now = f->second;
            } else if (w.storage_cleared) {
                now = U256{};
            }
            if (now != before) {
                a.changed = true;
                if (!now.is_zero()) {
                    p.storage.emplace(it->first, now.to_hash());
                }
            }
            if (now == before || before.is_zero()) {
                it = a.storage.erase(it);
            } else {
                ++it;
            }
        }
        return p;
    }

    void note(const Address& addr) {
        if (!accounts_.contains(addr)) {
            accounts_.emplace(addr, base_.read_account(addr));
        }
    }

    exec::StateReader& base_;
    std::unordered_map<Address, std::optional<exec::AccountInfo>> accounts_;
    std::unordered_map<Address, std::map<U256, U256>> slots_;
    std::unordered_set<Address> destructed_;
    std::unordered_set<Address> created_;
};

/// What one opcode-logger trace may hold (stack, memory and storage copies) before it is refused:
/// its JSON is a few times larger, and geth's only bound is a timeout.
inline constexpr size_t kMaxStructLogBytes = size_t{128} << 20;

/// One traced transaction: the tracer `options` name, over `base`. Run the transaction with
/// reader() and tracer(), then ask result().
class TraceRun {
  public:
    TraceRun(const TraceOptions& options, exec::StateReader& base)
        : options_(options), base_(base) {
        switch (options.tracer) {
            case TraceOptions::Tracer::kCall:
                tracer_ = &calls_.emplace(options.call);
                break;
            case TraceOptions::Tracer::kStruct: {
                exec::StructLogger::Options o = options.logger;
                o.max_bytes = kMaxStructLogBytes;
                tracer_ = &steps_.emplace(o);
                break;
            }
            case TraceOptions::Tracer::kPrestate:
                tracer_ = &prestate_.emplace(base);
                break;
            case TraceOptions::Tracer::kNoop:
                break;
        }
    }
    TraceRun(const TraceRun&) = delete;
    TraceRun& operator=(const TraceRun&) = delete;
    TraceRun(TraceRun&&) = delete;
    TraceRun& operator=(TraceRun&&) = delete;
    ~TraceRun() = default;

    /// The reader to run the transaction on (the prestate recorder reads through to `base`).
    [[nodiscard]] exec::StateReader& reader() noexcept {
        return prestate_ ? static_cast<exec::StateReader&>(*prestate_) : base_;
    }
    /// The tracer to run it with (null for noopTracer).
    [[nodiscard]] exec::FrameTracer* tracer() noexcept { return tracer_; }

    /// The answer, given what the transaction did: its write set, outcome, gas limit (callTracer's
    /// top frame), gas used and intrinsic gas (TraceOptions::parity_gas). Errors: an opcode-logger
    /// trace past its size bound (kRejected).
    [[nodiscard]] ApiResult<TraceResult> result(const exec::TxnWrites& writes, bool success,
                                                uint64_t gas_limit, uint64_t gas_used,
                                                uint64_t intrinsic_gas) {
        if (calls_) {
            if (options_.parity_gas) {
                gas_limit -= std::min(gas_limit, intrinsic_gas);
                gas_used -= std::min(gas_used, intrinsic_gas);
            }
            auto frame = calls_->result(gas_limit, gas_used);
            if (!frame) {
                return unexpected(
                    ApiError{ApiErrorKind::kInternal, "the transaction entered no frame", {}});
            }
            return TraceResult(std::move(*frame));
        }
        if (steps_) {
            auto t = steps_->result(success, gas_used);
            if (t.truncated) {
                return unexpected(ApiError{
                    ApiErrorKind::kRejected,
                    "trace too large: the opcode logger stopped after " +
                        std::to_string(t.logs.size()) + " steps (" +
                        std::to_string(kMaxStructLogBytes >> 20) +
                        " MiB); pass \"limit\", \"disableStack\": true or \"enableMemory\": false, "
                        "or use the callTracer",
                    {}});
            }
            return TraceResult(std::move(t));
        }
        if (prestate_) {
            return TraceResult(prestate_->result(writes, options_));
        }
        return TraceResult(std::monostate{});
    }

  private:
    const TraceOptions& options_;
    exec::StateReader& base_;
    std::optional<exec::CallTracer> calls_;
    std::optional<exec::StructLogger> steps_;
    std::optional<PrestateRecorder> prestate_;
    exec::FrameTracer* tracer_ = nullptr;
};

}  // namespace pel::node
