// SPDX-License-Identifier: Apache-2.0
// exec::StructLogger: go-ethereum's default tracer (debug_traceTransaction without a "tracer"):
// one record per executed instruction with its pc, opcode, gas before it, its gas cost, the call
// depth, the stack, optionally memory and the last return data, the storage the contract has
// touched so far (on SLOAD and SSTORE) and the transaction's refund counter.
//
// geth's rules it follows (eth/tracers/logger):
//  - depth starts at 1 for the transaction's frame;
//  - a CALL-family instruction costs what it charged, the gas it forwarded (stipend excepted)
//    included; a CREATE costs what it charged, without the gas it forwarded;
//  - an SLOAD shows the value it loaded and an SSTORE the value it stored, in a map of every slot
//    of that contract touched so far in the transaction;
//  - the instruction a frame fails on (other than REVERT) carries the error.
// A failing instruction's gas cost is taken as the gas it left the frame (geth reports the cost it
// computed); that is the one known difference.
//
// Thread safety: one logger observes one transaction on one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <unordered_map>
#include <vector>

#include "execution/host.hpp"
#include "primitives/bytes.hpp"
#include "primitives/hash.hpp"
#include "primitives/u256.hpp"
#include "vm/host.hpp"

namespace pel::exec {

struct StructLog {
    uint64_t pc = 0;
    uint8_t op = 0;
    uint64_t gas = 0;
    uint64_t gas_cost = 0;
    int32_t depth = 1;
    std::optional<vm::Status> error;
    std::optional<std::vector<U256>> stack;       ///< bottom first; absent with disableStack
    std::optional<Bytes> memory;                  ///< with enableMemory
    Bytes return_data;                            ///< with enableReturnData
    std::optional<std::map<U256, U256>> storage;  ///< SLOAD and SSTORE only
    uint64_t refund = 0;
};

/// What debug_traceTransaction answers without a tracer.
struct StructTrace {
    uint64_t gas = 0;  ///< the receipt's gas used
    bool failed = false;
    Bytes return_value;  ///< the top frame's output (revert data when it reverted)
    std::vector<StructLog> logs;
    /// Recording stopped at Options::max_bytes: `logs` is only the beginning.
    bool truncated = false;
};

class StructLogger final : public FrameTracer, public vm::StepTracer {
  public:
    /// geth's logger.Config.
    struct Options {
        bool disable_stack = false;
        bool disable_storage = false;
        bool enable_memory = false;
        bool enable_return_data = false;
        size_t limit = 0;  ///< at most this many records (0: no limit)
        /// Stop recording once the records hold about this many bytes (stack, memory, storage
        /// and return data copies; 0: no bound). StructTrace::truncated says it happened.
        size_t max_bytes = 0;
    };
    explicit StructLogger(Options options) noexcept : options_(options) {}

    void on_step(const vm::Step& step) noexcept override;
    void on_enter(const vm::Message& msg) noexcept override;
    void on_exit(const vm::Message& msg, const vm::ExecResult& result) noexcept override;
    [[nodiscard]] vm::StepTracer* step_tracer() noexcept override { return this; }

    /// The trace once the transaction ran, given its receipt's outcome. Moves the records out
    /// (they can be most of 128 MiB): ask once.
    [[nodiscard]] StructTrace result(bool success, uint64_t gas_used);

  private:
    /// One open frame (indexed by depth, 1-based).
    struct Frame {
        std::optional<size_t> pending;  ///< its last record, whose cost is not known yet
        int64_t pending_gas = 0;        ///< that instruction's gas before it ran
        uint8_t pending_op = 0;
        uint64_t child_left = 0;     ///< gas its children returned since that instruction
        uint64_t child_gas = 0;      ///< gas they were given
        bool sload_pending = false;  ///< the record is an SLOAD whose value the next step shows
        U256 sload_key;
        Address context;
        int64_t refund = 0;
    };
    void finish_pending(Frame& f, int64_t gas_now, const U256* top) noexcept;

    Options options_;
    std::vector<Frame> frames_;
    std::unordered_map<Address, std::map<U256, U256>> storage_;
    std::vector<StructLog> logs_;
    size_t bytes_ = 0;  ///< what the records hold, roughly
    bool truncated_ = false;
    Bytes output_;
};

}  // namespace pel::exec
