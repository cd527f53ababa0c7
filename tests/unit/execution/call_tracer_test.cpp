// SPDX-License-Identifier: Apache-2.0
// exec::CallTracer on hand-assembled contracts: frame types (a CALL under a STATICCALL is a CALL),
// a DELEGATECALL's caller and value, a CALL refused for insufficient balance, log positions and
// the logs of failed frames, onlyTopCall, and the top frame's gas from the transaction; and
// exec::StructLogger (geth's opcode logger) on the same contracts: depths, gas costs of calls
// (forwarded gas included) and simple instructions, storage, refunds and a failing instruction.
#include "execution/call_tracer.hpp"

#include <algorithm>
#include <initializer_list>

#include <gtest/gtest.h>

#include "execution/mem_state_reader.hpp"
#include "execution/struct_logger.hpp"
#include "execution/transition.hpp"
#include "state/mem_state.hpp"
#include "tests/unit/execution/test_util.hpp"
#include "vm/vm.hpp"

namespace pel::exec {
namespace {

using test::addr;

const Address kSender = addr(0xa0);
const Address kA = addr(0xb0);
const Address kB = addr(0xb1);
const Address kC = addr(0xb2);
const Address kD = addr(0xb3);
const Address kE = addr(0xb4);

void append(Bytes& code, std::initializer_list<uint8_t> bytes) {
    code.insert(code.end(), bytes.begin(), bytes.end());
}
void push20(Bytes& code, const Address& a) {
    code.push_back(0x73);
    code.insert(code.end(), a.bytes.begin(), a.bytes.end());
}
/// CALL-family with empty input and output and 0xffff gas, result popped. `op` 0xf1 (CALL, with
/// `value`), 0xf4 (DELEGATECALL) or 0xfa (STATICCALL).
void call(Bytes& code, uint8_t op, const Address& to, uint8_t value = 0) {
    append(code, {0x60, 0, 0x60, 0, 0x60, 0, 0x60, 0});
    if (op == 0xf1) {
        append(code, {0x60, value});
    }
    push20(code, to);
    append(code, {0x61, 0xff, 0xff, op, 0x50});
}

class CallTracerTest : public ::testing::Test {
  protected:
    void SetUp() override {
        state_.set_balance(kSender, U256{1'000'000'000'000ULL});
        // A: LOG1(topic 0xaa), STATICCALL B, CALL D with 1 wei (A has none), DELEGATECALL E,
        // LOG0, STOP.
        Bytes a;
        append(a, {0x60, 0xaa, 0x60, 0, 0x60, 0, 0xa1});
        call(a, 0xfa, kB);
        call(a, 0xf1, kD, 1);
        call(a, 0xf4, kE);
        append(a, {0x60, 0, 0x60, 0, 0xa0, 0x00});
        code_a_ = a;
        state_.set_code(kA, a);
        // B: CALL C (zero value, inside the static context), STOP.
        Bytes b;
        call(b, 0xf1, kC);
        b.push_back(0x00);
        state_.set_code(kB, b);
        state_.set_code(kC, Bytes{0x00});
        // E: LOG0, REVERT(0, 0).
        state_.set_code(kE, Bytes{0x60, 0, 0x60, 0, 0xa0, 0x60, 0, 0x60, 0, 0xfd});
        env_.coinbase = addr(0xc0);
        env_.block_num = 1;
        env_.gas_limit = 30'000'000;
        env_.base_fee = 1;
        env_.chain_id = 1;
        txn_.type = TxnType::kDynamicFee;
        txn_.chain_id = 1;
        txn_.max_fee_per_gas = 2;
        txn_.gas_limit = 200'000;
        txn_.to = kA;
    }

    CallFrame trace(CallTracer::Options options) {
        CallTracer tracer(options);
        MemStateReader reader(state_);
        auto r = apply_transaction(reader, vm_, env_, txn_, kSender, &tracer);
        EXPECT_TRUE(r.has_value());
        gas_used_ = r ? r->receipt.gas_used : 0;
        auto frame = tracer.result(txn_.gas_limit, gas_used_);
        EXPECT_TRUE(frame.has_value());
        return frame.value_or(CallFrame{});
    }

    StructTrace logged() {
        StructLogger logger({});
        MemStateReader reader(state_);
        auto r = apply_transaction(reader, vm_, env_, txn_, kSender, &logger);
        EXPECT_TRUE(r.has_value());
        return logger.result(r && r->receipt.success, r ? r->receipt.gas_used : 0);
    }

    state::MemState state_;
    BlockEnv env_;
    Transaction txn_;
    vm::Vm vm_;
    Bytes code_a_;
    uint64_t gas_used_ = 0;
};

TEST_F(CallTracerTest, records_every_frame_as_geth_does) {
    const CallFrame top = trace({.only_top_call = false, .with_log = true});
    EXPECT_EQ(top.type, CallFrame::Type::kCall);
    EXPECT_EQ(top.from, kSender);
    EXPECT_EQ(top.to, kA);
    EXPECT_EQ(top.value, U256{});
    EXPECT_EQ(top.gas, 200'000U);  // the transaction's gas limit
    EXPECT_EQ(top.gas_used, gas_used_);
    EXPECT_FALSE(top.failed());
    ASSERT_EQ(top.calls.size(), 3U);

    const CallFrame& staticcall = top.calls[0];
    EXPECT_EQ(staticcall.type, CallFrame::Type::kStaticCall);
    EXPECT_EQ(staticcall.from, kA);
    EXPECT_EQ(staticcall.to, kB);
    EXPECT_FALSE(staticcall.value.has_value());
    EXPECT_EQ(staticcall.gas, 0xffffU);
    ASSERT_EQ(staticcall.calls.size(), 1U);
    // The static flag is inherited: only the frame that set it is a STATICCALL.
    EXPECT_EQ(staticcall.calls[0].type, CallFrame::Type::kCall);
    EXPECT_EQ(staticcall.calls[0].from, kB);
    EXPECT_EQ(staticcall.calls[0].to, kC);

    const CallFrame& poor = top.calls[1];
    EXPECT_EQ(poor.type, CallFrame::Type::kCall);
    EXPECT_EQ(poor.to, kD);
    EXPECT_EQ(poor.value, U256{1});
    EXPECT_EQ(poor.status, vm::Status::kInsufficientBalance);
    EXPECT_EQ(poor.gas, 0xffffU + 2300);  // with the stipend
    EXPECT_EQ(poor.gas_used, 0U);

    const CallFrame& delegate = top.calls[2];
    EXPECT_EQ(delegate.type, CallFrame::Type::kDelegateCall);
    EXPECT_EQ(delegate.from, kA);  // the delegating account, not the transaction's sender
    EXPECT_EQ(delegate.to, kE);
    EXPECT_EQ(delegate.value, U256{});  // the parent's value
    EXPECT_EQ(delegate.status, vm::Status::kRevert);
    EXPECT_TRUE(delegate.logs.empty());  // a failed frame's logs are dropped

    ASSERT_EQ(top.logs.size(), 2U);
    EXPECT_EQ(top.logs[0].position, 0U);
    EXPECT_EQ(top.logs[0].log.topics.size(), 1U);
    EXPECT_EQ(top.logs[1].position, 3U);  // after the three calls
    EXPECT_TRUE(top.logs[1].log.topics.empty());
}

TEST_F(CallTracerTest, only_top_call_and_no_logs) {
    const CallFrame top = trace({.only_top_call = true, .with_log = true});
    EXPECT_TRUE(top.calls.empty());
    ASSERT_EQ(top.logs.size(), 2U);
    EXPECT_EQ(top.logs[1].position, 0U);  // no calls recorded before it
    const CallFrame quiet = trace({.only_top_call = false, .with_log = false});
    EXPECT_EQ(quiet.calls.size(), 3U);
    EXPECT_TRUE(quiet.logs.empty());
}

TEST_F(CallTracerTest, a_reverted_top_frame_loses_its_logs_and_a_failed_create_its_address) {
    // A's code ends in REVERT instead of STOP.
    Bytes a = code_a_;
    a.back() = 0xfd;
    a.insert(a.end() - 1, {0x60, 0, 0x60, 0});
    state_.set_code(kA, a);
    const CallFrame top = trace({.only_top_call = false, .with_log = true});
    EXPECT_EQ(top.status, vm::Status::kRevert);
    EXPECT_TRUE(top.logs.empty());
    EXPECT_TRUE(top.calls[0].logs.empty());

    // A creation whose init code reverts: the frame is a CREATE with no `to` (geth), and keeps
    // the address it would have made (Parity-style traces print it).
    Transaction create = txn_;
    create.to.reset();
    create.nonce = 0;
    create.data = {0x60, 0, 0x60, 0, 0xfd};
    CallTracer tracer({});
    MemStateReader reader(state_);
    auto r = apply_transaction(reader, vm_, env_, create, kSender, &tracer);
    ASSERT_TRUE(r.has_value());
    const auto frame = tracer.result(create.gas_limit, r->receipt.gas_used);
    ASSERT_TRUE(frame.has_value());
    EXPECT_EQ(frame->type, CallFrame::Type::kCreate);
    EXPECT_FALSE(frame->to.has_value());
    EXPECT_EQ(frame->created, create_address(kSender, 0));
    EXPECT_EQ(frame->input, create.data);
}

TEST_F(CallTracerTest, struct_logger_records_every_instruction_with_geths_costs) {
    const StructTrace t = logged();
    EXPECT_FALSE(t.failed);
    ASSERT_FALSE(t.logs.empty());
    const StructLog& first = t.logs.front();
    EXPECT_EQ(first.pc, 0U);
    EXPECT_EQ(first.op, 0x60);  // PUSH1
    EXPECT_EQ(first.depth, 1);
    EXPECT_EQ(first.gas, 200'000U - 21'000U);
    EXPECT_EQ(first.gas_cost, 3U);
    ASSERT_TRUE(first.stack.has_value());
    EXPECT_TRUE(first.stack->empty());
    EXPECT_EQ(t.logs[1].stack->size(), 1U);
    EXPECT_EQ(t.logs[1].stack->back(), U256{0xaa});
    // Every later record's gas is the previous one's less its cost, at the same depth, unless a
    // call came in between.
    int depth2 = 0;
    int depth3 = 0;
    const StructLog* staticcall = nullptr;
    const StructLog* poor_call = nullptr;
    for (const StructLog& l : t.logs) {
        depth2 += l.depth == 2 ? 1 : 0;
        depth3 += l.depth == 3 ? 1 : 0;
        if (l.depth == 1 && l.op == 0xfa) staticcall = &l;
        if (l.depth == 1 && l.op == 0xf1) poor_call = &l;
    }
    EXPECT_GT(depth2, 0);  // B's and E's instructions
    EXPECT_EQ(depth3, 1);  // C's STOP
    ASSERT_NE(staticcall, nullptr);
    // geth: warm base 100 + cold surcharge 2500 + the forwarded 0xffff.
    EXPECT_EQ(staticcall->gas_cost, 100U + 2500U + 0xffffU);
    ASSERT_NE(poor_call, nullptr);
    // + 9000 for value and 25000 for a new account; the refused call returns all it was given.
    EXPECT_EQ(poor_call->gas_cost, 100U + 2500U + 9000U + 25000U + 0xffffU);
    EXPECT_EQ(t.logs.back().op, 0x00);  // A's STOP
    EXPECT_EQ(t.logs.back().depth, 1);
}

TEST_F(CallTracerTest, struct_logger_storage_refund_and_failure) {
    // SSTORE(1, 5), SLOAD(1), POP, SSTORE(1, 0), STOP: the slot map, a refund, and a warm SLOAD.
    state_.set_code(
        kA, Bytes{0x60, 5, 0x60, 1, 0x55, 0x60, 1, 0x54, 0x50, 0x60, 0, 0x60, 1, 0x55, 0x00});
    StructTrace t = logged();
    ASSERT_EQ(t.logs.size(), 10U);
    const StructLog& sstore = t.logs[2];
    EXPECT_EQ(sstore.op, 0x55);
    ASSERT_TRUE(sstore.storage.has_value());
    EXPECT_EQ(sstore.storage->at(U256{1}), U256{5});
    EXPECT_EQ(sstore.gas_cost, 22100U);  // cold, zero to non-zero
    const StructLog& sload = t.logs[4];
    EXPECT_EQ(sload.op, 0x54);
    EXPECT_EQ(sload.gas_cost, 100U);  // warm
    ASSERT_TRUE(sload.storage.has_value());
    EXPECT_EQ(sload.storage->at(U256{1}), U256{5});  // the value it loaded
    EXPECT_EQ(t.logs[9].op, 0x00);
    EXPECT_EQ(t.logs[9].refund, 19900U);  // set then reset in the same transaction
    EXPECT_FALSE(t.logs[9].error.has_value());

    // An undefined opcode: the frame fails on it, and its record says so.
    state_.set_code(kA, Bytes{0x60, 1, 0x0c});
    t = logged();
    EXPECT_TRUE(t.failed);
    ASSERT_EQ(t.logs.size(), 2U);
    EXPECT_EQ(t.logs[1].op, 0x0c);
    EXPECT_EQ(t.logs[1].error, vm::Status::kUndefinedInstruction);
    // A limit keeps the first records only.
    StructLogger limited({.disable_stack = true, .limit = 1});
    MemStateReader reader(state_);
    ASSERT_TRUE(apply_transaction(reader, vm_, env_, txn_, kSender, &limited).has_value());
    const StructTrace lt = limited.result(false, 0);
    ASSERT_EQ(lt.logs.size(), 1U);
    EXPECT_FALSE(lt.logs[0].stack.has_value());
    EXPECT_FALSE(lt.truncated);  // a limit is what was asked for
    // A byte bound stops recording and says so.
    StructLogger bounded({.max_bytes = sizeof(StructLog) + sizeof(U256)});
    MemStateReader reader2(state_);
    ASSERT_TRUE(apply_transaction(reader2, vm_, env_, txn_, kSender, &bounded).has_value());
    const StructTrace bt = bounded.result(false, 0);
    EXPECT_TRUE(bt.truncated);
    EXPECT_EQ(bt.logs.size(), 1U);
}

}  // namespace
}  // namespace pel::exec
