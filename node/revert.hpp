// SPDX-License-Identifier: Apache-2.0
// Revert data as geth words it (abi.UnpackRevert): shared by the node core (eth_call and
// eth_estimateGas errors) and the JSON-RPC layer (code 3 answers).
#pragma once

#include <optional>
#include <string>

#include "primitives/bytes.hpp"
#include "vm/host.hpp"

namespace pel::node {

/// Error(string) gives the string, Panic(uint256) solc's text for the code ("unknown panic code:
/// 0x.." otherwise); nullopt for anything else (custom errors, empty or malformed data).
[[nodiscard]] std::optional<std::string> decode_revert_reason(ByteView output);

/// geth's message for how a frame ended ("execution reverted", "out of gas", "invalid opcode:
/// INVALID", ...); empty for success.
[[nodiscard]] std::string halt_message(vm::Status s);

/// geth's message for a reverted call: "execution reverted" or "execution reverted: <reason>".
[[nodiscard]] std::string revert_message(ByteView output);

}  // namespace pel::node
