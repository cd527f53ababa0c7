// SPDX-License-Identifier: Apache-2.0
// StateStore two-phase commit (prepare / commit_prepared / abandon_prepared): the prepared root
// equals commit's, a committed prepared block equals a commit (roots, reads, database, reopen),
// an abandoned block leaves no trace, views keep showing the head while a block is prepared, the
// error cases, concurrent readers, and random mixes of all three against the MemState oracle;
// prepare_rewind (a block below the head, for evm_revert) and for_each_slot.
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

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
using storetest::GenParams;
using storetest::make_block;
using storetest::pool_address;
using storetest::TempDir;

std::unique_ptr<StateStore> open_mem(std::shared_ptr<KvStore> kv,
                                     const StateStoreOptions& o = fast_options()) {
    auto s = StateStore::open(std::move(kv), o);
    EXPECT_TRUE(s.has_value()) << s.error().message;
    return s ? std::move(*s) : nullptr;
}

std::unique_ptr<StateStore> open_dir(const std::string& path, const StateStoreOptions& o) {
    auto s = StateStore::open(path, o);
    EXPECT_TRUE(s.has_value()) << s.error().message;
    return s ? std::move(*s) : nullptr;
}

// A KvStore over the in-memory one whose writes can be made to fail (I/O errors).
class FlakyKv final : public KvStore {
  public:
    FlakyKv() : inner_(make_mem_kv_store()) {}
    Result<std::optional<Bytes>> get(ByteView key) const override { return inner_->get(key); }
    Result<void> write(const KvWriteBatch& batch, bool sync) override {
        if (fail_writes.load()) return make_error("flaky: injected write failure");
        return inner_->write(batch, sync);
    }
    std::shared_ptr<const KvSnapshot> snapshot() const override { return inner_->snapshot(); }
    Result<void> for_each_prefix(ByteView prefix,
                                 const std::function<bool(ByteView, ByteView)>& fn) const override {
        return inner_->for_each_prefix(prefix, fn);
    }
    std::atomic<bool> fail_writes{false};

  private:
    std::shared_ptr<KvStore> inner_;
};

// prepare() on one store and commit() on its twin give the same root for every block; the
// prepared block, once committed, leaves both databases identical.
TEST(StateStoreTwoPhase, prepare_root_equals_commit_root_of_a_twin) {
    auto kv_a = make_mem_kv_store();
    auto kv_b = make_mem_kv_store();
    auto a = open_mem(kv_a);
    auto b = open_mem(kv_b);
    ASSERT_TRUE(a && b);
    MemState ms;
    for (uint64_t n = 0; n < 60; ++n) {
        const StateDiff diff = make_block(11, n);
        apply(ms, diff);
        auto prepared = a->prepare(n, diff);
        ASSERT_TRUE(prepared.has_value()) << prepared.error().message;
        auto committed = b->commit(n, diff);
        ASSERT_TRUE(committed.has_value()) << committed.error().message;
        ASSERT_EQ(*prepared, *committed) << "block " << n;
        ASSERT_EQ(*prepared, ms.state_root()) << "block " << n;
        const auto p = a->prepared();
        ASSERT_TRUE(p.has_value());
        EXPECT_EQ(p->block_num, n);
        EXPECT_EQ(p->state_root, *prepared);
        auto written = a->commit_prepared(KvWriteBatch{});
        ASSERT_TRUE(written.has_value()) << written.error().message;
        EXPECT_EQ(*written, *prepared);
        EXPECT_FALSE(a->prepared().has_value());
        EXPECT_EQ(a->head().block_num, n);
        EXPECT_EQ(a->head().state_root, *prepared);
    }
    EXPECT_EQ(dump(*kv_a), dump(*kv_b));
}

// On LevelDB with auxiliary records: prepare + commit_prepared leaves the same reads, the same
// auxiliary records and, after reopening, the same head as commit().
TEST(StateStoreTwoPhase, commit_prepared_equals_commit_with_reads_and_reopen) {
    const GenParams p;
    TempDir dir;
    StateStoreOptions o = fast_options();
    o.resident_storage_tries = 8;
    auto a = open_dir(dir.sub("a"), o);
    auto b = open_dir(dir.sub("b"), o);
    ASSERT_TRUE(a && b);
    MemState ms;
    for (uint64_t n = 0; n < 150; ++n) {
        const StateDiff diff = make_block(12, n, p);
        apply(ms, diff);
        KvWriteBatch aux;
        aux.put(Bytes{'x', 'n', static_cast<uint8_t>(n)}, Bytes{static_cast<uint8_t>(n + 1)});
        ASSERT_TRUE(a->prepare(n, diff).has_value());
        auto ra = a->commit_prepared(aux);
        auto rb = b->commit(n, diff, aux);
        ASSERT_TRUE(ra.has_value() && rb.has_value());
        ASSERT_EQ(*ra, *rb);
        ASSERT_EQ(*ra, ms.state_root());
        if (n % 50 == 49) {
            expect_view_matches(*a->view(), ms, p);
            a.reset();
            a = open_dir(dir.sub("a"), o);
            ASSERT_NE(a, nullptr);
            EXPECT_EQ(a->head().block_num, n);
            EXPECT_EQ(a->head().state_root, ms.state_root());
            EXPECT_FALSE(a->prepared().has_value());
            expect_view_matches(*a->view(), ms, p);
        }
    }
    for (uint64_t n = 0; n < 150; ++n) {
        auto v = a->get_aux(Bytes{'x', 'n', static_cast<uint8_t>(n)});
        ASSERT_TRUE(v.has_value() && v->has_value());
        EXPECT_EQ(**v, Bytes{static_cast<uint8_t>(n + 1)});
    }
}

// A block changed in a way that differs from `diff` everywhere it touches: other balances, and
// every slot it writes set to a value no block of the generator writes.
StateDiff rival_of(const StateDiff& diff, uint64_t n) {
    StateDiff r;
    for (const auto& [addr, d] : diff.accounts) {
        AccountDiff& x = r.accounts[addr];
        x.balance = U256{0xabcdef00 + n};
        for (const auto& [slot, v] : d.storage) x.storage[slot] = U256{0xfeed, n, 0, 1};
        x.storage[U256{999}] = U256{n + 7};
    }
    AccountDiff& extra = r.accounts[pool_address(100'000 + n)];
    extra.nonce = 5;
    extra.storage[U256{1}] = U256{3};
    return r;
}

// prepare A, abandon, prepare B, commit_prepared: B's root; nothing of A anywhere (reads, the
// database, after reopen). Also with the abandon implied by a second prepare() or by commit().
TEST(StateStoreTwoPhase, abandoned_block_leaves_no_trace) {
    const GenParams p;
    for (int how = 0; how < 3; ++how) {
        SCOPED_TRACE(how);
        auto kv = make_mem_kv_store();
        auto twin_kv = make_mem_kv_store();
        auto s = open_mem(kv);
        auto twin = open_mem(twin_kv);
        ASSERT_TRUE(s && twin);
        MemState ms;
        for (uint64_t n = 0; n < 40; ++n) {
            const StateDiff diff = make_block(13, n, p);
            apply(ms, diff);
            ASSERT_TRUE(twin->commit(n, diff).has_value());
            if (n % 2 == 0) {
                ASSERT_TRUE(s->commit(n, diff).has_value());
                continue;
            }
            auto rival = s->prepare(n, rival_of(diff, n));
            ASSERT_TRUE(rival.has_value()) << rival.error().message;
            ASSERT_NE(*rival, ms.state_root());
            Result<Hash32> root;
            if (how == 0) {
                s->abandon_prepared();
                EXPECT_FALSE(s->prepared().has_value());
                ASSERT_TRUE(s->prepare(n, diff).has_value());
                root = s->commit_prepared(KvWriteBatch{});
            } else if (how == 1) {
                ASSERT_TRUE(s->prepare(n, diff).has_value());
                root = s->commit_prepared(KvWriteBatch{});
            } else {
                root = s->commit(n, diff);
                EXPECT_FALSE(s->prepared().has_value());
            }
            ASSERT_TRUE(root.has_value()) << root.error().message;
            ASSERT_EQ(*root, ms.state_root()) << "block " << n;
        }
        expect_view_matches(*s->view(), ms, p);
        auto extra = s->view()->account(pool_address(100'039));
        ASSERT_TRUE(extra.has_value());
        EXPECT_FALSE(extra->has_value());
        EXPECT_EQ(dump(*kv), dump(*twin_kv));
        s = open_mem(kv);
        ASSERT_NE(s, nullptr);
        EXPECT_EQ(s->head().state_root, ms.state_root());
        expect_view_matches(*s->view(), ms, p);
    }
}

TEST(StateStoreTwoPhase, views_during_the_prepared_phase_show_the_head) {
    auto s = open_mem(make_mem_kv_store());
    ASSERT_NE(s, nullptr);
    const Address a = pool_address(1);
    StateDiff d0;
    d0.accounts[a].balance = U256{10};
    d0.accounts[a].storage[U256{1}] = U256{100};
    const auto r0 = s->commit(0, d0);
    ASSERT_TRUE(r0.has_value());
    const auto before = s->view();
    // Warm the cache with the head's values (a reader fills it while the block is prepared too).
    ASSERT_EQ((*before->account(a))->balance, U256{10});

    StateDiff d1;
    d1.accounts[a].balance = U256{20};
    d1.accounts[a].storage[U256{1}] = U256{200};
    d1.accounts[pool_address(2)].nonce = 1;
    auto r1 = s->prepare(1, d1);
    ASSERT_TRUE(r1.has_value());
    EXPECT_NE(*r1, *r0);
    for (const auto& v : {before, s->view()}) {
        EXPECT_EQ(v->block_num(), 0U);
        EXPECT_EQ(v->state_root(), *r0);
        EXPECT_EQ((*v->account(a))->balance, U256{10});
        EXPECT_EQ(*v->storage(a, U256{1}), U256{100});
        EXPECT_FALSE(v->account(pool_address(2))->has_value());
    }
    EXPECT_EQ(s->head().block_num, 0U);
    EXPECT_EQ(s->head().state_root, *r0);

    ASSERT_TRUE(s->commit_prepared(KvWriteBatch{}).has_value());
    const auto after = s->view();
    EXPECT_EQ(after->block_num(), 1U);
    EXPECT_EQ(after->state_root(), *r1);
    EXPECT_EQ((*after->account(a))->balance, U256{20});
    EXPECT_EQ(*after->storage(a, U256{1}), U256{200});
    EXPECT_EQ((*after->account(pool_address(2)))->nonce, 1U);
    // The view taken before still shows block 0.
    EXPECT_EQ((*before->account(a))->balance, U256{10});
    EXPECT_EQ(*before->storage(a, U256{1}), U256{100});
}

TEST(StateStoreTwoPhase, errors_change_nothing) {
    auto s = open_mem(make_mem_kv_store());
    ASSERT_NE(s, nullptr);
    // Nothing prepared.
    auto r = s->commit_prepared(KvWriteBatch{});
    ASSERT_FALSE(r.has_value());
    EXPECT_NE(r.error().message.find("prepared"), std::string::npos);
    s->abandon_prepared();  // harmless
    ASSERT_TRUE(s->commit(0, make_block(14, 0)).has_value());
    const StateHead head0 = s->head();

    // A wrong block number or an invalid diff: an error, nothing prepared.
    r = s->prepare(5, make_block(14, 1));
    ASSERT_FALSE(r.has_value());
    EXPECT_NE(r.error().message.find("expected 1"), std::string::npos);
    EXPECT_FALSE(s->prepared().has_value());
    StateDiff bad_code;
    bad_code.accounts[pool_address(2)].code = CodeChange{Hash32{}, Bytes{1, 2, 3}};
    r = s->prepare(1, bad_code);
    ASSERT_FALSE(r.has_value());
    EXPECT_NE(r.error().message.find("code hash"), std::string::npos);
    EXPECT_FALSE(s->prepared().has_value());

    // A bad auxiliary key: an error, nothing written, the block stays prepared.
    auto root = s->prepare(1, make_block(14, 1));
    ASSERT_TRUE(root.has_value());
    KvWriteBatch bad;
    bad.put(Bytes{'x', 1}, Bytes{1});
    bad.put(Bytes{'a', 1}, Bytes{1});
    r = s->commit_prepared(bad);
    ASSERT_FALSE(r.has_value());
    EXPECT_NE(r.error().message.find("auxiliary"), std::string::npos);
    EXPECT_EQ(s->head().state_root, head0.state_root);
    EXPECT_FALSE(s->get_aux(Bytes{'x', 1})->has_value());
    ASSERT_TRUE(s->prepared().has_value());
    KvWriteBatch good;
    good.put(Bytes{'x', 1}, Bytes{1});
    r = s->commit_prepared(good);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(*r, *root);
    EXPECT_EQ(**s->get_aux(Bytes{'x', 1}), Bytes{1});
    // Consumed: a second commit_prepared errors.
    EXPECT_FALSE(s->commit_prepared(KvWriteBatch{}).has_value());
    EXPECT_EQ(s->head().block_num, 1U);
}

// An I/O error in commit_prepared abandons the block; the store is unchanged and usable.
TEST(StateStoreTwoPhase, failed_write_abandons_the_block) {
    const GenParams p;
    auto kv = std::make_shared<FlakyKv>();
    auto s = open_mem(kv);
    ASSERT_NE(s, nullptr);
    MemState ms;
    for (uint64_t n = 0; n < 30; ++n) {
        const StateDiff diff = make_block(15, n, p);
        if (n % 3 == 2) {
            ASSERT_TRUE(s->prepare(n, rival_of(diff, n)).has_value());
            kv->fail_writes = true;
            auto r = s->commit_prepared(KvWriteBatch{});
            kv->fail_writes = false;
            ASSERT_FALSE(r.has_value());
            EXPECT_NE(r.error().message.find("injected"), std::string::npos);
            EXPECT_FALSE(s->prepared().has_value());
            EXPECT_EQ(s->head().state_root, ms.state_root());
            expect_view_matches(*s->view(), ms, p);
        }
        apply(ms, diff);
        ASSERT_TRUE(s->prepare(n, diff).has_value());
        auto r = s->commit_prepared(KvWriteBatch{});
        ASSERT_TRUE(r.has_value()) << r.error().message;
        ASSERT_EQ(*r, ms.state_root()) << "block " << n;
    }
    expect_view_matches(*s->view(), ms, p);
}

// Random sequences: each block is committed by commit(), by prepare + commit_prepared, or after
// one or two abandoned rival blocks (abandon_prepared, or a second prepare); every root equals the
// oracle's. LevelDB with few resident storage tries (evictions) and reopens; the in-memory store
// with a final database comparison against a store built in one block.
void run_random_mix(const std::function<std::unique_ptr<StateStore>()>& reopen, uint64_t seed,
                    uint64_t blocks) {
    std::unique_ptr<StateStore> store = reopen();
    ASSERT_NE(store, nullptr);
    const GenParams p;
    MemState ms;
    std::mt19937_64 rng(seed);
    size_t counts[4] = {0, 0, 0, 0};
    for (uint64_t n = 0; n < blocks; ++n) {
        const StateDiff diff = make_block(seed, n, p);
        const uint64_t mode = rng() % 4;
        ++counts[mode];
        if (mode >= 2) {
            // Abandoned rivals: another random block, or a rival of this one.
            const uint64_t rivals = 1 + rng() % 2;
            for (uint64_t k = 0; k < rivals; ++k) {
                StateDiff other =
                    rng() % 2 == 0 ? make_block(seed + 1000 + k, n, p) : rival_of(diff, n);
                auto r = store->prepare(n, std::move(other));
                ASSERT_TRUE(r.has_value()) << r.error().message;
            }
            if (mode == 2) store->abandon_prepared();
        }
        apply(ms, diff);
        Result<Hash32> root;
        if (mode == 0) {
            root = store->commit(n, diff);
        } else {
            auto prepared = store->prepare(n, diff);
            ASSERT_TRUE(prepared.has_value()) << prepared.error().message;
            ASSERT_EQ(*prepared, ms.state_root()) << "prepared block " << n;
            root = store->commit_prepared(KvWriteBatch{});
        }
        ASSERT_TRUE(root.has_value()) << root.error().message;
        ASSERT_EQ(*root, ms.state_root()) << "block " << n << " mode " << mode;
        if (n % 100 == 99) {
            expect_view_matches(*store->view(), ms, p);
            if (rng() % 2 == 0) {
                ASSERT_TRUE(store->prepare(n + 1, diff).has_value());
            }
            store.reset();  // a prepared block is simply lost
            store = reopen();
            ASSERT_NE(store, nullptr);
            ASSERT_EQ(store->head().state_root, ms.state_root());
            ASSERT_FALSE(store->prepared().has_value());
        }
    }
    for (const size_t c : counts) EXPECT_GT(c, blocks / 8);
}

TEST(StateStoreTwoPhase, random_mix_matches_mem_state_on_leveldb) {
    TempDir dir;
    StateStoreOptions o = fast_options();
    o.resident_storage_tries = 8;
    run_random_mix([&] { return open_dir(dir.sub("db"), o); }, 21, 400);
}

TEST(StateStoreTwoPhase, random_mix_matches_mem_state_in_memory) {
    auto kv = make_mem_kv_store();
    run_random_mix([&] { return open_mem(kv); }, 22, 300);
}

// Readers take and read views while the writer prepares, abandons and commits blocks. Each block
// sets the probes to its number; an abandoned rival sets them to a number no block has, which no
// reader may ever see.
constexpr uint64_t kProbes = 16;
constexpr uint64_t kRivalBase = 1'000'000;

Address probe(uint64_t i) { return pool_address(200'000 + i); }

StateDiff probe_block(uint64_t n, uint64_t value) {
    StateDiff diff = make_block(16, n);
    for (uint64_t i = 0; i < kProbes; ++i) {
        AccountDiff& d = diff.accounts[probe(i)];
        d.balance = U256{value};
        d.storage[U256{1}] = U256{value + 1};
    }
    return diff;
}

TEST(StateStoreTwoPhase, prepared_blocks_survive_concurrent_readers) {
    TempDir dir;
    StateStoreOptions o = fast_options();
    o.cache_bytes = size_t{256} << 10;
    auto s = open_dir(dir.sub("db"), o);
    ASSERT_NE(s, nullptr);
    ASSERT_TRUE(s->commit(0, probe_block(0, 0)).has_value());
    std::atomic<bool> done{false};
    std::atomic<uint64_t> reads{0};
    std::atomic<uint64_t> bad{0};
    std::vector<std::thread> readers;
    for (int r = 0; r < 4; ++r) {
        readers.emplace_back([&] {
            while (!done.load()) {
                const auto v = s->view();
                const uint64_t b = v->block_num().value_or(~0ULL);
                for (uint64_t i = 0; i < kProbes; ++i) {
                    auto acc = v->account(probe(i));
                    auto slot = v->storage(probe(i), U256{1});
                    if (!acc || !slot || !acc->has_value() || (*acc)->balance != U256{b} ||
                        *slot != U256{b + 1}) {
                        bad.fetch_add(1);
                    }
                    reads.fetch_add(2, std::memory_order_relaxed);
                }
            }
        });
    }
    std::mt19937_64 rng(5);
    for (uint64_t n = 1; n < 120; ++n) {
        if (rng() % 2 == 0) {
            ASSERT_TRUE(s->prepare(n, probe_block(n, kRivalBase + n)).has_value());
            std::this_thread::yield();
            if (rng() % 2 == 0) s->abandon_prepared();
        }
        ASSERT_TRUE(s->prepare(n, probe_block(n, n)).has_value());
        std::this_thread::yield();
        auto root = s->commit_prepared(KvWriteBatch{});
        ASSERT_TRUE(root.has_value()) << root.error().message;
    }
    done.store(true);
    for (auto& t : readers) t.join();
    EXPECT_EQ(bad.load(), 0U);
    EXPECT_GT(reads.load(), 1'000U);
}

}  // namespace
}  // namespace pel::state

namespace pel::state {
namespace {

using storetest::dump;
using storetest::expect_view_matches;
using storetest::fast_options;
using storetest::GenParams;
using storetest::make_block;
using storetest::TempDir;

// The diff that takes `now` back to `then`: every account of `then` restated in full (its storage
// cleared first), every other account of `now` deleted.
StateDiff back_to(const MemState& now, const MemState& then) {
    StateDiff diff = storetest::full_diff(then);
    for (auto& [addr, d] : diff.accounts) {
        d.storage_cleared = true;
        const MemAccount& a = *then.find(addr);
        d.code = CodeChange{a.code_hash, a.code};  // also back to no code
    }
    for (const auto& [addr, a] : now.accounts()) {
        if (then.find(addr) == nullptr) diff.accounts[addr].deleted = true;
    }
    return diff;
}

// prepare_rewind (evm_revert): a store that went past block K and was taken back holds exactly the
// records of a twin that stopped at K, and both go on alike. for_each_slot lists the head's slots.
TEST(StateStoreRewind, rewind_leaves_the_database_of_a_store_that_stopped_there) {
    GenParams p;
    p.accounts = 60;
    TempDir dir;
    const StateStoreOptions o = fast_options();
    auto a = open_dir(dir.sub("a"), o);
    auto twin = open_dir(dir.sub("twin"), o);
    ASSERT_TRUE(a && twin);
    MemState ms;
    MemState at_k;
    constexpr uint64_t kTarget = 40;
    for (uint64_t n = 0; n < 90; ++n) {
        const StateDiff diff = make_block(21, n, p);
        storetest::apply(ms, diff);
        ASSERT_TRUE(a->commit(n, diff).has_value());
        if (n <= kTarget) {
            ASSERT_TRUE(twin->commit(n, diff).has_value());
        }
        if (n == kTarget) at_k = ms;
    }
    // Not below the head: refused, nothing prepared.
    auto same = a->prepare_rewind(89, StateDiff{});
    ASSERT_FALSE(same.has_value());
    EXPECT_NE(same.error().message.find("rewind to block 89"), std::string::npos);
    EXPECT_FALSE(a->prepared().has_value());

    auto root = a->prepare_rewind(kTarget, back_to(ms, at_k));
    ASSERT_TRUE(root.has_value()) << root.error().message;
    EXPECT_EQ(*root, at_k.state_root());
    EXPECT_EQ(a->head().block_num, 89U);  // nothing written yet
    ASSERT_TRUE(a->commit_prepared(KvWriteBatch{}).has_value());
    EXPECT_EQ(a->head().block_num, kTarget);
    EXPECT_EQ(a->head().state_root, at_k.state_root());
    expect_view_matches(*a->view(), at_k, p);
    for (const auto& [addr, acc] : at_k.accounts()) {
        std::map<U256, U256> listed;
        ASSERT_TRUE(a->for_each_slot(addr, [&](const U256& k, const U256& v) {
                         listed.emplace(k, v);
                         return true;
                     }).has_value());
        std::map<U256, U256> expected;
        for (const auto& [k, v] : acc.storage) {
            if (!v.is_zero()) expected.emplace(k, v);
        }
        ASSERT_EQ(listed, expected);
    }
    a.reset();
    twin.reset();
    {
        auto kv_a = open_leveldb_store(dir.sub("a"), {});
        auto kv_t = open_leveldb_store(dir.sub("twin"), {});
        ASSERT_TRUE(kv_a.has_value() && kv_t.has_value());
        EXPECT_TRUE(dump(**kv_a) == dump(**kv_t));  // (the dumps are too long to print)
    }
    a = open_dir(dir.sub("a"), o);
    twin = open_dir(dir.sub("twin"), o);
    ASSERT_TRUE(a && twin);
    EXPECT_EQ(a->head().block_num, kTarget);
    for (uint64_t n = kTarget + 1; n < kTarget + 30; ++n) {
        const StateDiff diff = make_block(22, n, p);
        auto ra = a->commit(n, diff);
        auto rt = twin->commit(n, diff);
        ASSERT_TRUE(ra.has_value() && rt.has_value());
        ASSERT_EQ(*ra, *rt);
    }
}

}  // namespace
}  // namespace pel::state
