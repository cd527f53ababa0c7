// SPDX-License-Identifier: Apache-2.0
// RLP (Yellow Paper, appendix B). The decoder accepts exactly one encoding per value, so that a
// decoded structure always re-encodes to the input bytes; hashes of decoded objects (transaction
// hashes, trie nodes) then never depend on which of several spellings a peer chose.
//
// Overflow: every length check compares a claimed length against the bytes that remain, never
// `pos + len` against the size, so that a 64-bit length from the input cannot wrap.
#include "primitives/rlp.hpp"

#include <algorithm>
#include <bit>
#include <limits>

namespace pel::rlp {
namespace {

constexpr uint8_t kStringBase = 0x80;  // short string: 0x80 + len, long string: 0xb7 + len-of-len
constexpr uint8_t kListBase = 0xc0;    // short list:   0xc0 + len, long list:   0xf7 + len-of-len
constexpr size_t kShortMax = 55;       // longest payload whose length fits in the prefix byte

// Bytes needed to write `v` big-endian without leading zeros (0 for 0).
constexpr size_t be_width(uint64_t v) noexcept {
    return static_cast<size_t>((std::bit_width(v) + 7) / 8);
}

void append_be(Bytes& out, uint64_t v, size_t width) {
    for (size_t i = width; i > 0; --i) {
        out.push_back(static_cast<uint8_t>(v >> (8 * (i - 1))));
    }
}

void append_header(Bytes& out, uint8_t base, size_t payload_len) {
    if (payload_len <= kShortMax) {
        out.push_back(static_cast<uint8_t>(base + payload_len));
        return;
    }
    const size_t width = be_width(payload_len);
    out.push_back(static_cast<uint8_t>(base + kShortMax + width));
    append_be(out, payload_len, width);
}

const char* kind_name(bool is_list) noexcept { return is_list ? "list" : "string"; }

}  // namespace

// --- encoding ---------------------------------------------------------------------------------

size_t header_size(size_t payload_len) noexcept {
    return payload_len <= kShortMax ? 1 : 1 + be_width(payload_len);
}

void encode_bytes(Bytes& out, ByteView v) {
    if (v.size() == 1 && v[0] < kStringBase) {
        out.push_back(v[0]);  // a single byte below 0x80 is its own encoding
        return;
    }
    out.reserve(out.size() + header_size(v.size()) + v.size());
    append_header(out, kStringBase, v.size());
    append(out, v);
}

void encode_uint(Bytes& out, uint64_t v) {
    if (v != 0 && v < kStringBase) {
        out.push_back(static_cast<uint8_t>(v));
        return;
    }
    const size_t width = be_width(v);  // zero is the empty string, 0x80
    out.push_back(static_cast<uint8_t>(kStringBase + width));
    append_be(out, v, width);
}

void encode_uint(Bytes& out, const U256& v) {
    if (v.fits_u64()) {
        encode_uint(out, v.low64());
        return;
    }
    const size_t width = v.byte_width();  // 9..32, always the short form
    out.push_back(static_cast<uint8_t>(kStringBase + width));
    for (size_t i = width; i > 0; --i) {
        const size_t byte_idx = i - 1;  // counted from the least significant byte
        out.push_back(static_cast<uint8_t>(v.limbs[byte_idx / 8] >> (8 * (byte_idx % 8))));
    }
}

void encode_list_header(Bytes& out, size_t payload_len) {
    append_header(out, kListBase, payload_len);
}

void encode_list(Bytes& out, ByteView payload) {
    out.reserve(out.size() + header_size(payload.size()) + payload.size());
    append_header(out, kListBase, payload.size());
    append(out, payload);
}

// --- decoding ---------------------------------------------------------------------------------

Result<Header> Decoder::peek_header() const {
    const size_t at = offset();
    const size_t remaining = in_.size() - pos_;
    if (remaining == 0) {
        return make_error("rlp: truncated input: expected an item at offset ", at);
    }
    const uint8_t prefix = in_[pos_];
    if (prefix < kStringBase) {
        return Header{false, 0, 1};  // the byte is its own payload
    }

    Header h;
    h.is_list = prefix >= kListBase;
    const uint8_t base = h.is_list ? kListBase : kStringBase;
    const size_t short_len = static_cast<size_t>(prefix - base);
    if (short_len <= kShortMax) {
        h.header_len = 1;
        h.payload_len = short_len;
        if (short_len > remaining - 1) {
            return make_error("rlp: truncated input: ", kind_name(h.is_list), " at offset ", at,
                              " declares ", short_len, " payload bytes but only ", remaining - 1,
                              " remain");
        }
        if (!h.is_list && short_len == 1 && in_[pos_ + 1] < kStringBase) {
            return make_error("rlp: non-canonical single byte: 0x81 prefix before a byte below ",
                              "0x80 at offset ", at, " (the byte must encode itself)");
        }
        return h;
    }

    // Long form: the prefix gives the width of a big-endian length that follows.
    const size_t width = short_len - kShortMax;  // 1..8
    if (width > remaining - 1) {
        return make_error("rlp: truncated input: ", kind_name(h.is_list), " at offset ", at,
                          " needs ", width, " length bytes but only ", remaining - 1, " remain");
    }
    if (in_[pos_ + 1] == 0) {
        return make_error("rlp: non-canonical length: leading zero byte in the length of the ",
                          kind_name(h.is_list), " at offset ", at);
    }
    uint64_t len = 0;
    for (size_t i = 0; i < width; ++i) len = (len << 8) | in_[pos_ + 1 + i];
    if (len <= kShortMax) {
        return make_error("rlp: non-canonical length: long form for a ", kind_name(h.is_list),
                          " of ", len, " bytes (below 56) at offset ", at);
    }
    h.header_len = 1 + width;
    if (len > std::numeric_limits<size_t>::max() - h.header_len) {
        return make_error("rlp: length ", len, " of the ", kind_name(h.is_list), " at offset ", at,
                          " overflows size_t");
    }
    h.payload_len = static_cast<size_t>(len);
    if (h.payload_len > remaining - h.header_len) {
        return make_error("rlp: truncated input: ", kind_name(h.is_list), " at offset ", at,
                          " declares ", h.payload_len, " payload bytes but only ",
                          remaining - h.header_len, " remain");
    }
    return h;
}

Result<ByteView> Decoder::read_bytes() {
    PEL_TRY(const Header h, peek_header());
    if (h.is_list) {
        return make_error("rlp: expected a string, found a list at offset ", offset());
    }
    const ByteView payload = in_.subspan(pos_ + h.header_len, h.payload_len);
    pos_ += h.header_len + h.payload_len;
    return payload;
}

Result<Decoder> Decoder::read_list() {
    PEL_TRY(const Header h, peek_header());
    if (!h.is_list) {
        return make_error("rlp: expected a list, found a string at offset ", offset());
    }
    Decoder inner(in_.subspan(pos_ + h.header_len, h.payload_len), offset() + h.header_len);
    pos_ += h.header_len + h.payload_len;
    return inner;
}

Result<ByteView> Decoder::read_raw_item() {
    PEL_TRY(const Header h, peek_header());
    const ByteView item = in_.subspan(pos_, h.header_len + h.payload_len);
    pos_ += item.size();
    return item;
}

namespace {

// Shared checks for canonical integers: a string of at most `max_width` bytes with no leading
// zero (zero itself is the empty string, 0x80).
Result<ByteView> check_integer(ByteView payload, size_t at, size_t max_width, const char* type) {
    if (!payload.empty() && payload[0] == 0) {
        if (payload.size() == 1) {
            return make_error("rlp: non-canonical integer: 0x00 at offset ", at,
                              " (zero must be encoded as 0x80)");
        }
        return make_error("rlp: non-canonical integer: leading zero byte at offset ", at);
    }
    if (payload.size() > max_width) {
        return make_error("rlp: integer too wide for ", type, ": ", payload.size(),
                          " bytes at offset ", at);
    }
    return payload;
}

}  // namespace

Result<uint64_t> Decoder::read_u64() {
    const size_t at = offset();
    Decoder probe = *this;  // commit the position only if the value is valid
    PEL_TRY(const ByteView raw, probe.read_bytes());
    PEL_TRY(const ByteView payload, check_integer(raw, at, 8, "u64"));
    *this = probe;
    uint64_t v = 0;
    for (const uint8_t b : payload) v = (v << 8) | b;
    return v;
}

Result<U256> Decoder::read_u256() {
    const size_t at = offset();
    Decoder probe = *this;
    PEL_TRY(const ByteView raw, probe.read_bytes());
    PEL_TRY(const ByteView payload, check_integer(raw, at, 32, "u256"));
    *this = probe;
    U256 v;
    const size_t n = payload.size();
    for (size_t i = 0; i < n; ++i) {
        const size_t byte_idx = n - 1 - i;  // counted from the least significant byte
        v.limbs[byte_idx / 8] |= uint64_t{payload[i]} << (8 * (byte_idx % 8));
    }
    return v;
}

Result<Address> Decoder::read_address() {
    const size_t at = offset();
    Decoder probe = *this;
    PEL_TRY(const ByteView payload, probe.read_bytes());
    if (payload.size() != Address::kSize) {
        return make_error("rlp: expected a 20-byte address, got ", payload.size(),
                          " bytes at offset ", at);
    }
    *this = probe;
    Address a;
    std::copy(payload.begin(), payload.end(), a.bytes.begin());
    return a;
}

Result<Hash32> Decoder::read_hash() {
    const size_t at = offset();
    Decoder probe = *this;
    PEL_TRY(const ByteView payload, probe.read_bytes());
    if (payload.size() != Hash32::kSize) {
        return make_error("rlp: expected a 32-byte hash, got ", payload.size(), " bytes at offset ",
                          at);
    }
    *this = probe;
    Hash32 h;
    std::copy(payload.begin(), payload.end(), h.bytes.begin());
    return h;
}

Result<void> Decoder::expect_end() const {
    if (!at_end()) {
        return make_error("rlp: ", in_.size() - pos_, " trailing bytes at offset ", offset());
    }
    return {};
}

}  // namespace pel::rlp
