// SPDX-License-Identifier: Apache-2.0
// exec::Host: vm::Host over a TxnState. It runs nested frames (CALL family, CREATE/CREATE2,
// precompiles) with snapshot/revert, and answers the VM's state and environment queries.
//
// Thread safety: not thread safe; one Host per transaction execution (like TxnState).
#pragma once

#include <cstddef>
#include <cstdint>

#include "execution/txn_state.hpp"
#include "primitives/bytes.hpp"
#include "primitives/hash.hpp"
#include "primitives/u256.hpp"
#include "vm/host.hpp"

namespace pel::vm {
class Vm;
}  // namespace pel::vm

namespace pel::exec {

/// Source of BLOCKHASH answers. The VM has already checked the 256-block window.
class BlockHashSource {
  public:
    BlockHashSource() = default;
    virtual ~BlockHashSource() = default;
    BlockHashSource(const BlockHashSource&) = delete;
    BlockHashSource& operator=(const BlockHashSource&) = delete;
    BlockHashSource(BlockHashSource&&) = delete;
    BlockHashSource& operator=(BlockHashSource&&) = delete;
    [[nodiscard]] virtual Hash32 block_hash(int64_t block_num) const noexcept = 0;
};

/// The block hashes of the Ethereum state tests: keccak256 of the block number written in
/// decimal ASCII (what go-ethereum's and evmone's state-test runners use). Thread safe.
class StateTestBlockHashes final : public BlockHashSource {
  public:
    [[nodiscard]] Hash32 block_hash(int64_t block_num) const noexcept override;
};

/// Observer of call frames, a debugging aid (pel-statetest --trace). Called on the executing
/// thread, synchronously; must not touch the state.
class FrameTracer {
  public:
    FrameTracer() = default;
    virtual ~FrameTracer() = default;
    FrameTracer(const FrameTracer&) = delete;
    FrameTracer& operator=(const FrameTracer&) = delete;
    FrameTracer(FrameTracer&&) = delete;
    FrameTracer& operator=(FrameTracer&&) = delete;
    /// A frame (or precompile call) starts. For creates `msg.recipient` is the new address and
    /// `msg.input` the init code.
    virtual void on_enter(const vm::Message& msg) noexcept = 0;
    /// The frame ended with `result` (after revert and code deposit; for a successful create,
    /// `result.output` is the deployed code, as eth_call answers for a creation). A call or
    /// create that fails before running code (depth limit, insufficient balance, nonce overflow)
    /// is entered and exited too, with gas_left equal to its gas, as geth's tracers see it.
    virtual void on_exit(const vm::Message& msg, const vm::ExecResult& result) noexcept = 0;
    /// LOG0..LOG4 in the innermost open frame (kept by the state even if that frame reverts
    /// later: a tracer that cares drops the logs of failed frames itself).
    virtual void on_log(const Log& /*log*/) noexcept {}
    /// SELFDESTRUCT in the innermost open frame: `addr`'s balance `value` goes to `beneficiary`.
    virtual void on_selfdestruct(const Address& /*addr*/, const Address& /*beneficiary*/,
                                 const U256& /*value*/) noexcept {}
    /// The instruction-level observer to run the frames with (StructLogger), or null.
    [[nodiscard]] virtual vm::StepTracer* step_tracer() noexcept { return nullptr; }
};

/// Keeps the outcome of the last transaction-level frame (depth 0) it saw: a call's revert data,
/// say, which the transaction's receipt does not carry.
class TopFrameTracer final : public FrameTracer {
  public:
    void on_enter(const vm::Message& /*msg*/) noexcept override {}
    void on_exit(const vm::Message& msg, const vm::ExecResult& result) noexcept override {
        if (msg.depth == 0) {
            status = result.status;
            output = result.output;
            seen = true;
        }
    }
    bool seen = false;  ///< a top-level frame ended
    vm::Status status = vm::Status::kSuccess;
    Bytes output;
};

/// CREATE address: keccak256(rlp([sender, nonce]))[12:].
[[nodiscard]] Address create_address(const Address& sender, uint64_t nonce) noexcept;
/// CREATE2 address (EIP-1014): keccak256(0xff ++ sender ++ salt ++ keccak256(initcode))[12:].
[[nodiscard]] Address create2_address(const Address& sender, const Hash32& salt,
                                      ByteView initcode) noexcept;

/// Gas per byte of deployed code, charged by the host after a create frame's code returned.
inline constexpr int64_t kCodeDepositGasPerByte = 200;

/// Highest address of the Cancun precompiles (0x01..0x0a), all warm from the start (EIP-2929).
inline constexpr uint8_t kLastWarmPrecompile = 0x0a;

/// 0x01..0x0a: a precompile that every transaction starts with warm.
[[nodiscard]] inline bool is_warm_precompile(const Address& addr) noexcept {
    const uint8_t last = addr.bytes[19];
    if (last == 0 || last > kLastWarmPrecompile) {
        return false;
    }
    for (size_t i = 0; i < 19; ++i) {
        if (addr.bytes[i] != 0) {
            return false;
        }
    }
    return true;
}

class Host final : public vm::Host {
  public:
    /// All references must outlive the Host. `block_hashes` may be null (BLOCKHASH gives zero);
    /// `tracer` may be null.
    Host(TxnState& state, vm::Vm& vm, const vm::TxContext& tx_context,
         const BlockHashSource* block_hashes, FrameTracer* tracer = nullptr) noexcept
        : state_(state),
          vm_(vm),
          tx_context_(tx_context),
          block_hashes_(block_hashes),
          tracer_(tracer) {}

    [[nodiscard]] bool account_exists(const Address& addr) noexcept override;
    [[nodiscard]] U256 get_balance(const Address& addr) noexcept override;
    [[nodiscard]] size_t get_code_size(const Address& addr) noexcept override;
    [[nodiscard]] Hash32 get_code_hash(const Address& addr) noexcept override;
    [[nodiscard]] ByteView get_code(const Address& addr) noexcept override;

    [[nodiscard]] U256 get_storage(const Address& addr, const U256& key) noexcept override;
    vm::StorageStatus set_storage(const Address& addr, const U256& key,
                                  const U256& value) noexcept override;
    [[nodiscard]] U256 get_transient_storage(const Address& addr,
                                             const U256& key) noexcept override;
    void set_transient_storage(const Address& addr, const U256& key,
                               const U256& value) noexcept override;

    bool selfdestruct(const Address& addr, const Address& beneficiary) noexcept override;

    /// Nested frame. Also the entry for a transaction's top-level message call (depth 0).
    /// Depth limit (1024) and value-vs-balance are checked here too; those failures return the
    /// message's gas untouched and change nothing.
    [[nodiscard]] vm::ExecResult call(const vm::Message& msg) noexcept override;
    /// Shows the failed call or create to the tracer as a frame that returned all its gas.
    void call_failed(const vm::Message& msg, vm::Status status) noexcept override;
    [[nodiscard]] vm::StepTracer* step_tracer() noexcept override {
        return tracer_ != nullptr ? tracer_->step_tracer() : nullptr;
    }

    /// Runs a create frame for a new contract at `addr` (already derived; the creator's nonce
    /// already bumped): collision check (EIP-684, EIP-7610), value transfer, init code, code
    /// deposit (EIP-170, EIP-3541, 200 gas/byte). Used for CREATE/CREATE2 and for
    /// contract-creation transactions.
    [[nodiscard]] vm::ExecResult create_at(const vm::Message& msg, const Address& addr) noexcept;

    [[nodiscard]] const vm::TxContext& get_tx_context() noexcept override { return tx_context_; }
    [[nodiscard]] Hash32 get_block_hash(int64_t block_number) noexcept override;

    void emit_log(const Address& addr, ByteView data,
                  std::span<const Hash32> topics) noexcept override;

    vm::AccessStatus access_account(const Address& addr) noexcept override;
    vm::AccessStatus access_storage(const Address& addr, const U256& key) noexcept override;

  private:
    /// `status` for a frame that fails before running code (call_failed tells the tracer).
    vm::ExecResult failed_early(const vm::Message& msg, vm::Status status) noexcept;
    vm::ExecResult call_frame(const vm::Message& msg) noexcept;
    vm::ExecResult create(const vm::Message& msg) noexcept;
    vm::ExecResult create_frame(const vm::Message& frame, ByteView initcode) noexcept;

    TxnState& state_;
    vm::Vm& vm_;
    const vm::TxContext& tx_context_;
    const BlockHashSource* block_hashes_;
    FrameTracer* tracer_;
};

}  // namespace pel::exec
