// SPDX-License-Identifier: Apache-2.0
#include <charconv>

#include "net/network.hpp"

namespace pel::net {

Result<PeerAddress> parse_peer_address(std::string_view text) {
    PeerAddress out;
    std::string_view hostport = text;
    if (const size_t at = text.find('@'); at != std::string_view::npos) {
        auto id = Address::from_hex(text.substr(at + 1));
        if (!id) {
            return make_error("net: peer '", text, "': bad node id: ", id.error().message);
        }
        out.node_id = *id;
        hostport = text.substr(0, at);
    }
    const size_t colon = hostport.rfind(':');
    if (colon == std::string_view::npos || colon == 0) {
        return make_error("net: peer '", text, "': expected host:port[@nodeid]");
    }
    std::string_view host = hostport.substr(0, colon);
    if (host.front() == '[') {
        if (host.size() < 3 || host.back() != ']') {
            return make_error("net: peer '", text, "': bad [ipv6] host");
        }
        host = host.substr(1, host.size() - 2);
    }
    const std::string_view port = hostport.substr(colon + 1);
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || ec != std::errc{} || end != port.data() + port.size() || value == 0 ||
        value > 65535) {
        return make_error("net: peer '", text, "': port must be 1..65535");
    }
    out.host = std::string(host);
    out.port = static_cast<uint16_t>(value);
    return out;
}

Result<std::vector<PeerAddress>> parse_peer_list(std::string_view text) {
    std::vector<PeerAddress> out;
    while (!text.empty()) {
        const size_t comma = text.find(',');
        const std::string_view item = text.substr(0, comma);
        if (!item.empty()) {
            PEL_TRY(PeerAddress p, parse_peer_address(item));
            out.push_back(std::move(p));
        }
        if (comma == std::string_view::npos) {
            break;
        }
        text.remove_prefix(comma + 1);
    }
    return out;
}

}  // namespace pel::net
