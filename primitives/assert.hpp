// SPDX-License-Identifier: Apache-2.0
// PEL_ASSERT: a broken invariant is a bug. It aborts with file, line and message, and stays on in
// release builds. Never use it to validate input: bad input returns a Result error.
#pragma once

namespace pel::detail {
[[noreturn]] void assert_fail(const char* expr, const char* msg, const char* file,
                              int line) noexcept;
}  // namespace pel::detail

#define PEL_ASSERT(cond, msg)                                             \
    do {                                                                  \
        if (!(cond)) [[unlikely]] {                                       \
            ::pel::detail::assert_fail(#cond, (msg), __FILE__, __LINE__); \
        }                                                                 \
    } while (false)

#ifdef NDEBUG
#define PEL_DEBUG_ASSERT(cond, msg) static_cast<void>(0)
#else
#define PEL_DEBUG_ASSERT(cond, msg) PEL_ASSERT(cond, msg)
#endif
