// SPDX-License-Identifier: Apache-2.0
// Network, its peer sessions and dialers over Boost.Asio. Exceptions: Asio calls use the
// error_code overloads; anything that still throws (allocation, a user callback) is caught at the
// handler boundary (the I/O thread's run loop, and around each callback) and logged.
#include "net/network.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include <boost/asio.hpp>
#include <spdlog/spdlog.h>

#include "net/seen_set.hpp"
#include "primitives/keccak.hpp"
#include "primitives/log.hpp"
#include "primitives/secp256k1.hpp"

namespace pel::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Strand = asio::strand<asio::io_context::executor_type>;

namespace {

Hash32 random_hash() {
    std::random_device rd;
    Hash32 h;
    for (size_t i = 0; i < Hash32::kSize; i += 4) {
        const uint32_t v = rd();
        std::memcpy(h.data() + i, &v, 4);  // NOLINT
    }
    return h;
}

bool is_gossip(MsgKind k) {
    return k == MsgKind::kTxns || k == MsgKind::kConsensus || k == MsgKind::kBlock;
}
/// Gossip the send-queue policy may drop under backpressure (consensus messages are never dropped).
bool is_droppable(MsgKind k) { return k == MsgKind::kTxns || k == MsgKind::kBlock; }

std::string short_id(const Address& a) { return a.to_hex().substr(0, 10); }

}  // namespace

class Session;

// ------------------------------------------------------------------------------------------------
// Network::Impl
//
// Thread safety / invariants:
//  - mu_ guards sessions_, active_, started_, stopping_. active_ maps a node id to its one
//    active (handshaken) session; every session in active_ is also in sessions_; a session leaves
//    both in on_session_closed, exactly once.
//  - dialers_ and rng_ are touched only on strand_ (after start()).
//  - on_message_/on_peer_ are set before start() and read-only afterwards.
//  - io_ is declared first so it is destroyed last (after every object that refers to it).
class Network::Impl {
  public:
    explicit Impl(Config cfg)
        : cfg_(std::move(cfg)),
          strand_(asio::make_strand(io_)),
          acceptor_(io_),
          seen_txns_(cfg_.seen_capacity),
          seen_consensus_(cfg_.seen_capacity),
          seen_blocks_(cfg_.seen_capacity) {}

    Result<void> start();
    void stop();

    // Called by sessions, on the session's strand.
    bool on_session_ready(const std::shared_ptr<Session>& s);
    void on_session_closed(const std::shared_ptr<Session>& s);
    Result<void, DecodeError> on_gossip(const std::shared_ptr<Session>& from, MsgKind kind,
                                        ByteView payload);

    Result<void> broadcast(MsgKind kind, ByteView payload);
    Result<void> send(const Address& peer, MsgKind kind, ByteView payload);
    Result<void> check_outgoing(MsgKind kind, ByteView payload);
    void deliver(const Address& from, MsgKind kind, ByteView payload) const;
    void fan_out(MsgKind kind, ByteView payload, const Session* except);

    void start_accept();
    void schedule_dial(size_t i, std::chrono::milliseconds delay);
    void try_dial(size_t i);
    void dialer_session_closed(size_t i, bool handshake_ok, bool was_active, const Address& id);
    void wake_dialers(const Address& id);
    std::chrono::milliseconds backoff(unsigned failures);
    bool add_session(const std::shared_ptr<Session>& s);

    asio::io_context io_;
    Config cfg_;
    Address self_id_;
    Strand strand_;
    tcp::acceptor acceptor_;
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
    std::vector<std::thread> threads_;
    uint16_t port_ = 0;
    MessageHandler on_message_;
    PeerHandler on_peer_;
    SeenSet seen_txns_;
    SeenSet seen_consensus_;
    SeenSet seen_blocks_;

    struct Dialer {
        PeerAddress addr;
        std::optional<Address> id;  ///< from "@nodeid" or learned at the first handshake
        unsigned failures = 0;
        bool busy = false;     ///< connecting, or a session from this dialer is open
        bool waiting = false;  ///< id already connected (inbound): redial when it goes away
        std::unique_ptr<asio::steady_timer> timer;
        std::shared_ptr<tcp::socket> connecting;
        std::shared_ptr<tcp::resolver> resolver;
    };
    std::vector<Dialer> dialers_;
    std::mt19937_64 rng_{std::random_device{}()};

    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::unordered_set<std::shared_ptr<Session>> sessions_;
    std::unordered_map<Address, std::shared_ptr<Session>> active_;
    bool started_ = false;
    bool stopping_ = false;

    std::atomic<uint64_t> handshakes_ok_{0};
    std::atomic<uint64_t> handshakes_failed_{0};
    std::atomic<uint64_t> protocol_errors_{0};
    std::atomic<uint64_t> duplicates_closed_{0};
    std::atomic<uint64_t> gossip_duplicates_{0};
    std::atomic<uint64_t> dials_{0};
};

// ------------------------------------------------------------------------------------------------
// Session: one TCP connection.
//
// Thread safety / invariants:
//  - socket_, timer_, the read buffers, state_ and the handshake fields run only on strand_.
//  - qmu_ guards queue_, queued_bytes_, writing_ and closed_q_. writing_ is true from the moment
//    a do_write is posted until do_write finds the queue empty; so at most one async_write is in
//    flight and frames go out whole and in order. Once closed_q_ is set nothing is queued again.
//  - peer_id_, handshake_ok_ are written on strand_ before the session is published in
//    Impl::active_ (under Impl::mu_), so readers that find it there see them.
//  - counters are atomics (read by Network::peers() from any thread).
// The read and write loops re-arm themselves from their completion handlers: asynchronous
// chains that clang-tidy sees as recursion; the stack never grows.
// NOLINTBEGIN(misc-no-recursion)
class Session : public std::enable_shared_from_this<Session> {
  public:
    Session(Network::Impl& net, tcp::socket socket, bool outbound, std::optional<size_t> dialer,
            std::optional<Address> expected_id)
        : net_(net),
          strand_(asio::make_strand(net.io_)),
          socket_(std::move(socket)),
          timer_(net.io_),
          ping_timer_(net.io_),
          outbound_(outbound),
          dialer_(dialer),
          expected_id_(expected_id) {
        boost::system::error_code ec;
        const auto ep = socket_.remote_endpoint(ec);
        remote_ =
            ec ? std::string("?") : ep.address().to_string() + ":" + std::to_string(ep.port());
        socket_.set_option(tcp::no_delay(true), ec);
    }

    void start() {
        asio::post(strand_, [self = shared_from_this()] { self->do_start(); });
    }

    /// Any thread. Applies the backpressure policy (network.hpp); false if not queued.
    bool enqueue(MsgKind kind, std::shared_ptr<const Bytes> frame) {
        bool overflow = false;
        {
            const std::lock_guard lock(qmu_);
            if (closed_q_) {
                return false;
            }
            const size_t sz = frame->size();
            auto fits = [&] {
                return queue_.size() < net_.cfg_.send_queue_max_msgs &&
                       queued_bytes_ + sz <= net_.cfg_.send_queue_max_bytes;
            };
            while (!fits()) {
                auto it = std::find_if(queue_.begin(), queue_.end(),
                                       [](const Out& o) { return is_droppable(o.kind); });
                if (it == queue_.end()) {
                    break;
                }
                queued_bytes_ -= it->frame->size();
                queue_.erase(it);
                dropped_.fetch_add(1, std::memory_order_relaxed);
            }
            if (!fits()) {
                if (is_droppable(kind)) {
                    dropped_.fetch_add(1, std::memory_order_relaxed);
                    return false;
                }
                overflow = true;
            } else {
                queued_bytes_ += sz;
                queue_.push_back(Out{kind, std::move(frame)});
                if (!writing_) {
                    writing_ = true;
                    asio::post(strand_, [self = shared_from_this()] { self->do_write(); });
                }
            }
        }
        if (overflow) {
            close(DisconnectReason::kQueueOverflow,
                  "send queue full of consensus/control messages");
        }
        return !overflow;
    }

    /// Any thread: closes on the strand (sends kDisconnect when possible).
    void close(DisconnectReason reason, std::string why) {
        asio::post(strand_, [self = shared_from_this(), reason, why = std::move(why)] {
            self->close_now(reason, why, true);
        });
    }

    [[nodiscard]] PeerInfo info() const {
        PeerInfo p;
        p.node_id = peer_id_;
        p.remote = remote_;
        p.outbound = outbound_;
        p.msgs_in = msgs_in_.load(std::memory_order_relaxed);
        p.msgs_out = msgs_out_.load(std::memory_order_relaxed);
        p.bytes_in = bytes_in_.load(std::memory_order_relaxed);
        p.bytes_out = bytes_out_.load(std::memory_order_relaxed);
        p.dropped = dropped_.load(std::memory_order_relaxed);
        const std::lock_guard lock(qmu_);
        p.queued = queue_.size();
        return p;
    }

    [[nodiscard]] const Address& peer_id() const { return peer_id_; }
    [[nodiscard]] bool outbound() const { return outbound_; }
    [[nodiscard]] bool handshake_ok() const { return handshake_ok_; }
    [[nodiscard]] std::optional<size_t> dialer() const { return dialer_; }
    [[nodiscard]] const std::string& remote() const { return remote_; }

    /// On strand_ only. Stops reading, leaves the network's tables at once, and closes the socket
    /// after flushing a kDisconnect frame (when `send_reason`), at most kLinger later.
    void close_now(DisconnectReason reason, std::string_view why, bool send_reason) {
        if (closed_) {
            return;
        }
        closed_ = true;
        const auto level =
            reason == DisconnectReason::kRequested ? spdlog::level::debug : spdlog::level::warn;
        spdlog::log(level, "net: disconnect {} {} ({}): {}: {}", remote_,
                    handshake_ok_ ? short_id(peer_id_) : std::string("(no handshake)"),
                    outbound_ ? "outbound" : "inbound", to_string(reason), why);
        bool flush = false;
        bool start_write = false;
        {
            const std::lock_guard lock(qmu_);
            closed_q_ = true;
            queue_.clear();
            queued_bytes_ = 0;
            if (send_reason && socket_.is_open()) {
                auto frame = std::make_shared<const Bytes>(
                    encode_frame(MsgKind::kDisconnect, encode_disconnect(reason)));
                queued_bytes_ = frame->size();
                queue_.push_back(Out{MsgKind::kDisconnect, std::move(frame)});
                flush = true;
                start_write = !writing_;
                writing_ = true;
            }
        }
        net_.on_session_closed(shared_from_this());
        if (!flush) {
            finish();
            return;
        }
        timer_.cancel();
        timer_.expires_after(kLinger);
        timer_.async_wait(
            asio::bind_executor(strand_, [self = shared_from_this()](boost::system::error_code ec) {
                if (!ec) {
                    self->finish();
                }
            }));
        if (start_write) {
            do_write();
        }
    }

  private:
    static constexpr std::chrono::milliseconds kLinger{1000};
    static constexpr size_t kMaxBatchFrames = 64;
    static constexpr size_t kMaxBatchBytes = size_t{256} * 1024;

    /// On strand_: closes the socket for good (idempotent).
    void finish() {
        if (finished_) {
            return;
        }
        finished_ = true;
        boost::system::error_code ec;
        socket_.shutdown(tcp::socket::shutdown_both, ec);
        socket_.close(ec);
        timer_.cancel();
        ping_timer_.cancel();
    }

    /// On strand_: pings every ping_interval while active; disconnects after idle_timeout of
    /// silence from the peer.
    void schedule_ping() {
        ping_timer_.expires_after(net_.cfg_.ping_interval);
        ping_timer_.async_wait(asio::bind_executor(strand_, [self = shared_from_this()](
                                                                boost::system::error_code ec) {
            if (ec || self->closed_) {
                return;
            }
            if (std::chrono::steady_clock::now() - self->last_rx_ > self->net_.cfg_.idle_timeout) {
                self->close_now(DisconnectReason::kTimeout, "peer silent", true);
                return;
            }
            self->send_control(MsgKind::kPing, encode_ping(++self->ping_nonce_));
            self->schedule_ping();
        }));
    }

    struct Out {
        MsgKind kind;
        std::shared_ptr<const Bytes> frame;
    };
    enum class State : uint8_t { kAwaitHello, kAwaitAuth, kActive };

    void send_control(MsgKind kind, ByteView payload) {
        enqueue(kind, std::make_shared<const Bytes>(encode_frame(kind, payload)));
    }

    void do_start() {
        if (closed_) {
            return;
        }
        my_hello_.chain_id = net_.cfg_.chain_id;
        my_hello_.genesis_hash = net_.cfg_.genesis_hash;
        my_hello_.node_id = net_.self_id_;
        my_hello_.nonce = random_hash();
        send_control(MsgKind::kHello, encode_hello(my_hello_));
        timer_.expires_after(net_.cfg_.handshake_timeout);
        timer_.async_wait(
            asio::bind_executor(strand_, [self = shared_from_this()](boost::system::error_code ec) {
                if (!ec && self->state_ != State::kActive) {
                    self->fail_handshake(DisconnectReason::kTimeout, "handshake timed out");
                }
            }));
        read_length();
    }

    void read_length() {
        asio::async_read(socket_, asio::buffer(len_),
                         asio::bind_executor(strand_, [self = shared_from_this()](
                                                          boost::system::error_code ec,
                                                          size_t /*n*/) { self->on_length(ec); }));
    }

    void on_length(boost::system::error_code ec) {
        if (closed_) {
            return;
        }
        if (ec) {
            close_now(DisconnectReason::kRequested, "connection lost: " + ec.message(), false);
            return;
        }
        // The length is checked before a byte of the body is read or buffered.
        auto len = decode_frame_length(len_, net_.cfg_.max_frame_size);
        if (!len) {
            protocol_error(to_string(len.error()));
            return;
        }
        body_.resize(*len);
        asio::async_read(socket_, asio::buffer(body_),
                         asio::bind_executor(strand_, [self = shared_from_this()](
                                                          boost::system::error_code ec2,
                                                          size_t /*n*/) { self->on_body(ec2); }));
    }

    void on_body(boost::system::error_code ec) {
        if (closed_) {
            return;
        }
        if (ec) {
            close_now(DisconnectReason::kRequested, "connection lost: " + ec.message(), false);
            return;
        }
        if (!is_known_kind(body_[0])) {
            protocol_error(to_string(DecodeError::kUnknownKind));
            return;
        }
        last_rx_ = std::chrono::steady_clock::now();
        msgs_in_.fetch_add(1, std::memory_order_relaxed);
        bytes_in_.fetch_add(kFrameHeaderSize + body_.size(), std::memory_order_relaxed);
        on_frame(static_cast<MsgKind>(body_[0]), ByteView(body_).subspan(1));
        if (!closed_) {
            read_length();
        }
    }

    void protocol_error(std::string_view why) {
        net_.protocol_errors_.fetch_add(1, std::memory_order_relaxed);
        if (state_ != State::kActive) {
            net_.handshakes_failed_.fetch_add(1, std::memory_order_relaxed);
        }
        close_now(DisconnectReason::kProtocolError, why, true);
    }

    void fail_handshake(DisconnectReason reason, std::string_view why) {
        net_.handshakes_failed_.fetch_add(1, std::memory_order_relaxed);
        close_now(reason, why, true);
    }

    void on_peer_disconnect(ByteView payload) {
        auto r = decode_disconnect(payload);
        close_now(DisconnectReason::kRequested,
                  std::string("peer disconnected: ") +
                      std::string(r ? to_string(*r) : to_string(r.error())),
                  false);
    }

    void on_frame(MsgKind kind, ByteView payload) {
        if (kind == MsgKind::kDisconnect) {
            on_peer_disconnect(payload);
            return;
        }
        switch (state_) {
            case State::kAwaitHello:
                on_hello(kind, payload);
                return;
            case State::kAwaitAuth:
                on_auth(kind, payload);
                return;
            case State::kActive:
                on_active(kind, payload);
                return;
        }
    }

    void on_hello(MsgKind kind, ByteView payload) {
        if (kind != MsgKind::kHello) {
            protocol_error(std::string("expected hello, got ") + std::string(to_string(kind)));
            return;
        }
        auto h = decode_hello(payload);
        if (!h) {
            protocol_error(to_string(h.error()));
            return;
        }
        if (h->protocol_version != kProtocolVersion) {
            fail_handshake(DisconnectReason::kWrongVersion,
                           "protocol version " + std::to_string(h->protocol_version));
            return;
        }
        if (h->chain_id != my_hello_.chain_id) {
            fail_handshake(DisconnectReason::kWrongChain,
                           "peer chain id " + std::to_string(h->chain_id));
            return;
        }
        if (h->genesis_hash != my_hello_.genesis_hash) {
            fail_handshake(DisconnectReason::kWrongChain,
                           "peer genesis " + h->genesis_hash.to_hex());
            return;
        }
        if (h->node_id == net_.self_id_) {
            fail_handshake(DisconnectReason::kSelf, "peer claims our node id");
            return;
        }
        const auto& allowed = net_.cfg_.allowed_ids;
        if (!allowed.empty() &&
            std::find(allowed.begin(), allowed.end(), h->node_id) == allowed.end()) {
            fail_handshake(DisconnectReason::kNotAllowed, "node id " + h->node_id.to_hex());
            return;
        }
        if (expected_id_ && *expected_id_ != h->node_id) {
            fail_handshake(
                DisconnectReason::kNotAllowed,
                "static peer expected " + expected_id_->to_hex() + ", got " + h->node_id.to_hex());
            return;
        }
        peer_hello_ = *h;
        auto sig = crypto::sign(auth_hash(peer_hello_.nonce, my_hello_), net_.cfg_.node_key);
        PEL_ASSERT(sig.has_value(), "net: node key was checked at start");
        send_control(MsgKind::kAuth, encode_auth(*sig));
        state_ = State::kAwaitAuth;
    }

    void on_auth(MsgKind kind, ByteView payload) {
        if (kind != MsgKind::kAuth) {
            protocol_error(std::string("expected auth, got ") + std::string(to_string(kind)));
            return;
        }
        auto sig = decode_auth(payload);
        if (!sig) {
            protocol_error(to_string(sig.error()));
            return;
        }
        auto who = crypto::recover_address(auth_hash(my_hello_.nonce, peer_hello_), *sig, true);
        if (!who) {
            fail_handshake(DisconnectReason::kBadAuth, who.error().message);
            return;
        }
        if (*who != peer_hello_.node_id) {
            fail_handshake(DisconnectReason::kBadAuth, "signature recovers " + who->to_hex() +
                                                           ", hello claims " +
                                                           peer_hello_.node_id.to_hex());
            return;
        }
        timer_.cancel();
        state_ = State::kActive;
        peer_id_ = peer_hello_.node_id;
        handshake_ok_ = true;
        net_.handshakes_ok_.fetch_add(1, std::memory_order_relaxed);
        if (!net_.on_session_ready(shared_from_this())) {
            return;
        }
        schedule_ping();
        spdlog::info("net: peer {} {} ({}) connected", short_id(peer_id_), remote_,
                     outbound_ ? "outbound" : "inbound");
    }

    void on_active(MsgKind kind, ByteView payload) {
        switch (kind) {
            case MsgKind::kPing: {
                auto n = decode_ping(payload);
                if (!n) {
                    protocol_error(to_string(n.error()));
                    return;
                }
                send_control(MsgKind::kPong, encode_ping(*n));
                return;
            }
            case MsgKind::kPong: {
                auto n = decode_ping(payload);
                if (!n) {
                    protocol_error(to_string(n.error()));
                }
                return;
            }
            case MsgKind::kTxns:
            case MsgKind::kConsensus:
            case MsgKind::kBlock: {
                auto r = net_.on_gossip(shared_from_this(), kind, payload);
                if (!r) {
                    protocol_error(to_string(r.error()));
                }
                return;
            }
            case MsgKind::kHello:
            case MsgKind::kAuth:
            case MsgKind::kDisconnect:
                protocol_error(std::string("unexpected ") + std::string(to_string(kind)) +
                               " after the handshake");
                return;
        }
    }

    /// On strand_: writes the queued frames, several per async_write (gather), so that small
    /// messages do not each pay a system call.
    void do_write() {
        if (finished_) {
            return;
        }
        {
            const std::lock_guard lock(qmu_);
            if (queue_.empty()) {
                writing_ = false;
                if (closed_) {
                    finish();  // the disconnect frame went out
                }
                return;
            }
            size_t batch_bytes = 0;
            while (!queue_.empty() && inflight_.size() < kMaxBatchFrames &&
                   (inflight_.empty() ||
                    batch_bytes + queue_.front().frame->size() <= kMaxBatchBytes)) {
                batch_bytes += queue_.front().frame->size();
                queued_bytes_ -= queue_.front().frame->size();
                inflight_.push_back(std::move(queue_.front().frame));
                queue_.pop_front();
            }
        }
        buffers_.clear();
        for (const auto& f : inflight_) {
            buffers_.emplace_back(f->data(), f->size());
        }
        asio::async_write(
            socket_, buffers_,
            asio::bind_executor(
                strand_, [self = shared_from_this()](boost::system::error_code ec, size_t n) {
                    if (self->finished_) {
                        return;
                    }
                    if (ec) {
                        if (self->closed_) {
                            self->finish();
                        } else {
                            self->close_now(DisconnectReason::kRequested,
                                            "write failed: " + ec.message(), false);
                        }
                        return;
                    }
                    self->bytes_out_.fetch_add(n, std::memory_order_relaxed);
                    self->msgs_out_.fetch_add(self->inflight_.size(), std::memory_order_relaxed);
                    self->inflight_.clear();
                    self->do_write();
                }));
    }

    Network::Impl& net_;
    Strand strand_;
    tcp::socket socket_;
    asio::steady_timer timer_;       ///< handshake timeout, then the close linger
    asio::steady_timer ping_timer_;  ///< keepalive while active
    const bool outbound_;
    const std::optional<size_t> dialer_;
    const std::optional<Address> expected_id_;
    std::string remote_;

    // strand_ only
    State state_ = State::kAwaitHello;
    bool closed_ = false;    ///< logically closed: no more reads, left the network's tables
    bool finished_ = false;  ///< socket closed
    Hello my_hello_;
    Hello peer_hello_;
    std::array<uint8_t, kFrameHeaderSize> len_{};
    Bytes body_;
    std::vector<std::shared_ptr<const Bytes>> inflight_;  ///< frames of the async_write in flight
    std::vector<asio::const_buffer> buffers_;
    Address peer_id_;
    bool handshake_ok_ = false;
    std::chrono::steady_clock::time_point last_rx_ = std::chrono::steady_clock::now();
    uint64_t ping_nonce_ = 0;

    // qmu_
    mutable std::mutex qmu_;
    std::deque<Out> queue_;
    size_t queued_bytes_ = 0;
    bool writing_ = false;
    bool closed_q_ = false;

    std::atomic<uint64_t> msgs_in_{0};
    std::atomic<uint64_t> msgs_out_{0};
    std::atomic<uint64_t> bytes_in_{0};
    std::atomic<uint64_t> bytes_out_{0};
    std::atomic<uint64_t> dropped_{0};
};
// NOLINTEND(misc-no-recursion)

// ------------------------------------------------------------------------------------------------

Result<void> Network::Impl::start() {
    auto id = crypto::address_from_secret(cfg_.node_key);
    if (!id) {
        return make_error("net: bad node key: ", id.error().message);
    }
    self_id_ = *id;
    if (cfg_.max_frame_size < kHelloSize + 1) {
        return make_error("net: max_frame_size too small");
    }
    if (cfg_.send_queue_max_msgs == 0) {
        return make_error("net: send_queue_max_msgs is 0");
    }
    if (cfg_.ping_interval.count() <= 0 || cfg_.idle_timeout <= cfg_.ping_interval) {
        return make_error("net: need 0 < ping_interval < idle_timeout");
    }
    {
        const std::lock_guard lock(mu_);
        if (started_) {
            return make_error("net: already started");
        }
        started_ = true;
    }
    if (cfg_.listen) {
        boost::system::error_code ec;
        const auto addr = asio::ip::make_address(cfg_.listen_host, ec);
        if (ec) {
            return make_error("net: bad listen address '", cfg_.listen_host, "'");
        }
        const tcp::endpoint ep(addr, cfg_.listen_port);
        acceptor_.open(ep.protocol(), ec);
        if (!ec) {
            acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
        }
        if (!ec) {
            acceptor_.bind(ep, ec);
        }
        if (!ec) {
            acceptor_.listen(asio::socket_base::max_listen_connections, ec);
        }
        if (ec) {
            return make_error("net: cannot listen on ", cfg_.listen_host, ":", cfg_.listen_port,
                              ": ", ec.message());
        }
        port_ = acceptor_.local_endpoint(ec).port();
    }
    for (const PeerAddress& p : cfg_.static_peers) {
        Dialer d;
        d.addr = p;
        d.id = p.node_id;
        d.timer = std::make_unique<asio::steady_timer>(io_);
        dialers_.push_back(std::move(d));
    }
    work_.emplace(asio::make_work_guard(io_));
    for (size_t i = 0; i < std::max<size_t>(1, cfg_.threads); ++i) {
        threads_.emplace_back([this] {
            log::name_thread("pel-p2p");
            for (;;) {
                try {
                    io_.run();
                    return;
                } catch (const std::exception& e) {
                    spdlog::error("net: exception in an I/O handler: {}", e.what());
                } catch (...) {
                    spdlog::error("net: unknown exception in an I/O handler");
                }
            }
        });
    }
    asio::post(strand_, [this] {
        if (cfg_.listen) {
            start_accept();
        }
        for (size_t i = 0; i < dialers_.size(); ++i) {
            schedule_dial(i, std::chrono::milliseconds(0));
        }
    });
    spdlog::info("net: node {} listening on {}:{}, {} static peers", self_id_.to_hex(),
                 cfg_.listen_host, port_, cfg_.static_peers.size());
    return {};
}

void Network::Impl::stop() {
    std::vector<std::shared_ptr<Session>> open;
    {
        const std::lock_guard lock(mu_);
        if (!started_ || stopping_) {
            return;
        }
        stopping_ = true;
        open.assign(sessions_.begin(), sessions_.end());
    }
    asio::post(strand_, [this] {
        boost::system::error_code ec;
        acceptor_.close(ec);
        for (Dialer& d : dialers_) {
            d.timer->cancel();
            if (d.resolver) {
                d.resolver->cancel();
            }
            if (d.connecting) {
                d.connecting->close(ec);
            }
        }
    });
    for (const auto& s : open) {
        s->close(DisconnectReason::kRequested, "network stopping");
    }
    {
        std::unique_lock lock(mu_);
        cv_.wait_for(lock, std::chrono::seconds(2), [this] { return sessions_.empty(); });
    }
    work_.reset();
    io_.stop();
    for (std::thread& t : threads_) {
        t.join();
    }
    threads_.clear();
    const std::lock_guard lock(mu_);
    active_.clear();
    sessions_.clear();
}

bool Network::Impl::add_session(const std::shared_ptr<Session>& s) {
    const std::lock_guard lock(mu_);
    if (stopping_) {
        return false;
    }
    // Connections still in their handshake are bounded too (each lives at most
    // handshake_timeout): inbound ones beyond twice the peer limit are refused at once.
    if (!s->outbound() && sessions_.size() >= 2 * cfg_.max_peers + dialers_.size()) {
        spdlog::warn("net: refusing inbound {}: {} connections open", s->remote(),
                     sessions_.size());
        return false;
    }
    sessions_.insert(s);
    return true;
}

void Network::Impl::start_accept() {
    acceptor_.async_accept(
        asio::bind_executor(strand_, [this](boost::system::error_code ec, tcp::socket socket) {
            if (ec == asio::error::operation_aborted || !acceptor_.is_open()) {
                return;
            }
            if (ec) {
                spdlog::warn("net: accept failed: {}", ec.message());
            } else {
                auto s = std::make_shared<Session>(*this, std::move(socket), false, std::nullopt,
                                                   std::nullopt);
                if (add_session(s)) {
                    s->start();
                }
            }
            start_accept();
        }));
}

std::chrono::milliseconds Network::Impl::backoff(unsigned failures) {
    using std::chrono::milliseconds;
    const int64_t initial = std::max<int64_t>(1, cfg_.backoff_initial.count());
    const int64_t cap = std::max<int64_t>(initial, cfg_.backoff_max.count());
    int64_t base = initial;
    for (unsigned i = 0; i < failures && base < cap; ++i) {
        base *= 2;
    }
    base = std::min(base, cap);
    // Full jitter over the upper half: [base/2, base]. Keeps dialers of many nodes apart.
    std::uniform_int_distribution<int64_t> dist(base / 2, base);
    return milliseconds(dist(rng_));
}

void Network::Impl::schedule_dial(size_t i, std::chrono::milliseconds delay) {
    Dialer& d = dialers_[i];
    d.timer->expires_after(delay);
    d.timer->async_wait(asio::bind_executor(strand_, [this, i](boost::system::error_code ec) {
        if (!ec) {
            try_dial(i);
        }
    }));
}

void Network::Impl::try_dial(size_t i) {
    Dialer& d = dialers_[i];
    {
        const std::lock_guard lock(mu_);
        if (stopping_ || d.busy) {
            return;
        }
        if (d.id && active_.contains(*d.id)) {
            d.waiting = true;  // connected already (it dialled us): redial when it goes away
            return;
        }
    }
    d.busy = true;
    d.waiting = false;
    dials_.fetch_add(1, std::memory_order_relaxed);
    d.resolver = std::make_shared<tcp::resolver>(io_);
    d.resolver->async_resolve(
        d.addr.host, std::to_string(d.addr.port),
        asio::bind_executor(strand_, [this, i](boost::system::error_code ec,
                                               const tcp::resolver::results_type& results) {
            Dialer& dd = dialers_[i];
            if (ec) {
                if (ec == asio::error::operation_aborted) {
                    return;
                }
                spdlog::debug("net: resolve {}: {}", dd.addr.host, ec.message());
                dd.busy = false;
                schedule_dial(i, backoff(++dd.failures));
                return;
            }
            dd.connecting = std::make_shared<tcp::socket>(io_);
            asio::async_connect(*dd.connecting, results,
                                asio::bind_executor(strand_, [this, i, sock = dd.connecting](
                                                                 boost::system::error_code ec2,
                                                                 const tcp::endpoint& /*ep*/) {
                                    Dialer& d3 = dialers_[i];
                                    d3.connecting.reset();
                                    if (ec2 == asio::error::operation_aborted) {
                                        return;
                                    }
                                    if (ec2) {
                                        spdlog::debug("net: dial {}:{}: {}", d3.addr.host,
                                                      d3.addr.port, ec2.message());
                                        d3.busy = false;
                                        schedule_dial(i, backoff(++d3.failures));
                                        return;
                                    }
                                    auto s = std::make_shared<Session>(*this, std::move(*sock),
                                                                       true, i, d3.addr.node_id);
                                    if (add_session(s)) {
                                        s->start();
                                    }
                                }));
        }));
}

void Network::Impl::dialer_session_closed(size_t i, bool handshake_ok, bool was_active,
                                          const Address& id) {
    Dialer& d = dialers_[i];
    d.busy = false;
    if (handshake_ok) {
        d.id = id;  // next time: wait instead of dialling while it is connected
    }
    // Only a session that became the active one resets the backoff: a peer that is full, or
    // that keeps the other (duplicate) connection, is not redialled in a tight loop.
    d.failures = was_active ? 0 : d.failures + 1;
    schedule_dial(i, backoff(d.failures));
}

void Network::Impl::wake_dialers(const Address& id) {
    for (size_t i = 0; i < dialers_.size(); ++i) {
        Dialer& d = dialers_[i];
        if (d.waiting && d.id == id) {
            d.waiting = false;
            d.failures = 0;
            schedule_dial(i, backoff(0));
        }
    }
}

bool Network::Impl::on_session_ready(const std::shared_ptr<Session>& s) {
    const Address& id = s->peer_id();
    std::shared_ptr<Session> loser;
    bool keep = true;
    bool fresh = false;
    bool full = false;
    {
        const std::lock_guard lock(mu_);
        if (stopping_) {
            return false;
        }
        auto it = active_.find(id);
        if (it == active_.end()) {
            if (active_.size() >= cfg_.max_peers) {
                full = true;
            } else {
                active_.emplace(id, s);
                fresh = true;
            }
        } else {
            // Keep the connection dialled by the smaller node id; same dialer: the newer wins.
            const Address& old_dialer = it->second->outbound() ? self_id_ : id;
            const Address& new_dialer = s->outbound() ? self_id_ : id;
            const Address& lower = std::min(self_id_, id);
            if (old_dialer == new_dialer || new_dialer == lower) {
                loser = it->second;
                it->second = s;
            } else {
                keep = false;
            }
        }
    }
    if (full) {
        s->close_now(DisconnectReason::kTooManyPeers, "peer limit reached", true);
        return false;
    }
    if (!keep) {
        duplicates_closed_.fetch_add(1, std::memory_order_relaxed);
        s->close_now(DisconnectReason::kDuplicate, "kept the other connection", true);
        return false;
    }
    if (loser) {
        duplicates_closed_.fetch_add(1, std::memory_order_relaxed);
        loser->close(DisconnectReason::kDuplicate, "replaced by a newer/preferred connection");
    }
    if (fresh && on_peer_) {
        try {
            on_peer_(id, true);
        } catch (const std::exception& e) {
            spdlog::error("net: on_peer callback threw: {}", e.what());
        }
    }
    return true;
}

void Network::Impl::on_session_closed(const std::shared_ptr<Session>& s) {
    bool was_active = false;
    {
        const std::lock_guard lock(mu_);
        sessions_.erase(s);
        if (s->handshake_ok()) {
            auto it = active_.find(s->peer_id());
            if (it != active_.end() && it->second == s) {
                active_.erase(it);
                was_active = true;
            }
        }
        cv_.notify_all();
    }
    if (was_active && on_peer_) {
        try {
            on_peer_(s->peer_id(), false);
        } catch (const std::exception& e) {
            spdlog::error("net: on_peer callback threw: {}", e.what());
        }
    }
    const auto dialer = s->dialer();
    const bool ok = s->handshake_ok();
    const Address id = s->peer_id();
    asio::post(strand_, [this, dialer, ok, id, was_active] {
        {
            const std::lock_guard lock(mu_);
            if (stopping_) {
                return;
            }
        }
        if (dialer) {
            dialer_session_closed(*dialer, ok, was_active, id);
        }
        if (was_active) {
            wake_dialers(id);
        }
    });
}

void Network::Impl::deliver(const Address& from, MsgKind kind, ByteView payload) const {
    if (!on_message_) {
        return;
    }
    try {
        on_message_(from, kind, payload);
    } catch (const std::exception& e) {
        spdlog::error("net: on_message callback threw: {}", e.what());
    }
}

void Network::Impl::fan_out(MsgKind kind, ByteView payload, const Session* except) {
    auto frame = std::make_shared<const Bytes>(encode_frame(kind, payload));
    std::vector<std::shared_ptr<Session>> targets;
    {
        const std::lock_guard lock(mu_);
        targets.reserve(active_.size());
        for (const auto& [id, s] : active_) {
            if (s.get() != except) {
                targets.push_back(s);
            }
        }
    }
    for (const auto& s : targets) {
        static_cast<void>(s->enqueue(kind, frame));
    }
}

Result<void, DecodeError> Network::Impl::on_gossip(const std::shared_ptr<Session>& from,
                                                   MsgKind kind, ByteView payload) {
    if (kind == MsgKind::kTxns) {
        PEL_TRY(auto txns, decode_txns(payload));
        std::vector<Bytes> fresh;
        for (GossipTxn& t : txns) {
            if (seen_txns_.insert(t.hash)) {
                fresh.push_back(std::move(t.encoded));
            } else {
                gossip_duplicates_.fetch_add(1, std::memory_order_relaxed);
            }
        }
        if (fresh.empty()) {
            return {};
        }
        const Bytes out = fresh.size() == txns.size() ? Bytes(payload.begin(), payload.end())
                                                      : encode_txns(fresh);
        deliver(from->peer_id(), kind, out);
        if (cfg_.relay_txns) {
            fan_out(kind, out, from.get());
        }
        return {};
    }
    PEL_TRY_VOID(decode_opaque(payload));
    SeenSet& seen = kind == MsgKind::kConsensus ? seen_consensus_ : seen_blocks_;
    if (!seen.insert(keccak256(payload))) {
        gossip_duplicates_.fetch_add(1, std::memory_order_relaxed);
        return {};
    }
    deliver(from->peer_id(), kind, payload);
    const bool relay = kind == MsgKind::kConsensus ? cfg_.relay_consensus : cfg_.relay_blocks;
    if (relay) {
        fan_out(kind, payload, from.get());
    }
    return {};
}

Result<void> Network::Impl::check_outgoing(MsgKind kind, ByteView payload) {
    if (!is_gossip(kind)) {
        return make_error("net: only txns, consensus and block messages are sent by callers, not ",
                          to_string(kind));
    }
    if (payload.size() + 1 > cfg_.max_frame_size) {
        return make_error("net: payload of ", payload.size(), " bytes above the frame limit");
    }
    if (kind == MsgKind::kTxns) {
        auto txns = decode_txns(payload);
        if (!txns) {
            return make_error(to_string(txns.error()));
        }
        for (const GossipTxn& t : *txns) {
            static_cast<void>(seen_txns_.insert(t.hash));
        }
        return {};
    }
    if (payload.empty()) {
        return make_error(to_string(DecodeError::kEmptyPayload));
    }
    SeenSet& seen = kind == MsgKind::kConsensus ? seen_consensus_ : seen_blocks_;
    static_cast<void>(seen.insert(keccak256(payload)));
    return {};
}

Result<void> Network::Impl::broadcast(MsgKind kind, ByteView payload) {
    PEL_TRY_VOID(check_outgoing(kind, payload));
    fan_out(kind, payload, nullptr);
    return {};
}

Result<void> Network::Impl::send(const Address& peer, MsgKind kind, ByteView payload) {
    PEL_TRY_VOID(check_outgoing(kind, payload));
    std::shared_ptr<Session> s;
    {
        const std::lock_guard lock(mu_);
        auto it = active_.find(peer);
        if (it == active_.end()) {
            return make_error("net: peer ", peer.to_hex(), " not connected");
        }
        s = it->second;
    }
    if (!s->enqueue(kind, std::make_shared<const Bytes>(encode_frame(kind, payload)))) {
        return make_error("net: send queue of ", peer.to_hex(), " full");
    }
    return {};
}

// ------------------------------------------------------------------------------------------------

Network::Network(Config config) : impl_(std::make_unique<Impl>(std::move(config))) {}
Network::~Network() {
    try {
        stop();
    } catch (const std::exception& e) {  // a failed join or lock: nothing left to do but report
        spdlog::error("net: stop in ~Network failed: {}", e.what());
    } catch (...) {
        spdlog::error("net: stop in ~Network failed");
    }
}

void Network::on_message(MessageHandler h) { impl_->on_message_ = std::move(h); }
void Network::on_peer(PeerHandler h) { impl_->on_peer_ = std::move(h); }
Result<void> Network::start() { return impl_->start(); }
void Network::stop() { impl_->stop(); }
uint16_t Network::listen_port() const { return impl_->port_; }
const Address& Network::node_id() const { return impl_->self_id_; }

Result<void> Network::broadcast(MsgKind kind, ByteView payload) {
    return impl_->broadcast(kind, payload);
}
Result<void> Network::send(const Address& peer, MsgKind kind, ByteView payload) {
    return impl_->send(peer, kind, payload);
}

std::vector<PeerInfo> Network::peers() const {
    std::vector<std::shared_ptr<Session>> list;
    {
        const std::lock_guard lock(impl_->mu_);
        for (const auto& [id, s] : impl_->active_) {
            list.push_back(s);
        }
    }
    std::vector<PeerInfo> out;
    out.reserve(list.size());
    for (const auto& s : list) {
        out.push_back(s->info());
    }
    std::sort(out.begin(), out.end(),
              [](const PeerInfo& a, const PeerInfo& b) { return a.node_id < b.node_id; });
    return out;
}

size_t Network::peer_count() const {
    const std::lock_guard lock(impl_->mu_);
    return impl_->active_.size();
}

NetStats Network::stats() const {
    NetStats s;
    s.handshakes_ok = impl_->handshakes_ok_.load();
    s.handshakes_failed = impl_->handshakes_failed_.load();
    s.protocol_errors = impl_->protocol_errors_.load();
    s.duplicates_closed = impl_->duplicates_closed_.load();
    s.gossip_duplicates = impl_->gossip_duplicates_.load();
    s.dials = impl_->dials_.load();
    return s;
}

}  // namespace pel::net
