// SPDX-License-Identifier: Apache-2.0
// The digests that the signing methods of the dev accounts sign (eth_sign, personal_sign,
// eth_signTypedData_v4): EIP-191 personal messages and EIP-712 typed structured data, the JSON
// form that ethers' JsonRpcSigner, viem's JSON-RPC accounts and MetaMask send.
//
// Typed data (EIP-712, as geth and eth-sig-util's V4 read it):
//   {"types": {"EIP712Domain": [{"name", "type"}...], "<Struct>": [...]...},
//    "primaryType": "<Struct>", "domain": {...}, "message": {...}}
//   digest = keccak256(0x19 0x01 || hashStruct("EIP712Domain", domain) ||
//                      hashStruct(primaryType, message))
//   (only the domain hash when primaryType is "EIP712Domain"). A missing "EIP712Domain" type is
//   derived from the domain's fields in the standard order (name, version, chainId,
//   verifyingContract, salt).
// Values: uintN/intN as a JSON integer, a decimal string (a leading '-' for intN) or "0x" hex,
// range-checked for N; address as 20 bytes of "0x" hex; bool as true/false; bytesN as exactly N
// bytes of "0x" hex; bytes as "0x" hex and string as text (both hashed); T[] and T[k] arrays
// (k checked); struct types by name (recursive types allowed). Every error says where it was
// found (e.g. "message.to.wallet: ..."); nothing is signed then. Thread safety: pure functions.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include "primitives/bytes.hpp"
#include "primitives/hash.hpp"
#include "primitives/result.hpp"

namespace pel::node {

/// EIP-191 version 0x45: keccak256("\x19Ethereum Signed Message:\n" + decimal length + message).
[[nodiscard]] Hash32 personal_message_digest(ByteView message);

/// The EIP-712 digest of `typed_data` (the JSON object above). Errors: malformed typed data.
[[nodiscard]] Result<Hash32> typed_data_digest(const nlohmann::json& typed_data);

/// encodeType(primary_type) of `types` (the "types" object): exposed for tests.
[[nodiscard]] Result<std::string> typed_data_encode_type(const nlohmann::json& types,
                                                         const std::string& primary_type);

}  // namespace pel::node
