// SPDX-License-Identifier: Apache-2.0
// Deterministic simulation of N consensus engines (tests/sim). One thread, one seeded PRNG, a
// virtual clock and an event queue ordered by (virtual time, sequence number): the same seed
// always gives the same run, event for event, so a failing seed can be replayed.
//
// The simulated network, until `heal_ms`, drops, delays (hence reorders) and duplicates
// messages and cuts the validators into changing partitions; after `heal_ms` it delivers every
// message within a bounded delay. Crashed validators stop at a random time (crash-stop).
// Byzantine validators run no engine: they sign conflicting votes and proposals for what they
// see (equivocation, different messages to different peers) and send garbage bytes.
//
// Checked in every run: safety (no two honest validators commit different values at one
// height), certificates (each commit's certificate verifies against the validator set), order
// (an honest validator commits heights 1, 2, 3, ... in order), and liveness (after the heal
// every honest validator commits `liveness_heights` heights beyond the highest height any
// honest validator had committed at the heal, within `liveness_bound_ms` of virtual time).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace pel::sim {

struct SimConfig {
    uint64_t seed = 1;
    size_t validators = 4;  ///< n; f = (n - 1) / 3
    size_t crashed = 0;     ///< crash-stop validators (crashed + byzantine <= f for liveness)
    size_t byzantine = 0;
    bool byzantine_garbage = true;  ///< Byzantine validators also send malformed bytes
    /// Byzantine voting strategy: false = each peer gets a vote for one random value seen (or
    /// nil); true = every peer gets prevotes for every value seen and nil, and a random half of
    /// the peers (fixed per height and round) get precommits for all of them (maximal
    /// equivocation, split decisions).
    bool byzantine_vote_everything = false;
    uint64_t heal_ms = 4000;            ///< end of the faulty-network phase
    uint32_t loss_ppm = 200'000;        ///< drop probability before the heal, per million
    uint32_t duplicate_ppm = 50'000;    ///< duplication probability before the heal
    uint64_t max_delay_ms = 400;        ///< delay is uniform in [1, max] before the heal
    uint64_t healed_max_delay_ms = 50;  ///< and in [1, this] after it
    bool partitions = true;             ///< random bipartitions before the heal
    uint32_t partition_ppm = 400'000;   ///< chance that a network phase is partitioned
    uint64_t phase_min_ms = 100;        ///< network phases last between min and max
    uint64_t phase_max_ms = 1500;
    uint32_t slow_link_ppm = 150'000;    ///< chance that a directed link is slow in a phase
    uint64_t slow_link_delay_ms = 1500;  ///< a slow link delays by [max_delay_ms, this]
    uint64_t liveness_heights = 3;
    uint64_t liveness_bound_ms = 30'000;
    bool disable_locking = false;  ///< TEST ONLY: honest engines run with the locking bug
    bool check_liveness = true;
    bool trace = false;  ///< print every delivery and timeout to stderr (for replaying a seed)
};

/// Derives a random configuration (n in {4, 7}, faults up to f split between crashed and
/// Byzantine, network parameters) from a seed. Deterministic.
[[nodiscard]] SimConfig random_config(uint64_t seed);

struct SimResult {
    bool safe = true;
    bool live = true;
    bool certificates_ok = true;
    std::string failure;            ///< first problem found, empty if none
    uint64_t max_height = 0;        ///< highest height committed by an honest validator
    uint64_t heal_height = 0;       ///< highest honest height at the heal
    uint64_t end_ms = 0;            ///< virtual time at the end of the run
    uint64_t liveness_ms = 0;       ///< virtual time from the heal until the liveness target
    uint64_t messages = 0;          ///< messages handed to the network
    uint64_t garbage_rejected = 0;  ///< deliveries the decoder rejected
    uint64_t evidence = 0;          ///< equivocations detected by honest engines
    uint64_t max_round = 0;         ///< highest round an honest engine reached
    uint64_t trace_hash = 0;  ///< digest of every commit event (time, validator, height, value)

    [[nodiscard]] bool ok() const { return safe && live && certificates_ok; }
};

/// Runs one simulation. Deterministic in `cfg`.
[[nodiscard]] SimResult run_simulation(const SimConfig& cfg);

[[nodiscard]] std::string to_string(const SimConfig& cfg);

}  // namespace pel::sim
