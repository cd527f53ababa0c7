// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the JSON documents pel-node takes whole from its users: a genesis file
// (--genesis, node/genesis.hpp parse_genesis) and EIP-712 typed data (eth_signTypedData_v4,
// node/eip712.hpp typed_data_digest, whose struct types may refer to each other and to
// themselves). The same text goes to both. Checks: no crash, hang or undefined behaviour (the fuzz
// preset builds with ASan+UBSan; libFuzzer's -timeout catches runaway recursion), and no exception
// escapes either (both answer bad input with an error).
// Seeds: json_doc_corpus/ (a geth genesis with alloc, code and storage; a consensus genesis with
// validators; EIP-712 Mail and a recursive Person type).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "node/eip712.hpp"
#include "node/genesis.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    static_cast<void>(pel::node::parse_genesis(text, pel::node::Genesis{}));
    const auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (!j.is_discarded()) {
        static_cast<void>(pel::node::typed_data_digest(j));
    }
    return 0;
}
