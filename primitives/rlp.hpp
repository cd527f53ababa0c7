// SPDX-License-Identifier: Apache-2.0
// Recursive Length Prefix encoding (Ethereum Yellow Paper, appendix B), strict decoding.
// Decoding rejects, with a message that names the offset: truncated input, non-canonical length
// prefixes (a long form where the short form fits, leading zeros in a length), a single byte
// below 0x80 encoded as a one-byte string, integers with leading zero bytes (zero is 0x80, never
// 0x00), integers wider than the target type, fixed-size fields of the wrong size, lengths that
// overflow size_t, a list where a string is expected and vice versa, and trailing bytes after the
// last item (Decoder::expect_end). Never crashes and never reads outside its input, whatever the
// input. Error messages start with "rlp: ", name the rule and give the absolute offset of the item.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "primitives/bytes.hpp"
#include "primitives/hash.hpp"
#include "primitives/result.hpp"
#include "primitives/u256.hpp"

namespace pel::rlp {

// --- encoding: append to `out` ----------------------------------------------------------------
// The encoders append the canonical encoding to `out` (which may already hold other items) and
// never fail. A view argument must not point into `out` itself. Thread safety: pure functions.
void encode_bytes(Bytes& out, ByteView v);
void encode_uint(Bytes& out, uint64_t v);
void encode_uint(Bytes& out, const U256& v);
/// Appends the header of a list whose encoded items take `payload_len` bytes.
void encode_list_header(Bytes& out, size_t payload_len);
/// Appends `payload` (already encoded items) wrapped as a list.
void encode_list(Bytes& out, ByteView payload);
/// Appends rlp([item, ...]) with every item a byte string (transaction lists, receipt lists).
void encode_bytes_list(Bytes& out, std::span<const Bytes> items);
/// Size of the header for a string or list payload of `payload_len` bytes.
[[nodiscard]] size_t header_size(size_t payload_len) noexcept;

// --- decoding ---------------------------------------------------------------------------------
/// A validated item prefix. A single byte below 0x80 is its own payload: header_len 0,
/// payload_len 1. header_len + payload_len never exceeds the bytes left in the decoder.
struct Header {
    bool is_list = false;
    size_t header_len = 0;   ///< bytes of prefix
    size_t payload_len = 0;  ///< bytes after the prefix
};

/// Reads items one after the other from a byte view. Cheap to copy; borrows the input, which must
/// outlive the decoder and every view it returns. A failed read leaves the position unchanged.
/// Not thread safe to share while reading (it is a cursor); copies are independent.
/// `base_offset` is added to offsets in error messages (nested decoders report absolute offsets).
class Decoder {
  public:
    explicit Decoder(ByteView in, size_t base_offset = 0) noexcept : in_(in), base_(base_offset) {}

    [[nodiscard]] bool at_end() const noexcept { return pos_ == in_.size(); }
    /// Absolute offset of the next item.
    [[nodiscard]] size_t offset() const noexcept { return base_ + pos_; }

    /// Validates and returns the header of the next item without consuming it.
    [[nodiscard]] Result<Header> peek_header() const;
    /// Reads a string item's payload; a list is an error.
    [[nodiscard]] Result<ByteView> read_bytes();
    /// Reads a list item and returns a decoder over its payload; a string is an error.
    [[nodiscard]] Result<Decoder> read_list();
    /// Reads the next item whole (prefix included), string or list.
    [[nodiscard]] Result<ByteView> read_raw_item();
    /// Canonical unsigned integers: no leading zero bytes, fits the type.
    [[nodiscard]] Result<uint64_t> read_u64();
    [[nodiscard]] Result<U256> read_u256();
    /// Exactly 20 / 32 bytes.
    [[nodiscard]] Result<Address> read_address();
    [[nodiscard]] Result<Hash32> read_hash();
    /// Error if any bytes are left ("trailing bytes").
    [[nodiscard]] Result<void> expect_end() const;

  private:
    ByteView in_;
    size_t base_ = 0;
    size_t pos_ = 0;
};

/// The items of `in`, which must be exactly one list of byte strings (encode_bytes_list's output):
/// a string instead of the list, a list among the items, or bytes after the list are errors.
[[nodiscard]] Result<std::vector<Bytes>> decode_bytes_list(ByteView in);

}  // namespace pel::rlp
