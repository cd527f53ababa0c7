// SPDX-License-Identifier: Apache-2.0
// Interpreter behaviour and exact gas, against MockHost. Gas figures are worked out by hand in
// the comments from the Yellow Paper and the EIPs named there.
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "primitives/keccak.hpp"
#include "tests/unit/vm/bytecode.hpp"
#include "tests/unit/vm/mock_host.hpp"
#include "vm/opcodes.hpp"
#include "vm/vm.hpp"

namespace pel::vm::test {
namespace {

using O = Opcode;

const Address kSelf = make_address(0x1000);
const Address kCaller = make_address(0x2000);
const Address kOther = make_address(0x3000);

int64_t mem_cost(uint64_t words) { return static_cast<int64_t>(3 * words + words * words / 512); }

class InterpreterTest : public ::testing::Test {
  protected:
    void SetUp() override {
        msg.recipient = kSelf;
        msg.code_address = kSelf;
        msg.sender = kCaller;
        host.warm_accounts = {kSelf, kCaller};
        host.tx.block_number = 100;
    }

    const ExecResult& execute(const Code& code, int64_t gas = 1'000'000) {
        msg.gas = gas;
        result = vm.execute(host, msg, code.bytes, nullptr);
        gas_used = gas - result.gas_left;
        return result;
    }

    /// Runs code that leaves one value on the stack and returns it as a word.
    U256 eval(const Code& code) {
        execute(code + ret_top());
        EXPECT_EQ(result.status, Status::kSuccess);
        EXPECT_EQ(result.output.size(), 32U);
        return U256::from_be_bytes(result.output);
    }

    Vm vm;
    MockHost host;
    Message msg;
    ExecResult result;
    int64_t gas_used = 0;
};

// --- opcode table ----------------------------------------------------------------------------

TEST(OpcodeTable, names_and_traits) {
    EXPECT_STREQ(kOpcodeTable[0x5f].name, "PUSH0");
    EXPECT_STREQ(kOpcodeTable[0x5e].name, "MCOPY");
    EXPECT_STREQ(kOpcodeTable[0x4a].name, "BLOBBASEFEE");
    EXPECT_STREQ(kOpcodeTable[0xff].name, "SELFDESTRUCT");
    EXPECT_FALSE(opcode_info(0xef).defined());
    EXPECT_EQ(kNumOpcodes, 149);
    EXPECT_EQ(static_cast<uint8_t>(Opcode::kCreate2), 0xf5);
}

// --- arithmetic ------------------------------------------------------------------------------

TEST_F(InterpreterTest, arithmetic_results) {
    const U256 max = U256::max();
    // Stack order: the last push is the first operand (a - b is push(b) + push(a) + SUB).
    EXPECT_EQ(eval(push(2) + push(3) + O::kAdd), U256{5});
    EXPECT_EQ(eval(push(1) + push(max) + O::kAdd), U256{0});
    EXPECT_EQ(eval(push(5) + push(3) + O::kSub), max - U256{1});
    EXPECT_EQ(eval(push(7) + push(6) + O::kMul), U256{42});
    EXPECT_EQ(eval(push(0) + push(7) + O::kDiv), U256{0});
    EXPECT_EQ(eval(push(2) + push(7) + O::kDiv), U256{3});
    EXPECT_EQ(eval(push(2) + push(-U256{7}) + O::kSdiv), -U256{3});
    EXPECT_EQ(eval(push(3) + push(10) + O::kMod), U256{1});
    EXPECT_EQ(eval(push(3) + push(-U256{10}) + O::kSmod), -U256{1});
    EXPECT_EQ(eval(push(5) + push(4) + push(3) + O::kAddmod), U256{2});  // (3+4)%5
    EXPECT_EQ(eval(push(5) + push(4) + push(3) + O::kMulmod), U256{2});  // (3*4)%5
    EXPECT_EQ(eval(push(10) + push(2) + O::kExp), U256{1024});
    EXPECT_EQ(eval(push(0xff) + push(0) + O::kSignextend), max);
    EXPECT_EQ(eval(push(2) + push(1) + O::kLt), U256{1});
    EXPECT_EQ(eval(push(2) + push(1) + O::kGt), U256{0});
    EXPECT_EQ(eval(push(1) + push(-U256{1}) + O::kSlt), U256{1});
    EXPECT_EQ(eval(push(1) + push(-U256{1}) + O::kSgt), U256{0});
    EXPECT_EQ(eval(push(9) + push(9) + O::kEq), U256{1});
    EXPECT_EQ(eval(push(0) + O::kIszero), U256{1});
    EXPECT_EQ(eval(push(0xf0) + push(0x3c) + O::kAnd), U256{0x30});
    EXPECT_EQ(eval(push(0xf0) + push(0x0f) + O::kOr), U256{0xff});
    EXPECT_EQ(eval(push(0xff) + push(0x0f) + O::kXor), U256{0xf0});
    EXPECT_EQ(eval(push(0) + O::kNot), max);
    EXPECT_EQ(eval(push(0x1234) + push(30) + O::kByte), U256{0x12});
    EXPECT_EQ(eval(push(1) + push(4) + O::kShl), U256{16});  // SHL(shift=4, value=1)
    EXPECT_EQ(eval(push(16) + push(4) + O::kShr), U256{1});
    EXPECT_EQ(eval(push(-U256{16}) + push(4) + O::kSar), -U256{1});
    EXPECT_EQ(eval(push(1) + push(256) + O::kShl), U256{0});
}

TEST_F(InterpreterTest, static_gas_of_simple_sequence) {
    execute(push(1) + push(2) + O::kAdd + O::kPop + O::kStop);
    EXPECT_EQ(result.status, Status::kSuccess);
    EXPECT_EQ(gas_used, 3 + 3 + 3 + 2);
}

TEST_F(InterpreterTest, exp_charges_50_per_exponent_byte) {
    execute(push(0x100) + push(2) + O::kExp);  // exponent 0x100: two bytes
    EXPECT_EQ(gas_used, 3 + 3 + 10 + 50 * 2);
    execute(push(0) + push(2) + O::kExp);
    EXPECT_EQ(gas_used, 3 + 3 + 10);
}

TEST_F(InterpreterTest, push0_pushes_zero_for_two_gas) {
    execute(Code{O::kPush0} + O::kStop);
    EXPECT_EQ(gas_used, 2);
    EXPECT_EQ(eval(Code{O::kPush0}), U256{0});
}

TEST_F(InterpreterTest, push32_near_end_of_code_reads_zero_padding) {
    execute(raw({0x61, 0x01}));  // PUSH2 with one byte of data left
    EXPECT_EQ(result.status, Status::kSuccess);
    EXPECT_EQ(gas_used, 3);
}

TEST_F(InterpreterTest, keccak256_of_empty_and_gas) {
    // Zero size never touches memory, even at an absurd offset.
    EXPECT_EQ(eval(push(0) + push(U256::max()) + O::kKeccak256), U256::from_hash(kEmptyCodeHash));
    execute(push(64) + push(0) + O::kKeccak256);
    EXPECT_EQ(gas_used, 3 + 3 + 30 + 6 * 2 + mem_cost(2));
}

// --- memory ----------------------------------------------------------------------------------

TEST_F(InterpreterTest, memory_expansion_exact_gas) {
    execute(mstore(0, U256{1}));
    EXPECT_EQ(gas_used, 3 + 3 + 3 + 3);  // one word: 3
    execute(mstore(992, U256{1}));
    EXPECT_EQ(gas_used, 9 + 98);  // 32 words: 96 + 1024/512
    execute(mstore(32736, U256{1}));
    EXPECT_EQ(gas_used, 9 + 5120);  // 1024 words: 3072 + 2048
    // A second expansion pays only the difference.
    execute(mstore(0, U256{1}) + mstore(992, U256{1}));
    EXPECT_EQ(gas_used, 18 + 98);
    execute(push(1) + push(31) + O::kMstore8);
    EXPECT_EQ(gas_used, 9 + 3);
    execute(push(1) + push(32) + O::kMstore8);
    EXPECT_EQ(gas_used, 9 + mem_cost(2));
    execute(push(0x10000) + O::kMload + O::kPop);
    EXPECT_EQ(gas_used, 3 + 3 + mem_cost(0x10000 / 32 + 1) + 2);
}

TEST_F(InterpreterTest, msize_is_word_rounded) {
    EXPECT_EQ(eval(push(1) + push(33) + O::kMstore8 + O::kMsize), U256{64});
}

TEST_F(InterpreterTest, unreachable_memory_is_out_of_gas) {
    execute(push(U256{1} << 32) + O::kMload);
    EXPECT_EQ(result.status, Status::kOutOfGas);
    EXPECT_EQ(result.gas_left, 0);
    execute(push(U256{1} << 64) + O::kMload);
    EXPECT_EQ(result.status, Status::kOutOfGas);
    execute(push(U256::max()) + push(0) + O::kKeccak256);
    EXPECT_EQ(result.status, Status::kOutOfGas);
    execute(push(32) + push(0) + push(0x10000) + O::kCalldatacopy, 1'000'000);
    EXPECT_EQ(result.status, Status::kSuccess);
    execute(push(32) + push(0) + push(0x10000000) + O::kCalldatacopy, 1'000'000);
    EXPECT_EQ(result.status, Status::kOutOfGas);
}

TEST_F(InterpreterTest, zero_size_never_expands_memory) {
    execute(push(0) + push(U256::max()) + O::kReturn);
    EXPECT_EQ(result.status, Status::kSuccess);
    EXPECT_TRUE(result.output.empty());
    execute(push(0) + push(0) + push(U256::max()) + O::kCalldatacopy + O::kMsize + ret_top());
    EXPECT_EQ(result.status, Status::kSuccess);
    execute(push(0) + push(U256::max()) + push(U256::max()) + O::kMcopy + O::kMsize);
    EXPECT_EQ(result.status, Status::kSuccess);
    EXPECT_EQ(gas_used, 9 + 3 + 2);
}

TEST_F(InterpreterTest, mcopy_copies_overlapping_and_charges) {
    // EIP-5656 example: memory 0x00..0x1f at 0, MCOPY(dst=1, src=0, size=8) -> shift right by one.
    U256 pattern;
    for (size_t i = 0; i < 32; ++i) {
        pattern = (pattern << 8U) | U256{i};
    }
    execute(mstore(0, pattern) + push(8) + push(0) + push(1) + O::kMcopy + ret(0, 32));
    ASSERT_EQ(result.status, Status::kSuccess);
    const Bytes expect = {0, 0, 1, 2, 3, 4, 5, 6, 7, 9, 10};
    EXPECT_EQ(Bytes(result.output.begin(), result.output.begin() + 11), expect);
    // MCOPY(dst=32, src=0, size=32): copy of one word, expands to two words.
    execute(push(32) + push(0) + push(32) + O::kMcopy);
    EXPECT_EQ(gas_used, 9 + 3 + 3 * 1 + mem_cost(2));
}

TEST_F(InterpreterTest, calldata_ops) {
    const Bytes input = {1, 2, 3};
    msg.input = input;
    EXPECT_EQ(eval(push(0) + O::kCalldataload), U256{0x010203} << 232U);
    EXPECT_EQ(eval(push(2) + O::kCalldataload), U256{3} << 248U);
    EXPECT_EQ(eval(push(U256::max()) + O::kCalldataload), U256{0});
    EXPECT_EQ(eval(Code{O::kCalldatasize}), U256{3});
    execute(push(32) + push(1) + push(0) + O::kCalldatacopy + ret(0, 32));
    EXPECT_EQ(result.output[0], 2);
    EXPECT_EQ(result.output[1], 3);
    EXPECT_EQ(result.output[2], 0);
}

TEST_F(InterpreterTest, codecopy_pads_with_zeros) {
    const Code code = push(40) + push(0) + push(0) + O::kCodecopy + ret(0, 40);
    execute(code);
    ASSERT_EQ(result.output.size(), 40U);
    EXPECT_EQ(
        Bytes(result.output.begin(), result.output.begin() + static_cast<ptrdiff_t>(code.size())),
        code.bytes);
    EXPECT_EQ(result.output.back(), 0);
    EXPECT_EQ(eval(Code{O::kCodesize}), U256{9});  // CODESIZE + ret_top (8 bytes)
}

// --- transient storage -----------------------------------------------------------------------

TEST_F(InterpreterTest, tstore_then_tload) {
    EXPECT_EQ(eval(push(42) + push(1) + O::kTstore + push(1) + O::kTload), U256{42});
    execute(push(42) + push(1) + O::kTstore + push(1) + O::kTload);
    EXPECT_EQ(gas_used, 3 + 3 + 100 + 3 + 100);
}

// --- storage ---------------------------------------------------------------------------------

struct SstoreCase {
    uint64_t original;
    uint64_t current;
    uint64_t value;
    int64_t gas;
    int64_t refund;
};

TEST_F(InterpreterTest, sstore_gas_and_refund_per_storage_status) {
    // EIP-2200 with EIP-2929 (warm read 100) and EIP-3529 (clear refund 4800) figures.
    const std::vector<SstoreCase> cases = {
        {5, 5, 5, 100, 0},      // kAssigned (no-op)
        {0, 0, 1, 20000, 0},    // kAdded
        {1, 1, 0, 2900, 4800},  // kDeleted
        {1, 1, 2, 2900, 0},     // kModified
        {1, 0, 2, 100, -4800},  // kDeletedAdded
        {1, 2, 0, 100, 4800},   // kModifiedDeleted
        {1, 0, 1, 100, -2000},  // kDeletedRestored
        {0, 1, 0, 100, 19900},  // kAddedDeleted
        {1, 2, 1, 100, 2800},   // kModifiedRestored
        {1, 2, 3, 100, 0},      // kAssigned (dirty)
    };
    for (const bool cold : {false, true}) {
        for (const auto& c : cases) {
            host = MockHost{};
            host.warm_accounts = {kSelf};
            if (!cold) {
                host.warm_slots.insert({kSelf, U256{7}});
            }
            host.accounts[kSelf].original[U256{7}] = U256{c.original};
            host.accounts[kSelf].storage[U256{7}] = U256{c.current};
            execute(push(c.value) + push(7) + O::kSstore);
            ASSERT_EQ(result.status, Status::kSuccess);
            EXPECT_EQ(gas_used, 6 + c.gas + (cold ? 2100 : 0))
                << c.original << "->" << c.current << "->" << c.value << " cold=" << cold;
            EXPECT_EQ(result.gas_refund, c.refund);
            EXPECT_EQ(host.accounts[kSelf].storage[U256{7}], U256{c.value});
        }
    }
}

TEST_F(InterpreterTest, sstore_sentry_needs_more_than_2300) {
    host.warm_slots.insert({kSelf, U256{7}});
    execute(push(0) + push(7) + O::kSstore, 6 + 2300);
    EXPECT_EQ(result.status, Status::kOutOfGas);
    execute(push(0) + push(7) + O::kSstore, 6 + 2301);
    EXPECT_EQ(result.status, Status::kSuccess);
    EXPECT_EQ(gas_used, 6 + 100);
}

TEST_F(InterpreterTest, sload_cold_then_warm) {
    host.accounts[kSelf].storage[U256{3}] = U256{99};
    execute(push(3) + O::kSload + push(3) + O::kSload);
    EXPECT_EQ(gas_used, 3 + 2100 + 3 + 100);
    host.warm_slots.clear();
    EXPECT_EQ(eval(push(3) + O::kSload), U256{99});
}

TEST_F(InterpreterTest, refunds_dropped_on_revert) {
    host.accounts[kSelf].storage[U256{7}] = U256{1};
    host.accounts[kSelf].original[U256{7}] = U256{1};
    execute(push(0) + push(7) + O::kSstore + push(0) + push(0) + O::kRevert);
    EXPECT_EQ(result.status, Status::kRevert);
    EXPECT_EQ(result.gas_refund, 0);
}

// --- EIP-2929 account access -----------------------------------------------------------------

TEST_F(InterpreterTest, account_access_cold_then_warm) {
    host.accounts[kOther].balance = U256{77};
    host.accounts[kOther].code = {0x00, 0x01};
    for (const O op : {O::kBalance, O::kExtcodesize, O::kExtcodehash}) {
        host.warm_accounts = {kSelf};
        execute(push(kOther) + op + O::kPop + push(kOther) + op + O::kPop);
        EXPECT_EQ(gas_used, 3 + 2600 + 2 + 3 + 100 + 2)
            << kOpcodeTable[static_cast<uint8_t>(op)].name;
    }
    host.warm_accounts = {kSelf};
    EXPECT_EQ(eval(push(kOther) + O::kBalance), U256{77});
    EXPECT_EQ(eval(push(kOther) + O::kExtcodesize), U256{2});
    EXPECT_EQ(eval(push(kOther) + O::kExtcodehash),
              U256::from_hash(keccak256(host.accounts[kOther].code)));
    EXPECT_EQ(eval(push(make_address(0x9999)) + O::kExtcodehash), U256{0});
    // EXTCODECOPY: cold 2600 + copy 3/word + memory.
    host.warm_accounts = {kSelf};
    execute(push(32) + push(0) + push(0) + push(kOther) + O::kExtcodecopy + ret(0, 32));
    EXPECT_EQ(result.output[0], 0x00);
    EXPECT_EQ(result.output[1], 0x01);
    EXPECT_EQ(gas_used, 12 + 2600 + 3 + 3 + 3 + 3 + 0);
}

TEST_F(InterpreterTest, selfbalance_and_context) {
    host.accounts[kSelf].balance = U256{1234};
    host.tx.chain_id = U256{1};
    host.tx.base_fee = U256{7};
    host.tx.blob_base_fee = U256{8};
    host.tx.gas_price = U256{9};
    host.tx.origin = kCaller;
    host.tx.coinbase = kOther;
    host.tx.timestamp = 555;
    host.tx.gas_limit = 30'000'000;
    host.tx.prev_randao.bytes[31] = 0x42;
    msg.value = U256{17};
    EXPECT_EQ(eval(Code{O::kSelfbalance}), U256{1234});
    EXPECT_EQ(eval(Code{O::kChainid}), U256{1});
    EXPECT_EQ(eval(Code{O::kBasefee}), U256{7});
    EXPECT_EQ(eval(Code{O::kBlobbasefee}), U256{8});
    EXPECT_EQ(eval(Code{O::kGasprice}), U256{9});
    EXPECT_EQ(eval(Code{O::kOrigin}), U256::from_be_bytes(kCaller.view()));
    EXPECT_EQ(eval(Code{O::kCaller}), U256::from_be_bytes(kCaller.view()));
    EXPECT_EQ(eval(Code{O::kAddress}), U256::from_be_bytes(kSelf.view()));
    EXPECT_EQ(eval(Code{O::kCoinbase}), U256::from_be_bytes(kOther.view()));
    EXPECT_EQ(eval(Code{O::kTimestamp}), U256{555});
    EXPECT_EQ(eval(Code{O::kNumber}), U256{100});
    EXPECT_EQ(eval(Code{O::kGaslimit}), U256{30'000'000});
    EXPECT_EQ(eval(Code{O::kPrevrandao}), U256{0x42});
    EXPECT_EQ(eval(Code{O::kCallvalue}), U256{17});
    execute(Code{O::kSelfbalance} + O::kPop);
    EXPECT_EQ(gas_used, 5 + 2);
}

TEST_F(InterpreterTest, blockhash_window_and_blobhash) {
    EXPECT_EQ(eval(push(99) + O::kBlockhash), U256::from_hash(host.get_block_hash(99)));
    EXPECT_EQ(eval(push(100) + O::kBlockhash), U256{0});  // current block
    EXPECT_EQ(eval(push(0) + O::kBlockhash), U256::from_hash(host.get_block_hash(0)));
    host.tx.block_number = 300;
    EXPECT_EQ(eval(push(43) + O::kBlockhash), U256{0});  // 257 back
    EXPECT_EQ(eval(push(44) + O::kBlockhash), U256::from_hash(host.get_block_hash(44)));
    Hash32 h;
    h.bytes[0] = 1;
    host.blob_hashes = {h};
    EXPECT_EQ(eval(push(0) + O::kBlobhash), U256::from_hash(h));
    EXPECT_EQ(eval(push(1) + O::kBlobhash), U256{0});
    EXPECT_EQ(eval(push(U256::max()) + O::kBlobhash), U256{0});
}

TEST_F(InterpreterTest, gas_opcode_reports_gas_after_its_own_cost) {
    execute(Code{O::kGas} + ret_top(), 1000);
    EXPECT_EQ(U256::from_be_bytes(result.output), U256{998});
}

// --- stack -----------------------------------------------------------------------------------

TEST_F(InterpreterTest, stack_underflow) {
    execute(push(1) + O::kAdd);
    EXPECT_EQ(result.status, Status::kStackUnderflow);
    EXPECT_EQ(result.gas_left, 0);
    execute(repeat(push(1), 16) + O::kSwap16);
    EXPECT_EQ(result.status, Status::kStackUnderflow);
    execute(repeat(push(1), 16) + O::kDup16 + O::kSwap16);
    EXPECT_EQ(result.status, Status::kSuccess);
    execute(Code{O::kPop});
    EXPECT_EQ(result.status, Status::kStackUnderflow);
}

TEST_F(InterpreterTest, push0_on_full_stack_overflows) {
    execute(repeat(Code{O::kPush0}, 1024));
    EXPECT_EQ(result.status, Status::kSuccess);
    EXPECT_EQ(gas_used, 2 * 1024);
    execute(repeat(Code{O::kPush0}, 1025));
    EXPECT_EQ(result.status, Status::kStackOverflow);
    execute(repeat(Code{O::kPush0}, 1024) + O::kDup1);
    EXPECT_EQ(result.status, Status::kStackOverflow);
    execute(repeat(Code{O::kPush0}, 1024) + O::kSwap1 + O::kAdd);  // SWAP does not grow
    EXPECT_EQ(result.status, Status::kSuccess);
}

// --- control flow ----------------------------------------------------------------------------

TEST_F(InterpreterTest, jump_to_jumpdest) {
    // 0: PUSH1 4, 2: JUMP, 3: INVALID, 4: JUMPDEST
    EXPECT_EQ(eval(push(4) + O::kJump + O::kInvalid + O::kJumpdest + push(7)), U256{7});
    execute(push(4) + O::kJump + O::kInvalid + O::kJumpdest);
    EXPECT_EQ(gas_used, 3 + 8 + 1);
}

TEST_F(InterpreterTest, bad_jump_into_push_data) {
    // 0: PUSH1 4, 2: JUMP, 3: PUSH1 0x5b (a JUMPDEST byte that is push data)
    execute(push(4) + O::kJump + raw({0x60, 0x5b}));
    EXPECT_EQ(result.status, Status::kBadJumpDestination);
    EXPECT_EQ(result.gas_left, 0);
    execute(push(100) + O::kJump);
    EXPECT_EQ(result.status, Status::kBadJumpDestination);
    execute(push(U256{1} << 64) + O::kJump);
    EXPECT_EQ(result.status, Status::kBadJumpDestination);
    execute(push(2) + O::kJump);  // 2 is the JUMP itself
    EXPECT_EQ(result.status, Status::kBadJumpDestination);
}

TEST_F(InterpreterTest, jumpi_taken_and_not_taken) {
    // Not taken: 0: PUSH1 0, 2: PUSH1 9, 4: JUMPI, 5: PUSH1 1, 7: ret_top.
    execute(push(0) + push(9) + O::kJumpi + push(1) + ret_top());
    EXPECT_EQ(U256::from_be_bytes(result.output), U256{1});
    // Taken: 0: PUSH1 1, 2: PUSH1 6, 4: JUMPI, 5: INVALID, 6: JUMPDEST, 7: PUSH1 5, ret_top.
    execute(push(1) + push(6) + O::kJumpi + O::kInvalid + O::kJumpdest + push(5) + ret_top());
    EXPECT_EQ(result.status, Status::kSuccess);
    EXPECT_EQ(U256::from_be_bytes(result.output), U256{5});
    EXPECT_EQ(gas_used, 3 + 3 + 10 + 1 + 3 + (3 + 3 + 3 + 3 + 3));
    execute(push(1) + push(100) + O::kJumpi);
    EXPECT_EQ(result.status, Status::kBadJumpDestination);
    execute(push(0) + push(100) + O::kJumpi);  // not taken: destination is not checked
    EXPECT_EQ(result.status, Status::kSuccess);
}

TEST_F(InterpreterTest, pc_opcode) { EXPECT_EQ(eval(push(1) + O::kPop + O::kPc), U256{3}); }

TEST_F(InterpreterTest, undefined_and_invalid_instructions) {
    for (const int op : {0x0c, 0x1e, 0x21, 0x4b, 0xa5, 0xef, 0xf6, 0xfb, 0xfc}) {
        execute(raw({static_cast<uint8_t>(op)}));
        EXPECT_EQ(result.status, Status::kUndefinedInstruction) << op;
        EXPECT_EQ(result.gas_left, 0);
    }
    execute(Code{O::kInvalid});
    EXPECT_EQ(result.status, Status::kInvalidInstruction);
    EXPECT_EQ(result.gas_left, 0);
}

TEST_F(InterpreterTest, out_of_gas_on_base_cost) {
    execute(push(1) + push(2) + O::kAdd, 8);
    EXPECT_EQ(result.status, Status::kOutOfGas);
    EXPECT_EQ(result.gas_left, 0);
    execute(push(1) + push(2) + O::kAdd, 9);
    EXPECT_EQ(result.status, Status::kSuccess);
    EXPECT_EQ(result.gas_left, 0);
}

TEST_F(InterpreterTest, return_and_revert_output) {
    execute(mstore(0, U256{0xabcd}) + ret(30, 2));
    EXPECT_EQ(result.status, Status::kSuccess);
    EXPECT_EQ(result.output, (Bytes{0xab, 0xcd}));
    execute(mstore(0, U256{0xabcd}) + push(2) + push(30) + O::kRevert);
    EXPECT_EQ(result.status, Status::kRevert);
    EXPECT_EQ(result.output, (Bytes{0xab, 0xcd}));
    EXPECT_EQ(gas_used, 12 + 3 + 3);
}

TEST_F(InterpreterTest, analysis_cache_by_code_hash) {
    const Code code = push(4) + O::kJump + O::kInvalid + O::kJumpdest + push(7) + ret_top();
    const Hash32 hash = keccak256(code.bytes);
    for (int i = 0; i < 3; ++i) {
        msg.gas = 100000;
        const ExecResult r = vm.execute(host, msg, code.bytes, &hash);
        EXPECT_EQ(r.status, Status::kSuccess);
        EXPECT_EQ(U256::from_be_bytes(r.output), U256{7});
    }
}

// --- logs ------------------------------------------------------------------------------------

TEST_F(InterpreterTest, log_gas_and_record) {
    execute(mstore(0, U256{0x0102030405}) + push(0xbb) + push(0xaa) + push(5) + push(27) +
            O::kLog2);
    ASSERT_EQ(result.status, Status::kSuccess);
    EXPECT_EQ(gas_used, 12 + 12 + 375 + 2 * 375 + 8 * 5);
    ASSERT_EQ(host.logs.size(), 1U);
    EXPECT_EQ(host.logs[0].addr, kSelf);
    EXPECT_EQ(host.logs[0].data, (Bytes{1, 2, 3, 4, 5}));
    ASSERT_EQ(host.logs[0].topics.size(), 2U);
    EXPECT_EQ(host.logs[0].topics[0].bytes[31], 0xaa);  // the first topic is the higher slot
    EXPECT_EQ(host.logs[0].topics[1].bytes[31], 0xbb);
}

// --- static mode -----------------------------------------------------------------------------

TEST_F(InterpreterTest, static_mode_violations) {
    msg.is_static = true;
    host.accounts[kSelf].balance = U256{100};
    const std::vector<Code> programs = {
        push(1) + push(1) + O::kSstore,
        push(1) + push(1) + O::kTstore,
        push(0) + push(0) + O::kLog0,
        push(0) + push(0) + push(0) + push(0) + push(0) + push(0) + O::kLog4,
        push(0) + push(0) + push(0) + O::kCreate,
        push(0) + push(0) + push(0) + push(0) + O::kCreate2,
        push(kOther) + O::kSelfdestruct,
        push(0) + push(0) + push(0) + push(0) + push(1) + push(kOther) + push(1000) + O::kCall,
    };
    for (const Code& p : programs) {
        execute(p);
        EXPECT_EQ(result.status, Status::kStaticModeViolation);
        EXPECT_EQ(result.gas_left, 0);
    }
    EXPECT_TRUE(host.calls.empty());
    // Reads and value-less calls are fine; the callee inherits static mode.
    execute(push(0) + push(0) + push(0) + push(0) + push(0) + push(kOther) + push(1000) + O::kCall +
            push(1) + O::kTload);
    EXPECT_EQ(result.status, Status::kSuccess);
    ASSERT_EQ(host.calls.size(), 1U);
    EXPECT_TRUE(host.calls[0].msg.is_static);
}

TEST_F(InterpreterTest, staticcall_sets_static_for_callee) {
    execute(push(0) + push(0) + push(0) + push(0) + push(kOther) + push(1000) + O::kStaticcall);
    ASSERT_EQ(host.calls.size(), 1U);
    EXPECT_TRUE(host.calls[0].msg.is_static);
    EXPECT_EQ(host.calls[0].msg.kind, CallKind::kCall);
    EXPECT_EQ(host.calls[0].msg.recipient, kOther);
    EXPECT_EQ(host.calls[0].msg.sender, kSelf);
    EXPECT_TRUE(host.calls[0].msg.value.is_zero());
}

// --- calls -----------------------------------------------------------------------------------

/// CALL(gas, to, value, in_off, in_size, out_off, out_size): seven pushes (21 gas).
Code call_code(const U256& gas, const Address& to, const U256& value, O op = O::kCall) {
    Code c = push(0) + push(0) + push(0) + push(0);
    if (op == O::kCall || op == O::kCallcode) {
        c += push(value);
    }
    return c + push(to) + push(gas) + op;
}

TEST_F(InterpreterTest, call_forwards_all_but_one_64th) {
    host.warm_accounts.insert(kOther);
    execute(call_code(U256::max(), kOther, U256{0}) + O::kPop, 100'000);
    ASSERT_EQ(result.status, Status::kSuccess);
    ASSERT_EQ(host.calls.size(), 1U);
    const int64_t left = 100'000 - 21 - 100;  // 99879
    EXPECT_EQ(host.calls[0].msg.gas, left - left / 64);
    EXPECT_EQ(host.calls[0].msg.gas, 98319);
    EXPECT_EQ(host.calls[0].msg.depth, 1);
    EXPECT_EQ(gas_used, 21 + 100 + 2);  // the callee returned all its gas
}

TEST_F(InterpreterTest, call_requested_gas_below_cap_is_passed_exactly) {
    host.warm_accounts.insert(kOther);
    execute(call_code(U256{1000}, kOther, U256{0}), 100'000);
    ASSERT_EQ(host.calls.size(), 1U);
    EXPECT_EQ(host.calls[0].msg.gas, 1000);
}

TEST_F(InterpreterTest, call_gas_used_by_callee_is_charged) {
    host.warm_accounts.insert(kOther);
    ExecResult canned;
    canned.gas_left = 400;
    host.call_result = canned;
    execute(call_code(U256{1000}, kOther, U256{0}) + O::kPop, 100'000);
    EXPECT_EQ(gas_used, 21 + 100 + 600 + 2);
}

TEST_F(InterpreterTest, call_with_value_stipend_and_new_account) {
    host.accounts[kSelf].balance = U256{10};
    // Cold, non-existent target: 2600 + 9000 + 25000; the callee gets 1000 + 2300.
    execute(call_code(U256{1000}, kOther, U256{1}) + O::kPop, 100'000);
    ASSERT_EQ(host.calls.size(), 1U);
    EXPECT_EQ(host.calls[0].msg.gas, 1000 + 2300);
    EXPECT_EQ(host.calls[0].msg.value, U256{1});
    // The callee returned all its gas, the stipend included.
    EXPECT_EQ(gas_used, 21 + 2600 + 9000 + 25000 - 2300 + 2);
    // Existing, warm target: no new-account cost.
    host.calls.clear();
    host.accounts[kOther].balance = U256{1};
    execute(call_code(U256{1000}, kOther, U256{1}) + O::kPop, 100'000);
    EXPECT_EQ(gas_used, 21 + 100 + 9000 - 2300 + 2);
    // CALLCODE never pays for a new account.
    host.accounts.erase(kOther);
    execute(call_code(U256{1000}, kOther, U256{1}, O::kCallcode) + O::kPop, 100'000);
    EXPECT_EQ(gas_used, 21 + 100 + 9000 - 2300 + 2);
    EXPECT_EQ(host.calls.back().msg.kind, CallKind::kCallCode);
    EXPECT_EQ(host.calls.back().msg.recipient, kSelf);
    EXPECT_EQ(host.calls.back().msg.code_address, kOther);
}

TEST_F(InterpreterTest, call_with_insufficient_balance_pushes_zero_without_calling) {
    host.accounts[kSelf].balance = U256{10};
    host.warm_accounts.insert(kOther);
    host.accounts[kOther].balance = U256{1};
    EXPECT_EQ(eval(call_code(U256{1000}, kOther, U256{11})), U256{0});
    EXPECT_TRUE(host.calls.empty());
    execute(call_code(U256{1000}, kOther, U256{11}) + O::kPop);
    EXPECT_EQ(gas_used, 21 + 100 + 9000 - 2300 + 2);  // forwarded gas and stipend come back
}

TEST_F(InterpreterTest, call_depth_limit_pushes_zero_and_returns_gas) {
    host.warm_accounts.insert(kOther);
    msg.depth = 1024;
    EXPECT_EQ(eval(call_code(U256{1000}, kOther, U256{0})), U256{0});
    EXPECT_TRUE(host.calls.empty());
    execute(call_code(U256{1000}, kOther, U256{0}) + O::kPop);
    EXPECT_EQ(result.status, Status::kSuccess);
    EXPECT_EQ(gas_used, 21 + 100 + 2);
    msg.depth = 1023;
    execute(call_code(U256{1000}, kOther, U256{0}));
    ASSERT_EQ(host.calls.size(), 1U);
    EXPECT_EQ(host.calls[0].msg.depth, 1024);
}

TEST_F(InterpreterTest, delegatecall_keeps_context) {
    msg.value = U256{5};
    execute(call_code(U256{1000}, kOther, U256{0}, O::kDelegatecall));
    ASSERT_EQ(host.calls.size(), 1U);
    const Message& m = host.calls[0].msg;
    EXPECT_EQ(m.kind, CallKind::kDelegateCall);
    EXPECT_EQ(m.recipient, kSelf);
    EXPECT_EQ(m.sender, kCaller);
    EXPECT_EQ(m.code_address, kOther);
    EXPECT_EQ(m.value, U256{5});
    EXPECT_EQ(gas_used, 18 + 2600);
}

TEST_F(InterpreterTest, call_passes_input_and_copies_output) {
    ExecResult canned;
    canned.gas_left = -1;  // all forwarded gas returned
    canned.output = {9, 8, 7, 6};
    host.call_result = canned;
    // args = memory[0..2] = 0xab 0xcd; output into memory[32..35] (3 of the 4 bytes).
    execute(mstore(0, U256{0xabcd} << 240U) + push(3) + push(32) + push(2) + push(0) + push(0) +
            push(kOther) + push(5000) + O::kCall + O::kPop + O::kReturndatasize + ret_top());
    ASSERT_EQ(host.calls.size(), 1U);
    EXPECT_EQ(host.calls[0].input, (Bytes{0xab, 0xcd}));
    EXPECT_EQ(U256::from_be_bytes(result.output), U256{4});
    execute(mstore(0, U256{0}) + push(3) + push(32) + push(2) + push(0) + push(0) + push(kOther) +
            push(5000) + O::kCall + O::kPop + ret(32, 4));
    EXPECT_EQ(result.output, (Bytes{9, 8, 7, 0}));
}

TEST_F(InterpreterTest, nested_execution_through_host) {
    host.vm = &vm;
    host.accounts[kOther].code = (push(0x77) + ret_top()).bytes;
    execute(push(32) + push(0) + push(0) + push(0) + push(0) + push(kOther) + push(50000) +
            O::kCall + push(0) + O::kMload + O::kAdd + ret_top());
    ASSERT_EQ(result.status, Status::kSuccess);
    EXPECT_EQ(U256::from_be_bytes(result.output), U256{0x77 + 1});  // returned word + success
    ASSERT_EQ(host.calls.size(), 1U);
    EXPECT_EQ(host.calls[0].msg.gas, 50000);
}

TEST_F(InterpreterTest, recursion_to_the_depth_limit_reuses_frames) {
    // CALL(GAS, ADDRESS, 0, 0, 0, 0, 0) into itself: every level down to depth 1024 runs, and
    // the call made at depth 1024 fails without reaching the host.
    host.vm = &vm;
    const Code code = push(0) + push(0) + push(0) + push(0) + push(0) + O::kAddress + O::kGas +
                      O::kCall + ret_top();
    host.accounts[kSelf].code = code.bytes;
    for (int round = 0; round < 2; ++round) {  // the second round reuses every frame
        host.calls.clear();
        execute(code, int64_t{1} << 40);
        ASSERT_EQ(result.status, Status::kSuccess);
        EXPECT_EQ(U256::from_be_bytes(result.output), U256{1});
        ASSERT_EQ(host.calls.size(), 1024U);
        EXPECT_EQ(host.calls.back().msg.depth, 1024);
    }
}

// --- RETURNDATA ------------------------------------------------------------------------------

TEST_F(InterpreterTest, returndatacopy_out_of_bounds) {
    execute(push(1) + push(0) + push(0) + O::kReturndatacopy);
    EXPECT_EQ(result.status, Status::kInvalidMemoryAccess);
    EXPECT_EQ(result.gas_left, 0);
    execute(push(0) + push(1) + push(0) + O::kReturndatacopy);  // offset past end, size 0
    EXPECT_EQ(result.status, Status::kInvalidMemoryAccess);
    execute(push(0) + push(0) + push(0) + O::kReturndatacopy);
    EXPECT_EQ(result.status, Status::kSuccess);

    ExecResult canned;
    canned.gas_left = -1;
    canned.output = {1, 2, 3, 4};
    host.call_result = canned;
    const Code call = push(0) + push(0) + push(0) + push(0) + push(0) + push(kOther) + push(1000) +
                      O::kCall + O::kPop;
    execute(call + push(2) + push(2) + push(0) + O::kReturndatacopy + ret(0, 2));
    EXPECT_EQ(result.status, Status::kSuccess);
    EXPECT_EQ(result.output, (Bytes{3, 4}));
    execute(call + push(2) + push(3) + push(0) + O::kReturndatacopy);
    EXPECT_EQ(result.status, Status::kInvalidMemoryAccess);
    execute(call + push(1) + push(U256::max()) + push(0) + O::kReturndatacopy);
    EXPECT_EQ(result.status, Status::kInvalidMemoryAccess);
}

// --- creates ---------------------------------------------------------------------------------

TEST_F(InterpreterTest, create_initcode_size_limit) {
    // EIP-3860: 49152 bytes allowed, one more is an exceptional halt.
    execute(push(49153) + push(0) + push(0) + O::kCreate, 10'000'000);
    EXPECT_EQ(result.status, Status::kOutOfGas);
    EXPECT_EQ(result.gas_left, 0);
    EXPECT_TRUE(host.calls.empty());
    execute(push(0) + push(49153) + push(0) + push(0) + O::kCreate2, 10'000'000);  // salt 0
    EXPECT_EQ(result.status, Status::kOutOfGas);

    execute(push(49152) + push(0) + push(0) + O::kCreate, 10'000'000);
    ASSERT_EQ(result.status, Status::kSuccess);
    ASSERT_EQ(host.calls.size(), 1U);
    const int64_t charged = 9 + 32000 + mem_cost(1536) + int64_t{2} * 1536;
    EXPECT_EQ(host.calls[0].msg.gas, (10'000'000 - charged) - (10'000'000 - charged) / 64);
    EXPECT_EQ(host.calls[0].msg.kind, CallKind::kCreate);
    EXPECT_EQ(host.calls[0].input.size(), 49152U);
    EXPECT_EQ(gas_used, charged);  // the host returned all forwarded gas
}

TEST_F(InterpreterTest, create2_charges_hashing_and_passes_salt) {
    ExecResult canned;
    canned.gas_left = -1;
    host.call_result = canned;
    host.accounts[kSelf].balance = U256{50};
    execute(mstore(0, U256{1}) + push(0x5a17) + push(32) + push(0) + push(7) + O::kCreate2 +
            ret_top());
    ASSERT_EQ(result.status, Status::kSuccess);
    ASSERT_EQ(host.calls.size(), 1U);
    const Message& m = host.calls[0].msg;
    EXPECT_EQ(m.kind, CallKind::kCreate2);
    EXPECT_EQ(m.salt.bytes[30], 0x5a);
    EXPECT_EQ(m.salt.bytes[31], 0x17);
    EXPECT_EQ(m.value, U256{7});
    EXPECT_EQ(m.sender, kSelf);
    EXPECT_EQ(U256::from_be_bytes(result.output), U256::from_be_bytes(host.create_address.view()));
    execute(mstore(0, U256{1}) + push(0x5a17) + push(32) + push(0) + push(7) + O::kCreate2 +
            O::kPop);
    EXPECT_EQ(gas_used, 12 + 12 + 32000 + 2 * 1 + 6 * 1 + 2);
}

TEST_F(InterpreterTest, create_failure_pushes_zero_and_keeps_revert_data) {
    ExecResult canned;
    canned.status = Status::kRevert;
    canned.gas_left = 10;
    canned.output = {0xee};
    host.call_result = canned;
    execute(push(0) + push(0) + push(0) + O::kCreate + O::kReturndatasize + O::kAdd + ret_top());
    EXPECT_EQ(U256::from_be_bytes(result.output), U256{1});  // address 0 + return data size 1
    // Insufficient balance: no call.
    host.calls.clear();
    execute(push(0) + push(0) + push(1) + O::kCreate + ret_top());
    EXPECT_EQ(U256::from_be_bytes(result.output), U256{0});
    EXPECT_TRUE(host.calls.empty());
    execute(push(0) + push(0) + push(1) + O::kCreate + O::kPop);
    EXPECT_EQ(gas_used, 9 + 32000 + 2);
}

TEST_F(InterpreterTest, create_success_clears_return_data) {
    ExecResult canned;
    canned.gas_left = -1;
    canned.output = {1, 2, 3};
    host.call_result = canned;
    // A CALL leaves 3 bytes of return data; a successful CREATE then empties the buffer.
    const Code call = push(0) + push(0) + push(0) + push(0) + push(0) + push(kOther) + push(1000) +
                      O::kCall + O::kPop;
    EXPECT_EQ(eval(call + O::kReturndatasize), U256{3});
    host.call_result->output = {};
    EXPECT_EQ(eval(call + push(0) + push(0) + push(0) + O::kCreate + O::kPop + O::kReturndatasize),
              U256{0});
}

TEST_F(InterpreterTest, jumpdest_analysis_edges) {
    // A JUMPDEST byte inside PUSH32 data is not a destination; the one right after it is.
    const Code code =
        push(36) + O::kJump + push_n(32, U256{0x5b}) + O::kJumpdest + push(9) + ret_top();
    execute(code);
    EXPECT_EQ(result.status, Status::kSuccess);
    EXPECT_EQ(U256::from_be_bytes(result.output), U256{9});
    execute(push(35) + O::kJump + push_n(32, U256{0x5b}) + O::kJumpdest);  // 35 is push data
    EXPECT_EQ(result.status, Status::kBadJumpDestination);
    // A truncated PUSH at the end hides a would-be JUMPDEST and reads zeros.
    execute(push(5) + O::kJump + raw({0x00, 0x62, 0x5b}));
    EXPECT_EQ(result.status, Status::kBadJumpDestination);
}

TEST_F(InterpreterTest, shifts_and_bytes_out_of_range) {
    const U256 min = U256{1} << 255U;
    EXPECT_EQ(eval(push(min) + push(300) + O::kSar), U256::max());
    EXPECT_EQ(eval(push(U256{1} << 254U) + push(U256::max()) + O::kSar), U256{0});
    EXPECT_EQ(eval(push(min) + push(255) + O::kShr), U256{1});
    EXPECT_EQ(eval(push(U256::max()) + push(32) + O::kByte), U256{0});
    EXPECT_EQ(eval(push(0x7f) + push(0) + O::kSignextend), U256{0x7f});
    EXPECT_EQ(eval(push(0x80) + push(31) + O::kSignextend), U256{0x80});
    EXPECT_EQ(eval(push(U256::max()) + push(U256::max()) + O::kExp),
              U256::max());  // odd power of -1
}

// --- selfdestruct ----------------------------------------------------------------------------

TEST_F(InterpreterTest, selfdestruct_gas) {
    host.accounts[kSelf].balance = U256{5};
    execute(push(kOther) + O::kSelfdestruct);
    EXPECT_EQ(result.status, Status::kSuccess);
    EXPECT_EQ(gas_used, 3 + 5000 + 2600 + 25000);  // cold, and funds create the beneficiary
    ASSERT_EQ(host.selfdestructs.size(), 1U);
    EXPECT_EQ(host.selfdestructs[0].second, kOther);
    execute(push(kOther) + O::kSelfdestruct);
    EXPECT_EQ(gas_used, 3 + 5000 + 25000);  // now warm
    host.accounts[kSelf].balance = U256{0};
    execute(push(kOther) + O::kSelfdestruct);
    EXPECT_EQ(gas_used, 3 + 5000);  // no value moves: no new-account charge
}

}  // namespace
}  // namespace pel::vm::test
