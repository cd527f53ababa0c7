// SPDX-License-Identifier: Apache-2.0
#include "state/trie_node.hpp"

#include <cstring>

#include "primitives/keccak.hpp"
#include "primitives/rlp.hpp"

namespace pel::state {

namespace {

// Size of the RLP string item that wraps `v` (a single byte below 0x80 is its own encoding).
size_t rlp_string_size(ByteView v) noexcept {
    if (v.size() == 1 && v[0] < 0x80) return 1;
    return rlp::header_size(v.size()) + v.size();
}

// HP strings are at most 33 bytes (64 nibbles), so the header is a single byte when present.
// A one-byte HP string always has its top bit clear (flag nibble <= 3) and needs no header.
size_t hp_item_size(size_t nibble_count) noexcept {
    const size_t n = hex_prefix_size(nibble_count);
    return n == 1 ? 1 : 1 + n;
}

void encode_hp_item(Bytes& out, NibbleView path, bool leaf) {
    const size_t n = hex_prefix_size(path.size());
    if (n != 1) out.push_back(static_cast<uint8_t>(0x80 + n));  // n <= 33: short string form
    hex_prefix_encode(out, path, leaf);
}

}  // namespace

void unpack_nibbles(Bytes& out, ByteView key) {
    const size_t base = out.size();
    out.resize(base + 2 * key.size());
    for (size_t i = 0; i < key.size(); ++i) {
        out[base + 2 * i] = static_cast<uint8_t>(key[i] >> 4);
        out[base + 2 * i + 1] = static_cast<uint8_t>(key[i] & 0x0f);
    }
}

void hex_prefix_encode(Bytes& out, NibbleView path, bool leaf) {
    const bool odd = (path.size() & 1U) != 0;
    const unsigned flag = (leaf ? 2U : 0U) + (odd ? 1U : 0U);
    size_t i = 0;
    if (odd) {
        PEL_DEBUG_ASSERT(path[0] < 16, "nibble out of range");
        out.push_back(static_cast<uint8_t>((flag << 4) | path[0]));
        i = 1;
    } else {
        out.push_back(static_cast<uint8_t>(flag << 4));
    }
    for (; i < path.size(); i += 2) {
        PEL_DEBUG_ASSERT(path[i] < 16 && path[i + 1] < 16, "nibble out of range");
        out.push_back(static_cast<uint8_t>((path[i] << 4) | path[i + 1]));
    }
}

Result<HexPrefixPath> hex_prefix_decode(ByteView encoded) {
    if (encoded.empty()) return make_error("hex-prefix: empty input");
    const unsigned flag = encoded[0] >> 4;
    if (flag > 3) return make_error("hex-prefix: invalid flag nibble ", flag);
    const bool odd = (flag & 1U) != 0;
    HexPrefixPath out;
    out.leaf = (flag & 2U) != 0;
    if (odd) {
        out.nibbles.push_back(static_cast<uint8_t>(encoded[0] & 0x0f));
    } else if ((encoded[0] & 0x0f) != 0) {
        return make_error("hex-prefix: non-zero pad nibble in an even-length path");
    }
    unpack_nibbles(out.nibbles, encoded.subspan(1));
    return out;
}

NodeRef NodeRef::of_hash(const Hash32& h) noexcept {
    NodeRef ref;
    ref.data[0] = 0xa0;
    std::memcpy(ref.data.data() + 1, h.data(), 32);
    ref.size = 33;
    return ref;
}

NodeRef make_node_ref(ByteView node_rlp) noexcept {
    PEL_DEBUG_ASSERT(!node_rlp.empty(), "a node's RLP is never empty");
    NodeRef ref;
    if (node_rlp.size() < 32) {
        std::memcpy(ref.data.data(), node_rlp.data(), node_rlp.size());
        ref.size = static_cast<uint8_t>(node_rlp.size());
    } else {
        ref = NodeRef::of_hash(keccak256(node_rlp));
    }
    return ref;
}

Hash32 root_hash_of(ByteView root_node_rlp) noexcept { return keccak256(root_node_rlp); }

void encode_leaf(Bytes& out, NibbleView path, ByteView value) {
    rlp::encode_list_header(out, hp_item_size(path.size()) + rlp_string_size(value));
    encode_hp_item(out, path, true);
    rlp::encode_bytes(out, value);
}

void encode_extension(Bytes& out, NibbleView path, ByteView child_ref) {
    PEL_DEBUG_ASSERT(!path.empty() && !child_ref.empty(), "extension needs a path and a child");
    rlp::encode_list_header(out, hp_item_size(path.size()) + child_ref.size());
    encode_hp_item(out, path, false);
    append(out, child_ref);
}

void encode_branch(Bytes& out, const std::array<ByteView, 16>& children, ByteView value) {
    size_t payload = rlp_string_size(value);
    for (const ByteView c : children) payload += c.empty() ? 1 : c.size();
    rlp::encode_list_header(out, payload);
    for (const ByteView c : children) {
        if (c.empty()) {
            out.push_back(0x80);
        } else {
            append(out, c);
        }
    }
    rlp::encode_bytes(out, value);
}

}  // namespace pel::state
