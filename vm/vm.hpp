// SPDX-License-Identifier: Apache-2.0
// The front door of the EVM interpreter (Cancun).
#pragma once

#include <memory>

#include "primitives/bytes.hpp"
#include "primitives/hash.hpp"
#include "vm/host.hpp"

namespace pel::vm {

inline constexpr int32_t kMaxCallDepth = 1024;
inline constexpr size_t kMaxCodeSize = 24576;                 ///< EIP-170
inline constexpr size_t kMaxInitcodeSize = 2 * kMaxCodeSize;  ///< EIP-3860

/// An EVM interpreter instance. Keeps per-depth frames (stack, memory) and the jump-destination
/// analysis cache, reused across calls and transactions so execution does not allocate per
/// instruction.
///
/// Thread safety: not thread safe. Use one Vm per thread (Block-STM keeps one per worker).
/// Reentrant: Host::call may call execute() again on the same Vm for the nested frame.
///
/// Native stack: nesting is real recursion (execute -> Host::call -> execute). An optimised
/// build uses about 2 KB of native stack per level on the VM's side (measured with a minimal
/// host: a depth-1024 chain fits in 2 MB), plus whatever the host's call path uses; size worker
/// thread stacks for 1025 levels. Unoptimised and ASan builds use more but stay under 8 MB.
class Vm {
  public:
    Vm();
    ~Vm();
    Vm(const Vm&) = delete;
    Vm& operator=(const Vm&) = delete;
    Vm(Vm&&) = delete;
    Vm& operator=(Vm&&) = delete;

    /// Runs `code` for `msg`. `code_hash` keys the jump-destination cache; pass nullptr for code
    /// that has no stable hash (init code), which is then analysed for this run only.
    [[nodiscard]] ExecResult execute(Host& host, const Message& msg, ByteView code,
                                     const Hash32* code_hash) noexcept;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace pel::vm
