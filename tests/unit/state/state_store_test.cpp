// SPDX-License-Identifier: Apache-2.0
// StateStore: roots against the MemState oracle over 1,000+ random blocks (both backends, with
// close and reopen), reads against the oracle, no stale records, deletion of storage tries,
// format-version and corruption refusal, diff validation.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "primitives/keccak.hpp"
#include "state/kv_store.hpp"
#include "state/mem_state.hpp"
#include "state/state_view.hpp"
#include "tests/unit/state/state_gen.hpp"
#include "tests/unit/state/store_check.hpp"

namespace pel::state {
namespace {

using storetest::apply;
using storetest::dump;
using storetest::expect_view_matches;
using storetest::fast_options;
using storetest::full_diff;
using storetest::GenParams;
using storetest::make_block;
using storetest::pool_address;
using storetest::TempDir;

std::unique_ptr<StateStore> open_or_die(const std::string& path, const StateStoreOptions& o) {
    auto s = StateStore::open(path, o);
    EXPECT_TRUE(s.has_value()) << s.error().message;
    return s ? std::move(*s) : nullptr;
}

// The in-memory backend: 1,200 blocks; every root against MemState; periodic full reads; at the
// end the whole database equals a store built from the final state in one block with a record
// for every trie node (no stale trie nodes, slots or accounts; small storage tries may have no
// records; code is never deleted, so it is left out of the comparison).
TEST(StateStore, random_blocks_match_mem_state_roots_in_memory) {
    const GenParams p;
    auto kv = make_mem_kv_store();
    auto store = StateStore::open(kv, fast_options());
    ASSERT_TRUE(store.has_value()) << store.error().message;
    MemState ms;
    for (uint64_t n = 0; n < 1200; ++n) {
        const StateDiff diff = make_block(1, n, p);
        apply(ms, diff);
        auto root = (*store)->commit(n, diff);
        ASSERT_TRUE(root.has_value()) << root.error().message;
        ASSERT_EQ(*root, ms.state_root()) << "block " << n;
        if (n % 100 == 99) expect_view_matches(*(*store)->view(), ms, p);
        if (n % 300 == 299) {  // reopen over the same KvStore
            store = StateStore::open(kv, fast_options());
            ASSERT_TRUE(store.has_value());
            ASSERT_EQ((*store)->head().state_root, ms.state_root());
        }
    }
    auto fresh_kv = make_mem_kv_store();
    StateStoreOptions all_tries = fast_options();
    all_tries.small_storage_trie_slots = 0;
    auto fresh = StateStore::open(fresh_kv, all_tries);
    ASSERT_TRUE(fresh.has_value());
    auto root = (*fresh)->commit(1199, full_diff(ms));
    ASSERT_TRUE(root.has_value());
    EXPECT_EQ(*root, ms.state_root());
    storetest::expect_records_match(*kv, *fresh_kv, fast_options().small_storage_trie_slots);
    const auto records = dump(*kv);
    EXPECT_TRUE(std::any_of(records.begin(), records.end(), [](const auto& r) {
        return r.first[0] == 'u';
    })) << "no storage trie grew into one with records";
}

// LevelDB: 1,000 blocks with small caches and write buffers, at most 8 resident storage tries
// (evictions), close and reopen every 250 blocks.
StateStoreOptions tight_options() {
    StateStoreOptions o = fast_options();
    o.resident_storage_tries = 8;
    return o;
}

TEST(StateStore, random_blocks_match_mem_state_roots_on_leveldb_with_reopen) {
    const GenParams p;
    TempDir dir;
    const std::string path = dir.sub("db");
    auto store = open_or_die(path, tight_options());
    ASSERT_NE(store, nullptr);
    MemState ms;
    for (uint64_t n = 0; n < 1000; ++n) {
        const StateDiff diff = make_block(2, n, p);
        apply(ms, diff);
        auto root = store->commit(n, diff);
        ASSERT_TRUE(root.has_value()) << root.error().message;
        ASSERT_EQ(*root, ms.state_root()) << "block " << n;
        if (n % 250 == 249) {
            store.reset();
            store = open_or_die(path, tight_options());
            ASSERT_NE(store, nullptr);
            const StateHead head = store->head();
            ASSERT_EQ(head.block_num, n);
            ASSERT_EQ(head.state_root, ms.state_root());
            expect_view_matches(*store->view(), ms, p);
        }
    }
}

TEST(StateStore, fresh_store_is_empty_and_block_numbers_are_checked) {
    auto store = StateStore::open(make_mem_kv_store(), fast_options());
    ASSERT_TRUE(store.has_value());
    auto& s = **store;
    EXPECT_FALSE(s.head().block_num.has_value());
    EXPECT_EQ(s.head().state_root, kEmptyTrieRoot);
    const auto v = s.view();
    EXPECT_FALSE(v->block_num().has_value());
    EXPECT_FALSE(v->account(pool_address(1))->has_value());
    EXPECT_EQ(*v->storage(pool_address(1), U256{1}), U256{});
    EXPECT_EQ(*v->code(Hash32{}), nullptr);
    EXPECT_TRUE((*v->code(kEmptyCodeHash))->empty());

    ASSERT_TRUE(s.commit(10, make_block(3, 0)).has_value());  // the first block may be any
    EXPECT_EQ(s.head().block_num, 10U);
    auto wrong = s.commit(12, make_block(3, 1));
    ASSERT_FALSE(wrong.has_value());
    EXPECT_NE(wrong.error().message.find("expected 11"), std::string::npos);
    EXPECT_TRUE(s.commit(11, make_block(3, 1)).has_value());
}

TEST(StateStore, auxiliary_records_commit_with_the_block_or_not_at_all) {
    auto store = StateStore::open(make_mem_kv_store(), fast_options());
    ASSERT_TRUE(store.has_value());
    auto& s = **store;
    const Bytes k1{'x', 'b', 1};
    const Bytes k2{'x', 'b', 2};
    KvWriteBatch aux;
    aux.put(k1, Bytes{7});
    aux.put(k2, Bytes{8});
    ASSERT_TRUE(s.commit(0, make_block(3, 0), aux).has_value());
    EXPECT_EQ(**s.get_aux(k1), Bytes{7});
    std::vector<Bytes> seen;
    ASSERT_TRUE(s.for_each_aux(Bytes{'x', 'b'}, [&](ByteView k, ByteView) {
                     seen.emplace_back(k.begin(), k.end());
                     return true;
                 }).has_value());
    EXPECT_EQ(seen, (std::vector<Bytes>{k1, k2}));

    // A key outside the auxiliary range: an error, and neither the block nor the records land.
    KvWriteBatch bad;
    bad.put(Bytes{'x', 'b', 3}, Bytes{9});
    bad.put(Bytes{'a', 1}, Bytes{9});
    const Hash32 root = s.head().state_root;
    auto r = s.commit(1, make_block(3, 1), bad);
    ASSERT_FALSE(r.has_value());
    EXPECT_NE(r.error().message.find("auxiliary"), std::string::npos);
    EXPECT_EQ(s.head().block_num, 0U);
    EXPECT_EQ(s.head().state_root, root);
    EXPECT_FALSE(s.get_aux(Bytes{'x', 'b', 3})->has_value());
    EXPECT_FALSE(s.get_aux(Bytes{'a', 1}).has_value());  // reads outside the range are refused
    EXPECT_TRUE(s.commit(1, make_block(3, 1)).has_value());
}

TEST(StateStore, invalid_diffs_are_rejected_and_change_nothing) {
    auto store = StateStore::open(make_mem_kv_store(), fast_options());
    ASSERT_TRUE(store.has_value());
    auto& s = **store;
    ASSERT_TRUE(s.commit(0, make_block(4, 0)).has_value());
    const StateHead before = s.head();

    StateDiff deleted_and_set;
    deleted_and_set.accounts[pool_address(1)].deleted = true;
    deleted_and_set.accounts[pool_address(1)].balance = U256{5};
    auto r = s.commit(1, deleted_and_set);
    ASSERT_FALSE(r.has_value());
    EXPECT_NE(r.error().message.find("deleted"), std::string::npos);

    StateDiff bad_code;
    bad_code.accounts[pool_address(2)].code = CodeChange{Hash32{}, Bytes{1, 2, 3}};
    r = s.commit(1, bad_code);
    ASSERT_FALSE(r.has_value());
    EXPECT_NE(r.error().message.find("code hash"), std::string::npos);

    EXPECT_EQ(s.head().state_root, before.state_root);
    EXPECT_EQ(s.head().block_num, before.block_num);
    EXPECT_TRUE(s.commit(1, make_block(4, 1)).has_value());
}

// Selfdestruct and EIP-161 removal delete the account's storage trie and slots; a storage clear
// (recreation) leaves only the new slots.
TEST(StateStore, deleting_or_clearing_removes_the_storage_trie) {
    for (const size_t small : {size_t{0}, size_t{64}}) {  // 40 slots: a trie with records, or none
        SCOPED_TRACE(small);
        StateStoreOptions o = fast_options();
        o.small_storage_trie_slots = small;
        auto store = StateStore::open(make_mem_kv_store(), o);
        ASSERT_TRUE(store.has_value());
        auto& s = **store;
        const Address a = pool_address(7);
        const Address b = pool_address(8);
        StateDiff create;
        for (uint64_t i = 0; i < 40; ++i) {
            create.accounts[a].storage[U256{i}] = U256{i + 1};
            create.accounts[b].storage[U256{i}] = U256{i + 1};
        }
        create.accounts[a].balance = U256{1};
        create.accounts[b].balance = U256{1};
        ASSERT_TRUE(s.commit(0, create).has_value());
        if (small == 0) {
            ASSERT_GT(*s.test_storage_record_count(a), 40U);
        } else {
            ASSERT_EQ(*s.test_storage_record_count(a), 40U);  // the slots alone
        }
        const auto before = s.view();

        StateDiff destroy;
        destroy.accounts[a].deleted = true;
        destroy.accounts[b].storage_cleared = true;
        destroy.accounts[b].storage[U256{100}] = U256{9};
        MemState ms;
        apply(ms, create);
        apply(ms, destroy);
        auto root = s.commit(1, destroy);
        ASSERT_TRUE(root.has_value());
        EXPECT_EQ(*root, ms.state_root());
        EXPECT_EQ(*s.test_storage_record_count(a), 0U);
        // One slot, and its one-leaf trie when every trie has records.
        EXPECT_EQ(*s.test_storage_record_count(b), small == 0 ? 2U : 1U);
        const auto after = s.view();
        EXPECT_FALSE(after->account(a)->has_value());
        EXPECT_EQ(*after->storage(a, U256{3}), U256{});
        EXPECT_EQ(*after->storage(b, U256{3}), U256{});
        EXPECT_EQ(*after->storage(b, U256{100}), U256{9});
        // The older view still shows block 0.
        EXPECT_EQ(*before->storage(a, U256{3}), U256{4});
        EXPECT_EQ(*before->storage(b, U256{3}), U256{4});
        EXPECT_TRUE(before->account(a)->has_value());
    }
}

// Small storage tries have no records and are rebuilt from the flat slots whenever they are not
// in memory (reopen); one that grows past small_storage_trie_slots gets its records and keeps
// them when it shrinks again, also under another setting after a reopen; a flat slot that no
// longer hashes to its account's storage root is refused with nothing written.
TEST(StateStore, small_storage_tries_are_rebuilt_from_their_slots) {
    auto kv = make_mem_kv_store();
    StateStoreOptions o = fast_options();
    o.small_storage_trie_slots = 64;
    auto store = StateStore::open(kv, o);
    ASSERT_TRUE(store.has_value());
    const Address a = pool_address(1);
    const Address b = pool_address(2);
    MemState ms;
    uint64_t n = 0;
    auto commit = [&](const StateDiff& d) {
        apply(ms, d);
        auto root = (*store)->commit(n++, d);
        ASSERT_TRUE(root.has_value()) << root.error().message;
        EXPECT_EQ(*root, ms.state_root()) << "block " << n - 1;
    };
    auto reopen = [&](size_t small) {
        o.small_storage_trie_slots = small;
        store = StateStore::open(kv, o);
        ASSERT_TRUE(store.has_value()) << store.error().message;
    };
    auto slots = [](uint64_t from, uint64_t to, uint64_t value) {
        AccountDiff d;
        for (uint64_t i = from; i < to; ++i) d.storage[U256{i}] = U256{value};
        return d;
    };
    StateDiff d0;
    d0.accounts[a] = slots(0, 10, 5);
    d0.accounts[b] = slots(0, 10, 6);
    commit(d0);
    EXPECT_EQ(*(*store)->test_storage_record_count(a), 10U);  // slots only
    reopen(64);
    StateDiff d1;
    d1.accounts[a] = slots(3, 4, 7);
    commit(d1);
    EXPECT_EQ(*(*store)->test_storage_record_count(a), 10U);

    StateDiff grow;
    grow.accounts[a] = slots(10, 70, 8);
    commit(grow);
    const size_t grown = *(*store)->test_storage_record_count(a);
    EXPECT_GT(grown, 100U);  // 70 slots and their trie's nodes
    reopen(200);
    StateDiff shrink;
    shrink.accounts[a] = slots(5, 70, 0);
    commit(shrink);
    EXPECT_GT(*(*store)->test_storage_record_count(a), 5U);  // still with records
    reopen(64);
    StateDiff again;
    again.accounts[a] = slots(0, 2, 9);
    again.accounts[b] = slots(0, 1, 9);
    commit(again);
    expect_view_matches(*(*store)->view(), ms, GenParams{3, 80, 1});
    auto proof = (*store)->prove(b, {U256{0}, U256{4}, U256{50}});
    ASSERT_TRUE(proof.has_value()) << proof.error().message;
    EXPECT_EQ(proof->storage[0].value, U256{9});
    EXPECT_EQ(proof->storage[1].value, U256{6});
    EXPECT_EQ(proof->storage[2].value, U256{});

    // Damage one of b's flat slots behind the store's back; b's trie is rebuilt after a reopen.
    reopen(64);
    Bytes key{'s'};
    append(key, b.view());
    Bytes slot(32, 0);
    slot[31] = 4;
    append(key, slot);
    KvWriteBatch damage;
    damage.put(key, Bytes{0x77});
    ASSERT_TRUE(kv->write(damage, false).has_value());
    const StateHead head = (*store)->head();
    StateDiff touch;
    touch.accounts[b] = slots(1, 2, 3);
    auto refused = (*store)->commit(n, touch);
    ASSERT_FALSE(refused.has_value());
    EXPECT_NE(refused.error().message.find("do not hash to its storage root"), std::string::npos)
        << refused.error().message;
    EXPECT_EQ((*store)->head().state_root, head.state_root);
    EXPECT_EQ((*store)->head().block_num, head.block_num);
    auto bad_proof = (*store)->prove(b, {U256{0}});
    ASSERT_FALSE(bad_proof.has_value());
}

// Writes a store, then replaces its format record through the raw KvStore.
void write_store_then_set_format(const std::string& path, const std::optional<std::string>& fmt) {
    {
        auto store = open_or_die(path, fast_options());
        ASSERT_NE(store, nullptr);
        ASSERT_TRUE(store->commit(0, make_block(5, 0)).has_value());
    }
    auto kv = open_leveldb_store(path, LevelDbOptions{});
    ASSERT_TRUE(kv.has_value());
    KvWriteBatch batch;
    if (fmt) {
        batch.put(as_bytes("F"), as_bytes(*fmt));
    } else {
        batch.del(as_bytes("F"));
    }
    ASSERT_TRUE((*kv)->write(batch, true).has_value());
}

std::optional<Bytes> raw_format(const std::string& path) {
    auto kv = open_leveldb_store(path, LevelDbOptions{});
    EXPECT_TRUE(kv.has_value());
    if (!kv) return std::nullopt;
    return *(*kv)->get(as_bytes("F"));
}

TEST(StateStore, refuses_another_format_version_and_leaves_it_untouched) {
    TempDir dir;
    const std::string path = dir.sub("db");
    write_store_then_set_format(path, "pel-state/999");
    auto r = StateStore::open(path, fast_options());
    ASSERT_FALSE(r.has_value());
    EXPECT_NE(r.error().message.find("format mismatch: found 'pel-state/999'"), std::string::npos)
        << r.error().message;
    const auto after = raw_format(path);
    ASSERT_TRUE(after.has_value());
    EXPECT_EQ(*after, Bytes(as_bytes("pel-state/999").begin(), as_bytes("pel-state/999").end()));
}

TEST(StateStore, refuses_a_missing_or_garbled_format_record) {
    TempDir dir;
    write_store_then_set_format(dir.sub("missing"), std::nullopt);
    auto r = StateStore::open(dir.sub("missing"), fast_options());
    ASSERT_FALSE(r.has_value());
    EXPECT_NE(r.error().message.find("format record is missing"), std::string::npos)
        << r.error().message;
    EXPECT_FALSE(raw_format(dir.sub("missing")).has_value());  // not re-initialised

    write_store_then_set_format(dir.sub("garbled"), std::string("\x01\xfe junk", 7));
    r = StateStore::open(dir.sub("garbled"), fast_options());
    ASSERT_FALSE(r.has_value());
    EXPECT_NE(r.error().message.find("format mismatch: found '0x01fe"), std::string::npos)
        << r.error().message;
}

TEST(StateStore, refuses_a_directory_that_is_not_a_database) {
    TempDir dir;
    std::filesystem::create_directories(dir.sub("other"));
    std::ofstream(dir.sub("other") + "/notes.txt") << "mine";
    auto r = StateStore::open(dir.sub("other"), fast_options());
    ASSERT_FALSE(r.has_value());
    EXPECT_NE(r.error().message.find("no CURRENT"), std::string::npos) << r.error().message;
    EXPECT_TRUE(std::filesystem::exists(dir.sub("other") + "/notes.txt"));
    EXPECT_FALSE(std::filesystem::exists(dir.sub("other") + "/CURRENT"));
}

// Builds a store whose data sits in table files (reopened once, so the log is compacted).
void build_compacted_store(const std::string& path) {
    {
        auto store = open_or_die(path, fast_options());
        ASSERT_NE(store, nullptr);
        for (uint64_t n = 0; n < 30; ++n)
            ASSERT_TRUE(store->commit(n, make_block(6, n)).has_value());
    }
    auto again = open_or_die(path, fast_options());
    ASSERT_NE(again, nullptr);
}

void corrupt_file(const std::filesystem::path& f, double from, double to) {
    std::fstream io(f, std::ios::in | std::ios::out | std::ios::binary);
    const auto size = static_cast<std::streamoff>(std::filesystem::file_size(f));
    const auto begin = static_cast<std::streamoff>(static_cast<double>(size) * from);
    const auto end = static_cast<std::streamoff>(static_cast<double>(size) * to);
    std::string buf(static_cast<size_t>(end - begin), '\0');
    io.seekg(begin);
    io.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    for (char& c : buf) c = static_cast<char>(c ^ 0x5a);
    io.seekp(begin);
    io.write(buf.data(), static_cast<std::streamsize>(buf.size()));
}

TEST(StateStore, refuses_corrupt_table_files) {
    TempDir dir;
    const std::string path = dir.sub("db");
    build_compacted_store(path);
    size_t tables = 0;
    for (const auto& e : std::filesystem::directory_iterator(path)) {
        if (e.path().extension() == ".ldb") {
            corrupt_file(e.path(), 0.0, 0.6);  // data blocks; the index and footer stay readable
            ++tables;
        }
    }
    ASSERT_GT(tables, 0U);
    auto r = StateStore::open(path, fast_options());
    ASSERT_FALSE(r.has_value());
    EXPECT_NE(r.error().message.find("corrupt"), std::string::npos) << r.error().message;
}

TEST(StateStore, refuses_a_corrupt_manifest) {
    TempDir dir;
    const std::string path = dir.sub("db");
    build_compacted_store(path);
    for (const auto& e : std::filesystem::directory_iterator(path)) {
        if (e.path().filename().string().starts_with("MANIFEST")) corrupt_file(e.path(), 0.0, 1.0);
    }
    auto r = StateStore::open(path, fast_options());
    ASSERT_FALSE(r.has_value());
    EXPECT_NE(r.error().message.find("corrupt"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace pel::state
