// SPDX-License-Identifier: Apache-2.0
#include "execution/struct_logger.hpp"

#include <utility>

namespace pel::exec {

namespace {
constexpr uint8_t kSload = 0x54;
constexpr uint8_t kSstore = 0x55;
constexpr uint8_t kCreate = 0xf0;
constexpr uint8_t kCreate2 = 0xf5;
}  // namespace

void StructLogger::finish_pending(Frame& f, int64_t gas_now, const U256* top) noexcept {
    if (!f.pending) {
        return;
    }
    StructLog& log = logs_[*f.pending];
    // What the instruction charged: the gas it took from the frame, less what its children gave
    // back; a create's forwarded gas is not part of its cost (geth).
    int64_t cost = f.pending_gas - gas_now + static_cast<int64_t>(f.child_left);
    if (f.pending_op == kCreate || f.pending_op == kCreate2) {
        cost -= static_cast<int64_t>(f.child_gas);
    }
    log.gas_cost = cost > 0 ? static_cast<uint64_t>(cost) : 0;
    if (f.sload_pending && top != nullptr) {
        auto& slots = storage_[f.context];
        slots.insert_or_assign(f.sload_key, *top);
        log.storage = slots;
        bytes_ += slots.size() * 2 * sizeof(U256);
    }
    f.pending.reset();
    f.sload_pending = false;
    f.child_left = 0;
    f.child_gas = 0;
}

void StructLogger::on_enter(const vm::Message& msg) noexcept {
    const auto d = static_cast<size_t>(msg.depth) + 1;
    if (frames_.size() <= d) {
        frames_.resize(d + 1);
    }
    frames_[d] = Frame{};
}

void StructLogger::on_exit(const vm::Message& msg, const vm::ExecResult& result) noexcept {
    const auto d = static_cast<size_t>(msg.depth) + 1;
    if (d < frames_.size()) {
        Frame& f = frames_[d];
        const std::optional<size_t> last = f.pending;
        // The code deposit of a successful create is charged after its last instruction (geth
        // does not count it in that instruction's cost); its output is the deployed code.
        int64_t left = result.gas_left;
        const bool create = msg.kind == vm::CallKind::kCreate || msg.kind == vm::CallKind::kCreate2;
        if (create && result.status == vm::Status::kSuccess) {
            left += static_cast<int64_t>(result.output.size()) * kCodeDepositGasPerByte;
        }
        finish_pending(f, left, nullptr);
        if (last && result.status != vm::Status::kSuccess && result.status != vm::Status::kRevert) {
            logs_[*last].error = result.status;  // the instruction the frame failed on
        }
    }
    if (msg.depth == 0) {
        output_ = result.output;
        return;
    }
    if (d - 1 < frames_.size()) {
        Frame& parent = frames_[d - 1];
        parent.child_left += result.gas_left > 0 ? static_cast<uint64_t>(result.gas_left) : 0;
        parent.child_gas += msg.gas > 0 ? static_cast<uint64_t>(msg.gas) : 0;
    }
}

void StructLogger::on_step(const vm::Step& step) noexcept {
    const auto d = static_cast<size_t>(step.depth) + 1;
    if (frames_.size() <= d) {
        frames_.resize(d + 1);
    }
    Frame& f = frames_[d];
    finish_pending(f, step.gas, step.stack.empty() ? nullptr : &step.stack.back());
    f.refund = step.refund;
    if ((options_.limit != 0 && logs_.size() >= options_.limit) || truncated_) {
        return;
    }
    size_t size = sizeof(StructLog);
    size += options_.disable_stack ? 0 : step.stack.size() * sizeof(U256);
    size += options_.enable_memory ? step.memory.size() : 0;
    size += options_.enable_return_data ? step.return_data.size() : 0;
    if (options_.max_bytes != 0 && bytes_ + size > options_.max_bytes) {
        truncated_ = true;
        return;
    }
    bytes_ += size;
    StructLog log;
    log.pc = step.pc;
    log.op = step.op;
    log.gas = step.gas > 0 ? static_cast<uint64_t>(step.gas) : 0;
    log.depth = static_cast<int32_t>(d);
    if (!options_.disable_stack) {
        log.stack.emplace(step.stack.begin(), step.stack.end());
    }
    if (options_.enable_memory) {
        log.memory.emplace(step.memory.begin(), step.memory.end());
    }
    if (options_.enable_return_data) {
        log.return_data.assign(step.return_data.begin(), step.return_data.end());
    }
    // The transaction's refund counter: every open frame's own (a child's joins its parent's
    // when it returns successfully).
    int64_t refund = 0;
    for (size_t k = 1; k <= d; ++k) {
        refund += frames_[k].refund;
    }
    log.refund = refund > 0 ? static_cast<uint64_t>(refund) : 0;
    f.context = step.msg != nullptr ? step.msg->recipient : Address{};
    if (!options_.disable_storage && step.stack.size() >= 1) {
        const U256& key = step.stack.back();
        if (step.op == kSload) {
            f.sload_pending = true;
            f.sload_key = key;
        } else if (step.op == kSstore && step.stack.size() >= 2) {
            auto& slots = storage_[f.context];
            slots.insert_or_assign(key, step.stack[step.stack.size() - 2]);
            log.storage = slots;
            bytes_ += slots.size() * 2 * sizeof(U256);
        }
    }
    f.pending = logs_.size();
    f.pending_gas = step.gas;
    f.pending_op = step.op;
    logs_.push_back(std::move(log));
}

StructTrace StructLogger::result(bool success, uint64_t gas_used) {
    StructTrace out;
    out.gas = gas_used;
    out.failed = !success;
    out.return_value = std::move(output_);
    out.logs = std::move(logs_);
    out.truncated = truncated_;
    return out;
}

}  // namespace pel::exec
