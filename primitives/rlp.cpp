// SPDX-License-Identifier: Apache-2.0
// RLP (Yellow Paper, appendix B). The decoder accepts exactly one encoding per value, so that a
// decoded structure always re-encodes to the input bytes; hashes of decoded objects (transaction
// hashes, trie nodes) then never depend on which of several spellings a peer chose.
//
// Overflow: every length check compares a claimed length against the bytes that remain, never
// `pos + len` against the size, so that a 64-bit length from the input cannot wrap.
#include "primitives/rlp.hpp"

#include <array>
#include <bit>
#include <cstring>
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
    append_header(out, kListBase, payload.size());
    append(out, payload);
}

void encode_bytes_list(Bytes& out, std::span<const Bytes> items) {
    size_t payload = 0;
    for (const Bytes& b : items) {
        payload += b.size() == 1 && b[0] < kStringBase ? 1 : header_size(b.size()) + b.size();
    }
    append_header(out, kListBase, payload);
    for (const Bytes& b : items) {
        encode_bytes(out, b);
    }
}

// --- decoding ---------------------------------------------------------------------------------
//
// The hot path (parse_header and the readers) only classifies; messages are built in cold,
// out-of-line functions, so that a valid item costs a few compares and no string work.

namespace {

enum class HeaderStatus : uint8_t {
    kOk,
    kEmpty,              // no item at all
    kTruncatedLength,    // long form: the length bytes run past the end
    kTruncatedPayload,   // the payload runs past the end
    kSingleByte,         // 0x81 followed by a byte below 0x80
    kLeadingZeroLength,  // long form: the length starts with 0x00
    kLongFormForShort,   // long form for a length below 56
    kLengthOverflow,     // header_len + length does not fit size_t
};

// Classifies the item at `pos`. On kOk `h` is complete; on an error it holds what was parsed so
// far (is_list, and for truncations header_len and payload_len), for the message.
inline HeaderStatus parse_header(ByteView in, size_t pos, Header& h) noexcept {
    const size_t remaining = in.size() - pos;
    if (remaining == 0) {
        return HeaderStatus::kEmpty;
    }
    const uint8_t prefix = in[pos];
    if (prefix < kStringBase) {
        h = Header{false, 0, 1};  // the byte is its own payload
        return HeaderStatus::kOk;
    }
    h.is_list = prefix >= kListBase;
    const auto short_len = static_cast<size_t>(prefix - (h.is_list ? kListBase : kStringBase));
    if (short_len <= kShortMax) {
        h.header_len = 1;
        h.payload_len = short_len;
        if (short_len > remaining - 1) {
            return HeaderStatus::kTruncatedPayload;
        }
        if (short_len == 1 && !h.is_list && in[pos + 1] < kStringBase) {
            return HeaderStatus::kSingleByte;
        }
        return HeaderStatus::kOk;
    }
    // Long form: the prefix gives the width of a big-endian length that follows.
    const size_t width = short_len - kShortMax;  // 1..8
    h.header_len = 1 + width;
    if (width > remaining - 1) {
        return HeaderStatus::kTruncatedLength;
    }
    if (in[pos + 1] == 0) {
        return HeaderStatus::kLeadingZeroLength;
    }
    uint64_t len = 0;
    for (size_t i = 0; i < width; ++i) {
        len = (len << 8) | in[pos + 1 + i];
    }
    if (len <= kShortMax) {
        return HeaderStatus::kLongFormForShort;
    }
    if (len > std::numeric_limits<size_t>::max() - h.header_len) {
        return HeaderStatus::kLengthOverflow;
    }
    h.payload_len = static_cast<size_t>(len);
    if (h.payload_len > remaining - h.header_len) {
        return HeaderStatus::kTruncatedPayload;
    }
    return HeaderStatus::kOk;
}

// The long-form length at `pos`, re-read for messages (parse_header has validated its width).
uint64_t long_length(ByteView in, size_t pos, size_t header_len) noexcept {
    uint64_t len = 0;
    for (size_t i = 1; i < header_len; ++i) {
        len = (len << 8) | in[pos + i];
    }
    return len;
}

[[gnu::cold, gnu::noinline]] Unexpected<Error> header_error(HeaderStatus st, ByteView in,
                                                            size_t pos, size_t at,
                                                            const Header& h) {
    const char* kind = kind_name(h.is_list);
    const size_t remaining = in.size() - pos;
    switch (st) {
        case HeaderStatus::kEmpty:
            return make_error("rlp: truncated input: expected an item at offset ", at);
        case HeaderStatus::kTruncatedLength:
            return make_error("rlp: truncated input: ", kind, " at offset ", at, " needs ",
                              h.header_len - 1, " length bytes but only ", remaining - 1,
                              " remain");
        case HeaderStatus::kTruncatedPayload:
            return make_error("rlp: truncated input: ", kind, " at offset ", at, " declares ",
                              h.payload_len, " payload bytes but only ", remaining - h.header_len,
                              " remain");
        case HeaderStatus::kSingleByte:
            return make_error("rlp: non-canonical single byte: 0x81 prefix before a byte below ",
                              "0x80 at offset ", at, " (the byte must encode itself)");
        case HeaderStatus::kLeadingZeroLength:
            return make_error("rlp: non-canonical length: leading zero byte in the length of the ",
                              kind, " at offset ", at);
        case HeaderStatus::kLongFormForShort:
            return make_error("rlp: non-canonical length: long form for a ", kind, " of ",
                              long_length(in, pos, h.header_len), " bytes (below 56) at offset ",
                              at);
        case HeaderStatus::kLengthOverflow:
            return make_error("rlp: length ", long_length(in, pos, h.header_len), " of the ", kind,
                              " at offset ", at, " overflows size_t");
        case HeaderStatus::kOk:
            break;
    }
    PEL_ASSERT(false, "header_error called without an error");
}

[[gnu::cold, gnu::noinline]] Unexpected<Error> kind_error(bool want_list, size_t at) {
    return make_error("rlp: expected a ", kind_name(want_list), ", found a ", kind_name(!want_list),
                      " at offset ", at);
}

// Canonical unsigned integers: no leading zero byte (zero itself is the empty string, 0x80) and
// at most `max_width` bytes.
[[gnu::cold, gnu::noinline]] Unexpected<Error> integer_error(ByteView payload, size_t at,
                                                             size_t max_width, const char* type) {
    if (payload.size() > max_width) {
        return make_error("rlp: integer too wide for ", type, ": ", payload.size(),
                          " bytes at offset ", at);
    }
    if (payload.size() == 1) {
        return make_error("rlp: non-canonical integer: 0x00 at offset ", at,
                          " (zero must be encoded as 0x80)");
    }
    return make_error("rlp: non-canonical integer: leading zero byte at offset ", at);
}

inline bool canonical_integer(ByteView payload, size_t max_width) noexcept {
    return payload.size() <= max_width && (payload.empty() || payload[0] != 0);
}

[[gnu::cold, gnu::noinline]] Unexpected<Error> size_error(const char* what, size_t want, size_t got,
                                                          size_t at) {
    return make_error("rlp: expected a ", want, "-byte ", what, ", got ", got, " bytes at offset ",
                      at);
}

inline uint64_t load_be64(const uint8_t* p) noexcept {
    uint64_t v = 0;
    std::memcpy(&v, p, 8);
    if constexpr (std::endian::native == std::endian::little) {
        v = __builtin_bswap64(v);
    }
    return v;
}

}  // namespace

Result<Header> Decoder::peek_header() const {
    Header h;
    const HeaderStatus st = parse_header(in_, pos_, h);
    if (st != HeaderStatus::kOk) [[unlikely]] {
        return header_error(st, in_, pos_, offset(), h);
    }
    return h;
}

Result<ByteView> Decoder::read_bytes() {
    Header h;
    const HeaderStatus st = parse_header(in_, pos_, h);
    if (st != HeaderStatus::kOk) [[unlikely]] {
        return header_error(st, in_, pos_, offset(), h);
    }
    if (h.is_list) [[unlikely]] {
        return kind_error(false, offset());
    }
    const ByteView payload = in_.subspan(pos_ + h.header_len, h.payload_len);
    pos_ += h.header_len + h.payload_len;
    return payload;
}

Result<Decoder> Decoder::read_list() {
    Header h;
    const HeaderStatus st = parse_header(in_, pos_, h);
    if (st != HeaderStatus::kOk) [[unlikely]] {
        return header_error(st, in_, pos_, offset(), h);
    }
    if (!h.is_list) [[unlikely]] {
        return kind_error(true, offset());
    }
    Decoder inner(in_.subspan(pos_ + h.header_len, h.payload_len), offset() + h.header_len);
    pos_ += h.header_len + h.payload_len;
    return inner;
}

Result<ByteView> Decoder::read_raw_item() {
    Header h;
    const HeaderStatus st = parse_header(in_, pos_, h);
    if (st != HeaderStatus::kOk) [[unlikely]] {
        return header_error(st, in_, pos_, offset(), h);
    }
    const ByteView item = in_.subspan(pos_, h.header_len + h.payload_len);
    pos_ += item.size();
    return item;
}

// The typed readers read through a copy and commit its position only once the value is valid, so
// that a failed read leaves the decoder where it was.

Result<uint64_t> Decoder::read_u64() {
    Decoder probe = *this;
    PEL_TRY(const ByteView payload, probe.read_bytes());
    if (!canonical_integer(payload, 8)) [[unlikely]] {
        return integer_error(payload, offset(), 8, "u64");
    }
    std::array<uint8_t, 8> buf{};  // right-aligned big-endian
    if (!payload.empty()) {
        std::memcpy(buf.data() + (8 - payload.size()), payload.data(), payload.size());
    }
    *this = probe;
    return load_be64(buf.data());
}

Result<U256> Decoder::read_u256() {
    Decoder probe = *this;
    PEL_TRY(const ByteView payload, probe.read_bytes());
    if (!canonical_integer(payload, 32)) [[unlikely]] {
        return integer_error(payload, offset(), 32, "u256");
    }
    std::array<uint8_t, 32> buf{};  // right-aligned big-endian
    if (!payload.empty()) {
        std::memcpy(buf.data() + (32 - payload.size()), payload.data(), payload.size());
    }
    *this = probe;
    return U256{load_be64(buf.data() + 24), load_be64(buf.data() + 16), load_be64(buf.data() + 8),
                load_be64(buf.data())};
}

Result<Address> Decoder::read_address() {
    Decoder probe = *this;
    PEL_TRY(const ByteView payload, probe.read_bytes());
    if (payload.size() != Address::kSize) [[unlikely]] {
        return size_error("address", Address::kSize, payload.size(), offset());
    }
    *this = probe;
    Address a;
    std::memcpy(a.bytes.data(), payload.data(), Address::kSize);
    return a;
}

Result<Hash32> Decoder::read_hash() {
    Decoder probe = *this;
    PEL_TRY(const ByteView payload, probe.read_bytes());
    if (payload.size() != Hash32::kSize) [[unlikely]] {
        return size_error("hash", Hash32::kSize, payload.size(), offset());
    }
    *this = probe;
    Hash32 h;
    std::memcpy(h.bytes.data(), payload.data(), Hash32::kSize);
    return h;
}

Result<void> Decoder::expect_end() const {
    if (!at_end()) [[unlikely]] {
        return make_error("rlp: ", in_.size() - pos_, " trailing bytes at offset ", offset());
    }
    return {};
}

Result<std::vector<Bytes>> decode_bytes_list(ByteView in) {
    Decoder top(in);
    PEL_TRY(Decoder list, top.read_list());
    PEL_TRY_VOID(top.expect_end());
    std::vector<Bytes> out;
    while (!list.at_end()) {
        PEL_TRY(ByteView item, list.read_bytes());
        out.emplace_back(item.begin(), item.end());
    }
    return out;
}

}  // namespace pel::rlp
