// SPDX-License-Identifier: Apache-2.0
// Merkle Patricia Trie roots (Ethereum Yellow Paper, appendix D), computed from complete key sets:
//  - trie_root():         any keys, any order (the general case and the test oracle);
//  - HashBuilder:         streaming builder for 32-byte keys added in ascending order (state and
//                         storage roots, whose keys are keccak256 hashes); the hot path;
//  - ordered_trie_root(): key = rlp(index) (transactions, receipts, withdrawals roots).
// Node encodings live in state/trie_node.hpp. No function here throws.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "primitives/bytes.hpp"
#include "primitives/hash.hpp"
#include "state/trie_node.hpp"

namespace pel::state {

/// Root of the trie holding `entries` (key bytes -> value bytes, values already encoded).
/// Entries may come in any order. Trie semantics apply: an empty value means "absent", and when a
/// key appears more than once the last entry wins (so a sequence of puts and deletes, deletes
/// written as empty values, gives the root of the final contents). No entries -> kEmptyTrieRoot.
/// Allocates per node and recurses once per node on a path (depth at most twice the longest key's
/// nibble count); use HashBuilder for large sets of 32-byte keys. Thread safe (pure).
[[nodiscard]] Hash32 trie_root(std::vector<std::pair<Bytes, Bytes>> entries);

/// Root of the trie mapping rlp(i) -> values[i] for i in [0, values.size()): the Yellow Paper's
/// transactions and receipts tries. Every value must be non-empty (an empty one would be absent).
/// Thread safe (pure).
[[nodiscard]] Hash32 ordered_trie_root(std::span<const Bytes> values);

/// Streaming trie-root builder for 32-byte keys added in strictly ascending order.
///
/// Builds no node tree: it keeps one open branch per depth on a stack (at most 64), finishes a leaf
/// as soon as the next key shows how deep it sits, and hashes each branch when the keys move past
/// it. Memory is fixed after construction (about 36 KiB) plus two scratch buffers whose capacity
/// is kept across reset(), so a reused builder does not allocate in steady state.
///
/// Usage: add() each (key, value) in ascending key order, then root(); root() also resets the
/// builder for the next trie. Keys out of order or repeated are a caller bug (PEL_ASSERT).
///
/// Thread safety: none; a builder is used by one thread at a time. Distinct builders are
/// independent.
class HashBuilder {
  public:
    HashBuilder();

    /// Adds a leaf. `key` must be strictly greater than the previous key since the last reset;
    /// `value` (the encoded value, e.g. account RLP) must be non-empty and is copied.
    void add(const Hash32& key, ByteView value);

    /// The root of everything added since the last reset (kEmptyTrieRoot if nothing was), then
    /// resets the builder.
    [[nodiscard]] Hash32 root();

    /// Forgets everything added; keeps the buffers' capacity.
    void reset() noexcept;

  private:
    static constexpr size_t kKeyNibbles = 64;

    struct Level {
        std::array<NodeRef, 16> children;
        uint16_t mask = 0;  // bit i set: children[i] is present
        uint8_t depth = 0;  // nibble index at which this branch's children differ
    };

    // Encodes the pending leaf into the branch stack, then closes every branch deeper than
    // `next_lcp` (the common prefix length of the pending key and the next one; -1 at the end).
    // At the end (-1), leaves the root node's RLP in node_buf_.
    void flush_pending(int next_lcp);
    void push_level(uint8_t depth);
    void encode_top_branch();

    std::vector<Level> levels_;  // capacity kKeyNibbles, never reallocates
    size_t level_count_ = 0;
    std::array<uint8_t, kKeyNibbles> pending_key_{};  // unpacked nibbles of the pending leaf
    Bytes pending_value_;
    bool has_pending_ = false;
    Bytes node_buf_;
    Bytes ext_buf_;
};

}  // namespace pel::state
