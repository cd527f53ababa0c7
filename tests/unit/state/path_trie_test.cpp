// SPDX-License-Identifier: Apache-2.0
// PathTrie (the store's persisted trie) against the independent trie_root() oracle, on keys that
// share long prefixes (so leaves sit deep, extensions split and merge, and short leaves are
// embedded in their parents), with every batch of writes persisted and the trie reloaded.
#include "state/internal/path_trie.hpp"

#include <algorithm>
#include <map>
#include <random>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "primitives/keccak.hpp"
#include "state/account.hpp"
#include "state/kv_store.hpp"
#include "state/trie.hpp"

namespace pel::state::internal {
namespace {

Hash32 oracle_root(const std::map<Hash32, Bytes>& model) {
    std::vector<std::pair<Bytes, Bytes>> entries;
    for (const auto& [k, v] : model) entries.emplace_back(Bytes(k.bytes.begin(), k.bytes.end()), v);
    return trie_root(std::move(entries));
}

// Keys drawn from a few clusters: a shared 30-byte stem and two random low bytes, so tries are
// deep and narrow; occasionally a key elsewhere.
Hash32 clustered_key(std::mt19937_64& rng) {
    Hash32 k;
    const auto cluster = static_cast<uint8_t>(rng() % 3);
    for (size_t i = 0; i < 30; ++i) k.bytes[i] = static_cast<uint8_t>(cluster * 0x11 + i);
    if (rng() % 8 == 0) k.bytes[static_cast<size_t>(rng() % 30)] ^= 0x40;
    k.bytes[30] = static_cast<uint8_t>(rng() % 3);
    k.bytes[31] = static_cast<uint8_t>(rng() % 24);
    return k;
}

void apply_writes(KvStore& kv, const TrieWrites& w) {
    KvWriteBatch batch;
    for (const auto& k : w.deletes) batch.del(k);
    w.append_puts_to(batch);
    ASSERT_TRUE(kv.write(batch, false).has_value());
}

size_t count_records(const KvStore& kv) {
    size_t n = 0;
    EXPECT_TRUE(kv.for_each_prefix(as_bytes("T"), [&](ByteView, ByteView) {
                      ++n;
                      return true;
                  }).has_value());
    return n;
}

TEST(PathTrie, random_clustered_updates_match_trie_root_and_leave_no_stale_nodes) {
    std::mt19937_64 rng(12345);
    for (int round = 0; round < 20; ++round) {
        auto kv = make_mem_kv_store();
        std::map<Hash32, Bytes> model;
        PathTrie trie(Bytes{'T'}, kEmptyTrieRoot);
        for (int batch = 0; batch < 40; ++batch) {
            const size_t ops = 1 + rng() % 12;
            for (size_t i = 0; i < ops; ++i) {
                const Hash32 key = clustered_key(rng);
                if (rng() % 3 == 0) {
                    model.erase(key);
                    ASSERT_TRUE(trie.erase(key, *kv).has_value());
                } else {
                    Bytes value(1 + rng() % (rng() % 4 == 0 ? 40 : 3));
                    for (auto& x : value) x = static_cast<uint8_t>(rng());
                    const bool present = model.count(key) != 0;
                    model[key] = value;
                    ASSERT_TRUE(trie.put(key, value, present, *kv).has_value());
                }
            }
            TrieWrites w;
            const Hash32 root = trie.hash(w, batch % 2 == 0);
            ASSERT_EQ(root, oracle_root(model)) << "round " << round << " batch " << batch;
            apply_writes(*kv, w);
            if (batch % 5 == 4) {  // reload from the store: nodes come back from their records
                PathTrie reloaded(Bytes{'T'}, root);
                if (batch % 10 == 4) {  // all at once (one scan), or lazily from the root
                    auto whole = reloaded.load_all(*kv, 100'000);
                    ASSERT_TRUE(whole.has_value()) << whole.error().message;
                    ASSERT_EQ(*whole, LoadAll::kLoaded);
                } else {
                    ASSERT_TRUE(reloaded.verify_root(*kv).has_value());
                }
                trie = std::move(reloaded);
            }
        }
        // Rebuilding the final contents from scratch gives exactly the persisted records.
        auto fresh_kv = make_mem_kv_store();
        PathTrie fresh(Bytes{'T'}, kEmptyTrieRoot);
        for (const auto& [k, v] : model) ASSERT_TRUE(fresh.put(k, v, false, *fresh_kv).has_value());
        TrieWrites w;
        ASSERT_EQ(fresh.hash(w, false), trie.root());
        apply_writes(*fresh_kv, w);
        std::vector<std::pair<Bytes, Bytes>> a;
        std::vector<std::pair<Bytes, Bytes>> b;
        ASSERT_TRUE(kv->for_each_prefix({}, [&](ByteView k, ByteView v) {
                          a.emplace_back(Bytes(k.begin(), k.end()), Bytes(v.begin(), v.end()));
                          return true;
                      }).has_value());
        ASSERT_TRUE(fresh_kv
                        ->for_each_prefix({},
                                          [&](ByteView k, ByteView v) {
                                              b.emplace_back(Bytes(k.begin(), k.end()),
                                                             Bytes(v.begin(), v.end()));
                                              return true;
                                          })
                        .has_value());
        EXPECT_EQ(a, b) << "round " << round;
        EXPECT_EQ(count_records(*kv), b.size());
    }
}

// apply(): the parallel path (one task per first nibble, root fixed up afterwards) against the
// oracle, down to a single key (the root collapses into a leaf) and to nothing.
TEST(PathTrie, parallel_apply_matches_trie_root_down_to_one_key_and_empty) {
    std::mt19937_64 rng(99);
    auto kv = make_mem_kv_store();
    std::map<Hash32, Bytes> model;
    PathTrie trie(Bytes{'T'}, kEmptyTrieRoot);
    auto run = [&](std::vector<std::pair<Hash32, Bytes>> changes) {
        std::sort(changes.begin(), changes.end());
        changes.erase(std::unique(changes.begin(), changes.end(),
                                  [](const auto& a, const auto& b) { return a.first == b.first; }),
                      changes.end());
        std::vector<TrieOp> ops;
        for (const auto& [k, v] : changes) {
            ops.push_back(TrieOp{k, v, model.count(k) != 0});
            if (v.empty()) {
                model.erase(k);
            } else {
                model[k] = v;
            }
        }
        ASSERT_TRUE(trie.apply(ops, *kv, true).has_value());
        TrieWrites w;
        ASSERT_EQ(trie.hash(w, true), oracle_root(model));
        apply_writes(*kv, w);
        trie = PathTrie(Bytes{'T'}, trie.root());
    };
    std::vector<Hash32> keys(300);
    for (auto& k : keys) {
        for (auto& b : k.bytes) b = static_cast<uint8_t>(rng());
    }
    for (int round = 0; round < 6; ++round) {
        std::vector<std::pair<Hash32, Bytes>> changes;
        for (int i = 0; i < 150; ++i) {
            Bytes v(1 + rng() % 40, static_cast<uint8_t>(rng()));
            if (rng() % 4 == 0) v.clear();
            changes.emplace_back(keys[rng() % keys.size()], std::move(v));
        }
        run(std::move(changes));
    }
    std::vector<std::pair<Hash32, Bytes>> all_but_one;
    for (size_t i = 1; i < keys.size(); ++i) all_but_one.emplace_back(keys[i], Bytes{});
    run(all_but_one);
    ASSERT_LE(model.size(), 1U);
    std::vector<std::pair<Hash32, Bytes>> refill;
    for (const auto& k : keys) refill.emplace_back(k, Bytes{7, 7, 7});
    run(refill);
    std::vector<std::pair<Hash32, Bytes>> everything;
    for (const auto& k : keys) everything.emplace_back(k, Bytes{});
    run(everything);
    EXPECT_EQ(trie.root(), kEmptyTrieRoot);
    size_t left = 0;
    ASSERT_TRUE(kv->for_each_prefix({}, [&](ByteView, ByteView) {
                      ++left;
                      return true;
                  }).has_value());
    EXPECT_EQ(left, 0U);
}

// load_all(): a trie over its record limit loads nothing (and still works lazily); a damaged or
// missing record is refused.
TEST(PathTrie, load_all_respects_its_limit_and_refuses_damaged_records) {
    auto kv = make_mem_kv_store();
    std::map<Hash32, Bytes> model;
    PathTrie trie(Bytes{'T'}, kEmptyTrieRoot);
    std::mt19937_64 rng(5);
    for (int i = 0; i < 60; ++i) {
        const Hash32 key = clustered_key(rng);
        model[key] = Bytes{static_cast<uint8_t>(i + 1), 2, 3};
        ASSERT_TRUE(trie.put(key, model[key], false, *kv).has_value());
    }
    TrieWrites w;
    const Hash32 root = trie.hash(w, false);
    apply_writes(*kv, w);
    const size_t records = count_records(*kv);
    ASSERT_GT(records, 10U);

    PathTrie small(Bytes{'T'}, root);
    auto whole = small.load_all(*kv, records - 1);
    ASSERT_TRUE(whole.has_value());
    EXPECT_EQ(*whole, LoadAll::kTooMany);
    const Hash32 extra = clustered_key(rng);
    model[extra] = Bytes{9, 9};
    ASSERT_TRUE(small.put(extra, model[extra], false, *kv).has_value());
    TrieWrites w2;
    EXPECT_EQ(small.hash(w2, false), oracle_root(model));

    // Damage one record at a time: the whole-trie load refuses each.
    std::vector<std::pair<Bytes, Bytes>> all;
    ASSERT_TRUE(kv->for_each_prefix(as_bytes("T"), [&](ByteView k, ByteView v) {
                      all.emplace_back(Bytes(k.begin(), k.end()), Bytes(v.begin(), v.end()));
                      return true;
                  }).has_value());
    for (size_t i = 0; i < all.size(); i += 3) {
        for (const bool drop : {false, true}) {
            KvWriteBatch damage;
            if (drop) {
                damage.del(all[i].first);
            } else {
                Bytes v = all[i].second;
                v.back() ^= 0x01;
                damage.put(all[i].first, v);
            }
            ASSERT_TRUE(kv->write(damage, false).has_value());
            PathTrie reloaded(Bytes{'T'}, root);
            auto r = reloaded.load_all(*kv, 100'000);
            ASSERT_FALSE(r.has_value()) << "record " << i << (drop ? " dropped" : " changed");
            EXPECT_NE(r.error().message.find("corrupt"), std::string::npos) << r.error().message;
            KvWriteBatch restore;
            restore.put(all[i].first, all[i].second);
            ASSERT_TRUE(kv->write(restore, false).has_value());
        }
    }
    PathTrie reloaded(Bytes{'T'}, root);
    auto ok = reloaded.load_all(*kv, 100'000);
    ASSERT_TRUE(ok.has_value());
    EXPECT_EQ(*ok, LoadAll::kLoaded);

    // No records at all under a non-empty root: nothing is loaded, and the caller is told.
    PathTrie elsewhere(Bytes{'U'}, root);
    auto none = elsewhere.load_all(*kv, 100'000);
    ASSERT_TRUE(none.has_value());
    EXPECT_EQ(*none, LoadAll::kNoRecords);
}

// A memory-only trie: the same roots as the oracle through inserts and erases down to empty,
// with nothing written; persist_all() then writes the whole trie, which reloads from its records
// alone; a memory-only trie never reads the store.
TEST(PathTrie, memory_only_trie_writes_nothing_until_persisted_whole) {
    auto kv = make_mem_kv_store();
    std::map<Hash32, Bytes> model;
    PathTrie trie(Bytes{'M'}, kEmptyTrieRoot, false, Persistence::kMemoryOnly);
    std::mt19937_64 rng(11);
    std::vector<Hash32> keys;
    for (int round = 0; round < 40; ++round) {
        for (int i = 0; i < 8; ++i) {
            if (!keys.empty() && rng() % 3 == 0) {
                const Hash32 gone = keys[rng() % keys.size()];
                model.erase(gone);
                ASSERT_TRUE(trie.erase(gone, *kv).has_value());
            } else {
                const Hash32 key = clustered_key(rng);
                keys.push_back(key);
                model[key] = Bytes{static_cast<uint8_t>(round + 1), static_cast<uint8_t>(i)};
                ASSERT_TRUE(trie.put(key, model[key], false, *kv).has_value());
            }
        }
        TrieWrites w;
        ASSERT_EQ(trie.hash(w, round % 2 == 0), oracle_root(model)) << "round " << round;
        EXPECT_EQ(w.puts.count(), 0U);
        EXPECT_TRUE(w.more_puts.empty());
        EXPECT_TRUE(w.deletes.empty());
        EXPECT_EQ(trie.memory_only_size(), model.size());
    }
    ASSERT_EQ(count_records(*kv), 0U);
    ASSERT_GT(model.size(), 50U);

    trie.persist_all();
    EXPECT_EQ(trie.persistence(), Persistence::kRecords);
    TrieWrites w;
    const Hash32 root = trie.hash(w, false);
    ASSERT_EQ(root, oracle_root(model));
    apply_writes(*kv, w);
    PathTrie reloaded(Bytes{'M'}, root);
    auto whole = reloaded.load_all(*kv, 100'000);
    ASSERT_TRUE(whole.has_value()) << whole.error().message;
    ASSERT_EQ(*whole, LoadAll::kLoaded);
    // Every record written is one of the trie's nodes: a lazily loaded copy proves every key.
    PathTrie lazy(Bytes{'M'}, root);
    for (const auto& [key, value] : model) {
        auto p = lazy.prove(key, *kv);
        ASSERT_TRUE(p.has_value()) << p.error().message;
        ASSERT_TRUE(p->value.has_value());
        EXPECT_EQ(*p->value, value);
    }

    // Updates after persisting write records like any trie's.
    const Hash32 extra = clustered_key(rng);
    model[extra] = Bytes{7};
    ASSERT_TRUE(trie.put(extra, model[extra], false, *kv).has_value());
    TrieWrites w2;
    ASSERT_EQ(trie.hash(w2, false), oracle_root(model));
    EXPECT_GT(w2.puts.count(), 0U);
}

TEST(PathTrie, node_records_round_trip_and_garbage_is_rejected) {
    auto kv = make_mem_kv_store();
    PathTrie trie(Bytes{'T'}, kEmptyTrieRoot);
    std::mt19937_64 rng(7);
    for (int i = 0; i < 50; ++i) {
        ASSERT_TRUE(trie.put(clustered_key(rng), Bytes{1, 2, 3}, false, *kv).has_value());
    }
    TrieWrites w;
    static_cast<void>(trie.hash(w, false));
    ASSERT_GT(w.puts.count(), 0U);
    w.puts.for_each([](KvWriteBatch::Op, ByteView, ByteView rec) {
        auto decoded = decode_node_record(rec);
        ASSERT_TRUE(decoded.has_value()) << decoded.error().message;
        Bytes again;
        if (decoded->kind == NodeKind::kBranch && decoded->node == nullptr) {
            // A wide branch: its record is its own ref only.
            TrieNode branch;
            branch.kind = NodeKind::kBranch;
            branch.children.resize(16);
            for (auto& c : branch.children) c.ref = decoded->ref;
            encode_node_record(again, branch, decoded->ref);
        } else {
            ASSERT_NE(decoded->node, nullptr);
            EXPECT_FALSE(decoded->node->dirty);
            encode_node_record(again, *decoded->node, decoded->ref);
        }
        EXPECT_TRUE(equal(again, rec));
    });
    for (const Bytes& bad :
         {Bytes{}, Bytes{9}, Bytes{1, 70}, Bytes{1, 2, 0x12}, Bytes{3, 1, 0, 2, 0, 0, 0}, Bytes{3},
          Bytes{3, 34}, Bytes{2, 1, 5, 33}, Bytes{2, 1, 0x50, 1}, Bytes{2, 0, 1, 0x80},
          Bytes{4, 1, 0x80, 1, 0, 1, 0, 1, 0, 1, 0x80}, Bytes{4, 1, 0x80, 0, 0, 0, 0, 0, 0},
          Bytes{4, 1, 0x80, 3, 0, 0, 0, 0, 0, 1, 0x80}}) {
        auto r = decode_node_record(bad);
        ASSERT_FALSE(r.has_value());
        EXPECT_NE(r.error().message.find("corrupt"), std::string::npos);
    }
}

// A leaf whose value is the RLP of an account without storage and code is written shortened (tag
// 5) and reads back as the same leaf and ref; the same value in a plain leaf record (tag 1) is
// refused, so that a node has one record.
TEST(PathTrie, plain_account_leaves_are_stored_shortened) {
    Account a;
    a.nonce = 3;
    a.balance = U256{1000};
    TrieNode leaf;
    leaf.kind = NodeKind::kLeaf;
    leaf.path = {1, 2, 3, 4, 5};
    leaf.value = encode_account(a);
    Bytes rlp;
    encode_leaf(rlp, leaf.path, leaf.value);
    const NodeRef ref = make_node_ref(rlp);
    Bytes rec;
    encode_node_record(rec, leaf, ref);
    EXPECT_EQ(rec[0], 5);
    EXPECT_EQ(rec.size(), 1 + 1 + 3 + leaf.value.size() - 2 - 66);
    auto decoded = decode_node_record(rec);
    ASSERT_TRUE(decoded.has_value()) << decoded.error().message;
    ASSERT_NE(decoded->node, nullptr);
    EXPECT_EQ(decoded->kind, NodeKind::kLeaf);
    EXPECT_EQ(decoded->node->value, leaf.value);
    EXPECT_TRUE(equal(decoded->ref.view(), ref.view()));

    Bytes long_form{1, 5};
    append(long_form, Bytes{0x12, 0x34, 0x50});
    append(long_form, leaf.value);
    auto refused = decode_node_record(long_form);
    ASSERT_FALSE(refused.has_value());
    EXPECT_NE(refused.error().message.find("corrupt"), std::string::npos);

    // A contract's account keeps its whole value (tag 1).
    a.code_hash = keccak256(Bytes{0x00});
    leaf.value = encode_account(a);
    Bytes contract_rec;
    encode_node_record(contract_rec, leaf, ref);
    EXPECT_EQ(contract_rec[0], 1);
}

// A narrow-branch record (tag 4) whose children refs do hash to its own ref but which has more
// children than a narrow branch may: the store writes such a node as a wide branch (tag 3), so
// the record is not one it wrote, and one node would have two encodings (found by
// pel_state_record_fuzz, which satisfied the hash check through libFuzzer's comparison hints).
TEST(PathTrie, narrow_branch_record_with_too_many_children_is_rejected) {
    for (const size_t children : {4U, 5U}) {
        std::array<ByteView, 16> views{};
        const Bytes child{0xc2, 0x20, 0x01};  // an embedded leaf: [HP(empty path, leaf), 0x01]
        for (size_t i = 0; i < children; ++i) views[i] = child;
        Bytes rlp;
        encode_branch(rlp, views, {});
        const NodeRef own = make_node_ref(rlp);
        Bytes rec{4, own.size};
        append(rec, own.view());
        const unsigned mask = (1U << children) - 1;
        rec.insert(rec.end(), {static_cast<uint8_t>(mask), 0, static_cast<uint8_t>(mask), 0, 0, 0});
        for (size_t i = 0; i < children; ++i) {
            rec.push_back(static_cast<uint8_t>(child.size()));
            append(rec, child);
        }
        const auto decoded = decode_node_record(rec);
        if (children <= 4) {
            ASSERT_TRUE(decoded.has_value()) << decoded.error().message;
            ASSERT_NE(decoded->node, nullptr);
            Bytes again;
            encode_node_record(again, *decoded->node, decoded->ref);
            EXPECT_TRUE(equal(again, rec));
        } else {
            ASSERT_FALSE(decoded.has_value());
            EXPECT_NE(decoded.error().message.find("too many children"), std::string::npos);
        }
    }
}

}  // namespace
}  // namespace pel::state::internal
