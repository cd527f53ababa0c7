// SPDX-License-Identifier: Apache-2.0
#include "primitives/log.hpp"

#include <algorithm>
#include <array>
#include <dlfcn.h>
#include <pthread.h>
#include <string>

namespace pel::log {

Result<void> init(std::string_view level) {
    const auto lvl = spdlog::level::from_str(std::string(level));
    // from_str maps unknown names to "off"; only accept "off" when it was asked for.
    if (lvl == spdlog::level::off && level != "off") {
        return make_error("unknown log level '", level,
                          "' (expected trace, debug, info, warn, error or off)");
    }
    spdlog::set_level(lvl);
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%-5l%$ %v", spdlog::pattern_time_type::utc);
    return {};
}

void name_thread(std::string_view name) noexcept {
    std::array<char, 16> buf{};  // the kernel's limit: 15 characters and the terminator
    const size_t n = std::min(name.size(), buf.size() - 1);
    std::copy_n(name.data(), n, buf.data());
    (void)pthread_setname_np(pthread_self(), buf.data());
}

std::string malloc_name() {
    // jemalloc's control interface, looked up at run time so that nothing here links jemalloc.
    using Mallctl = int (*)(const char*, void*, size_t*, void*, size_t);
    void* sym = dlsym(RTLD_DEFAULT, "mallctl");
    if (sym == nullptr) {
        return "system";
    }
    const char* version = nullptr;
    size_t len = sizeof(version);
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): dlsym's documented use
    const auto mallctl = reinterpret_cast<Mallctl>(sym);
    if (mallctl("version", static_cast<void*>(&version), &len, nullptr, 0) != 0 ||
        version == nullptr) {
        return "jemalloc";
    }
    return std::string("jemalloc ") + version;
}

}  // namespace pel::log
