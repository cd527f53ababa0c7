// SPDX-License-Identifier: Apache-2.0
// The Cancun interpreter: threaded dispatch through a 256-entry table of label addresses (GNU
// labels-as-values), with one invoke<> wrapper per instruction that checks the stack and charges
// the base gas with compile-time constants from vm/opcodes.hpp (STYLE.md 10.3, 10.4). Frames are
// reused per nesting level and code analyses are cached by code hash (STYLE.md 10.5).
#include <array>
#include <cstdint>
#include <iterator>
#include <memory>
#include <span>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "vm/internal/analysis.hpp"
#include "vm/internal/exec_state.hpp"
#include "vm/internal/instructions.hpp"
#include "vm/opcodes.hpp"
#include "vm/vm.hpp"

#if !defined(__GNUC__)
#error "the interpreter needs GNU labels-as-values (GCC or Clang)"
#endif

namespace pel::vm {
namespace internal {
namespace {

using instr::Pc;

/// Checks, charges and runs instruction Op; returns the next pc, or nullptr when the frame halts
/// (s.status says why).
template <uint8_t Op, auto Fn>
PEL_VM_INVOKE_INLINE Pc invoke(Pc pc, U256*& sp, U256* const base, int64_t& gas,
                               ExecState& s) noexcept {
    constexpr OpcodeInfo kInfo = kOpcodeTable[Op];
    constexpr ptrdiff_t kIn = kInfo.stack_in;
    constexpr ptrdiff_t kGrowth = kInfo.stack_out - kInfo.stack_in;
    if constexpr (kIn > 0) {
        if (sp - base < kIn) [[unlikely]] {
            s.status = Status::kStackUnderflow;
            return nullptr;
        }
    }
    if constexpr (kGrowth > 0) {
        if (sp - base > kStackLimit - kGrowth) [[unlikely]] {
            s.status = Status::kStackOverflow;
            return nullptr;
        }
    }
    if constexpr (kInfo.base_gas > 0) {
        gas -= kInfo.base_gas;
        if (gas < 0) [[unlikely]] {
            s.status = Status::kOutOfGas;
            return nullptr;
        }
    }
    const StackTop st{sp};
    using F = decltype(Fn);
    if constexpr (std::is_invocable_v<F, StackTop>) {
        Fn(st);
        sp += kGrowth;
        return pc + 1;
    } else if constexpr (std::is_invocable_v<F, StackTop, int64_t&, ExecState&>) {
        // Bodies take gas by reference and may pass it on to out-of-line code; a copy keeps the
        // loop's own counter out of memory.
        int64_t g = gas;
        const Status r = Fn(st, g, s);
        gas = g;
        if (r != Status::kSuccess) [[unlikely]] {
            s.status = r;
            return nullptr;
        }
        sp += kGrowth;
        return pc + 1;
    } else {
        static_assert(std::is_invocable_r_v<Pc, F, StackTop, int64_t&, ExecState&, Pc>);
        int64_t g = gas;
        const Pc next = Fn(st, g, s, pc);
        gas = g;
        sp += kGrowth;
        return next;
    }
}

/// Opcode values in X-macro order, matching the order of the label table in run().
constexpr std::array<uint8_t, kNumOpcodes> kDenseValues = {
#define PEL_VM_DENSE_VALUE(e, v, n, g, i, o, h) (v),
    PEL_OPCODES(PEL_VM_DENSE_VALUE)
#undef PEL_VM_DENSE_VALUE
};

std::array<const void*, 256> make_dispatch_table(
    const void* undefined, std::span<const void* const, kDenseValues.size()> dense) noexcept {
    std::array<const void*, 256> t{};
    t.fill(undefined);
    for (size_t i = 0; i < kDenseValues.size(); ++i) {
        t[kDenseValues[i]] = dense[i];
    }
    return t;
}

/// Shows the instruction at `pc` to the step tracer (traced runs only).
[[gnu::noinline]] void trace_step(const ExecState& s, Pc pc, const U256* sp, const U256* base,
                                  int64_t gas, StepTracer& tracer) noexcept {
    Step step;
    step.pc = static_cast<uint64_t>(pc - s.code.code());
    step.op = *pc;
    step.gas = gas;
    step.depth = s.msg.depth;
    step.stack = std::span<const U256>(base, static_cast<size_t>(sp - base));
    step.memory = s.memory;
    step.return_data = s.return_data;
    step.refund = s.gas_refund;
    step.msg = &s.msg;
    tracer.on_step(step);
}

/// Runs the frame until it halts; returns the gas left. The outcome is in s.status. `Traced`
/// shows every instruction to `tracer` first (debug_trace*); the untraced instantiation is the
/// normal one and has no hook at all.
/// Threaded code: every instruction ends in its own indirect jump (gotos are the point here).
// NOLINTBEGIN(cppcoreguidelines-avoid-goto,readability-function-size)
// GCC does not let __extension__ cover label addresses in a template's instantiations.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
template <bool Traced>
int64_t run(ExecState& s, int64_t gas, U256* const base,
            [[maybe_unused]] StepTracer* tracer) noexcept {
    // The labels in X-macro order: constant data, like any static table of label addresses.
    __extension__ static const void* const dense_targets[] = {
#define PEL_VM_DENSE_TARGET(e, v, n, g, i, o, h) &&l_##e,
        PEL_OPCODES(PEL_VM_DENSE_TARGET)
#undef PEL_VM_DENSE_TARGET
    };
    static_assert(std::size(dense_targets) == kDenseValues.size());
    // Indexed by opcode byte; built once, on the first run (thread-safe static initialization).
    static const std::array<const void*, 256> targets =
        __extension__ make_dispatch_table(&&l_undefined, dense_targets);

    Pc pc = s.code.code();
    U256* sp = base;

#define PEL_VM_DISPATCH() __extension__({ goto* targets[*pc]; })
    PEL_VM_DISPATCH();

#define PEL_VM_CASE(e, v, n, g, i, o, h)                                         \
    l_##e : if constexpr (Traced) { trace_step(s, pc, sp, base, gas, *tracer); } \
    pc = invoke<(v), &instr::h>(pc, sp, base, gas, s);                           \
    if (pc == nullptr) [[unlikely]]                                              \
        goto l_halt;                                                             \
    PEL_VM_DISPATCH();
    PEL_OPCODES(PEL_VM_CASE)
#undef PEL_VM_CASE
#undef PEL_VM_DISPATCH

l_undefined:
    if constexpr (Traced) {
        trace_step(s, pc, sp, base, gas, *tracer);
    }
    s.status = Status::kUndefinedInstruction;
l_halt:
    return gas;
}
#pragma GCC diagnostic pop
// NOLINTEND(cppcoreguidelines-avoid-goto,readability-function-size)

}  // namespace

/// One nesting level's reusable buffers.
struct Frame {
    std::array<U256, static_cast<size_t>(kStackLimit)> stack;
    Bytes memory;
    Bytes return_data;
    CodeAnalysis scratch;  ///< analysis of code that has no hash (init code)
};

}  // namespace internal

namespace {
/// The analysis cache is dropped between top-level executions once it holds this many bytes.
constexpr size_t kAnalysisCacheBudget = size_t{64} << 20;
}  // namespace

struct Vm::Impl {
    std::vector<std::unique_ptr<internal::Frame>> frames;
    size_t depth = 0;  ///< frames in use (nesting of execute() calls on this Vm)
    /// Node-based: entries stay put while nested frames insert more.
    std::unordered_map<Hash32, internal::CodeAnalysis> analyses;
    size_t analyses_bytes = 0;
};

Vm::Vm() : impl_(std::make_unique<Impl>()) {}
Vm::~Vm() = default;

ExecResult Vm::execute(Host& host, const Message& msg, ByteView code,
                       const Hash32* code_hash) noexcept {
    ExecResult result;
    if (code.empty()) {  // nothing to run: STOP
        result.gas_left = msg.gas;
        return result;
    }
    Impl& im = *impl_;
    if (im.depth == 0 && im.analyses_bytes > kAnalysisCacheBudget) {
        im.analyses.clear();
        im.analyses_bytes = 0;
    }
    if (im.depth == im.frames.size()) {
        im.frames.push_back(std::make_unique<internal::Frame>());
    }
    internal::Frame& frame = *im.frames[im.depth];

    const internal::CodeAnalysis* analysis = &frame.scratch;
    if (code_hash != nullptr) {
        auto [it, inserted] = im.analyses.try_emplace(*code_hash);
        if (inserted) {
            it->second.analyse(code);
            im.analyses_bytes += it->second.footprint() + sizeof(*it);
        }
        analysis = &it->second;
    } else {
        frame.scratch.analyse(code);
    }

    frame.memory.clear();  // keeps its capacity
    frame.return_data.clear();
    internal::ExecState s{host, msg, *analysis, frame.memory, frame.return_data};
    StepTracer* const tracer = host.step_tracer();
    ++im.depth;
    const int64_t gas = tracer == nullptr
                            ? internal::run<false>(s, msg.gas, frame.stack.data(), nullptr)
                            : internal::run<true>(s, msg.gas, frame.stack.data(), tracer);
    --im.depth;

    result.status = s.status;
    if (s.status == Status::kSuccess || s.status == Status::kRevert) {
        result.gas_left = gas;
        if (s.output_size != 0) {
            const auto begin = frame.memory.begin() + static_cast<ptrdiff_t>(s.output_offset);
            result.output.assign(begin, begin + static_cast<ptrdiff_t>(s.output_size));
        }
    }
    // A reverted or failed frame's refunds are undone along with its state.
    if (s.status == Status::kSuccess) {
        result.gas_refund = s.gas_refund;
    }
    return result;
}

}  // namespace pel::vm
