// SPDX-License-Identifier: Apache-2.0
#include "bench/gen/workload.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <span>
#include <thread>
#include <unordered_map>
#include <utility>

#include "contracts/bench_token.hpp"
#include "contracts/pel_lending_market.hpp"
#include "contracts/pel_oracle.hpp"
#include "contracts/pel_pair.hpp"
#include "contracts/pel_router.hpp"
#include "execution/block_executor.hpp"
#include "execution/host.hpp"
#include "execution/sequential.hpp"
#include "primitives/hex.hpp"
#include "primitives/keccak.hpp"
#include "primitives/secp256k1.hpp"
#include "primitives/u256.hpp"
#include "vm/host.hpp"
#include "vm/vm.hpp"

namespace pel::bench {
namespace {

namespace token = contracts::bench_token;
namespace pair_c = contracts::pel_pair;
namespace router_c = contracts::pel_router;
namespace market_c = contracts::pel_lending_market;
namespace oracle_c = contracts::pel_oracle;

// Every selector the generator sends must exist in the committed ABI (checked at compile time).
constexpr uint32_t kTransfer = token::selector("transfer(address,uint256)");
constexpr uint32_t kApprove = token::selector("approve(address,uint256)");
constexpr uint32_t kSync = pair_c::selector("sync()");
constexpr uint32_t kSwapExactIn =
    router_c::selector("swapExactIn(address,address,uint256,uint256,address)");
constexpr uint32_t kSetPrice = oracle_c::selector("setPrice(uint256)");
constexpr uint32_t kDeposit = market_c::selector("deposit(uint256)");
constexpr uint32_t kSupplyCollateral = market_c::selector("supplyCollateral()");
constexpr uint32_t kBorrow = market_c::selector("borrow(uint256)");
constexpr uint32_t kRepay = market_c::selector("repay(uint256)");
constexpr uint32_t kLiquidate = market_c::selector("liquidate(address,uint256)");
static_assert(kTransfer != 0 && kApprove != 0 && kSync != 0 && kSwapExactIn != 0 &&
              kSetPrice != 0 && kDeposit != 0 && kSupplyCollateral != 0 && kBorrow != 0 &&
              kRepay != 0 && kLiquidate != 0);

constexpr uint64_t kChainId = 1;
constexpr uint64_t kMaxFee = 20;
constexpr uint64_t kPriorityFee = 2;
constexpr uint64_t kBaseFee = 7;

/// 10^18: one ether in wei, one token in base units (18 decimals).
constexpr U256 kUnit{1'000'000'000'000'000'000ULL};

U256 units(uint64_t n) { return kUnit * U256{n}; }
U256 pow10(unsigned e) {
    U256 v{1};
    for (unsigned i = 0; i < e; ++i) {
        v *= U256{10};
    }
    return v;
}

Bytes hex_bytes(std::string_view hex) {
    Result<Bytes> r = from_hex(hex);
    if (!r) {
        std::fprintf(stderr, "pel-bench: bad hex in a generated contract header\n");
        std::abort();
    }
    return std::move(r).value();
}

/// ABI call data: a selector, then 32-byte words.
class Abi {
  public:
    explicit Abi(uint32_t selector) {
        for (int shift = 24; shift >= 0; shift -= 8) {
            data_.push_back(static_cast<uint8_t>(selector >> shift));
        }
    }
    /// Constructor arguments after creation code.
    explicit Abi(Bytes code) : data_(std::move(code)) {}
    Abi& word(const U256& v) {
        std::array<uint8_t, 32> w{};
        v.to_be32(w.data());
        data_.insert(data_.end(), w.begin(), w.end());
        return *this;
    }
    Abi& addr(const Address& a) {
        data_.insert(data_.end(), 12, 0);
        data_.insert(data_.end(), a.bytes.begin(), a.bytes.end());
        return *this;
    }
    Bytes take() { return std::move(data_); }

  private:
    Bytes data_;
};

/// A transaction of the measured block before its nonce and signature.
struct Intent {
    size_t signer = 0;  ///< key index
    Address to;
    U256 value;
    Bytes data;
    uint64_t gas_limit = 0;
};

/// The accounts, the state under construction and the setup queue.
class World {
  public:
    World(size_t users, uint64_t seed) : rng_(seed), users_(users) {
        secrets_.resize(users + 1);
        addrs_.resize(users + 1);
        for (size_t i = 0; i <= users; ++i) {
            const std::string label = i == users ? std::string("pel-bench deployer")
                                                 : "pel-bench account " + std::to_string(i);
            secrets_[i] = keccak256(as_bytes(label));
        }
        // Key derivation is an EC multiplication per account: split over two threads.
        const auto derive = [&](size_t from, size_t to) {
            for (size_t i = from; i < to; ++i) {
                Result<Address> a = crypto::address_from_secret(secrets_[i]);
                if (!a) {
                    std::fprintf(stderr, "pel-bench: key %zu is not a valid secret\n", i);
                    std::abort();
                }
                addrs_[i] = *a;
            }
        };
        const size_t half = (users + 1) / 2;
        std::thread t(derive, half, users + 1);
        derive(0, half);
        t.join();
        for (size_t i = 0; i <= users; ++i) {
            state_.set_balance(addrs_[i], units(1'000'000));
        }
        coinbase_ = Address::from_hex("0xc0ffee0000000000000000000000000000000000").value();
    }

    std::mt19937_64& rng() { return rng_; }
    [[nodiscard]] size_t users() const { return users_; }
    [[nodiscard]] const Address& user(size_t i) const { return addrs_[i]; }
    [[nodiscard]] size_t deployer_key() const { return users_; }
    [[nodiscard]] const Address& deployer() const { return addrs_[users_]; }

    /// Uniform in [0, n).
    size_t pick(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }
    /// True with probability p.
    bool chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }

    /// Queues a setup call (executed, unsigned, by finish() before the block).
    void setup_call(const Address& from, const Address& to, Bytes data, const U256& value = {}) {
        Transaction t = base_txn(from, 2'000'000);
        t.to = to;
        t.value = value;
        t.data = std::move(data);
        setup_.push_back(std::move(t));
        setup_from_.push_back(from);
    }

    /// Queues a contract creation by the deployer; returns the new contract's address.
    Address setup_deploy(Bytes creation_with_args) {
        const uint64_t nonce = nonces_[deployer()];
        Transaction t = base_txn(deployer(), 10'000'000);
        t.data = std::move(creation_with_args);
        setup_.push_back(std::move(t));
        setup_from_.push_back(deployer());
        return exec::create_address(deployer(), nonce);
    }

    void intend(size_t signer, const Address& to, Bytes data, const U256& value, uint64_t gas) {
        intents_.push_back(Intent{signer, to, value, std::move(data), gas});
    }
    [[nodiscard]] size_t intents() const { return intents_.size(); }

    /// Runs the setup queue in blocks of the sequential executor (every transaction must
    /// succeed), then signs the intents with nonces after the setup's.
    Result<Block> finish(std::string shape) {
        Block b;
        for (size_t from = 0; from < setup_.size(); from += kSetupBlock) {
            const size_t n = std::min(kSetupBlock, setup_.size() - from);
            exec::BlockEnv env = make_env();
            env.gas_limit = int64_t{1} << 50;
            const std::span<const Transaction> txns(setup_.data() + from, n);
            const std::span<const Address> senders(setup_from_.data() + from, n);
            exec::MemStateConcurrentReader base(state_);
            exec::SequentialExecutor seq;
            auto out = seq.execute(env, txns, senders, base);
            if (!out) {
                return make_error("pel-bench: setup transaction ", from + out.error().txn_idx,
                                  " is invalid: ", exec::to_string(out.error().error));
            }
            for (size_t i = 0; i < n; ++i) {
                if (!out->receipts[i].success) {
                    const Transaction& t = setup_[from + i];
                    return make_error(
                        "pel-bench: setup transaction ", from + i, " from ",
                        to_hex(setup_from_[from + i].bytes), " to ",
                        t.to ? to_hex(t.to->bytes) : std::string("(create)"), " calldata ",
                        to_hex(ByteView(t.data.data(), std::min<size_t>(t.data.size(), 36))),
                        " failed: ", why_failed(env, txns.first(i + 1), senders.first(i + 1)),
                        " (a generator bug)");
                }
            }
            exec::apply_writes(state_, out->diff);
            ++block_num_;
        }
        b.setup_txns = setup_.size();
        b.env = make_env();
        uint64_t gas = 0;
        b.txns.reserve(intents_.size());
        b.senders.reserve(intents_.size());
        for (Intent& in : intents_) {
            const Address& from = addrs_[in.signer];
            Transaction t = base_txn(from, in.gas_limit);
            t.to = in.to;
            t.value = in.value;
            t.data = std::move(in.data);
            gas += in.gas_limit;
            b.txns.push_back(std::move(t));
            b.senders.push_back(from);
        }
        b.env.gas_limit = static_cast<int64_t>(std::max<uint64_t>(gas, 30'000'000));
        // Sign on two threads (an ECDSA signature per transaction).
        bool ok = true;
        const auto sign = [&](size_t from, size_t to, bool& good) {
            for (size_t i = from; i < to; ++i) {
                if (!sign_transaction(b.txns[i], secrets_[intents_[i].signer])) {
                    good = false;
                }
            }
        };
        bool ok2 = true;
        const size_t half = b.txns.size() / 2;
        std::thread t(sign, half, b.txns.size(), std::ref(ok2));
        sign(0, half, ok);
        t.join();
        if (!ok || !ok2) {
            return make_error("pel-bench: signing failed");
        }
        b.state = std::move(state_);
        b.shape = std::move(shape);
        return b;
    }

  private:
    static constexpr size_t kSetupBlock = 4096;

    /// Re-runs `txns` on a copy of the state and says how the last one ended: the revert reason
    /// (Error(string)) or the status.
    std::string why_failed(const exec::BlockEnv& env, std::span<const Transaction> txns,
                           std::span<const Address> senders) const {
        state::MemState copy = state_;
        vm::Vm vm;
        exec::TopFrameTracer last;
        (void)exec::execute_block_sequential(copy, vm, env, txns, senders, &last);
        constexpr uint32_t kErrorSelector = 0x08c379a0;  // Error(string)
        const Bytes& o = last.output;
        if (last.status == vm::Status::kRevert && o.size() >= 68 &&
            (uint32_t{o[0]} << 24 | uint32_t{o[1]} << 16 | uint32_t{o[2]} << 8 | o[3]) ==
                kErrorSelector) {
            const U256 len = U256::from_be32(o.data() + 36);
            if (len.fits_u64() && 68 + len.limbs[0] <= o.size()) {
                return "revert \"" +
                       std::string(o.begin() + 68,
                                   o.begin() + 68 + static_cast<std::ptrdiff_t>(len.limbs[0])) +
                       "\"";
            }
        }
        return "status " + std::to_string(static_cast<int>(last.status)) + ", output " +
               to_hex(last.output);
    }

    exec::BlockEnv make_env() const {
        exec::BlockEnv env;
        env.coinbase = coinbase_;
        env.block_num = block_num_;
        env.timestamp = 1'700'000'000 + 12 * block_num_;
        env.gas_limit = 30'000'000;
        env.base_fee = kBaseFee;
        env.chain_id = kChainId;
        return env;
    }

    Transaction base_txn(const Address& from, uint64_t gas) {
        Transaction t;
        t.type = TxnType::kDynamicFee;
        t.chain_id = kChainId;
        t.nonce = nonces_[from]++;
        t.max_priority_fee_per_gas = kPriorityFee;
        t.max_fee_per_gas = kMaxFee;
        t.gas_limit = gas;
        return t;
    }

    std::mt19937_64 rng_;
    size_t users_;
    std::vector<Hash32> secrets_;
    std::vector<Address> addrs_;
    Address coinbase_;
    state::MemState state_;
    std::unordered_map<Address, uint64_t> nonces_;
    std::vector<Transaction> setup_;
    std::vector<Address> setup_from_;
    std::vector<Intent> intents_;
    int64_t block_num_ = 1;
};

/// Senders in a shuffled round robin: every account sends once before any sends twice (as in a
/// real block, where most senders appear once).
class SenderOrder {
  public:
    SenderOrder(World& w, std::vector<size_t> candidates) : order_(std::move(candidates)) {
        std::shuffle(order_.begin(), order_.end(), w.rng());
    }
    size_t next() { return order_[i_++ % order_.size()]; }
    [[nodiscard]] bool empty() const { return order_.empty(); }

  private:
    std::vector<size_t> order_;
    size_t i_ = 0;
};

std::vector<size_t> iota(size_t n) {
    std::vector<size_t> v(n);
    for (size_t i = 0; i < n; ++i) {
        v[i] = i;
    }
    return v;
}

/// A recipient other than `from`, uniform over the other accounts.
size_t other(World& w, size_t from) {
    size_t to = w.pick(w.users() - 1);
    return to >= from ? to + 1 : to;
}

// --- ERC-20 ------------------------------------------------------------------------------------

constexpr uint64_t kErc20Gas = 100'000;

struct Erc20 {
    Address token;
    std::vector<bool> funded;

    explicit Erc20(World& w) : funded(w.users(), false) {
        token = w.setup_deploy(Abi(hex_bytes(token::kCreationCodeHex)).word(pow10(40)).take());
    }
    /// The holder gets 1,000 tokens from the deployer in setup (once).
    void fund(World& w, size_t u) {
        if (!funded[u]) {
            funded[u] = true;
            w.setup_call(w.deployer(), token,
                         Abi(kTransfer).addr(w.user(u)).word(units(1000)).take());
        }
    }
    void transfer(World& w, size_t from, size_t to, uint64_t amount) {
        fund(w, from);
        w.intend(from, token, Abi(kTransfer).addr(w.user(to)).word(U256{amount}).take(), {},
                 kErc20Gas);
    }
};

// --- AMM -----------------------------------------------------------------------------------------

constexpr uint64_t kSwapGas = 300'000;

/// Tokens T0..TP, pair p trades T0 against T(p+1) (like WETH against many tokens), one router.
struct Amm {
    std::vector<Address> tokens;
    std::vector<Address> pairs;
    Address router;
    std::set<std::pair<size_t, size_t>> funded;  ///< (user, token index)
    size_t swaps = 0;

    Amm(World& w, size_t pools) {
        for (size_t i = 0; i <= pools; ++i) {
            tokens.push_back(
                w.setup_deploy(Abi(hex_bytes(token::kCreationCodeHex)).word(pow10(40)).take()));
        }
        for (size_t p = 0; p < pools; ++p) {
            pairs.push_back(w.setup_deploy(Abi(hex_bytes(pair_c::kCreationCodeHex))
                                               .addr(tokens[0])
                                               .addr(tokens[p + 1])
                                               .take()));
        }
        router = w.setup_deploy(hex_bytes(router_c::kCreationCodeHex));
        // Liquidity: one million of each token in every pair.
        for (size_t p = 0; p < pools; ++p) {
            for (const size_t t : {size_t{0}, p + 1}) {
                w.setup_call(w.deployer(), tokens[t],
                             Abi(kTransfer).addr(pairs[p]).word(units(1'000'000)).take());
            }
            w.setup_call(w.deployer(), pairs[p], Abi(kSync).take());
        }
    }

    /// A swap of 0.01..1 token on `pool` in a random direction by user `u`.
    void swap(World& w, size_t u, size_t pool) {
        const size_t tin = w.chance(0.5) ? 0 : pool + 1;
        if (funded.insert({u, tin}).second) {
            // 10,000 tokens and an unlimited approval of the router, once per (user, token).
            w.setup_call(w.deployer(), tokens[tin],
                         Abi(kTransfer).addr(w.user(u)).word(units(10'000)).take());
            w.setup_call(w.user(u), tokens[tin],
                         Abi(kApprove).addr(router).word(U256::max()).take());
        }
        const U256 amount = pow10(16) * U256{1 + w.pick(100)};
        w.intend(u, router,
                 Abi(kSwapExactIn)
                     .addr(pairs[pool])
                     .addr(tokens[tin])
                     .word(amount)
                     .word(U256{1})
                     .addr(w.user(u))
                     .take(),
                 {}, kSwapGas);
        ++swaps;
    }
};

// --- lending -------------------------------------------------------------------------------------

constexpr uint64_t kLendingGas = 300'000;

/// Price of one ether in asset units before and after the mid-block drop; collateral factor 80%.
constexpr uint64_t kPriceBefore = 2000;
constexpr uint64_t kPriceAfter = 1500;
constexpr uint64_t kFactorPercent = 80;

/// One asset token, one oracle, `markets` markets; user u belongs to market u % markets. Every
/// tenth user of a market ((u / markets) % 10 == 9) is "risky": it borrowed 15,000 against 10
/// ether, under the limit at 2,000 (16,000) and over it after the drop to 1,500 (12,000), so it can
/// be liquidated once the oracle update has run. The others borrowed 4,000 and act in the block.
/// The generator tracks each safe user's balance, debt and collateral so that every action
/// succeeds.
struct Lending {
    struct User {
        bool risky = false;
        bool set_up = false;
        bool liquidated = false;
        uint64_t balance = 0;     ///< asset tokens held (whole units)
        uint64_t debt = 0;        ///< principal borrowed (whole units; interest is negligible)
        uint64_t collateral = 0;  ///< ether
    };

    Address asset;
    Address oracle;
    std::vector<Address> markets;
    std::vector<User> users;
    std::vector<std::vector<size_t>> risky_by_market;
    std::vector<size_t> safe;  ///< safe user indices
    size_t risky_left = 0;
    bool dropped = false;
    std::map<std::string, size_t> counts;

    Lending(World& w, size_t market_count) : users(w.users()), risky_by_market(market_count) {
        asset = w.setup_deploy(Abi(hex_bytes(token::kCreationCodeHex)).word(pow10(40)).take());
        oracle = w.setup_deploy(
            Abi(hex_bytes(oracle_c::kCreationCodeHex)).word(units(kPriceBefore)).take());
        for (size_t m = 0; m < market_count; ++m) {
            // Interest: 1e-9 per block.
            markets.push_back(w.setup_deploy(Abi(hex_bytes(market_c::kCreationCodeHex))
                                                 .addr(asset)
                                                 .addr(oracle)
                                                 .word(pow10(16) * U256{kFactorPercent})
                                                 .word(pow10(9))
                                                 .take()));
            // A billion of liquidity from the deployer (borrows are at most 15,000 a user).
            w.setup_call(w.deployer(), asset,
                         Abi(kApprove).addr(markets[m]).word(U256::max()).take());
            w.setup_call(w.deployer(), markets[m], Abi(kDeposit).word(units(1'000'000'000)).take());
        }
        for (size_t u = 0; u < users.size(); ++u) {
            // Every tenth user of each market (market = u % markets, rank = u / markets).
            users[u].risky = (u / market_count) % 10 == 9;
            if (users[u].risky) {
                set_up(w, u);
                risky_by_market[u % market_count].push_back(u);
                ++risky_left;
            } else {
                safe.push_back(u);
            }
        }
    }

    [[nodiscard]] const Address& market_of(size_t u) const { return markets[u % markets.size()]; }

    /// Setup of a user: 100,000 asset tokens, approval of its market, 10 ether of collateral
    /// and a borrow (15,000 risky, 4,000 safe). Safe users are set up on first use.
    void set_up(World& w, size_t u) {
        User& s = users[u];
        if (s.set_up) {
            return;
        }
        s.set_up = true;
        const Address& m = market_of(u);
        w.setup_call(w.deployer(), asset,
                     Abi(kTransfer).addr(w.user(u)).word(units(100'000)).take());
        w.setup_call(w.user(u), asset, Abi(kApprove).addr(m).word(U256::max()).take());
        w.setup_call(w.user(u), m, Abi(kSupplyCollateral).take(), units(10));
        const uint64_t borrow = s.risky ? 15'000 : 4'000;
        w.setup_call(w.user(u), m, Abi(kBorrow).word(units(borrow)).take());
        s.balance = 100'000 + borrow;
        s.debt = borrow;
        s.collateral = 10;
    }

    /// The borrow limit after the price drop (the lower one), in whole units.
    static uint64_t limit_after_drop(const User& s) {
        return s.collateral * kPriceAfter * kFactorPercent / 100;
    }

    void drop_price(World& w) {
        w.intend(w.deployer_key(), oracle, Abi(kSetPrice).word(units(kPriceAfter)).take(), {},
                 kLendingGas);
        dropped = true;
        ++counts["price drops"];
    }

    /// One action by safe user `u`: a liquidation (after the drop, with probability 0.2 while a
    /// risky borrower of its market is left), else deposit / collateral / borrow / repay at
    /// random, falling back to adding collateral when the chosen action is not possible.
    void act(World& w, size_t u) {
        set_up(w, u);
        User& s = users[u];
        const Address& m = market_of(u);
        std::vector<size_t>& risky = risky_by_market[u % markets.size()];
        if (dropped && !risky.empty() && s.balance >= 5'000 && w.chance(0.2)) {
            const size_t b = risky.back();
            risky.pop_back();
            --risky_left;
            users[b].liquidated = true;
            // 5,000 of a 15,000 debt (close factor 50%); seizes 5,000 * 1.08 / 1,500 = 3.6 ether.
            w.intend(u, m, Abi(kLiquidate).addr(w.user(b)).word(units(5'000)).take(), {},
                     kLendingGas);
            s.balance -= 5'000;
            ++counts["liquidations"];
            return;
        }
        switch (w.pick(4)) {
            case 0:
                if (s.balance >= 1'000) {
                    w.intend(u, m, Abi(kDeposit).word(units(1'000)).take(), {}, kLendingGas);
                    s.balance -= 1'000;
                    ++counts["deposits"];
                    return;
                }
                break;
            case 1:
                // Borrow 100 while the debt stays under 95% of the post-drop limit.
                if ((s.debt + 100) * 100 <= limit_after_drop(s) * 95) {
                    w.intend(u, m, Abi(kBorrow).word(units(100)).take(), {}, kLendingGas);
                    s.debt += 100;
                    s.balance += 100;
                    ++counts["borrows"];
                    return;
                }
                break;
            case 2:
                if (s.debt >= 100 && s.balance >= 100) {
                    w.intend(u, m, Abi(kRepay).word(units(100)).take(), {}, kLendingGas);
                    s.debt -= 100;
                    s.balance -= 100;
                    ++counts["repays"];
                    return;
                }
                break;
            default:
                break;
        }
        w.intend(u, m, Abi(kSupplyCollateral).take(), units(1), kLendingGas);
        s.collateral += 1;
        ++counts["collateral"];
    }

    [[nodiscard]] std::string summary() const {
        std::string s;
        for (const auto& [k, v] : counts) {
            s += (s.empty() ? "" : ", ") + std::to_string(v) + " " + k;
        }
        return s;
    }
};

// --- the workloads -------------------------------------------------------------------------------

Result<Block> make_transfer(const WorkloadSpec& spec) {
    World w(spec.accounts, spec.seed);
    SenderOrder senders(w, iota(spec.accounts));
    for (size_t i = 0; i < spec.txns; ++i) {
        const size_t from = senders.next();
        w.intend(from, w.user(other(w, from)), {}, U256{1 + i % 1000}, exec::kTxGas);
    }
    return w.finish(std::to_string(spec.txns) + " transfers among " +
                    std::to_string(spec.accounts) + " accounts");
}

Result<Block> make_erc20(const WorkloadSpec& spec) {
    World w(spec.accounts, spec.seed);
    Erc20 erc(w);
    for (size_t u = 0; u < spec.accounts; ++u) {
        erc.fund(w, u);
    }
    SenderOrder senders(w, iota(spec.accounts));
    for (size_t i = 0; i < spec.txns; ++i) {
        const size_t from = senders.next();
        erc.transfer(w, from, other(w, from), 1 + i % 100);
    }
    return w.finish(std::to_string(spec.txns) + " ERC-20 transfers among " +
                    std::to_string(spec.accounts) + " holders");
}

Result<Block> make_amm(const WorkloadSpec& spec) {
    World w(spec.accounts, spec.seed);
    Amm amm(w, spec.pools);
    SenderOrder senders(w, iota(spec.accounts));
    for (size_t i = 0; i < spec.txns; ++i) {
        amm.swap(w, senders.next(), w.pick(spec.pools));
    }
    return w.finish(std::to_string(spec.txns) + " swaps over " + std::to_string(spec.pools) +
                    " pools, " + std::to_string(spec.accounts) + " traders");
}

Result<Block> make_lending(const WorkloadSpec& spec) {
    World w(spec.accounts, spec.seed);
    Lending lend(w, spec.pools);
    if (lend.safe.empty()) {
        return make_error(
            "pel-bench: lending needs at least one user that is not a liquidation "
            "target (accounts >= 2)");
    }
    SenderOrder senders(w, lend.safe);
    const size_t drop_at = spec.txns / 2;
    for (size_t i = 0; i < spec.txns; ++i) {
        if (i == drop_at) {
            lend.drop_price(w);
        } else {
            lend.act(w, senders.next());
        }
    }
    return w.finish(lend.summary() + "; " + std::to_string(spec.pools) + " markets, " +
                    std::to_string(spec.accounts) + " users, price drop at txn " +
                    std::to_string(drop_at));
}

/// 35% transfers, 25% ERC-20 transfers, 25% swaps over P pools, 15% lending over P markets
/// (the drop at mid-block); on top, a share `hot` of all transactions are swaps on pool 0.
Result<Block> make_mixed(const WorkloadSpec& spec) {
    World w(spec.accounts, spec.seed);
    Erc20 erc(w);
    Amm amm(w, spec.pools);
    Lending lend(w, spec.pools);
    if (lend.safe.empty()) {
        return make_error("pel-bench: mixed needs accounts >= 2");
    }
    SenderOrder senders(w, lend.safe);
    size_t plain = 0;
    size_t tokens = 0;
    size_t hot = 0;
    const size_t drop_at = spec.txns / 2;
    for (size_t i = 0; i < spec.txns; ++i) {
        if (i == drop_at) {
            lend.drop_price(w);
            continue;
        }
        const size_t from = senders.next();
        if (w.chance(spec.hot)) {
            amm.swap(w, from, 0);
            ++hot;
            continue;
        }
        const double r = std::uniform_real_distribution<double>(0, 1)(w.rng());
        if (r < 0.35) {
            w.intend(from, w.user(other(w, from)), {}, U256{1 + i % 1000}, exec::kTxGas);
            ++plain;
        } else if (r < 0.60) {
            erc.transfer(w, from, other(w, from), 1 + i % 100);
            ++tokens;
        } else if (r < 0.85) {
            amm.swap(w, from, w.pick(spec.pools));
        } else {
            lend.act(w, from);
        }
    }
    return w.finish(std::to_string(plain) + " transfers, " + std::to_string(tokens) +
                    " ERC-20 transfers, " + std::to_string(amm.swaps) + " swaps (" +
                    std::to_string(hot) + " hot on pool 0), lending: " + lend.summary() + "; " +
                    std::to_string(spec.pools) + " pools/markets, " +
                    std::to_string(spec.accounts) + " users");
}

}  // namespace

const std::vector<std::string_view>& workload_names() {
    static const std::vector<std::string_view> names = {"transfer", "erc20", "amm", "lending",
                                                        "mixed"};
    return names;
}

Result<Block> make_block(const WorkloadSpec& spec) {
    if (spec.accounts < 2) {
        return make_error("pel-bench: --accounts must be at least 2 (got ", spec.accounts, ")");
    }
    if (spec.txns == 0) {
        return make_error("pel-bench: --txs must be at least 1");
    }
    if (spec.pools == 0) {
        return make_error("pel-bench: --pools must be at least 1");
    }
    if (!(spec.hot >= 0 && spec.hot <= 1)) {
        return make_error("pel-bench: --hot must be within [0, 1]");
    }
    if (spec.workload == "transfer") {
        return make_transfer(spec);
    }
    if (spec.workload == "erc20") {
        return make_erc20(spec);
    }
    if (spec.workload == "amm") {
        return make_amm(spec);
    }
    if (spec.workload == "lending") {
        return make_lending(spec);
    }
    if (spec.workload == "mixed") {
        return make_mixed(spec);
    }
    return make_error("pel-bench: unknown workload '", spec.workload,
                      "' (transfer, erc20, amm, lending, mixed)");
}

}  // namespace pel::bench
