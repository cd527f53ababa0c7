// SPDX-License-Identifier: Apache-2.0
// The EIP-712 specification's example (the Mail message of Cow to Bob), shared by the digest
// tests and the RPC method tests, with the values the specification gives for it.
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

namespace pel::node::test {

inline nlohmann::json eip712_mail() {
    return nlohmann::json::parse(R"({
      "types": {
        "EIP712Domain": [{"name": "name", "type": "string"}, {"name": "version", "type": "string"},
                         {"name": "chainId", "type": "uint256"},
                         {"name": "verifyingContract", "type": "address"}],
        "Person": [{"name": "name", "type": "string"}, {"name": "wallet", "type": "address"}],
        "Mail": [{"name": "from", "type": "Person"}, {"name": "to", "type": "Person"},
                 {"name": "contents", "type": "string"}]
      },
      "primaryType": "Mail",
      "domain": {"name": "Ether Mail", "version": "1", "chainId": 1,
                 "verifyingContract": "0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC"},
      "message": {
        "from": {"name": "Cow", "wallet": "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826"},
        "to": {"name": "Bob", "wallet": "0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB"},
        "contents": "Hello, Bob!"
      }
    })");
}

/// Its digest, and the signature of it by keccak256("cow") (address 0xcd2a...d826).
inline constexpr std::string_view kEip712MailDigest =
    "0xbe609aee343fb3c4b28e1df9e632fca64fcfaede20f02e86244efddf30957bd2";
inline constexpr std::string_view kEip712MailCowSignature =
    "0x4355c47d63924e8a72e509b65029052eb6c299d53a04e167c5775fd466751c9d"
    "07299936d304c153f6443dfa05f40ff007d72911b6f72307f996231605b915621c";
inline constexpr std::string_view kEip712Cow = "0xcd2a3d9f938e13cd947ec05abc7fe734df8dd826";

}  // namespace pel::node::test
