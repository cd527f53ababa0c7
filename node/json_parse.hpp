// SPDX-License-Identifier: Apache-2.0
// parse_json: JSON text to nlohmann::json, the value nlohmann::json::parse(text, nullptr, false)
// gives, several times faster on request bodies (a batch of 100 eth_sendRawTransaction calls,
// 44 KB: about 80 us against 340 us), because simdjson (Debian's libsimdjson) does the scanning
// and only the tree is built with nlohmann.
//
// nlohmann stays the arbiter of what the text means. simdjson is trusted only where both libraries
// agree by specification (RFC 8259 text, strict UTF-8, correctly rounded doubles, the last of
// duplicate keys winning as nlohmann's object insertion does); every text that simdjson refuses
// goes to nlohmann as a whole, so its answer (a value or an error) is nlohmann's. That covers the
// texts where the two differ: integers beyond 64 bits (nlohmann makes them doubles), a UTF-8 byte
// order mark (nlohmann skips it), nesting deeper than simdjson's 1,024 levels, and every malformed
// text. One case simdjson accepts needs care: it reads "-0" as the integer 0 where nlohmann keeps a
// signed integer; a text with an integer zero and a "-0" anywhere is parsed by nlohmann too.
// Non-negative integers are unsigned and negative ones signed, as nlohmann types them.
// tests/fuzz/rpc_fuzz.cpp checks on every input that the two parses agree, types included.
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

namespace pel::node::rpc {

/// nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false): the value, or a discarded
/// value (is_discarded()) when the text is not JSON. Thread safe (one simdjson parser per thread).
[[nodiscard]] nlohmann::json parse_json(std::string_view text);

}  // namespace pel::node::rpc
