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
/// flushes and compactions happen within a test.
inline StateStoreOptions fast_options() {
    StateStoreOptions o;
    o.sync = false;
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

}  // namespace pel::state::storetest
