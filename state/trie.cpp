// SPDX-License-Identifier: Apache-2.0
#include "state/trie.hpp"

#include <algorithm>
#include <cstring>

#include "primitives/keccak.hpp"
#include "primitives/rlp.hpp"

namespace pel::state {

// --- trie_root: recursive construction over sorted, unpacked keys ------------------------------

namespace {

struct Item {
    Bytes nibbles;
    ByteView value;
};

// Lexicographic byte order (a proper prefix sorts first). Written out because GCC 12's
// -Wstringop-overread misfires on std::vector's operator<=> inlined into std::stable_sort.
bool key_less(ByteView a, ByteView b) noexcept {
    const size_t n = std::min(a.size(), b.size());
    const int c = n == 0 ? 0 : std::memcmp(a.data(), b.data(), n);
    return c != 0 ? c < 0 : a.size() < b.size();
}

size_t common_prefix(NibbleView a, NibbleView b, size_t from) noexcept {
    const size_t n = std::min(a.size(), b.size());
    size_t i = from;
    while (i < n && a[i] == b[i]) ++i;
    return i - from;
}

// Appends the RLP of the node holding `items` (sorted, distinct, sharing their first `depth`
// nibbles, non-empty) below nibble position `depth`. Recursive: each level consumes at least one
// nibble or one key, so the depth is at most twice the longest key's nibble count (about 130 for
// 32-byte keys, a few for rlp(index) keys); callers with very long keys should keep that in mind.
//
// `leaves` holds, per item, the reference of the leaf it becomes when it is alone below some
// depth, hashed beforehand in groups (keccak256_many), or an empty reference where that was not
// worked out (then the leaf is encoded and hashed here).
struct Leaves {
    const Item* base = nullptr;
    std::span<const size_t> depth;
    std::span<const NodeRef> ref;
};
void encode_subtrie(Bytes& out, std::span<const Item> items, size_t depth, const Leaves& leaves);

NodeRef subtrie_ref(std::span<const Item> items, size_t depth,  // NOLINT(misc-no-recursion)
                    const Leaves& leaves) {
    if (items.size() == 1 && !leaves.ref.empty()) {
        const auto i = static_cast<size_t>(&items.front() - leaves.base);
        if (leaves.depth[i] == depth && !leaves.ref[i].empty()) return leaves.ref[i];
    }
    Bytes node;
    encode_subtrie(node, items, depth, leaves);
    return make_node_ref(node);
}

void encode_subtrie(Bytes& out, std::span<const Item> items,  // NOLINT(misc-no-recursion)
                    size_t depth, const Leaves& leaves) {
    const Item& first = items.front();
    if (items.size() == 1) {
        encode_leaf(out, NibbleView(first.nibbles).subspan(depth), first.value);
        return;
    }
    // Sorted order: the prefix shared by the first and the last key is shared by all of them.
    const size_t shared = common_prefix(first.nibbles, items.back().nibbles, depth);
    if (shared > 0) {
        const NodeRef child = subtrie_ref(items, depth + shared, leaves);
        encode_extension(out, NibbleView(first.nibbles).subspan(depth, shared), child.view());
        return;
    }
    // A branch. A key that ends here sorts first and becomes the branch's value.
    ByteView value;
    size_t i = 0;
    if (first.nibbles.size() == depth) {
        value = first.value;
        i = 1;
    }
    std::array<NodeRef, 16> refs;
    std::array<ByteView, 16> children;
    while (i < items.size()) {
        const uint8_t nib = items[i].nibbles[depth];
        size_t j = i + 1;
        while (j < items.size() && items[j].nibbles[depth] == nib) ++j;
        refs[nib] = subtrie_ref(items.subspan(i, j - i), depth + 1, leaves);
        children[nib] = refs[nib].view();
        i = j;
    }
    encode_branch(out, children, value);
}

// With two or more items each key becomes a leaf right below the deepest branch on its path, which
// sits where the key parts from its closer sorted neighbour; a key that is a prefix of a neighbour
// is a branch's value instead. The leaves are independent of each other: they are encoded first
// and hashed in groups.
void hash_leaves(std::span<const Item> items, std::vector<size_t>& depth,
                 std::vector<NodeRef>& ref) {
    const size_t n = items.size();
    depth.assign(n, 0);
    ref.assign(n, NodeRef{});
    Bytes rlp;
    std::vector<size_t> offsets;  // leaf i's RLP is rlp[offsets[k], offsets[k + 1])
    std::vector<size_t> which;    // the items whose leaves are hashed
    offsets.push_back(0);
    size_t before = 0;  // the shared prefix with the previous key: the last round's `after`
    for (size_t i = 0; i < n; ++i) {
        const NibbleView key(items[i].nibbles);
        const size_t after = i + 1 < n ? common_prefix(key, items[i + 1].nibbles, 0) : 0;
        const size_t parent = std::max(before, after);
        before = after;
        if (parent >= key.size()) continue;  // a prefix of a neighbour: a branch's value
        depth[i] = parent + 1;
        const size_t mark = rlp.size();
        encode_leaf(rlp, key.subspan(depth[i]), items[i].value);
        if (rlp.size() - mark < 32) {  // embedded in its parent, not hashed
            ref[i] = make_node_ref(ByteView(rlp).subspan(mark));
            rlp.resize(mark);
            continue;
        }
        which.push_back(i);
        offsets.push_back(rlp.size());
    }
    std::vector<ByteView> in(which.size());
    for (size_t k = 0; k < which.size(); ++k) {
        in[k] = ByteView(rlp).subspan(offsets[k], offsets[k + 1] - offsets[k]);
    }
    std::vector<Hash32> hashes(which.size());
    keccak256_many(in, hashes);
    for (size_t k = 0; k < which.size(); ++k) ref[which[k]] = NodeRef::of_hash(hashes[k]);
}

}  // namespace

Hash32 trie_root(std::vector<std::pair<Bytes, Bytes>> entries) {
    // Stable sort, then keep the last of each run of equal keys: "last write wins".
    std::stable_sort(entries.begin(), entries.end(),
                     [](const auto& a, const auto& b) { return key_less(a.first, b.first); });
    std::vector<Item> items;
    items.reserve(entries.size());
    for (size_t i = 0; i < entries.size(); ++i) {
        if (i + 1 < entries.size() && equal(entries[i + 1].first, entries[i].first)) continue;
        if (entries[i].second.empty()) continue;  // an empty value is a deletion
        Item item;
        item.nibbles.reserve(2 * entries[i].first.size());
        unpack_nibbles(item.nibbles, entries[i].first);
        item.value = entries[i].second;
        items.push_back(std::move(item));
    }
    if (items.empty()) return kEmptyTrieRoot;
    std::vector<size_t> leaf_depth;
    std::vector<NodeRef> leaf_ref;
    if (items.size() > 1) hash_leaves(items, leaf_depth, leaf_ref);
    Bytes root;
    encode_subtrie(root, items, 0, Leaves{items.data(), leaf_depth, leaf_ref});
    return root_hash_of(root);
}

Hash32 ordered_trie_root(std::span<const Bytes> values) {
    std::vector<std::pair<Bytes, Bytes>> entries;
    entries.reserve(values.size());
    for (size_t i = 0; i < values.size(); ++i) {
        Bytes key;
        rlp::encode_uint(key, static_cast<uint64_t>(i));
        entries.emplace_back(std::move(key), values[i]);
    }
    return trie_root(std::move(entries));
}

// --- HashBuilder -------------------------------------------------------------------------------
//
// Invariant between add() calls: the stack holds the open branches on the path to the pending key,
// with strictly increasing depths; the top one is where the pending leaf hangs. Each branch's
// finished children all sort before the pending key. A branch is complete once a key arrives that
// leaves its prefix, and is then encoded and handed to its parent as a reference (wrapped in an
// extension node when the parent sits more than one nibble above it).

HashBuilder::HashBuilder() : levels_(kKeyNibbles) {
    pending_value_.reserve(128);
    node_buf_.reserve(1024);
    ext_buf_.reserve(128);
}

void HashBuilder::reset() noexcept {
    level_count_ = 0;
    has_pending_ = false;
}

void HashBuilder::push_level(uint8_t depth) {
    PEL_ASSERT(level_count_ < levels_.size(), "trie branch stack overflow");
    Level& l = levels_[level_count_++];
    l.mask = 0;
    l.depth = depth;
}

void HashBuilder::encode_top_branch() {
    const Level& l = levels_[level_count_ - 1];
    std::array<ByteView, 16> children;
    for (size_t i = 0; i < 16; ++i) {
        if (((l.mask >> i) & 1U) != 0) children[i] = l.children[i].view();
    }
    node_buf_.clear();
    encode_branch(node_buf_, children, {});
}

void HashBuilder::add(const Hash32& key, ByteView value) {
    PEL_ASSERT(!value.empty(), "HashBuilder: an empty value means absent; skip the key instead");
    std::array<uint8_t, kKeyNibbles> nibbles{};
    for (size_t i = 0; i < 32; ++i) {
        nibbles[2 * i] = static_cast<uint8_t>(key.bytes[i] >> 4);
        nibbles[2 * i + 1] = static_cast<uint8_t>(key.bytes[i] & 0x0f);
    }
    if (has_pending_) {
        size_t lcp = 0;
        while (lcp < kKeyNibbles && pending_key_[lcp] == nibbles[lcp]) ++lcp;
        PEL_ASSERT(lcp < kKeyNibbles && pending_key_[lcp] < nibbles[lcp],
                   "HashBuilder: keys must be strictly ascending");
        flush_pending(static_cast<int>(lcp));
    }
    pending_key_ = nibbles;
    pending_value_.assign(value.begin(), value.end());
    has_pending_ = true;
}

void HashBuilder::flush_pending(int next_lcp) {
    const NibbleView key(pending_key_);
    const int top_depth = level_count_ == 0 ? -1 : levels_[level_count_ - 1].depth;
    // The next key shares more with the pending one than the current top branch: they meet in a
    // new branch at depth next_lcp, below the top.
    if (next_lcp > top_depth) push_level(static_cast<uint8_t>(next_lcp));

    if (level_count_ == 0) {
        // The only key: the root is a leaf holding the whole path.
        node_buf_.clear();
        encode_leaf(node_buf_, key, pending_value_);
        return;
    }
    {
        Level& top = levels_[level_count_ - 1];
        const size_t d = top.depth;
        node_buf_.clear();
        encode_leaf(node_buf_, key.subspan(d + 1), pending_value_);
        top.children[key[d]] = make_node_ref(node_buf_);
        top.mask = static_cast<uint16_t>(top.mask | (1U << key[d]));
    }

    // Close the branches the next key has left.
    while (static_cast<int>(levels_[level_count_ - 1].depth) > next_lcp) {
        const size_t child_depth = levels_[level_count_ - 1].depth;
        encode_top_branch();
        --level_count_;
        int parent_depth = level_count_ == 0 ? -1 : levels_[level_count_ - 1].depth;
        if (parent_depth < next_lcp) {
            // The next key diverges from this subtree at next_lcp, above the closed branch but
            // below its former parent: a branch belongs there.
            push_level(static_cast<uint8_t>(next_lcp));
            parent_depth = next_lcp;
        }
        // Nibbles strictly between the parent's slot and the closed branch form an extension.
        const size_t ext_begin = parent_depth < 0 ? 0 : static_cast<size_t>(parent_depth) + 1;
        NodeRef ref;
        if (ext_begin < child_depth) {
            const NodeRef branch_ref = make_node_ref(node_buf_);
            ext_buf_.clear();
            encode_extension(ext_buf_, key.subspan(ext_begin, child_depth - ext_begin),
                             branch_ref.view());
            if (level_count_ == 0) {
                node_buf_.swap(ext_buf_);  // the root is this extension
                return;
            }
            ref = make_node_ref(ext_buf_);
        } else {
            if (level_count_ == 0) return;  // the root is this branch, already in node_buf_
            ref = make_node_ref(node_buf_);
        }
        Level& parent = levels_[level_count_ - 1];
        const uint8_t slot = key[static_cast<size_t>(parent_depth)];
        parent.children[slot] = ref;
        parent.mask = static_cast<uint16_t>(parent.mask | (1U << slot));
    }
}

Hash32 HashBuilder::root() {
    if (!has_pending_) {
        reset();
        return kEmptyTrieRoot;
    }
    flush_pending(-1);
    const Hash32 h = root_hash_of(node_buf_);
    reset();
    return h;
}

}  // namespace pel::state
