// SPDX-License-Identifier: Apache-2.0
// Seeded simulation runs of the consensus engine. A failing run prints its seed and
// configuration; replay one seed with
//   PEL_SIM_SEED=<seed> build/cons/tests/sim/pel_consensus_sim_test
//   --gtest_filter=ConsensusSim.tool_replay_seed
#include "tests/sim/sim.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace {

using pel::sim::random_config;
using pel::sim::run_simulation;
using pel::sim::SimConfig;
using pel::sim::SimResult;

// Sanitizer builds (CI runs the consensus tests under TSan) are ~10x slower: their default run
// counts are a fifth of the release ones. The release build runs the full 1,000.
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
constexpr uint64_t kRunScale = 5;
#else
constexpr uint64_t kRunScale = 1;
#endif

uint64_t env_u64(const char* name, uint64_t fallback) {
    const char* v = std::getenv(name);
    return v != nullptr ? std::strtoull(v, nullptr, 10) : fallback;
}

std::string describe(const SimConfig& c, const SimResult& r) {
    return pel::sim::to_string(c) + " -> " + (r.failure.empty() ? "ok" : r.failure) + " (heights " +
           std::to_string(r.heal_height) + "->" + std::to_string(r.max_height) + ", liveness " +
           std::to_string(r.liveness_ms) + " ms, max round " + std::to_string(r.max_round) +
           ", messages " + std::to_string(r.messages) + ", garbage rejected " +
           std::to_string(r.garbage_rejected) + ", evidence " + std::to_string(r.evidence) + ")";
}

// The CI suite: PEL_SIM_RUNS (default 1000) seeded runs from PEL_SIM_FIRST_SEED (default 1),
// random n in {4, 7}, up to f faulty (crashed and/or Byzantine), lossy, duplicating, reordering
// and partitioned network until a random heal time. Runs are independent (each simulation is
// single-threaded and owns all its state), so PEL_SIM_THREADS (default 2) threads share the
// seeds; the outcome does not depend on the thread count.
TEST(ConsensusSim, safety_and_liveness_over_seeded_runs) {
    const uint64_t runs = env_u64("PEL_SIM_RUNS", 1000 / kRunScale);
    const uint64_t first = env_u64("PEL_SIM_FIRST_SEED", 1);
    const uint64_t threads = std::max<uint64_t>(1, env_u64("PEL_SIM_THREADS", 2));
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<SimResult> results(runs);
    std::vector<SimConfig> configs(runs);
    std::atomic<uint64_t> next{0};
    const auto worker = [&] {
        for (uint64_t i = next++; i < runs; i = next++) {
            configs[i] = random_config(first + i);
            results[i] = run_simulation(configs[i]);
        }
    };
    std::vector<std::thread> pool;
    for (uint64_t t = 1; t < threads; ++t) pool.emplace_back(worker);
    worker();
    for (auto& t : pool) t.join();
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    uint64_t failures = 0;
    uint64_t worst_liveness = 0;
    uint64_t max_round = 0;
    uint64_t byzantine_runs = 0;
    uint64_t evidence_runs = 0;
    uint64_t garbage = 0;
    for (uint64_t i = 0; i < runs; ++i) {
        const SimResult& r = results[i];
        worst_liveness = std::max(worst_liveness, r.liveness_ms);
        max_round = std::max(max_round, r.max_round);
        byzantine_runs += configs[i].byzantine > 0 ? 1U : 0U;
        evidence_runs += r.evidence > 0 ? 1U : 0U;
        garbage += r.garbage_rejected;
        if (!r.ok() && ++failures <= 10) {
            ADD_FAILURE() << "FAILED " << describe(configs[i], r);
        }
    }
    std::cout << "sim: " << runs << " runs on " << threads << " threads in " << secs
              << " s; worst liveness after heal " << worst_liveness << " ms virtual; max round "
              << max_round << "; runs with Byzantine validators " << byzantine_runs
              << " (equivocation detected in " << evidence_runs << "); garbage messages rejected "
              << garbage << "\n";
    EXPECT_EQ(failures, 0U);
}

// Runs with exactly f Byzantine validators (the worst case the protocol tolerates).
TEST(ConsensusSim, f_byzantine_validators_never_fork) {
    const uint64_t runs = env_u64("PEL_SIM_BYZ_RUNS", 200 / kRunScale);
    for (uint64_t seed = 1; seed <= runs; ++seed) {
        SimConfig cfg = random_config(seed + 1'000'000);
        cfg.byzantine = (cfg.validators - 1) / 3;
        cfg.crashed = 0;
        const SimResult r = run_simulation(cfg);
        ASSERT_TRUE(r.ok()) << "FAILED " << describe(cfg, r);
    }
}

// Runs with exactly f crash-stop validators (the honest rest is exactly a quorum: every one of
// them must take part in every decision after the heal).
TEST(ConsensusSim, f_crashed_validators_stay_live) {
    const uint64_t runs = env_u64("PEL_SIM_CRASH_RUNS", 200 / kRunScale);
    for (uint64_t seed = 1; seed <= runs; ++seed) {
        SimConfig cfg = random_config(seed + 3'000'000);
        cfg.crashed = (cfg.validators - 1) / 3;
        cfg.byzantine = 0;
        const SimResult r = run_simulation(cfg);
        ASSERT_TRUE(r.ok()) << "FAILED " << describe(cfg, r);
    }
}

// Same seed, same run: the trace of commits (time, validator, height, value) is identical.
TEST(ConsensusSim, runs_are_deterministic) {
    for (uint64_t seed : {7ULL, 42ULL, 1234ULL}) {
        const SimConfig cfg = random_config(seed);
        const SimResult a = run_simulation(cfg);
        const SimResult b = run_simulation(cfg);
        EXPECT_EQ(a.trace_hash, b.trace_hash) << pel::sim::to_string(cfg);
        EXPECT_EQ(a.messages, b.messages);
        EXPECT_EQ(a.end_ms, b.end_ms);
        EXPECT_NE(a.trace_hash, 0U);
    }
}

// The tests bite: with the locking rules switched off (a deliberate safety bug) and f Byzantine
// validators, the simulator finds a fork. If this ever stops failing safety, the suite above has
// lost its power to catch a real safety bug.
// The adversarial setting of the fork hunt: n = 4 with one Byzantine validator that prevotes
// everything to everyone and precommits everything to a random half, frequent partitions.
SimConfig fork_hunt_config(uint64_t seed, bool disable_locking) {
    SimConfig cfg = random_config(seed + 2'000'000);
    cfg.validators = 4;
    cfg.byzantine = 1;
    cfg.crashed = 0;
    cfg.byzantine_vote_everything = true;
    cfg.partitions = true;
    cfg.partition_ppm = 700'000;
    cfg.phase_min_ms = 300;
    cfg.max_delay_ms = 1 + cfg.max_delay_ms % 60;
    cfg.heal_ms = 3000;
    cfg.disable_locking = disable_locking;
    cfg.check_liveness = !disable_locking;
    cfg.liveness_bound_ms = disable_locking ? 0 : 30'000;
    return cfg;
}

TEST(ConsensusSim, disabling_locking_lets_the_simulator_find_a_fork) {
    const uint64_t max_seeds = env_u64("PEL_SIM_FORK_SEEDS", 3000);
    const bool count_all = env_u64("PEL_SIM_FORK_COUNT", 0) != 0;
    uint64_t first_fork = 0;
    uint64_t forks = 0;
    for (uint64_t seed = 1; seed <= max_seeds && (count_all || first_fork == 0); ++seed) {
        const SimConfig cfg = fork_hunt_config(seed, true);
        const SimResult r = run_simulation(cfg);
        if (!r.safe) {
            ++forks;
            if (first_fork == 0) {
                first_fork = seed;
                std::cout << "fork found: " << describe(cfg, r) << "\n";
            }
        }
    }
    if (count_all) std::cout << forks << " forks in " << max_seeds << " runs\n";
    EXPECT_NE(first_fork, 0U) << "no fork in " << max_seeds << " runs with locking disabled";
}

// The same adversary against the real engine (locking on): safe and live in every run.
TEST(ConsensusSim, fork_hunt_adversary_with_locking_is_safe) {
    const uint64_t runs = env_u64("PEL_SIM_FORK_CONTROL_RUNS", 300 / kRunScale);
    for (uint64_t seed = 1; seed <= runs; ++seed) {
        const SimConfig cfg = fork_hunt_config(seed, false);
        const SimResult r = run_simulation(cfg);
        ASSERT_TRUE(r.ok()) << "FAILED " << describe(cfg, r);
    }
}

// Regression: seed 1954 without slow links (a crashed validator's round-1 votes reached one
// validator only; before votes of the current round were relayed, the others stayed in round 0).
TEST(ConsensusSim, regression_seed_1954_round_evidence_is_relayed) {
    SimConfig cfg = random_config(1954);
    cfg.slow_link_ppm = 0;
    const SimResult r = run_simulation(cfg);
    EXPECT_TRUE(r.ok()) << describe(cfg, r);
}

TEST(ConsensusSim, tool_replay_seed) {
    const uint64_t seed = env_u64("PEL_SIM_SEED", 0);
    if (seed == 0) GTEST_SKIP() << "set PEL_SIM_SEED to replay one run";
    SimConfig cfg = random_config(seed);
    cfg.trace = env_u64("PEL_SIM_TRACE", 0) != 0;
    cfg.slow_link_ppm = static_cast<uint32_t>(env_u64("PEL_SIM_SLOW_PPM", cfg.slow_link_ppm));
    const SimResult r = run_simulation(cfg);
    std::cout << describe(cfg, r) << "\n";
    EXPECT_TRUE(r.ok());
}

}  // namespace
