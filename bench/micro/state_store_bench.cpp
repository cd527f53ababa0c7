// SPDX-License-Identifier: Apache-2.0
// StateStore benchmarks (issue 4), one executable with its own main:
//  - BM_StateStore_commit_block/{cold,prewarmed}: commit + state root of a block that changes B
//  accounts and B
//    storage slots in a state of N accounts, alternating 1 and 2 oneTBB threads commit by commit
//    (tbb::global_control), so both medians come from the same run on the same machine state.
//    Counters: median wall ms, median process CPU ms, median state-trie hashing ms and the
//    per-account phase (storage tries) per thread count, and their 1-thread / 2-thread ratios;
//    background_cpu_ms_t1: process CPU beside a 1-thread commit (LevelDB's compactions);
//    batch_MB and batch_records: the median batch of the timed commits (batch_records_first and
//    _last: the first and the last one's records).
//    prewarmed first reads the block's accounts and slots through a view (untimed), as the
//    executor does before it commits; cold commits keys the cache has not seen.
//  - BM_StateStore_read_{warm,cold}: random account reads per second through one view from 1, 2
//    and 16 threads, with a cache that holds the whole state (warm, pre-read) or a quarter of it
//    (cold: most reads go to LevelDB).
// The state is built once per run in a fresh mkdtemp directory under $TMPDIR and removed at exit.
// Sizes come from the environment; the defaults keep the ctest smoke run to seconds:
//   PEL_STATE_BENCH_ACCOUNTS (20000)  N, accounts in the state (one in 100 is a contract with
//                                     20 slots)
//   PEL_STATE_BENCH_BLOCK    (1000)   B, accounts and slots changed per block
//   PEL_STATE_BENCH_ROUNDS   (2)      commits per thread count
//   PEL_STATE_BENCH_WARMUP   (0)      untimed blocks committed after the first one, before the
//                                     timed rounds: the store loads trie nodes lazily after open,
//                                     so the first blocks also read the state trie's branches
//                                     from disk; about 16 blocks of 20,000 accounts reach the
//                                     steady state of a running node (every branch resident)
//   PEL_STATE_BENCH_READ_MS  (200)    wall time of each read measurement
//   PEL_STATE_BENCH_WRITE_BUFFER_MB   LevelDB write buffer (default: StateStoreOptions')
//   PEL_STATE_BENCH_SYNC     (1)      0: commits are not fsync'd (StateStoreOptions::sync off), to
//                                     see what the fsync of each block's batch costs
//   PEL_STATE_BENCH_BACKGROUND_NICE   nice value of LevelDB's compactions (default: the same)
//   PEL_STATE_BENCH_SETTLE_MS (0)     before each timed commit, wait (up to this many ms) until
//                                     LevelDB's background work has stopped: the process used
//                                     under 1 ms of CPU in a 20 ms window. 0: commits follow each
//                                     other at once, as under sustained load, and each one
//                                     competes with the compactions of the previous ones for
//                                     the cores. With it, the latency of one commit into a
//                                     store that had time to compact (blocks some time apart);
//                                     counters settle_ms (median wait) and settled_all (1 when
//                                     no wait hit the limit)
// The full figures: PEL_STATE_BENCH_ACCOUNTS=1000000 PEL_STATE_BENCH_BLOCK=20000
// PEL_STATE_BENCH_ROUNDS=7 pel_state_store_bench (add PEL_STATE_BENCH_WARMUP=16 for the steady
// state)
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <sys/resource.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <benchmark/benchmark.h>
#include <tbb/global_control.h>
#include <tbb/parallel_for.h>

#include "primitives/bytes.hpp"
#include "primitives/hash.hpp"
#include "primitives/keccak.hpp"
#include "primitives/u256.hpp"
#include "state/state_view.hpp"

namespace pel::state {
namespace {

uint64_t env_u64(const char* name, uint64_t fallback) {
    const char* v = std::getenv(name);
    return v == nullptr ? fallback : std::strtoull(v, nullptr, 10);
}

const uint64_t kAccounts = env_u64("PEL_STATE_BENCH_ACCOUNTS", 20'000);
const uint64_t kBlock = env_u64("PEL_STATE_BENCH_BLOCK", 1'000);
const uint64_t kRounds = env_u64("PEL_STATE_BENCH_ROUNDS", 2);
const uint64_t kWarmup = env_u64("PEL_STATE_BENCH_WARMUP", 0);
const uint64_t kSettleMs = env_u64("PEL_STATE_BENCH_SETTLE_MS", 0);
constexpr uint64_t kContractEvery = 100;
constexpr uint64_t kSlotsPerContract = 20;
constexpr uint64_t kBuildChunk = 50'000;

Address address_of(uint64_t i) {
    Bytes b(8);
    for (size_t k = 0; k < 8; ++k) b[k] = static_cast<uint8_t>(i >> (8 * k));
    const Hash32 h = keccak256(b);
    Address a;
    std::copy_n(h.bytes.begin(), 20, a.bytes.begin());
    return a;
}

double process_cpu_ms() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

double thread_cpu_ms() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

double median(std::vector<double> v) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// Resident set size now (not the peak), from /proc/self/statm.
double current_rss_mb() {
    std::ifstream statm("/proc/self/statm");
    uint64_t pages = 0;
    uint64_t resident = 0;
    statm >> pages >> resident;
    return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) / 1e6;
}

uint64_t dir_bytes(const std::string& path) {
    uint64_t total = 0;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(path, ec)) {
        if (e.is_regular_file(ec)) total += e.file_size(ec);
    }
    return total;
}

// The benchmark state: one directory, the addresses, and the store (reopened with the cache size
// each benchmark needs).
struct World {
    std::string dir;
    std::string db;
    std::vector<Address> addrs;
    std::unique_ptr<StateStore> store;
    uint64_t next_block = 0;
    uint64_t next_new_account = 0;
    size_t open_cache = 0;
    std::mt19937_64 rng{42};

    World() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "pel-bench-XXXXXX").string();
        const char* made = ::mkdtemp(tmpl.data());
        if (made == nullptr) {
            std::cerr << "mkdtemp failed\n";
            std::exit(1);
        }
        dir = made;
        db = dir + "/db";
    }
    World(const World&) = delete;
    World& operator=(const World&) = delete;
    World(World&&) = delete;
    World& operator=(World&&) = delete;
    ~World() {
        store.reset();
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }

    void open(size_t cache_bytes) {
        if (store != nullptr && open_cache == cache_bytes) return;
        store.reset();
        StateStoreOptions o;
        o.cache_bytes = cache_bytes;
        o.leveldb_background_nice = static_cast<int>(env_u64(
            "PEL_STATE_BENCH_BACKGROUND_NICE", static_cast<uint64_t>(o.leveldb_background_nice)));
        o.sync = env_u64("PEL_STATE_BENCH_SYNC", 1) != 0;
        if (const uint64_t mb = env_u64("PEL_STATE_BENCH_WRITE_BUFFER_MB", 0); mb != 0) {
            o.leveldb_write_buffer_bytes = static_cast<size_t>(mb) << 20;
        }
        auto s = StateStore::open(db, o);
        if (!s) {
            std::cerr << s.error().message << "\n";
            std::exit(1);
        }
        store = std::move(*s);
        open_cache = cache_bytes;
    }

    void commit(const StateDiff& diff) {
        auto r = store->commit(next_block++, diff);
        if (!r) {
            std::cerr << r.error().message << "\n";
            std::exit(1);
        }
    }

    void build() {
        const auto t0 = std::chrono::steady_clock::now();
        const double cpu0 = process_cpu_ms();
        open(size_t{64} << 20);
        addrs.reserve(kAccounts + kRounds * 2 * kBlock + kBlock);
        for (uint64_t i = 0; i < kAccounts; ++i) addrs.push_back(address_of(i));
        for (uint64_t base = 0; base < kAccounts; base += kBuildChunk) {
            StateDiff diff;
            for (uint64_t i = base; i < std::min(kAccounts, base + kBuildChunk); ++i) {
                AccountDiff& d = diff.accounts[addrs[i]];
                d.nonce = i % 7;
                d.balance = U256{1'000'000 + i};
                if (i % kContractEvery == 0) {
                    for (uint64_t s = 0; s < kSlotsPerContract; ++s)
                        d.storage[U256{s}] = U256{i + s + 1};
                }
            }
            commit(diff);
        }
        next_new_account = kAccounts;
        const double wall =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        std::cout << "state: " << kAccounts << " accounts (" << kAccounts / kContractEvery
                  << " contracts, " << kAccounts / kContractEvery * kSlotsPerContract
                  << " slots) built in " << wall << " s wall, " << (process_cpu_ms() - cpu0) / 1e3
                  << " s CPU; database " << static_cast<double>(dir_bytes(db)) / 1e6
                  << " MB, RSS now " << current_rss_mb() << " MB\n";
    }

    // B accounts: 90% existing ones (balance, nonce), 10% new; B slots over B/10 existing
    // contracts (10 each: 5 existing slots rewritten, 5 new ones), contracts counted in the B.
    StateDiff make_block() {
        StateDiff diff;
        const uint64_t contracts = std::max<uint64_t>(1, kBlock / 10);
        const uint64_t n_contracts = std::max<uint64_t>(1, kAccounts / kContractEvery);
        for (uint64_t c = 0; c < contracts; ++c) {
            AccountDiff& d = diff.accounts[addrs[(rng() % n_contracts) * kContractEvery]];
            d.balance = U256{rng()};
            for (uint64_t s = 0; s < 10; ++s) {
                const uint64_t slot = s < 5 ? rng() % kSlotsPerContract : 1000 + rng();
                d.storage[U256{slot}] = U256{rng()};
            }
        }
        while (diff.accounts.size() < kBlock) {
            if (rng() % 10 == 0) {
                addrs.push_back(address_of(next_new_account++));
                diff.accounts[addrs.back()].balance = U256{rng()};
            } else {
                AccountDiff& d = diff.accounts[addrs[rng() % kAccounts]];
                d.balance = U256{rng()};
                d.nonce = rng() % 1000;
            }
        }
        return diff;
    }
};

// What 1 vs 2 threads can give on this machine right now: keccak over 20,000 512-byte buffers
// (the shape of trie hashing) in a tbb::parallel_for, wall milliseconds. The benchmark machine is
// shared, so this is measured next to every commit pair and reported beside the commit ratios.
double calibration_ms(size_t threads) {
    static const Bytes buf(512, 0x5a);
    const tbb::global_control limit(tbb::global_control::max_allowed_parallelism, threads);
    std::atomic<uint64_t> sink{0};
    const auto t0 = std::chrono::steady_clock::now();
    tbb::parallel_for(size_t{0}, size_t{20'000}, [&](size_t i) {
        Bytes b = buf;
        b[0] = static_cast<uint8_t>(i);
        sink.fetch_add(keccak256(b).bytes[0], std::memory_order_relaxed);
    });
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

World& world() {
    static World w;
    return w;
}

// Waits until the process's background threads (LevelDB's flushes and compactions) are idle:
// under 1 ms of process CPU in a 20 ms window, or `limit_ms` passed. Returns the wait in ms and
// sets `settled` false when the limit cut it short.
double settle(uint64_t limit_ms, bool& settled) {
    const auto t0 = std::chrono::steady_clock::now();
    const auto since = [&] {
        return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
            .count();
    };
    for (;;) {
        const double c0 = process_cpu_ms();
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        if (process_cpu_ms() - c0 < 1.0) return since();
        if (since() >= static_cast<double>(limit_ms)) {
            settled = false;
            return since();
        }
    }
}

// What an executor does before it commits: it has read every account and slot it changes, so
// they sit in the store's cache.
void pre_read(const World& w, const StateDiff& diff) {
    const auto view = w.store->view();
    for (const auto& [addr, d] : diff.accounts) {
        static_cast<void>(view->account(addr));
        for (const auto& [slot, value] : d.storage) static_cast<void>(view->storage(addr, slot));
    }
}

// cold: the block's accounts and slots are not in the cache. prewarmed: they were read through a
// view first, as execution does. (Captured arguments, not Arg(): Debian's libbenchmark is a debug
// build and State::range() inlined into this release build reads the wrong layout.)
void BM_StateStore_commit_block(benchmark::State& state, bool prewarm) {
    World& w = world();
    w.open(size_t{256} << 20);
    // The first commit after open loads the upper trie levels from the database.
    {
        const StateDiff diff = w.make_block();
        const auto t0 = std::chrono::steady_clock::now();
        w.commit(diff);
        state.counters["first_after_open_ms"] =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                .count();
    }
    for (uint64_t i = 0; i < kWarmup; ++i) {
        const StateDiff diff = w.make_block();
        if (prewarm) pre_read(w, diff);
        w.commit(diff);
    }
    state.counters["warmup_blocks"] = static_cast<double>(kWarmup);
    std::vector<double> wall[2];
    std::vector<double> cpu[2];
    std::vector<double> hash[2];
    std::vector<double> accounts[2];
    std::vector<double> write[2];
    std::vector<double> update[2];
    std::vector<double> publish[2];
    std::vector<double> kv_write[2];
    std::vector<double> cache[2];
    std::vector<double> calib[2];
    std::vector<double> background;
    std::vector<double> settle_wait;
    std::vector<double> batch_records;
    std::vector<double> batch_mb;
    bool settled_all = true;
    for (auto _ : state) {
        for (uint64_t r = 0; r < kRounds; ++r) {
            for (int t = 0; t < 2; ++t) {
                const StateDiff diff = w.make_block();
                if (prewarm) pre_read(w, diff);
                if (kSettleMs != 0) settle_wait.push_back(settle(kSettleMs, settled_all));
                const tbb::global_control threads(tbb::global_control::max_allowed_parallelism,
                                                  static_cast<size_t>(t + 1));
                const double cpu0 = process_cpu_ms();
                const double own0 = thread_cpu_ms();
                const auto t0 = std::chrono::steady_clock::now();
                w.commit(diff);
                wall[t].push_back(
                    std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                        .count());
                cpu[t].push_back(process_cpu_ms() - cpu0);
                // With one thread the commit runs on this thread only: the rest of the process
                // CPU is LevelDB's background flushes and compactions.
                // (The two clocks are read a moment apart: clamp the millisecond of noise.)
                if (t == 0) {
                    background.push_back(std::max(0.0, cpu[t].back() - (thread_cpu_ms() - own0)));
                }
                const CommitStats s = w.store->last_commit_stats();
                hash[t].push_back(s.trie_hash_ms);
                accounts[t].push_back(s.accounts_ms);
                write[t].push_back(s.write_ms);
                update[t].push_back(s.trie_update_ms);
                publish[t].push_back(s.publish_ms);
                kv_write[t].push_back(s.kv_write_ms);
                cache[t].push_back(s.cache_ms);
                batch_records.push_back(static_cast<double>(s.batch_ops));
                batch_mb.push_back(static_cast<double>(s.batch_bytes) / 1e6);
            }
            for (int t = 0; t < 2; ++t)
                calib[t].push_back(calibration_ms(static_cast<size_t>(t + 1)));
        }
        state.SetIterationTime(median(wall[1]) / 1e3);
    }
    for (int t = 0; t < 2; ++t) {
        const std::string sfx = t == 0 ? "_t1" : "_t2";
        state.counters["wall_ms" + sfx] = median(wall[t]);
        state.counters["cpu_ms" + sfx] = median(cpu[t]);
        state.counters["hash_ms" + sfx] = median(hash[t]);
        state.counters["accounts_ms" + sfx] = median(accounts[t]);
        state.counters["write_ms" + sfx] = median(write[t]);
        state.counters["update_ms" + sfx] = median(update[t]);
        state.counters["publish_ms" + sfx] = median(publish[t]);
        state.counters["kv_write_ms" + sfx] = median(kv_write[t]);
        state.counters["cache_ms" + sfx] = median(cache[t]);
    }
    state.counters["background_cpu_ms_t1"] = median(background);
    if (kSettleMs != 0) {
        state.counters["settle_ms"] = median(settle_wait);
        state.counters["settled_all"] = settled_all ? 1 : 0;
    }
    state.counters["wall_t1/t2"] = median(wall[0]) / median(wall[1]);
    state.counters["hash_t1/t2"] = median(hash[0]) / median(hash[1]);
    state.counters["accounts_t1/t2"] = median(accounts[0]) / median(accounts[1]);
    state.counters["calib_keccak_t1/t2"] = median(calib[0]) / median(calib[1]);
    // Batch size over the timed commits: median, and the first and last (a block's batch grows
    // as the contracts' storage grows past what small storage tries hold).
    state.counters["batch_MB"] = median(batch_mb);
    state.counters["batch_records"] = median(batch_records);
    state.counters["batch_records_first"] = batch_records.front();
    state.counters["batch_records_last"] = batch_records.back();
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    state.counters["db_MB"] = static_cast<double>(dir_bytes(w.db)) / 1e6;
    state.counters["peak_rss_MB"] = static_cast<double>(ru.ru_maxrss) / 1e3;
}
BENCHMARK_CAPTURE(BM_StateStore_commit_block, cold, false)
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_StateStore_commit_block, prewarmed, true)
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

// Per-entry cache charge of an account (see state_store.cpp: key, optional<Account>, overhead),
// used to size the cold cache at a quarter of the state. The account cache gets half the budget.
constexpr size_t kAccountEntryBytes = 20 + 112 + 96;
const double kReadSeconds = static_cast<double>(env_u64("PEL_STATE_BENCH_READ_MS", 200)) / 1e3;

struct ReadRate {
    double per_wall_s = 0;  ///< reads per second of wall time
    double per_cpu_s = 0;   ///< reads per second of process CPU time (the machine is shared)
};

// Random account reads through one view from T threads for a fixed wall time.
ReadRate read_rate(const StateView& view, const std::vector<Address>& addrs, unsigned threads) {
    std::atomic<bool> stop{false};
    std::atomic<uint64_t> total{0};
    std::atomic<uint64_t> missing{0};
    std::vector<std::thread> pool;
    const double cpu0 = process_cpu_ms();
    const auto t0 = std::chrono::steady_clock::now();
    for (unsigned t = 0; t < threads; ++t) {
        pool.emplace_back([&, t] {
            std::mt19937_64 rng(t + 1);
            uint64_t n = 0;
            uint64_t miss = 0;
            while (!stop.load(std::memory_order_relaxed)) {
                for (int k = 0; k < 64; ++k) {
                    auto a = view.account(addrs[rng() % kAccounts]);
                    miss += (a && a->has_value()) ? 0U : 1U;
                }
                n += 64;
            }
            total.fetch_add(n);
            missing.fetch_add(miss);
        });
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(kReadSeconds));
    stop.store(true);
    for (auto& th : pool) th.join();
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double cpu_secs = (process_cpu_ms() - cpu0) / 1e3;
    if (missing.load() != 0) std::cerr << "missing accounts: " << missing.load() << "\n";
    const auto n = static_cast<double>(total.load());
    return {n / secs, n / cpu_secs};
}

void read_bench(benchmark::State& state, bool warm) {
    World& w = world();
    const size_t cache = warm ? 2 * (kAccounts + kAccounts / 4) * kAccountEntryBytes
                              : 2 * (kAccounts / 4) * kAccountEntryBytes;
    w.open(cache);
    const auto view = w.store->view();
    if (warm) {
        for (uint64_t i = 0; i < kAccounts; ++i) static_cast<void>(view->account(w.addrs[i]));
    }
    for (auto _ : state) {
        for (const unsigned t : {1U, 2U, 16U}) {
            const ReadRate r = read_rate(*view, w.addrs, t);
            state.counters["reads_per_s_t" + std::to_string(t)] = r.per_wall_s;
            state.counters["reads_per_cpu_s_t" + std::to_string(t)] = r.per_cpu_s;
        }
    }
    state.counters["cache_MB"] = static_cast<double>(cache) / 1e6;
}

void BM_StateStore_read_warm(benchmark::State& state) { read_bench(state, true); }
void BM_StateStore_read_cold(benchmark::State& state) { read_bench(state, false); }
BENCHMARK(BM_StateStore_read_warm)->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_StateStore_read_cold)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace pel::state

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    pel::state::world().build();
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    std::cout << "database "
              << static_cast<double>(pel::state::dir_bytes(pel::state::world().db)) / 1e6
              << " MB, peak RSS " << static_cast<double>(ru.ru_maxrss) / 1e3 << " MB\n";
    return 0;
}
