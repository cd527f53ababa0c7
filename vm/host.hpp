// SPDX-License-Identifier: Apache-2.0
// vm::Host: the only way the EVM reaches state, in the spirit of EVMC. The VM never sees how state
// is stored; execution/ implements this port (over in-memory state for the sequential executor,
// over multi-version memory for Block-STM).
//
// Thread safety: a Host serves one transaction on one thread at a time; the VM never shares it.
#pragma once

#include <cstdint>
#include <span>

#include "primitives/bytes.hpp"
#include "primitives/hash.hpp"
#include "primitives/u256.hpp"

namespace pel::vm {

/// Outcome of an execution frame. EVM outcomes are results, not errors (STYLE.md section 3).
enum class Status : uint8_t {
    kSuccess = 0,
    kRevert,   ///< REVERT: state undone, gas_left returned, output is revert data
    kFailure,  ///< generic exceptional halt (all gas consumed)
    kOutOfGas,
    kInvalidInstruction,    ///< INVALID (0xfe)
    kUndefinedInstruction,  ///< an opcode not defined in Cancun
    kStackOverflow,
    kStackUnderflow,
    kBadJumpDestination,
    kInvalidMemoryAccess,  ///< RETURNDATACOPY past the end of return data
    kCallDepthExceeded,
    kStaticModeViolation,  ///< state change inside STATICCALL
    kPrecompileFailure,
    kContractValidationFailure,  ///< EIP-3541 0xEF prefix or EIP-170 code size on deploy
    kArgumentOutOfRange,
    kInsufficientBalance,  ///< CALL/CREATE value exceeds the caller's balance (not a halt)
    kInternalError,
};

/// True for the halting statuses that consume all gas (everything but success and revert).
[[nodiscard]] constexpr bool consumes_all_gas(Status s) noexcept {
    return s != Status::kSuccess && s != Status::kRevert;
}

/// The kinds of frame. STATICCALL is kCall with Message::is_static set (as in EVMC).
enum class CallKind : uint8_t { kCall, kDelegateCall, kCallCode, kCreate, kCreate2 };

/// One call or create frame.
struct Message {
    CallKind kind = CallKind::kCall;
    bool is_static = false;
    int32_t depth = 0;
    int64_t gas = 0;
    /// The account whose code-context this is: storage, balance, ADDRESS. For DELEGATECALL and
    /// CALLCODE it is the caller's own address. For creates the host fills in the new address.
    Address recipient;
    /// CALLER.
    Address sender;
    /// Where the code comes from (differs from recipient for DELEGATECALL/CALLCODE).
    Address code_address;
    /// Call data, or init code for creates. Borrowed for the duration of the call.
    ByteView input;
    /// CALLVALUE (for DELEGATECALL: the parent's value, not transferred).
    U256 value;
    /// CREATE2 salt.
    Hash32 salt;
};

struct ExecResult {
    Status status = Status::kSuccess;
    int64_t gas_left = 0;
    /// Refund counter accumulated by this frame and its children (EIP-3529 rules); may be
    /// negative inside a frame. Dropped by the caller when the frame fails.
    int64_t gas_refund = 0;
    /// RETURN/REVERT data (for a successful create: empty, the code is deployed by the host).
    Bytes output;
    /// For creates that succeeded: the new contract's address.
    Address create_address;
};

/// EIP-2200/EIP-3529 storage status of an SSTORE, decided by the host from the original
/// (transaction start), current and new values. Names follow EVMC.
enum class StorageStatus : uint8_t {
    kAssigned,          ///< dirty slot, or no-op: warm access cost only
    kAdded,             ///< 0 -> 0 -> Z
    kDeleted,           ///< X -> X -> 0
    kModified,          ///< X -> X -> Z
    kDeletedAdded,      ///< X -> 0 -> Z
    kModifiedDeleted,   ///< X -> Y -> 0
    kDeletedRestored,   ///< X -> 0 -> X
    kAddedDeleted,      ///< 0 -> Y -> 0
    kModifiedRestored,  ///< X -> Y -> X
};

/// The status of an SSTORE that sets a slot whose value was `original` at the transaction's start
/// and is `current` now to `value` (EIP-2200 as amended by EIP-3529; the VM turns it into gas and
/// refund). For hosts.
[[nodiscard]] inline StorageStatus storage_status(const U256& original, const U256& current,
                                                  const U256& value) noexcept {
    if (current == value) {
        return StorageStatus::kAssigned;
    }
    if (original == current) {
        if (original.is_zero()) {
            return StorageStatus::kAdded;
        }
        return value.is_zero() ? StorageStatus::kDeleted : StorageStatus::kModified;
    }
    if (!original.is_zero()) {
        if (current.is_zero()) {
            return value == original ? StorageStatus::kDeletedRestored
                                     : StorageStatus::kDeletedAdded;
        }
        if (value.is_zero()) {
            return StorageStatus::kModifiedDeleted;
        }
        return value == original ? StorageStatus::kModifiedRestored : StorageStatus::kAssigned;
    }
    return value.is_zero() ? StorageStatus::kAddedDeleted : StorageStatus::kAssigned;
}

enum class AccessStatus : uint8_t { kCold, kWarm };

/// Block and transaction environment seen by BLOCKHASH, COINBASE, ... opcodes.
struct TxContext {
    U256 gas_price;  ///< effective gas price
    Address origin;
    Address coinbase;
    int64_t block_number = 0;
    int64_t timestamp = 0;
    int64_t gas_limit = 0;
    Hash32 prev_randao;
    U256 chain_id;
    U256 base_fee;
    U256 blob_base_fee;
    std::span<const Hash32> blob_hashes;
};

/// One instruction about to run, as a StepTracer sees it.
struct Step {
    uint64_t pc = 0;  ///< offset in the frame's code
    uint8_t op = 0;
    int64_t gas = 0;              ///< gas left before the instruction
    int32_t depth = 0;            ///< the frame's Message::depth (0: the transaction's own frame)
    std::span<const U256> stack;  ///< bottom first
    ByteView memory;
    ByteView return_data;  ///< what the frame's last call or create returned
    int64_t refund = 0;    ///< the frame's own refund counter so far (children's once they return)
    const Message* msg = nullptr;
};

/// Observer of every instruction (debug_traceTransaction's opcode logger). Called on the
/// executing thread before each instruction of a frame whose Host::step_tracer() answered it,
/// and for an undefined opcode before the frame fails on it; must not touch the state.
class StepTracer {
  public:
    StepTracer() = default;
    virtual ~StepTracer() = default;
    StepTracer(const StepTracer&) = delete;
    StepTracer& operator=(const StepTracer&) = delete;
    StepTracer(StepTracer&&) = delete;
    StepTracer& operator=(StepTracer&&) = delete;
    virtual void on_step(const Step& step) noexcept = 0;
};

class Host {
  public:
    Host() = default;
    Host(const Host&) = default;
    Host& operator=(const Host&) = default;
    Host(Host&&) = default;
    Host& operator=(Host&&) = default;
    virtual ~Host() = default;

    /// EIP-161: an account "exists" unless it is empty (no code, zero nonce and balance) or absent.
    [[nodiscard]] virtual bool account_exists(const Address& addr) noexcept = 0;
    [[nodiscard]] virtual U256 get_balance(const Address& addr) noexcept = 0;
    [[nodiscard]] virtual size_t get_code_size(const Address& addr) noexcept = 0;
    /// EXTCODEHASH: zero for an account that does not exist (EIP-1052/EIP-161).
    [[nodiscard]] virtual Hash32 get_code_hash(const Address& addr) noexcept = 0;
    /// The code; the view stays valid until the end of the current transaction.
    [[nodiscard]] virtual ByteView get_code(const Address& addr) noexcept = 0;

    [[nodiscard]] virtual U256 get_storage(const Address& addr, const U256& key) noexcept = 0;
    virtual StorageStatus set_storage(const Address& addr, const U256& key,
                                      const U256& value) noexcept = 0;
    /// EIP-1153 transient storage.
    [[nodiscard]] virtual U256 get_transient_storage(const Address& addr,
                                                     const U256& key) noexcept = 0;
    virtual void set_transient_storage(const Address& addr, const U256& key,
                                       const U256& value) noexcept = 0;

    /// SELFDESTRUCT per EIP-6780: moves the balance to `beneficiary`; the account is deleted
    /// only if it was created in the same transaction. Returns true the first time `addr` is
    /// registered for destruction in this transaction.
    virtual bool selfdestruct(const Address& addr, const Address& beneficiary) noexcept = 0;

    /// Performs a nested call or create: value transfer, snapshot and revert, precompiles,
    /// address derivation and collision rules, code deposit. The host calls back into the VM.
    [[nodiscard]] virtual ExecResult call(const Message& msg) noexcept = 0;
    /// A CALL-family or CREATE instruction that failed before reaching call() (depth limit:
    /// kCallDepthExceeded; value above the balance: kInsufficientBalance), with the message it
    /// would have sent (for a create, the recipient is not derived). Only for observers
    /// (tracers); must not change state.
    virtual void call_failed(const Message& /*msg*/, Status /*status*/) noexcept {}
    /// The tracer to show every instruction of the frames this host runs, or null (the normal
    /// case: the interpreter then runs without the per-instruction hook). Asked once per frame.
    [[nodiscard]] virtual StepTracer* step_tracer() noexcept { return nullptr; }

    [[nodiscard]] virtual const TxContext& get_tx_context() noexcept = 0;
    /// BLOCKHASH of `block_number` (the VM has checked it lies in the last 256 blocks).
    [[nodiscard]] virtual Hash32 get_block_hash(int64_t block_number) noexcept = 0;

    virtual void emit_log(const Address& addr, ByteView data,
                          std::span<const Hash32> topics) noexcept = 0;

    /// EIP-2929: marks warm and returns the previous status.
    virtual AccessStatus access_account(const Address& addr) noexcept = 0;
    virtual AccessStatus access_storage(const Address& addr, const U256& key) noexcept = 0;
};

}  // namespace pel::vm
