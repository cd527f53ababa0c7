// SPDX-License-Identifier: Apache-2.0
#include "primitives/log.hpp"

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

}  // namespace pel::log
