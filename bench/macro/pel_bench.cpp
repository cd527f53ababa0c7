// SPDX-License-Identifier: Apache-2.0
// pel-bench: Block-STM (exec::ParallelExecutor) against the sequential executor on generated
// contract workloads (bench/gen/workload.hpp): transfer, erc20, amm, lending, mixed.
//
// For every configuration (workload x accounts x pools x txs), the block is generated once; then:
//  1. sender recovery (exec::recover_senders) is timed at each thread count, as its own stage,
//     and its result checked against the signers;
//  2. `warmup` + `repeat` rounds, each one sequential run, one parallel run per thread count,
//     and for each thread count t in 2..hardware threads that many sequential copies at once
//     (SequentialCopies: how much of t cores the machine gives this work, in the same minutes),
//     interleaved so that a change of load on a shared machine hits all alike, in an order that
//     rotates from round to round (what ran just before a run changes its speed here). The
//     reference is the first sequential run (the first round starts with it): every receipt
//     must succeed (the generator only emits valid actions), and every copy must equal it.
//     Before each timed round the core-to-core round trip is measured (core_round_trip_ns): the
//     machine's cache-line latency between two cores, which Block-STM's 2-thread time follows;
//  3. every parallel run's receipts
//     (status, gas, cumulative gas, logs, bloom) and diff must equal the reference, and the post
//     state root (base state + diff, computed with state::MemState) of its first run must equal
//     the reference root. Any mismatch is reported and pel-bench exits with status 1.
// Timings are medians of the execute() calls alone (no generation, recovery, checks or freeing
// of the output). Run `pel-bench --help` for the options.
#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <pthread.h>
#include <sched.h>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "bench/gen/latency_view.hpp"
#include "bench/gen/workload.hpp"
#include "execution/block_executor.hpp"
#include "execution/sequential.hpp"
#include "execution/state_view_reader.hpp"
#include "primitives/hex.hpp"
#include "primitives/log.hpp"
#include "state/state_view.hpp"

namespace {

using pel::Address;
using pel::Hash32;
namespace exec = pel::exec;
namespace bench = pel::bench;
using Clock = std::chrono::steady_clock;

struct Options {
    std::vector<std::string> workloads;
    std::vector<size_t> accounts{1000};
    std::vector<size_t> pools{1};
    std::vector<size_t> txs{1000};
    std::vector<size_t> threads{1, 2};
    std::string state = "memory";
    size_t cache_mb = 256;
    size_t read_latency_us = 0;
    size_t repeat = 5;
    size_t warmup = 1;
    size_t recovery_repeat = 3;
    double min_time_ms = 0;
    bool test_inject_mismatch = false;
    double hot = 0.1;
    uint64_t seed = 1;
    bool fallback = true;
    std::string json;
    std::string plot;
    std::string replot;
    bool progress = true;
    std::string profile;  ///< "sequential" or "parallel": run only that executor (profilers)
    /// "compare": parallel variants, '/'-separated sets of key=value (see --variants).
    std::string variants;
};

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double ms_since(Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

/// A progress bar on stderr when it is a terminal.
class Progress {
  public:
    Progress(size_t total, bool enabled) : total_(total), on_(enabled && isatty(2) == 1) {}
    void step(const std::string& what) {
        ++done_;
        if (!on_) {
            return;
        }
        constexpr size_t kWidth = 30;
        const size_t fill = total_ == 0 ? kWidth : std::min(kWidth, done_ * kWidth / total_);
        std::string bar(fill, '=');
        bar.resize(kWidth, ' ');
        std::fprintf(stderr, "\r[%s] %zu/%zu %-40.40s", bar.c_str(), done_, total_, what.c_str());
        std::fflush(stderr);
    }
    void clear() const {
        if (on_) {
            std::fprintf(stderr, "\r%90s\r", "");
            std::fflush(stderr);
        }
    }

  private:
    size_t total_;
    size_t done_ = 0;
    bool on_;
};

/// Removes a temporary directory when it goes out of scope.
struct TempDir {
    std::filesystem::path path;
    TempDir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "pel-bench-XXXXXX").string();
        if (mkdtemp(tmpl.data()) == nullptr) {
            throw std::runtime_error("pel-bench: cannot create a temporary directory");
        }
        path = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    TempDir(TempDir&&) = delete;
    TempDir& operator=(TempDir&&) = delete;
};

/// The MemState as the StateDiff that creates it in an empty StateStore.
pel::state::StateDiff genesis_diff(const pel::state::MemState& s) {
    pel::state::StateDiff d;
    for (const auto& [addr, a] : s.accounts()) {
        pel::state::AccountDiff& ad = d.accounts[addr];
        ad.nonce = a.nonce;
        ad.balance = a.balance;
        if (!a.code.empty()) {
            ad.code = pel::state::CodeChange{a.code_hash, a.code};
        }
        ad.storage = a.storage;
    }
    return d;
}

/// The base state the executors read, for one configuration.
class Base {
  public:
    virtual ~Base() = default;
    /// A fresh reader for one run (a cold simulated cache when latency is on).
    virtual exec::ConcurrentStateReader& begin_run() = 0;
    /// After a run: a latched read error, if any.
    [[nodiscard]] virtual std::optional<std::string> error() const { return std::nullopt; }
    /// Reads that paid the simulated latency in the last run.
    [[nodiscard]] virtual uint64_t misses() const { return 0; }
};

class MemoryBase final : public Base {
  public:
    explicit MemoryBase(const pel::state::MemState& s) : reader_(s) {}
    exec::ConcurrentStateReader& begin_run() override { return reader_; }

  private:
    exec::MemStateConcurrentReader reader_;
};

class StoreBase final : public Base {
  public:
    /// Builds the store from `s` (block 0) and checks its root against the MemState's.
    StoreBase(const pel::state::MemState& s, size_t cache_mb, size_t latency_us) {
        pel::state::StateStoreOptions o;
        o.cache_bytes = cache_mb << 20;
        o.sync = false;
        auto store = pel::state::StateStore::open((dir_.path / "db").string(), o);
        if (!store) {
            throw std::runtime_error("pel-bench: cannot open the state store: " +
                                     store.error().message);
        }
        store_ = std::move(*store);
        auto root = store_->commit(0, genesis_diff(s));
        if (!root) {
            throw std::runtime_error("pel-bench: genesis commit failed: " + root.error().message);
        }
        if (*root != s.state_root()) {
            throw std::runtime_error(
                "pel-bench: the StateStore root of the base state differs "
                "from the MemState root");
        }
        view_ = store_->view();
        latency_ =
            std::make_unique<bench::LatencyView>(*view_, std::chrono::microseconds(latency_us));
    }
    exec::ConcurrentStateReader& begin_run() override {
        latency_->begin_run();
        reader_ = std::make_unique<exec::StateViewReader>(*latency_);
        return *reader_;
    }
    [[nodiscard]] std::optional<std::string> error() const override {
        auto e = reader_ ? reader_->error() : std::nullopt;
        return e ? std::optional<std::string>(e->message) : std::nullopt;
    }
    [[nodiscard]] uint64_t misses() const override { return latency_->misses(); }

  private:
    TempDir dir_;
    std::unique_ptr<pel::state::StateStore> store_;
    std::shared_ptr<const pel::state::StateView> view_;
    std::unique_ptr<bench::LatencyView> latency_;
    std::unique_ptr<exec::StateViewReader> reader_;
};

/// First difference between two receipt lists, or "" if equal.
std::string receipts_diff(const std::vector<exec::Receipt>& want,
                          const std::vector<exec::Receipt>& got) {
    if (want.size() != got.size()) {
        return "receipt count " + std::to_string(got.size()) + " != " + std::to_string(want.size());
    }
    for (size_t i = 0; i < want.size(); ++i) {
        const exec::Receipt& a = want[i];
        const exec::Receipt& b = got[i];
        if (a.success != b.success) {
            return "txn " + std::to_string(i) + ": status differs";
        }
        if (a.gas_used != b.gas_used || a.cumulative_gas_used != b.cumulative_gas_used) {
            return "txn " + std::to_string(i) + ": gas " + std::to_string(b.gas_used) +
                   " != " + std::to_string(a.gas_used);
        }
        if (a.logs != b.logs || a.bloom != b.bloom || a.type != b.type ||
            a.blob_gas_used != b.blob_gas_used) {
            return "txn " + std::to_string(i) + ": logs differ";
        }
    }
    return "";
}

std::string diff_diff(const exec::TxnWrites& want, const exec::TxnWrites& got) {
    if (want.accounts.size() != got.accounts.size()) {
        return "diff touches " + std::to_string(got.accounts.size()) + " accounts, not " +
               std::to_string(want.accounts.size());
    }
    for (size_t i = 0; i < want.accounts.size(); ++i) {
        if (!(want.accounts[i] == got.accounts[i])) {
            return "diff differs at account " + pel::to_hex(want.accounts[i].address.bytes);
        }
    }
    return "";
}

Hash32 post_root(const pel::state::MemState& base, const exec::TxnWrites& diff) {
    pel::state::MemState s = base;
    exec::apply_writes(s, diff);
    return s.state_root();
}

struct Failure {
    std::string what;
};

/// How much of `t` cores the machine gives this block's work: `t` copies of the sequential
/// executor run the same block at once, one thread each, on the same base reader (no shared
/// writes, no coordination), and `t` x (the sequential time alone, median) / (the copies' wall
/// time, median) is their speedup. It falls below `t` when the cores share caches, memory
/// bandwidth or a host busy with other tenants, in the same minutes as the parallel runs beside it.
/// It is a reference, not a bound: each copy does the whole block's work (twice the writes and
/// allocation of one run), so Block-STM, which splits one block's work, can exceed it. Measured at
/// 2 <= t <= the hardware threads (past that, copies only time-share) and without simulated read
/// latency (the copies would share one simulated cache).
bool measures_copies(const Options& opt, size_t t) {
    return t >= 2 && t <= std::thread::hardware_concurrency() && opt.read_latency_us == 0;
}

/// The first two CPUs this process may run on, if it may run on two.
std::optional<std::array<size_t, 2>> two_cpus() {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) != 0) {
        return std::nullopt;
    }
    std::array<size_t, 2> cpus{};
    size_t found = 0;
    for (size_t c = 0; c < static_cast<size_t>(CPU_SETSIZE) && found < 2; ++c) {
        if (CPU_ISSET(c, &set)) {
            cpus[found++] = c;
        }
    }
    return found == 2 ? std::optional(cpus) : std::nullopt;
}

/// How long a cache line takes to go from one core to the other and back, in ns: two threads,
/// pinned to the first two CPUs of the process, hand a counter to each other `iters` times (the
/// median of 5 such trips of iters / 5). Block-STM's workers share cache lines (the scheduler's
/// indices, the version memory's locks, hot chains), so its 2-thread time moves with this figure,
/// which a virtual machine's host can change from one second to the next (this machine: 50-60 ns
/// most of the time, 330-360 ns for seconds at a time, when 2-thread transfer blocks took 18 ms
/// instead of 11); independent work such as sender recovery or the sequential copies hardly
/// notices. Nullopt when the process cannot run on two CPUs or pinning fails.
///
/// Concurrency: `ball` is the only location both threads write, in turn (odd values by the
/// serving thread, even ones by the echoing one, each waiting for the other's); `trips` is written
/// by the serving thread alone and read after both joined. Every wait yields now and then, so two
/// threads left on one CPU (pinning refused) still finish.
std::optional<double> core_round_trip_ns(uint32_t iters = 20000) {
    const auto cpus = two_cpus();
    if (!cpus) {
        return std::nullopt;
    }
    struct alignas(64) Ball {
        std::atomic<uint32_t> value{0};
    };
    Ball ball;
    std::atomic<int> pinned{0};
    std::atomic<bool> failed{false};
    const auto pin = [&](size_t cpu) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set) != 0) {
            failed.store(true);
        }
        pinned.fetch_add(1);
        while (pinned.load() < 2) {
            std::this_thread::yield();
        }
    };
    // Waits for `want`.
    const auto wait_for = [&](uint32_t want) {
        for (unsigned spins = 1; ball.value.load(std::memory_order_acquire) != want; ++spins) {
            if (spins % 4096 == 0) {
                std::this_thread::yield();
            }
        }
    };
    std::vector<double> trips;
    std::thread echo([&] {
        pin((*cpus)[1]);
        for (uint32_t i = 0; i < iters; ++i) {
            wait_for(2 * i + 1);
            ball.value.store(2 * i + 2, std::memory_order_release);
        }
    });
    std::thread serve([&] {
        pin((*cpus)[0]);
        const uint32_t per_trip = std::max<uint32_t>(iters / 5, 1);
        for (uint32_t i = 0; i < iters; i += per_trip) {
            const auto t0 = Clock::now();
            const uint32_t end = std::min(iters, i + per_trip);
            for (uint32_t k = i; k < end; ++k) {
                ball.value.store(2 * k + 1, std::memory_order_release);
                wait_for(2 * k + 2);
            }
            trips.push_back(std::chrono::duration<double, std::nano>(Clock::now() - t0).count() /
                            static_cast<double>(end - i));
        }
    });
    serve.join();
    echo.join();
    if (failed.load()) {
        return std::nullopt;
    }
    return median(trips);
}

/// Runs the copies: copy 0 on the calling thread (which ran the sequential reference, as the
/// parallel executor's calling thread is one of its workers) and the others on helper threads
/// kept for the object's lifetime, as the executor keeps its workers (fresh threads would pay
/// for cold allocator caches and page faults on every run, which short blocks feel).
///
/// Concurrency invariants:
/// - `generation_`, `participants_`, `job_` and `stop_` change only under `mu_`; a helper reads
///   them under `mu_` when woken, and helper k (1-based) joins a generation only if
///   k < participants_. Only participants dereference `job_`.
/// - run() publishes a job, waits until every participant is ready, starts the clock, releases
///   them (`go_`), runs copy 0, then waits until `pending_` is zero: every participant has
///   finished with the job (its last access happens before its release decrement), so the job's
///   references to run()'s locals never outlive run().
/// - Each participant writes only its own slot of the job's outputs and end times.
class SequentialCopies {
  public:
    SequentialCopies() = default;
    SequentialCopies(const SequentialCopies&) = delete;
    SequentialCopies& operator=(const SequentialCopies&) = delete;
    SequentialCopies(SequentialCopies&&) = delete;
    SequentialCopies& operator=(SequentialCopies&&) = delete;
    ~SequentialCopies() {
        {
            const std::lock_guard lock(mu_);
            stop_ = true;
        }
        cv_.notify_all();
    }  // the helpers (jthreads) join

    /// Runs `copies` executions of the block at once; returns the ms from their common start to
    /// the last one's end. Throws Failure if a copy's result differs from `want`.
    double run(size_t copies, const bench::Block& block, exec::ConcurrentStateReader& base,
               const exec::BlockOutput& want, const std::string& label) {
        while (executors_.size() < copies) {
            executors_.push_back(std::make_unique<exec::SequentialExecutor>());
        }
        while (helpers_.size() + 1 < copies) {
            const size_t k = helpers_.size() + 1;
            helpers_.emplace_back([this, k] { helper(k); });
        }
        std::vector<std::optional<pel::Result<exec::BlockOutput, exec::BlockError>>> outs(copies);
        std::vector<Clock::time_point> ends(copies);
        Job job{&block, &base, &outs, &ends};
        ready_.store(0, std::memory_order_relaxed);
        go_.store(false, std::memory_order_relaxed);
        pending_.store(copies - 1, std::memory_order_relaxed);
        {
            const std::lock_guard lock(mu_);
            job_ = &job;
            participants_ = copies;
            ++generation_;
        }
        cv_.notify_all();
        while (ready_.load(std::memory_order_acquire) + 1 < copies) {
            std::this_thread::yield();
        }
        const Clock::time_point t0 = Clock::now();
        go_.store(true, std::memory_order_release);
        run_copy(job, 0);
        while (pending_.load(std::memory_order_acquire) != 0) {
            std::this_thread::yield();
        }
        const double wall = std::chrono::duration<double, std::milli>(
                                *std::max_element(ends.begin(), ends.end()) - t0)
                                .count();
        for (size_t i = 0; i < copies; ++i) {
            const auto& out = *outs[i];
            if (!out) {
                throw Failure{label + ": a concurrent sequential copy says the block is invalid"};
            }
            if (const std::string d =
                    receipts_diff(want.receipts, out->receipts) + diff_diff(want.diff, out->diff);
                !d.empty()) {
                throw Failure{label + ": concurrent sequential copies differ: " + d};
            }
        }
        return wall;
    }

  private:
    struct Job {
        const bench::Block* block;
        exec::ConcurrentStateReader* base;
        std::vector<std::optional<pel::Result<exec::BlockOutput, exec::BlockError>>>* outs;
        std::vector<Clock::time_point>* ends;
    };

    void run_copy(const Job& job, size_t k) {
        (*job.outs)[k].emplace(
            executors_[k]->execute(job.block->env, job.block->txns, job.block->senders, *job.base));
        (*job.ends)[k] = Clock::now();
    }

    void helper(size_t k) {
        uint64_t seen = 0;
        for (;;) {
            const Job* job = nullptr;
            {
                std::unique_lock lock(mu_);
                cv_.wait(lock, [&] { return stop_ || generation_ != seen; });
                if (stop_) {
                    return;
                }
                seen = generation_;
                if (k >= participants_) {
                    continue;
                }
                job = job_;
            }
            ready_.fetch_add(1, std::memory_order_release);
            while (!go_.load(std::memory_order_acquire)) {
                std::this_thread::yield();
            }
            run_copy(*job, k);
            pending_.fetch_sub(1, std::memory_order_release);
        }
    }

    std::vector<std::unique_ptr<exec::SequentialExecutor>> executors_;
    std::mutex mu_;
    std::condition_variable cv_;
    uint64_t generation_ = 0;
    size_t participants_ = 0;
    const Job* job_ = nullptr;
    bool stop_ = false;
    std::atomic<size_t> ready_{0};
    std::atomic<bool> go_{false};
    std::atomic<size_t> pending_{0};
    std::vector<std::jthread> helpers_;  ///< last: joined first, while the rest is alive
};

/// Runs one configuration; appends one JSON record per thread count. Throws Failure on a
/// mismatch or an invalid block.
void run_config(const Options& opt, const bench::WorkloadSpec& spec, nlohmann::json& records,
                Progress& progress) {
    const std::string label = spec.workload + " N=" + std::to_string(spec.accounts) +
                              " P=" + std::to_string(spec.pools) +
                              " T=" + std::to_string(spec.txns);
    const auto g0 = Clock::now();
    auto block = bench::make_block(spec);
    if (!block) {
        throw Failure{block.error().message};
    }
    const double gen_ms = ms_since(g0);
    std::unique_ptr<Base> base;
    if (opt.state == "leveldb") {
        base = std::make_unique<StoreBase>(block->state, opt.cache_mb, opt.read_latency_us);
    } else {
        base = std::make_unique<MemoryBase>(block->state);
    }
    const size_t n = block->txns.size();

    // Sender recovery, its own stage.
    std::vector<double> recovery_ms;
    for (const size_t t : opt.threads) {
        std::vector<double> ms;
        for (size_t r = 0; r < opt.recovery_repeat; ++r) {
            const auto t0 = Clock::now();
            auto senders = exec::recover_senders(block->txns, t);
            ms.push_back(ms_since(t0));
            if (!senders || *senders != block->senders) {
                throw Failure{label + ": sender recovery does not give the signers"};
            }
        }
        recovery_ms.push_back(median(ms));
    }

    // Rounds: the sequential run, one parallel run per thread count and the copies, so that a
    // change of load on a shared machine hits every executor alike (in a rotating order, see
    // below). The first `warmup` rounds are checked but not timed. The reference is the first
    // sequential run.
    exec::SequentialExecutor seq;
    SequentialCopies copies;
    std::optional<exec::BlockOutput> want;
    Hash32 want_root;
    std::vector<double> seq_ms;
    std::vector<double> round_trip_ns;  ///< core_round_trip_ns() before each timed round
    uint64_t seq_misses = 0;
    struct PerThreads {
        std::unique_ptr<exec::ParallelExecutor> executor;
        std::vector<double> ms;
        double re_exec = 0;
        double validations = 0;
        double aborts = 0;
        double waits = 0;
        std::array<double, 4> phase_ms{};
        size_t fallbacks = 0;
        std::string fallback;
        uint64_t misses = 0;
        std::vector<double> copies_ms;  ///< wall time of `threads` sequential copies at once
    };
    std::vector<PerThreads> par(opt.threads.size());
    for (size_t ti = 0; ti < opt.threads.size(); ++ti) {
        exec::ParallelOptions po;
        po.threads = opt.threads[ti];
        po.fallback = opt.fallback;
        par[ti].executor = std::make_unique<exec::ParallelExecutor>(po);
    }
    // Timed rounds: --repeat, or more while the sequential runs so far add up to less than
    // --min-time-ms (short blocks on a shared machine need more samples), at most 100 times more.
    size_t rounds = opt.repeat;
    double seq_total_ms = 0;
    for (size_t r = 0; r < opt.warmup + rounds; ++r) {
        const bool timed = r >= opt.warmup;
        if (timed) {
            if (const auto rt = core_round_trip_ns()) {
                round_trip_ns.push_back(*rt);
            }
        }
        const auto run_sequential = [&] {
            exec::ConcurrentStateReader& reader = base->begin_run();
            const auto t0 = Clock::now();
            auto out = seq.execute(block->env, block->txns, block->senders, reader);
            const double elapsed = ms_since(t0);
            seq_misses = base->misses();
            if (auto e = base->error()) {
                throw Failure{label + ": state read error: " + *e};
            }
            if (!out) {
                throw Failure{label + ": the block is invalid at txn " +
                              std::to_string(out.error().txn_idx) + " (" +
                              std::string(exec::to_string(out.error().error)) + ")"};
            }
            if (!want) {
                for (size_t i = 0; i < n; ++i) {
                    if (!out->receipts[i].success) {
                        throw Failure{label + ": txn " + std::to_string(i) +
                                      " reverted in the sequential run (a generator bug)"};
                    }
                }
                want = std::move(*out);
                want_root = post_root(block->state, want->diff);
            } else if (const std::string d = receipts_diff(want->receipts, out->receipts) +
                                             diff_diff(want->diff, out->diff);
                       !d.empty()) {
                throw Failure{label + ": sequential runs differ: " + d};
            }
            if (timed) {
                seq_ms.push_back(elapsed);
                seq_total_ms += elapsed;
                if (r + 1 == opt.warmup + rounds && seq_total_ms < opt.min_time_ms &&
                    rounds < 100 * opt.repeat) {
                    ++rounds;
                }
            }
            progress.step(label + " sequential");
        };
        const auto run_parallel = [&](size_t ti) {
            const size_t t = opt.threads[ti];
            PerThreads& pt = par[ti];
            exec::ConcurrentStateReader& reader = base->begin_run();
            const auto t0 = Clock::now();
            auto out = pt.executor->execute(block->env, block->txns, block->senders, reader);
            const double elapsed = ms_since(t0);
            pt.misses = base->misses();
            if (auto e = base->error()) {
                throw Failure{label + ": state read error: " + *e};
            }
            if (!out) {
                throw Failure{label + ": MISMATCH: parallel x" + std::to_string(t) +
                              " says the block is invalid at txn " +
                              std::to_string(out.error().txn_idx) + "; sequential executed it"};
            }
            if (opt.test_inject_mismatch && !out->receipts.empty()) {
                out->receipts.back().gas_used += 1;  // proves that the check below can fail
            }
            const std::string d =
                receipts_diff(want->receipts, out->receipts) + diff_diff(want->diff, out->diff);
            if (!d.empty() || out->gas_used != want->gas_used) {
                throw Failure{label + ": MISMATCH between sequential and parallel x" +
                              std::to_string(t) + ": " + (d.empty() ? "block gas" : d)};
            }
            if (r == 0 && post_root(block->state, out->diff) != want_root) {
                throw Failure{label + ": MISMATCH: parallel x" + std::to_string(t) +
                              " post-state root differs"};
            }
            progress.step(label + " x" + std::to_string(t));
            if (!timed) {
                return;
            }
            pt.ms.push_back(elapsed);
            const exec::BlockStats& s = out->stats;
            pt.re_exec += static_cast<double>(s.re_executions);
            pt.validations += static_cast<double>(s.validations);
            pt.aborts += static_cast<double>(s.aborts);
            pt.waits += static_cast<double>(s.dependency_waits);
            pt.phase_ms[0] += s.setup_ms;
            pt.phase_ms[1] += s.workers_ms;
            pt.phase_ms[2] += s.finish_ms;
            pt.phase_ms[3] += s.teardown_ms;
            if (!s.fallback.empty()) {
                ++pt.fallbacks;
                pt.fallback = s.fallback;
            }
        };
        const auto run_copies = [&](size_t ti) {
            const size_t t = opt.threads[ti];
            if (!measures_copies(opt, t)) {
                return;
            }
            const double wall = copies.run(t, *block, base->begin_run(), *want, label);
            if (timed) {
                par[ti].copies_ms.push_back(wall);
            }
        };
        // The runs of a round in a rotating order (the first round, which sets the reference,
        // starts with the sequential run): a run's speed depends on what ran just before it on
        // this machine (the sequential run right after the copies measured 1-10% slower than
        // right after the parallel runs), so no executor may always get the same place.
        const size_t steps = 1 + 2 * opt.threads.size();
        const size_t first = want ? r % steps : 0;
        for (size_t j = 0; j < steps; ++j) {
            const size_t k = (first + j) % steps;
            if (k == 0) {
                run_sequential();
            } else if (k <= opt.threads.size()) {
                run_parallel(k - 1);
            } else {
                run_copies(k - 1 - opt.threads.size());
            }
        }
    }
    const double seq_median = median(seq_ms);
    const double gas = static_cast<double>(want->gas_used);

    progress.clear();
    std::printf("\n%s: %s\n", label.c_str(), block->shape.c_str());
    std::printf("  generated in %.0f ms (%zu setup txns); gas %llu; post-state root %s\n", gen_ms,
                block->setup_txns, static_cast<unsigned long long>(want->gas_used),
                pel::to_hex(want_root.bytes).c_str());
    std::printf("  sequential %10.2f ms %10.0f tx/s %8.1f Mgas/s", seq_median,
                static_cast<double>(n) * 1e3 / seq_median, gas / seq_median / 1e3);
    if (opt.read_latency_us > 0) {
        std::printf("  (%llu reads paid %zu us)", static_cast<unsigned long long>(seq_misses),
                    opt.read_latency_us);
    }
    std::printf("\n  %7s %10s %8s %8s %10s %8s %8s %8s %9s %s\n", "threads", "ms", "speedup",
                "copies", "tx/s", "Mgas/s", "reexec/tx", "valid/tx", "recov ms", "fallback");

    for (size_t ti = 0; ti < opt.threads.size(); ++ti) {
        const size_t t = opt.threads[ti];
        const PerThreads& pt = par[ti];
        const double p = median(pt.ms);
        const double runs = static_cast<double>(rounds);
        const double per_txn = runs * static_cast<double>(n);
        const std::string fb = pt.fallbacks == 0
                                   ? "none"
                                   : pt.fallback + " (" + std::to_string(pt.fallbacks) + "/" +
                                         std::to_string(rounds) + " runs)";
        // 0 when not measured (see measures_copies).
        const double copies_speedup =
            pt.copies_ms.empty() ? 0.0 : static_cast<double>(t) * seq_median / median(pt.copies_ms);
        char copies_text[16] = "-";
        if (copies_speedup > 0) {
            std::snprintf(copies_text, sizeof copies_text, "%.2fx", copies_speedup);
        }
        std::printf("  %7zu %10.2f %7.2fx %8s %10.0f %8.1f %9.3f %8.3f %9.2f %s\n", t, p,
                    seq_median / p, copies_text, static_cast<double>(n) * 1e3 / p, gas / p / 1e3,
                    pt.re_exec / per_txn, pt.validations / per_txn, recovery_ms[ti], fb.c_str());

        nlohmann::json rec;
        rec["workload"] = spec.workload;
        rec["accounts"] = spec.accounts;
        rec["pools"] = spec.pools;
        rec["txs"] = n;
        rec["hot"] = spec.workload == "mixed" ? nlohmann::json(spec.hot) : nlohmann::json();
        rec["seed"] = spec.seed;
        rec["shape"] = block->shape;
        rec["setup_txs"] = block->setup_txns;
        rec["state"] = opt.state;
        rec["cache_mb"] = opt.state == "leveldb" ? nlohmann::json(opt.cache_mb) : nlohmann::json();
        rec["read_latency_us"] = opt.read_latency_us;
        rec["reads_with_latency"] = pt.misses;
        rec["repeat"] = rounds;
        rec["warmup"] = opt.warmup;
        rec["recovery_repeat"] = opt.recovery_repeat;
        rec["threads"] = t;
        rec["gas_used"] = want->gas_used;
        rec["sequential_ms"] = seq_median;
        rec["parallel_ms"] = p;
        rec["sequential_ms_min"] = *std::min_element(seq_ms.begin(), seq_ms.end());
        rec["parallel_ms_min"] = *std::min_element(pt.ms.begin(), pt.ms.end());
        rec["speedup"] = seq_median / p;
        rec["copies_speedup"] =
            copies_speedup > 0 ? nlohmann::json(copies_speedup) : nlohmann::json();
        rec["copies_ms_runs"] = pt.copies_ms;
        rec["sequential_tx_per_s"] = static_cast<double>(n) * 1e3 / seq_median;
        rec["parallel_tx_per_s"] = static_cast<double>(n) * 1e3 / p;
        rec["sequential_mgas_per_s"] = gas / seq_median / 1e3;
        rec["parallel_mgas_per_s"] = gas / p / 1e3;
        rec["re_executions_per_tx"] = pt.re_exec / per_txn;
        rec["validations_per_tx"] = pt.validations / per_txn;
        rec["aborts_per_tx"] = pt.aborts / per_txn;
        rec["dependency_waits_per_tx"] = pt.waits / per_txn;
        rec["phases_ms"] = {{"setup", pt.phase_ms[0] / runs},
                            {"workers", pt.phase_ms[1] / runs},
                            {"fold", pt.phase_ms[2] / runs},
                            {"teardown", pt.phase_ms[3] / runs}};
        rec["fallback"] = pt.fallbacks == 0 ? "" : pt.fallback;
        rec["fallback_runs"] = pt.fallbacks;
        rec["recovery_ms"] = recovery_ms[ti];
        rec["parallel_ms_runs"] = pt.ms;
        rec["sequential_ms_runs"] = seq_ms;
        rec["state_root"] = pel::to_hex(want_root.bytes);
        rec["equal"] = true;
        rec["core_round_trip_ns"] =
            round_trip_ns.empty() ? nlohmann::json() : nlohmann::json(median(round_trip_ns));
        rec["core_round_trip_ns_runs"] = round_trip_ns;
        records.push_back(std::move(rec));
    }
    if (!round_trip_ns.empty()) {
        const double rt_median = median(round_trip_ns);
        const auto slow = std::count_if(round_trip_ns.begin(), round_trip_ns.end(),
                                        [&](double x) { return x > 2 * rt_median; });
        std::printf(
            "  core-to-core round trip before each round: median %.0f ns, max %.0f ns, "
            "%zu of %zu rounds above twice the median\n",
            rt_median, *std::max_element(round_trip_ns.begin(), round_trip_ns.end()),
            static_cast<size_t>(slow), round_trip_ns.size());
    }
    std::fflush(stdout);
}

/// What both --profile modes start from: the generated block over an in-memory base, and the
/// sequential executor's result that every profiled run is checked against.
struct ProfileSetup {
    explicit ProfileSetup(const bench::WorkloadSpec& spec)
        : block(generate(spec)), base(block.state) {
        auto out = seq.execute(block.env, block.txns, block.senders, base.begin_run());
        if (!out) {
            throw Failure{"the block is invalid"};
        }
        want = std::move(*out);
    }
    static bench::Block generate(const bench::WorkloadSpec& spec) {
        auto b = bench::make_block(spec);
        if (!b) {
            throw Failure{b.error().message};
        }
        return std::move(*b);
    }
    /// Whether a run's result equals the reference (gas, receipts, diff).
    template <class Out>
    [[nodiscard]] bool matches(const Out& out) const {
        return out && out->gas_used == want.gas_used &&
               (receipts_diff(want.receipts, out->receipts) + diff_diff(want.diff, out->diff))
                   .empty();
    }

    bench::Block block;
    MemoryBase base;
    exec::SequentialExecutor seq;
    exec::BlockOutput want;
};

/// --profile: generates the block, runs the sequential executor once (the reference), then only
/// the chosen executor --repeat times (parallel: at the first --threads count), each run checked
/// against the reference. No recovery stage, no table: for instruction counts
/// (valgrind --tool=callgrind; compare totals of two --repeat values) and sampling profilers.
void profile_config(const Options& opt, const bench::WorkloadSpec& spec) {
    ProfileSetup ps(spec);
    const bench::Block* const block = &ps.block;
    MemoryBase& base = ps.base;
    exec::SequentialExecutor& seq = ps.seq;
    exec::ParallelOptions po;
    po.threads = opt.threads.front();
    po.fallback = opt.fallback;
    exec::ParallelExecutor par(po);
    std::vector<double> ms;
    std::array<std::vector<double>, 4> phases;
    for (size_t r = 0; r < opt.repeat; ++r) {
        exec::ConcurrentStateReader& reader = base.begin_run();
        const auto t0 = Clock::now();
        auto out = opt.profile == "sequential"
                       ? seq.execute(block->env, block->txns, block->senders, reader)
                       : par.execute(block->env, block->txns, block->senders, reader);
        ms.push_back(ms_since(t0));
        if (!ps.matches(out)) {
            throw Failure{"MISMATCH in the profiled runs"};
        }
        phases[0].push_back(out->stats.setup_ms);
        phases[1].push_back(out->stats.workers_ms);
        phases[2].push_back(out->stats.finish_ms);
        phases[3].push_back(out->stats.teardown_ms);
    }
    std::printf(
        "%s %s x%zu: median %.2f ms (fastest %.2f) over %zu runs (median phases: setup %.2f, "
        "workers %.2f, fold %.2f, teardown %.2f ms)\n",
        spec.workload.c_str(), opt.profile.c_str(),
        opt.profile == "sequential" ? size_t{1} : po.threads, median(ms),
        *std::min_element(ms.begin(), ms.end()), ms.size(), median(phases[0]), median(phases[1]),
        median(phases[2]), median(phases[3]));
}

/// The value at quantile q (0..1) of v.
double quantile(std::vector<double> v, double q) {
    if (v.empty()) {
        throw Failure{"internal: quantile of no measurements"};
    }
    std::sort(v.begin(), v.end());
    const auto i = static_cast<size_t>(q * static_cast<double>(v.size() - 1));
    return v[i];
}

/// ParallelOptions from "key=value,key=value" (keys: max_batch, fallback); throws Failure.
exec::ParallelOptions parse_variant(const std::string& text, size_t threads, bool fallback) {
    exec::ParallelOptions po;
    po.threads = threads;
    po.fallback = fallback;
    std::stringstream in(text);
    std::string item;
    while (std::getline(in, item, ',')) {
        const size_t eq = item.find('=');
        if (eq == std::string::npos) {
            throw Failure{"--variants: expected key=value, got '" + item + "'"};
        }
        const std::string key = item.substr(0, eq);
        const std::string value = item.substr(eq + 1);
        char* end = nullptr;
        const unsigned long long v = std::strtoull(value.c_str(), &end, 10);
        if (value.empty() || *end != '\0') {
            throw Failure{"--variants: bad number in '" + item + "'"};
        }
        if (key == "max_batch" && v >= 1) {
            po.max_batch = v;
        } else if (key == "fallback" && v <= 1) {
            po.fallback = v == 1;
        } else {
            throw Failure{"--variants: unknown key or bad value in '" + item + "'"};
        }
    }
    return po;
}

/// --profile compare: the sequential executor and each parallel variant (at the first --threads
/// count), one run each per round, interleaved (the variants in a rotating order), --repeat
/// rounds; every result checked against
/// the first sequential run. Reports the median and the 10th percentile of each, and the
/// speedups by both: on a shared machine the low percentile is the less disturbed figure.
void compare_config(const Options& opt, const bench::WorkloadSpec& spec) {
    ProfileSetup ps(spec);
    const bench::Block* const block = &ps.block;
    MemoryBase& base = ps.base;
    exec::SequentialExecutor& seq = ps.seq;
    std::vector<std::string> names;
    std::vector<std::unique_ptr<exec::ParallelExecutor>> pars;
    // No --variants means one run of the defaults (getline yields nothing on an empty string).
    std::stringstream in(opt.variants.empty() ? std::string("/") : opt.variants);
    std::string v;
    while (std::getline(in, v, '/')) {
        names.push_back(v.empty() ? "default" : v);
        pars.push_back(std::make_unique<exec::ParallelExecutor>(
            parse_variant(v, opt.threads.front(), opt.fallback)));
    }
    std::vector<double> seq_ms;
    std::vector<std::vector<double>> par_ms(pars.size());
    // Per variant: validations, re-executions, fallbacks.
    std::vector<std::array<double, 3>> counts(pars.size());
    // Calibration, timed in every round beside the executors: sender recovery of (up to) 1,000 of
    // the block's transactions on 1 and on T threads, a perfectly parallel job. Its speedup is
    // what the machine gave a second core at that moment (other load shrinks it).
    const std::span<const pel::Transaction> probe(block->txns.data(),
                                                  std::min<size_t>(block->txns.size(), 1000));
    std::vector<double> cal1_ms;
    std::vector<double> calt_ms;
    const auto check = [&](const auto& out) {
        if (!ps.matches(out)) {
            throw Failure{"MISMATCH in the compared runs"};
        }
    };
    for (size_t r = 0; r < opt.warmup + opt.repeat; ++r) {
        {
            const auto t0 = Clock::now();
            auto out = seq.execute(block->env, block->txns, block->senders, base.begin_run());
            const double e = ms_since(t0);
            check(out);
            if (r >= opt.warmup) {
                seq_ms.push_back(e);
            }
        }
        // By position, not by thread count: with --threads 1 both runs use one thread (and
        // classifying them by count left the T-thread list empty).
        for (const bool one : {true, false}) {
            const auto t0 = Clock::now();
            const auto rec = exec::recover_senders(probe, one ? size_t{1} : opt.threads.front());
            const double e = ms_since(t0);
            if (!rec) {
                throw Failure{"sender recovery failed"};
            }
            if (r >= opt.warmup) {
                (one ? cal1_ms : calt_ms).push_back(e);
            }
        }
        // Each round starts at the next variant: the run right after the calibration (or
        // after another variant) is not always the same one.
        for (size_t j = 0; j < pars.size(); ++j) {
            const size_t k = (r + j) % pars.size();
            const auto t0 = Clock::now();
            auto out = pars[k]->execute(block->env, block->txns, block->senders, base.begin_run());
            const double e = ms_since(t0);
            check(out);
            if (r >= opt.warmup) {
                par_ms[k].push_back(e);
                counts[k][0] += static_cast<double>(out->stats.validations);
                counts[k][1] += static_cast<double>(out->stats.re_executions);
                counts[k][2] += out->stats.fallback.empty() ? 0 : 1;
            }
        }
    }
    const double s50 = median(seq_ms);
    const double s10 = quantile(seq_ms, 0.1);
    std::printf("%s N=%zu P=%zu T=%zu, %zu rounds: sequential median %.2f ms, p10 %.2f ms\n",
                spec.workload.c_str(), spec.accounts, spec.pools, spec.txns, seq_ms.size(), s50,
                s10);
    std::printf(
        "  calibration (sender recovery of %zu txns, 1 vs %zu threads): median %.3fx, p10 %.3fx\n",
        probe.size(), opt.threads.front(), median(cal1_ms) / median(calt_ms),
        quantile(cal1_ms, 0.1) / quantile(calt_ms, 0.1));
    for (size_t k = 0; k < pars.size(); ++k) {
        const double p50 = median(par_ms[k]);
        const double p10 = quantile(par_ms[k], 0.1);
        const double per_txn = static_cast<double>(par_ms[k].size() * block->txns.size());
        std::printf(
            "  x%zu %-24s median %7.2f ms (%.3fx)  p10 %7.2f ms (%.3fx)  valid/tx %.3f "
            "reexec/tx %.3f fallbacks %.0f\n",
            opt.threads.front(), names[k].c_str(), p50, s50 / p50, p10, s10 / p10,
            counts[k][0] / per_txn, counts[k][1] / per_txn, counts[k][2]);
    }
    std::fflush(stdout);
}

/// The plot panel of a record: its workload, and the state and latency when not in memory.
std::string panel_of(const nlohmann::json& r) {
    std::string key = r["workload"].get<std::string>();
    if (r["state"] == "leveldb") {
        key += ", leveldb";
        if (r["read_latency_us"].get<size_t>() > 0) {
            key += ", " + std::to_string(r["read_latency_us"].get<size_t>()) + " us reads";
        }
    }
    return key;
}

/// The line of a record within its panel.
std::string series_of(const nlohmann::json& r) {
    std::string key = "N=" + std::to_string(r["accounts"].get<size_t>());
    if (r["workload"] == "amm" || r["workload"] == "lending" || r["workload"] == "mixed") {
        key += " P=" + std::to_string(r["pools"].get<size_t>());
    }
    return key + " T=" + std::to_string(r["txs"].get<size_t>());
}

/// Writes a gnuplot script that draws speedup against threads, one panel per workload (and
/// state), one line per configuration, and runs gnuplot on it. Returns false (with a message)
/// when gnuplot fails.
bool plot(const nlohmann::json& records, const std::string& png) {
    // panel -> series -> (threads, speedup), in first-seen order.
    std::vector<std::pair<std::string, std::vector<std::pair<std::string, std::string>>>> panels;
    for (const auto& r : records) {
        const std::string panel = panel_of(r);
        const std::string series = series_of(r);
        auto p = std::find_if(panels.begin(), panels.end(),
                              [&](const auto& e) { return e.first == panel; });
        if (p == panels.end()) {
            panels.push_back({panel, {}});
            p = panels.end() - 1;
        }
        auto s = std::find_if(p->second.begin(), p->second.end(),
                              [&](const auto& e) { return e.first == series; });
        if (s == p->second.end()) {
            p->second.push_back({series, ""});
            s = p->second.end() - 1;
        }
        s->second += std::to_string(r["threads"].get<size_t>()) + " " +
                     std::to_string(r["speedup"].get<double>()) + "\n";
    }
    if (panels.empty()) {
        return true;
    }
    const size_t cols = panels.size() < 3 ? panels.size() : 3;
    const size_t rows = (panels.size() + cols - 1) / cols;
    std::ostringstream gp;
    gp << "set terminal pngcairo size " << 520 * cols << "," << 400 * rows << " font ',9'\n"
       << "set output '" << png << "'\n"
       << "set multiplot layout " << rows << "," << cols
       << " title 'pel-bench: Block-STM speedup over the sequential executor'\n"
       << "set logscale x 2\nset grid\nset key top left font ',8'\nset yrange [0:*]\n"
       << "set xlabel 'threads'\nset ylabel 'speedup'\n";
    size_t block = 0;
    for (const auto& [panel, series] : panels) {
        for (const auto& s : series) {
            gp << "$d" << block++ << " << EOD\n" << s.second << "EOD\n";
        }
    }
    block = 0;
    for (const auto& [panel, series] : panels) {
        gp << "set title '" << panel << "'\nplot ";
        for (size_t i = 0; i < series.size(); ++i) {
            gp << (i == 0 ? "" : ", ") << "$d" << block++ << " using 1:2 with linespoints title '"
               << series[i].first << "'";
        }
        gp << ", 1 with lines dashtype 2 lc 'gray' notitle\n";
    }
    gp << "unset multiplot\n";
    const std::string script_path = png + ".gp";
    {
        std::ofstream f(script_path);
        f << gp.str();
    }
    const std::string cmd = "gnuplot '" + script_path + "'";
    const int rc = std::system(cmd.c_str());
    std::filesystem::remove(script_path);
    if (rc != 0) {
        std::fprintf(stderr, "pel-bench: gnuplot failed (%d); is gnuplot-nox installed?\n", rc);
        return false;
    }
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    Options opt;
    CLI::App app{
        "pel-bench: Block-STM (parallel) against the sequential executor on generated blocks of "
        "signed transactions.\n"
        "For each configuration (every combination of the --workload, --accounts, --pools and "
        "--txs lists) it generates the block (deterministic in --seed), times sender recovery at "
        "each thread count, then runs --warmup untimed and --repeat timed rounds of one "
        "sequential run, one parallel run per thread count and, for each thread "
        "count t from 2 to the hardware threads (without --read-latency-us), t copies of the "
        "sequential run at once, in an order that rotates from round to round; checks that every "
        "parallel run and copy has the same receipts (status, gas, logs) and state diff as the "
        "sequential one and every parallel run the same "
        "post-state root (fails with exit status 1 otherwise), and prints median times, tx/s, "
        "Mgas/s, speedup, the copies' speedup (t x sequential time / their wall time: how much "
        "of t cores the machine gave this work, a reference rather than a bound), re-executions "
        "and validations per transaction, the fallback taken, and the core-to-core round trip "
        "(a cache line from the first CPU to the second and back, measured before each timed "
        "round: 2-thread Block-STM slows when it does).\n"
        "Workloads: transfer (plain transfers among N accounts); erc20 (OpenZeppelin ERC-20 "
        "transfers among N holders); amm (swaps of N traders through a router over P "
        "Uniswap-V2-style pairs; P=1 is one hot pool); lending (N users over P Compound-style "
        "markets: deposits, collateral, borrows, repays, an oracle price drop at mid-block, then "
        "liquidations); mixed (35% transfers, 25% ERC-20, 25% swaps, 15% lending, plus a --hot "
        "share of swaps on pool 0)."};
    app.add_option("--workload", opt.workloads,
                   "workload(s): transfer, erc20, amm, lending, mixed (comma-separated); "
                   "required unless --replot")
        ->delimiter(',')
        ->check(CLI::IsMember({"transfer", "erc20", "amm", "lending", "mixed"}));
    app.add_option("--accounts", opt.accounts,
                   "N: accounts / holders / traders / users, >= 2 (comma-separated list)")
        ->delimiter(',')
        ->check(CLI::Range(size_t{2}, size_t{10'000'000}))
        ->capture_default_str();
    app.add_option("--pools", opt.pools,
                   "P: AMM pairs (amm, mixed) and lending markets (lending, mixed); ignored by "
                   "transfer and erc20 (comma-separated list)")
        ->delimiter(',')
        ->check(CLI::Range(size_t{1}, size_t{100'000}))
        ->capture_default_str();
    app.add_option("--txs", opt.txs, "transactions per block (comma-separated list)")
        ->delimiter(',')
        ->check(CLI::Range(size_t{1}, size_t{10'000'000}))
        ->capture_default_str();
    app.add_option("--threads", opt.threads, "parallel executor thread counts, e.g. 1,2,4,8,16,32")
        ->delimiter(',')
        ->check(CLI::Range(size_t{1}, size_t{1024}))
        ->capture_default_str();
    app.add_option("--state", opt.state,
                   "base state: memory (state::MemState) or leveldb (a StateStore built in a "
                   "temporary directory, removed at exit, read through exec::StateViewReader)")
        ->check(CLI::IsMember({"memory", "leveldb"}))
        ->capture_default_str();
    app.add_option("--cache-mb", opt.cache_mb,
                   "leveldb: the StateStore read cache (StateStoreOptions::cache_bytes), MiB")
        ->capture_default_str();
    app.add_option("--read-latency-us", opt.read_latency_us,
                   "leveldb: simulated storage latency. Each run starts with a cold simulated "
                   "cache: the first read of each distinct key (account, storage slot, code) "
                   "that reaches the StateView in a run sleeps this many microseconds; later "
                   "reads of that key in the run do not (they wait only while its first read "
                   "is still sleeping). Sequential and parallel runs pay it alike")
        ->capture_default_str();
    app.add_option("--repeat", opt.repeat,
                   "timed rounds (one run per executor and thread count each; the median is "
                   "reported)")
        ->check(CLI::Range(size_t{1}, size_t{1000}))
        ->capture_default_str();
    app.add_option("--warmup", opt.warmup,
                   "untimed runs before the timed ones, per executor and thread count (their "
                   "results are checked too)")
        ->capture_default_str();
    app.add_option("--min-time-ms", opt.min_time_ms,
                   "add timed rounds (up to 100 x --repeat) until the timed sequential runs "
                   "add up to this many milliseconds: more samples for short blocks")
        ->check(CLI::Range(0.0, 1e7))
        ->capture_default_str();
    app.add_option("--recovery-repeat", opt.recovery_repeat,
                   "timed sender recoveries per thread count (the median is reported)")
        ->check(CLI::Range(size_t{1}, size_t{1000}))
        ->capture_default_str();
    app.add_option("--hot", opt.hot, "mixed: share of transactions that swap on pool 0 (0..1)")
        ->check(CLI::Range(0.0, 1.0))
        ->capture_default_str();
    app.add_option("--seed", opt.seed, "generator seed")->capture_default_str();
    app.add_flag("!--no-fallback", opt.fallback,
                 "disable the parallel executor's contention fallback to in-order execution");
    app.add_option("--json", opt.json, "write one JSON record per configuration and thread count");
    app.add_option(
        "--plot", opt.plot,
        "write a PNG of speedup against threads: one panel per workload (and state), one "
        "line per configuration (runs gnuplot with pngcairo)");
    app.add_option("--replot", opt.replot,
                   "run nothing: read the records of this JSON file (written by --json, or "
                   "several merged into one \"records\" array) and write the --plot PNG")
        ->check(CLI::ExistingFile);
    app.add_flag("--test-inject-mismatch", opt.test_inject_mismatch,
                 "test hook: add 1 to the gas of the last receipt of every parallel run before "
                 "the comparison (the run must then fail with MISMATCH)");
    app.add_flag("!--no-progress", opt.progress, "no progress bar (shown only on a terminal)");
    app.add_option("--profile", opt.profile,
                   "for profilers: run only this executor --repeat times (parallel at the first "
                   "--threads count) after one sequential reference run, memory state, no "
                   "recovery stage or table")
        ->check(CLI::IsMember({"sequential", "parallel", "compare"}));
    app.add_option("--variants", opt.variants,
                   "--profile compare: parallel executor variants, '/'-separated, each a "
                   "comma-separated list of key=value (max_batch=N, fallback=0|1; empty: the "
                   "defaults), e.g. 'max_batch=1/max_batch=16'");
    CLI11_PARSE(app, argc, argv);

    if (!opt.replot.empty()) {
        if (opt.plot.empty()) {
            std::fprintf(stderr, "pel-bench: --replot needs --plot\n");
            return 2;
        }
        std::ifstream f(opt.replot);
        const nlohmann::json doc = nlohmann::json::parse(f, nullptr, false);
        if (doc.is_discarded() || !doc.contains("records") || !doc["records"].is_array()) {
            std::fprintf(stderr, "pel-bench: %s is not a pel-bench JSON file\n",
                         opt.replot.c_str());
            return 2;
        }
        try {
            return plot(doc["records"], opt.plot) ? 0 : 2;
        } catch (const nlohmann::json::exception& e) {
            std::fprintf(stderr, "pel-bench: %s: bad record: %s\n", opt.replot.c_str(), e.what());
            return 2;
        }
    }
    if (opt.workloads.empty()) {
        std::fprintf(stderr, "pel-bench: --workload is required (see --help)\n");
        return 2;
    }
    if (opt.read_latency_us > 0 && opt.state != "leveldb") {
        std::fprintf(stderr, "pel-bench: --read-latency-us needs --state leveldb\n");
        return 2;
    }
    std::sort(opt.threads.begin(), opt.threads.end());
    opt.threads.erase(std::unique(opt.threads.begin(), opt.threads.end()), opt.threads.end());

    std::vector<bench::WorkloadSpec> specs;
    for (const std::string& w : opt.workloads) {
        const bool uses_pools = w == "amm" || w == "lending" || w == "mixed";
        for (const size_t a : opt.accounts) {
            for (const size_t p : uses_pools ? opt.pools : std::vector<size_t>{1}) {
                for (const size_t t : opt.txs) {
                    specs.push_back(bench::WorkloadSpec{w, a, p, t, opt.hot, opt.seed});
                }
            }
        }
    }

    double load[3] = {0, 0, 0};
    const int nload = getloadavg(load, 3);
    std::string command;
    for (int i = 0; i < argc; ++i) {
        command += (i == 0 ? "pel-bench" : std::string(" ") + argv[i]);
    }
    const std::string malloc_used = pel::log::malloc_name();
    std::printf("%s\n%u hardware threads, load average %.2f %.2f %.2f at start, malloc: %s\n",
                command.c_str(), std::thread::hardware_concurrency(), load[0], load[1], load[2],
                malloc_used.c_str());

    nlohmann::json records = nlohmann::json::array();
    Progress progress(specs.size() * (opt.warmup + opt.repeat) * (1 + opt.threads.size()),
                      opt.progress);
    int status = 0;
    for (const bench::WorkloadSpec& spec : specs) {
        try {
            if (opt.profile == "compare") {
                compare_config(opt, spec);
                continue;
            }
            if (!opt.profile.empty()) {
                profile_config(opt, spec);
                continue;
            }
            run_config(opt, spec, records, progress);
        } catch (const Failure& f) {
            progress.clear();
            std::fprintf(stderr, "pel-bench: FAILED: %s\n", f.what.c_str());
            status = 1;
            break;
        } catch (const std::exception& e) {
            progress.clear();
            std::fprintf(stderr, "%s\n", e.what());
            status = 1;
            break;
        }
    }
    progress.clear();

    if (!opt.json.empty()) {
        nlohmann::json doc;
        doc["tool"] = "pel-bench";
        doc["command"] = command;
        doc["hardware_threads"] = std::thread::hardware_concurrency();
        doc["malloc"] = malloc_used;
        doc["load_average_at_start"] =
            nload == 3 ? nlohmann::json({load[0], load[1], load[2]}) : nlohmann::json();
        doc["ok"] = status == 0;
        doc["records"] = records;
        std::ofstream f(opt.json);
        f << doc.dump(2) << "\n";
        if (!f) {
            std::fprintf(stderr, "pel-bench: cannot write %s\n", opt.json.c_str());
            status = status == 0 ? 2 : status;
        }
    }
    if (!opt.plot.empty() && !plot(records, opt.plot)) {
        status = status == 0 ? 2 : status;
    }
    return status;
}
