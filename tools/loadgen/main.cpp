// SPDX-License-Identifier: Apache-2.0
// pel-loadgen: loads a local Ethereum JSON-RPC node (pel-node, anvil, ...) with pre-signed
// transactions and reports committed transactions per second and inclusion latency.
//
// 1. Derives K sender keys deterministically, funds them from a funder key (dev account 0 by
//    default); for the erc20 workload deploys the committed BenchToken and gives each sender
//    tokens. Setup is not measured.
// 2. Pre-signs T transactions (EIP-1559), round-robin over the senders with consecutive nonces.
// 3. C threads, each with its own keep-alive connection, send them with eth_sendRawTransaction
//    (at most C requests in flight; with --batch B, B transactions per HTTP request as one
//    JSON-RPC batch, each with its own id and answer checked), until all are sent or --duration
//    seconds have passed;
//    --rate R paces them (transaction t is not sent before start + t / R), so that latency can
//    be measured below saturation. With several URLs (--url A,B,...: the nodes of one network, e.g.
//    a devnet) sender s's transactions all go to node s mod U, so each node sees a sender's nonces
//    in order; the C connections are spread over the nodes (at least one each). Setup runs on the
//    first URL and then waits until every node has the funding.
// 4. A poller thread watches new blocks on the first URL (eth_blockNumber, then the new
//    blocks' transaction hash lists in one batch) and stamps each of our transactions with the time
//    it was first seen in a block. Inclusion latency = that time - the time its send began.
//    Committed tx/s = included transactions / (last inclusion - first send).
// 5. Afterwards (not timed), every included transaction's receipt is fetched and reverted ones
//    are counted, and every sender's nonce is checked to have advanced by exactly its committed
//    transactions. The exit status is 1 when any send failed, any sent transaction was not included
//    within --timeout, any reverted, or a check failed.
//
// Thread safety: the sender threads share only the route cursors (atomic) and write disjoint
// indices of the per-transaction arrays; the poller alone writes the inclusion arrays; the main
// thread reads them after joining every thread. The hash index is built before any thread starts
// and is then read-only.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "contracts/bench_token.hpp"
#include "primitives/hex.hpp"
#include "primitives/keccak.hpp"
#include "primitives/secp256k1.hpp"
#include "primitives/transaction.hpp"
#include "primitives/u256.hpp"
#include "tools/loadgen/http_rpc.hpp"

namespace pel::loadgen {
namespace {

using Clock = std::chrono::steady_clock;
using json = nlohmann::json;

constexpr std::string_view kDevKey0 =
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
constexpr uint64_t kTransferGas = 21000;
constexpr uint64_t kGwei = 1'000'000'000;

struct Options {
    std::string url = "http://127.0.0.1:8545";
    std::vector<std::string> urls;  // url split at commas
    std::string workload = "transfer";
    uint32_t senders = 100;
    uint64_t txs = 10000;
    uint32_t concurrency = 8;
    uint32_t batch = 1;    // transactions per HTTP request (a JSON-RPC batch when > 1)
    double duration = 0;   // seconds; 0 = no limit
    double rate = 0;       // transactions per second in all; 0 = as fast as the node takes them
    double timeout = 120;  // seconds to wait for inclusion after the last send
    std::string json_file;
    std::string funder_key = std::string(kDevKey0);
    double max_fee_gwei = 0;  // 0 = 50 x the head's base fee + the priority fee
};

struct Account {
    Hash32 key;
    Address address;
    uint64_t nonce = 0;
};

[[nodiscard]] Result<uint64_t> to_u64(const json& j) {
    if (!j.is_string()) {
        return make_error("expected a hex quantity, got ", j.dump());
    }
    PEL_TRY(U256 v, U256::from_hex(j.get<std::string>()));
    if (!v.fits_u64()) {
        return make_error("quantity too large: ", j.get<std::string>());
    }
    return v.limbs[0];
}

[[nodiscard]] Result<U256> to_u256(const json& j) {
    if (!j.is_string()) {
        return make_error("expected a hex quantity, got ", j.dump());
    }
    return U256::from_hex(j.get<std::string>());
}

double seconds_between(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double>(b - a).count();
}

/// Key i: keccak256("pel-loadgen/sender/<i>") (re-hashed in the negligible case it is not a
/// valid secp256k1 secret). The same K keys every run, so a rerun against the same chain reuses
/// (and re-funds) the same accounts.
Result<Account> derive_sender(uint32_t i) {
    const std::string seed = "pel-loadgen/sender/" + std::to_string(i);
    Hash32 key = keccak256(ByteView(reinterpret_cast<const uint8_t*>(seed.data()), seed.size()));
    for (int attempt = 0; attempt < 8; ++attempt) {
        auto addr = crypto::address_from_secret(key);
        if (addr) {
            return Account{key, *addr, 0};
        }
        key = keccak256(key.view());
    }
    return make_error("no valid key for sender ", i);
}

/// Recipient i: the last 20 bytes of keccak256("pel-loadgen/recipient/<i>"); accounts that never
/// send, so a transfer never writes another sender's account.
Address derive_recipient(uint32_t i) {
    const std::string seed = "pel-loadgen/recipient/" + std::to_string(i);
    const Hash32 h =
        keccak256(ByteView(reinterpret_cast<const uint8_t*>(seed.data()), seed.size()));
    Address a;
    std::copy(h.bytes.begin() + 12, h.bytes.end(), a.bytes.begin());
    return a;
}

void append_word(Bytes& out, const U256& v) {
    const Bytes be = v.to_be_bytes_trimmed();
    out.insert(out.end(), 32 - be.size(), 0);
    out.insert(out.end(), be.begin(), be.end());
}

Bytes erc20_transfer_data(const Address& to, const U256& amount) {
    Bytes d;
    const uint32_t sel = contracts::bench_token::selector("transfer(address,uint256)");
    for (int s = 24; s >= 0; s -= 8) {
        d.push_back(static_cast<uint8_t>(sel >> s));
    }
    d.insert(d.end(), 12, 0);
    d.insert(d.end(), to.bytes.begin(), to.bytes.end());
    append_word(d, amount);
    return d;
}

struct Fees {
    U256 max_fee;
    U256 priority;
};

struct Signed {
    std::string raw;  // 0x hex
    Hash32 hash;
};

Result<Signed> sign(Transaction txn, const Hash32& key) {
    PEL_TRY_VOID(sign_transaction(txn, key));
    Bytes enc = encode_transaction(txn);
    return Signed{to_hex(enc), keccak256(enc)};
}

Transaction make_txn(uint64_t chain_id, uint64_t nonce, const Fees& fees, uint64_t gas,
                     std::optional<Address> to, const U256& value, Bytes data) {
    Transaction t;
    t.type = TxnType::kDynamicFee;
    t.chain_id = chain_id;
    t.nonce = nonce;
    t.max_priority_fee_per_gas = fees.priority;
    t.max_fee_per_gas = fees.max_fee;
    t.gas_limit = gas;
    t.to = to;
    t.value = value;
    t.data = std::move(data);
    return t;
}

Result<void> wait_for_nonce(HttpRpc& rpc, const Address& who, uint64_t target, double timeout_s) {
    const auto deadline = Clock::now() + std::chrono::duration<double>(timeout_s);
    for (;;) {
        PEL_TRY(json n, rpc.call("eth_getTransactionCount", json::array({who.to_hex(), "latest"})));
        PEL_TRY(uint64_t got, to_u64(n));
        if (got >= target) {
            return {};
        }
        if (Clock::now() > deadline) {
            return make_error("setup: ", who.to_hex(), " reached nonce ", got, ", expected ",
                              target, " within ", std::to_string(timeout_s), " s");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

/// Sends `raws` in order over `rpc` (setup transactions: few, not timed).
Result<void> send_all(HttpRpc& rpc, const std::vector<Signed>& raws) {
    for (const Signed& s : raws) {
        PEL_TRY(json h, rpc.call("eth_sendRawTransaction", json::array({s.raw})));
        if (h != s.hash.to_hex()) {
            return make_error("setup: node returned hash ", h.dump(), " for ", s.hash.to_hex());
        }
    }
    return {};
}

Result<json> receipt_of(HttpRpc& rpc, const Hash32& hash) {
    PEL_TRY(json r, rpc.call("eth_getTransactionReceipt", json::array({hash.to_hex()})));
    if (r.is_null()) {
        return make_error("no receipt for ", hash.to_hex());
    }
    if (r.value("status", "") != "0x1") {
        return make_error("transaction ", hash.to_hex(), " failed: ", r.dump());
    }
    return r;
}

double percentile(std::vector<double> v, double p) {
    if (v.empty()) {
        return 0;
    }
    std::sort(v.begin(), v.end());
    const double rank = p / 100.0 * static_cast<double>(v.size() - 1);
    const auto lo = static_cast<size_t>(std::floor(rank));
    const auto hi = static_cast<size_t>(std::ceil(rank));
    const double f = rank - static_cast<double>(lo);
    return v[lo] * (1 - f) + v[hi] * f;
}

class LoadGen {
  public:
    /// `eps`: the nodes to send to (at least one); setup, inclusion and checks use eps[0].
    LoadGen(Options opt, std::vector<Endpoint> eps)
        : opt_(std::move(opt)), eps_(std::move(eps)), ep_(eps_.front()), ctl_(ep_) {}

    Result<int> run();

  private:
    Result<void> setup();
    Result<void> presign();
    Result<void> wait_for_all_nodes(const Address& funder, uint64_t funder_nonce);
    void send_loop(size_t node);
    void poll_loop();
    Result<json> report();

    Options opt_;
    std::vector<Endpoint> eps_;
    Endpoint ep_;  // eps_[0]
    HttpRpc ctl_;
    uint64_t chain_id_ = 0;
    Fees fees_;
    uint64_t txn_gas_ = kTransferGas;
    std::optional<Address> token_;
    std::vector<Account> senders_;
    std::vector<Address> recipients_;

    std::vector<Signed> txns_;
    std::unordered_map<std::string, uint64_t> index_;  // hash hex -> transaction index

    // route_[e]: the indices of the transactions that go to node e, in signing order (sender s
    // goes to node s mod U); cursor_[e]: the next position in route_[e] to send. Built before
    // the sender threads start; only the cursors change while they run.
    std::vector<std::vector<uint64_t>> route_;
    std::unique_ptr<std::atomic<uint64_t>[]> cursor_;
    std::atomic<uint64_t> sent_ok_{0};
    std::atomic<uint64_t> included_count_{0};
    std::atomic<bool> sending_done_{false};
    std::atomic<bool> stop_poll_{false};
    Clock::time_point start_;
    Clock::time_point send_deadline_;
    std::vector<Clock::time_point> send_begin_;
    std::vector<Clock::time_point> send_end_;
    std::vector<uint8_t> sent_;  // 1 = accepted, 2 = error
    std::vector<Clock::time_point> included_at_;
    std::vector<uint64_t> included_block_;
    uint64_t start_block_ = 0;
    uint64_t last_block_seen_ = 0;
    std::string poll_error_;

    std::mutex errors_mu_;
    std::vector<std::string> error_samples_;  // guarded by errors_mu_
    uint64_t error_count_ = 0;                // guarded by errors_mu_
};

Result<void> LoadGen::setup() {
    PEL_TRY(json cid, ctl_.call("eth_chainId", json::array()));
    PEL_TRY(chain_id_, to_u64(cid));
    PEL_TRY(Hash32 funder_key, Hash32::from_hex(opt_.funder_key));
    PEL_TRY(Address funder, crypto::address_from_secret(funder_key));

    PEL_TRY(json head, ctl_.call("eth_getBlockByNumber", json::array({"latest", false})));
    U256 base_fee = 0;
    if (head.contains("baseFeePerGas")) {
        PEL_TRY(base_fee, to_u256(head["baseFeePerGas"]));
    }
    U256 priority = U256(kGwei);
    if (auto p = ctl_.call("eth_maxPriorityFeePerGas", json::array()); p) {
        PEL_TRY(priority, to_u256(*p));
    }
    fees_.priority = priority;
    fees_.max_fee =
        opt_.max_fee_gwei > 0
            ? U256(static_cast<uint64_t>(opt_.max_fee_gwei * static_cast<double>(kGwei)))
            : base_fee * U256(50) + priority;
    if (fees_.max_fee < fees_.priority) {
        fees_.priority = fees_.max_fee;
    }

    senders_.reserve(opt_.senders);
    for (uint32_t i = 0; i < opt_.senders; ++i) {
        PEL_TRY(Account a, derive_sender(i));
        senders_.push_back(a);
        recipients_.push_back(derive_recipient(i));
    }
    const uint64_t per_sender = (opt_.txs + opt_.senders - 1) / opt_.senders;
    const bool erc20 = opt_.workload == "erc20";

    PEL_TRY(json fn,
            ctl_.call("eth_getTransactionCount", json::array({funder.to_hex(), "pending"})));
    PEL_TRY(uint64_t funder_nonce, to_u64(fn));
    std::fprintf(stderr, "setup: chain %llu, max fee %s wei, priority %s wei, funder %s\n",
                 static_cast<unsigned long long>(chain_id_), fees_.max_fee.to_string().c_str(),
                 fees_.priority.to_string().c_str(), funder.to_hex().c_str());

    if (erc20) {
        // Deploy BenchToken(initialSupply) from the funder.
        PEL_TRY(Bytes code, from_hex(contracts::bench_token::kCreationCodeHex));
        const U256 supply = U256(per_sender) * U256(opt_.senders) * U256(1000);
        append_word(code, supply);
        PEL_TRY(json est,
                ctl_.call("eth_estimateGas",
                          json::array({json{{"from", funder.to_hex()}, {"data", to_hex(code)}}})));
        PEL_TRY(uint64_t deploy_gas, to_u64(est));
        PEL_TRY(Signed deploy, sign(make_txn(chain_id_, funder_nonce, fees_, deploy_gas * 6 / 5,
                                             std::nullopt, U256(0), code),
                                    funder_key));
        PEL_TRY_VOID(send_all(ctl_, {deploy}));
        ++funder_nonce;
        PEL_TRY_VOID(wait_for_nonce(ctl_, funder, funder_nonce, 60));
        PEL_TRY(json r, receipt_of(ctl_, deploy.hash));
        PEL_TRY(Address token, Address::from_hex(r.value("contractAddress", "")));
        token_ = token;
        std::fprintf(stderr, "setup: BenchToken at %s\n", token.to_hex().c_str());
        // The gas of one transfer to a recipient that holds no tokens yet (the costliest case),
        // plus 10%: the same limit for every measured transaction.
        const Bytes probe = erc20_transfer_data(recipients_[0], U256(1));
        PEL_TRY(json g, ctl_.call("eth_estimateGas", json::array({json{{"from", funder.to_hex()},
                                                                       {"to", token.to_hex()},
                                                                       {"data", to_hex(probe)}}})));
        PEL_TRY(uint64_t transfer_gas, to_u64(g));
        txn_gas_ = transfer_gas * 11 / 10;
    }

    // Fund every sender: gas for all its transactions at the max fee, twice over, plus values.
    const U256 budget = U256(per_sender) * (U256(txn_gas_) * fees_.max_fee + U256(1)) * U256(2);
    PEL_TRY(json fb, ctl_.call("eth_getBalance", json::array({funder.to_hex(), "latest"})));
    PEL_TRY(U256 funder_balance, to_u256(fb));
    const U256 needed = budget * U256(opt_.senders);
    if (funder_balance < needed) {
        return make_error("setup: the funder holds ", funder_balance.to_string(), " wei; funding ",
                          opt_.senders, " senders needs ", needed.to_string(),
                          " (lower --txs or --max-fee-gwei)");
    }
    std::vector<Signed> funding;
    for (const Account& s : senders_) {
        PEL_TRY(Signed f, sign(make_txn(chain_id_, funder_nonce++, fees_, kTransferGas, s.address,
                                        budget, {}),
                               funder_key));
        funding.push_back(std::move(f));
        if (erc20) {
            PEL_TRY(Signed t,
                    sign(make_txn(chain_id_, funder_nonce++, fees_, txn_gas_ * 2, *token_, U256(0),
                                  erc20_transfer_data(s.address, U256(per_sender * 1000))),
                         funder_key));
            funding.push_back(std::move(t));
        }
    }
    PEL_TRY_VOID(send_all(ctl_, funding));
    PEL_TRY_VOID(wait_for_nonce(ctl_, funder, funder_nonce, 120));
    for (const Signed& f : funding) {
        PEL_TRY(json r, receipt_of(ctl_, f.hash));
        static_cast<void>(r);
    }
    PEL_TRY_VOID(wait_for_all_nodes(funder, funder_nonce));
    for (Account& s : senders_) {
        PEL_TRY(json n,
                ctl_.call("eth_getTransactionCount", json::array({s.address.to_hex(), "pending"})));
        PEL_TRY(s.nonce, to_u64(n));
    }
    std::fprintf(
        stderr, "setup: %u senders funded (%zu setup transactions), gas per transaction %llu\n",
        opt_.senders, funding.size() + (erc20 ? 1 : 0), static_cast<unsigned long long>(txn_gas_));
    return {};
}

/// With several nodes: waits until each has committed the funder's setup transactions (its
/// nonce there reached `funder_nonce`), so that no node refuses a sender for want of funds.
Result<void> LoadGen::wait_for_all_nodes(const Address& funder, uint64_t funder_nonce) {
    for (size_t e = 1; e < eps_.size(); ++e) {
        HttpRpc rpc(eps_[e]);
        auto r = wait_for_nonce(rpc, funder, funder_nonce, 120);
        if (!r) {
            return make_error("setup: node ", e, " of --url: ", r.error().message);
        }
    }
    return {};
}

Result<void> LoadGen::presign() {
    const uint64_t n = opt_.txs;
    const uint32_t k = opt_.senders;
    txns_.resize(n);
    std::vector<std::string> errors(n);
    const unsigned threads = std::max(1U, std::thread::hardware_concurrency());
    std::vector<std::thread> pool;
    std::atomic<uint64_t> next{0};
    for (unsigned w = 0; w < threads; ++w) {
        pool.emplace_back([&] {
            for (uint64_t t = next++; t < n; t = next++) {
                const uint32_t s = static_cast<uint32_t>(t % k);
                const uint64_t round = t / k;
                const Account& from = senders_[s];
                const Address& to = recipients_[static_cast<uint32_t>((s + round) % k)];
                Transaction txn =
                    token_
                        ? make_txn(chain_id_, from.nonce + round, fees_, txn_gas_, *token_, U256(0),
                                   erc20_transfer_data(to, U256(1)))
                        : make_txn(chain_id_, from.nonce + round, fees_, txn_gas_, to, U256(1), {});
                auto signed_txn = sign(std::move(txn), from.key);
                if (signed_txn) {
                    txns_[t] = std::move(*signed_txn);
                } else {
                    errors[t] = signed_txn.error().message;
                }
            }
        });
    }
    for (auto& th : pool) {
        th.join();
    }
    for (uint64_t t = 0; t < n; ++t) {
        if (!errors[t].empty()) {
            return make_error("signing transaction ", t, ": ", errors[t]);
        }
        index_.emplace(txns_[t].hash.to_hex(), t);
    }
    return {};
}

void LoadGen::send_loop(size_t node) {
    HttpRpc rpc(eps_[node]);
    const std::vector<uint64_t>& route = route_[node];
    const uint64_t batch = std::max<uint32_t>(1, opt_.batch);
    std::string body;
    for (;;) {
        if (opt_.duration > 0 && Clock::now() >= send_deadline_) {
            break;
        }
        // The next `batch` positions of this node's route (fewer at its end).
        const uint64_t pos = cursor_[node].fetch_add(batch);
        if (pos >= route.size()) {
            break;
        }
        const uint64_t end = std::min<uint64_t>(pos + batch, route.size());
        if (opt_.rate > 0) {
            // Paced: transaction t is not sent before start + t / rate (t counts over all nodes);
            // a batch waits for its last transaction's time.
            const uint64_t last_t = route[end - 1];
            std::this_thread::sleep_until(
                start_ + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(
                             static_cast<double>(last_t) / opt_.rate)));
            if (opt_.duration > 0 && Clock::now() >= send_deadline_) {
                break;
            }
        }
        // One eth_sendRawTransaction request per transaction, id = its index t; with --batch > 1
        // they go as one JSON-RPC 2.0 batch (an array) in one HTTP request.
        body.clear();
        if (opt_.batch > 1) {
            body += '[';
        }
        for (uint64_t p = pos; p < end; ++p) {
            const uint64_t t = route[p];
            if (p != pos) {
                body += ',';
            }
            body += R"({"jsonrpc":"2.0","id":)";
            body += std::to_string(t);
            body += R"(,"method":"eth_sendRawTransaction","params":[")";
            body += txns_[t].raw;
            body += R"("]})";
        }
        if (opt_.batch > 1) {
            body += ']';
        }
        const auto begin = Clock::now();
        for (uint64_t p = pos; p < end; ++p) {
            send_begin_[route[p]] = begin;
        }
        auto res = rpc.post(body);
        const auto done = Clock::now();
        // Every transaction of the request gets its own verdict: its answer matched by id.
        std::unordered_map<uint64_t, const json*> answers;
        std::string request_error;
        if (!res) {
            request_error = res.error().message;
        } else if (opt_.batch > 1) {
            if (!res->is_array()) {
                request_error = "batch answered " + res->dump().substr(0, 200);
            } else {
                for (const auto& a : *res) {
                    const auto id = a.find("id");
                    if (id != a.end() && id->is_number_unsigned()) {
                        answers.emplace(id->get<uint64_t>(), &a);
                    }
                }
            }
        } else {
            answers.emplace(route[pos], &*res);
        }
        for (uint64_t p = pos; p < end; ++p) {
            const uint64_t t = route[p];
            send_end_[t] = done;
            std::string err = request_error;
            if (err.empty()) {
                const auto it = answers.find(t);
                if (it == answers.end()) {
                    err = "no answer for id " + std::to_string(t);
                } else if (it->second->contains("error")) {
                    err = (*it->second)["error"].dump();
                } else if (it->second->value("result", json()) != txns_[t].hash.to_hex()) {
                    err = "unexpected result " + it->second->dump();
                }
            }
            if (err.empty()) {
                sent_[t] = 1;
                ++sent_ok_;
            } else {
                sent_[t] = 2;
                const std::lock_guard lock(errors_mu_);
                ++error_count_;
                if (error_samples_.size() < 5) {
                    error_samples_.push_back("tx " + std::to_string(t) + ": " + err);
                }
            }
        }
    }
}

void LoadGen::poll_loop() {
    HttpRpc rpc(ep_);
    uint64_t last = start_block_;
    // Gives up --timeout seconds after the last send when none of our transactions has been
    // included since then: new blocks alone are no progress (an interval-mining node makes
    // empty blocks forever while some of our transactions sit in its pool).
    Clock::time_point progress_at = Clock::now();
    uint64_t progress_count = 0;
    for (;;) {
        if (stop_poll_) {
            break;
        }
        auto head_res = rpc.call("eth_blockNumber", json::array());
        if (!head_res) {
            poll_error_ = head_res.error().message;
            break;
        }
        auto head = to_u64(*head_res);
        if (!head) {
            poll_error_ = head.error().message;
            break;
        }
        if (!sending_done_ || included_count_ != progress_count) {
            progress_at = Clock::now();
            progress_count = included_count_;
        }
        if (sending_done_ && included_count_ >= sent_ok_) {
            break;
        }
        if (sending_done_ && seconds_between(progress_at, Clock::now()) > opt_.timeout) {
            break;  // the report counts what never made it
        }
        if (*head <= last) {
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
            continue;
        }
        // The new blocks' transaction hashes, up to 200 blocks per batch request.
        for (uint64_t from = last + 1; from <= *head; from += 200) {
            const uint64_t to = std::min(*head, from + 199);
            json batch = json::array();
            for (uint64_t b = from; b <= to; ++b) {
                batch.push_back({{"jsonrpc", "2.0"},
                                 {"id", b},
                                 {"method", "eth_getBlockByNumber"},
                                 {"params", json::array({U256(b).to_hex(), false})}});
            }
            auto res = rpc.post(batch.dump());
            const auto seen = Clock::now();
            if (!res || !res->is_array()) {
                poll_error_ = res ? "block batch answered " + res->dump().substr(0, 200)
                                  : res.error().message;
                return;
            }
            for (const json& item : *res) {
                const json& block = item.contains("result") ? item["result"] : json();
                if (!block.is_object() || !block.contains("transactions")) {
                    poll_error_ = "block " + item.value("id", json()).dump() + ": " +
                                  item.dump().substr(0, 200);
                    return;
                }
                const uint64_t number = item["id"].get<uint64_t>();
                for (const json& h : block["transactions"]) {
                    const auto it = index_.find(h.get<std::string>());
                    if (it != index_.end() && included_block_[it->second] == 0) {
                        included_block_[it->second] = number;
                        included_at_[it->second] = seen;
                        ++included_count_;
                    }
                }
            }
        }
        last = *head;
        last_block_seen_ = last;
    }
}

Result<json> LoadGen::report() {
    const uint64_t n = txns_.size();
    uint64_t attempted = 0;
    uint64_t committed = 0;
    Clock::time_point first_send = Clock::time_point::max();
    Clock::time_point last_send_end = start_;
    Clock::time_point last_incl = start_;
    std::vector<double> latencies_ms;
    uint64_t min_block = UINT64_MAX;
    uint64_t max_block = 0;
    std::vector<uint64_t> included;
    for (uint64_t t = 0; t < n; ++t) {
        if (sent_[t] == 0) {
            continue;
        }
        ++attempted;
        first_send = std::min(first_send, send_begin_[t]);
        last_send_end = std::max(last_send_end, send_end_[t]);
        if (included_block_[t] != 0) {
            ++committed;
            included.push_back(t);
            last_incl = std::max(last_incl, included_at_[t]);
            latencies_ms.push_back(1000.0 * seconds_between(send_begin_[t], included_at_[t]));
            min_block = std::min(min_block, included_block_[t]);
            max_block = std::max(max_block, included_block_[t]);
        }
    }
    const double send_window = attempted ? seconds_between(first_send, last_send_end) : 0;
    const double commit_window = committed ? seconds_between(first_send, last_incl) : 0;

    // Receipts of every included transaction (after the measurement), 500 per batch.
    uint64_t reverted = 0;
    uint64_t gas_used = 0;
    std::string receipt_error;
    HttpRpc rpc(ep_);
    for (size_t i = 0; i < included.size() && receipt_error.empty(); i += 500) {
        json batch = json::array();
        for (size_t j = i; j < std::min(included.size(), i + 500); ++j) {
            batch.push_back({{"jsonrpc", "2.0"},
                             {"id", j},
                             {"method", "eth_getTransactionReceipt"},
                             {"params", json::array({txns_[included[j]].hash.to_hex()})}});
        }
        auto res = rpc.post(batch.dump());
        if (!res || !res->is_array()) {
            receipt_error = res ? res->dump().substr(0, 200) : res.error().message;
            break;
        }
        for (const json& item : *res) {
            const json r = item.value("result", json());
            if (!r.is_object()) {
                receipt_error = "missing receipt: " + item.dump().substr(0, 200);
                break;
            }
            if (r.value("status", "") != "0x1") {
                ++reverted;
            }
            if (auto g = to_u64(r.value("gasUsed", json())); g) {
                gas_used += *g;
            }
        }
    }

    // Cross-check against state: every sender's nonce advanced by exactly its committed count.
    uint64_t nonce_mismatches = 0;
    {
        std::vector<uint64_t> per_sender(senders_.size(), 0);
        for (const uint64_t t : included) {
            ++per_sender[t % senders_.size()];
        }
        for (size_t i = 0; i < senders_.size() && receipt_error.empty(); i += 500) {
            json batch = json::array();
            for (size_t j = i; j < std::min(senders_.size(), i + 500); ++j) {
                batch.push_back(
                    {{"jsonrpc", "2.0"},
                     {"id", j},
                     {"method", "eth_getTransactionCount"},
                     {"params", json::array({senders_[j].address.to_hex(), "latest"})}});
            }
            auto res = rpc.post(batch.dump());
            if (!res || !res->is_array()) {
                receipt_error = res ? res->dump().substr(0, 200) : res.error().message;
                break;
            }
            for (const json& item : *res) {
                const auto j = item.value("id", json()).get<size_t>();
                auto got = to_u64(item.value("result", json()));
                if (!got || j >= senders_.size() || *got != senders_[j].nonce + per_sender[j]) {
                    ++nonce_mismatches;
                }
            }
        }
    }
    if (nonce_mismatches > 0) {
        receipt_error = std::to_string(nonce_mismatches) +
                        " senders' nonces do not match their committed transactions";
    }

    uint64_t errors = 0;
    std::vector<std::string> samples;
    {
        const std::lock_guard lock(errors_mu_);
        errors = error_count_;
        samples = error_samples_;
    }
    if (!poll_error_.empty()) {
        samples.push_back("poller: " + poll_error_);
    }
    if (!receipt_error.empty()) {
        samples.push_back("check: " + receipt_error);
    }
    const uint64_t sent = sent_ok_;
    json out = {
        {"url", opt_.url},
        {"workload", opt_.workload},
        {"senders", opt_.senders},
        {"txs", opt_.txs},
        {"concurrency", opt_.concurrency},
        {"batch", opt_.batch},
        {"duration_limit_s", opt_.duration},
        {"gas_per_txn_limit", txn_gas_},
        {"attempted", attempted},
        {"sent", sent},
        {"errors", errors},
        {"committed", committed},
        {"not_committed", sent > committed ? sent - committed : 0},
        {"reverted", reverted},
        {"gas_used", gas_used},
        {"blocks", committed ? max_block - min_block + 1 : 0},
        {"send_seconds", send_window},
        {"send_tps", send_window > 0 ? static_cast<double>(attempted) / send_window : 0},
        {"commit_seconds", commit_window},
        {"committed_tps", commit_window > 0 ? static_cast<double>(committed) / commit_window : 0},
        {"mgas_per_s", commit_window > 0 ? static_cast<double>(gas_used) / commit_window / 1e6 : 0},
        {"latency_ms",
         {{"p50", percentile(latencies_ms, 50)},
          {"p99", percentile(latencies_ms, 99)},
          {"max", latencies_ms.empty()
                      ? 0
                      : *std::max_element(latencies_ms.begin(), latencies_ms.end())}}},
        {"error_samples", samples},
    };
    if (opt_.rate > 0) {
        out["rate_limit_tps"] = opt_.rate;
    }
    if (eps_.size() > 1) {
        // Per node: what was sent to it and, of that, what was committed (seen on node 0).
        json nodes = json::array();
        std::vector<uint64_t> node_sent(eps_.size(), 0);
        std::vector<uint64_t> node_committed(eps_.size(), 0);
        for (uint64_t t = 0; t < n; ++t) {
            const size_t e = (t % opt_.senders) % eps_.size();
            node_sent[e] += sent_[t] == 1 ? 1U : 0U;
            node_committed[e] += included_block_[t] != 0 ? 1U : 0U;
        }
        for (size_t e = 0; e < eps_.size(); ++e) {
            nodes.push_back(
                {{"url", opt_.urls[e]}, {"sent", node_sent[e]}, {"committed", node_committed[e]}});
        }
        out["nodes"] = nodes;
        out["inclusion_observed_on"] = opt_.urls.front();
    }
    return out;
}

Result<int> LoadGen::run() {
    PEL_TRY_VOID(setup());
    const auto sign_begin = Clock::now();
    PEL_TRY_VOID(presign());
    std::fprintf(stderr, "pre-signed %zu %s transactions from %u senders in %.2f s\n", txns_.size(),
                 opt_.workload.c_str(), opt_.senders, seconds_between(sign_begin, Clock::now()));

    const uint64_t n = txns_.size();
    send_begin_.resize(n);
    send_end_.resize(n);
    sent_.assign(n, 0);
    included_at_.resize(n);
    included_block_.assign(n, 0);
    PEL_TRY(json head, ctl_.call("eth_blockNumber", json::array()));
    PEL_TRY(start_block_, to_u64(head));

    start_ = Clock::now();
    send_deadline_ = start_ + std::chrono::duration_cast<Clock::duration>(
                                  std::chrono::duration<double>(opt_.duration));
    // Routes: transaction t (sender t mod K) goes to node (t mod K) mod U.
    const size_t nodes = eps_.size();
    route_.assign(nodes, {});
    cursor_ = std::make_unique<std::atomic<uint64_t>[]>(nodes);
    for (uint64_t t = 0; t < n; ++t) {
        route_[(t % opt_.senders) % nodes].push_back(t);
    }
    std::thread poller([this] { poll_loop(); });
    std::vector<std::thread> workers;
    const size_t connections = std::max<size_t>(opt_.concurrency, nodes);
    for (size_t c = 0; c < connections; ++c) {
        workers.emplace_back([this, c, nodes] { send_loop(c % nodes); });
    }
    for (auto& w : workers) {
        w.join();
    }
    sending_done_ = true;
    poller.join();

    PEL_TRY(json out, report());
    std::printf(
        "%s: %s, %u senders, concurrency %u, batch %u\n"
        "  sent %llu of %llu (errors %llu) in %.2f s (%.0f tx/s)\n"
        "  committed %llu in %.2f s: %.0f tx/s, %.1f Mgas/s, %llu blocks; not committed %llu, "
        "reverted %llu\n"
        "  inclusion latency p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
        opt_.url.c_str(), opt_.workload.c_str(), opt_.senders, opt_.concurrency, opt_.batch,
        static_cast<unsigned long long>(out["sent"].get<uint64_t>()),
        static_cast<unsigned long long>(n),
        static_cast<unsigned long long>(out["errors"].get<uint64_t>()),
        out["send_seconds"].get<double>(), out["send_tps"].get<double>(),
        static_cast<unsigned long long>(out["committed"].get<uint64_t>()),
        out["commit_seconds"].get<double>(), out["committed_tps"].get<double>(),
        out["mgas_per_s"].get<double>(),
        static_cast<unsigned long long>(out["blocks"].get<uint64_t>()),
        static_cast<unsigned long long>(out["not_committed"].get<uint64_t>()),
        static_cast<unsigned long long>(out["reverted"].get<uint64_t>()),
        out["latency_ms"]["p50"].get<double>(), out["latency_ms"]["p99"].get<double>(),
        out["latency_ms"]["max"].get<double>());
    if (opt_.rate > 0) {
        std::printf("  paced at %.0f tx/s\n", opt_.rate);
    }
    if (out.contains("nodes")) {
        std::string line;
        for (const auto& node : out["nodes"]) {
            line += (line.empty() ? "" : ", ") + node["url"].get<std::string>() + " " +
                    std::to_string(node["sent"].get<uint64_t>()) + "/" +
                    std::to_string(node["committed"].get<uint64_t>());
        }
        std::printf("  sent/committed by node: %s (inclusion observed on %s)\n", line.c_str(),
                    out["inclusion_observed_on"].get<std::string>().c_str());
    }
    for (const auto& s : out["error_samples"]) {
        std::printf("  error: %s\n", s.get<std::string>().c_str());
    }
    if (!opt_.json_file.empty()) {
        std::ofstream f(opt_.json_file);
        f << out.dump(2) << "\n";
        if (!f) {
            return make_error("cannot write ", opt_.json_file);
        }
    }
    const bool ok = out["errors"] == 0 && out["not_committed"] == 0 && out["reverted"] == 0 &&
                    out["committed"].get<uint64_t>() > 0 && out["error_samples"].empty();
    return ok ? 0 : 1;
}

}  // namespace
}  // namespace pel::loadgen

int main(int argc, char** argv) {
    using pel::loadgen::Options;
    Options opt;
    CLI::App app{"pel-loadgen: pre-signed transaction load against a local JSON-RPC node"};
    app.add_option("--url", opt.url,
                   "node URL (loopback only), or a comma-separated list of the nodes of one "
                   "network: each sender's transactions go to one of them, round-robin; setup "
                   "and inclusion use the first")
        ->capture_default_str();
    app.add_option("--workload", opt.workload, "transfer (ETH) or erc20 (BenchToken transfers)")
        ->check(CLI::IsMember({"transfer", "erc20"}))
        ->capture_default_str();
    app.add_option("--senders", opt.senders, "K sender accounts (derived deterministically)")
        ->check(CLI::Range(1U, 1'000'000U))
        ->capture_default_str();
    app.add_option("--txs,--count", opt.txs, "T transactions to pre-sign and send")
        ->check(CLI::Range(uint64_t{1}, uint64_t{10'000'000}))
        ->capture_default_str();
    app.add_option("--concurrency", opt.concurrency,
                   "C connections sending at once (in all, spread over the URLs, at least one "
                   "each)")
        ->check(CLI::Range(1U, 1024U))
        ->capture_default_str();
    app.add_option("--batch", opt.batch,
                   "B eth_sendRawTransaction requests per HTTP request, as one JSON-RPC batch "
                   "(1: single requests)")
        ->check(CLI::Range(1U, 1000U))
        ->capture_default_str();
    app.add_option("--rate", opt.rate,
                   "send at most R transactions per second in all (0: as fast as the nodes take "
                   "them), to measure latency below saturation")
        ->check(CLI::NonNegativeNumber)
        ->capture_default_str();
    app.add_option("--duration", opt.duration, "stop sending after S seconds (0: send all T)")
        ->check(CLI::NonNegativeNumber)
        ->capture_default_str();
    app.add_option(
           "--timeout", opt.timeout,
           "after the last send, give up when none of our transactions is included for S seconds")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    app.add_option("--json", opt.json_file, "write the results as JSON to FILE");
    app.add_option("--funder-key", opt.funder_key,
                   "secret key that funds the senders (dev account 0)");
    app.add_option("--max-fee-gwei", opt.max_fee_gwei,
                   "max fee per gas (default: 50 x the head's base fee + the priority fee)")
        ->check(CLI::NonNegativeNumber);
    CLI11_PARSE(app, argc, argv);

    std::vector<pel::loadgen::Endpoint> eps;
    for (size_t begin = 0;;) {
        const size_t comma = opt.url.find(',', begin);
        std::string one = opt.url.substr(begin, comma == std::string::npos ? comma : comma - begin);
        auto ep = pel::loadgen::parse_loopback_url(one);
        if (!ep) {
            std::fprintf(stderr, "pel-loadgen: %s\n", ep.error().message.c_str());
            return 2;
        }
        if (std::find(opt.urls.begin(), opt.urls.end(), one) != opt.urls.end()) {
            std::fprintf(stderr, "pel-loadgen: --url lists %s twice\n", one.c_str());
            return 2;
        }
        opt.urls.push_back(std::move(one));
        eps.push_back(std::move(*ep));
        if (comma == std::string::npos) {
            break;
        }
        begin = comma + 1;
    }
    pel::loadgen::LoadGen gen(opt, std::move(eps));
    auto rc = gen.run();
    if (!rc) {
        std::fprintf(stderr, "pel-loadgen: %s\n", rc.error().message.c_str());
        return 2;
    }
    return *rc;
}
