// SPDX-License-Identifier: Apache-2.0
// KvStore contract, checked identically on the in-memory store and on LevelDB.
#include "state/kv_store.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "tests/unit/state/state_gen.hpp"

namespace pel::state {
namespace {

Bytes b(std::string_view s) {
    const ByteView v = as_bytes(s);
    return {v.begin(), v.end()};
}

class KvStoreTest : public ::testing::TestWithParam<bool> {
  protected:
    void SetUp() override {
        if (GetParam()) {
            auto kv = open_leveldb_store(dir_.sub("db"), LevelDbOptions{});
            ASSERT_TRUE(kv.has_value()) << kv.error().message;
            kv_ = *kv;
        } else {
            kv_ = make_mem_kv_store();
        }
    }
    std::optional<Bytes> get(std::string_view k) {
        auto r = kv_->get(as_bytes(k));
        EXPECT_TRUE(r.has_value());
        return r ? *r : std::nullopt;
    }
    void write(const KvWriteBatch& batch) { ASSERT_TRUE(kv_->write(batch, true).has_value()); }

    storetest::TempDir dir_;
    std::shared_ptr<KvStore> kv_;
};

TEST_P(KvStoreTest, missing_key_is_empty_optional) { EXPECT_FALSE(get("nope").has_value()); }

// "k" and the number, zero padded (GCC 12 misreports a string concatenation here: -Wrestrict).
std::string numbered_key(int n) {
    std::array<char, 16> buf{};
    const int len = std::snprintf(buf.data(), buf.size(), "k%06d", n);
    return {buf.data(), static_cast<size_t>(len)};
}

// write_parts applies the concatenation of its parts in order (the last operation on a key wins
// across parts too), also for a large batch whose keys come in no order.
TEST_P(KvStoreTest, write_parts_applies_the_parts_in_order) {
    KvWriteBatch first;
    KvWriteBatch second;
    KvWriteBatch third;
    first.put(as_bytes("a"), as_bytes("1"));
    first.put(as_bytes("b"), as_bytes("1"));
    second.del(as_bytes("a"));
    second.put(as_bytes("c"), as_bytes("2"));
    third.put(as_bytes("a"), as_bytes("3"));
    third.del(as_bytes("c"));
    for (int i = 0; i < 20000; ++i) {  // keys in a scattered order, spread over every part
        const std::string k = numbered_key(i * 7919 % 20000);
        (i % 3 == 0 ? first : i % 3 == 1 ? second : third).put(as_bytes(k), as_bytes("v"));
        if (i % 5 == 0) third.del(as_bytes(k));
    }
    const KvWriteBatch* const parts[] = {&first, &second, &third};
    ASSERT_TRUE(kv_->write_parts(parts, true).has_value());
    EXPECT_EQ(get("a"), b("3"));
    EXPECT_EQ(get("b"), b("1"));
    EXPECT_FALSE(get("c").has_value());
    for (int i = 0; i < 20000; ++i) {
        const std::string k = numbered_key(i * 7919 % 20000);
        if (i % 5 == 0) {
            EXPECT_FALSE(get(k).has_value()) << k;
        } else {
            EXPECT_EQ(get(k), b("v")) << k;
        }
    }
}

TEST_P(KvStoreTest, batch_applies_in_order) {
    KvWriteBatch batch;
    batch.put(as_bytes("a"), as_bytes("1"));
    batch.put(as_bytes("b"), as_bytes("2"));
    batch.del(as_bytes("a"));
    batch.del(as_bytes("b"));
    batch.put(as_bytes("b"), as_bytes("3"));
    batch.put(as_bytes("e"), {});
    EXPECT_EQ(batch.count(), 6U);
    write(batch);
    EXPECT_FALSE(get("a").has_value());
    EXPECT_EQ(get("b"), b("3"));
    EXPECT_EQ(get("e"), Bytes{});
}

TEST_P(KvStoreTest, snapshot_does_not_see_later_writes) {
    KvWriteBatch w1;
    w1.put(as_bytes("k"), as_bytes("old"));
    write(w1);
    const auto snap = kv_->snapshot();
    KvWriteBatch w2;
    w2.put(as_bytes("k"), as_bytes("new"));
    w2.put(as_bytes("k2"), as_bytes("x"));
    write(w2);
    EXPECT_EQ(*snap->get(as_bytes("k")), b("old"));
    EXPECT_FALSE(snap->get(as_bytes("k2"))->has_value());
    EXPECT_EQ(get("k"), b("new"));
}

TEST_P(KvStoreTest, prefix_scan_is_ordered_and_bounded) {
    KvWriteBatch batch;
    for (const char* k : {"p3", "p1", "q0", "p2", "o9", "p"}) batch.put(as_bytes(k), as_bytes(k));
    write(batch);
    std::vector<std::string> seen;
    auto r = kv_->for_each_prefix(as_bytes("p"), [&](ByteView k, ByteView v) {
        EXPECT_TRUE(equal(k, v));
        seen.emplace_back(k.begin(), k.end());
        return true;
    });
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(seen, (std::vector<std::string>{"p", "p1", "p2", "p3"}));
    seen.clear();
    ASSERT_TRUE(kv_->for_each_prefix(as_bytes("p"),
                                     [&](ByteView k, ByteView) {
                                         seen.emplace_back(k.begin(), k.end());
                                         return seen.size() < 2;
                                     })
                    .has_value());
    EXPECT_EQ(seen.size(), 2U);
}

INSTANTIATE_TEST_SUITE_P(Backends, KvStoreTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& p) {
                             return p.param ? "LevelDb" : "Mem";
                         });

TEST(LevelDbStore, second_open_of_the_same_path_fails) {
    storetest::TempDir dir;
    auto first = open_leveldb_store(dir.sub("db"), LevelDbOptions{});
    ASSERT_TRUE(first.has_value());
    auto second = open_leveldb_store(dir.sub("db"), LevelDbOptions{});
    ASSERT_FALSE(second.has_value());
    EXPECT_NE(second.error().message.find("leveldb"), std::string::npos);
}

// Writes keys 0..7999 (numbered_key) with 100-byte values 0x42, in 40 batches: with a 64 KiB
// write buffer, enough for many flushes and compactions.
void write_numbered_values(KvStore& kv) {
    for (int round = 0; round < 40; ++round) {
        KvWriteBatch batch;
        for (int i = 0; i < 200; ++i) {
            batch.put(as_bytes(numbered_key(round * 200 + i)), Bytes(100, 0x42));
        }
        ASSERT_TRUE(kv.write(batch, false).has_value());
    }
}

// The nice value of each thread of this process (field 19 of /proc/self/task/<tid>/stat).
std::vector<int> thread_nice_values() {
    std::vector<int> out;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator("/proc/self/task", ec)) {
        std::ifstream in(e.path() / "stat");
        std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        const size_t close = stat.rfind(')');  // the command name may hold spaces
        if (close == std::string::npos) continue;
        std::istringstream fields(stat.substr(close + 2));
        std::string f;
        for (int i = 3; i <= 19 && fields >> f; ++i) {
            if (i == 19) out.push_back(std::stoi(f));
        }
    }
    return out;
}

// With background_nice, LevelDB's flushes and compactions run (the data survives them and a
// reopen) on a thread with that nice value.
TEST(LevelDbStore, background_nice_applies_to_flushes_and_compactions) {
    storetest::TempDir dir;
    LevelDbOptions o;
    o.write_buffer_bytes = size_t{64} << 10;  // small: many flushes and compactions
    o.background_nice = 7;
    {
        auto kv = open_leveldb_store(dir.sub("db"), o);
        ASSERT_TRUE(kv.has_value()) << kv.error().message;
        ASSERT_NO_FATAL_FAILURE(write_numbered_values(**kv));
        const std::vector<int> nice = thread_nice_values();
        EXPECT_NE(std::find(nice.begin(), nice.end(), 7), nice.end());
    }
    auto kv = open_leveldb_store(dir.sub("db"), o);
    ASSERT_TRUE(kv.has_value());
    for (int i = 0; i < 8000; i += 97) {
        auto v = (*kv)->get(as_bytes(numbered_key(i)));
        ASSERT_TRUE(v.has_value() && v->has_value()) << i;
        EXPECT_EQ(**v, Bytes(100, 0x42));
    }
}

// The name of each thread of this process (/proc/self/task/<tid>/comm).
std::vector<std::string> thread_names() {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator("/proc/self/task", ec)) {
        std::ifstream in(e.path() / "comm");
        std::string name;
        if (std::getline(in, name)) out.push_back(name);
    }
    return out;
}

// LevelDB's background thread (flushes, compactions) is named leveldb-bg, not after the thread
// that first gave it work (a writer's name, e.g. pel-node's block producer), with or without a
// nice value.
TEST(LevelDbStore, background_thread_is_named_leveldb_bg) {
    storetest::TempDir dir;
    LevelDbOptions o;
    o.write_buffer_bytes = size_t{64} << 10;  // small: the writes below need flushes
    auto kv = open_leveldb_store(dir.sub("db"), o);
    ASSERT_TRUE(kv.has_value()) << kv.error().message;
    ASSERT_NO_FATAL_FAILURE(write_numbered_values(**kv));
    const std::vector<std::string> names = thread_names();
    EXPECT_NE(std::find(names.begin(), names.end(), "leveldb-bg"), names.end());
}

}  // namespace
}  // namespace pel::state
