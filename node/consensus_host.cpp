// SPDX-License-Identifier: Apache-2.0
#include "node/consensus_host.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <spdlog/spdlog.h>

#include "node/node_key.hpp"
#include "primitives/log.hpp"

namespace pel::node {

using consensus::Height;
using consensus::Message;
using consensus::Round;

namespace {
/// Messages waiting for the consensus thread; beyond this, new ones are dropped (as a lossy
/// network would), so a flood cannot exhaust memory.
constexpr size_t kMaxQueuedEvents = 65536;
}  // namespace

// --- SignMark ----------------------------------------------------------------------------------

Result<SignMark> SignMark::open(const std::string& path) {
    SignMark m;
    m.path_ = path;
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
        return m;
    }
    std::ifstream in(path);
    if (!in) {
        return make_error("sign mark ", path, ": cannot read the file");
    }
    std::stringstream ss;
    ss << in.rdbuf();
    unsigned long long h = 0;
    long long r = 0;
    std::string rest;
    std::istringstream fields(ss.str());
    if (!(fields >> h >> r) || r < 0 || r > consensus::kMaxRound || (fields >> rest)) {
        return make_error("sign mark ", path,
                          ": corrupt (expected '<height> <round>'); refusing to start, since "
                          "this validator could sign twice (delete it only if you know the "
                          "validator has not signed at any height above its head)");
    }
    m.startup_ = std::pair<Height, Round>(h, r);
    m.current_ = m.startup_;
    return m;
}

Result<bool> SignMark::allow(Height h, Round r) {
    const std::pair<Height, Round> at(h, r);
    if (startup_ && at <= *startup_) {
        ++suppressed_;
        if (!logged_) {
            logged_ = true;
            spdlog::warn(
                "consensus: not sending own messages at height {} round {} or below: this "
                "validator signed up to there before its restart (double-sign guard)",
                startup_->first, startup_->second);
        }
        return false;
    }
    if (!current_ || at > *current_) {
        PEL_TRY_VOID(write_file_atomic(
            path_, as_bytes(std::to_string(h) + " " + std::to_string(r) + "\n"), 0600));
        current_ = at;
    }
    return true;
}

// --- adapters ----------------------------------------------------------------------------------

class ConsensusHost::TransportAdapter final : public consensus::Transport {
  public:
    explicit TransportAdapter(ConsensusHost& host) : host_(host) {}
    void broadcast(const Message& msg) override { host_.broadcast(msg); }
    void send(const Address& to, const Message& msg) override { host_.send(to, msg); }

  private:
    ConsensusHost& host_;
};

class ConsensusHost::ClockAdapter final : public consensus::Clock {
  public:
    explicit ClockAdapter(ConsensusHost& host) : host_(host) {}
    [[nodiscard]] uint64_t now_ms() const override { return host_.now_ms(); }
    void schedule(const consensus::Timeout& t, uint64_t delay_ms) override {
        host_.schedule(t, delay_ms);
    }

  private:
    ConsensusHost& host_;
};

// --- host --------------------------------------------------------------------------------------

ConsensusHost::ConsensusHost(consensus::EngineConfig config, consensus::Application& app,
                             net::Network& network, SignMark mark)
    : config_(std::move(config)),
      app_(app),
      network_(network),
      mark_(std::move(mark)),
      transport_(std::make_unique<TransportAdapter>(*this)),
      clock_(std::make_unique<ClockAdapter>(*this)),
      epoch_(std::chrono::steady_clock::now()) {}

ConsensusHost::~ConsensusHost() { stop(); }

uint64_t ConsensusHost::now_ms() const {
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::steady_clock::now() - epoch_)
                                     .count());
}

void ConsensusHost::schedule(const consensus::Timeout& t, uint64_t delay_ms) {
    {
        const std::lock_guard lock(mu_);
        timers_.push(Timer{now_ms() + delay_ms, timer_seq_++, t});
    }
    cv_.notify_one();
}

bool ConsensusHost::own_allowed(const Message& m) {
    Height h = 0;
    Round r = 0;
    Hash32 digest;
    const crypto::Signature* sig = nullptr;
    if (const auto* p = std::get_if<consensus::Proposal>(&m)) {
        h = p->height;
        r = p->round;
        digest = consensus::proposal_digest(config_.chain_id, h, r, p->value_id, p->valid_round);
        sig = &p->signature;
    } else if (const auto* v = std::get_if<consensus::Vote>(&m)) {
        h = v->height;
        r = v->round;
        digest = consensus::vote_digest(config_.chain_id, v->type, h, r, v->value_id);
        sig = &v->signature;
    } else {
        return true;  // Commit messages are unsigned (their certificate proves them)
    }
    auto signer = cache_.recover(digest, *sig);
    if (!signer || *signer != engine_->address()) {
        return true;  // someone else's message that the engine relays
    }
    auto ok = mark_.allow(h, r);
    if (!ok) {
        spdlog::error("consensus: cannot persist the double-sign mark ({}); not sending",
                      ok.error().message);
        return false;
    }
    if (!*ok) {
        const std::lock_guard lock(mu_);
        suppressed_ = mark_.suppressed();
    }
    return *ok;
}

void ConsensusHost::broadcast(const Message& m) {
    if (!own_allowed(m)) {
        return;
    }
    const Bytes wire = consensus::encode(m);
    if (auto r = network_.broadcast(net::MsgKind::kConsensus, wire); !r) {
        spdlog::debug("consensus: broadcast failed: {}", r.error().message);
    }
}

void ConsensusHost::send(const Address& to, const Message& m) {
    if (!own_allowed(m)) {
        return;
    }
    const Bytes wire = consensus::encode(m);
    if (auto r = network_.send(to, net::MsgKind::kConsensus, wire); !r) {
        spdlog::debug("consensus: send to {} failed: {}", to.to_hex(), r.error().message);
    }
}

void ConsensusHost::on_network_message(const Address& from, ByteView payload) {
    auto m = consensus::decode_message(payload);
    if (!m) {
        spdlog::debug("consensus: undecodable message from {}: {}", from.to_hex(),
                      m.error().message);
        return;
    }
    Height h = 0;
    if (const auto* p = std::get_if<consensus::Proposal>(&*m)) {
        h = p->height;
    } else if (const auto* v = std::get_if<consensus::Vote>(&*m)) {
        h = v->height;
    } else {
        h = std::get<consensus::CommitMessage>(*m).certificate.height;
    }
    {
        const std::lock_guard lock(mu_);
        if (stopping_ || !started_) {
            return;
        }
        max_seen_ = std::max(max_seen_, h);
        if (events_.size() >= kMaxQueuedEvents) {
            spdlog::debug("consensus: event queue full, dropping a message from {}", from.to_hex());
            return;  // the sender re-broadcasts; the engine tolerates loss
        }
        events_.push_back(std::move(*m));
    }
    cv_.notify_one();
}

Result<void> ConsensusHost::start(Height height) {
    {
        const std::lock_guard lock(mu_);
        if (started_) {
            return make_error("consensus already started");
        }
    }
    PEL_TRY(engine_, consensus::make_engine(config_, *transport_, *clock_, app_, &cache_));
    {
        const std::lock_guard lock(mu_);
        started_ = true;
        stopping_ = false;
    }
    thread_ = std::thread([this, height] {
        log::name_thread("pel-consensus");
        engine_->start(height);
        publish_status();
        run();
    });
    return {};
}

void ConsensusHost::stop() {
    {
        const std::lock_guard lock(mu_);
        if (!started_) {
            return;
        }
        stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) {
        thread_.join();
    }
    const std::lock_guard lock(mu_);
    started_ = false;
}

void ConsensusHost::publish_status() {
    HostStatus s;
    s.height = engine_->height();
    s.round = engine_->round();
    s.step = engine_->step();
    s.validators = engine_->validators().size();
    s.proposer = engine_->validators().proposer(s.height, s.round) == engine_->index();
    const std::lock_guard lock(mu_);
    status_ = s;
}

void ConsensusHost::run() {
    for (;;) {
        std::optional<Message> msg;
        std::optional<consensus::Timeout> timeout;
        {
            std::unique_lock lock(mu_);
            for (;;) {
                if (stopping_) {
                    return;
                }
                if (!events_.empty()) {
                    msg = std::move(events_.front());
                    events_.pop_front();
                    break;
                }
                if (!timers_.empty()) {
                    const uint64_t now = now_ms();
                    if (timers_.top().due_ms <= now) {
                        timeout = timers_.top().timeout;
                        timers_.pop();
                        break;
                    }
                    cv_.wait_for(lock, std::chrono::milliseconds(timers_.top().due_ms - now));
                } else {
                    cv_.wait(lock);
                }
            }
        }
        if (msg) {
            const Height before = engine_->height();
            const bool commit = std::holds_alternative<consensus::CommitMessage>(*msg);
            if (auto r = engine_->on_message(*msg); !r) {
                spdlog::debug("consensus: message ignored: {}", r.error().message);
            }
            // Catching up: announce our height at once (see the header) when a Commit moved us
            // on while others are ahead, or when others are two or more heights ahead.
            const Height seen = max_seen_height();
            const Height now = engine_->height();
            const bool behind = (commit && now > before && seen > now) || seen >= now + 2;
            const std::pair<Height, Round> at(now, engine_->round());
            if (behind && engine_->step() == consensus::Step::kPropose && at != last_announce_) {
                last_announce_ = at;
                engine_->on_timeout(
                    consensus::Timeout{consensus::TimeoutKind::kPropose, now, engine_->round()});
            }
        } else if (timeout) {
            engine_->on_timeout(*timeout);
        }
        for (const auto& e : engine_->take_evidence()) {
            spdlog::warn("consensus: validator {} signed two conflicting messages (equivocation)",
                         engine_->validators().at(e.validator_index).address.to_hex());
        }
        publish_status();
    }
}

HostStatus ConsensusHost::status() const {
    const std::lock_guard lock(mu_);
    return status_;
}

Height ConsensusHost::max_seen_height() const {
    const std::lock_guard lock(mu_);
    return max_seen_;
}

uint64_t ConsensusHost::suppressed() const {
    const std::lock_guard lock(mu_);
    return suppressed_;
}

}  // namespace pel::node
