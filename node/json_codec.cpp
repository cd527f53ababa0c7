// SPDX-License-Identifier: Apache-2.0
#include "node/json_codec.hpp"

#include <array>

#include <nlohmann/json.hpp>

#include "primitives/hex.hpp"

namespace pel::node::json {

namespace {

bool has_hex_prefix(std::string_view s) {
    return s.size() >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
}

bool is_hex_digit(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/// The string of a JSON value, or an error naming what was expected.
Result<std::string_view> as_string(const Json& v, std::string_view what) {
    if (!v.is_string()) {
        return make_error("json: cannot unmarshal ", std::string_view(v.type_name()), " into ",
                          what);
    }
    return std::string_view(v.get_ref<const std::string&>());
}

/// The digits of a quantity after checking the hexutil rules.
Result<std::string_view> quantity_digits(const Json& v, size_t max_digits) {
    PEL_TRY(const std::string_view s, as_string(v, "a hex quantity"));
    if (!has_hex_prefix(s)) {
        return make_error("hex string without 0x prefix");
    }
    const std::string_view digits = s.substr(2);
    if (digits.empty()) {
        return make_error("hex string \"0x\"");
    }
    for (const char c : digits) {
        if (!is_hex_digit(c)) {
            return make_error("invalid hex string");
        }
    }
    if (digits.size() > 1 && digits[0] == '0') {
        return make_error("hex number with leading zero digits");
    }
    if (digits.size() > max_digits) {
        return make_error("hex number > ", max_digits * 4, " bits");
    }
    return digits;
}

Result<Bytes> data_bytes(const Json& v, std::string_view what) {
    PEL_TRY(const std::string_view s, as_string(v, what));
    if (!has_hex_prefix(s)) {
        return make_error("hex string without 0x prefix");
    }
    const std::string_view digits = s.substr(2);
    if (digits.size() % 2 != 0) {
        return make_error("hex string of odd length");
    }
    // One pass: from_hex checks every digit as it decodes. It is given the whole string, so that it
    // strips the one prefix checked above and a second "0x" is an invalid digit.
    auto bytes = from_hex(s);
    if (!bytes) {
        return make_error("invalid hex string");
    }
    return bytes;
}

}  // namespace

std::string quantity(uint64_t v) { return U256(v).to_hex(); }
std::string quantity(const U256& v) { return v.to_hex(); }
std::string data(ByteView v) { return to_hex(v, true); }
std::string address(const Address& a) { return to_hex(a.view(), true); }
std::string hash(const Hash32& h) { return to_hex(h.view(), true); }

Result<U256> parse_quantity(const Json& v) {
    PEL_TRY(const std::string_view digits, quantity_digits(v, 64));
    return U256::from_hex(digits);
}

Result<uint64_t> parse_quantity_u64(const Json& v) {
    PEL_TRY(const std::string_view digits, quantity_digits(v, 16));
    PEL_TRY(const U256 value, U256::from_hex(digits));
    return value.low64();
}

Result<Bytes> parse_data(const Json& v) { return data_bytes(v, "hex data"); }

Result<Address> parse_address(const Json& v) {
    PEL_TRY(const Bytes b, data_bytes(v, "an address"));
    if (b.size() != Address::kSize) {
        return make_error("hex string has length ", b.size() * 2, ", want 40 for common.Address");
    }
    return Address::from_view(b);
}

Result<Hash32> parse_hash(const Json& v) {
    PEL_TRY(const Bytes b, data_bytes(v, "a hash"));
    if (b.size() != Hash32::kSize) {
        return make_error("hex string has length ", b.size() * 2, ", want 64 for common.Hash");
    }
    return Hash32::from_view(b);
}

Result<Hash32> parse_slot(const Json& v) {
    PEL_TRY(const std::string_view s, as_string(v, "a storage slot"));
    if (!has_hex_prefix(s)) {
        return make_error("hex string without 0x prefix");
    }
    std::string digits(s.substr(2));
    if (digits.size() > 64) {
        return make_error("hex string too long, want at most 32 bytes");
    }
    for (const char c : digits) {
        if (!is_hex_digit(c)) {
            return make_error("invalid hex string");
        }
    }
    if (digits.size() % 2 != 0) {
        digits.insert(digits.begin(), '0');
    }
    PEL_TRY(const Bytes b, from_hex(digits));
    return Hash32::from_view_padded(b);
}

Result<BlockParam> parse_block_param(const Json& v, bool allow_hash) {
    BlockParam tag;
    if (v.is_string()) {
        const auto& s = v.get_ref<const std::string&>();
        if (s == "latest") {
            tag.kind = BlockParam::Kind::kLatest;
        } else if (s == "pending") {
            tag.kind = BlockParam::Kind::kPending;
        } else if (s == "earliest") {
            tag.kind = BlockParam::Kind::kEarliest;
        } else if (s == "safe") {
            tag.kind = BlockParam::Kind::kSafe;
        } else if (s == "finalized") {
            tag.kind = BlockParam::Kind::kFinalized;
        } else {
            // A 32-byte hash where a block number or hash is accepted (geth does the same).
            if (allow_hash && s.size() == 66 && has_hex_prefix(s)) {
                PEL_TRY(tag.hash, parse_hash(v));
                tag.kind = BlockParam::Kind::kHash;
                return tag;
            }
            PEL_TRY(tag.number, parse_quantity_u64(v));
            tag.kind = BlockParam::Kind::kNumber;
        }
        return tag;
    }
    if (v.is_object()) {
        const auto num = v.find("blockNumber");
        const auto hsh = v.find("blockHash");
        if (num != v.end() && hsh != v.end()) {
            return make_error(
                "cannot specify both BlockHash and BlockNumber, choose one or the other");
        }
        if (hsh != v.end()) {
            if (!allow_hash) {
                return make_error("block hash is not allowed here");
            }
            PEL_TRY(tag.hash, parse_hash(*hsh));
            tag.kind = BlockParam::Kind::kHash;
            return tag;
        }
        if (num != v.end()) {
            return parse_block_param(*num, false);
        }
        return make_error("key 'blockNumber' or 'blockHash' is required");
    }
    return make_error("json: cannot unmarshal ", std::string_view(v.type_name()),
                      " into a block number");
}

}  // namespace pel::node::json
