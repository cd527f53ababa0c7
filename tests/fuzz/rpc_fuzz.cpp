// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the JSON-RPC request parser: arbitrary bytes as an HTTP request body go
// through the dispatcher and the parameter decoding of every method pel-node registers (eth_,
// net_, web3_, debug_, trace_, ots_, txpool_, anvil_, evm_, hardhat_, personal_, pel_), against a
// scripted node (no network, no chain). The dispatcher finds a method by a hash lookup, which
// gives libFuzzer no comparison to learn names from, so rpc_corpus/ holds at least one call of
// every method. Checks:
//  - the dispatcher always answers valid JSON (or nothing for notifications);
//  - no answer carries -32603 (a handler threw: a decoding path that trusts its input);
//  - every value decoder accepts only what its encoder writes back unchanged (quantities, data,
//    addresses, hashes), so "accepted" always means "canonical";
//  - parse_json (the dispatcher's parser: simdjson scanning, nlohmann values) gives exactly what
//    nlohmann::json::parse gives, types included, or refuses exactly what it refuses.
// Sanitizers (the fuzz preset builds with ASan+UBSan) catch memory errors and UB.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>

#include "node/json_codec.hpp"
#include "node/json_parse.hpp"
#include "node/rpc_dispatch.hpp"
#include "node/rpc_eth.hpp"
#include "node/rpc_json.hpp"
#include "tests/unit/node/json_identical.hpp"
#include "tests/unit/node/rpc_fake_node.hpp"

namespace {

using pel::node::rpc::Json;
namespace json = pel::node::json;

[[noreturn]] void fail(const char* what, std::string_view detail) {
    std::cerr << "rpc_fuzz: " << what << ": " << detail << "\n";
    std::abort();
}

struct Harness {
    pel::node::test::FakeNode node;
    pel::node::rpc::Dispatcher dispatcher{pel::node::rpc::DispatcherOptions{64}};
    pel::node::rpc::EthRpc eth{node};
    Harness() {
        // One signing account (the fake signs for it with a fixed key), so that eth_sign,
        // personal_sign and eth_signTypedData_v4 run to the signature. The seeds use it.
        node.signing_key.bytes.fill(0x01);
        node.accounts_value = {*json::parse_address(Json("0x" + std::string(38, '0') + "aa"))};
        eth.register_methods(dispatcher);
    }
};

void check_no_internal_error(const Json& response) {
    auto check_one = [](const Json& r) {
        if (!r.is_object()) {
            fail("response is not an object", r.dump());
        }
        const auto e = r.find("error");
        if (e != r.end() && (*e)["code"] == pel::node::rpc::kInternalError) {
            fail("internal error (a handler threw)", r.dump());
        }
    };
    if (response.is_array()) {
        for (const auto& r : response) {
            check_one(r);
        }
    } else {
        check_one(response);
    }
}

/// Whatever a decoder accepts must re-encode to the same text (lower-cased).
void check_canonical(const Json& v) {
    if (!v.is_string()) {
        return;
    }
    std::string lower = v.get<std::string>();
    for (char& c : lower) {
        if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
    }
    if (lower.size() >= 2 && lower[1] == 'X') lower[1] = 'x';
    if (auto q = json::parse_quantity(v); q && json::quantity(*q) != lower) {
        fail("non-canonical quantity accepted", lower);
    }
    if (auto d = json::parse_data(v); d && json::data(*d) != lower) {
        fail("non-canonical data accepted", lower);
    }
    if (auto a = json::parse_address(v); a && json::address(*a) != lower) {
        fail("address does not round-trip", lower);
    }
    if (auto h = json::parse_hash(v); h && json::hash(*h) != lower) {
        fail("hash does not round-trip", lower);
    }
}

void walk_values(const Json& v, int depth) {
    if (depth > 8) {
        return;
    }
    check_canonical(v);
    static_cast<void>(json::parse_block_param(v));
    static_cast<void>(pel::node::rpc::parse_call_request(v));
    static_cast<void>(pel::node::rpc::parse_log_filter(v));
    if (v.is_array() || v.is_object()) {
        size_t n = 0;
        for (const auto& x : v) {
            if (++n > 64) break;
            walk_values(x, depth + 1);
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static Harness h;
    const std::string_view body(reinterpret_cast<const char*>(data), size);  // NOLINT

    const auto out = h.dispatcher.handle(body);
    if (out) {
        const Json response = Json::parse(*out, nullptr, false);
        if (response.is_discarded()) {
            fail("response is not JSON", *out);
        }
        check_no_internal_error(response);
    }

    const Json parsed = Json::parse(body, nullptr, false);
    const Json fast = pel::node::rpc::parse_json(body);
    if (parsed.is_discarded() != fast.is_discarded() ||
        (!parsed.is_discarded() && !pel::node::test::json_identical(parsed, fast))) {
        fail("parse_json differs from nlohmann::json::parse", body);
    }
    if (!parsed.is_discarded()) {
        walk_values(parsed, 0);
    }
    static_cast<void>(json::decode_revert_reason(pel::ByteView(data, size)));
    return 0;
}
