// SPDX-License-Identifier: Apache-2.0
// The Cancun state transition: intrinsic gas, every TxnError, fee accounting, refunds, reverts,
// create rules (addresses, collisions, EIP-6780), EIP-161 cleanup and the sequential executor.
#include "execution/transition.hpp"

#include <algorithm>
#include <string_view>
#include <unordered_set>
#include <vector>

#include <gtest/gtest.h>

#include "execution/host.hpp"
#include "execution/sequential.hpp"
#include "primitives/keccak.hpp"
#include "state/mem_state.hpp"
#include "tests/unit/execution/test_util.hpp"
#include "vm/vm.hpp"

namespace pel::exec {
namespace {

using test::addr;

Address parse_address(std::string_view hex) { return Address::from_hex(hex).value(); }

/// PUSH20 beneficiary SELFDESTRUCT
Bytes selfdestruct_code(const Address& beneficiary) {
    Bytes code(22);
    code[0] = 0x73;
    std::copy(beneficiary.bytes.begin(), beneficiary.bytes.end(), code.begin() + 1);
    code[21] = 0xff;
    return code;
}

const Address kSender = addr(0xa0);
const Address kCoinbase = addr(0xc0);
const Address kTo = addr(0xb0);
const U256 kRich{1'000'000'000'000'000'000ULL};

class TransitionTest : public ::testing::Test {
  protected:
    void SetUp() override {
        state_.set_balance(kSender, kRich);
        env_.coinbase = kCoinbase;
        env_.block_num = 1;
        env_.timestamp = 1000;
        env_.gas_limit = 30'000'000;
        env_.base_fee = 10;
        env_.chain_id = 1;
    }

    /// A 1559 value transfer to kTo: 21000 gas at max fee 30, tip 5.
    static Transaction transfer() {
        Transaction t;
        t.type = TxnType::kDynamicFee;
        t.chain_id = 1;
        t.nonce = 0;
        t.max_fee_per_gas = 30;
        t.max_priority_fee_per_gas = 5;
        t.gas_limit = 21000;
        t.to = kTo;
        t.value = 1000;
        return t;
    }

    Result<TxnResult, TxnError> apply(const Transaction& t, const Address& from = kSender) {
        MemStateReader reader(state_);
        return apply_transaction(reader, vm_, env_, t, from);
    }

    /// Applies and commits; expects success.
    Receipt run(const Transaction& t) {
        auto r = apply(t);
        EXPECT_TRUE(r.has_value()) << to_string(r.error());
        if (!r) {
            return {};
        }
        apply_writes(state_, r->writes);
        return r->receipt;
    }

    TxnError error_of(const Transaction& t, const Address& from = kSender) {
        auto r = apply(t, from);
        EXPECT_FALSE(r.has_value());
        return r ? TxnError::kInsufficientFunds : r.error();
    }

    state::MemState state_;
    BlockEnv env_;
    vm::Vm vm_;
};

TEST(IntrinsicGas, counts_base_data_access_list_and_initcode) {
    Transaction t;
    t.to = kTo;
    EXPECT_EQ(intrinsic_gas(t), 21000U);
    t.data = {0, 1, 0, 2};
    EXPECT_EQ(intrinsic_gas(t), 21000U + 2 * 4 + 2 * 16);
    t.data.clear();
    t.access_list = {{addr(1), {Hash32{}, Hash32{}}}, {addr(2), {Hash32{}}}};
    EXPECT_EQ(intrinsic_gas(t), 21000U + 2 * 2400 + 3 * 1900);
    Transaction c;
    c.data.assign(33, 0xff);
    EXPECT_EQ(intrinsic_gas(c), 53000U + 33 * 16 + 2 * 2);  // two initcode words
}

TEST(BlobBaseFee, follows_fake_exponential) {
    EXPECT_EQ(blob_base_fee(0), U256{1});
    EXPECT_EQ(blob_base_fee(393216), U256{1});
    EXPECT_EQ(blob_base_fee(3338477), U256{2});
    EXPECT_EQ(blob_base_fee(33384770), U256{22026});
    EXPECT_EQ(blob_base_fee(33554432), U256{23174});
}

TEST(CreateAddress, matches_known_vectors) {
    const Address sender = parse_address("0x6ac7ea33f8831ea9dcc53393aaa88b25a785dbf0");
    EXPECT_EQ(create_address(sender, 0),
              parse_address("0xcd234a471b72ba2f1ccf0a70fcaba648a5eecd8d"));
    EXPECT_EQ(create_address(sender, 1),
              parse_address("0x343c43a37d37dff08ae8c4a11544c718abb4fcf8"));
    // EIP-1014 examples 0 and 1.
    const Bytes init{0x00};
    EXPECT_EQ(create2_address(Address{}, Hash32{}, init),
              parse_address("0x4d1a2e2bb4f88f0250f26ffff098b0b30b26bf38"));
    EXPECT_EQ(create2_address(parse_address("0xdeadbeef00000000000000000000000000000000"), Hash32{},
                              init),
              parse_address("0xb928f69bb1d91cd65274e3c79d8986362984fda3"));
}

TEST(Logs, hash_and_bloom) {
    // keccak256(rlp([])).
    EXPECT_EQ(logs_hash({}).to_hex(),
              "0x1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347");
    const std::vector<Log> logs{Log{addr(1), {Hash32{}}, {}}};
    const Bloom b = logs_bloom(logs);
    int bits = 0;
    for (const uint8_t byte : b) {
        bits += __builtin_popcount(byte);
    }
    EXPECT_GE(bits, 1);
    EXPECT_LE(bits, 6);
}

TEST(StateTestBlockHashes, hashes_the_decimal_number) {
    const StateTestBlockHashes h;
    EXPECT_EQ(h.block_hash(1), keccak256(as_bytes("1")));
    EXPECT_EQ(h.block_hash(256), keccak256(as_bytes("256")));
}

TEST_F(TransitionTest, every_txn_error) {
    Transaction t = transfer();
    t.chain_id = 5;
    EXPECT_EQ(error_of(t), TxnError::kWrongChainId);

    t = transfer();
    t.gas_limit = 30'000'001;
    EXPECT_EQ(error_of(t), TxnError::kGasLimitExceedsBlock);

    t = transfer();
    t.max_fee_per_gas = 9;
    t.max_priority_fee_per_gas = 1;
    EXPECT_EQ(error_of(t), TxnError::kFeeCapBelowBaseFee);

    t = transfer();
    t.max_priority_fee_per_gas = 31;
    EXPECT_EQ(error_of(t), TxnError::kPriorityAboveMaxFee);

    Hash32 blob_hash;
    blob_hash.bytes[0] = kBlobHashVersionKzg;
    t = transfer();
    t.type = TxnType::kBlob;
    t.max_fee_per_blob_gas = 1;
    t.blob_versioned_hashes = {blob_hash};
    EXPECT_TRUE(apply(t).has_value());
    t.to.reset();
    EXPECT_EQ(error_of(t), TxnError::kBlobCreate);
    t.to = kTo;
    t.blob_versioned_hashes.clear();
    EXPECT_EQ(error_of(t), TxnError::kBlobNone);
    t.blob_versioned_hashes.assign(7, blob_hash);
    EXPECT_EQ(error_of(t), TxnError::kBlobCountExceeded);
    t.blob_versioned_hashes = {Hash32{}};
    EXPECT_EQ(error_of(t), TxnError::kBlobVersionInvalid);
    t.blob_versioned_hashes = {blob_hash};
    env_.excess_blob_gas = 3338477;  // blob base fee 2
    EXPECT_EQ(error_of(t), TxnError::kBlobFeeCapBelowBlobBaseFee);
    env_.excess_blob_gas = 0;

    t = transfer();
    t.to.reset();
    t.data.assign(vm::kMaxInitcodeSize + 1, 0);
    t.gas_limit = 1'000'000;
    EXPECT_EQ(error_of(t), TxnError::kInitcodeTooLarge);

    t = transfer();
    t.gas_limit = 20999;
    EXPECT_EQ(error_of(t), TxnError::kIntrinsicGasTooLow);

    state_.set_balance(addr(0xa1), kRich);
    state_.set_code(addr(0xa1), Bytes{0x00});
    EXPECT_EQ(error_of(transfer(), addr(0xa1)), TxnError::kSenderNotEoa);
    // A dev chain's impersonated contract: EIP-3607 waived for the listed senders only.
    const std::unordered_set<Address> exempt{addr(0xa1)};
    env_.eip3607_exempt = &exempt;
    EXPECT_TRUE(apply(transfer(), addr(0xa1)).has_value());
    state_.set_balance(addr(0xa2), kRich);
    state_.set_code(addr(0xa2), Bytes{0x00});
    EXPECT_EQ(error_of(transfer(), addr(0xa2)), TxnError::kSenderNotEoa);
    env_.eip3607_exempt = nullptr;

    t = transfer();
    t.nonce = 1;
    EXPECT_EQ(error_of(t), TxnError::kNonceTooHigh);
    state_.set_nonce(kSender, 2);
    EXPECT_EQ(error_of(t), TxnError::kNonceTooLow);

    state_.set_nonce(kSender, UINT64_MAX);
    t.nonce = UINT64_MAX;
    EXPECT_EQ(error_of(t), TxnError::kNonceMax);
    state_.set_nonce(kSender, 0);

    t = transfer();
    state_.set_balance(kSender, U256{21000ULL * 30 + 999});  // caps count, not the effective price
    EXPECT_EQ(error_of(t), TxnError::kInsufficientFunds);
    state_.set_balance(kSender, U256{21000ULL * 30 + 1000});
    EXPECT_TRUE(apply(t).has_value());
    state_.set_balance(kSender, kRich);
    t.max_fee_per_gas = U256::max();  // gas_limit * max_fee overflows 256 bits
    t.max_priority_fee_per_gas = 0;
    EXPECT_EQ(error_of(t), TxnError::kInsufficientFunds);
}

TEST_F(TransitionTest, error_names_are_distinct) {
    for (int i = 0; i <= static_cast<int>(TxnError::kInsufficientFunds); ++i) {
        EXPECT_NE(to_string(static_cast<TxnError>(i)), "unknown");
    }
}

TEST_F(TransitionTest, rejected_txn_changes_nothing) {
    Transaction t = transfer();
    t.nonce = 7;
    const Hash32 before = state_.state_root();
    const Address sender = kSender;
    auto r = execute_block_sequential(state_, vm_, env_, {&t, 1}, {&sender, 1});
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().txn_idx, 0U);
    EXPECT_EQ(r.error().error, TxnError::kNonceTooHigh);
    EXPECT_EQ(state_.state_root(), before);
}

TEST_F(TransitionTest, fees_go_to_coinbase_and_base_fee_is_burned) {
    const Receipt rc = run(transfer());
    EXPECT_TRUE(rc.success);
    EXPECT_EQ(rc.gas_used, 21000U);
    // Effective price min(30, 10 + 5) = 15; the tip 5 goes to the coinbase.
    EXPECT_EQ(state_.find(kSender)->balance, kRich - U256{1000} - U256{21000ULL * 15});
    EXPECT_EQ(state_.find(kSender)->nonce, 1U);
    EXPECT_EQ(state_.find(kTo)->balance, U256{1000});
    EXPECT_EQ(state_.find(kCoinbase)->balance, U256{21000ULL * 5});
}

TEST_F(TransitionTest, legacy_price_pays_tip_above_base_fee) {
    Transaction t = transfer();
    t.type = TxnType::kLegacy;
    t.max_fee_per_gas = 12;
    t.max_priority_fee_per_gas = 12;
    t.value = 0;
    run(t);
    EXPECT_EQ(state_.find(kSender)->balance, kRich - U256{21000ULL * 12});
    EXPECT_EQ(state_.find(kCoinbase)->balance, U256{21000ULL * 2});
    // A zero-value call to an absent account creates nothing.
    EXPECT_EQ(state_.find(kTo), nullptr);
}

TEST_F(TransitionTest, blob_gas_is_bought_at_the_blob_base_fee_and_burned) {
    Hash32 blob_hash;
    blob_hash.bytes[0] = kBlobHashVersionKzg;
    Transaction t = transfer();
    t.type = TxnType::kBlob;
    t.max_fee_per_blob_gas = 100;
    t.blob_versioned_hashes = {blob_hash, blob_hash};
    env_.excess_blob_gas = 3338477;  // blob base fee 2
    const Receipt rc = run(t);
    EXPECT_EQ(rc.blob_gas_used, 2 * kGasPerBlob);
    EXPECT_EQ(state_.find(kSender)->balance,
              kRich - U256{1000} - U256{21000ULL * 15} - U256{2 * kGasPerBlob * 2});
    EXPECT_EQ(state_.find(kCoinbase)->balance, U256{21000ULL * 5});
}

TEST_F(TransitionTest, refund_is_capped_at_a_fifth) {
    // PUSH1 0 PUSH1 0 SSTORE STOP, slot 0 = 1: SSTORE X -> 0 refunds 4800.
    state_.set_code(kTo, Bytes{0x60, 0x00, 0x60, 0x00, 0x55, 0x00});
    state_.set_storage(kTo, 0, 1);
    Transaction t = transfer();
    t.value = 0;
    t.gas_limit = 100'000;
    const Receipt rc = run(t);
    EXPECT_TRUE(rc.success);
    // 21000 + 3 + 3 + cold slot 2100 + reset 2900 = 26006; refund min(4800, 26006 / 5).
    EXPECT_EQ(rc.gas_used, 26006U - 4800U);
    EXPECT_EQ(state_.get_storage(kTo, 0), U256{0});

    // Two slots cleared: refund 9600 > (21000 + 2 * 5006) / 5 = 6202, so the cap binds.
    state_.set_code(kTo, Bytes{0x60, 0x00, 0x60, 0x00, 0x55, 0x60, 0x00, 0x60, 0x01, 0x55, 0x00});
    state_.set_storage(kTo, 0, 1);
    state_.set_storage(kTo, 1, 1);
    t.nonce = 1;
    const Receipt rc2 = run(t);
    EXPECT_EQ(rc2.gas_used, 31012U - 6202U);
}

TEST_F(TransitionTest, revert_undoes_storage_and_value_but_charges_gas) {
    // PUSH1 1 PUSH1 0 SSTORE PUSH1 0 PUSH1 0 REVERT
    state_.set_code(kTo, Bytes{0x60, 0x01, 0x60, 0x00, 0x55, 0x60, 0x00, 0x60, 0x00, 0xfd});
    Transaction t = transfer();
    t.gas_limit = 100'000;
    const Receipt rc = run(t);
    EXPECT_FALSE(rc.success);
    EXPECT_EQ(state_.get_storage(kTo, 0), U256{0});
    EXPECT_EQ(state_.find(kTo)->balance, U256{0});
    // 21000 + 3 + 3 + 22100 (cold, 0 -> 1) + 3 + 3; no refund on failure.
    EXPECT_EQ(rc.gas_used, 21000U + 6 + 22100 + 6);
    EXPECT_EQ(state_.find(kSender)->nonce, 1U);
}

TEST_F(TransitionTest, logs_are_kept_on_success_only) {
    // PUSH1 0 PUSH1 0 LOG0 STOP
    state_.set_code(kTo, Bytes{0x60, 0x00, 0x60, 0x00, 0xa0, 0x00});
    Transaction t = transfer();
    t.gas_limit = 100'000;
    const Receipt rc = run(t);
    ASSERT_EQ(rc.logs.size(), 1U);
    EXPECT_EQ(rc.logs[0].address, kTo);
    EXPECT_NE(rc.bloom, Bloom{});
}

TEST_F(TransitionTest, create_deploys_code_at_the_derived_address) {
    // Init code returns the one-byte runtime 0x00: PUSH1 0 PUSH1 0 MSTORE8 PUSH1 1 PUSH1 0 RETURN
    Transaction t = transfer();
    t.to.reset();
    t.value = 5;
    t.gas_limit = 200'000;
    t.data = {0x60, 0x00, 0x60, 0x00, 0x53, 0x60, 0x01, 0x60, 0x00, 0xf3};
    const Receipt rc = run(t);
    EXPECT_TRUE(rc.success);
    const Address created = create_address(kSender, 0);
    const state::MemAccount* acc = state_.find(created);
    ASSERT_NE(acc, nullptr);
    EXPECT_EQ(acc->nonce, 1U);
    EXPECT_EQ(acc->balance, U256{5});
    EXPECT_EQ(acc->code, Bytes{0x00});
    EXPECT_EQ(state_.find(kSender)->nonce, 1U);
}

TEST_F(TransitionTest, create_collision_consumes_all_gas) {
    // EIP-7610: storage alone makes the address taken.
    const Address target = create_address(kSender, 0);
    state_.set_storage(target, 1, 1);
    Transaction t = transfer();
    t.to.reset();
    t.value = 0;
    t.gas_limit = 100'000;
    const Receipt rc = run(t);
    EXPECT_FALSE(rc.success);
    EXPECT_EQ(rc.gas_used, 100'000U);
    EXPECT_EQ(state_.find(kSender)->nonce, 1U);
    EXPECT_EQ(state_.find(target)->nonce, 0U);
}

TEST_F(TransitionTest, code_starting_with_0xef_is_rejected) {
    // PUSH1 0xef PUSH1 0 MSTORE8 PUSH1 1 PUSH1 0 RETURN (EIP-3541)
    Transaction t = transfer();
    t.to.reset();
    t.value = 0;
    t.gas_limit = 200'000;
    t.data = {0x60, 0xef, 0x60, 0x00, 0x53, 0x60, 0x01, 0x60, 0x00, 0xf3};
    const Receipt rc = run(t);
    EXPECT_FALSE(rc.success);
    EXPECT_EQ(rc.gas_used, 200'000U);
    EXPECT_EQ(state_.find(create_address(kSender, 0)), nullptr);
}

TEST_F(TransitionTest, selfdestruct_in_creating_txn_deletes_the_account) {
    // Init code: PUSH20 beneficiary SELFDESTRUCT (EIP-6780: created in this transaction).
    const Address beneficiary = addr(0xbe);
    Transaction t = transfer();
    t.to.reset();
    t.value = 77;
    t.gas_limit = 200'000;
    t.data = selfdestruct_code(beneficiary);
    const Receipt rc = run(t);
    EXPECT_TRUE(rc.success);
    EXPECT_EQ(state_.find(create_address(kSender, 0)), nullptr);
    EXPECT_EQ(state_.find(beneficiary)->balance, U256{77});
}

TEST_F(TransitionTest, selfdestruct_of_older_contract_only_moves_the_balance) {
    const Address beneficiary = addr(0xbe);
    const Bytes code = selfdestruct_code(beneficiary);
    state_.set_code(kTo, code);
    state_.set_storage(kTo, 1, 1);
    state_.set_balance(kTo, 50);
    Transaction t = transfer();
    t.value = 0;
    t.gas_limit = 100'000;
    const Receipt rc = run(t);
    EXPECT_TRUE(rc.success);
    const state::MemAccount* acc = state_.find(kTo);
    ASSERT_NE(acc, nullptr);
    EXPECT_EQ(acc->code, code);
    EXPECT_EQ(acc->balance, U256{0});
    EXPECT_EQ(state_.get_storage(kTo, 1), U256{1});
    EXPECT_EQ(state_.find(beneficiary)->balance, U256{50});
}

TEST_F(TransitionTest, touched_empty_accounts_are_removed) {
    state_.create(kTo);        // empty, existing
    state_.create(kCoinbase);  // empty coinbase, zero tip below
    Transaction t = transfer();
    t.value = 0;
    t.max_priority_fee_per_gas = 0;
    run(t);
    EXPECT_EQ(state_.find(kTo), nullptr);
    EXPECT_EQ(state_.find(kCoinbase), nullptr);
}

TEST_F(TransitionTest, sequential_block_accumulates_gas_and_stops_at_invalid_txn) {
    Transaction t0 = transfer();
    Transaction t1 = transfer();
    t1.nonce = 1;
    Transaction t2 = transfer();  // nonce 0 again: too low
    const std::vector<Transaction> txns{t0, t1};
    const std::vector<Address> senders{kSender, kSender};
    auto r = execute_block_sequential(state_, vm_, env_, txns, senders);
    ASSERT_TRUE(r.has_value());
    ASSERT_EQ(r->receipts.size(), 2U);
    EXPECT_EQ(r->receipts[0].cumulative_gas_used, 21000U);
    EXPECT_EQ(r->receipts[1].cumulative_gas_used, 42000U);
    EXPECT_EQ(r->gas_used, 42000U);
    EXPECT_EQ(state_.find(kTo)->balance, U256{2000});

    Transaction ok = transfer();
    ok.nonce = 2;
    const std::vector<Transaction> mixed{ok, t2};
    auto r2 = execute_block_sequential(state_, vm_, env_, mixed, senders);
    ASSERT_FALSE(r2.has_value());
    EXPECT_EQ(r2.error().txn_idx, 1U);
    EXPECT_EQ(r2.error().error, TxnError::kNonceTooLow);
    EXPECT_EQ(state_.find(kSender)->nonce, 3U);  // the valid first transaction stays applied
}

TEST_F(TransitionTest, calls_run_with_an_unlimited_gas_pool_and_the_blocks_gaslimit) {
    // SSTORE(0, GASLIMIT): a call may take more gas than the block holds; GASLIMIT still reads
    // the block's.
    const Address probe = *Address::from_hex("0x00000000000000000000000000000000000000c7");
    state_.set_code(probe, Bytes{0x45, 0x5f, 0x55, 0x00});
    Transaction t = transfer();
    t.to = probe;
    t.value = 0;
    t.gas_limit = 40'000'000;
    EXPECT_EQ(error_of(t), TxnError::kGasLimitExceedsBlock);
    env_.unlimited_gas_pool = true;
    const Receipt receipt = run(t);
    EXPECT_TRUE(receipt.success);
    EXPECT_EQ(state_.get_storage(probe, 0), U256{static_cast<uint64_t>(env_.gas_limit)});
    EXPECT_LT(env_.gas_limit, 40'000'000);
}

TEST_F(TransitionTest, block_gas_pool_is_enforced) {
    env_.gas_limit = 30000;
    Transaction t0 = transfer();
    Transaction t1 = transfer();
    t1.nonce = 1;
    const std::vector<Transaction> txns{t0, t1};
    const std::vector<Address> senders{kSender, kSender};
    auto r = execute_block_sequential(state_, vm_, env_, txns, senders);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().txn_idx, 1U);
    EXPECT_EQ(r.error().error, TxnError::kGasLimitExceedsBlock);
}

}  // namespace
}  // namespace pel::exec
