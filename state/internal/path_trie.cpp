// SPDX-License-Identifier: Apache-2.0
#include "state/internal/path_trie.hpp"

#include <algorithm>
#include <bit>
#include <optional>
#include <utility>
#include <vector>

#include "primitives/hex.hpp"
#include "primitives/keccak.hpp"
#include "state/account.hpp"
#include "state/internal/parallel.hpp"

namespace pel::state::internal {

namespace {

constexpr size_t kKeyNibbles = 64;
// A branch with at most this many children carries their refs and kinds in its record ("full",
// tag 4), so that loading it needs no scan; the parent's scan, which reads this record anyway,
// loads it. Bottom branches have 2-3 children: a few dozen bytes more per write.
constexpr size_t kFullBranchMaxChildren = 4;
constexpr uint8_t kFullBranchTag = 4;
// A leaf whose value is the RLP of an account without storage and code (every externally owned
// account) keeps only the middle of it (shortened_account_rlp, state/account.hpp): 66 bytes fewer
// per record, in a state trie that is mostly such accounts.
constexpr uint8_t kPlainAccountLeafTag = 5;

std::unique_ptr<TrieNode> make_leaf(NibbleView path, ByteView value) {
    auto n = std::make_unique<TrieNode>();
    n->kind = NodeKind::kLeaf;
    n->path.assign(path.begin(), path.end());
    n->value.assign(value.begin(), value.end());
    return n;
}

std::unique_ptr<TrieNode> make_branch() {
    auto n = std::make_unique<TrieNode>();
    n->kind = NodeKind::kBranch;
    n->children.resize(16);
    return n;
}

std::unique_ptr<TrieNode> make_extension(NibbleView path, ChildSlot child) {
    auto n = std::make_unique<TrieNode>();
    n->kind = NodeKind::kExtension;
    n->path.assign(path.begin(), path.end());
    n->children.resize(1);
    n->children[0] = std::move(child);
    return n;
}

void set_node(ChildSlot& slot, std::unique_ptr<TrieNode> node) {
    slot.kind = node->kind;
    slot.node = std::move(node);
}

ChildSlot slot_of(std::unique_ptr<TrieNode> node) {
    ChildSlot s;
    set_node(s, std::move(node));
    return s;
}

size_t common_prefix(NibbleView a, NibbleView b) noexcept {
    const size_t n = std::min(a.size(), b.size());
    size_t i = 0;
    while (i < n && a[i] == b[i]) ++i;
    return i;
}

bool starts_with(NibbleView s, NibbleView prefix) noexcept {
    return s.size() >= prefix.size() && std::equal(prefix.begin(), prefix.end(), s.begin());
}

std::array<uint8_t, kKeyNibbles> nibbles_of(const Hash32& key) noexcept {
    std::array<uint8_t, kKeyNibbles> out{};
    for (size_t i = 0; i < 32; ++i) {
        out[2 * i] = static_cast<uint8_t>(key.bytes[i] >> 4);
        out[2 * i + 1] = static_cast<uint8_t>(key.bytes[i] & 0x0f);
    }
    return out;
}

// n | the n nibbles of `path` packed two per byte, high nibble first (an odd path ends with a
// zero low nibble).
void append_packed_path(Bytes& out, NibbleView path) {
    out.push_back(static_cast<uint8_t>(path.size()));
    for (size_t i = 0; i < path.size(); i += 2) {
        const uint8_t lo = i + 1 < path.size() ? path[i + 1] : 0;
        out.push_back(static_cast<uint8_t>(path[i] << 4 | lo));
    }
}

// Whether pos[from..] is exactly `path`.
bool ends_with_path(const Bytes& pos, size_t from, const Bytes& path) noexcept {
    if (pos.size() - from != path.size()) return false;
    for (size_t i = 0; i < path.size(); ++i) {
        if (pos[from + i] != path[i]) return false;
    }
    return true;
}

bool same_ref(const NodeRef& a, const NodeRef& b) noexcept { return equal(a.view(), b.view()); }

// The node's RLP (Yellow Paper appendix D); children must all be clean.
void encode_rlp(Bytes& out, const TrieNode& n) {
    switch (n.kind) {
        case NodeKind::kLeaf:
            encode_leaf(out, n.path, n.value);
            return;
        case NodeKind::kExtension:
            encode_extension(out, n.path, n.children[0].ref.view());
            return;
        case NodeKind::kBranch: {
            std::array<ByteView, 16> views;
            for (size_t i = 0; i < 16; ++i) views[i] = n.children[i].ref.view();
            encode_branch(out, views, {});
            return;
        }
        case NodeKind::kUnknown:
            break;
    }
    PEL_ASSERT(false, "trie node of unknown kind");
}

Unexpected<Error> corrupt(const char* what) {
    return make_error("state: database corrupt: trie node record ", what);
}

}  // namespace

void encode_node_record(Bytes& out, const TrieNode& n, const NodeRef& own_ref) {
    out.push_back(static_cast<uint8_t>(n.kind));
    switch (n.kind) {
        case NodeKind::kLeaf:
            if (const auto middle = shortened_account_rlp(n.value)) {
                out.back() = kPlainAccountLeafTag;
                append_packed_path(out, n.path);
                append(out, *middle);
                return;
            }
            append_packed_path(out, n.path);
            append(out, n.value);
            return;
        case NodeKind::kExtension: {
            append_packed_path(out, n.path);
            const NodeRef& r = n.children[0].ref;
            out.push_back(r.size);
            append(out, r.view());
            return;
        }
        case NodeKind::kBranch: {
            unsigned mask = 0;
            unsigned leaves = 0;
            unsigned exts = 0;
            size_t count = 0;
            for (unsigned i = 0; i < 16; ++i) {
                const ChildSlot& c = n.children[i];
                if (c.ref.empty()) continue;
                ++count;
                mask |= 1U << i;
                if (c.kind == NodeKind::kLeaf) leaves |= 1U << i;
                if (c.kind == NodeKind::kExtension) exts |= 1U << i;
            }
            if (count > kFullBranchMaxChildren) {
                out.push_back(own_ref.size);
                append(out, own_ref.view());
                return;
            }
            out.back() = kFullBranchTag;
            out.push_back(own_ref.size);
            append(out, own_ref.view());
            for (const unsigned m : {mask, leaves, exts}) {
                out.push_back(static_cast<uint8_t>(m & 0xff));
                out.push_back(static_cast<uint8_t>(m >> 8));
            }
            for (const ChildSlot& c : n.children) {
                if (c.ref.empty()) continue;
                out.push_back(c.ref.size);
                append(out, c.ref.view());
            }
            return;
        }
        case NodeKind::kUnknown:
            break;
    }
    PEL_ASSERT(false, "trie node of unknown kind");
}

namespace {

// Decodes `rec` into out.kind and out.ref (a leaf's or extension's computed in `rlp`, a scratch
// buffer), and, with `want_node`, a leaf's or extension's node into out.node. The path is decoded
// on the stack: without a node nothing is allocated.
Result<void> parse_record(ByteView rec, bool want_node, Bytes& rlp, NodeRecord& out) {
    if (rec.empty()) return corrupt("is empty");
    thread_local Bytes full_value;  // a shortened account leaf's value, rebuilt
    size_t p = 1;
    auto read_ref = [&](NodeRef& ref) -> bool {
        if (p >= rec.size()) return false;
        const uint8_t size = rec[p++];
        if (size == 0 || size > ref.data.size() || rec.size() - p < size) return false;
        std::copy_n(rec.begin() + static_cast<std::ptrdiff_t>(p), size, ref.data.begin());
        ref.size = size;
        p += size;
        return true;
    };
    switch (rec[0]) {
        case static_cast<uint8_t>(NodeKind::kLeaf):
        case kPlainAccountLeafTag:
        case static_cast<uint8_t>(NodeKind::kExtension): {
            const bool plain = rec[0] == kPlainAccountLeafTag;
            const auto kind = plain ? NodeKind::kLeaf : static_cast<NodeKind>(rec[0]);
            if (rec.size() < 2) return corrupt("is truncated");
            const size_t len = rec[1];
            const size_t packed = (len + 1) / 2;
            if (len > kKeyNibbles || rec.size() < 2 + packed) return corrupt("has a bad path");
            std::array<uint8_t, kKeyNibbles> nibbles{};
            for (size_t i = 0; i < len; ++i) {
                const uint8_t byte = rec[2 + i / 2];
                nibbles[i] = static_cast<uint8_t>(i % 2 == 0 ? byte >> 4 : byte & 0x0f);
            }
            if (len % 2 == 1 && (rec[1 + packed] & 0x0f) != 0) return corrupt("has a bad path pad");
            const NibbleView path(nibbles.data(), len);
            p = 2 + packed;
            rlp.clear();
            ByteView value;
            NodeRef child;
            if (plain) {
                const ByteView middle = rec.subspan(p);
                if (middle.size() > kMaxShortenedAccountRlp) return corrupt("has a bad account");
                full_value.clear();
                append_lengthened_account_rlp(full_value, middle);
                value = full_value;
                encode_leaf(rlp, path, value);
            } else if (kind == NodeKind::kLeaf) {
                value = rec.subspan(p);
                if (value.empty()) return corrupt("has an empty leaf value");
                // One stored form per node: such a value is written shortened (tag 5).
                if (shortened_account_rlp(value)) return corrupt("has an unshortened account");
                encode_leaf(rlp, path, value);
            } else {
                if (len == 0) return corrupt("has an empty extension path");
                if (!read_ref(child) || p != rec.size()) return corrupt("has a bad ref");
                encode_extension(rlp, path, child.view());
            }
            out.kind = kind;
            out.ref = make_node_ref(rlp);
            if (want_node) {
                auto n = std::make_unique<TrieNode>();
                n->dirty = false;
                n->kind = kind;
                n->path.assign(path.begin(), path.end());
                if (kind == NodeKind::kLeaf) {
                    n->value.assign(value.begin(), value.end());
                } else {
                    n->children.resize(1);
                    n->children[0].ref = child;
                    n->children[0].kind = NodeKind::kBranch;
                }
                out.node = std::move(n);
            }
            return {};
        }
        case static_cast<uint8_t>(NodeKind::kBranch):
            out.kind = NodeKind::kBranch;
            if (!read_ref(out.ref) || p != rec.size()) return corrupt("has a bad branch ref");
            return {};
        case kFullBranchTag: {
            out.kind = NodeKind::kBranch;
            if (!read_ref(out.ref) || rec.size() - p < 6) return corrupt("has a bad branch ref");
            auto u16 = [&](size_t at) {
                return static_cast<unsigned>(rec[at]) | static_cast<unsigned>(rec[at + 1]) << 8;
            };
            const unsigned mask = u16(p);
            const unsigned leaves = u16(p + 2);
            const unsigned exts = u16(p + 4);
            p += 6;
            if ((leaves & ~mask) != 0 || (exts & ~mask) != 0 || (leaves & exts) != 0 || mask == 0) {
                return corrupt("has inconsistent masks");
            }
            // More children than a narrow branch has: a wide branch's record (tag 3) is written
            // for such a node, so this one is not what the store writes.
            if (static_cast<size_t>(std::popcount(mask)) > kFullBranchMaxChildren) {
                return corrupt("is a narrow branch with too many children");
            }
            auto n = std::make_unique<TrieNode>();
            n->kind = NodeKind::kBranch;
            n->dirty = false;
            n->children.resize(16);
            for (unsigned i = 0; i < 16; ++i) {
                if (((mask >> i) & 1U) == 0) continue;
                ChildSlot& c = n->children[i];
                if (!read_ref(c.ref)) return corrupt("has a bad child ref");
                c.kind = ((leaves >> i) & 1U) != 0 ? NodeKind::kLeaf
                         : ((exts >> i) & 1U) != 0 ? NodeKind::kExtension
                                                   : NodeKind::kBranch;
            }
            if (p != rec.size()) return corrupt("has trailing bytes");
            // The children's refs it carries must give its own.
            rlp.clear();
            encode_rlp(rlp, *n);
            if (!same_ref(make_node_ref(rlp), out.ref)) {
                return corrupt("does not hash to its own ref");
            }
            out.node = std::move(n);
            return {};
        }
        default:
            return corrupt("has an unknown kind");
    }
}

}  // namespace

Result<NodeRecord> decode_node_record(ByteView rec) {
    Bytes rlp;
    NodeRecord out;
    PEL_TRY_VOID(parse_record(rec, true, rlp, out));
    return out;
}

PathTrie::PathTrie(Bytes key_prefix, const Hash32& root, bool keep_leaves, Persistence persistence)
    : prefix_(std::move(key_prefix)),
      keep_leaves_(keep_leaves || persistence == Persistence::kMemoryOnly),
      persistence_(persistence) {
    reset(root);
}

namespace {

void mark_dirty(ChildSlot& slot) {  // NOLINT(misc-no-recursion)
    if (slot.empty()) return;
    PEL_ASSERT(slot.node != nullptr, "PathTrie: a memory-only trie with an unloaded node");
    slot.node->dirty = true;
    for (ChildSlot& c : slot.node->children) mark_dirty(c);
}

}  // namespace

void PathTrie::persist_all() {
    if (persistence_ == Persistence::kRecords) return;
    persistence_ = Persistence::kRecords;
    mark_dirty(root_);
}

size_t PathTrie::memory_only_size() const {
    PEL_ASSERT(persistence_ == Persistence::kMemoryOnly, "PathTrie: size of a persisted trie");
    return size_;
}

void PathTrie::reset(const Hash32& root) {
    PEL_ASSERT(persistence_ == Persistence::kRecords || root == kEmptyTrieRoot,
               "PathTrie: a memory-only trie starts empty");
    root_ = ChildSlot{};
    root_hash_ = root;
    size_ = 0;
    deleted_.clear();
    if (root != kEmptyTrieRoot) {
        root_.ref.data[0] = 0xa0;
        std::copy(root.bytes.begin(), root.bytes.end(), root_.ref.data.begin() + 1);
        root_.ref.size = 33;
    }
}

void PathTrie::node_key(Bytes& out, const Bytes& pos) const {
    out.clear();
    out.reserve(prefix_.size() + 1 + pos.size());
    append(out, prefix_);
    out.push_back(static_cast<uint8_t>(pos.size()));
    append(out, pos);
}

Bytes PathTrie::node_key(const Bytes& pos) const {
    Bytes k;
    node_key(k, pos);
    return k;
}

Result<void> PathTrie::load_children(TrieNode& branch, const Bytes& pos, const KvStore& kv) const {
    Bytes scan;
    scan.reserve(prefix_.size() + 2 + pos.size());
    append(scan, prefix_);
    scan.push_back(static_cast<uint8_t>(pos.size() + 1));
    append(scan, pos);
    // Children stay unloaded (kind and ref only; a narrow branch comes loaded from its record): an
    // update of an existing key replaces its leaf without reading it, and nothing is allocated
    // per leaf child.
    std::optional<Error> bad;
    Bytes rlp;
    PEL_TRY_VOID(kv.for_each_prefix_cached(scan, [&](ByteView k, ByteView v) {
        if (k.size() != scan.size() + 1 || k.back() > 15) {
            bad = Error{"state: database corrupt: trie node record at a bad key"};
            return false;
        }
        NodeRecord rec;
        if (auto r = parse_record(v, false, rlp, rec); !r) {
            bad = r.error();
            return false;
        }
        ChildSlot& c = branch.children[k.back()];
        c.ref = rec.ref;
        c.kind = rec.kind;
        c.node = std::move(rec.node);  // a full branch comes loaded
        return true;
    }));
    if (bad) return unexpected(std::move(*bad));
    return {};
}

// A node is loaded from its own record, a branch with its children's records; either way its RLP
// must give the ref its parent holds (for the root: the root hash), so a lost, stale or damaged
// record is found on the way down.
Result<void> PathTrie::load(ChildSlot& slot, const Bytes& pos, const KvStore& kv) const {
    if (slot.node != nullptr || slot.ref.empty()) return {};
    if (persistence_ == Persistence::kMemoryOnly) {
        return make_error("state: memory-only trie under prefix ", to_hex(prefix_, false),
                          " has no node at path ", to_hex(pos, false));
    }
    std::unique_ptr<TrieNode> node;
    NodeKind kind = slot.kind;
    NodeRef own = slot.ref;  // the root's record holds its own ref too: it must agree
    if (kind != NodeKind::kBranch) {
        PEL_TRY(auto rec, kv.get(node_key(pos)));
        if (!rec) {
            return make_error("state: database corrupt: trie node missing at path ",
                              to_hex(pos, false), " under prefix ", to_hex(prefix_, false));
        }
        PEL_TRY(auto decoded, decode_node_record(*rec));
        if (slot.kind != NodeKind::kUnknown && slot.kind != decoded.kind) {
            return corrupt("kind disagrees with its parent");
        }
        kind = decoded.kind;
        own = decoded.ref;
        node = std::move(decoded.node);
    }
    if (kind == NodeKind::kBranch && node == nullptr) {
        node = make_branch();
        node->dirty = false;
        PEL_TRY_VOID(load_children(*node, pos, kv));
    }
    Bytes rlp;
    encode_rlp(rlp, *node);
    const NodeRef ref = make_node_ref(rlp);
    const bool ok = pos.empty() ? root_hash_of(rlp) == root_hash_ && same_ref(ref, own)
                                : same_ref(ref, slot.ref);
    if (!ok) return corrupt("does not hash to the reference its parent holds");
    set_node(slot, std::move(node));
    return {};
}

Result<void> PathTrie::verify_root(const KvStore& kv) {
    if (root_.empty()) return {};
    const Bytes pos;
    return load(root_, pos, kv);
}

Result<LoadAll> PathTrie::load_all(const KvStore& kv, size_t max_records) {
    if (root_.empty() || root_.node != nullptr) return LoadAll::kLoaded;
    struct Loaded {
        Bytes pos;
        NodeRecord rec;
    };
    std::vector<Loaded> recs;
    std::optional<Error> bad;
    bool too_many = false;
    Bytes rlp;
    // Keys are prefix || depth || path: the scan yields parents before their children.
    PEL_TRY_VOID(kv.for_each_prefix_cached(prefix_, [&](ByteView k, ByteView v) {
        if (recs.size() == max_records) {
            too_many = true;
            return false;
        }
        const ByteView key = k.subspan(prefix_.size());
        if (key.empty() || key[0] != key.size() - 1 ||
            std::any_of(key.begin() + 1, key.end(), [](uint8_t x) { return x > 15; })) {
            bad = Error{"state: database corrupt: trie node record at a bad key"};
            return false;
        }
        Loaded l;
        l.pos.assign(key.begin() + 1, key.end());
        if (auto r = parse_record(v, true, rlp, l.rec); !r) {
            bad = r.error();
            return false;
        }
        if (l.rec.kind == NodeKind::kBranch) {
            l.rec.node = make_branch();
            l.rec.node->dirty = false;
        }
        recs.push_back(std::move(l));
        return true;
    }));
    if (bad) return unexpected(std::move(*bad));
    if (too_many) return LoadAll::kTooMany;
    if (recs.empty()) return LoadAll::kNoRecords;
    if (!recs[0].pos.empty()) return corrupt("missing at the root");

    // Attach every node to its parent: the branch one nibble up, or the extension that ends here.
    // The records came in key order, which is (depth, path) order: the node at a given path is
    // found by binary search, without building an index (nothing allocated per lookup).
    std::vector<TrieNode*> at(recs.size(), nullptr);  // the node of each attached record
    auto find_at = [&](ByteView path, size_t before) -> TrieNode* {
        const auto end = recs.begin() + static_cast<std::ptrdiff_t>(before);
        const auto it = std::lower_bound(recs.begin(), end, path, [](const Loaded& l, ByteView p) {
            if (l.pos.size() != p.size()) return l.pos.size() < p.size();
            // A loop: GCC 12 misreports the memcmp-based std::lexicographical_compare.
            for (size_t k = 0; k < p.size(); ++k) {
                if (l.pos[k] != p[k]) return l.pos[k] < p[k];
            }
            return false;
        });
        if (it == end || !equal(it->pos, path)) return nullptr;
        return at[static_cast<size_t>(it - recs.begin())];
    };
    std::vector<std::pair<ChildSlot*, size_t>> branches;  // slot and record index, for the check
    ChildSlot root;
    root.ref = root_.ref;
    for (size_t i = 0; i < recs.size(); ++i) {
        Loaded& l = recs[i];
        ChildSlot* slot = nullptr;
        if (i == 0) {
            slot = &root;
        } else {
            const size_t d = l.pos.size();
            for (size_t j = d; j-- > 0 && slot == nullptr;) {
                TrieNode* const found = find_at(ByteView(l.pos.data(), j), i);
                if (found == nullptr) continue;
                TrieNode& parent = *found;
                if (parent.kind == NodeKind::kBranch && j + 1 == d) {
                    slot = &parent.children[l.pos[j]];
                } else if (parent.kind == NodeKind::kExtension && j + parent.path.size() == d &&
                           ends_with_path(l.pos, j, parent.path)) {
                    slot = &parent.children[0];
                    if (l.rec.kind != NodeKind::kBranch || !same_ref(slot->ref, l.rec.ref)) {
                        return corrupt("under an extension does not match it");
                    }
                }
                if (slot == nullptr) return corrupt("has no parent");
            }
            if (slot == nullptr || slot->node != nullptr) return corrupt("has no parent");
            slot->ref = l.rec.ref;
        }
        slot->kind = l.rec.kind;
        at[i] = l.rec.node.get();
        if (l.rec.kind == NodeKind::kBranch) branches.emplace_back(slot, i);
        slot->node = std::move(l.rec.node);
    }
    // Deepest first, each branch must hash to the ref its record holds (its parent checks that
    // ref in turn), and the root to the root hash.
    for (size_t b = branches.size(); b-- > 0;) {
        const auto [slot, i] = branches[b];
        rlp.clear();
        encode_rlp(rlp, *slot->node);
        const NodeRef ref = make_node_ref(rlp);
        const bool ok = i == 0 ? root_hash_of(rlp) == root_hash_ && same_ref(ref, recs[0].rec.ref)
                               : same_ref(ref, slot->ref);
        if (!ok) return corrupt("does not hash to the reference its parent holds");
    }
    if (recs[0].rec.kind != NodeKind::kBranch) {
        rlp.clear();
        encode_rlp(rlp, *root.node);
        if (root_hash_of(rlp) != root_hash_) {
            return corrupt("does not hash to the reference its parent holds");
        }
    }
    root_ = std::move(root);
    return LoadAll::kLoaded;
}

Result<PathTrie::Proof> PathTrie::prove(const Hash32& key, const KvStore& kv) {
    Proof out;
    const auto nibbles = nibbles_of(key);
    const NibbleView k(nibbles);
    Bytes pos;
    pos.reserve(kKeyNibbles);
    size_t d = 0;
    ChildSlot* slot = &root_;
    Bytes rlp;
    while (!slot->empty()) {
        PEL_TRY_VOID(load(*slot, pos, kv));
        TrieNode& n = *slot->node;
        PEL_ASSERT(!n.dirty, "PathTrie::prove over pending changes");
        rlp.clear();
        encode_rlp(rlp, n);
        if (pos.empty() || rlp.size() >= 32) {  // shorter nodes are embedded in their parent
            out.nodes.push_back(rlp);
        }
        const NibbleView rest = k.subspan(d);
        switch (n.kind) {
            case NodeKind::kLeaf:
                if (n.path.size() == rest.size() && starts_with(rest, n.path)) out.value = n.value;
                return out;
            case NodeKind::kExtension:
                if (!starts_with(rest, n.path)) return out;
                append(pos, n.path);
                d += n.path.size();
                slot = &n.children[0];
                break;
            case NodeKind::kBranch:
                if (rest.empty()) return out;
                pos.push_back(rest[0]);
                ++d;
                slot = &n.children[rest[0]];
                break;
            case NodeKind::kUnknown:
                return corrupt("has an unknown kind");
        }
    }
    return out;
}

void PathTrie::note_deleted(const Bytes& pos, std::vector<Bytes>& deleted) const {
    if (persistence_ == Persistence::kMemoryOnly) return;
    deleted.push_back(node_key(pos));
}

Result<void> PathTrie::put(const Hash32& key, ByteView value, bool known_present,
                           const KvStore& kv) {
    PEL_ASSERT(!value.empty(), "PathTrie::put: empty value");
    const auto nibbles = nibbles_of(key);
    Bytes pos;
    pos.reserve(kKeyNibbles);
    PEL_TRY(const bool added, insert(root_, pos, nibbles, 0, value, known_present, kv, deleted_));
    if (added) ++size_;
    return {};
}

Result<void> PathTrie::erase(const Hash32& key, const KvStore& kv) {
    const auto nibbles = nibbles_of(key);
    Bytes pos;
    pos.reserve(kKeyNibbles);
    PEL_TRY(const bool removed, remove(root_, pos, nibbles, 0, kv, deleted_));
    if (removed) --size_;
    return {};
}

Result<void> PathTrie::apply(std::span<const TrieOp> ops, const KvStore& kv, bool parallel) {
    auto sequential = [&]() -> Result<void> {
        for (const TrieOp& op : ops) {
            if (op.value.empty()) {
                PEL_TRY_VOID(erase(op.key, kv));
            } else {
                PEL_TRY_VOID(put(op.key, op.value, op.known_present, kv));
            }
        }
        return {};
    };
    if (!parallel || ops.size() < 64 || root_.empty()) return sequential();
    {
        const Bytes pos;
        PEL_TRY_VOID(load(root_, pos, kv));
    }
    if (root_.node->kind != NodeKind::kBranch) return sequential();

    // Ops are sorted by key, so each first nibble is one contiguous run.
    std::array<std::span<const TrieOp>, 16> groups;
    for (size_t i = 0; i < ops.size();) {
        const auto nib = static_cast<uint8_t>(ops[i].key.bytes[0] >> 4);
        size_t j = i + 1;
        while (j < ops.size() && (ops[j].key.bytes[0] >> 4) == nib) ++j;
        groups[nib] = ops.subspan(i, j - i);
        i = j;
    }
    TrieNode& root = *root_.node;
    std::array<std::vector<Bytes>, 16> deleted;
    std::array<std::optional<Error>, 16> errors;
    parallel_for_index(16, [&](size_t nib) {
        try {
            Bytes pos{static_cast<uint8_t>(nib)};
            for (const TrieOp& op : groups[nib]) {
                const auto nibbles = nibbles_of(op.key);
                Result<void> r;
                if (op.value.empty()) {
                    auto removed = remove(root.children[nib], pos, nibbles, 1, kv, deleted[nib]);
                    if (!removed) r = unexpected(std::move(removed).error());
                } else {
                    auto added = insert(root.children[nib], pos, nibbles, 1, op.value,
                                        op.known_present, kv, deleted[nib]);
                    if (!added) r = unexpected(std::move(added).error());
                }
                if (!r) {
                    errors[nib] = r.error();
                    return;
                }
            }
        } catch (...) {
            errors[nib] = Error{"state: allocation failure while updating the trie"};
        }
    });
    root.dirty = true;
    for (size_t nib = 0; nib < 16; ++nib) {
        if (errors[nib]) return unexpected(*errors[nib]);
        for (auto& k : deleted[nib]) deleted_.push_back(std::move(k));
    }
    Bytes pos;
    return collapse(root_, pos, kv, deleted_);
}

// Positions: `pos` is the nibble path of `slot` from the root (the node's storage key suffix).
// Every node that ends up somewhere new is dirty (so it is written at its new position), and every
// position that ends up empty is recorded in deleted_ (writes go after deletes in the batch, so a
// position that is vacated and then refilled is simply overwritten).
Result<bool> PathTrie::insert(ChildSlot& slot, Bytes& pos,  // NOLINT(misc-no-recursion)
                              NibbleView key, size_t d, ByteView value, bool known_present,
                              const KvStore& kv, std::vector<Bytes>& deleted) const {
    const NibbleView rest = key.subspan(d);
    if (slot.empty() || (known_present && slot.node == nullptr && slot.kind == NodeKind::kLeaf)) {
        // An empty slot, or the untouched leaf that holds this very key (the only key with this
        // prefix): a new leaf at this position replaces it.
        const bool added = slot.empty();
        set_node(slot, make_leaf(rest, value));
        return added;
    }
    PEL_TRY_VOID(load(slot, pos, kv));
    TrieNode& n = *slot.node;
    switch (n.kind) {
        case NodeKind::kLeaf: {
            if (equal(n.path, rest)) {
                n.value.assign(value.begin(), value.end());
                n.dirty = true;
                return false;
            }
            const size_t c = common_prefix(n.path, rest);
            PEL_ASSERT(c < n.path.size() && c < rest.size(), "keys of different lengths");
            auto branch = make_branch();
            const uint8_t old_nib = n.path[c];
            set_node(branch->children[old_nib],
                     make_leaf(NibbleView(n.path).subspan(c + 1), n.value));
            set_node(branch->children[rest[c]], make_leaf(rest.subspan(c + 1), value));
            if (c > 0) {
                set_node(slot, make_extension(rest.first(c), slot_of(std::move(branch))));
            } else {
                set_node(slot, std::move(branch));
            }
            return true;
        }
        case NodeKind::kExtension: {
            const size_t c = common_prefix(n.path, rest);
            if (c == n.path.size()) {
                const size_t mark = pos.size();
                append(pos, n.path);
                PEL_TRY(const bool added,
                        insert(n.children[0], pos, key, d + c, value, known_present, kv, deleted));
                pos.resize(mark);
                n.dirty = true;
                return added;
            }
            auto branch = make_branch();
            const uint8_t old_nib = n.path[c];
            if (c + 1 < n.path.size()) {
                // The rest of the old extension moves below the new branch; its child stays put.
                set_node(
                    branch->children[old_nib],
                    make_extension(NibbleView(n.path).subspan(c + 1), std::move(n.children[0])));
            } else {
                branch->children[old_nib] = std::move(n.children[0]);
            }
            set_node(branch->children[rest[c]], make_leaf(rest.subspan(c + 1), value));
            if (c > 0) {
                set_node(slot, make_extension(rest.first(c), slot_of(std::move(branch))));
            } else {
                set_node(slot, std::move(branch));
            }
            return true;
        }
        case NodeKind::kBranch: {
            const uint8_t nib = rest[0];
            pos.push_back(nib);
            PEL_TRY(const bool added,
                    insert(n.children[nib], pos, key, d + 1, value, known_present, kv, deleted));
            pos.pop_back();
            n.dirty = true;
            return added;
        }
        case NodeKind::kUnknown:
            break;
    }
    return corrupt("has an unknown kind");
}

Result<bool> PathTrie::remove(ChildSlot& slot, Bytes& pos,  // NOLINT(misc-no-recursion)
                              NibbleView key, size_t d, const KvStore& kv,
                              std::vector<Bytes>& deleted) const {
    if (slot.empty()) return false;
    PEL_TRY_VOID(load(slot, pos, kv));
    TrieNode& n = *slot.node;
    const NibbleView rest = key.subspan(d);
    switch (n.kind) {
        case NodeKind::kLeaf:
            if (!equal(n.path, rest)) return false;
            note_deleted(pos, deleted);
            slot = ChildSlot{};
            return true;
        case NodeKind::kExtension: {
            if (!starts_with(rest, n.path)) return false;
            const size_t mark = pos.size();
            append(pos, n.path);
            PEL_TRY(const bool removed,
                    remove(n.children[0], pos, key, d + n.path.size(), kv, deleted));
            if (!removed) {
                pos.resize(mark);
                return false;
            }
            n.dirty = true;
            ChildSlot& child = n.children[0];
            PEL_ASSERT(!child.empty(), "a branch under an extension cannot vanish");
            if (child.node != nullptr && child.node->kind != NodeKind::kBranch) {
                // The branch below collapsed into a leaf or an extension: merge it into this one.
                // It sat at pos || path, which is now empty.
                note_deleted(pos, deleted);
                TrieNode& c = *child.node;
                Bytes merged = n.path;
                append(merged, c.path);
                std::unique_ptr<TrieNode> m;
                if (c.kind == NodeKind::kLeaf) {
                    m = make_leaf(merged, c.value);
                } else {
                    m = make_extension(merged, std::move(c.children[0]));
                }
                pos.resize(mark);
                set_node(slot, std::move(m));
                return true;
            }
            pos.resize(mark);
            return true;
        }
        case NodeKind::kBranch: {
            const uint8_t nib = rest[0];
            pos.push_back(nib);
            PEL_TRY(const bool removed, remove(n.children[nib], pos, key, d + 1, kv, deleted));
            pos.pop_back();
            if (!removed) return false;
            n.dirty = true;
            PEL_TRY_VOID(collapse(slot, pos, kv, deleted));
            return true;
        }
        case NodeKind::kUnknown:
            break;
    }
    return corrupt("has an unknown kind");
}

Result<void> PathTrie::collapse(ChildSlot& slot, Bytes& pos, const KvStore& kv,
                                std::vector<Bytes>& deleted) const {
    TrieNode& n = *slot.node;
    size_t count = 0;
    size_t last = 0;
    for (size_t i = 0; i < 16; ++i) {
        if (!n.children[i].empty()) {
            ++count;
            last = i;
        }
    }
    if (count >= 2) return {};
    if (count == 0) {  // only possible at the root, when apply() erased every key
        note_deleted(pos, deleted);
        slot = ChildSlot{};
        return {};
    }
    // One child left: the branch collapses (Yellow Paper: no branch with one child and no
    // value). A branch child stays where it is under a new one-nibble extension; a leaf or
    // extension child moves up here.
    ChildSlot& only = n.children[last];
    const auto only_nib = static_cast<uint8_t>(last);
    const NodeKind kind = only.node != nullptr ? only.node->kind : only.kind;
    if (kind == NodeKind::kBranch) {
        set_node(slot, make_extension(NibbleView(&only_nib, 1), std::move(only)));
        return {};
    }
    pos.push_back(only_nib);
    PEL_TRY_VOID(load(only, pos, kv));
    note_deleted(pos, deleted);
    pos.pop_back();
    TrieNode& c = *only.node;
    Bytes merged{only_nib};
    append(merged, c.path);
    if (c.kind == NodeKind::kLeaf) {
        set_node(slot, make_leaf(merged, c.value));
    } else {
        set_node(slot, make_extension(merged, std::move(c.children[0])));
    }
    return {};
}

void PathTrie::finish_node(ChildSlot& slot, const NodeRef& ref, const Bytes& pos, TrieWrites& out,
                           HashScratch& scratch) const {
    TrieNode& n = *slot.node;
    slot.ref = ref;
    slot.kind = n.kind;
    n.dirty = false;
    if (persistence_ == Persistence::kMemoryOnly) return;  // keeps its leaves
    scratch.rec.clear();
    encode_node_record(scratch.rec, n, slot.ref);
    node_key(scratch.key, pos);
    out.puts.put(scratch.key, scratch.rec);
    if (n.kind == NodeKind::kLeaf && !keep_leaves_) slot.node.reset();
}

namespace {

// A dirty node waiting for its hash: where it hangs, its position (pos[at, at + len) of the
// positions' arena) and its height above the lowest dirty node below it (leaves: 0).
struct DirtyNode {
    ChildSlot* slot;
    uint32_t at;
    uint8_t len;
    uint8_t height;
};

struct DirtyNodes {
    std::vector<DirtyNode> nodes;
    Bytes positions;
    size_t max_height = 0;
};

// Post-order walk over the dirty nodes below `slot`: returns the node's height, or -1 when there
// is nothing to hash there. Drops clean leaves that are not kept, as hash_slot does.
int collect_dirty(ChildSlot& slot, Bytes& pos, bool keep_leaves,  // NOLINT(misc-no-recursion)
                  DirtyNodes& out) {
    if (slot.node == nullptr) return -1;
    TrieNode& n = *slot.node;
    if (!n.dirty) {
        if (n.kind == NodeKind::kLeaf && !keep_leaves) slot.node.reset();
        return -1;
    }
    int height = 0;
    if (n.kind == NodeKind::kBranch) {
        for (uint8_t i = 0; i < 16; ++i) {
            pos.push_back(i);
            height = std::max(height, collect_dirty(n.children[i], pos, keep_leaves, out) + 1);
            pos.pop_back();
        }
    } else if (n.kind == NodeKind::kExtension) {
        const size_t mark = pos.size();
        append(pos, n.path);
        height = collect_dirty(n.children[0], pos, keep_leaves, out) + 1;
        pos.resize(mark);
    }
    out.nodes.push_back(DirtyNode{&slot, static_cast<uint32_t>(out.positions.size()),
                                  static_cast<uint8_t>(pos.size()), static_cast<uint8_t>(height)});
    append(out.positions, pos);
    out.max_height = std::max(out.max_height, static_cast<size_t>(height));
    return height;
}

}  // namespace

void PathTrie::hash_by_height(ChildSlot& slot, Bytes& pos, TrieWrites& out,
                              HashScratch& scratch) const {
    DirtyNodes dirty;
    if (collect_dirty(slot, pos, keep_leaves_, dirty) < 0) return;
    // Counting sort by height; within a height, the nodes are independent of each other.
    std::vector<size_t> first(dirty.max_height + 2, 0);
    for (const DirtyNode& d : dirty.nodes) ++first[d.height + 1];
    for (size_t h = 1; h < first.size(); ++h) first[h] += first[h - 1];
    std::vector<uint32_t> order(dirty.nodes.size());
    {
        std::vector<size_t> next(first.begin(), first.end() - 1);
        for (size_t i = 0; i < dirty.nodes.size(); ++i) {
            order[next[dirty.nodes[i].height]++] = static_cast<uint32_t>(i);
        }
    }
    Bytes rlps;
    std::vector<size_t> ends;
    std::vector<uint32_t> hashed;  // indexes into this height's nodes, by number of Keccak blocks
    std::vector<ByteView> in;
    std::vector<Hash32> digests;
    std::vector<NodeRef> refs;
    Bytes node_pos;
    for (size_t h = 0; h <= dirty.max_height; ++h) {
        const std::span<const uint32_t> level(order.data() + first[h], first[h + 1] - first[h]);
        rlps.clear();
        ends.clear();
        hashed.clear();
        for (size_t k = 0; k < level.size(); ++k) {
            const size_t begin = rlps.size();
            encode_rlp(rlps, *dirty.nodes[level[k]].slot->node);
            ends.push_back(rlps.size());
            if (rlps.size() - begin >= 32) hashed.push_back(static_cast<uint32_t>(k));
        }
        auto rlp_of = [&](size_t k) {
            const size_t begin = k == 0 ? 0 : ends[k - 1];
            return ByteView(rlps).subspan(begin, ends[k] - begin);
        };
        // Inputs that take as many 136-byte blocks go into one group of eight lanes together.
        std::stable_sort(hashed.begin(), hashed.end(), [&](uint32_t a, uint32_t b) {
            return rlp_of(a).size() / 136 < rlp_of(b).size() / 136;
        });
        in.resize(hashed.size());
        for (size_t j = 0; j < hashed.size(); ++j) in[j] = rlp_of(hashed[j]);
        digests.resize(hashed.size());
        keccak256_many(in, digests);
        refs.assign(level.size(), NodeRef{});
        for (size_t j = 0; j < hashed.size(); ++j) refs[hashed[j]] = NodeRef::of_hash(digests[j]);
        for (size_t k = 0; k < level.size(); ++k) {
            const DirtyNode& d = dirty.nodes[level[k]];
            if (refs[k].empty()) refs[k] = make_node_ref(rlp_of(k));  // embedded: under 32 bytes
            node_pos.assign(dirty.positions.begin() + d.at, dirty.positions.begin() + d.at + d.len);
            finish_node(*d.slot, refs[k], node_pos, out, scratch);
        }
    }
}

void PathTrie::hash_slot(ChildSlot& slot, Bytes& pos,  // NOLINT(misc-no-recursion)
                         TrieWrites& out, HashScratch& scratch, int parallel_levels) const {
    if (parallel_levels <= 0) {
        hash_by_height(slot, pos, out, scratch);
        return;
    }
    if (slot.node == nullptr) return;
    TrieNode& n = *slot.node;
    if (!n.dirty) {
        if (n.kind == NodeKind::kLeaf && !keep_leaves_) slot.node.reset();
        return;
    }
    if (n.kind == NodeKind::kBranch) {
        std::array<uint8_t, 16> dirty{};
        size_t dirty_count = 0;
        for (uint8_t i = 0; i < 16; ++i) {
            const ChildSlot& c = n.children[i];
            if (c.node != nullptr && c.node->dirty) dirty[dirty_count++] = i;
        }
        if (dirty_count > 1) {
            std::array<TrieWrites, 16> parts;
            parallel_for_index(dirty_count, [&](size_t k) {
                try {
                    const uint8_t i = dirty[k];
                    Bytes child_pos = pos;
                    child_pos.push_back(i);
                    HashScratch task_scratch;
                    hash_slot(n.children[i], child_pos, parts[k], task_scratch,
                              parallel_levels - 1);
                } catch (...) {
                    PEL_ASSERT(false, "state: allocation failure while hashing the trie");
                }
            });
            // The tasks' buffers are handed on whole: copying them here would be serial work.
            for (size_t k = 0; k < dirty_count; ++k) {
                if (parts[k].puts.count() > 0) out.more_puts.push_back(std::move(parts[k].puts));
                for (KvWriteBatch& b : parts[k].more_puts) out.more_puts.push_back(std::move(b));
            }
        }
        for (uint8_t i = 0; i < 16; ++i) {  // whatever the parallel pass did not do
            pos.push_back(i);
            hash_slot(n.children[i], pos, out, scratch, 0);
            pos.pop_back();
        }
    } else if (n.kind == NodeKind::kExtension) {
        const size_t mark = pos.size();
        append(pos, n.path);
        hash_slot(n.children[0], pos, out, scratch, parallel_levels);
        pos.resize(mark);
    }
    scratch.rlp.clear();
    encode_rlp(scratch.rlp, n);
    finish_node(slot, make_node_ref(scratch.rlp), pos, out, scratch);
}

Hash32 PathTrie::hash(TrieWrites& out, bool parallel) {
    out.deletes.insert(out.deletes.end(), std::make_move_iterator(deleted_.begin()),
                       std::make_move_iterator(deleted_.end()));
    deleted_.clear();
    if (root_.empty()) {
        root_hash_ = kEmptyTrieRoot;
        return root_hash_;
    }
    if (root_.node == nullptr || !root_.node->dirty) return root_hash_;
    Bytes pos;
    pos.reserve(kKeyNibbles);
    HashScratch scratch;
    hash_slot(root_, pos, out, scratch, parallel ? 2 : 0);
    // The root is referenced by its hash even when its RLP is shorter than 32 bytes.
    if (root_.ref.is_hash()) {
        std::copy_n(root_.ref.data.begin() + 1, 32, root_hash_.bytes.begin());
    } else {
        root_hash_ = keccak256(root_.ref.view());
    }
    return root_hash_;
}

}  // namespace pel::state::internal
