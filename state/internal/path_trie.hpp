// SPDX-License-Identifier: Apache-2.0
// PathTrie: a Merkle Patricia trie over 32-byte keys whose nodes are persisted in a KvStore keyed
// by their position (key prefix || nibble path from the root), loaded lazily and updated in place.
// Private to state/.
//
// Why keyed by path, not by hash: a node's position is stable (branches never move; a leaf or
// extension moves only when the structure around it changes, and then the old position is
// deleted), so every update overwrites or deletes the records it replaces. The database holds
// exactly the current trie: no stale nodes, no reference counting, no pruning pass; a deleted
// storage trie is one prefix range. The price: only the head trie is on disk (no historical
// proofs), which the store does not offer anyway.
//
// Node records, at key prefix || depth (1 byte) || nibble path (one nibble per byte), so that the
// children of a node at depth d are the records at depth d + 1 under its path: one short range.
//   leaf:      0x01 | n | n nibbles packed two per byte (high first) | value
//              0x05 | n | n nibbles packed | middle     (a value that is the RLP of an account
//                     without storage and code: shortened_account_rlp(), state/account.hpp)
//   extension: 0x02 | n | n nibbles packed | ref size | child ref
//   branch:    0x03 | ref size | own ref                                  (more than 4 children)
//              0x04 | ref size | own ref | mask (2, LE) | leaf mask (2) | extension mask (2) |
//                     per child: ref size | ref                           (at most 4 children)
// where a ref is a NodeRef (embedded RLP when under 32 bytes, else 0xa0 || keccak). A record holds
// nothing about its siblings: a wide branch's record is only its own ref (the refs of its
// children are in their own records; a leaf's or extension's ref is computed from its record), so
// an update rewrites the changed nodes and nothing else. Loading a wide branch reads its
// children's records in one range scan; a narrow branch (the bottom of a trie: 2-3 children)
// also carries its children's refs, which costs a few dozen bytes per write and spares the scan
// (its parent's scan reads the record and loads it). Every load is checked against the parent's
// ref, up to the root hash in the head record.
//
// A trie may also live in memory only (Persistence::kMemoryOnly): wholly loaded, it writes no
// records and its owner rebuilds it from elsewhere when it is needed again (state/ does so for a
// small storage trie, from the account's flat slots). persist_all() turns such a trie into one
// with records: the next hash() writes every node.
//
// Thread safety: none; one PathTrie is used by one thread at a time, except that hash() may run
// subtries on oneTBB workers (it joins before returning). Distinct tries are independent.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "primitives/bytes.hpp"
#include "primitives/hash.hpp"
#include "primitives/result.hpp"
#include "state/kv_store.hpp"
#include "state/trie_node.hpp"

namespace pel::state::internal {

enum class NodeKind : uint8_t { kUnknown = 0, kLeaf = 1, kExtension = 2, kBranch = 3 };

struct TrieNode;

/// A reference from a parent (or the trie) to a child position.
struct ChildSlot {
    NodeRef ref;  ///< valid unless `node` is dirty; empty: no child
    NodeKind kind = NodeKind::kUnknown;
    std::unique_ptr<TrieNode> node;  ///< loaded node, or null (then `ref` describes it)

    [[nodiscard]] bool empty() const noexcept { return node == nullptr && ref.empty(); }
};

struct TrieNode {
    NodeKind kind = NodeKind::kLeaf;
    bool dirty = true;                ///< changed since loaded: to re-hash and re-persist
    Bytes path;                       ///< leaf: rest of the key; extension: shared nibbles
    Bytes value;                      ///< leaf only
    std::vector<ChildSlot> children;  ///< branch: 16; extension: 1; leaf: none
};

/// Records produced by hash(): positions to delete and nodes to write (full keys). The writes go
/// straight into batch buffers (no allocation per node): `puts`, and one buffer per subtrie that
/// was hashed as a parallel task in `more_puts` (moved there, not copied: a writer takes them all,
/// in any order, since no position is written twice).
struct TrieWrites {
    std::vector<Bytes> deletes;
    KvWriteBatch puts;
    std::vector<KvWriteBatch> more_puts;

    /// Appends every put (puts, then more_puts) to `batch`.
    void append_puts_to(KvWriteBatch& batch) const {
        batch.append(puts);
        for (const KvWriteBatch& b : more_puts) batch.append(b);
    }
};

/// One change for PathTrie::apply(): set `key` to `value`, or erase it when `value` is empty.
struct TrieOp {
    Hash32 key;
    ByteView value;
    bool known_present = false;  ///< see PathTrie::put()
};

/// Whether a trie's nodes have records in the KvStore (see the file comment).
enum class Persistence : uint8_t { kRecords, kMemoryOnly };

/// What PathTrie::load_all() did.
enum class LoadAll : uint8_t { kLoaded, kTooMany, kNoRecords };

class PathTrie {
  public:
    /// A trie whose persisted root hash is `root` (kEmptyTrieRoot: empty) under `key_prefix`.
    /// `keep_leaves`: hash() keeps leaves in memory (small tries kept between commits) instead of
    /// unloading them. A kMemoryOnly trie keeps every node; it must start empty, or be filled
    /// only through put() from empty.
    PathTrie(Bytes key_prefix, const Hash32& root, bool keep_leaves = false,
             Persistence persistence = Persistence::kRecords);

    /// Sets `key` to `value` (non-empty). `known_present`: the key is in the persisted trie (lets
    /// an update skip loading the old leaf). Reads nodes from `kv`. Errors: I/O, corruption.
    [[nodiscard]] Result<void> put(const Hash32& key, ByteView value, bool known_present,
                                   const KvStore& kv);

    /// Removes `key` if present. Errors: I/O, corruption.
    [[nodiscard]] Result<void> erase(const Hash32& key, const KvStore& kv);

    /// Applies `ops` (sorted by key, distinct keys) as put()/erase() would. With `parallel` and a
    /// branch at the root, the ops under each of the root's 16 children run as independent tasks
    /// (their subtries are disjoint); the root is fixed up afterwards.
    [[nodiscard]] Result<void> apply(std::span<const TrieOp> ops, const KvStore& kv, bool parallel);

    /// Hashes every dirty node bottom-up, appends their records and the positions that lost their
    /// node to `out` (nothing for a kMemoryOnly trie), and returns the new root. With `parallel`,
    /// the dirty subtries under the top two levels are hashed on oneTBB workers. Afterwards leaves
    /// are unloaded (memory stays bounded by the branch and extension nodes that were touched),
    /// unless keep_leaves.
    [[nodiscard]] Hash32 hash(TrieWrites& out, bool parallel);

    /// Forgets every loaded node and takes `root` as the persisted root (after a failed commit).
    void reset(const Hash32& root);

    [[nodiscard]] const Hash32& root() const noexcept { return root_hash_; }

    [[nodiscard]] Persistence persistence() const noexcept { return persistence_; }

    /// Turns a kMemoryOnly trie into one with records: every node becomes dirty, so the next
    /// hash() writes the whole trie.
    void persist_all();

    /// The number of keys of a kMemoryOnly trie (which is wholly in memory).
    [[nodiscard]] size_t memory_only_size() const;

    /// Loads the root node and checks it hashes to root() (an integrity check for open()).
    [[nodiscard]] Result<void> verify_root(const KvStore& kv);

    /// The Merkle proof of `key` (EIP-1186): the RLP of every node on its path that is referenced
    /// by hash (the root always), root first. It proves inclusion (`value` set: the last node is
    /// the key's leaf) or exclusion (the path ends where the key would be). Loads the nodes from
    /// `kv`, each checked against its parent's ref; meant for a trie with no pending changes.
    /// Errors: I/O, corruption.
    struct Proof {
        std::vector<Bytes> nodes;
        std::optional<Bytes> value;
    };
    [[nodiscard]] Result<Proof> prove(const Hash32& key, const KvStore& kv);

    /// For a trie of which nothing is loaded yet: when it has at most `max_records` records,
    /// loads all of them with one prefix scan (instead of a read per node on the way down),
    /// checks every branch against its children and the root against root(), and returns
    /// kLoaded (also for an empty or already loaded trie); with more, loads nothing and returns
    /// kTooMany; with none at all under a non-empty root, kNoRecords (the trie is not persisted,
    /// or its records are lost: the caller knows which). Errors: I/O, corruption.
    [[nodiscard]] Result<LoadAll> load_all(const KvStore& kv, size_t max_records);

  private:
    [[nodiscard]] Result<void> load(ChildSlot& slot, const Bytes& pos, const KvStore& kv) const;
    // Fills the 16 child slots of the branch at `pos` from the records one level below it.
    [[nodiscard]] Result<void> load_children(TrieNode& branch, const Bytes& pos,
                                             const KvStore& kv) const;
    // The database key of the node at `pos`.
    [[nodiscard]] Bytes node_key(const Bytes& pos) const;
    void node_key(Bytes& out, const Bytes& pos) const;
    struct HashScratch {
        Bytes rlp;
        Bytes rec;
        Bytes key;
    };
    // `deleted` collects the full keys of vacated positions (per task when parallel).
    // Returns whether `key` is new (a put that only replaced a value: false).
    [[nodiscard]] Result<bool> insert(ChildSlot& slot, Bytes& pos, NibbleView key, size_t d,
                                      ByteView value, bool known_present, const KvStore& kv,
                                      std::vector<Bytes>& deleted) const;
    [[nodiscard]] Result<bool> remove(ChildSlot& slot, Bytes& pos, NibbleView key, size_t d,
                                      const KvStore& kv, std::vector<Bytes>& deleted) const;
    // A branch at `slot` (position `pos`) left with fewer than two children becomes what the
    // Yellow Paper allows: nothing, an extension over a branch child, or its moved-up child.
    [[nodiscard]] Result<void> collapse(ChildSlot& slot, Bytes& pos, const KvStore& kv,
                                        std::vector<Bytes>& deleted) const;
    void note_deleted(const Bytes& pos, std::vector<Bytes>& deleted) const;
    void hash_slot(ChildSlot& slot, Bytes& pos, TrieWrites& out, HashScratch& scratch,
                   int parallel_levels) const;
    /// hash_slot without parallelism, by height: every dirty node below `slot` is encoded once
    /// its children are, and the nodes of one height are hashed in groups (keccak256_many).
    void hash_by_height(ChildSlot& slot, Bytes& pos, TrieWrites& out, HashScratch& scratch) const;
    /// Finishes a dirty node whose reference is `ref`: marks it clean, queues its record, drops a
    /// leaf that is not kept.
    void finish_node(ChildSlot& slot, const NodeRef& ref, const Bytes& pos, TrieWrites& out,
                     HashScratch& scratch) const;

    Bytes prefix_;
    bool keep_leaves_ = false;
    Persistence persistence_ = Persistence::kRecords;
    // Keys added minus keys removed since the trie was made; its size for a kMemoryOnly trie,
    // which starts empty (a persisted trie's size is not known without loading it all).
    size_t size_ = 0;
    ChildSlot root_;
    Hash32 root_hash_;
    std::vector<Bytes> deleted_;  // full keys of positions vacated since the last hash()
};

/// Encodes a node record (see the file comment); `own_ref` is the node's ref (stored for
/// branches only). Exposed for tests.
void encode_node_record(Bytes& out, const TrieNode& node, const NodeRef& own_ref);

/// A decoded node record: the node's kind and ref, and for a leaf, an extension or a narrow
/// branch the clean node itself (its children unloaded); a wide branch's children are in their
/// own records.
struct NodeRecord {
    NodeKind kind = NodeKind::kUnknown;
    NodeRef ref;
    std::unique_ptr<TrieNode> node;
};

/// Decodes a node record. Errors ("corrupt"): anything that is not a record of the format above.
[[nodiscard]] Result<NodeRecord> decode_node_record(ByteView rec);

}  // namespace pel::state::internal
