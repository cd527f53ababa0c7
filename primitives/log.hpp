// SPDX-License-Identifier: Apache-2.0
// Logging through spdlog. Call sites use spdlog directly (spdlog::info(...)); this header fixes
// the one process-wide setup so binaries format lines the same way.
#pragma once

#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

#include "primitives/result.hpp"

namespace pel::log {

/// Sets the global level from "trace|debug|info|warn|error|off"; unknown names are an error.
[[nodiscard]] Result<void> init(std::string_view level);

/// Names the calling thread for diagnostics (top -H, ps -L, perf, gdb); Linux keeps the first 15
/// characters. Best effort: a failure is ignored.
void name_thread(std::string_view name) noexcept;

/// The malloc this process runs on, for benchmark and startup reports: "jemalloc <version>" when
/// jemalloc is linked in (PEL_MALLOC) or preloaded, otherwise "system".
[[nodiscard]] std::string malloc_name();

}  // namespace pel::log
