// SPDX-License-Identifier: Apache-2.0
// TxnState: journaling and revert, EIP-2200 original values and storage statuses, EIP-2929 warm
// sets, EIP-1153 transient storage, EIP-161 touch cleanup, EIP-6780 destruction, write sets.
#include "execution/txn_state.hpp"

#include <gtest/gtest.h>

#include "execution/sequential.hpp"
#include "primitives/keccak.hpp"
#include "state/mem_state.hpp"
#include "tests/unit/execution/test_util.hpp"

namespace pel::exec {
namespace {

using vm::AccessStatus;
using vm::StorageStatus;

using test::addr;

class TxnStateTest : public ::testing::Test {
  protected:
    void SetUp() override {
        base_.set_balance(addr(1), 100);
        base_.set_storage(addr(1), 1, 5);
        base_.set_code(addr(2), Bytes{0x60, 0x00});
        base_.create(addr(3));  // empty account
    }
    state::MemState base_;
};

TEST_F(TxnStateTest, reads_come_from_the_reader) {
    MemStateReader reader(base_);
    TxnState ts(reader);
    EXPECT_EQ(ts.balance(addr(1)), U256{100});
    EXPECT_EQ(ts.storage(addr(1), 1), U256{5});
    EXPECT_EQ(ts.storage(addr(1), 2), U256{0});
    EXPECT_TRUE(ts.exists(addr(3)));
    EXPECT_FALSE(ts.is_live(addr(3)));
    EXPECT_FALSE(ts.exists(addr(9)));
    EXPECT_EQ(ts.code(addr(2)).size(), 2U);
    EXPECT_EQ(ts.code_hash(addr(2)), keccak256(Bytes{0x60, 0x00}));
    EXPECT_EQ(ts.code_hash(addr(9)), kEmptyCodeHash);
    EXPECT_TRUE(ts.has_storage(addr(1)));
    EXPECT_FALSE(ts.has_storage(addr(2)));
}

TEST_F(TxnStateTest, revert_restores_every_kind_of_change) {
    MemStateReader reader(base_);
    TxnState ts(reader);
    const size_t s0 = ts.snapshot();
    ts.add_balance(addr(1), 5);
    ts.set_storage(addr(1), 1, 7);
    ts.set_transient_storage(addr(1), 1, 9);
    EXPECT_EQ(ts.access_account(addr(4)), AccessStatus::kCold);
    EXPECT_EQ(ts.access_storage(addr(4), 3), AccessStatus::kCold);
    ts.add_log(Log{addr(1), {}, {1, 2}});

    const size_t s1 = ts.snapshot();
    ts.set_nonce(addr(1), 3);
    ts.set_storage(addr(1), 1, 8);
    ts.set_code(addr(5), Bytes{0x00});
    EXPECT_EQ(ts.nonce(addr(1)), 3U);
    EXPECT_TRUE(ts.exists(addr(5)));

    ts.revert(s1);
    EXPECT_EQ(ts.nonce(addr(1)), 0U);
    EXPECT_EQ(ts.storage(addr(1), 1), U256{7});
    EXPECT_FALSE(ts.exists(addr(5)));
    EXPECT_EQ(ts.balance(addr(1)), U256{105});
    EXPECT_EQ(ts.logs().size(), 1U);

    ts.revert(s0);
    EXPECT_EQ(ts.balance(addr(1)), U256{100});
    EXPECT_EQ(ts.storage(addr(1), 1), U256{5});
    EXPECT_EQ(ts.transient_storage(addr(1), 1), U256{0});
    EXPECT_EQ(ts.access_account(addr(4)), AccessStatus::kCold);
    EXPECT_EQ(ts.access_storage(addr(4), 3), AccessStatus::kCold);
    EXPECT_TRUE(ts.logs().empty());
    ts.finalize();
    EXPECT_TRUE(ts.build_writes().accounts.empty());
}

TEST_F(TxnStateTest, warm_sets_answer_cold_once) {
    MemStateReader reader(base_);
    TxnState ts(reader);
    EXPECT_EQ(ts.access_account(addr(1)), AccessStatus::kCold);
    EXPECT_EQ(ts.access_account(addr(1)), AccessStatus::kWarm);
    EXPECT_EQ(ts.access_storage(addr(1), 1), AccessStatus::kCold);
    EXPECT_EQ(ts.access_storage(addr(1), 1), AccessStatus::kWarm);
    EXPECT_EQ(ts.access_storage(addr(1), 2), AccessStatus::kCold);
    EXPECT_EQ(ts.access_storage(addr(2), 1), AccessStatus::kCold);
}

TEST_F(TxnStateTest, original_value_is_the_transaction_start_value) {
    MemStateReader reader(base_);
    TxnState ts(reader);
    ts.set_storage(addr(1), 1, 6);
    ts.set_storage(addr(1), 1, 7);
    EXPECT_EQ(ts.original_storage(addr(1), 1), U256{5});
    EXPECT_EQ(ts.storage(addr(1), 1), U256{7});
    EXPECT_EQ(ts.original_storage(addr(1), 2), U256{0});
}

TEST_F(TxnStateTest, storage_status_covers_every_eip2200_case) {
    MemStateReader reader(base_);
    TxnState ts(reader);
    const Address a = addr(1);
    // Slot 1 starts at 5 (X), slot 2 at 0.
    EXPECT_EQ(ts.set_storage(a, 1, 5), StorageStatus::kAssigned);          // X -> X (no-op)
    EXPECT_EQ(ts.set_storage(a, 1, 0), StorageStatus::kDeleted);           // X -> X -> 0
    EXPECT_EQ(ts.set_storage(a, 1, 6), StorageStatus::kDeletedAdded);      // X -> 0 -> Z
    EXPECT_EQ(ts.set_storage(a, 1, 0), StorageStatus::kModifiedDeleted);   // X -> Y -> 0
    EXPECT_EQ(ts.set_storage(a, 1, 5), StorageStatus::kDeletedRestored);   // X -> 0 -> X
    EXPECT_EQ(ts.set_storage(a, 1, 7), StorageStatus::kModified);          // X -> X -> Z
    EXPECT_EQ(ts.set_storage(a, 1, 8), StorageStatus::kAssigned);          // X -> Y -> Z
    EXPECT_EQ(ts.set_storage(a, 1, 5), StorageStatus::kModifiedRestored);  // X -> Y -> X
    EXPECT_EQ(ts.set_storage(a, 2, 3), StorageStatus::kAdded);             // 0 -> 0 -> Z
    EXPECT_EQ(ts.set_storage(a, 2, 4), StorageStatus::kAssigned);          // 0 -> Y -> Z
    EXPECT_EQ(ts.set_storage(a, 2, 0), StorageStatus::kAddedDeleted);      // 0 -> Y -> 0
}

TEST_F(TxnStateTest, transient_storage_is_journaled) {
    MemStateReader reader(base_);
    TxnState ts(reader);
    ts.set_transient_storage(addr(1), 1, 1);
    const size_t s = ts.snapshot();
    ts.set_transient_storage(addr(1), 1, 2);
    ts.set_transient_storage(addr(2), 1, 3);
    ts.revert(s);
    EXPECT_EQ(ts.transient_storage(addr(1), 1), U256{1});
    EXPECT_EQ(ts.transient_storage(addr(2), 1), U256{0});
    ts.finalize();
    EXPECT_TRUE(ts.build_writes().accounts.empty());  // never part of the write set
}

TEST_F(TxnStateTest, touched_empty_accounts_are_deleted) {
    MemStateReader reader(base_);
    TxnState ts(reader);
    ts.add_balance(addr(3), 0);  // touches the empty account
    ts.add_balance(addr(9), 0);  // absent: touching creates nothing
    ts.finalize();
    const TxnWrites w = ts.build_writes();
    ASSERT_EQ(w.accounts.size(), 1U);
    EXPECT_EQ(w.accounts[0].address, addr(3));
    EXPECT_TRUE(w.accounts[0].deleted);
}

TEST_F(TxnStateTest, reverted_touch_keeps_the_empty_account) {
    MemStateReader reader(base_);
    TxnState ts(reader);
    const size_t s = ts.snapshot();
    ts.touch(addr(3));
    ts.revert(s);
    ts.finalize();
    EXPECT_TRUE(ts.build_writes().accounts.empty());
}

TEST_F(TxnStateTest, created_then_destructed_account_is_deleted) {
    MemStateReader reader(base_);
    TxnState ts(reader);
    ts.create_account(addr(7), 1);
    ts.add_balance(addr(7), 10);
    ts.set_storage(addr(7), 1, 1);
    EXPECT_TRUE(ts.is_created(addr(7)));
    EXPECT_TRUE(ts.mark_destructed(addr(7)));
    EXPECT_FALSE(ts.mark_destructed(addr(7)));
    // Still readable until the end of the transaction.
    EXPECT_EQ(ts.storage(addr(7), 1), U256{1});
    ts.finalize();
    // Never existed before, gone after: no write at all.
    EXPECT_TRUE(ts.build_writes().accounts.empty());
}

TEST_F(TxnStateTest, write_set_holds_net_changes_sorted) {
    MemStateReader reader(base_);
    TxnState ts(reader);
    ts.set_storage(addr(1), 9, 1);
    ts.set_storage(addr(1), 1, 6);
    ts.set_storage(addr(1), 3, 4);
    ts.set_storage(addr(1), 3, 0);  // back to the original: not written
    ts.create_account(addr(8), 1);
    ts.set_code(addr(8), Bytes{0xfe});
    ts.add_balance(addr(2), 0);  // touch of a live account: no change
    ts.finalize();
    const TxnWrites w = ts.build_writes();
    ASSERT_EQ(w.accounts.size(), 2U);
    const AccountWrite& a1 = w.accounts[0];
    EXPECT_EQ(a1.address, addr(1));
    EXPECT_FALSE(a1.deleted);
    EXPECT_FALSE(a1.storage_cleared);
    EXPECT_FALSE(a1.code.has_value());
    ASSERT_EQ(a1.storage.size(), 2U);
    EXPECT_EQ(a1.storage[0], (StorageWrite{1, 6}));
    EXPECT_EQ(a1.storage[1], (StorageWrite{9, 1}));
    const AccountWrite& a8 = w.accounts[1];
    EXPECT_EQ(a8.address, addr(8));
    EXPECT_TRUE(a8.storage_cleared);
    EXPECT_EQ(a8.info.nonce, 1U);
    ASSERT_TRUE(a8.code.has_value());
    EXPECT_EQ(*a8.code, Bytes{0xfe});
    EXPECT_EQ(a8.info.code_hash, keccak256(Bytes{0xfe}));

    apply_writes(base_, w);
    EXPECT_EQ(base_.get_storage(addr(1), 1), U256{6});
    EXPECT_EQ(base_.get_storage(addr(1), 9), U256{1});
    ASSERT_NE(base_.find(addr(8)), nullptr);
    EXPECT_EQ(base_.find(addr(8))->code, Bytes{0xfe});
}

TEST_F(TxnStateTest, code_views_survive_a_reverted_deploy) {
    MemStateReader reader(base_);
    TxnState ts(reader);
    const size_t s = ts.snapshot();
    ts.create_account(addr(8), 1);
    ts.set_code(addr(8), Bytes{0x01, 0x02});
    const ByteView v = ts.code(addr(8));
    ts.revert(s);
    ASSERT_EQ(v.size(), 2U);
    EXPECT_EQ(v[1], 0x02);  // still readable memory
    EXPECT_TRUE(ts.code(addr(8)).empty());
}

}  // namespace
}  // namespace pel::exec
