// SPDX-License-Identifier: Apache-2.0
// Thread safety / Invariants:
//  - Every Session and WsSession runs on its own strand: its stream, buffers, parser and outgoing
//    queue are touched only from handlers on that strand, so a session needs no lock. WsSend
//    posts to the strand and holds only a weak pointer to the session.
//  - `sessions` and `ws_sessions` (guarded by `mu`) hold a weak pointer to every live session so
//    that stop() can shut down the receive side of idle connections; a session removes itself
//    when destroyed.
//  - After `stopping_` is set no new connection is accepted and no response keeps the connection
//    alive; io_context::run() returns once the last session is gone.
#include "node/http_server.hpp"

#include <atomic>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/version.hpp>
#include <boost/beast/websocket.hpp>

#include "node/rpc_dispatch.hpp"
#include "primitives/log.hpp"

namespace pel::node {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

namespace {

/// geth's accepted JSON-RPC content types.
bool accepted_content_type(std::string_view v) {
    const auto semi = v.find(';');
    std::string_view mt = v.substr(0, semi);
    while (!mt.empty() && (mt.back() == ' ' || mt.back() == '\t')) {
        mt.remove_suffix(1);
    }
    while (!mt.empty() && (mt.front() == ' ' || mt.front() == '\t')) {
        mt.remove_prefix(1);
    }
    std::string lower(mt);
    for (char& c : lower) {
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
    }
    return lower == "application/json" || lower == "application/json-rpc" ||
           lower == "application/jsonrequest";
}

}  // namespace

class Session;
class WsSession;

struct HttpServer::Impl {
    HttpOptions options;
    HttpHandler handler;
    WsFactory ws_factory;
    asio::io_context ioc;
    tcp::acceptor acceptor;
    std::vector<std::thread> threads;
    std::atomic<bool> stopping{false};
    std::mutex mu;
    std::unordered_map<const Session*, std::weak_ptr<Session>> sessions;         // guarded by mu
    std::unordered_map<const WsSession*, std::weak_ptr<WsSession>> ws_sessions;  // guarded by mu
    uint16_t bound_port = 0;

    Impl(HttpOptions o, HttpHandler h, WsFactory w)
        : options(std::move(o)),
          handler(std::move(h)),
          ws_factory(std::move(w)),
          ioc(static_cast<int>(options.io_threads)),
          acceptor(asio::make_strand(ioc)) {}

    void do_accept();
};

/// A WebSocket connection: reads text messages one at a time, answers each through its
/// WsConnection, and writes answers and pushed messages in order from one queue.
class WsSession : public std::enable_shared_from_this<WsSession> {
  public:
    WsSession(tcp::socket&& socket, HttpServer::Impl& server)
        : ws_(std::move(socket)), server_(server) {}
    ~WsSession() {
        conn_.reset();  // before the registry entry goes: its subscriptions end first
        const std::lock_guard lock(server_.mu);
        server_.ws_sessions.erase(this);
    }
    WsSession(const WsSession&) = delete;
    WsSession& operator=(const WsSession&) = delete;

    /// Completes the handshake of `req` (an upgrade request already read).
    void run(http::request<http::string_body> req) {
        beast::get_lowest_layer(ws_).expires_never();
        websocket::stream_base::timeout t =
            websocket::stream_base::timeout::suggested(beast::role_type::server);
        t.idle_timeout = server_.options.idle_timeout;
        t.keep_alive_pings = true;
        ws_.set_option(t);
        ws_.set_option(websocket::stream_base::decorator(
            [](websocket::response_type& res) { res.set(http::field::server, "pel-node"); }));
        ws_.read_message_max(server_.options.max_body_bytes);
        req_ = std::move(req);
        ws_.async_accept(req_,
                         beast::bind_front_handler(&WsSession::on_accept, shared_from_this()));
    }

    void shutdown_receive() {
        asio::post(ws_.get_executor(), [self = shared_from_this()] {
            beast::error_code ec;
            beast::get_lowest_layer(self->ws_).socket().shutdown(tcp::socket::shutdown_receive, ec);
        });
    }

  private:
    void on_accept(beast::error_code ec) {
        if (ec) {
            return;
        }
        auto exec = ws_.get_executor();
        std::weak_ptr<WsSession> weak = shared_from_this();
        conn_ = server_.ws_factory([exec, weak](std::string msg) {
            asio::post(exec, [weak, msg = std::move(msg)]() mutable {
                if (auto self = weak.lock()) {
                    self->queue(std::move(msg));
                }
            });
        });
        if (!conn_) {
            ws_.async_close(
                websocket::close_reason(websocket::close_code::try_again_later, "node is starting"),
                [self = shared_from_this()](beast::error_code) {});
            return;
        }
        do_read();
    }

    void do_read() {
        ws_.async_read(buffer_, beast::bind_front_handler(&WsSession::on_read, shared_from_this()));
    }

    void on_read(beast::error_code ec, size_t /*bytes*/) {
        if (ec) {
            if (ec == websocket::error::message_too_big) {
                ws_.async_close(
                    websocket::close_reason(websocket::close_code::too_big, "message too large"),
                    [self = shared_from_this()](beast::error_code) {});
            }
            conn_.reset();
            return;
        }
        const std::string text = beast::buffers_to_string(buffer_.data());
        buffer_.consume(buffer_.size());
        std::optional<std::string> answer;
        try {
            answer = conn_->on_message(text);
        } catch (const std::exception& e) {
            answer = rpc::Dispatcher::error_response(rpc::kInternalError,
                                                     std::string("internal error: ") + e.what());
        }
        if (answer) {
            queue(std::move(*answer));
        }
        if (closing_) {
            return;
        }
        do_read();
    }

    void queue(std::string msg) {
        if (closing_) {
            return;
        }
        if (out_.size() >= server_.options.max_ws_queue) {
            // The client does not read: drop it rather than grow without bound.
            closing_ = true;
            conn_.reset();
            beast::error_code ec;
            beast::get_lowest_layer(ws_).socket().shutdown(tcp::socket::shutdown_both, ec);
            return;
        }
        out_.push_back(std::move(msg));
        if (out_.size() == 1) {
            do_write();
        }
    }

    void do_write() {
        ws_.text(true);
        ws_.async_write(asio::buffer(out_.front()),
                        beast::bind_front_handler(&WsSession::on_write, shared_from_this()));
    }

    void on_write(beast::error_code ec, size_t /*bytes*/) {
        if (ec) {
            closing_ = true;
            conn_.reset();
            out_.clear();
            return;
        }
        out_.pop_front();
        if (!out_.empty()) {
            do_write();
        }
    }

    websocket::stream<beast::tcp_stream> ws_;
    beast::flat_buffer buffer_;
    http::request<http::string_body> req_;
    std::deque<std::string> out_;
    bool closing_ = false;
    std::unique_ptr<WsConnection> conn_;
    HttpServer::Impl& server_;
};

class Session : public std::enable_shared_from_this<Session> {
  public:
    Session(tcp::socket&& socket, HttpServer::Impl& server)
        : stream_(std::move(socket)), server_(server) {}

    ~Session() {
        const std::lock_guard lock(server_.mu);
        server_.sessions.erase(this);
    }
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    void run() {
        asio::dispatch(stream_.get_executor(),
                       beast::bind_front_handler(&Session::do_read, shared_from_this()));
    }

    /// Called by stop(): an idle connection sees end of stream; one mid-request finishes it.
    void shutdown_receive() {
        asio::post(stream_.get_executor(), [self = shared_from_this()] {
            beast::error_code ec;
            self->stream_.socket().shutdown(tcp::socket::shutdown_receive, ec);
        });
    }

  private:
    void do_read() {
        parser_.emplace();
        parser_->body_limit(server_.options.max_body_bytes);
        stream_.expires_after(server_.options.idle_timeout);
        // Header first: an oversized Content-Length is refused before the body is sent, and a
        // client that asks "Expect: 100-continue" (curl does for large bodies) gets its 100 at
        // once instead of waiting a second for it.
        http::async_read_header(stream_, buffer_, *parser_,
                                beast::bind_front_handler(&Session::on_header, shared_from_this()));
    }

    void on_header(beast::error_code ec, size_t /*bytes*/) {
        if (ec) {
            on_read(ec, 0);
            return;
        }
        const auto expect = parser_->get()[http::field::expect];
        if (beast::iequals(expect, "100-continue")) {
            auto cont = std::make_shared<http::response<http::empty_body>>(
                http::status::continue_, parser_->get().version());
            http::async_write(stream_, *cont,
                              [self = shared_from_this(), cont](beast::error_code wec, size_t) {
                                  if (wec) {
                                      self->close();
                                      return;
                                  }
                                  self->read_body();
                              });
            return;
        }
        read_body();
    }

    void read_body() {
        http::async_read(stream_, buffer_, *parser_,
                         beast::bind_front_handler(&Session::on_read, shared_from_this()));
    }

    void on_read(beast::error_code ec, size_t /*bytes*/) {
        if (ec == http::error::body_limit) {
            // The body was not (fully) read: answer and close the connection.
            send(too_large(), /*keep_alive=*/false);
            return;
        }
        if (ec) {
            // End of stream, timeout, reset or malformed HTTP: nothing sensible to answer.
            close();
            return;
        }
        auto req = parser_->release();
        if (websocket::is_upgrade(req) && server_.ws_factory) {
            upgrade(std::move(req));
            return;
        }
        const bool keep_alive = req.keep_alive() && !server_.stopping.load();
        send(respond(req), keep_alive);
    }

    /// Hands the connection to a WebSocket session (this HTTP session then ends).
    void upgrade(http::request<http::string_body> req) {
        auto ws = std::make_shared<WsSession>(stream_.release_socket(), server_);
        {
            const std::lock_guard lock(server_.mu);
            if (server_.stopping.load()) {
                return;  // the socket closes with `ws`
            }
            server_.ws_sessions.emplace(ws.get(), ws);
        }
        ws->run(std::move(req));
    }

    using Response = http::response<http::string_body>;
    using Request = http::request<http::string_body>;

    void add_cors(const Request& req, Response& res) const {
        if (server_.options.cors_origin.empty() || req.find(http::field::origin) == req.end()) {
            return;
        }
        res.set(http::field::access_control_allow_origin, server_.options.cors_origin);
        res.set(http::field::vary, "Origin");
    }

    Response make(http::status status, unsigned version, std::string body,
                  std::string_view content_type) const {
        Response res{status, version};
        res.set(http::field::server, "pel-node");
        if (!body.empty() || status == http::status::ok) {
            res.set(http::field::content_type, std::string(content_type));
        }
        res.body() = std::move(body);
        res.prepare_payload();
        return res;
    }

    Response too_large() const {
        const std::string body = rpc::Dispatcher::error_response(
            rpc::kInvalidRequest, "request body too large: the limit is " +
                                      std::to_string(server_.options.max_body_bytes) + " bytes");
        return make(http::status::payload_too_large, 11, body, "application/json");
    }

    Response respond(const Request& req) const {
        const unsigned v = req.version();
        Response res;
        if (req.method() == http::verb::options) {
            res = make(http::status::no_content, v, "", "");
            if (!server_.options.cors_origin.empty()) {
                res.set(http::field::access_control_allow_origin, server_.options.cors_origin);
                res.set(http::field::access_control_allow_methods, "POST, GET, OPTIONS");
                const auto asked = req.find(http::field::access_control_request_headers);
                res.set(http::field::access_control_allow_headers,
                        asked != req.end() ? std::string(asked->value()) : "Content-Type");
                res.set(http::field::access_control_max_age, "600");
            }
        } else if (req.method() != http::verb::post) {
            res = make(http::status::method_not_allowed, v, "method not allowed\n", "text/plain");
            res.set(http::field::allow, "POST, OPTIONS");
        } else if (const auto ct = req[http::field::content_type];
                   !accepted_content_type(std::string_view(ct.data(), ct.size()))) {
            res = make(http::status::unsupported_media_type, v,
                       "invalid content type, only application/json is supported\n", "text/plain");
        } else {
            std::optional<std::string> body;
            try {
                body = server_.handler(req.body());
            } catch (const std::exception& e) {
                body = rpc::Dispatcher::error_response(rpc::kInternalError,
                                                       std::string("internal error: ") + e.what());
            }
            if (body) {
                res = make(http::status::ok, v, std::move(*body), "application/json");
            } else {
                res = make(http::status::no_content, v, "", "");
            }
        }
        add_cors(req, res);
        return res;
    }

    void send(Response res, bool keep_alive) {
        res.keep_alive(keep_alive);
        res_ = std::make_shared<Response>(std::move(res));
        stream_.expires_after(server_.options.idle_timeout);
        http::async_write(stream_, *res_,
                          [self = shared_from_this(), keep_alive](beast::error_code ec, size_t) {
                              self->res_.reset();
                              if (ec || !keep_alive) {
                                  self->close();
                                  return;
                              }
                              self->do_read();
                          });
    }

    void close() {
        beast::error_code ec;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
        stream_.socket().close(ec);
    }

    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    std::shared_ptr<Response> res_;
    HttpServer::Impl& server_;
};

void HttpServer::Impl::do_accept() {
    acceptor.async_accept(asio::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
        if (ec || stopping.load()) {
            if (ec == asio::error::operation_aborted || stopping.load()) {
                return;
            }
            // Out of descriptors and the like: keep listening.
            do_accept();
            return;
        }
        beast::error_code nd;
        socket.set_option(tcp::no_delay(true), nd);
        auto session = std::make_shared<Session>(std::move(socket), *this);
        bool registered = false;
        {
            // stop() sets `stopping` under the same lock: a session is either registered
            // before stop() looks, or never started. (The session is destroyed outside the
            // lock: its destructor takes it.)
            const std::lock_guard lock(mu);
            if (!stopping.load()) {
                sessions.emplace(session.get(), session);
                registered = true;
            }
        }
        if (!registered) {
            return;
        }
        session->run();
        do_accept();
    });
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { stop(); }

uint16_t HttpServer::port() const noexcept { return impl_->bound_port; }

Result<std::unique_ptr<HttpServer>> HttpServer::start(HttpOptions options, HttpHandler handler,
                                                      WsFactory ws) {
    if (options.io_threads == 0) {
        options.io_threads = 1;
    }
    auto impl = std::make_unique<Impl>(std::move(options), std::move(handler), std::move(ws));
    beast::error_code ec;
    const auto addr = asio::ip::make_address(impl->options.address, ec);
    if (ec) {
        return make_error("http: invalid listen address '", impl->options.address,
                          "': ", ec.message());
    }
    const tcp::endpoint endpoint(addr, impl->options.port);
    const std::string where = impl->options.address + ":" + std::to_string(impl->options.port);
    impl->acceptor.open(endpoint.protocol(), ec);
    if (!ec) {
        impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    }
    if (!ec) {
        impl->acceptor.bind(endpoint, ec);
    }
    if (!ec) {
        impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
    }
    if (ec) {
        return make_error("http: cannot listen on ", where, ": ", ec.message());
    }
    impl->bound_port = impl->acceptor.local_endpoint(ec).port();
    impl->do_accept();
    Impl* raw = impl.get();
    for (size_t i = 0; i < raw->options.io_threads; ++i) {
        raw->threads.emplace_back([raw] {
            log::name_thread("pel-http");
            raw->ioc.run();
        });
    }
    return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

void HttpServer::stop() {
    if (!impl_) {
        return;
    }
    std::vector<std::shared_ptr<Session>> live;
    std::vector<std::shared_ptr<WsSession>> live_ws;
    {
        const std::lock_guard lock(impl_->mu);
        if (impl_->stopping.exchange(true)) {
            return;
        }
        for (auto& [ptr, weak] : impl_->sessions) {
            if (auto s = weak.lock()) {
                live.push_back(std::move(s));
            }
        }
        for (auto& [ptr, weak] : impl_->ws_sessions) {
            if (auto s = weak.lock()) {
                live_ws.push_back(std::move(s));
            }
        }
    }
    asio::post(impl_->acceptor.get_executor(), [impl = impl_.get()] {
        beast::error_code ec;
        impl->acceptor.close(ec);
    });
    for (auto& s : live) {
        s->shutdown_receive();
    }
    for (auto& s : live_ws) {
        s->shutdown_receive();
    }
    live.clear();
    live_ws.clear();
    for (auto& t : impl_->threads) {
        if (t.joinable()) {
            t.join();
        }
    }
    impl_->threads.clear();
}

}  // namespace pel::node
