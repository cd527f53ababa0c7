// SPDX-License-Identifier: Apache-2.0
// The pool journal's file codec (node/pool_journal.hpp); the node's use of it is in
// core_chain_test.cpp.
#include <filesystem>
#include <fstream>
#include <vector>

#include <gtest/gtest.h>

#include "node/pool_journal.hpp"
#include "primitives/rlp.hpp"
#include "tests/unit/node/core_test_util.hpp"

namespace pel::node {
namespace {

TEST(PoolJournal, encode_decode_round_trip) {
    const std::vector<Bytes> raws{{0x02, 0xc0}, Bytes(300, 0xab), {0x01}};
    auto back = decode_pool_journal(encode_pool_journal(raws));
    ASSERT_TRUE(back.has_value()) << back.error().message;
    EXPECT_EQ(*back, raws);
    auto empty = decode_pool_journal(encode_pool_journal({}));
    ASSERT_TRUE(empty.has_value());
    EXPECT_TRUE(empty->empty());
}

TEST(PoolJournal, malformed_content_is_refused_with_a_message) {
    const Bytes good = encode_pool_journal(std::vector<Bytes>{{0x02, 0xc0}});
    Bytes trailing = good;
    trailing.push_back(0x80);
    Bytes truncated(good.begin(), good.end() - 1);
    Bytes nested;  // a list inside the list
    rlp::encode_list(nested, Bytes{0xc0});
    for (const Bytes& in : {Bytes{}, Bytes{0x80}, truncated, trailing, nested}) {
        auto r = decode_pool_journal(in);
        ASSERT_FALSE(r.has_value());
        EXPECT_EQ(r.error().message.rfind("txpool journal: rlp: ", 0), 0U) << r.error().message;
    }
}

TEST(PoolJournal, file_round_trip_and_missing_file) {
    test::TempDir dir;
    const auto file = dir.path() / kPoolJournalFile;
    auto none = read_pool_journal(file);
    ASSERT_TRUE(none.has_value());
    EXPECT_FALSE(none->has_value());
    const std::vector<Bytes> raws{{0x02, 0xc0}, {0x7f}};
    ASSERT_TRUE(write_pool_journal(file, raws).has_value());
    auto tmp = file;
    tmp += ".tmp";
    EXPECT_FALSE(std::filesystem::exists(tmp));
    auto back = read_pool_journal(file);
    ASSERT_TRUE(back.has_value() && back->has_value());
    EXPECT_EQ(**back, raws);
    std::ofstream(file, std::ios::binary | std::ios::trunc) << "not rlp";
    auto bad = read_pool_journal(file);
    ASSERT_FALSE(bad.has_value());
    EXPECT_NE(bad.error().message.find(file.string()), std::string::npos);
}

TEST(PoolJournal, unwritable_location_is_an_error) {
    auto r = write_pool_journal("/nonexistent-dir-for-pel-test/txpool.rlp", std::vector<Bytes>{});
    ASSERT_FALSE(r.has_value());
    EXPECT_NE(r.error().message.find("cannot create"), std::string::npos);
}

}  // namespace
}  // namespace pel::node
