// SPDX-License-Identifier: Apache-2.0
// KeccakMemo returns keccak256 of its input, whatever it held before: on first sight, on a hit,
// after evictions, for inputs that share a slot, for inputs that differ only in length (a 20-byte
// address and the same bytes zero-padded to 32), for the empty and the all-zero inputs that a fresh
// (zero-filled) entry would otherwise match, and for inputs too long to be kept.
#include "primitives/keccak_memo.hpp"

#include <array>
#include <cstdint>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "primitives/keccak.hpp"

namespace pel {
namespace {

Bytes random_bytes(std::mt19937_64& rng, size_t n) {
    Bytes b(n);
    for (auto& x : b) {
        x = static_cast<uint8_t>(rng());
    }
    return b;
}

Hash32 reference(const Bytes& in) { return keccak256(ByteView{in.data(), in.size()}); }
Hash32 memoized(KeccakMemo& m, const Bytes& in) { return m.hash(ByteView{in.data(), in.size()}); }

TEST(KeccakMemoTest, EmptyAndZeroInputsOnAFreshMemo) {
    auto memo = std::make_unique<KeccakMemo>();
    for (const size_t n : {size_t{0}, size_t{1}, size_t{20}, size_t{32}, size_t{64}}) {
        const Bytes zero(n, 0);
        EXPECT_EQ(memoized(*memo, zero), reference(zero)) << n << " zero bytes";
        EXPECT_EQ(memoized(*memo, zero), reference(zero)) << n << " zero bytes, as a hit";
    }
}

TEST(KeccakMemoTest, SameBytesDifferentLength) {
    // Addresses beside the same bytes zero-padded to 32: the memo's key pads with zeros too, so
    // only the stored length tells such a pair apart.
    auto memo = std::make_unique<KeccakMemo>();
    std::mt19937_64 rng(3);
    for (int i = 0; i < 300; ++i) {
        const Bytes address = random_bytes(rng, 20);
        Bytes padded = address;
        padded.resize(32, 0);
        ASSERT_EQ(memoized(*memo, address), reference(address));
        ASSERT_EQ(memoized(*memo, padded), reference(padded));
        ASSERT_EQ(memoized(*memo, address), reference(address));
    }
}

TEST(KeccakMemoTest, ManyInputsRepeatedAndEvicted) {
    auto memo = std::make_unique<KeccakMemo>();
    std::mt19937_64 rng(7);
    std::vector<Bytes> inputs;
    for (size_t i = 0; i < 4 * KeccakMemo::kEntries; ++i) {
        inputs.push_back(random_bytes(rng, i % 3 == 0 ? 64 : (i % 3 == 1 ? 32 : 20)));
    }
    // Twice through in order (the second pass finds most entries evicted), then a random walk
    // that revisits recent inputs (hits) and old ones (misses).
    for (int pass = 0; pass < 2; ++pass) {
        for (const Bytes& in : inputs) {
            ASSERT_EQ(memoized(*memo, in), reference(in));
        }
    }
    for (size_t i = 0; i < 20'000; ++i) {
        const Bytes& in = inputs[rng() % inputs.size()];
        ASSERT_EQ(memoized(*memo, in), reference(in));
        ASSERT_EQ(memoized(*memo, in), reference(in));
    }
}

TEST(KeccakMemoTest, MappingSlotsThatDifferInOneByte) {
    // Solidity mapping slots: keccak256(key . slot); keys one byte apart, in every byte position.
    auto memo = std::make_unique<KeccakMemo>();
    Bytes base(64, 0);
    base[63] = 3;  // slot 3
    for (size_t pos = 0; pos < base.size(); ++pos) {
        Bytes in = base;
        in[pos] ^= 0x80;
        EXPECT_EQ(memoized(*memo, base), reference(base));
        EXPECT_EQ(memoized(*memo, in), reference(in)) << "byte " << pos;
    }
}

TEST(KeccakMemoTest, LongInputsBypassTheMemo) {
    auto memo = std::make_unique<KeccakMemo>();
    std::mt19937_64 rng(11);
    for (const size_t n : {size_t{65}, size_t{136}, size_t{1000}}) {
        const Bytes in = random_bytes(rng, n);
        EXPECT_EQ(memoized(*memo, in), reference(in)) << n << " bytes";
    }
}

struct TagA {};
struct TagB {};

TEST(KeccakMemoTest, OneMemoPerThreadAndTag) {
    EXPECT_EQ(&KeccakMemo::local<TagA>(), &KeccakMemo::local<TagA>());
    EXPECT_NE(&KeccakMemo::local<TagA>(), &KeccakMemo::local<TagB>());
    const KeccakMemo* other = nullptr;
    std::thread([&] { other = &KeccakMemo::local<TagA>(); }).join();
    EXPECT_NE(other, &KeccakMemo::local<TagA>());
}

}  // namespace
}  // namespace pel
