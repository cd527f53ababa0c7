// SPDX-License-Identifier: Apache-2.0
// Keccak-256 vectors. Expected digests were computed independently with keccak_256 from the
// @noble/hashes JavaScript library (v2.4.0), not with this implementation.
#include "primitives/keccak.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "primitives/hash.hpp"

namespace pel {
namespace {

// Bytes i % 251 for i in [0, n): a pattern with no period at the rate (136) or lane (8) size.
Bytes pattern(size_t n) {
    Bytes b(n);
    for (size_t i = 0; i < n; ++i) {
        b[i] = static_cast<uint8_t>(i % 251);
    }
    return b;
}

std::string digest_hex(ByteView data) { return keccak256(data).to_hex(); }

TEST(Keccak256, empty_string_is_the_empty_code_hash) {
    EXPECT_EQ(digest_hex({}), "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
    EXPECT_EQ(keccak256({}), kEmptyCodeHash);
}

TEST(Keccak256, abc) {
    EXPECT_EQ(digest_hex(as_bytes("abc")),
              "0x4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45");
}

TEST(Keccak256, quick_brown_fox) {
    EXPECT_EQ(digest_hex(as_bytes("The quick brown fox jumps over the lazy dog")),
              "0x4d741b6f1eb29cb2a9b9911c82f56fa8d73b04959d3d9d222895df6c0b28aa15");
}

TEST(Keccak256, rlp_of_empty_string_is_the_empty_trie_root) {
    const Bytes rlp_empty{0x80};
    EXPECT_EQ(digest_hex(rlp_empty),
              "0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421");
    EXPECT_EQ(keccak256(rlp_empty), kEmptyTrieRoot);
}

struct Vector {
    size_t len;
    const char* hex;
};

// Lengths around the rate (136): 135 pads with a single 0x81 byte, 136 needs a whole padding
// block, 137 spills one byte into the second block; 271/272/273 do the same one block later.
constexpr Vector kPatternVectors[] = {
    {1, "0xbc36789e7a1e281436464229828f817d6612f7b477d66591ff96a9e064bcc98a"},
    {32, "0x8ae1aa597fa146ebd3aa2ceddf360668dea5e526567e92b0321816a4e895bd2d"},
    {135, "0xcbdfd9dee5faad3818d6b06f95a219fd290b0e1706f6a82e5a595b9ce9faca62"},
    {136, "0x7ce759f1ab7f9ce437719970c26b0a66ff11fe3e38e17df89cf5d29c7d7f807e"},
    {137, "0xac73d4fae68b8453f764007c1a20ce95994187861f0c3227a3a8e99a73a3b1db"},
    {271, "0x27eceb59ebc3dc8a04a5b135be641591a7278540e4556a2ba9f408194e666ec3"},
    {272, "0x8e2476e65823b24d96ebe239f2c1534cdf763e689e2410c3b1cb0c74e6177bfc"},
    {273, "0x3f02f134370e4debb95140ef49ddd3aed8c65ff1ed83a43f1b269421f179c5f9"},
    {size_t{1} << 20, "0x2fd6b833d9e25ae8d7dda1c3ed07af04df131ce89010c888534d4e825e40e875"},
};

TEST(Keccak256, pattern_vectors_at_rate_boundaries_and_one_mebibyte) {
    for (const auto& v : kPatternVectors) {
        EXPECT_EQ(digest_hex(pattern(v.len)), v.hex) << "length " << v.len;
    }
}

TEST(Keccak256, incremental_matches_one_shot_for_uneven_chunks) {
    // Chunk sizes that straddle the rate in every way: empty, 1, just under/at/over a block.
    constexpr size_t kChunks[] = {0, 1, 7, 8, 135, 136, 137, 3, 0, 200, 64, 271, 1000, 13};
    for (const auto& v : kPatternVectors) {
        const Bytes data = pattern(v.len);
        Keccak256 h;
        size_t pos = 0;
        for (size_t i = 0; pos < data.size(); ++i) {
            const size_t want = kChunks[i % std::size(kChunks)];
            const size_t n = want < data.size() - pos ? want : data.size() - pos;
            h.update(ByteView(data).subspan(pos, n));
            pos += n;
        }
        EXPECT_EQ(h.finalize().to_hex(), v.hex) << "length " << v.len;
    }
}

TEST(Keccak256, incremental_byte_by_byte) {
    const Bytes data = pattern(273);
    Keccak256 h;
    for (const uint8_t b : data) {
        h.update(ByteView(&b, 1));
    }
    EXPECT_EQ(h.finalize(), keccak256(data));
}

TEST(Keccak256, every_split_point_of_a_two_block_input) {
    const Bytes data = pattern(300);
    const Hash32 expected = keccak256(data);
    for (size_t split = 0; split <= data.size(); ++split) {
        Keccak256 h;
        h.update(ByteView(data).first(split));
        h.update(ByteView(data).subspan(split));
        ASSERT_EQ(h.finalize(), expected) << "split at " << split;
    }
}

TEST(Keccak256, finalize_resets_the_hasher) {
    Keccak256 h;
    EXPECT_EQ(h.finalize(), kEmptyCodeHash);
    h.update(as_bytes("abc"));
    EXPECT_EQ(h.finalize(), keccak256(as_bytes("abc")));
    // After finalize the hasher starts over: the same input gives the same digest again.
    h.update(as_bytes("a"));
    h.update(as_bytes("bc"));
    EXPECT_EQ(h.finalize(), keccak256(as_bytes("abc")));
    EXPECT_EQ(h.finalize(), kEmptyCodeHash);
}

TEST(Keccak256, empty_updates_change_nothing) {
    Keccak256 h;
    h.update({});
    h.update(as_bytes("ab"));
    h.update({});
    h.update(as_bytes("c"));
    h.update({});
    EXPECT_EQ(h.finalize(), keccak256(as_bytes("abc")));
}

// keccak256_many against keccak256 one by one, on every lane path this CPU has (8: AVX-512, 4:
// AVX2, 1: scalar): every group size up to 20 (full groups, partial ones, a single left over) and
// lengths around the block boundaries, mixed within a group so that lanes finish at different
// blocks.
TEST(Keccak256Many, equals_one_by_one_for_every_path_group_size_and_mixed_lengths) {
    const std::array<size_t, 16> lengths{0,   1,   31,  32,  33,  64,  135, 136,
                                         137, 200, 271, 272, 273, 408, 532, 1000};
    const Bytes data = pattern(2000);
    int paths = 0;
    for (const size_t lanes : {size_t{1}, size_t{4}, size_t{8}}) {
        if (lanes > keccak256_many_lanes_supported()) continue;
        ++paths;
        for (size_t count = 0; count <= 20; ++count) {
            for (size_t shift = 0; shift < lengths.size(); shift += 5) {
                std::vector<ByteView> in;
                for (size_t i = 0; i < count; ++i) {
                    const size_t len = lengths[(i * 7 + shift) % lengths.size()];
                    in.emplace_back(data.data() + i, len);
                }
                std::vector<Hash32> out(count);
                keccak256_many_with(lanes, in, out);
                for (size_t i = 0; i < count; ++i) {
                    EXPECT_EQ(out[i], keccak256(in[i]))
                        << lanes << " lanes, group of " << count << ", input " << i << ", "
                        << in[i].size() << " bytes";
                }
            }
        }
    }
    EXPECT_GE(paths, 1);
    if (paths == 1) GTEST_LOG_(INFO) << "neither AVX2 nor AVX-512 here: scalar path only";
}

TEST(Keccak256Many, same_length_groups_and_known_digests) {
    // Eight empty inputs and nine of 1000 bytes: every lane ends at the same block.
    std::vector<ByteView> empty(8);
    std::vector<Hash32> out(8);
    keccak256_many(empty, out);
    for (const Hash32& h : out) EXPECT_EQ(h, kEmptyCodeHash);
    const Bytes data = pattern(1000);
    std::vector<ByteView> same(9, ByteView(data));
    std::vector<Hash32> out9(9);
    keccak256_many(same, out9);
    for (const Hash32& h : out9) EXPECT_EQ(h, keccak256(data));
}

}  // namespace
}  // namespace pel
