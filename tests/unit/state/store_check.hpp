// SPDX-License-Identifier: Apache-2.0
// Checks shared by the state store tests: a whole-database dump and a view compared with the
// MemState oracle over the generator's address and slot pools; the tests' store options.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include <gtest/gtest.h>

#include "state/kv_store.hpp"
#include "state/mem_state.hpp"
#include "state/state_view.hpp"
#include "tests/unit/state/state_gen.hpp"

namespace pel::state::storetest {

/// Store options for tests: no fsync, and caches and write buffers small enough that evictions,
/// flushes and compactions happen within a test; storage tries of up to 6 slots kept without
/// records, so that the generator's tries (a pool of 24 slots per account) are of both kinds and
/// grow from one into the other.
inline StateStoreOptions fast_options() {
    StateStoreOptions o;
    o.sync = false;
    o.small_storage_trie_slots = 6;
    o.cache_bytes = size_t{1} << 20;
    o.leveldb_block_cache_bytes = size_t{4} << 20;
    o.leveldb_write_buffer_bytes = size_t{1} << 20;
    return o;
}

/// Every account of the pool read through `view` equals the oracle (fields, storage root, code,
/// and the slots of the pool).
inline void expect_view_matches(const StateView& view, const MemState& ms, const GenParams& p) {
    for (uint64_t i = 0; i < p.accounts; ++i) {
        const Address a = pool_address(i);
        auto acc = view.account(a);
        ASSERT_TRUE(acc.has_value()) << acc.error().message;
        const auto expected = ms.get_account(a);
        ASSERT_EQ(*acc, expected) << "account " << i;
        if (!expected) continue;
        auto code = view.code(expected->code_hash);
        ASSERT_TRUE(code.has_value() && *code != nullptr);
        EXPECT_EQ(**code, ms.find(a)->code);
        for (uint64_t s = 0; s < p.slots; ++s) {
            auto v = view.storage(a, U256{s});
            ASSERT_TRUE(v.has_value());
            ASSERT_EQ(*v, ms.get_storage(a, U256{s})) << "account " << i << " slot " << s;
        }
    }
}

/// Keys and values as strings (GCC 12 misreports std::vector<uint8_t> comparisons in std::map),
/// code records left out (code is never deleted).
inline std::map<std::string, std::string> dump(const KvStore& kv) {
    std::map<std::string, std::string> out;
    EXPECT_TRUE(kv.for_each_prefix({}, [&](ByteView k, ByteView v) {
                      if (k[0] != 'c') {
                          out.emplace(std::string(k.begin(), k.end()),
                                      std::string(v.begin(), v.end()));
                      }
                      return true;
                  }).has_value());
    return out;
}

/// `kv`'s records equal `all_tries`', a store of the same state in which every storage trie has
/// records (small_storage_trie_slots 0), except that an account's storage trie may have no
/// records in `kv` when it has at most `small_slots` slots. So: no stale record anywhere, and
/// every persisted storage trie is exactly its account's trie.
inline void expect_records_match(const KvStore& kv, const KvStore& all_tries, size_t small_slots) {
    const auto got = dump(kv);
    auto want = dump(all_tries);
    // Storage trie records by account ('u' addr ...), and slot counts ('s' addr slot).
    auto addr_of = [](const std::string& k) { return k.substr(1, 20); };
    std::map<std::string, size_t> slots;
    std::map<std::string, bool> has_trie;
    for (const auto& [k, v] : want) {
        if (k[0] == 's') ++slots[addr_of(k)];
    }
    for (const auto& [k, v] : got) {
        if (k[0] == 'u') has_trie[addr_of(k)] = true;
    }
    size_t small_without_records = 0;
    for (auto it = want.begin(); it != want.end();) {
        const std::string& k = it->first;
        if (k[0] == 'u' && !has_trie.contains(addr_of(k))) {
            EXPECT_LE(slots[addr_of(k)], small_slots) << "a large storage trie without records";
            if (k.size() == 22) ++small_without_records;  // its root record
            it = want.erase(it);
        } else {
            ++it;
        }
    }
    EXPECT_EQ(got, want);
    if (small_slots > 0) {
        EXPECT_GT(small_without_records, 0U) << "no storage trie was of the small kind";
    }
}

}  // namespace pel::state::storetest
