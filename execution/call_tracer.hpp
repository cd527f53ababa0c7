// SPDX-License-Identifier: Apache-2.0
// exec::CallTracer: the tree of call frames of one transaction, as go-ethereum's callTracer
// reports it (debug_traceTransaction / debug_traceCall with {"tracer": "callTracer"}): every
// CALL, STATICCALL, DELEGATECALL, CALLCODE, CREATE, CREATE2 and SELFDESTRUCT with its gas, input,
// output and outcome, and optionally the logs each frame emitted.
//
// geth's rules it follows (eth/tracers/native/call.go):
//  - the top frame's gas is the transaction's gas limit and its gasUsed the receipt's (intrinsic
//    gas and refund included); a nested frame's gas is what the callee got (stipend included) and
//    its gasUsed what it did not return;
//  - a STATICCALL has no value; a DELEGATECALL shows its parent's value;
//  - calls that fail before running code (depth limit, insufficient balance) are frames too;
//  - a failed frame keeps its output only when it reverted; a failed create has no `to`;
//  - logs (withLog) carry their position among the frame's calls, and the logs of a failed frame
//    and of everything under it are dropped;
//  - onlyTopCall records the top frame only.
//
// Thread safety: one tracer observes one transaction on one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "execution/host.hpp"
#include "execution/txn_state.hpp"
#include "primitives/bytes.hpp"
#include "primitives/hash.hpp"
#include "primitives/u256.hpp"
#include "vm/host.hpp"

namespace pel::exec {

struct CallFrame {
    enum class Type : uint8_t {
        kCall,
        kStaticCall,
        kDelegateCall,
        kCallCode,
        kCreate,
        kCreate2,
        kSelfDestruct,
    };
    struct FrameLog {
        Log log;
        size_t position = 0;  ///< how many child calls came before it in the frame
    };

    Type type = Type::kCall;
    Address from;
    std::optional<Address> to;  ///< absent for a failed create
    /// A create's new address, also when the create failed (Parity-style traces print it).
    std::optional<Address> created;
    std::optional<U256> value;  ///< absent for STATICCALL
    uint64_t gas = 0;
    uint64_t gas_used = 0;
    Bytes input;
    /// Return data, deployed code of a successful create, or revert data; empty for other
    /// failures.
    Bytes output;
    vm::Status status = vm::Status::kSuccess;
    std::vector<FrameLog> logs;
    std::vector<CallFrame> calls;

    [[nodiscard]] bool failed() const noexcept { return status != vm::Status::kSuccess; }
    [[nodiscard]] bool is_create() const noexcept {
        return type == Type::kCreate || type == Type::kCreate2;
    }
};

/// "CALL", "STATICCALL", ... (the opcode's name, as geth prints it). Inline: the RPC layer prints
/// frames without linking the executor.
[[nodiscard]] constexpr const char* to_string(CallFrame::Type t) noexcept {
    using T = CallFrame::Type;
    switch (t) {
        case T::kCall:
            return "CALL";
        case T::kStaticCall:
            return "STATICCALL";
        case T::kDelegateCall:
            return "DELEGATECALL";
        case T::kCallCode:
            return "CALLCODE";
        case T::kCreate:
            return "CREATE";
        case T::kCreate2:
            return "CREATE2";
        case T::kSelfDestruct:
            return "SELFDESTRUCT";
    }
    return "CALL";
}

class CallTracer final : public FrameTracer {
  public:
    struct Options {
        bool only_top_call = false;  ///< geth's onlyTopCall
        bool with_log = false;       ///< geth's withLog
    };
    explicit CallTracer(Options options) noexcept : options_(options) {}

    void on_enter(const vm::Message& msg) noexcept override;
    void on_exit(const vm::Message& msg, const vm::ExecResult& result) noexcept override;
    void on_log(const Log& log) noexcept override;
    void on_selfdestruct(const Address& addr, const Address& beneficiary,
                         const U256& value) noexcept override;

    /// The transaction's frame tree, once it ran: the top frame gets the transaction's gas limit
    /// and the receipt's gas used. Nullopt if no frame was entered (an invalid transaction).
    [[nodiscard]] std::optional<CallFrame> result(uint64_t gas_limit, uint64_t gas_used) const;

  private:
    struct Open {
        CallFrame frame;
        Address context;  ///< the account whose storage and balance the frame runs with
        bool is_static = false;
        bool recorded = true;  ///< false for frames onlyTopCall leaves out
    };
    Options options_;
    std::vector<Open> stack_;
    std::optional<CallFrame> root_;
};

}  // namespace pel::exec
