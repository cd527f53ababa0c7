// SPDX-License-Identifier: Apache-2.0
// Hex encoding and decoding. Decoding accepts an optional "0x"/"0X" prefix and both letter cases;
// an odd number of digits or a non-hex character is an error that names the offending position.
#pragma once

#include <string>
#include <string_view>

#include "primitives/bytes.hpp"
#include "primitives/result.hpp"

namespace pel {

/// Lower-case hex of `data`, with a "0x" prefix when `prefix` is true.
[[nodiscard]] std::string to_hex(ByteView data, bool prefix = true);

/// Decodes hex text into bytes. Errors: odd digit count, invalid character (with its offset).
[[nodiscard]] Result<Bytes> from_hex(std::string_view text);

/// Decodes hex text into exactly `out.size()` bytes; a different length is an error.
[[nodiscard]] Result<void> from_hex_into(std::string_view text, std::span<uint8_t> out);

}  // namespace pel
