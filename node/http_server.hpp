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
};

/// Turns a request body into a response body; nothing means "no content" (notifications).
/// Called on the IO threads, concurrently: it must be thread safe.
using HttpHandler = std::function<std::optional<std::string>(std::string_view body)>;

/// Thread safety: start() and stop() from one controlling thread; the handler runs on the
/// server's IO threads.
class HttpServer {
  public:
    /// Binds and listens, then starts the IO threads. Errors (with the address and the OS
    /// reason): bad address, port in use, permission denied.
    [[nodiscard]] static Result<std::unique_ptr<HttpServer>> start(HttpOptions options,
                                                                   HttpHandler handler);
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
