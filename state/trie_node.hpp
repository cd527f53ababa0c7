// SPDX-License-Identifier: Apache-2.0
// Merkle Patricia Trie node encoding (Ethereum Yellow Paper, appendices C and D): hex-prefix
// paths, leaf / extension / branch node RLP, and node references (embedded when the node's RLP is
// shorter than 32 bytes, keccak256 otherwise). These are the building blocks shared by the root
// builders in state/trie.hpp and by any persistent trie; they hold no state and never allocate
// beyond appending to the caller's buffer.
//
// Thread safety: every function here is pure; call from any thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "primitives/bytes.hpp"
#include "primitives/hash.hpp"
#include "primitives/result.hpp"

namespace pel::state {

/// A path of nibbles, one per byte, each in 0..15 (not packed).
using NibbleView = std::span<const uint8_t>;

/// Appends the nibbles of `key` to `out`, high nibble of each byte first (2 * key.size() entries).
void unpack_nibbles(Bytes& out, ByteView key);

/// Number of bytes of the hex-prefix encoding of a path of `nibble_count` nibbles.
[[nodiscard]] constexpr size_t hex_prefix_size(size_t nibble_count) noexcept {
    return nibble_count / 2 + 1;
}

/// Appends HP(path, leaf) (Yellow Paper appendix C): a flag nibble (2 if `leaf`, +1 if the path
/// length is odd), a zero pad nibble when the length is even, then the path packed two per byte.
/// Every nibble of `path` must be < 16 (checked with PEL_DEBUG_ASSERT).
void hex_prefix_encode(Bytes& out, NibbleView path, bool leaf);

/// A decoded hex-prefix path.
struct HexPrefixPath {
    Bytes nibbles;      ///< unpacked, one nibble per byte
    bool leaf = false;  ///< the terminator flag
};

/// Decodes a hex-prefix string. Errors: empty input, a flag nibble above 3, a non-zero pad nibble
/// for an even-length path.
[[nodiscard]] Result<HexPrefixPath> hex_prefix_decode(ByteView encoded);

/// How a node appears inside its parent: the node's RLP itself when shorter than 32 bytes
/// ("embedded"), otherwise the RLP string of keccak256 of the node's RLP (0xa0 followed by the 32
/// hash bytes). `size == 0` means "no node" (an empty branch slot). A plain value type, 34 bytes.
struct NodeRef {
    std::array<uint8_t, 33> data{};
    uint8_t size = 0;

    [[nodiscard]] ByteView view() const noexcept { return {data.data(), size}; }
    [[nodiscard]] bool empty() const noexcept { return size == 0; }
    /// True when the reference carries a hash rather than an embedded node.
    [[nodiscard]] bool is_hash() const noexcept { return size == 33; }
    /// The reference to a node (of 32 or more RLP bytes) whose keccak256 is `h`.
    [[nodiscard]] static NodeRef of_hash(const Hash32& h) noexcept;
};

/// The reference to a node whose complete RLP is `node_rlp` (non-empty).
[[nodiscard]] NodeRef make_node_ref(ByteView node_rlp) noexcept;

/// The trie root hash of a root node: keccak256 of its RLP, even when it is shorter than 32 bytes.
[[nodiscard]] Hash32 root_hash_of(ByteView root_node_rlp) noexcept;

/// Appends the RLP of a leaf node [HP(path, leaf=true), value]. `value` is the stored value
/// (already encoded by the caller, e.g. an account's RLP); it is wrapped as an RLP string here.
void encode_leaf(Bytes& out, NibbleView path, ByteView value);

/// Appends the RLP of an extension node [HP(path, leaf=false), child]. `path` is non-empty and
/// `child_ref` is a NodeRef's bytes (an embedded node or 0xa0 || hash), copied verbatim.
void encode_extension(Bytes& out, NibbleView path, ByteView child_ref);

/// Appends the RLP of a branch node [c0, ..., c15, value]. Each child is a NodeRef's bytes copied
/// verbatim, or empty for no child (encoded as the empty string 0x80). `value` is the value stored
/// at the branch (empty for none), wrapped as an RLP string.
void encode_branch(Bytes& out, const std::array<ByteView, 16>& children, ByteView value);

}  // namespace pel::state
