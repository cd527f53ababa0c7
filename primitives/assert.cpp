// SPDX-License-Identifier: Apache-2.0
#include "primitives/assert.hpp"

#include <cstdio>
#include <cstdlib>

namespace pel::detail {

void assert_fail(const char* expr, const char* msg, const char* file, int line) noexcept {
    std::fprintf(stderr, "%s:%d: PEL_ASSERT(%s) failed: %s\n", file, line, expr, msg);
    std::fflush(stderr);
    std::abort();
}

}  // namespace pel::detail
