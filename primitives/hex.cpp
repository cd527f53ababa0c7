// SPDX-License-Identifier: Apache-2.0
#include "primitives/hex.hpp"

#include <array>
#include <cstdint>

namespace pel {
namespace {

constexpr char kDigits[] = "0123456789abcdef";

/// Digit values by character, -1 for anything else: one load per digit instead of three ranges
/// (raw transactions arrive as hex, hundreds of digits each).
constexpr std::array<int8_t, 256> kValues = [] {
    std::array<int8_t, 256> t{};
    t.fill(-1);
    for (int c = '0'; c <= '9'; ++c) t[static_cast<size_t>(c)] = static_cast<int8_t>(c - '0');
    for (int c = 'a'; c <= 'f'; ++c) t[static_cast<size_t>(c)] = static_cast<int8_t>(c - 'a' + 10);
    for (int c = 'A'; c <= 'F'; ++c) t[static_cast<size_t>(c)] = static_cast<int8_t>(c - 'A' + 10);
    return t;
}();

int hex_value(char c) noexcept { return kValues[static_cast<uint8_t>(c)]; }

std::string_view strip_prefix(std::string_view text) noexcept {
    if (text.size() >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
        text.remove_prefix(2);
    }
    return text;
}

Result<void> decode_digits(std::string_view digits, size_t prefix_len, uint8_t* out) {
    for (size_t i = 0; i < digits.size(); i += 2) {
        const int hi = hex_value(digits[i]);
        const int lo = hex_value(digits[i + 1]);
        if (hi < 0 || lo < 0) {
            const size_t bad = prefix_len + i + (hi < 0 ? 0 : 1);
            return make_error("hex: invalid character '", digits[hi < 0 ? i : i + 1],
                              "' at offset ", bad);
        }
        out[i / 2] = static_cast<uint8_t>((hi << 4) | lo);  // NOLINT(*-pointer-arithmetic)
    }
    return {};
}

}  // namespace

std::string to_hex(ByteView data, bool prefix) {
    const size_t start = prefix ? 2 : 0;
    std::string s(start + data.size() * 2, '\0');
    if (prefix) {
        s[0] = '0';
        s[1] = 'x';
    }
    char* out = s.data() + start;  // NOLINT(*-pointer-arithmetic)
    for (const uint8_t b : data) {
        *out++ = kDigits[b >> 4];   // NOLINT(*-pointer-arithmetic)
        *out++ = kDigits[b & 0xf];  // NOLINT(*-pointer-arithmetic)
    }
    return s;
}

Result<Bytes> from_hex(std::string_view text) {
    const std::string_view digits = strip_prefix(text);
    if (digits.size() % 2 != 0) {
        return make_error("hex: odd number of digits (", digits.size(), ")");
    }
    Bytes out(digits.size() / 2);
    PEL_TRY_VOID(decode_digits(digits, text.size() - digits.size(), out.data()));
    return out;
}

Result<void> from_hex_into(std::string_view text, std::span<uint8_t> out) {
    const std::string_view digits = strip_prefix(text);
    if (digits.size() != out.size() * 2) {
        return make_error("hex: expected ", out.size() * 2, " digits, got ", digits.size());
    }
    return decode_digits(digits, text.size() - digits.size(), out.data());
}

}  // namespace pel
