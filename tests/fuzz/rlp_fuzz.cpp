// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the strict RLP decoder. Walks arbitrary input as a sequence of items,
// descending into lists up to kMaxDepth, and checks the decoder's central promise: every input it
// accepts is canonical, so re-encoding what it decoded gives back the input byte for byte. The
// typed readers (integers, address, hash) are run on every string too, and whatever they accept
// must re-encode to the same item; decode_bytes_list's result must re-encode (encode_bytes_list)
// to the whole input. Any mismatch aborts; sanitizers catch out-of-bounds reads.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <iostream>

#include "primitives/rlp.hpp"

namespace {

using pel::Bytes;
using pel::ByteView;
using pel::rlp::Decoder;

constexpr int kMaxDepth = 64;

[[noreturn]] void fail(const char* what, size_t offset) {
    std::cerr << "rlp_fuzz: " << what << " (item at offset " << offset << ")\n";
    std::abort();
}

void check_same(const Bytes& encoded, size_t from, ByteView raw, const char* what, size_t at) {
    if (!pel::equal(ByteView(encoded).subspan(from), raw)) {
        fail(what, at);
    }
}

// Checks that each typed reader either rejects the string item at the front of `d` or accepts a
// value that re-encodes to exactly `raw`.
void check_typed_readers(const Decoder& d, ByteView raw, size_t at) {
    if (Decoder c = d; auto v = c.read_u64()) {
        Bytes e;
        pel::rlp::encode_uint(e, *v);
        check_same(e, 0, raw, "read_u64 accepted a non-canonical integer", at);
    }
    if (Decoder c = d; auto v = c.read_u256()) {
        Bytes e;
        pel::rlp::encode_uint(e, *v);
        check_same(e, 0, raw, "read_u256 accepted a non-canonical integer", at);
        if (Decoder c64 = d; v->fits_u64() != c64.read_u64().has_value()) {
            fail("read_u64 and read_u256 disagree", at);
        }
    }
    if (Decoder c = d; auto v = c.read_address()) {
        Bytes e;
        pel::rlp::encode_bytes(e, v->view());
        check_same(e, 0, raw, "read_address round trip", at);
    }
    if (Decoder c = d; auto v = c.read_hash()) {
        Bytes e;
        pel::rlp::encode_bytes(e, v->view());
        check_same(e, 0, raw, "read_hash round trip", at);
    }
}

// Decodes every item in `d`, appending the re-encoding to `out`. Returns false if any item is
// rejected (or nesting exceeds kMaxDepth); the bytes in `out` are then meaningless.
bool walk(Decoder d, int depth, Bytes& out) {  // NOLINT(misc-no-recursion): depth-bounded
    while (!d.at_end()) {
        const size_t at = d.offset();
        Decoder probe = d;
        const auto raw = probe.read_raw_item();
        const auto header = d.peek_header();
        if (raw.has_value() != header.has_value()) {
            fail("read_raw_item and peek_header disagree", at);
        }
        if (!raw) {
            return false;
        }
        if (raw->size() != header->header_len + header->payload_len) {
            fail("raw item size", at);
        }

        const size_t start = out.size();
        if (header->is_list) {
            if (d.read_bytes()) {
                fail("read_bytes accepted a list", at);
            }
            auto inner = d.read_list();
            if (!inner) {
                fail("read_list rejected what peek_header accepted", at);
            }
            if (depth >= kMaxDepth) {
                return false;
            }
            Bytes payload;
            if (!walk(*inner, depth + 1, payload)) {
                return false;
            }
            pel::rlp::encode_list(out, payload);
        } else {
            check_typed_readers(d, *raw, at);
            if (Decoder c = d; c.read_list()) {
                fail("read_list accepted a string", at);
            }
            auto bytes = d.read_bytes();
            if (!bytes) {
                fail("read_bytes rejected what peek_header accepted", at);
            }
            pel::rlp::encode_bytes(out, *bytes);
        }
        check_same(out, start, *raw, "accepted item does not re-encode to its input bytes", at);
        if (out.size() - start != pel::rlp::header_size(header->payload_len) +
                                      (header->header_len == 0 ? 0 : header->payload_len)) {
            fail("header_size disagrees with the decoded header", at);
        }
    }
    if (!d.expect_end()) {
        fail("expect_end failed at the end", d.offset());
    }
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const ByteView in(data, size);
    Bytes out;
    if (walk(Decoder(in), 0, out) && !pel::equal(out, in)) {
        fail("accepted input does not re-encode to itself", 0);
    }
    if (const auto items = pel::rlp::decode_bytes_list(in)) {
        Bytes again;
        pel::rlp::encode_bytes_list(again, *items);
        if (!pel::equal(again, in)) {
            fail("decode_bytes_list accepted input that does not re-encode to itself", 0);
        }
    }
    return 0;
}
