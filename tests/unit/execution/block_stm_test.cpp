// SPDX-License-Identifier: Apache-2.0
// Block-STM: the parallel executor against the sequential reference, byte for byte (receipts,
// logs, gas, state diff) on seeded random blocks at 1, 2, 4, 8 and 16 threads; MvMemory reads,
// ESTIMATEs and balance deltas; the contention fallback; the coinbase's EIP-161 interplay with
// deferred fee credits.
#include <cstdint>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "execution/block_executor.hpp"
#include "execution/mv_memory.hpp"
#include "execution/scheduler.hpp"
#include "execution/sequential.hpp"
#include "execution/state_view_reader.hpp"
#include "primitives/keccak.hpp"
#include "state/kv_store.hpp"
#include "state/mem_state.hpp"
#include "state/state_view.hpp"
#include "vm/vm.hpp"

namespace pel::exec {
namespace {

// --- a tiny assembler
// ------------------------------------------------------------------------------

class Asm {
  public:
    Asm& op(uint8_t o) {
        code_.push_back(o);
        return *this;
    }
    Asm& push1(uint8_t v) { return op(0x60).op(v); }
    Asm& push_label(const std::string& l) {
        op(0x61);
        fixups_.emplace_back(code_.size(), l);
        return op(0).op(0);
    }
    Asm& label(const std::string& l) {
        labels_[l] = code_.size();
        return op(0x5b);
    }
    Asm& bytes(const Bytes& b) {
        code_.insert(code_.end(), b.begin(), b.end());
        return *this;
    }
    Bytes done() {
        for (const auto& [pos, l] : fixups_) {
            const size_t target = labels_.at(l);
            code_[pos] = static_cast<uint8_t>(target >> 8);
            code_[pos + 1] = static_cast<uint8_t>(target & 0xff);
        }
        return code_;
    }

  private:
    Bytes code_;
    std::map<std::string, size_t> labels_;
    std::vector<std::pair<size_t, std::string>> fixups_;
};

constexpr uint8_t kStop = 0x00, kAdd = 0x01, kSub = 0x03, kLt = 0x10, kIsZero = 0x15,
                  kBalance = 0x31, kCaller = 0x33, kCallValue = 0x34, kCallDataLoad = 0x35,
                  kCallDataSize = 0x36, kCallDataCopy = 0x37, kCodeCopy = 0x39, kCoinbase = 0x41,
                  kPop = 0x50, kMstore = 0x52, kSload = 0x54, kSstore = 0x55, kJump = 0x56,
                  kJumpi = 0x57, kGas = 0x5a, kDup1 = 0x80, kDup2 = 0x81, kDup3 = 0x82,
                  kSwap1 = 0x90, kLog2 = 0xa2, kCreate = 0xf0, kCall = 0xf1, kReturn = 0xf3,
                  kCreate2 = 0xf5, kRevert = 0xfd, kSelfDestruct = 0xff;

/// ERC-20-like transfer(to = calldata[0], amount = calldata[32]); balances at slot = address.
Bytes token_code() {
    Asm a;
    a.push1(0x20).op(kCallDataLoad).op(kCaller).op(kSload).op(kDup2).op(kDup2).op(kLt);
    a.push_label("fail").op(kJumpi);
    a.op(kDup2).op(kSwap1).op(kSub).op(kCaller).op(kSstore);
    a.push1(0).op(kCallDataLoad).op(kDup1).op(kSload).op(kDup3).op(kAdd).op(kSwap1).op(kSstore);
    a.push1(0).op(kMstore);
    a.push1(0).op(kCallDataLoad).op(kCaller).push1(0x20).push1(0).op(kLog2).op(kStop);
    a.label("fail").push1(0).push1(0).op(kRevert);
    return a.done();
}

/// slot[calldata[0]] += 1
Bytes counter_code() {
    Asm a;
    a.push1(0).op(kCallDataLoad).op(kDup1).op(kSload).push1(1).op(kAdd).op(kSwap1).op(kSstore);
    return a.op(kStop).done();
}

/// slot[caller] = balance(calldata[0]) + balance(coinbase): reads lazily credited balances.
Bytes balance_reader_code() {
    Asm a;
    a.push1(0).op(kCallDataLoad).op(kBalance).op(kCoinbase).op(kBalance).op(kAdd);
    return a.op(kCaller).op(kSstore).op(kStop).done();
}

/// calldata = salt(32) ++ initcode: CREATE2 with the salt, or CREATE when the salt is zero;
/// stores the new address (or zero) at slot[caller].
Bytes factory_code() {
    Asm a;
    a.op(kCallDataSize).push1(32).op(kSwap1).op(kSub);
    a.op(kDup1).push1(32).push1(0).op(kCallDataCopy);
    a.push1(0).op(kCallDataLoad).op(kDup1).op(kIsZero).push_label("create").op(kJumpi);
    a.op(kSwap1).push1(0).push1(0).op(kCreate2).op(kCaller).op(kSstore).op(kStop);
    a.label("create").op(kPop).push1(0).push1(0).op(kCreate).op(kCaller).op(kSstore).op(kStop);
    return a.done();
}

/// calldata = target(32) ++ input: CALL target with CALLVALUE and all gas; slot[caller] = success.
Bytes proxy_code() {
    Asm a;
    a.op(kCallDataSize).push1(32).op(kSwap1).op(kSub);
    a.op(kDup1).push1(32).push1(0).op(kCallDataCopy);
    a.push1(0).push1(0).op(kDup3).push1(0).op(kCallValue).push1(0).op(kCallDataLoad).op(kGas);
    a.op(kCall).op(kCaller).op(kSstore).op(kStop);
    return a.done();
}

Bytes selfdestruct_to_caller_code() { return Asm{}.op(kCaller).op(kSelfDestruct).done(); }

/// Init codes: deploy the counter (slot 0 = 42), self-destruct, revert, burn all gas.
Bytes init_deploy_counter() {
    const Bytes runtime = counter_code();
    const auto len = static_cast<uint8_t>(runtime.size());
    Asm a;
    a.push1(42).push1(0).op(kSstore);
    a.push1(len).push1(17).push1(0).op(kCodeCopy).push1(len).push1(0).op(kReturn);
    return a.bytes(runtime).done();
}
Bytes init_selfdestruct() { return selfdestruct_to_caller_code(); }
Bytes init_revert() { return Asm{}.push1(0).push1(0).op(kRevert).done(); }
Bytes init_burn() {
    Asm a;
    a.label("loop").push_label("loop").op(kJump);
    return a.done();
}

Bytes word(const Address& a) {
    Bytes b(32, 0);
    std::copy(a.bytes.begin(), a.bytes.end(), b.begin() + 12);
    return b;
}
Bytes word(uint64_t v) {
    Bytes b(32, 0);
    for (size_t i = 0; i < 8; ++i) {
        b[31 - i] = static_cast<uint8_t>(v >> (8 * i));
    }
    return b;
}
Bytes cat(Bytes a, const Bytes& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

Address numbered(uint32_t tag, uint32_t n) {
    Address a;
    a.bytes[0] = static_cast<uint8_t>(tag);
    for (size_t i = 0; i < 4; ++i) {
        a.bytes[19 - i] = static_cast<uint8_t>(n >> (8 * i));
    }
    return a;
}

// --- the random world and block generator
// ----------------------------------------------------------

struct World {
    state::MemState state;
    std::vector<Address> eoas;
    std::vector<Address> empties;  ///< existing empty accounts (EIP-161 cleanup targets)
    Address token = numbered(0xc1, 1);
    Address counter = numbered(0xc1, 2);
    Address reader = numbered(0xc1, 3);
    Address factory = numbered(0xc1, 4);
    Address proxy = numbered(0xc1, 5);
    Address proxy2 = numbered(0xc1, 6);
    Address destructor = numbered(0xc1, 7);
    uint32_t fresh = 0;
};

World make_world(size_t num_accounts) {
    World w;
    const U256 rich{1'000'000'000'000'000'000ULL};
    for (uint32_t i = 0; i < num_accounts; ++i) {
        const Address a = numbered(0xe0, i);
        w.eoas.push_back(a);
        w.state.set_balance(a, rich);
    }
    for (uint32_t i = 0; i < 3; ++i) {
        const Address a = numbered(0xee, i);
        w.empties.push_back(a);
        w.state.create(a);
    }
    w.state.set_code(w.token, token_code());
    w.state.set_nonce(w.token, 1);
    for (const Address& a : w.eoas) {
        w.state.set_storage(w.token, U256::from_be32(word(a).data()), U256{1'000'000});
    }
    w.state.set_code(w.counter, counter_code());
    w.state.set_code(w.reader, balance_reader_code());
    w.state.set_code(w.factory, factory_code());
    w.state.set_nonce(w.factory, 1);
    w.state.set_code(w.proxy, proxy_code());
    w.state.set_code(w.proxy2, proxy_code());
    w.state.set_code(w.destructor, selfdestruct_to_caller_code());
    w.state.set_balance(w.destructor, U256{5'000'000});
    return w;
}

struct Block {
    BlockEnv env;
    std::vector<Transaction> txns;
    std::vector<Address> senders;
};

class Generator {
  public:
    explicit Generator(uint64_t seed) : rng_(seed) {}

    uint64_t uniform(uint64_t n) { return std::uniform_int_distribution<uint64_t>(0, n - 1)(rng_); }

    /// `simple`: only transfers and calls that neither deploy nor delete anything, and a coinbase
    /// that is not an empty account (blocks whose diff Block-STM reads from its final versions).
    Block block(World& w, size_t size, bool allow_invalid, bool simple = false) {
        Block b;
        b.env.block_num = 1;
        b.env.timestamp = 1000;
        b.env.gas_limit = 4'000'000'000;
        b.env.base_fee = uniform(2);
        b.env.chain_id = 1;
        switch (simple ? 2 * uniform(2) : uniform(4)) {
            case 0:
                b.env.coinbase = w.eoas[uniform(w.eoas.size())];
                break;
            case 1:
                b.env.coinbase = w.empties[uniform(w.empties.size())];
                break;
            default:
                b.env.coinbase = numbered(0xcb, static_cast<uint32_t>(uniform(3)));
        }
        std::map<Address, uint64_t> nonces;
        const size_t invalid_at = allow_invalid ? uniform(size) : SIZE_MAX;
        // Hot senders: small worlds contend by construction; pick from a subset sometimes.
        for (size_t i = 0; i < size; ++i) {
            const Address from = w.eoas[uniform(w.eoas.size())];
            auto it = nonces.find(from);
            if (it == nonces.end()) {
                const state::MemAccount* acc = w.state.find(from);
                it = nonces.emplace(from, acc != nullptr ? acc->nonce : 0).first;
            }
            Transaction t = txn(w, b.env, simple);
            t.nonce = it->second;
            if (i == invalid_at) {
                if (uniform(2) == 0) {
                    t.nonce += 1 + uniform(2);
                } else {
                    t.value = U256{1} << 200U;
                }
            } else {
                ++it->second;
            }
            b.txns.push_back(std::move(t));
            b.senders.push_back(from);
        }
        return b;
    }

  private:
    Transaction txn(World& w, const BlockEnv& env, bool simple) {
        Transaction t;
        t.type = TxnType::kDynamicFee;
        t.chain_id = 1;
        t.max_priority_fee_per_gas = uniform(3);
        t.max_fee_per_gas = env.base_fee + t.max_priority_fee_per_gas + uniform(2);
        t.gas_limit = 300'000;
        const auto pick = [&] { return w.eoas[uniform(w.eoas.size())]; };
        const auto init = [&]() -> Bytes {
            switch (uniform(4)) {
                case 0:
                    return init_deploy_counter();
                case 1:
                    return init_selfdestruct();
                case 2:
                    return init_revert();
                default:
                    return init_burn();
            }
        };
        constexpr uint64_t kSimple[] = {0, 1, 2, 5, 6, 7, 8, 9, 12};
        switch (simple ? kSimple[uniform(std::size(kSimple))] : uniform(16)) {
            case 0:
            case 1:
            case 2:
                t.to = pick();
                t.value = 1 + uniform(1000);
                t.gas_limit = 21000 + uniform(2) * 5000;
                break;
            case 3:
                t.to = numbered(0xf0, w.fresh++);
                t.value = uniform(3);
                break;
            case 4:
                t.to = w.empties[uniform(w.empties.size())];
                t.value = uniform(2) == 0 ? U256{} : U256{7};
                break;
            case 5:
            case 6:
            case 7:
                t.to = w.token;
                t.data = cat(word(pick()), word(uniform(8) == 0 ? 5'000'000 : 1 + uniform(100)));
                break;
            case 8:
                t.to = w.counter;
                t.data = word(uniform(4) == 0 ? 0 : uniform(1000));
                if (uniform(6) == 0) {
                    t.gas_limit = 21000 + 32 * 16 + 50;  // out of gas
                }
                break;
            case 9:
                t.to = w.reader;
                t.data = word(uniform(2) == 0 ? pick() : env.coinbase);
                break;
            case 10:
                t.to = w.factory;
                t.data = cat(word(uniform(3)), init());  // salt 0 means CREATE; small salts collide
                t.gas_limit = 150'000;
                break;
            case 11:
                t.data = init();
                t.value = uniform(2);
                t.gas_limit = 120'000;
                break;
            case 12:
                // proxy -> proxy2 -> token or counter, with value through the first hop
                t.to = w.proxy;
                t.value = uniform(3);
                t.data = cat(word(w.proxy2), uniform(2) == 0
                                                 ? cat(word(w.token), cat(word(pick()), word(3)))
                                                 : cat(word(w.counter), word(uniform(3))));
                break;
            case 13:
                t.to = w.destructor;
                t.value = uniform(100);
                break;
            case 14:
                t.to = env.coinbase;
                t.value = uniform(2);
                break;
            default:
                t.to = w.proxy;
                t.value = uniform(5);
                t.data = cat(word(pick()), Bytes{});
                break;
        }
        return t;
    }

    std::mt19937_64 rng_;
};

// --- comparison
// -------------------------------------------------------------------------------------

void expect_same(const Result<BlockOutput, BlockError>& want,
                 const Result<BlockOutput, BlockError>& got, const std::string& what) {
    ASSERT_EQ(want.has_value(), got.has_value()) << what;
    if (!want) {
        EXPECT_EQ(want.error().txn_idx, got.error().txn_idx) << what;
        EXPECT_EQ(want.error().error, got.error().error) << what;
        return;
    }
    EXPECT_EQ(want->gas_used, got->gas_used) << what;
    EXPECT_EQ(want->blob_gas_used, got->blob_gas_used) << what;
    ASSERT_EQ(want->receipts.size(), got->receipts.size()) << what;
    for (size_t i = 0; i < want->receipts.size(); ++i) {
        const Receipt& a = want->receipts[i];
        const Receipt& b = got->receipts[i];
        EXPECT_EQ(a.success, b.success) << what << " txn " << i;
        EXPECT_EQ(a.gas_used, b.gas_used) << what << " txn " << i;
        EXPECT_EQ(a.cumulative_gas_used, b.cumulative_gas_used) << what << " txn " << i;
        EXPECT_EQ(a.logs, b.logs) << what << " txn " << i;
        EXPECT_EQ(a.bloom, b.bloom) << what << " txn " << i;
    }
    const auto dump = [](const TxnWrites& d) {
        std::string out;
        for (const AccountWrite& a : d.accounts) {
            out += "\n  " + a.address.to_hex() + (a.deleted ? " deleted" : "") +
                   (a.storage_cleared ? " cleared" : "") +
                   " nonce=" + std::to_string(a.info.nonce) +
                   " balance=" + a.info.balance.to_string() +
                   " slots=" + std::to_string(a.storage.size()) + (a.code ? " code" : "");
        }
        return out;
    };
    ASSERT_EQ(want->diff.accounts.size(), got->diff.accounts.size())
        << what << "\nwant:" << dump(want->diff) << "\ngot:" << dump(got->diff);
    for (size_t i = 0; i < want->diff.accounts.size(); ++i) {
        EXPECT_TRUE(want->diff.accounts[i] == got->diff.accounts[i])
            << what << " diff entry " << i << "\nwant:" << dump(want->diff)
            << "\ngot:" << dump(got->diff);
    }
}

constexpr size_t kThreadCounts[] = {1, 2, 4, 8, 16};

/// Runs `block` through the reference and every thread count; applies it to the world.
/// Returns the number of parallel runs compared.
struct Totals {
    size_t runs = 0;
    size_t fallbacks = 0;
    size_t runtime_fallbacks = 0;  ///< taken by the contention rule during execution
    uint64_t aborts = 0;
    uint64_t dependency_waits = 0;
    uint64_t re_executions = 0;
    size_t diffs_from_versions = 0;  ///< diffs read from the final versions (no in-order fold)
};

void check_block(World& w, const Block& b, SequentialExecutor& seq,
                 std::vector<std::unique_ptr<ParallelExecutor>>& par, bool check_old_oracle,
                 const std::string& what, Totals& totals) {
    MemStateConcurrentReader base(w.state);
    const auto want = seq.execute(b.env, b.txns, b.senders, base);
    for (size_t k = 0; k < par.size(); ++k) {
        const auto got = par[k]->execute(b.env, b.txns, b.senders, base);
        expect_same(want, got, what + " threads=" + std::to_string(kThreadCounts[k % 5]));
        ++totals.runs;
        if (got) {
            totals.fallbacks += got->stats.fallback.empty() ? 0U : 1U;
            totals.runtime_fallbacks +=
                got->stats.fallback == "sequential after contention" ? 1U : 0U;
            totals.aborts += got->stats.aborts;
            totals.dependency_waits += got->stats.dependency_waits;
            totals.re_executions += got->stats.re_executions;
            totals.diffs_from_versions += got->stats.diff_from_versions ? 1U : 0U;
        }
    }
    if (check_old_oracle) {
        // The overlay-based reference against the MemState one (execute_block_sequential).
        state::MemState old = w.state;
        vm::Vm vm;
        const auto r = execute_block_sequential(old, vm, b.env, b.txns, b.senders);
        EXPECT_EQ(r.has_value(), want.has_value()) << what;
        if (r && want) {
            state::MemState mine = w.state;
            apply_writes(mine, want->diff);
            EXPECT_EQ(mine.state_root(), old.state_root()) << what;
            EXPECT_EQ(r->gas_used, want->gas_used) << what;
        }
    }
    if (want) {
        apply_writes(w.state, want->diff);
    }
}

TEST(BlockStm, random_blocks_match_sequential_at_every_thread_count) {
    Generator gen(20261121);
    SequentialExecutor seq;
    // Pure Block-STM (no fallback) at every thread count, then the same with an eager fallback.
    std::vector<std::unique_ptr<ParallelExecutor>> par;
    for (const size_t t : kThreadCounts) {
        par.push_back(std::make_unique<ParallelExecutor>(ParallelOptions{t, false, 16}));
    }
    // Eager fallbacks: the contention rules with a low threshold, and (test hook) a forced
    // runtime fallback after a few executions, so the prefix-then-in-order path runs often.
    std::vector<std::unique_ptr<ParallelExecutor>> par_fallback;
    for (const size_t t : kThreadCounts) {
        ParallelOptions o{t, true, 2};
        o.test_fallback_after_executions = t % 4 == 0 ? 0 : 3 + t;
        par_fallback.push_back(std::make_unique<ParallelExecutor>(o));
    }
    const size_t world_sizes[] = {2, 3, 10, 100, 2, 1000, 10, 10000};
    size_t blocks = 0;
    Totals totals;
    for (size_t wi = 0; wi < std::size(world_sizes); ++wi) {
        World w = make_world(world_sizes[wi]);
        const size_t num_blocks = world_sizes[wi] >= 1000 ? 25 : 200;
        for (size_t bi = 0; bi < num_blocks; ++bi) {
            size_t size = 1 + gen.uniform(30);
            if (bi % 50 == 49) {
                size = 300 + gen.uniform(300);
            }
            const bool invalid = gen.uniform(25) == 0;
            const Block b = gen.block(w, size, invalid);
            const std::string what = "world " + std::to_string(wi) + " block " +
                                     std::to_string(bi) + " size " + std::to_string(size);
            check_block(w, b, seq, bi % 3 == 0 ? par_fallback : par, world_sizes[wi] <= 100, what,
                        totals);
            ++blocks;
            if (::testing::Test::HasFailure()) {
                return;
            }
        }
    }
    EXPECT_GE(blocks, 1000U);
    std::cout << "[ BlockStm ] " << blocks << " random blocks x " << std::size(kThreadCounts)
              << " thread counts = " << totals.runs << " parallel runs equal to sequential ("
              << totals.re_executions << " re-executions, " << totals.aborts << " aborts, "
              << totals.dependency_waits << " dependency waits, " << totals.fallbacks
              << " fallbacks, " << totals.runtime_fallbacks << " of them during execution, "
              << totals.diffs_from_versions << " diffs read from the final versions)\n";
    // Both diff paths must be exercised: blocks without deployments or deletions read the diff
    // from the versions, the others fold the results in order.
    EXPECT_GE(totals.diffs_from_versions, totals.runs / 20);
    EXPECT_LE(totals.diffs_from_versions, totals.runs - totals.runs / 20);
}

// Large blocks: the scheduler claims batches of indices only far from the block's end, and the
// workers complete the block themselves (diff from the final versions, receipts) only on
// fast-path blocks; both need blocks of thousands of transactions to be exercised. Pure Block-STM
// and with the fallback, at several thread counts and batch sizes, against the reference.
TEST(BlockStm, large_blocks_with_batched_claims_match_sequential) {
    Generator gen(20261122);
    SequentialExecutor seq;
    struct Config {
        size_t threads;
        size_t max_batch;
        bool fallback;
    };
    const Config configs[] = {{2, 16, false}, {2, 1, false}, {3, 4, false}, {4, 16, true}};
    std::vector<std::unique_ptr<ParallelExecutor>> par;
    for (const Config& c : configs) {
        ParallelOptions o;
        o.threads = c.threads;
        o.max_batch = c.max_batch;
        o.fallback = c.fallback;
        par.push_back(std::make_unique<ParallelExecutor>(o));
    }
    size_t from_versions = 0;
    for (const size_t accounts : {size_t{300}, size_t{5000}}) {
        World w = make_world(accounts);
        for (size_t bi = 0; bi < 3; ++bi) {
            const size_t size = 1000 + gen.uniform(1500);
            const Block b = gen.block(w, size, bi == 2, bi != 1);
            MemStateConcurrentReader base(w.state);
            const auto want = seq.execute(b.env, b.txns, b.senders, base);
            for (size_t k = 0; k < par.size(); ++k) {
                const auto got = par[k]->execute(b.env, b.txns, b.senders, base);
                expect_same(want, got,
                            "accounts " + std::to_string(accounts) + " block " +
                                std::to_string(bi) + " config " + std::to_string(k));
                from_versions += got && got->stats.diff_from_versions ? 1U : 0U;
            }
            if (::testing::Test::HasFailure()) {
                return;
            }
            if (want) {
                apply_writes(w.state, want->diff);
            }
        }
    }
    std::cout << "[ BlockStm ] large blocks: " << from_versions
              << " parallel runs read the diff from the final versions\n";
    // The simple valid blocks take that path (fallback or not); the others fold in order.
    EXPECT_GE(from_versions, 4U);
}

// --- targeted cases
// ---------------------------------------------------------------------------------

Transaction transfer_txn(const Address& to, uint64_t nonce, uint64_t value, uint64_t tip) {
    Transaction t;
    t.type = TxnType::kDynamicFee;
    t.chain_id = 1;
    t.nonce = nonce;
    t.max_priority_fee_per_gas = tip;
    t.max_fee_per_gas = 10 + tip;
    t.gas_limit = 21000;
    t.to = to;
    t.value = value;
    return t;
}

BlockEnv test_env(const Address& coinbase) {
    BlockEnv env;
    env.coinbase = coinbase;
    env.block_num = 1;
    env.gas_limit = 1'000'000'000;
    env.base_fee = 10;
    env.chain_id = 1;
    return env;
}

// The contention rule ignores the conflicts of transactions that batches may have claimed: all
// of them while batches are allowed, then those below where execution stood when the first
// conflict ended the batches, plus one batch per worker for claims that raced it.
TEST(Scheduler, batch_horizon_covers_what_batches_may_have_claimed) {
    Scheduler single(1000, 2, 1);
    EXPECT_FALSE(single.maybe_batched(0));  // no batches, no horizon
    single.limit_batches();
    EXPECT_FALSE(single.maybe_batched(0));

    Scheduler s(1000, 2, 16);
    EXPECT_TRUE(s.maybe_batched(999));  // batches allowed: any index may be in one
    // Far from the end, each worker's first claim takes 16 indices.
    const Scheduler::Task a = s.next_task(0);
    const Scheduler::Task b = s.next_task(1);
    ASSERT_EQ(a.kind, Scheduler::TaskKind::kExecute);
    ASSERT_EQ(b.kind, Scheduler::TaskKind::kExecute);
    EXPECT_EQ(a.version.txn_idx, 0U);
    EXPECT_EQ(b.version.txn_idx, 16U);
    s.limit_batches();  // execution_idx stands at 32: horizon 32 + 2 workers x 16
    EXPECT_TRUE(s.maybe_batched(0));
    EXPECT_TRUE(s.maybe_batched(63));
    EXPECT_FALSE(s.maybe_batched(64));
    EXPECT_FALSE(s.maybe_batched(999));
    s.limit_batches();  // only the first call sets it
    EXPECT_FALSE(s.maybe_batched(64));

    s.reset(40);  // a new block: batches allowed again
    EXPECT_TRUE(s.maybe_batched(39));
    s.limit_batches();  // execution_idx at 0: horizon 32
    EXPECT_TRUE(s.maybe_batched(31));
    EXPECT_FALSE(s.maybe_batched(32));
}

// Each worker validates the transactions it executed: the other leaves the sweep's transaction
// to its executor and executes meanwhile, until the sweep falls lag_limit behind.
TEST(Scheduler, the_executor_of_a_transaction_validates_it) {
    using K = Scheduler::TaskKind;
    Scheduler s(100, 2, 1);
    // The next task of `worker`, which must be of kind `kind` and for transaction `idx`.
    const auto next = [&](size_t worker, K kind, TxnIndex idx) {
        const Scheduler::Task t = s.next_task(worker);
        EXPECT_EQ(t.kind, kind);
        EXPECT_EQ(t.version.txn_idx, idx);
        return t;
    };
    const Scheduler::Task zero = next(0, K::kExecute, 0);
    const Scheduler::Task one = next(1, K::kExecute, 1);
    // 1 finishes first: the sweep stands at 0, still executing, so worker 1 executes 2.
    ASSERT_EQ(s.finish_execution(one.version, true).kind, K::kNone);
    const Scheduler::Task two = next(1, K::kExecute, 2);
    // 0 finishes: worker 0 validates it (its own), then leaves 1 (executed, worker 1's) alone.
    ASSERT_EQ(s.finish_execution(zero.version, true).kind, K::kNone);
    next(0, K::kValidate, 0);
    ASSERT_EQ(s.finish_validation(0, false).kind, K::kNone);
    const Scheduler::Task three = next(0, K::kExecute, 3);
    // Worker 1 finishes 2 and validates 1 and 2, both its own.
    ASSERT_EQ(s.finish_execution(two.version, true).kind, K::kNone);
    for (const TxnIndex own : {1U, 2U}) {
        next(1, K::kValidate, own);
        ASSERT_EQ(s.finish_validation(own, false).kind, K::kNone);
    }
    // Worker 0 is away with 3: worker 1 runs ahead, but validates 3 for it once the sweep is
    // lag_limit (8 ranges x 1 x 2 workers = 16) behind execution.
    ASSERT_EQ(s.finish_execution(three.version, true).kind, K::kNone);
    for (TxnIndex i = 4; i < 3 + 16; ++i) {
        const Scheduler::Task t = next(1, K::kExecute, i);
        ASSERT_EQ(s.finish_execution(t.version, true).kind, K::kNone);
    }
    next(1, K::kValidate, 3);
}

// reset() leaves the records of the previous block in place: each must read as a fresh
// transaction (incarnation 0, ready, nobody waiting on it) in the next block.
TEST(Scheduler, records_of_an_earlier_block_read_as_fresh) {
    Scheduler s(4, 2, 1);
    Scheduler::Task t = s.next_task(0);
    ASSERT_EQ(t.kind, Scheduler::TaskKind::kExecute);
    ASSERT_EQ(t.version, (Version{0, 0}));
    t = s.finish_execution(t.version, true);
    ASSERT_EQ(t.kind, Scheduler::TaskKind::kNone);
    t = s.next_task(0);  // validation of 0 (the sweep is behind execution)
    ASSERT_EQ(t.kind, Scheduler::TaskKind::kValidate);
    ASSERT_TRUE(s.try_validation_abort(t.version));
    t = s.finish_validation(0, true);  // re-executes 0 as incarnation 1
    ASSERT_EQ(t.kind, Scheduler::TaskKind::kExecute);
    ASSERT_EQ(t.version, (Version{0, 1}));
    t = s.finish_execution(t.version, false);  // hands back its validation
    ASSERT_EQ(t.kind, Scheduler::TaskKind::kValidate);
    t = s.finish_validation(0, false);
    ASSERT_EQ(t.kind, Scheduler::TaskKind::kNone);
    uint32_t inc = 0;
    EXPECT_TRUE(s.is_executed(0, &inc));
    EXPECT_EQ(inc, 1U);
    // Transaction 2 waits on 1, which the block leaves unexecuted.
    const Scheduler::Task one = s.next_task(0);
    ASSERT_EQ(one.kind, Scheduler::TaskKind::kExecute);
    ASSERT_EQ(one.version, (Version{1, 0}));
    const Scheduler::Task two = s.next_task(1);
    ASSERT_EQ(two.kind, Scheduler::TaskKind::kExecute);
    ASSERT_EQ(two.version, (Version{2, 0}));
    ASSERT_TRUE(s.add_dependency(2, 1));

    s.reset(4);
    EXPECT_FALSE(s.is_executed(0, &inc));
    EXPECT_EQ(inc, 0U);
    // Every transaction runs once, as incarnation 0 (one worker does all): the old block's
    // waiter on 1 is not resumed.
    std::vector<Version> executed;
    for (int steps = 0; steps < 100 && !s.done(); ++steps) {
        t = s.next_task(0);
        while (t.kind != Scheduler::TaskKind::kNone) {
            if (t.kind == Scheduler::TaskKind::kExecute) {
                executed.push_back(t.version);
                t = s.finish_execution(t.version, true);
            } else {
                t = s.finish_validation(t.version.txn_idx, false);
            }
        }
    }
    EXPECT_TRUE(s.done());
    EXPECT_EQ(executed,
              (std::vector<Version>{Version{0, 0}, Version{1, 0}, Version{2, 0}, Version{3, 0}}));
}

TEST(BlockStm, dependent_chain_falls_back_and_matches) {
    World w = make_world(2);
    Block b;
    b.env = test_env(numbered(0xcb, 0));
    for (uint64_t i = 0; i < 400; ++i) {
        const size_t s = i % 2;
        b.txns.push_back(transfer_txn(w.eoas[1 - s], i / 2, 1000 + i, 1));
        b.senders.push_back(w.eoas[s]);
    }
    MemStateConcurrentReader base(w.state);
    SequentialExecutor seq;
    ParallelExecutor par(ParallelOptions{2, true, 16});
    const auto want = seq.execute(b.env, b.txns, b.senders, base);
    ASSERT_TRUE(want.has_value());
    const auto got = par.execute(b.env, b.txns, b.senders, base);
    expect_same(want, got, "chain");
    ASSERT_TRUE(got.has_value());
    // Every transaction spends what the previous one credited: detected before execution.
    EXPECT_EQ(got->stats.fallback, "sequential (dependent block detected before execution)");
    EXPECT_EQ(got->stats.re_executions, 0U);
    // Without the pre-execution rule, Block-STM itself must still get it right.
    ParallelExecutor pure(ParallelOptions{2, false, 16});
    expect_same(want, pure.execute(b.env, b.txns, b.senders, base), "chain, no fallback");
}

TEST(BlockStm, coinbase_fee_deltas_delete_an_empty_coinbase_like_sequential) {
    // EIP-161: a zero tip to an existing empty coinbase deletes it; a later positive tip
    // re-creates it. The deferred credits must fold to the same diff.
    World w = make_world(4);
    const Address coinbase = w.empties[0];
    Block b;
    b.env = test_env(coinbase);
    b.txns = {transfer_txn(w.eoas[1], 0, 5, 0), transfer_txn(w.eoas[2], 0, 5, 0),
              transfer_txn(w.eoas[3], 0, 5, 2), transfer_txn(coinbase, 0, 0, 0)};
    b.senders = {w.eoas[0], w.eoas[3], w.eoas[1], w.eoas[2]};
    MemStateConcurrentReader base(w.state);
    SequentialExecutor seq;
    const auto want = seq.execute(b.env, b.txns, b.senders, base);
    ASSERT_TRUE(want.has_value());
    for (const size_t t : kThreadCounts) {
        ParallelExecutor par(ParallelOptions{t, false, 16});
        expect_same(want, par.execute(b.env, b.txns, b.senders, base), "coinbase");
    }
    // Only zero tips: the empty coinbase is deleted.
    Block z = b;
    z.txns = {transfer_txn(w.eoas[1], 0, 5, 0)};
    z.senders = {w.eoas[0]};
    const auto wz = seq.execute(z.env, z.txns, z.senders, base);
    ASSERT_TRUE(wz.has_value());
    bool deleted = false;
    for (const AccountWrite& a : wz->diff.accounts) {
        deleted = deleted || (a.address == coinbase && a.deleted);
    }
    EXPECT_TRUE(deleted);
    ParallelExecutor par(ParallelOptions{2, false, 16});
    expect_same(wz, par.execute(z.env, z.txns, z.senders, base), "zero tip");
}

TEST(BlockStm, invalid_nonce_reports_the_lowest_index) {
    World w = make_world(3);
    Block b;
    b.env = test_env(numbered(0xcb, 0));
    b.txns = {transfer_txn(w.eoas[1], 0, 5, 1), transfer_txn(w.eoas[2], 5, 5, 1),
              transfer_txn(w.eoas[0], 0, 5, 1)};
    b.senders = {w.eoas[0], w.eoas[1], w.eoas[2]};
    MemStateConcurrentReader base(w.state);
    SequentialExecutor seq;
    const auto want = seq.execute(b.env, b.txns, b.senders, base);
    ASSERT_FALSE(want.has_value());
    EXPECT_EQ(want.error().txn_idx, 1U);
    EXPECT_EQ(want.error().error, TxnError::kNonceTooHigh);
    for (const size_t t : kThreadCounts) {
        ParallelExecutor par(ParallelOptions{t, true, 16});
        expect_same(want, par.execute(b.env, b.txns, b.senders, base), "invalid");
    }
}

TEST(MvMemory, reads_resolve_lower_writes_estimates_and_deltas) {
    state::MemState st;
    const Address a = numbered(1, 1);
    const Address cb = numbered(1, 2);
    st.set_balance(a, U256{100});
    st.set_storage(a, U256{1}, U256{11});
    MemStateConcurrentReader base(st);
    MvMemory mv(base, 4);
    ReadSet scratch;
    // Base values below any write.
    EXPECT_EQ(mv.read_account(0, a).value->balance, U256{100});
    EXPECT_EQ(mv.read_storage(3, a, U256{1}).value, U256{11});
    // Txn 1 writes the header and slot 1; txn 2 credits a fee to the (absent) coinbase.
    TxnWrites w1;
    AccountWrite aw;
    aw.address = a;
    aw.info.balance = 50;
    aw.storage = {StorageWrite{U256{1}, U256{12}}};
    w1.accounts.push_back(aw);
    EXPECT_TRUE(mv.record(Version{1, 0}, w1, {}, scratch));
    EXPECT_TRUE(
        mv.record(Version{2, 0}, TxnWrites{}, std::vector<BalanceDelta>{{cb, U256{7}}}, scratch));
    EXPECT_EQ(mv.read_account(1, a).value->balance, U256{100});
    EXPECT_EQ(mv.read_account(2, a).value->balance, U256{50});
    EXPECT_EQ(mv.read_storage(2, a, U256{1}).value, U256{12});
    EXPECT_FALSE(mv.read_account(2, cb).value.has_value());
    EXPECT_EQ(mv.read_account(3, cb).value->balance, U256{7});
    // A zero delta on an absent account leaves it absent (EIP-161 touch).
    EXPECT_FALSE(
        mv.record(Version{2, 1}, TxnWrites{}, std::vector<BalanceDelta>{{cb, U256{}}}, scratch));
    EXPECT_FALSE(mv.read_account(3, cb).value.has_value());
    // Aborted writes become ESTIMATEs: readers above see a dependency.
    mv.convert_writes_to_estimates(1);
    EXPECT_EQ(mv.read_account(3, a).blocking, std::optional<TxnIndex>{1});
    EXPECT_EQ(mv.read_storage(3, a, U256{1}).blocking, std::optional<TxnIndex>{1});
    EXPECT_FALSE(mv.read_account(1, a).blocking.has_value());
    // Re-execution without the slot write removes it.
    w1.accounts[0].storage.clear();
    EXPECT_FALSE(mv.record(Version{1, 1}, w1, {}, scratch));
    EXPECT_EQ(mv.read_storage(3, a, U256{1}).value, U256{11});
}

// A hot location's chain, long enough that lookups below its top end in the binary search:
// written in a random order, then rewritten and shrunk by re-executions, every reader at every
// index sees the highest write below it (a std::map oracle), for the slot and the account.
TEST(MvMemory, long_chains_resolve_every_reader_whatever_the_write_order) {
    constexpr TxnIndex kTxns = 64;
    state::MemState st;
    const Address a = numbered(1, 3);
    st.set_balance(a, U256{1000});
    st.set_storage(a, U256{1}, U256{1000});
    MemStateConcurrentReader base(st);
    MvMemory mv(base, kTxns);
    ReadSet scratch;
    std::map<TxnIndex, uint64_t> oracle;  // writer -> value written
    const auto write = [&](TxnIndex t, uint32_t incarnation, std::optional<uint64_t> v) {
        TxnWrites w;
        AccountWrite aw;
        aw.address = a;
        aw.info.nonce = 1;
        aw.info.balance = U256{v.value_or(1)};
        if (v) {
            aw.storage = {StorageWrite{U256{1}, U256{*v}}};
            oracle[t] = *v;
        } else {
            oracle.erase(t);
        }
        w.accounts.push_back(aw);
        (void)mv.record(Version{t, incarnation}, w, {}, scratch);
    };
    const auto check = [&](const char* when) {
        for (TxnIndex t = 0; t <= kTxns; ++t) {
            const auto it = oracle.lower_bound(t);
            const uint64_t want = it == oracle.begin() ? 1000 : std::prev(it)->second;
            const auto slot = mv.read_storage(t, a, U256{1});
            ASSERT_FALSE(slot.blocking.has_value()) << when << ", reader " << t;
            ASSERT_EQ(slot.value, U256{want}) << when << ", reader " << t;
        }
    };
    std::vector<TxnIndex> order(kTxns);
    for (TxnIndex t = 0; t < kTxns; ++t) {
        order[t] = t;
    }
    std::mt19937 rng(11);
    std::shuffle(order.begin(), order.end(), rng);
    for (const TxnIndex t : order) {
        write(t, 0, 100 + t);
        check("after the first incarnations");
    }
    for (const TxnIndex t : {TxnIndex{0}, TxnIndex{5}, TxnIndex{31}, TxnIndex{62}, TxnIndex{63}}) {
        write(t, 1, 500 + t);  // rewritten in place
        check("after a rewrite");
    }
    for (const TxnIndex t : {TxnIndex{1}, TxnIndex{30}, TxnIndex{61}, TxnIndex{63}, TxnIndex{2}}) {
        write(t, 2, std::nullopt);  // the slot write dropped: its entry leaves the chain
        check("after a dropped write");
    }
    // The account chain is as long: every reader sees its highest writer's balance.
    for (TxnIndex t = 1; t <= kTxns; ++t) {
        const auto acc = mv.read_account(t, a);
        ASSERT_TRUE(acc.value.has_value());
        EXPECT_EQ(acc.newest_write, std::optional<TxnIndex>{t - 1});
    }
}

TEST(MvMemory, pooled_deltas_resolve_like_chain_deltas_and_reset_clears_them) {
    state::MemState st;
    const Address cb = numbered(1, 2);
    st.set_balance(cb, U256{1000});
    MemStateConcurrentReader base(st);
    MvMemory mv(base, 6, 1, &cb);
    ReadSet scratch;
    const auto credit = [&](Version v, uint64_t amount) {
        return mv.record(v, TxnWrites{}, std::vector<BalanceDelta>{{cb, U256{amount}}}, scratch);
    };
    // Txns 0 and 2 credit the pooled address; txn 3 writes it in full; txn 4 credits again.
    EXPECT_TRUE(credit(Version{0, 0}, 5));
    EXPECT_TRUE(credit(Version{2, 0}, 7));
    TxnWrites full;
    AccountWrite aw;
    aw.address = cb;
    aw.info.balance = 1;
    full.accounts.push_back(aw);
    EXPECT_TRUE(mv.record(Version{3, 0}, full, {}, scratch));
    EXPECT_TRUE(credit(Version{4, 0}, 11));
    EXPECT_TRUE(mv.read_account(0, cb).from_base);
    EXPECT_EQ(mv.read_account(0, cb).value->balance, U256{1000});
    EXPECT_FALSE(mv.read_account(1, cb).from_base);
    EXPECT_EQ(mv.read_account(1, cb).value->balance, U256{1005});
    EXPECT_EQ(mv.read_account(3, cb).value->balance, U256{1012});
    EXPECT_EQ(mv.read_account(4, cb).value->balance, U256{1});  // the full write hides 0 and 2
    EXPECT_EQ(mv.read_account(5, cb).value->balance, U256{12});
    // An aborted credit is an ESTIMATE for readers above it (not below the full write's reach).
    mv.convert_writes_to_estimates(2);
    EXPECT_EQ(mv.read_account(3, cb).blocking, std::optional<TxnIndex>{2});
    EXPECT_FALSE(mv.read_account(5, cb).blocking.has_value());
    // Re-executed without the credit: gone, and nothing new was written.
    EXPECT_FALSE(mv.record(Version{2, 1}, TxnWrites{}, {}, scratch));
    EXPECT_EQ(mv.read_account(3, cb).value->balance, U256{1005});
    // Re-executed with it again: a new location for the scheduler.
    EXPECT_TRUE(credit(Version{2, 2}, 3));
    EXPECT_EQ(mv.read_account(3, cb).value->balance, U256{1008});
    // A new block on the same memory starts empty.
    mv.reset(base, 3, &cb);
    EXPECT_TRUE(mv.read_account(2, cb).from_base);
    EXPECT_EQ(mv.read_account(2, cb).value->balance, U256{1000});
    EXPECT_TRUE(credit(Version{1, 0}, 2));
    EXPECT_EQ(mv.read_account(2, cb).value->balance, U256{1002});
}

/// An MvMemory for `n` transactions over a base state with one account `a` that has a nonce and
/// slot 1 = 11.
struct SlotWorld {
    explicit SlotWorld(size_t n) : mv(base, n) {}
    static state::MemState make_state(const Address& a) {
        state::MemState st;
        st.set_nonce(a, 1);
        st.set_storage(a, U256{1}, U256{11});
        return st;
    }
    const Address a = numbered(1, 1);
    state::MemState st = make_state(a);
    MemStateConcurrentReader base{st};
    MvMemory mv;
    ReadSet scratch;
};

/// The write set of one transaction that sets `a`'s header (no code, the given nonce).
TxnWrites header_write(const Address& a, uint64_t nonce) {
    TxnWrites w;
    AccountWrite& h = w.accounts.emplace_back();
    h.address = a;
    h.info.nonce = nonce;
    return w;
}

/// Runs transaction `t` as the reads `read(reader)` make it (no writes), records it (nothing
/// new) and validates it.
template <class F>
void record_reads(MvMemory& mv, TxnIndex t, F&& read) {
    ReadSet reads;
    {
        MvReader reader(mv, t, reads);
        std::forward<F>(read)(reader);
    }
    EXPECT_FALSE(mv.record(Version{t, 0}, TxnWrites{}, {}, reads));
    EXPECT_TRUE(mv.validate_read_set(t, nullptr));
}

/// The write set of one transaction that deletes `a`.
TxnWrites deletion_of(const Address& a) {
    TxnWrites w;
    AccountWrite& d = w.accounts.emplace_back();
    d.address = a;
    d.deleted = true;
    return w;
}

TEST(MvMemory, deleted_account_clears_storage_above_it) {
    SlotWorld sw(4);
    const Address& a = sw.a;
    MvMemory& mv = sw.mv;
    ReadSet& scratch = sw.scratch;
    EXPECT_TRUE(mv.record(Version{1, 0}, deletion_of(a), {}, scratch));
    EXPECT_EQ(mv.read_storage(1, a, U256{1}).value, U256{11});
    EXPECT_EQ(mv.read_storage(2, a, U256{1}).value, U256{});
    EXPECT_TRUE(mv.has_storage(1, a).value);
    EXPECT_FALSE(mv.has_storage(2, a).value);
    EXPECT_FALSE(mv.read_account(2, a).value.has_value());
}

TEST(MvMemory, clearing_write_is_new_and_fails_slot_reads_made_before_it) {
    // Txn 2 reads slot 1 of `a` (base 11) while no clear is recorded; then txn 1's re-execution
    // deletes `a`, writing the same location (the header) as its first incarnation. The record
    // must still report a new location (so txn 2 is validated again), and that validation must
    // see the clear.
    SlotWorld sw(3);
    const Address& a = sw.a;
    MvMemory& mv = sw.mv;
    ReadSet& scratch = sw.scratch;
    EXPECT_TRUE(mv.record(Version{1, 0}, header_write(a, 2), {}, scratch));
    record_reads(mv, 2, [&](MvReader& r) { EXPECT_EQ(r.read_storage(a, U256{1}), U256{11}); });
    EXPECT_TRUE(mv.record(Version{1, 1}, deletion_of(a), {}, scratch));
    Location where;
    EXPECT_FALSE(mv.validate_read_set(2, &where));
    EXPECT_EQ(where.address, a);
    EXPECT_EQ(where.slot, std::optional<U256>{U256{1}});
    EXPECT_EQ(mv.read_storage(2, a, U256{1}).value, U256{});
    // Written again the same way: a clearing write always counts as new.
    EXPECT_TRUE(mv.record(Version{1, 2}, deletion_of(a), {}, scratch));
}

TEST(MvMemory, code_hash_reads_come_from_base_until_a_complex_write_and_then_fail) {
    // Txn 3 reads the code hash of `a` (no code in the base state) while the block has no
    // complex write: the read is the base state's and validates without a lookup, also after
    // lower transactions wrote and credited `a`. Then txn 1's re-execution deploys code at `a`,
    // writing the same location as its first incarnation: the record must report a new location
    // (so txn 3 is validated again), and that validation must see the new code hash.
    SlotWorld sw(4);
    EXPECT_TRUE(sw.mv.record(Version{1, 0}, header_write(sw.a, 2), {}, sw.scratch));
    record_reads(sw.mv, 3, [&](MvReader& r) {
        EXPECT_EQ(r.read_code_hash(sw.a), kEmptyCodeHash);
        EXPECT_FALSE(r.newest_source().has_value());  // the base state's answer
    });
    const std::vector<BalanceDelta> credit{{sw.a, U256{7}}};
    EXPECT_TRUE(sw.mv.record(Version{2, 0}, TxnWrites{}, credit, sw.scratch));
    EXPECT_TRUE(sw.mv.validate_read_set(3, nullptr));

    TxnWrites deploy = header_write(sw.a, 2);
    AccountWrite& code = deploy.accounts.front();
    code.code = Bytes{0x60, 0x00};
    code.info.code_hash = keccak256(*code.code);
    EXPECT_TRUE(sw.mv.record(Version{1, 1}, deploy, {}, sw.scratch));
    EXPECT_TRUE(sw.mv.has_complex_writes());
    EXPECT_FALSE(sw.mv.stable_code_hash(sw.a).has_value());
    Location where;
    EXPECT_FALSE(sw.mv.validate_read_set(3, &where));
    EXPECT_EQ(where, (Location{sw.a, std::nullopt}));
    ReadSet again;
    MvReader reader(sw.mv, 3, again);
    EXPECT_EQ(reader.read_code_hash(sw.a), code.info.code_hash);
}

TEST(BlockStm, state_view_base_and_state_diff_commit_match_mem_state) {
    // Base state in a StateStore (in-memory KvStore); blocks executed by Block-STM over a
    // StateView, their diffs committed with to_state_diff; roots must follow MemState's.
    World w = make_world(50);
    state::StateDiff genesis;
    for (const auto& [addr, acc] : w.state.accounts()) {
        state::AccountDiff& d = genesis.accounts[addr];
        d.nonce = acc.nonce;
        d.balance = acc.balance;
        if (!acc.code.empty()) {
            d.code = state::CodeChange{acc.code_hash, acc.code};
        }
        for (const auto& [k, v] : acc.storage) {
            d.storage[k] = v;
        }
    }
    state::StateStoreOptions opts;
    opts.sync = false;
    auto store = state::StateStore::open(state::make_mem_kv_store(), opts);
    ASSERT_TRUE(store.has_value()) << store.error().message;
    auto root = (*store)->commit(0, genesis);
    ASSERT_TRUE(root.has_value()) << root.error().message;
    ASSERT_EQ(*root, w.state.state_root());
    Generator gen(77);
    SequentialExecutor seq;
    ParallelExecutor par(ParallelOptions{2, true, 16});
    for (uint64_t bn = 1; bn <= 12; ++bn) {
        const Block b = gen.block(w, 1 + gen.uniform(40), false);
        const auto view = (*store)->view();
        StateViewReader base(*view);
        const auto got = par.execute(b.env, b.txns, b.senders, base);
        ASSERT_FALSE(base.error().has_value());
        MemStateConcurrentReader mem(w.state);
        const auto want = seq.execute(b.env, b.txns, b.senders, mem);
        expect_same(want, got, "state view block " + std::to_string(bn));
        ASSERT_TRUE(got.has_value());
        apply_writes(w.state, want->diff);
        root = (*store)->commit(bn, to_state_diff(got->diff));
        ASSERT_TRUE(root.has_value()) << root.error().message;
        EXPECT_EQ(*root, w.state.state_root()) << "block " << bn;
    }
}

TEST(BlockStm, lazy_value_credits_to_a_hot_recipient_match_sequential) {
    // Plain transfers from distinct senders into one recipient (absent, an empty account, the
    // coinbase) are lazy deltas; a contract reads the recipient's and the coinbase's balances
    // half-way and at the end, which must resolve every delta below it.
    World w = make_world(64);
    for (const Address& hot : {numbered(0xf1, 1), w.empties[1], numbered(0xcb, 0)}) {
        Block b;
        b.env = test_env(numbered(0xcb, 0));
        for (uint64_t i = 0; i < 60; ++i) {
            b.txns.push_back(transfer_txn(hot, 0, 1 + i, i % 3));
            b.senders.push_back(w.eoas[i]);
            if (i == 30 || i == 59) {
                Transaction r = transfer_txn(w.reader, 0, 0, 1);
                r.gas_limit = 100'000;
                r.data = word(hot);
                b.txns.push_back(r);
                b.senders.push_back(w.eoas[i == 30 ? 60 : 61]);
            }
        }
        MemStateConcurrentReader base(w.state);
        SequentialExecutor seq;
        const auto want = seq.execute(b.env, b.txns, b.senders, base);
        ASSERT_TRUE(want.has_value());
        for (const size_t t : kThreadCounts) {
            for (const bool fallback : {false, true}) {
                ParallelExecutor par(ParallelOptions{t, fallback, 16});
                const auto got = par.execute(b.env, b.txns, b.senders, base);
                expect_same(want, got, "hot recipient " + hot.to_hex());
                ASSERT_TRUE(got.has_value());
                EXPECT_NE(got->stats.fallback,
                          "sequential (dependent block detected before execution)");
            }
        }
    }
}

TEST(BlockStm, recover_senders_in_parallel) {
    std::vector<Transaction> txns;
    std::vector<Address> want;
    for (uint8_t i = 1; i <= 70; ++i) {  // more than two chunks of 32
        Transaction t = transfer_txn(numbered(9, i), 0, 1, 1);
        Hash32 key;
        key.bytes[31] = i;
        ASSERT_TRUE(sign_transaction(t, key).has_value());
        want.push_back(recover_sender(t).value());
        txns.push_back(std::move(t));
    }
    const auto got = recover_senders(txns, 2);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(*got, want);
    EXPECT_EQ(recover_senders(txns, 1).value(), want);
    txns[65].signature.r = U256{};
    txns[40].signature.s = crypto::kSecp256k1N;
    for (const size_t threads : {size_t{1}, size_t{2}}) {
        const auto bad = recover_senders(txns, threads);
        ASSERT_FALSE(bad.has_value());
        EXPECT_EQ(bad.error(), 40U);  // the first that does not recover
    }
}

}  // namespace
}  // namespace pel::exec
