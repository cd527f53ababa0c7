// SPDX-License-Identifier: Apache-2.0
// MemStateReader and MemStateConcurrentReader: the same answers from the one implementation,
// code indexed lazily (sequential) or at construction (concurrent), concurrent reads.
#include "execution/mem_state_reader.hpp"

#include <cstdint>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "primitives/keccak.hpp"
#include "state/mem_state.hpp"
#include "tests/unit/execution/test_util.hpp"

namespace pel::exec {
namespace {

using test::addr;

const Bytes kCode{0x60, 0x01, 0x60, 0x00, 0x55};

state::MemState sample_state() {
    state::MemState s;
    s.set_nonce(addr(1), 3);
    s.set_balance(addr(1), 100);
    s.set_storage(addr(1), 7, 9);
    s.set_code(addr(2), kCode);
    s.create(addr(3));  // empty account, no storage
    return s;
}

// Every read both readers serve, compared with the MemState itself.
void expect_reads_match_state(StateReader& r, const state::MemState& s) {
    for (uint8_t n = 1; n <= 4; ++n) {
        const state::MemAccount* acc = s.find(addr(n));
        const std::optional<AccountInfo> info = r.read_account(addr(n));
        ASSERT_EQ(info.has_value(), acc != nullptr) << int{n};
        if (acc != nullptr) {
            EXPECT_EQ(*info, (AccountInfo{acc->nonce, acc->balance, acc->code_hash}));
        }
        EXPECT_EQ(r.has_storage(addr(n)), acc != nullptr && !acc->storage.empty()) << int{n};
        EXPECT_EQ(r.read_storage(addr(n), 7), s.get_storage(addr(n), 7)) << int{n};
        EXPECT_EQ(r.read_code_hash(addr(n)), acc != nullptr ? acc->code_hash : kEmptyCodeHash);
    }
    const ByteView code = r.read_code(keccak256(kCode));
    EXPECT_EQ(Bytes(code.begin(), code.end()), kCode);
    EXPECT_TRUE(r.read_code(kEmptyCodeHash).empty());
    EXPECT_TRUE(r.read_code(keccak256(Bytes{0x00})).empty());
}

template <class Reader>
class MemStateReadersTest : public ::testing::Test {};
using Readers = ::testing::Types<MemStateReader, MemStateConcurrentReader>;
TYPED_TEST_SUITE(MemStateReadersTest, Readers);

TYPED_TEST(MemStateReadersTest, reads_match_the_state) {
    const state::MemState s = sample_state();
    TypeParam r(s);
    expect_reads_match_state(r, s);
}

// The sequential reader indexes code as it reads accounts (O(1) construction); the concurrent one
// indexes all of it at construction and writes nothing after.
TEST(MemStateReaderTest, code_is_indexed_lazily_or_at_construction) {
    const state::MemState s = sample_state();
    MemStateReader lazy(s);
    MemStateConcurrentReader eager(s);
    EXPECT_TRUE(lazy.read_code(keccak256(kCode)).empty());
    EXPECT_EQ(eager.read_code(keccak256(kCode)).size(), kCode.size());
    ASSERT_TRUE(lazy.read_account(addr(2)).has_value());
    EXPECT_EQ(lazy.read_code(keccak256(kCode)).size(), kCode.size());
}

// Meaningful under TSan: readers on several threads at once, reading code and accounts.
TEST(MemStateConcurrentReaderTest, serves_many_threads_at_once) {
    const state::MemState s = sample_state();
    MemStateConcurrentReader r(s);
    constexpr int kThreads = 4;
    std::vector<int> ok(kThreads, 0);
    std::vector<std::thread> threads;
    threads.reserve(kThreads);
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&r, &ok, t] {
            bool good = true;
            for (int i = 0; i < 1000; ++i) {
                good = good && r.read_account(addr(2)).has_value() &&
                       r.read_code(keccak256(kCode)).size() == kCode.size() &&
                       r.read_storage(addr(1), 7) == U256{9} && r.has_storage(addr(1));
            }
            ok[static_cast<size_t>(t)] = good ? 1 : 0;
        });
    }
    for (std::thread& th : threads) {
        th.join();
    }
    for (int t = 0; t < kThreads; ++t) {
        EXPECT_EQ(ok[static_cast<size_t>(t)], 1) << t;
    }
}

}  // namespace
}  // namespace pel::exec
