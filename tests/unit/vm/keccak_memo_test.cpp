// SPDX-License-Identifier: Apache-2.0
// The KECCAK256 memo returns keccak256 of its input, whatever it held before: on first sight, on
// a hit, after evictions, for inputs that share a slot, and for the all-zero input that a fresh
// (zero-filled) entry would otherwise match.
#include "vm/internal/keccak_memo.hpp"

#include <array>
#include <cstdint>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "primitives/keccak.hpp"

namespace pel::vm::internal {
namespace {

using Input = std::array<uint8_t, Keccak64Memo::kInputSize>;

Hash32 reference(const Input& in) { return keccak256(ByteView{in.data(), in.size()}); }

Input random_input(std::mt19937_64& rng) {
    Input in{};
    for (auto& b : in) {
        b = static_cast<uint8_t>(rng());
    }
    return in;
}

TEST(Keccak64MemoTest, ZeroInputOnAFreshMemo) {
    auto memo = std::make_unique<Keccak64Memo>();
    const Input zero{};
    EXPECT_EQ(memo->hash(zero.data()), reference(zero));
    EXPECT_EQ(memo->hash(zero.data()), reference(zero));  // and as a hit
}

TEST(Keccak64MemoTest, ManyInputsRepeatedAndEvicted) {
    auto memo = std::make_unique<Keccak64Memo>();
    std::mt19937_64 rng(7);
    std::vector<Input> inputs;
    for (size_t i = 0; i < 4 * Keccak64Memo::kEntries; ++i) {
        inputs.push_back(random_input(rng));
    }
    // Twice through in order (the second pass finds most entries evicted), then a random walk
    // that revisits recent inputs (hits) and old ones (misses).
    for (int pass = 0; pass < 2; ++pass) {
        for (const Input& in : inputs) {
            ASSERT_EQ(memo->hash(in.data()), reference(in));
        }
    }
    for (size_t i = 0; i < 20'000; ++i) {
        const Input& in = inputs[rng() % inputs.size()];
        ASSERT_EQ(memo->hash(in.data()), reference(in));
        ASSERT_EQ(memo->hash(in.data()), reference(in));
    }
}

TEST(Keccak64MemoTest, MappingSlotsThatDifferInOneByte) {
    // Solidity mapping slots: keccak256(key . slot); keys one byte apart, in every byte position.
    auto memo = std::make_unique<Keccak64Memo>();
    Input base{};
    base[63] = 3;  // slot 3
    for (size_t pos = 0; pos < base.size(); ++pos) {
        Input in = base;
        in[pos] ^= 0x80;
        EXPECT_EQ(memo->hash(base.data()), reference(base));
        EXPECT_EQ(memo->hash(in.data()), reference(in)) << "byte " << pos;
    }
}

TEST(Keccak64MemoTest, EachThreadHasItsOwn) {
    EXPECT_EQ(&Keccak64Memo::local(), &Keccak64Memo::local());
    const Keccak64Memo* other = nullptr;
    std::thread([&] { other = &Keccak64Memo::local(); }).join();
    EXPECT_NE(other, &Keccak64Memo::local());
}

}  // namespace
}  // namespace pel::vm::internal
