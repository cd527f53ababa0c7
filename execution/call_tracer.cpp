// SPDX-License-Identifier: Apache-2.0
#include "execution/call_tracer.hpp"

#include <utility>

namespace pel::exec {

namespace {

/// geth's clearFailedLogs: a failed frame's logs, and those of every frame under it, are gone.
void clear_failed_logs(CallFrame& f, bool parent_failed) {
    const bool failed = parent_failed || f.failed();
    if (failed) {
        f.logs.clear();
    }
    for (CallFrame& c : f.calls) {
        clear_failed_logs(c, failed);
    }
}

}  // namespace

void CallTracer::on_enter(const vm::Message& msg) noexcept {
    const bool parent_static = !stack_.empty() && stack_.back().is_static;
    Open open;
    open.is_static = msg.is_static;
    open.context = msg.recipient;
    open.recorded = !(options_.only_top_call && !stack_.empty());
    if (open.recorded) {
        CallFrame& f = open.frame;
        switch (msg.kind) {
            case vm::CallKind::kCall:
                // The static flag is inherited: only the frame that set it is a STATICCALL.
                f.type = msg.is_static && !parent_static ? CallFrame::Type::kStaticCall
                                                         : CallFrame::Type::kCall;
                break;
            case vm::CallKind::kDelegateCall:
                f.type = CallFrame::Type::kDelegateCall;
                break;
            case vm::CallKind::kCallCode:
                f.type = CallFrame::Type::kCallCode;
                break;
            case vm::CallKind::kCreate:
                f.type = CallFrame::Type::kCreate;
                break;
            case vm::CallKind::kCreate2:
                f.type = CallFrame::Type::kCreate2;
                break;
        }
        // A DELEGATECALL's message keeps the parent's caller; the frame is from the account
        // whose code made the call. DELEGATECALL and CALLCODE run another account's code in the
        // caller's context: the frame goes to the code's account.
        f.from = f.type == CallFrame::Type::kDelegateCall && !stack_.empty() ? stack_.back().context
                                                                             : msg.sender;
        f.to = msg.code_address;
        if (f.type != CallFrame::Type::kStaticCall) {
            f.value = msg.value;
        }
        f.gas = msg.gas > 0 ? static_cast<uint64_t>(msg.gas) : 0;
        f.input.assign(msg.input.begin(), msg.input.end());
    }
    stack_.push_back(std::move(open));
}

void CallTracer::on_exit(const vm::Message& /*msg*/, const vm::ExecResult& result) noexcept {
    if (stack_.empty()) {
        return;
    }
    Open open = std::move(stack_.back());
    stack_.pop_back();
    if (!open.recorded) {
        return;
    }
    CallFrame& f = open.frame;
    const uint64_t left = result.gas_left > 0 ? static_cast<uint64_t>(result.gas_left) : 0;
    f.gas_used = f.gas > left ? f.gas - left : 0;
    f.status = result.status;
    if (result.status == vm::Status::kSuccess || result.status == vm::Status::kRevert) {
        f.output = result.output;
    }
    if (f.is_create()) {
        f.created = f.to;
        if (f.failed()) {
            f.to.reset();
        }
    }
    if (stack_.empty()) {
        root_ = std::move(f);
        return;
    }
    // The parent is recorded whenever this frame is (onlyTopCall records only the top).
    stack_.back().frame.calls.push_back(std::move(f));
}

void CallTracer::on_log(const Log& log) noexcept {
    if (!options_.with_log || stack_.empty() || !stack_.back().recorded) {
        return;
    }
    CallFrame& f = stack_.back().frame;
    f.logs.push_back(CallFrame::FrameLog{log, f.calls.size()});
}

void CallTracer::on_selfdestruct(const Address& addr, const Address& beneficiary,
                                 const U256& value) noexcept {
    if (options_.only_top_call || stack_.empty() || !stack_.back().recorded) {
        return;
    }
    CallFrame f;
    f.type = CallFrame::Type::kSelfDestruct;
    f.from = addr;
    f.to = beneficiary;
    f.value = value;
    stack_.back().frame.calls.push_back(std::move(f));
}

std::optional<CallFrame> CallTracer::result(uint64_t gas_limit, uint64_t gas_used) const {
    if (!root_) {
        return std::nullopt;
    }
    CallFrame top = *root_;
    top.gas = gas_limit;
    top.gas_used = gas_used;
    clear_failed_logs(top, false);
    return top;
}

}  // namespace pel::exec
