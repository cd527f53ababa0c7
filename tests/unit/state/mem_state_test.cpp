// SPDX-License-Identifier: Apache-2.0
#include "state/mem_state.hpp"

#include <random>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "primitives/hex.hpp"
#include "primitives/keccak.hpp"
#include "primitives/rlp.hpp"
#include "state/trie.hpp"

namespace pel::state {
namespace {

Address addr(uint8_t last) {
    Address a;
    a.bytes[19] = last;
    return a;
}

Bytes to_bytes(const Hash32& h) { return {h.bytes.begin(), h.bytes.end()}; }

// The definition, spelled out with the general trie_root (an independent construction).
Hash32 reference_storage_root(const StorageMap& storage) {
    std::vector<std::pair<Bytes, Bytes>> e;
    for (const auto& [slot, value] : storage) {
        Bytes v;
        rlp::encode_uint(v, value);
        e.emplace_back(to_bytes(keccak256(slot.to_hash().view())), std::move(v));
    }
    return trie_root(std::move(e));
}

Hash32 reference_state_root(const MemState& s) {
    std::vector<std::pair<Bytes, Bytes>> e;
    for (const auto& [a, acc] : s.accounts()) {
        const Account header{acc.nonce, acc.balance, reference_storage_root(acc.storage),
                             keccak256(acc.code)};
        e.emplace_back(to_bytes(keccak256(a.view())), encode_account(header));
    }
    return trie_root(std::move(e));
}

TEST(MemState, empty_state_and_missing_accounts) {
    const MemState s;
    EXPECT_TRUE(s.empty());
    EXPECT_EQ(s.state_root(), kEmptyTrieRoot);
    EXPECT_EQ(s.find(addr(1)), nullptr);
    EXPECT_FALSE(s.get_account(addr(1)).has_value());
    EXPECT_EQ(s.get_storage(addr(1), U256{5}), U256{});
    EXPECT_EQ(s.storage_root(addr(1)), kEmptyTrieRoot);
}

TEST(MemState, setters_create_and_update) {
    MemState s;
    s.set_balance(addr(1), U256{1000});
    s.set_nonce(addr(1), 7);
    s.set_code(addr(2), Bytes{0x60, 0x00});
    ASSERT_EQ(s.size(), 2U);
    const MemAccount* a1 = s.find(addr(1));
    ASSERT_NE(a1, nullptr);
    EXPECT_EQ(a1->nonce, 7U);
    EXPECT_EQ(a1->balance, U256{1000});
    EXPECT_EQ(a1->code_hash, kEmptyCodeHash);
    const MemAccount* a2 = s.find(addr(2));
    ASSERT_NE(a2, nullptr);
    EXPECT_EQ(a2->code_hash, keccak256(Bytes{0x60, 0x00}));
    EXPECT_FALSE(a2->is_empty());
    s.set_code(addr(2), {});
    EXPECT_EQ(s.find(addr(2))->code_hash, kEmptyCodeHash);
    EXPECT_TRUE(s.find(addr(2))->is_empty());

    const auto acc = s.get_account(addr(1));
    ASSERT_TRUE(acc.has_value());
    EXPECT_EQ(acc->nonce, 7U);
    EXPECT_EQ(acc->storage_root, kEmptyTrieRoot);

    s.create(addr(3));
    EXPECT_TRUE(s.contains(addr(3)));
    s.create(addr(1));  // existing: untouched
    EXPECT_EQ(s.find(addr(1))->nonce, 7U);
    EXPECT_TRUE(s.erase(addr(3)));
    EXPECT_FALSE(s.erase(addr(3)));
    EXPECT_EQ(s.size(), 2U);
}

TEST(MemState, zero_storage_values_are_absent) {
    MemState s;
    s.set_storage(addr(1), U256{1}, U256{42});
    s.set_storage(addr(1), U256{2}, U256{0});
    EXPECT_EQ(s.find(addr(1))->storage.size(), 1U);
    EXPECT_EQ(s.get_storage(addr(1), U256{1}), U256{42});
    EXPECT_EQ(s.get_storage(addr(1), U256{2}), U256{});
    const Hash32 one_slot = s.storage_root(addr(1));
    EXPECT_NE(one_slot, kEmptyTrieRoot);
    s.set_storage(addr(1), U256{1}, U256{0});
    EXPECT_TRUE(s.find(addr(1))->storage.empty());
    EXPECT_EQ(s.storage_root(addr(1)), kEmptyTrieRoot);
    s.set_storage(addr(1), U256{1}, U256{42});
    EXPECT_EQ(s.storage_root(addr(1)), one_slot);
    s.clear_storage(addr(1));
    EXPECT_EQ(s.storage_root(addr(1)), kEmptyTrieRoot);
}

TEST(MemState, single_slot_storage_root_is_the_hashed_leaf) {
    MemState s;
    s.set_storage(addr(1), U256{0}, U256{1});
    // Leaf [HP(keccak(slot 0) nibbles, leaf), rlp(0x01) = 0x01].
    const Hash32 key = keccak256(U256{0}.to_hash().view());
    Bytes nibbles;
    unpack_nibbles(nibbles, key.view());
    Bytes leaf;
    encode_leaf(leaf, nibbles, Bytes{0x01});
    EXPECT_EQ(s.storage_root(addr(1)), keccak256(leaf));
}

TEST(MemState, state_root_matches_the_definition_on_random_states) {
    std::mt19937_64 rng(7);
    for (int iter = 0; iter < 200; ++iter) {
        MemState s;
        const size_t n = 1 + rng() % 40;
        for (size_t i = 0; i < n; ++i) {
            Address a;
            for (auto& b : a.bytes) b = static_cast<uint8_t>(rng());
            s.set_nonce(a, rng() % 3 == 0 ? 0 : rng());
            s.set_balance(a, U256{rng(), rng() % 2 == 0 ? 0 : rng(), 0, 0});
            if (rng() % 2 == 0) s.set_code(a, Bytes(rng() % 50, static_cast<uint8_t>(i)));
            const size_t slots = rng() % 3 == 0 ? 0 : rng() % 30;
            for (size_t j = 0; j < slots; ++j) {
                s.set_storage(a, U256{rng() % 64}, U256{rng() % 4 == 0 ? 0 : rng()});
            }
        }
        ASSERT_EQ(s.state_root(), reference_state_root(s)) << iter;
        for (const auto& [a, acc] : s.accounts()) {
            ASSERT_EQ(s.storage_root(a), reference_storage_root(acc.storage));
            ASSERT_EQ(s.get_account(a)->storage_root, s.storage_root(a));
        }
    }
}

TEST(MemState, state_root_changes_with_every_field) {
    MemState s;
    s.set_balance(addr(9), U256{1});
    std::vector<Hash32> roots = {s.state_root()};
    s.set_nonce(addr(9), 1);
    roots.push_back(s.state_root());
    s.set_code(addr(9), Bytes{0x00});
    roots.push_back(s.state_root());
    s.set_storage(addr(9), U256{3}, U256{4});
    roots.push_back(s.state_root());
    s.set_balance(addr(8), U256{0});  // a new, empty account still counts
    roots.push_back(s.state_root());
    for (size_t i = 0; i < roots.size(); ++i) {
        for (size_t j = i + 1; j < roots.size(); ++j) EXPECT_NE(roots[i], roots[j]) << i << j;
    }
    MemState copy = s;  // a value type
    EXPECT_EQ(copy.state_root(), s.state_root());
    copy.erase(addr(8));
    EXPECT_EQ(copy.state_root(), roots[3]);
}

}  // namespace
}  // namespace pel::state
