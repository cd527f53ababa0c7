// SPDX-License-Identifier: Apache-2.0
// JSON-RPC over HTTP/1.1 for pel-loadgen: one keep-alive connection per client (Boost.Beast,
// synchronous), loopback endpoints only.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "primitives/result.hpp"

namespace pel::loadgen {

/// A parsed http://host:port/path URL whose host resolves to loopback addresses only.
struct Endpoint {
    std::string host;
    std::string port;
    std::string target;  ///< path, "/" when absent
};

/// Parses `url` (http only) and refuses any host that is not a loopback address or that
/// resolves to anything but loopback addresses (pel-loadgen must not load a remote node).
[[nodiscard]] Result<Endpoint> parse_loopback_url(std::string_view url);

/// One keep-alive HTTP connection. Not thread-safe: each sending thread owns one client.
/// A request on a connection that the server closed reconnects once and retries (the request
/// may then reach the node twice; eth_sendRawTransaction answers the repeat with an error that
/// the caller sees, it is never silently counted).
class HttpRpc {
  public:
    explicit HttpRpc(Endpoint endpoint);
    ~HttpRpc();
    HttpRpc(const HttpRpc&) = delete;
    HttpRpc& operator=(const HttpRpc&) = delete;

    /// POSTs `body` and returns the parsed JSON response body (HTTP status must be 200).
    [[nodiscard]] Result<nlohmann::json> post(const std::string& body);

    /// A single call; the JSON-RPC error object, if any, becomes the error message.
    [[nodiscard]] Result<nlohmann::json> call(std::string_view method, nlohmann::json params);

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace pel::loadgen
