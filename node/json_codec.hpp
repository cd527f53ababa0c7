// SPDX-License-Identifier: Apache-2.0
// The JSON-RPC value codec (Ethereum's "hexutil" rules): quantities are "0x"-prefixed hex with no
// leading zeros ("0x0" for zero), data is "0x"-prefixed hex of even length, addresses and hashes
// are data of exactly 20 and 32 bytes. Decoders are strict and return an error that says what was
// wrong (the RPC layer turns it into -32602 "invalid argument N: <message>"). Encoders always
// produce the canonical form. Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json_fwd.hpp>

#include "node/revert.hpp"
#include "primitives/bytes.hpp"
#include "primitives/hash.hpp"
#include "primitives/result.hpp"
#include "primitives/u256.hpp"

namespace pel::node::json {

using Json = nlohmann::json;

// --- encoders -------------------------------------------------------------------------------

/// Shortest "0x" hex of a quantity ("0x0" for zero).
[[nodiscard]] std::string quantity(uint64_t v);
[[nodiscard]] std::string quantity(const U256& v);
/// "0x" + lower-case hex of the bytes ("0x" for empty).
[[nodiscard]] std::string data(ByteView v);
/// Lower-case "0x" hex (JSON-RPC output; checksummed case is a display concern of the client).
[[nodiscard]] std::string address(const Address& a);
[[nodiscard]] std::string hash(const Hash32& h);

// --- decoders (strict) ----------------------------------------------------------------------

/// A quantity string: "0x" prefix (either case), 1..64 hex digits, no leading zero digit unless
/// the value is exactly "0x0". Errors: not a string, missing prefix, empty, leading zeros, bad
/// digit, above 2^256-1.
[[nodiscard]] Result<U256> parse_quantity(const Json& v);
/// A quantity that must fit 64 bits (nonces, gas, block numbers).
[[nodiscard]] Result<uint64_t> parse_quantity_u64(const Json& v);
/// Data: "0x" prefix, even number of hex digits ("0x" is empty data).
[[nodiscard]] Result<Bytes> parse_data(const Json& v);
/// Exactly 20 bytes of data.
[[nodiscard]] Result<Address> parse_address(const Json& v);
/// Exactly 32 bytes of data.
[[nodiscard]] Result<Hash32> parse_hash(const Json& v);
/// A storage slot key as eth_getStorageAt takes it: geth accepts any hex up to 32 bytes (it is
/// left-padded); "0x" prefix required, at most 64 digits, odd digit counts allowed.
[[nodiscard]] Result<Hash32> parse_slot(const Json& v);

/// A block tag: the named ones, a number, or (EIP-1898) a block hash.
struct BlockParam {
    enum class Kind : uint8_t { kLatest, kPending, kEarliest, kSafe, kFinalized, kNumber, kHash };
    Kind kind = Kind::kLatest;
    uint64_t number = 0;  ///< kNumber
    Hash32 hash;          ///< kHash
    friend bool operator==(const BlockParam&, const BlockParam&) = default;
};

/// "latest" | "pending" | "earliest" | "safe" | "finalized" | quantity | EIP-1898 object
/// {"blockNumber": q} or {"blockHash": h, "requireCanonical": bool}. When `allow_hash` is false,
/// the object form with a hash is rejected (eth_getBlockByNumber, filters).
[[nodiscard]] Result<BlockParam> parse_block_param(const Json& v, bool allow_hash = true);

/// Revert reasons (node/revert.hpp), here too for the RPC layer's callers.
using node::decode_revert_reason;
using node::revert_message;

}  // namespace pel::node::json
