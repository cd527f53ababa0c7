// SPDX-License-Identifier: Apache-2.0
// StateStore::prove (EIP-1186): every proof is checked by a verifier written here from the Yellow
// Paper's node layout (appendix D), independent of PathTrie: it follows the key's nibbles from the
// state root through the proof's nodes, each of which must hash to the reference its parent holds,
// and yields the value or proves the key absent. Over random blocks (deletions, storage clears),
// for every pooled account and slot, present or not, against the MemState oracle; across a
// reopen; and with a prepared, uncommitted block (proofs stay at the head).
#include <memory>
#include <optional>
#include <vector>

#include <gtest/gtest.h>

#include "primitives/keccak.hpp"
#include "primitives/rlp.hpp"
#include "state/account.hpp"
#include "state/kv_store.hpp"
#include "state/mem_state.hpp"
#include "state/state_view.hpp"
#include "tests/unit/state/state_gen.hpp"
#include "tests/unit/state/store_check.hpp"

namespace pel::state {
namespace {

using storetest::apply;
using storetest::fast_options;
using storetest::GenParams;
using storetest::make_block;
using storetest::pool_address;

// Hex-prefix decoding: the nibbles of a leaf's or extension's path, and whether it is a leaf.
Result<std::pair<std::vector<uint8_t>, bool>> hex_prefix(ByteView enc) {
    if (enc.empty()) return make_error("empty path");
    const uint8_t flag = enc[0] >> 4;
    if (flag > 3) return make_error("bad hex-prefix flag");
    std::vector<uint8_t> nibbles;
    if (flag & 1) nibbles.push_back(enc[0] & 0x0f);
    for (size_t i = 1; i < enc.size(); ++i) {
        nibbles.push_back(enc[i] >> 4);
        nibbles.push_back(enc[i] & 0x0f);
    }
    return std::make_pair(std::move(nibbles), (flag & 2) != 0);
}

// The value at `key` under `root` by `proof`; nullopt when the proof shows the key absent. An
// error when the proof does not hold.
Result<std::optional<Bytes>> verify(const Hash32& root, const Hash32& key,
                                    const std::vector<Bytes>& proof) {
    if (root == kEmptyTrieRoot) {
        if (!proof.empty()) return make_error("nodes for an empty trie");
        return std::optional<Bytes>{};
    }
    std::vector<uint8_t> nibbles;
    for (const uint8_t b : key.bytes) {
        nibbles.push_back(b >> 4);
        nibbles.push_back(b & 0x0f);
    }
    size_t d = 0;
    size_t next = 0;                                  // the next proof node
    Bytes ref(root.bytes.begin(), root.bytes.end());  // a 32-byte hash, or an embedded node
    for (;;) {
        ByteView node;
        if (ref.size() == 32) {
            if (next == proof.size()) return make_error("proof ends before the path does");
            node = proof[next++];
            if (keccak256(node) != Hash32::from_view(ref).value()) {
                return make_error("node ", next - 1, " does not hash to its reference");
            }
        } else {
            node = ref;  // embedded in its parent
        }
        rlp::Decoder outer(node);
        PEL_TRY(rlp::Decoder items, outer.read_list());
        std::vector<ByteView> raw;
        while (!items.at_end()) {
            PEL_TRY(ByteView item, items.read_raw_item());
            raw.push_back(item);
        }
        // A child reference: a 32-byte string (a hash) or an embedded list (its raw RLP).
        const auto child_ref = [](ByteView item) -> Result<Bytes> {
            rlp::Decoder c(item);
            PEL_TRY(const auto h, c.peek_header());
            if (h.is_list) return Bytes(item.begin(), item.end());
            PEL_TRY(ByteView b, c.read_bytes());
            return Bytes(b.begin(), b.end());
        };
        const auto finish = [&](std::optional<Bytes> v) -> Result<std::optional<Bytes>> {
            if (next != proof.size()) return make_error("nodes after the end of the path");
            return v;
        };
        if (raw.size() == 17) {
            if (d == nibbles.size()) return make_error("a branch at the end of a 32-byte key");
            PEL_TRY(ref, child_ref(raw[nibbles[d]]));
            ++d;
            if (ref.empty()) return finish(std::nullopt);
            continue;
        }
        if (raw.size() != 2) return make_error("a node of ", raw.size(), " items");
        rlp::Decoder pd(raw[0]);
        PEL_TRY(ByteView enc, pd.read_bytes());
        PEL_TRY(auto path, hex_prefix(enc));
        const auto& [p, leaf] = path;
        const bool matches = nibbles.size() - d >= p.size() &&
                             std::equal(p.begin(), p.end(), nibbles.begin() + static_cast<long>(d));
        if (leaf) {
            if (!matches || d + p.size() != nibbles.size()) return finish(std::nullopt);
            rlp::Decoder vd(raw[1]);
            PEL_TRY(ByteView v, vd.read_bytes());
            return finish(Bytes(v.begin(), v.end()));
        }
        if (!matches) return finish(std::nullopt);
        d += p.size();
        PEL_TRY(ref, child_ref(raw[1]));
    }
}

// Every pooled account and slot of `store` proves what `ms` holds.
void expect_proofs_match(const StateStore& store, const MemState& ms, const GenParams& p) {
    const Hash32 root = store.head().state_root;
    ASSERT_EQ(root, ms.state_root());
    std::vector<U256> slots;
    for (uint64_t s = 0; s < p.slots; ++s) slots.emplace_back(s);
    for (uint64_t i = 0; i < p.accounts; ++i) {
        const Address a = pool_address(i);
        auto proof = store.prove(a, slots);
        ASSERT_TRUE(proof.has_value()) << proof.error().message;
        ASSERT_EQ(proof->head.state_root, root);
        const auto expected = ms.get_account(a);
        ASSERT_EQ(proof->account, expected) << "account " << i;
        auto leaf = verify(root, keccak256(a.view()), proof->account_proof);
        ASSERT_TRUE(leaf.has_value()) << "account " << i << ": " << leaf.error().message;
        ASSERT_EQ(leaf->has_value(), expected.has_value()) << "account " << i;
        const Hash32 storage_root = expected ? expected->storage_root : kEmptyTrieRoot;
        if (expected) {
            ASSERT_EQ(**leaf, encode_account(*expected)) << "account " << i;
        }
        ASSERT_EQ(proof->storage.size(), slots.size());
        for (uint64_t s = 0; s < p.slots; ++s) {
            const auto& sp = proof->storage[s];
            const U256 want = ms.get_storage(a, U256{s});
            ASSERT_EQ(sp.slot, U256{s});
            ASSERT_EQ(sp.value, want) << "account " << i << " slot " << s;
            auto v = verify(storage_root, keccak256(U256{s}.to_hash().view()), sp.proof);
            ASSERT_TRUE(v.has_value())
                << "account " << i << " slot " << s << ": " << v.error().message;
            ASSERT_EQ(v->has_value(), !want.is_zero()) << "account " << i << " slot " << s;
            if (!want.is_zero()) {
                Bytes enc;
                rlp::encode_uint(enc, want);
                ASSERT_EQ(**v, enc);
            }
        }
    }
}

// An in-memory store and its MemState oracle, with blocks of make_block(seed, n) committed.
struct Chain {
    GenParams p;
    std::shared_ptr<KvStore> kv = make_mem_kv_store();
    std::unique_ptr<StateStore> store;
    MemState ms;

    Chain() {
        auto s = StateStore::open(kv, fast_options());
        EXPECT_TRUE(s.has_value()) << s.error().message;
        if (s) store = std::move(*s);
    }
    void commit(uint64_t seed, uint64_t from, uint64_t to) {
        for (uint64_t n = from; n < to; ++n) {
            const StateDiff diff = make_block(seed, n, p);
            apply(ms, diff);
            ASSERT_TRUE(store->commit(n, diff).has_value()) << "block " << n;
        }
    }
};

TEST(StateStoreProof, verifier_refuses_a_tampered_proof) {
    Chain c;
    c.commit(3, 0, 5);
    const Hash32 root = c.store->head().state_root;
    for (uint64_t i = 0; i < c.p.accounts; ++i) {
        const Address a = pool_address(i);
        if (!c.ms.get_account(a)) continue;
        auto proof = c.store->prove(a, {});
        ASSERT_TRUE(proof.has_value());
        ASSERT_GE(proof->account_proof.size(), 2U);
        ASSERT_TRUE(verify(root, keccak256(a.view()), proof->account_proof).has_value());
        auto bad = proof->account_proof;
        bad.back().back() ^= 1;  // the leaf's last byte
        EXPECT_FALSE(verify(root, keccak256(a.view()), bad).has_value());
        bad = proof->account_proof;
        bad.pop_back();
        EXPECT_FALSE(verify(root, keccak256(a.view()), bad).has_value());
        return;
    }
    FAIL() << "no account in the state";
}

TEST(StateStoreProof, random_blocks_prove_what_mem_state_holds) {
    Chain c;
    // An empty state proves every key absent with no nodes.
    expect_proofs_match(*c.store, c.ms, c.p);
    for (uint64_t n = 0; n < 300; n += 60) {
        c.commit(7, n, n + 60);
        expect_proofs_match(*c.store, c.ms, c.p);
        if (::testing::Test::HasFatalFailure()) return;
    }
    // After a reopen, from the persisted nodes alone.
    auto reopened = StateStore::open(c.kv, fast_options());
    ASSERT_TRUE(reopened.has_value());
    expect_proofs_match(**reopened, c.ms, c.p);
}

TEST(StateStoreProof, a_prepared_block_is_not_proven_before_its_commit) {
    Chain c;
    c.commit(11, 0, 20);
    const StateDiff next = make_block(11, 20, c.p);
    auto prepared = c.store->prepare(20, next);
    ASSERT_TRUE(prepared.has_value()) << prepared.error().message;
    expect_proofs_match(*c.store, c.ms, c.p);  // still block 19
    ASSERT_TRUE(c.store->commit_prepared(KvWriteBatch{}).has_value());
    apply(c.ms, next);
    expect_proofs_match(*c.store, c.ms, c.p);
}

}  // namespace
}  // namespace pel::state
