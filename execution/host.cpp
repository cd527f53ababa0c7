// SPDX-License-Identifier: Apache-2.0
#include "execution/host.hpp"

#include <string>
#include <utility>

#include "primitives/keccak.hpp"
#include "primitives/rlp.hpp"
#include "vm/precompiles.hpp"
#include "vm/vm.hpp"

namespace pel::exec {

namespace {

Address address_from_hash(const Hash32& h) noexcept {
    return Address::from_view_padded(ByteView{h.data() + 12, 20});
}

vm::ExecResult failed(vm::Status status, int64_t gas_left) noexcept {
    vm::ExecResult r;
    r.status = status;
    r.gas_left = gas_left;
    return r;
}

/// The address a CREATE or CREATE2 message makes, its sender's nonce being `nonce`.
Address new_address(const vm::Message& msg, uint64_t nonce) noexcept {
    return msg.kind == vm::CallKind::kCreate ? create_address(msg.sender, nonce)
                                             : create2_address(msg.sender, msg.salt, msg.input);
}

}  // namespace

Hash32 StateTestBlockHashes::block_hash(int64_t block_num) const noexcept {
    const std::string text = std::to_string(block_num);
    return keccak256(as_bytes(text));
}

Address create_address(const Address& sender, uint64_t nonce) noexcept {
    Bytes payload;
    rlp::encode_bytes(payload, sender.view());
    rlp::encode_uint(payload, nonce);
    Bytes encoded;
    rlp::encode_list(encoded, payload);
    return address_from_hash(keccak256(encoded));
}

Address create2_address(const Address& sender, const Hash32& salt, ByteView initcode) noexcept {
    const Hash32 code_hash = keccak256(initcode);
    Keccak256 h;
    const uint8_t prefix = 0xff;
    h.update(ByteView{&prefix, 1});
    h.update(sender.view());
    h.update(salt.view());
    h.update(code_hash.view());
    return address_from_hash(h.finalize());
}

bool Host::account_exists(const Address& addr) noexcept { return state_.is_live(addr); }

U256 Host::get_balance(const Address& addr) noexcept { return state_.balance(addr); }

size_t Host::get_code_size(const Address& addr) noexcept { return state_.code(addr).size(); }

Hash32 Host::get_code_hash(const Address& addr) noexcept {
    // EIP-1052 with EIP-161: an empty account does not exist and hashes to zero.
    return state_.is_live(addr) ? state_.code_hash(addr) : Hash32{};
}

ByteView Host::get_code(const Address& addr) noexcept { return state_.code(addr); }

U256 Host::get_storage(const Address& addr, const U256& key) noexcept {
    return state_.storage(addr, key);
}

vm::StorageStatus Host::set_storage(const Address& addr, const U256& key,
                                    const U256& value) noexcept {
    return state_.set_storage(addr, key, value);
}

U256 Host::get_transient_storage(const Address& addr, const U256& key) noexcept {
    return state_.transient_storage(addr, key);
}

void Host::set_transient_storage(const Address& addr, const U256& key, const U256& value) noexcept {
    state_.set_transient_storage(addr, key, value);
}

bool Host::selfdestruct(const Address& addr, const Address& beneficiary) noexcept {
    // EIP-6780: the balance always moves (to itself is a no-op); the account is only deleted,
    // and a balance sent to itself burned, when it was created in this transaction.
    const U256 bal = state_.balance(addr);
    if (tracer_ != nullptr) {
        tracer_->on_selfdestruct(addr, beneficiary, bal);
    }
    state_.sub_balance(addr, bal);
    state_.add_balance(beneficiary, bal);
    if (!state_.is_created(addr)) {
        return false;
    }
    state_.set_balance(addr, U256{});
    return state_.mark_destructed(addr);
}

vm::ExecResult Host::call(const vm::Message& msg) noexcept {
    if (msg.kind == vm::CallKind::kCreate || msg.kind == vm::CallKind::kCreate2) {
        return create(msg);
    }
    return call_frame(msg);
}

void Host::call_failed(const vm::Message& msg, vm::Status status) noexcept {
    if (tracer_ == nullptr) {
        return;
    }
    vm::Message frame = msg;
    if (msg.kind == vm::CallKind::kCreate || msg.kind == vm::CallKind::kCreate2) {
        frame.recipient = new_address(msg, state_.nonce(msg.sender));
        frame.code_address = frame.recipient;
    }
    tracer_->on_enter(frame);
    tracer_->on_exit(frame, failed(status, msg.gas));
}

vm::ExecResult Host::failed_early(const vm::Message& msg, vm::Status status) noexcept {
    call_failed(msg, status);
    return failed(status, msg.gas);
}

vm::ExecResult Host::call_frame(const vm::Message& msg) noexcept {
    if (msg.depth > vm::kMaxCallDepth) {
        return failed_early(msg, vm::Status::kCallDepthExceeded);
    }
    const bool transfers = msg.kind == vm::CallKind::kCall && !msg.value.is_zero();
    if ((transfers || msg.kind == vm::CallKind::kCallCode) &&
        state_.balance(msg.sender) < msg.value) {
        return failed_early(msg, vm::Status::kInsufficientBalance);
    }

    if (tracer_ != nullptr) {
        tracer_->on_enter(msg);
    }
    const size_t snap = state_.snapshot();
    if (msg.kind == vm::CallKind::kCall) {
        // EIP-161: the callee is touched even by a zero-value call (STATICCALL included); a
        // touched empty account is deleted at the end of the transaction.
        if (transfers) {
            state_.sub_balance(msg.sender, msg.value);
            state_.add_balance(msg.recipient, msg.value);
        } else {
            state_.touch(msg.recipient);
        }
    }

    vm::ExecResult res;
    if (vm::is_precompile(msg.code_address)) {
        vm::PrecompileResult pr = vm::run_precompile(msg.code_address, msg.input, msg.gas);
        if (pr.success) {
            res.status = vm::Status::kSuccess;
            res.gas_left = pr.gas_left;
            res.output = std::move(pr.output);
        } else {
            res.status = vm::Status::kPrecompileFailure;
            res.gas_left = 0;
        }
    } else {
        const ByteView code = state_.code(msg.code_address);
        if (code.empty()) {
            res.status = vm::Status::kSuccess;
            res.gas_left = msg.gas;
        } else {
            const Hash32 code_hash = state_.code_hash(msg.code_address);
            res = vm_.execute(*this, msg, code, &code_hash);
        }
    }

    if (res.status != vm::Status::kSuccess) {
        state_.revert(snap);
        res.gas_refund = 0;
        if (vm::consumes_all_gas(res.status)) {
            res.gas_left = 0;
        }
    }
    if (tracer_ != nullptr) {
        tracer_->on_exit(msg, res);
    }
    return res;
}

vm::ExecResult Host::create(const vm::Message& msg) noexcept {
    if (msg.depth > vm::kMaxCallDepth) {
        return failed_early(msg, vm::Status::kCallDepthExceeded);
    }
    if (state_.balance(msg.sender) < msg.value) {
        return failed_early(msg, vm::Status::kInsufficientBalance);
    }
    const uint64_t nonce = state_.nonce(msg.sender);
    // EIP-2681: the creator's nonce cannot pass 2^64-1; the create fails, keeping the gas.
    if (nonce == UINT64_MAX) {
        return failed_early(msg, vm::Status::kArgumentOutOfRange);
    }
    state_.set_nonce(msg.sender, nonce + 1);
    return create_at(msg, new_address(msg, nonce));
}

vm::ExecResult Host::create_at(const vm::Message& msg, const Address& addr) noexcept {
    vm::Message frame = msg;
    frame.recipient = addr;
    frame.code_address = addr;
    if (tracer_ != nullptr) {
        tracer_->on_enter(frame);
    }
    // The init code is the frame's code; its call data is empty.
    frame.input = {};
    vm::ExecResult res = create_frame(frame, msg.input);
    if (tracer_ != nullptr) {
        frame.input = msg.input;
        tracer_->on_exit(frame, res);  // a successful frame's output is the deployed code
    }
    if (res.status == vm::Status::kSuccess) {
        res.output.clear();  // CREATE leaves no return data (EIP-211)
    }
    return res;
}

vm::ExecResult Host::create_frame(const vm::Message& frame, ByteView initcode) noexcept {
    const Address& addr = frame.recipient;
    // EIP-2929: the new address is warm even if the create fails.
    state_.access_account(addr);

    // EIP-684 and EIP-7610: creating over an account with a nonce, code or storage fails and
    // consumes all gas.
    if (state_.nonce(addr) != 0 || state_.code_hash(addr) != kEmptyCodeHash ||
        state_.has_storage(addr)) {
        return failed(vm::Status::kFailure, 0);
    }

    const size_t snap = state_.snapshot();
    // EIP-161: a new contract starts with nonce 1.
    state_.create_account(addr, 1);
    if (!frame.value.is_zero()) {
        state_.sub_balance(frame.sender, frame.value);
        state_.add_balance(addr, frame.value);
    }

    vm::ExecResult res = vm_.execute(*this, frame, initcode, nullptr);

    if (res.status == vm::Status::kSuccess) {
        const Bytes& code = res.output;
        vm::Status deposit = vm::Status::kSuccess;
        // EIP-170 caps the code size; EIP-3541 reserves the 0xEF first byte (EOF).
        if (code.size() > vm::kMaxCodeSize || (!code.empty() && code[0] == 0xEF)) {
            deposit = vm::Status::kContractValidationFailure;
        } else {
            const int64_t cost = static_cast<int64_t>(code.size()) * kCodeDepositGasPerByte;
            if (cost > res.gas_left) {
                deposit = vm::Status::kOutOfGas;
            } else {
                res.gas_left -= cost;
                state_.set_code(addr, code);
            }
        }
        if (deposit != vm::Status::kSuccess) {
            state_.revert(snap);
            return failed(deposit, 0);
        }
        res.create_address = addr;  // res.output (the code) is cleared by create_at
        return res;
    }

    state_.revert(snap);
    res.gas_refund = 0;
    if (vm::consumes_all_gas(res.status)) {
        res.gas_left = 0;
    }
    return res;
}

Hash32 Host::get_block_hash(int64_t block_number) noexcept {
    return block_hashes_ != nullptr ? block_hashes_->block_hash(block_number) : Hash32{};
}

void Host::emit_log(const Address& addr, ByteView data, std::span<const Hash32> topics) noexcept {
    Log log{addr, {topics.begin(), topics.end()}, {data.begin(), data.end()}};
    if (tracer_ != nullptr) {
        tracer_->on_log(log);
    }
    state_.add_log(std::move(log));
}

vm::AccessStatus Host::access_account(const Address& addr) noexcept {
    // EIP-2929: the precompiles are warm from the start of every transaction; answering here
    // spares each transaction ten warm-set insertions.
    if (is_warm_precompile(addr)) {
        return vm::AccessStatus::kWarm;
    }
    return state_.access_account(addr);
}

vm::AccessStatus Host::access_storage(const Address& addr, const U256& key) noexcept {
    return state_.access_storage(addr, key);
}

}  // namespace pel::exec
