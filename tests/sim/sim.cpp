// SPDX-License-Identifier: Apache-2.0
#include "tests/sim/sim.hpp"

#include <algorithm>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <queue>
#include <set>
#include <sstream>
#include <tuple>
#include <utility>
#include <vector>

#include "consensus/certificate.hpp"
#include "consensus/engine.hpp"
#include "primitives/keccak.hpp"
#include "primitives/rlp.hpp"

namespace pel::sim {
namespace {

using consensus::CommitCertificate;
using consensus::Height;
using consensus::Message;
using consensus::Round;
using consensus::Timeout;

constexpr uint64_t kChainId = 0x5e1;
constexpr uint64_t kNever = std::numeric_limits<uint64_t>::max();

// xoshiro256** seeded through splitmix64: fully specified, so runs are identical on every
// platform and standard library (std::uniform_int_distribution is not).
class Rng {
  public:
    explicit Rng(uint64_t seed) {
        for (auto& w : s_) {
            seed += 0x9e3779b97f4a7c15ULL;
            uint64_t z = seed;
            z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
            z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
            w = z ^ (z >> 31);
        }
    }
    uint64_t next() noexcept {
        const uint64_t result = rotl(s_[1] * 5, 7) * 9;
        const uint64_t t = s_[1] << 17;
        s_[2] ^= s_[0];
        s_[3] ^= s_[1];
        s_[1] ^= s_[2];
        s_[0] ^= s_[3];
        s_[2] ^= t;
        s_[3] = rotl(s_[3], 45);
        return result;
    }
    /// Uniform in [0, n) (n > 0); the modulo bias is irrelevant for a simulator.
    uint64_t below(uint64_t n) noexcept { return n == 0 ? 0 : next() % n; }
    /// Uniform in [lo, hi].
    uint64_t between(uint64_t lo, uint64_t hi) noexcept { return lo + below(hi - lo + 1); }
    bool chance_ppm(uint32_t ppm) noexcept { return below(1'000'000) < ppm; }

  private:
    static uint64_t rotl(uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }
    uint64_t s_[4]{};
};

struct KeyRing {
    std::vector<Hash32> secrets;
    std::vector<Address> addresses;
};

// Validator keys are fixed (keccak of a label), computed once per process.
const KeyRing& key_ring() {
    static const KeyRing ring = [] {
        KeyRing k;
        for (size_t i = 0; i < 16; ++i) {
            const std::string label = "pel-sim-validator-" + std::to_string(i);
            const Hash32 secret = keccak256(as_bytes(label));
            auto addr = crypto::address_from_secret(secret);
            PEL_ASSERT(addr.has_value(), "sim key derivation failed");
            k.secrets.push_back(secret);
            k.addresses.push_back(*addr);
        }
        return k;
    }();
    return ring;
}

const Hash32 kGenesisRoot = keccak256(as_bytes("pel-sim-genesis"));

// The simulated "block": [height, parent_root, proposer, nonce, state_root], where state_root is
// what re-execution produces (keccak of the other fields). Validation re-derives it and checks
// the parent, as the node re-executes a block and compares state roots.
Hash32 execute(Height h, const Hash32& parent, uint64_t proposer, uint64_t nonce) {
    Bytes f;
    rlp::encode_uint(f, h);
    rlp::encode_bytes(f, parent.view());
    rlp::encode_uint(f, proposer);
    rlp::encode_uint(f, nonce);
    return keccak256(f);
}

Bytes make_payload(Height h, const Hash32& parent, uint64_t proposer, uint64_t nonce,
                   bool corrupt_root) {
    Hash32 root = execute(h, parent, proposer, nonce);
    if (corrupt_root) root.bytes[0] ^= 1;
    Bytes f;
    rlp::encode_uint(f, h);
    rlp::encode_bytes(f, parent.view());
    rlp::encode_uint(f, proposer);
    rlp::encode_uint(f, nonce);
    rlp::encode_bytes(f, root.view());
    Bytes out;
    rlp::encode_list(out, f);
    return out;
}

struct ParsedPayload {
    Height height = 0;
    Hash32 parent;
    uint64_t proposer = 0;
    uint64_t nonce = 0;
    Hash32 root;
};

Result<ParsedPayload> parse_payload(ByteView in) {
    rlp::Decoder top(in);
    PEL_TRY(rlp::Decoder d, top.read_list());
    PEL_TRY_VOID(top.expect_end());
    ParsedPayload p;
    PEL_TRY(p.height, d.read_u64());
    PEL_TRY(p.parent, d.read_hash());
    PEL_TRY(p.proposer, d.read_u64());
    PEL_TRY(p.nonce, d.read_u64());
    PEL_TRY(p.root, d.read_hash());
    PEL_TRY_VOID(d.expect_end());
    return p;
}

class World;

class SimApp final : public consensus::Application {
  public:
    SimApp(World& w, size_t index, uint64_t seed) : world_(w), index_(index), rng_(seed) {}
    Result<Bytes> propose(Height h) override;
    Result<void> validate(Height h, ByteView payload) override;
    void commit(Height h, ByteView payload, const CommitCertificate& cert) override;
    std::optional<consensus::DecidedBlock> decided(Height h) override {
        if (h == 0 || h > chain_.size()) return std::nullopt;
        return chain_[h - 1];
    }
    [[nodiscard]] Height committed() const noexcept { return chain_.size(); }

  private:
    World& world_;
    size_t index_;
    Rng rng_;
    std::vector<Hash32> roots_{kGenesisRoot};  // roots_[h] = state root after height h
    std::vector<consensus::DecidedBlock> chain_;
};

class NodeTransport final : public consensus::Transport {
  public:
    NodeTransport(World& w, size_t index) : world_(w), index_(index) {}
    void broadcast(const Message& msg) override;
    void send(const Address& to, const Message& msg) override;

  private:
    World& world_;
    size_t index_;
};

class NodeClock final : public consensus::Clock {
  public:
    NodeClock(World& w, size_t index) : world_(w), index_(index) {}
    uint64_t now_ms() const override;
    void schedule(const Timeout& t, uint64_t delay_ms) override;

  private:
    World& world_;
    size_t index_;
};

enum class Role : uint8_t { kHonest, kCrashed, kByzantine };

struct Node {
    Role role = Role::kHonest;
    uint64_t crash_at = kNever;
    std::unique_ptr<SimApp> app;
    std::unique_ptr<NodeTransport> transport;
    std::unique_ptr<NodeClock> clock;
    std::unique_ptr<consensus::Engine> engine;
    // Byzantine state: values seen per (height, round), proposals made.
    std::map<std::pair<Height, Round>, std::set<Hash32>> seen;
    std::set<std::pair<Height, Round>> proposed;
};

struct Event {
    uint64_t time = 0;
    uint64_t seq = 0;
    bool is_timer = false;
    size_t to = 0;
    size_t from = 0;
    std::shared_ptr<const Bytes> bytes;
    Timeout timeout;
};

struct EventLater {
    bool operator()(const Event& a, const Event& b) const noexcept {
        return std::tie(a.time, a.seq) > std::tie(b.time, b.seq);
    }
};

struct Phase {
    uint64_t end = 0;
    std::vector<uint8_t> side;  // empty: no partition
    std::vector<uint8_t> slow;  // n*n, 1 where the link from/to is slow in this phase
};

class World {
  public:
    explicit World(const SimConfig& cfg);
    SimResult run();

    [[nodiscard]] uint64_t now() const noexcept { return now_; }
    void submit(size_t from, size_t to, std::shared_ptr<const Bytes> bytes);
    void broadcast(size_t from, const Message& msg) {
        auto bytes = std::make_shared<const Bytes>(consensus::encode(msg));
        for (size_t j = 0; j < nodes_.size(); ++j) {
            if (j != from) submit(from, j, bytes);
        }
    }
    void send(size_t from, const Address& to, const Message& msg) {
        const auto idx = validators_.index_of(to);
        PEL_ASSERT(idx.has_value(), "sim: send to a non-validator");
        submit(from, *idx, std::make_shared<const Bytes>(consensus::encode(msg)));
    }
    void schedule_timer(size_t node, const Timeout& t, uint64_t delay) {
        Event e;
        e.time = now_ + delay;
        e.seq = seq_++;
        e.is_timer = true;
        e.to = node;
        e.timeout = t;
        queue_.push(std::move(e));
    }
    void on_commit(size_t node, Height h, ByteView payload, const CommitCertificate& cert);
    void fail_order(size_t node, Height h, Height expected) {
        note_failure("validator " + std::to_string(node) + " committed height " +
                     std::to_string(h) + " but expected " + std::to_string(expected));
        result_.safe = false;
    }
    /// The state root after height h on the (first) honest chain, if anyone committed it.
    [[nodiscard]] std::optional<Hash32> canonical_root(Height h) const {
        if (h == 0) return kGenesisRoot;
        auto it = canonical_roots_.find(h);
        if (it == canonical_roots_.end()) return std::nullopt;
        return it->second;
    }

  private:
    void deliver(const Event& e);
    void byzantine_receive(size_t b, const Message& msg, const Bytes& raw);
    void byzantine_garbage(size_t b, const Bytes& raw);
    // Whether Byzantine validator b sends its precommits of (h, r) to peer j: a fixed coin per
    // (seed, h, r, j), so a peer left out of a round stays left out of it.
    [[nodiscard]] bool precommit_to(size_t b, Height h, Round r, size_t j) const {
        uint64_t x = cfg_.seed ^ (h * 0x9e3779b97f4a7c15ULL) ^ (static_cast<uint64_t>(r) << 20) ^
                     (uint64_t{j} << 8) ^ b;
        x = (x ^ (x >> 31)) * 0xbf58476d1ce4e5b9ULL;
        x = (x ^ (x >> 29)) * 0x94d049bb133111ebULL;
        return ((x ^ (x >> 32)) & 1U) != 0;
    }
    void note_failure(const std::string& s) {
        if (result_.failure.empty()) result_.failure = s;
    }
    [[nodiscard]] bool slow_link(size_t a, size_t b) const {
        for (const auto& ph : phases_) {
            if (now_ < ph.end) return ph.slow[a * nodes_.size() + b] != 0;
        }
        return false;
    }
    [[nodiscard]] bool partitioned(size_t a, size_t b) const {
        for (const auto& ph : phases_) {
            if (now_ < ph.end) return !ph.side.empty() && ph.side[a] != ph.side[b];
        }
        return false;
    }
    [[nodiscard]] bool honest_up(size_t i) const { return nodes_[i].role == Role::kHonest; }
    [[nodiscard]] Height max_honest_height() const {
        Height m = 0;
        for (const auto& n : nodes_) {
            if (n.role != Role::kByzantine) m = std::max(m, n.app->committed());
        }
        return m;
    }

    SimConfig cfg_;
    Rng rng_;
    consensus::ValidatorSet validators_;
    consensus::SignatureCache cache_{1 << 18};
    std::vector<Node> nodes_;
    std::vector<Phase> phases_;
    std::priority_queue<Event, std::vector<Event>, EventLater> queue_;
    uint64_t now_ = 0;
    uint64_t seq_ = 0;
    std::map<Height, std::pair<Hash32, size_t>> decided_;  // first commit per height
    std::map<Height, Hash32> canonical_roots_;
    std::map<std::tuple<uint8_t, Height, Round, std::optional<Hash32>>,
             std::shared_ptr<const Bytes>>
        byz_votes_;  // signed Byzantine votes, reused (signing is the expensive part)
    SimResult result_;
};

Result<Bytes> SimApp::propose(Height h) {
    if (h != roots_.size()) {
        return make_error("sim: asked to propose height ", h, " with ", chain_.size(),
                          " committed");
    }
    return make_payload(h, roots_[h - 1], index_, rng_.next(), false);
}

Result<void> SimApp::validate(Height h, ByteView payload) {
    PEL_TRY(const ParsedPayload p, parse_payload(payload));
    if (p.height != h) return make_error("sim: payload for height ", p.height, ", not ", h);
    if (h != roots_.size()) return make_error("sim: validate at an unexpected height");
    if (p.parent != roots_[h - 1]) return make_error("sim: wrong parent root");
    if (execute(p.height, p.parent, p.proposer, p.nonce) != p.root) {
        return make_error("sim: state root mismatch after re-execution");
    }
    return {};
}

void SimApp::commit(Height h, ByteView payload, const CommitCertificate& cert) {
    if (h != chain_.size() + 1) {
        world_.fail_order(index_, h, chain_.size() + 1);
    }
    world_.on_commit(index_, h, payload, cert);
    auto parsed = parse_payload(payload);
    roots_.push_back(parsed ? parsed->root : Hash32{});
    chain_.push_back(consensus::DecidedBlock{Bytes(payload.begin(), payload.end()), cert});
}

void NodeTransport::broadcast(const Message& msg) { world_.broadcast(index_, msg); }
void NodeTransport::send(const Address& to, const Message& msg) { world_.send(index_, to, msg); }
uint64_t NodeClock::now_ms() const { return world_.now(); }
void NodeClock::schedule(const Timeout& t, uint64_t delay_ms) {
    world_.schedule_timer(index_, t, delay_ms);
}

World::World(const SimConfig& cfg) : cfg_(cfg), rng_(cfg.seed) {
    PEL_ASSERT(cfg.validators >= 1 && cfg.validators <= key_ring().secrets.size(),
               "sim: validator count out of range");
    PEL_ASSERT(cfg.crashed + cfg.byzantine <= cfg.validators, "sim: too many faulty");
    const auto& ring = key_ring();
    std::vector<consensus::Validator> vs;
    for (size_t i = 0; i < cfg.validators; ++i) vs.push_back({ring.addresses[i], 1});
    auto set = consensus::make_validator_set(vs);
    PEL_ASSERT(set.has_value(), "sim: validator set");
    validators_ = *set;

    // Roles: a random choice of which validators are faulty.
    std::vector<size_t> order(cfg.validators);
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng_.below(i)]);
    nodes_.resize(cfg.validators);
    for (size_t k = 0; k < cfg.crashed; ++k) {
        nodes_[order[k]].role = Role::kCrashed;
        nodes_[order[k]].crash_at = rng_.below(cfg.heal_ms + 1);
    }
    for (size_t k = cfg.crashed; k < cfg.crashed + cfg.byzantine; ++k) {
        nodes_[order[k]].role = Role::kByzantine;
    }

    // Partition phases up to the heal.
    for (uint64_t t = 0; t < cfg.heal_ms;) {
        Phase ph;
        ph.end = std::min(cfg.heal_ms, t + rng_.between(cfg.phase_min_ms, cfg.phase_max_ms));
        if (cfg.partitions && rng_.chance_ppm(cfg.partition_ppm)) {
            ph.side.resize(cfg.validators);
            for (auto& s : ph.side) s = static_cast<uint8_t>(rng_.below(2));
        }
        ph.slow.resize(cfg.validators * cfg.validators);
        if (cfg.slow_link_ppm > 0) {
            for (auto& s : ph.slow) s = rng_.chance_ppm(cfg.slow_link_ppm) ? 1 : 0;
        }
        t = ph.end;
        phases_.push_back(std::move(ph));
    }

    consensus::TimeoutConfig timeouts;
    timeouts.propose_ms = 300;
    timeouts.propose_delta_ms = 100;
    timeouts.prevote_ms = 200;
    timeouts.prevote_delta_ms = 100;
    timeouts.precommit_ms = 200;
    timeouts.precommit_delta_ms = 100;
    timeouts.rebroadcast_ms = 400;
    for (size_t i = 0; i < nodes_.size(); ++i) {
        Node& n = nodes_[i];
        n.app = std::make_unique<SimApp>(*this, i, cfg.seed * 1000003 + i);
        if (n.role == Role::kByzantine) continue;
        n.transport = std::make_unique<NodeTransport>(*this, i);
        n.clock = std::make_unique<NodeClock>(*this, i);
        consensus::EngineConfig ec{kChainId, validators_, ring.secrets[i], timeouts};
        auto e = consensus::make_engine(ec, *n.transport, *n.clock, *n.app, &cache_);
        PEL_ASSERT(e.has_value(), "sim: make_engine");
        n.engine = std::move(*e);
        n.engine->test_disable_locking(cfg.disable_locking);
    }
}

void World::submit(size_t from, size_t to, std::shared_ptr<const Bytes> bytes) {
    ++result_.messages;
    const bool healed = now_ >= cfg_.heal_ms;
    int copies = 1;
    uint64_t min_delay = 1;
    uint64_t max_delay = cfg_.healed_max_delay_ms;
    if (!healed) {
        if (partitioned(from, to) || rng_.chance_ppm(cfg_.loss_ppm)) return;
        if (rng_.chance_ppm(cfg_.duplicate_ppm)) copies = 2;
        max_delay = cfg_.max_delay_ms;
        if (slow_link(from, to)) {
            min_delay = max_delay;
            max_delay = cfg_.slow_link_delay_ms;
        }
    }
    for (int c = 0; c < copies; ++c) {
        Event e;
        e.time = now_ + rng_.between(min_delay, std::max(min_delay, max_delay));
        e.seq = seq_++;
        e.to = to;
        e.from = from;
        e.bytes = bytes;
        queue_.push(std::move(e));
    }
}

void World::on_commit(size_t node, Height h, ByteView payload, const CommitCertificate& cert) {
    const Hash32 id = consensus::value_id_of(payload);
    if (cert.height != h || cert.value_id != id) {
        result_.certificates_ok = false;
        note_failure("validator " + std::to_string(node) + ": certificate for another value");
    }
    if (auto v = consensus::verify_certificate(cert, validators_, kChainId, &cache_); !v) {
        result_.certificates_ok = false;
        note_failure("validator " + std::to_string(node) + ": certificate at height " +
                     std::to_string(h) + " does not verify: " + v.error().message);
    }
    auto [it, inserted] = decided_.try_emplace(h, id, node);
    if (inserted) {
        if (auto p = parse_payload(payload)) canonical_roots_[h] = p->root;
    } else if (it->second.first != id) {
        result_.safe = false;
        note_failure("FORK at height " + std::to_string(h) + ": validator " +
                     std::to_string(it->second.second) + " committed " +
                     it->second.first.to_hex().substr(0, 10) + ", validator " +
                     std::to_string(node) + " committed " + id.to_hex().substr(0, 10));
    }
    uint64_t x = result_.trace_hash ^ (now_ * 0x9e3779b97f4a7c15ULL);
    x ^= (h << 8) ^ node;
    uint64_t w = 0;
    for (size_t i = 0; i < 8; ++i) w = (w << 8) | id.bytes[i];
    x = (x ^ w) * 0xff51afd7ed558ccdULL;
    result_.trace_hash = x ^ (x >> 29);
}

void World::byzantine_garbage(size_t b, const Bytes& raw) {
    const size_t to = rng_.below(nodes_.size());
    if (to == b) return;
    Bytes g;
    switch (rng_.below(4)) {
        case 0:  // random bytes
            g.resize(rng_.below(120));
            for (auto& c : g) c = static_cast<uint8_t>(rng_.next());
            break;
        case 1:  // a received message with one byte changed
            g = raw;
            if (!g.empty()) g[rng_.below(g.size())] ^= static_cast<uint8_t>(1 + rng_.below(255));
            break;
        case 2:  // truncated
            g.assign(raw.begin(),
                     raw.begin() + static_cast<std::ptrdiff_t>(rng_.below(raw.size() + 1)));
            break;
        default:  // trailing byte
            g = raw;
            g.push_back(static_cast<uint8_t>(rng_.next()));
            break;
    }
    submit(b, to, std::make_shared<const Bytes>(std::move(g)));
}

void World::byzantine_receive(size_t b, const Message& msg, const Bytes& raw) {
    if (cfg_.byzantine_garbage && rng_.chance_ppm(200'000)) byzantine_garbage(b, raw);
    Height h = 0;
    Round r = 0;
    std::optional<Hash32> value;
    if (const auto* p = std::get_if<consensus::Proposal>(&msg)) {
        h = p->height;
        r = p->round;
        value = p->value_id;
    } else if (const auto* v = std::get_if<consensus::Vote>(&msg)) {
        h = v->height;
        r = v->round;
        value = v->value_id;
    } else {
        return;
    }
    const auto& ring = key_ring();
    auto& node = nodes_[b];
    auto [seen_it, first_sight] = node.seen.try_emplace({h, r});
    auto& seen = seen_it->second;
    bool fresh = first_sight;
    if (value && seen.insert(*value).second) fresh = true;

    // Equivocating proposer: two different proposals, each to a random subset.
    if (validators_.proposer(h, r) == b && node.proposed.insert({h, r}).second) {
        const auto parent = canonical_root(h - 1);
        for (int k = 0; k < 2; ++k) {
            Bytes payload =
                make_payload(h, parent.value_or(Hash32{}), b, rng_.next(), !parent.has_value());
            auto p = consensus::make_proposal(kChainId, ring.secrets[b], h, r, std::move(payload),
                                              consensus::kNilRound);
            PEL_ASSERT(p.has_value(), "sim: byzantine proposal");
            seen.insert(p->value_id);
            auto bytes = std::make_shared<const Bytes>(consensus::encode(Message{*p}));
            for (size_t j = 0; j < nodes_.size(); ++j) {
                if (j != b && rng_.below(2) == static_cast<uint64_t>(k)) submit(b, j, bytes);
            }
        }
        fresh = true;
    }
    if (!fresh) return;
    // Equivocating voter: to each peer, a prevote and a precommit for a random value seen at
    // this height and round (or nil), each peer possibly getting a different one.
    std::vector<std::optional<Hash32>> options(seen.begin(), seen.end());
    options.emplace_back(std::nullopt);
    const auto signed_vote = [&](consensus::VoteType type, const std::optional<Hash32>& choice) {
        auto key = std::make_tuple(static_cast<uint8_t>(type), h, r, choice);
        auto it = byz_votes_.find(key);
        if (it == byz_votes_.end()) {
            auto v = consensus::make_vote(kChainId, ring.secrets[b], type, h, r, choice);
            PEL_ASSERT(v.has_value(), "sim: byzantine vote");
            it = byz_votes_
                     .emplace(key, std::make_shared<const Bytes>(consensus::encode(Message{*v})))
                     .first;
        }
        return it->second;
    };
    for (size_t j = 0; j < nodes_.size(); ++j) {
        if (j == b) continue;
        for (const auto type : {consensus::VoteType::kPrevote, consensus::VoteType::kPrecommit}) {
            if (cfg_.byzantine_vote_everything) {
                // Prevotes for everything to everyone; precommits for everything to a random
                // half of the peers only (so some see a decision that others cannot).
                if (type == consensus::VoteType::kPrecommit && !precommit_to(b, h, r, j)) continue;
                for (const auto& choice : options) submit(b, j, signed_vote(type, choice));
            } else {
                submit(b, j, signed_vote(type, options[rng_.below(options.size())]));
            }
        }
    }
}

std::string describe(const Message& m) {
    std::ostringstream o;
    if (const auto* p = std::get_if<consensus::Proposal>(&m)) {
        o << "proposal h=" << p->height << " r=" << p->round << " vr=" << p->valid_round
          << " v=" << p->value_id.to_hex().substr(0, 8);
    } else if (const auto* v = std::get_if<consensus::Vote>(&m)) {
        o << (v->type == consensus::VoteType::kPrevote ? "prevote" : "precommit")
          << " h=" << v->height << " r=" << v->round
          << " v=" << (v->value_id ? v->value_id->to_hex().substr(0, 8) : std::string("nil"));
    } else {
        const auto& c = std::get<consensus::CommitMessage>(m);
        o << "commit h=" << c.certificate.height << " r=" << c.certificate.round;
    }
    return o.str();
}

void World::deliver(const Event& e) {
    Node& n = nodes_[e.to];
    if (n.role == Role::kCrashed && now_ >= n.crash_at) return;
    const auto state = [&] {
        std::ostringstream o;
        if (n.engine) {
            o << " [h=" << n.engine->height() << " r=" << n.engine->round() << " "
              << consensus::to_string(n.engine->step()) << " lr=" << n.engine->locked_round()
              << " vr=" << n.engine->valid_round() << "]";
        }
        return o.str();
    };
    if (e.is_timer) {
        if (cfg_.trace) {
            std::cerr << now_ << " node " << e.to << " timeout "
                      << consensus::to_string(e.timeout.kind) << " h=" << e.timeout.height
                      << " r=" << e.timeout.round << state() << "\n";
        }
        if (n.engine) {
            n.engine->on_timeout(e.timeout);
            result_.max_round =
                std::max(result_.max_round, static_cast<uint64_t>(n.engine->round()));
        }
        return;
    }
    auto msg = consensus::decode_message(*e.bytes);
    if (!msg) {
        ++result_.garbage_rejected;
        return;
    }
    if (n.role == Role::kByzantine) {
        byzantine_receive(e.to, *msg, *e.bytes);
        return;
    }
    auto r = n.engine->on_message(*msg);
    result_.max_round = std::max(result_.max_round, static_cast<uint64_t>(n.engine->round()));
    if (cfg_.trace) {
        std::cerr << now_ << " node " << e.to << " <- " << e.from << " " << describe(*msg)
                  << (r ? "" : " ERROR " + r.error().message) << state() << "\n";
    }
}

SimResult World::run() {
    for (auto& n : nodes_) {
        if (n.engine) n.engine->start(1);
    }
    bool healed = false;
    bool reached = false;
    Height target = 0;
    const uint64_t deadline = cfg_.heal_ms + cfg_.liveness_bound_ms;
    while (!queue_.empty()) {
        Event e = queue_.top();
        queue_.pop();
        if (!healed && e.time >= cfg_.heal_ms) {
            healed = true;
            result_.heal_height = max_honest_height();
            target = result_.heal_height + cfg_.liveness_heights;
        }
        if (e.time > deadline) break;
        now_ = e.time;
        deliver(e);
        if (!result_.safe) break;
        if (healed && cfg_.check_liveness) {
            bool done = true;
            for (size_t i = 0; i < nodes_.size() && done; ++i) {
                if (honest_up(i) && nodes_[i].app->committed() < target) done = false;
            }
            if (done) {
                result_.liveness_ms = now_ - cfg_.heal_ms;
                reached = true;
                break;
            }
        }
    }
    result_.end_ms = now_;
    result_.max_height = max_honest_height();
    for (const auto& n : nodes_) {
        if (!n.engine) continue;
        result_.evidence += n.engine->evidence().size();
        result_.max_round = std::max(result_.max_round, static_cast<uint64_t>(n.engine->round()));
    }
    if (cfg_.check_liveness && !reached) {
        result_.live = false;
        note_failure("no liveness: after the heal at " + std::to_string(cfg_.heal_ms) +
                     " ms (honest height " + std::to_string(result_.heal_height) +
                     ") not every honest validator reached height " + std::to_string(target) +
                     " within " + std::to_string(cfg_.liveness_bound_ms) + " ms");
    }
    return result_;
}

}  // namespace

SimConfig random_config(uint64_t seed) {
    Rng rng(seed ^ 0xc0ffee);
    SimConfig c;
    c.seed = seed;
    c.validators = rng.below(4) == 0 ? 7 : 4;
    const size_t f = (c.validators - 1) / 3;
    const size_t faulty = rng.below(f + 1);
    c.byzantine = rng.below(faulty + 1);
    c.crashed = faulty - c.byzantine;
    c.heal_ms = rng.between(1000, 5000);
    c.loss_ppm = static_cast<uint32_t>(rng.below(400'000));
    c.duplicate_ppm = static_cast<uint32_t>(rng.below(200'000));
    c.max_delay_ms = rng.between(5, 600);
    c.partitions = rng.below(2) == 0;
    c.byzantine_vote_everything = rng.below(2) == 0;
    return c;
}

std::string to_string(const SimConfig& c) {
    std::ostringstream o;
    o << "seed=" << c.seed << " n=" << c.validators << " crashed=" << c.crashed
      << " byzantine=" << c.byzantine << " heal_ms=" << c.heal_ms << " loss_ppm=" << c.loss_ppm
      << " dup_ppm=" << c.duplicate_ppm << " max_delay_ms=" << c.max_delay_ms
      << " partitions=" << c.partitions << " vote_everything=" << c.byzantine_vote_everything
      << (c.disable_locking ? " LOCKING-DISABLED" : "");
    return o.str();
}

SimResult run_simulation(const SimConfig& cfg) {
    World w(cfg);
    return w.run();
}

}  // namespace pel::sim
