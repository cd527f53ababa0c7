// SPDX-License-Identifier: Apache-2.0
// HTTP/1.1 transport of the JSON-RPC server (Boost.Beast over Asio, header-only Boost). Behaviour,
// following geth's HTTP server where clients rely on it:
//  - POST with Content-Type application/json (parameters such as charset allowed; also
//    application/json-rpc and application/jsonrequest); any other type gets 415.
//  - A body above `max_body_bytes` gets 413 with a JSON-RPC -32600 error body, and the
//    connection is closed (the rest of the oversized body is not read).
//  - OPTIONS is a CORS preflight; when `cors_origin` is not empty, responses to requests that
//    carry an Origin header allow it. Other methods get 405.
//  - Keep-alive as the client asks (HTTP/1.1 default on); idle connections close after
//    `idle_timeout`.
//  - A body of only notifications gets 204 No Content.
//  - A GET that asks to upgrade to WebSocket (RFC 6455), on the same port as anvil and geth's
//    --ws serve it, becomes a WebSocket connection when a WsFactory was given: each text message
//    is a JSON-RPC body and gets its answer; the connection may also send at any time
//    (subscriptions). Messages above `max_body_bytes` close the connection (1009); so does a
//    client that lets more than `max_ws_queue` outgoing messages pile up.
// Pimpl: this header pulls in no Asio or Beast.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "primitives/result.hpp"

namespace pel::node {

struct HttpOptions {
    std::string address = "127.0.0.1";
    uint16_t port = 8545;  ///< 0 picks a free port (see HttpServer::port())
    size_t io_threads = 2;
    size_t max_body_bytes = size_t{5} << 20;
    std::string cors_origin = "*";  ///< Access-Control-Allow-Origin; empty sends no CORS headers
    std::chrono::seconds idle_timeout{120};
    size_t max_ws_queue = 4096;  ///< outgoing messages a WebSocket client may leave unread
};

/// Turns a request body into a response body; nothing means "no content" (notifications).
/// Called on the IO threads, concurrently: it must be thread safe.
using HttpHandler = std::function<std::optional<std::string>(std::string_view body)>;

/// The JSON-RPC side of one WebSocket connection. on_message runs on the connection's strand,
/// one message at a time; it is destroyed when the connection closes.
class WsConnection {
  public:
    WsConnection() = default;
    virtual ~WsConnection() = default;
    WsConnection(const WsConnection&) = delete;
    WsConnection& operator=(const WsConnection&) = delete;
    WsConnection(WsConnection&&) = delete;
    WsConnection& operator=(WsConnection&&) = delete;
    /// The answer to a text message, or nothing (notifications only).
    [[nodiscard]] virtual std::optional<std::string> on_message(std::string_view text) = 0;
};

/// Sends a text message on a WebSocket connection: thread safe, never blocks; once the connection
/// is gone it does nothing.
using WsSend = std::function<void(std::string)>;

/// Makes the JSON-RPC side of a new WebSocket connection, or null to refuse it (503).
using WsFactory = std::function<std::unique_ptr<WsConnection>(WsSend send)>;

/// Thread safety: start() and stop() from one controlling thread; the handler runs on the
/// server's IO threads.
class HttpServer {
  public:
    /// Binds and listens, then starts the IO threads. Errors (with the address and the OS
    /// reason): bad address, port in use, permission denied.
    [[nodiscard]] static Result<std::unique_ptr<HttpServer>> start(HttpOptions options,
                                                                   HttpHandler handler,
                                                                   WsFactory ws = {});
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    /// The bound port (useful with port 0).
    [[nodiscard]] uint16_t port() const noexcept;

    /// Graceful stop: closes the listener, lets every request being handled finish and its
    /// response be written, closes idle connections, then joins the IO threads. Idempotent.
    void stop();

    struct Impl;  ///< defined in http_server.cpp (public only so its sessions can name it)

  private:
    explicit HttpServer(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace pel::node
