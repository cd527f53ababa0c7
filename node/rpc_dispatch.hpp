// SPDX-License-Identifier: Apache-2.0
// JSON-RPC 2.0 framing (https://www.jsonrpc.org/specification): parses a request body (one request
// or a batch), validates each request object, calls the registered method handler and serializes
// the responses. It knows nothing about HTTP or Ethereum; rpc_eth.hpp registers the methods.
//
// Error codes: -32700 the body is not JSON; -32600 a request object is malformed (missing or
// wrong "jsonrpc", non-string "method", params that are neither array nor object, an id that is
// not a number, string or null, an empty batch, a batch above the limit); -32601 unknown method;
// -32602 bad params (the handler's decoding failed); -32603 a handler threw (a bug, logged).
// Handlers return other codes themselves (-32000 execution/admission errors, 3 reverts).
// Requests without an "id" are notifications: they run, but produce no response.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "primitives/result.hpp"

namespace pel::node::rpc {

using Json = nlohmann::json;

inline constexpr int kParseError = -32700;
inline constexpr int kInvalidRequest = -32600;
inline constexpr int kMethodNotFound = -32601;
inline constexpr int kInvalidParams = -32602;
inline constexpr int kInternalError = -32603;
inline constexpr int kServerError = -32000;   ///< geth: execution and admission errors
inline constexpr int kExecutionReverted = 3;  ///< geth: a reverted call or estimate

/// A JSON-RPC error object.
struct RpcError {
    int code = kInternalError;
    std::string message;
    std::optional<Json> data;
};

/// A handler's answer: the result value or an error object.
using RpcResult = Result<Json, RpcError>;

/// Builds an error result: `return rpc_error(kInvalidParams, "invalid argument 0: ...");`
[[nodiscard]] inline Unexpected<RpcError> rpc_error(int code, std::string message,
                                                    std::optional<Json> data = std::nullopt) {
    return {RpcError{code, std::move(message), std::move(data)}};
}

/// Positional parameters as handlers see them (named parameters are rejected with -32602 before
/// a handler runs; an absent "params" is an empty array).
class Params {
  public:
    explicit Params(const Json& array) : a_(array) {}
    [[nodiscard]] size_t size() const { return a_.size(); }
    /// The i-th parameter, or null when absent (JSON-RPC treats a missing trailing optional
    /// parameter and null alike).
    [[nodiscard]] const Json& at(size_t i) const;
    /// -32602 unless min <= size() <= max ("missing value for required argument N" / "too many
    /// arguments, want at most M", as geth words them).
    [[nodiscard]] Result<void, RpcError> expect(size_t min, size_t max) const;

  private:
    const Json& a_;
};

/// Wraps a decoding error of parameter i as -32602 "invalid argument i: <message>".
[[nodiscard]] Unexpected<RpcError> invalid_argument(size_t i, const Error& e);

/// Decodes parameter `i` with `decoder` (a json_codec function), mapping failure to -32602.
template <class F>
[[nodiscard]] auto decode_param(const Params& p, size_t i, F&& decoder)
    -> Result<typename std::decay_t<decltype(decoder(p.at(i)))>::value_type, RpcError> {
    auto r = decoder(p.at(i));
    if (!r) {
        return invalid_argument(i, r.error());
    }
    return std::move(r).value();
}

/// Called after each request with the method name (or "" for a request rejected before dispatch),
/// how long it took and the error code (0 on success). Used for metrics.
using RequestObserver =
    std::function<void(std::string_view method, std::chrono::nanoseconds elapsed, int error_code)>;

struct DispatcherOptions {
    /// Requests per batch; a larger batch gets a single -32600 "batch too large" answer.
    size_t max_batch = 1000;
};

/// Thread safety: register every method before the first handle(); handle() may then be called
/// from many threads at once (handlers must be thread safe themselves).
class Dispatcher {
  public:
    using Handler = std::function<RpcResult(const Params&)>;

    explicit Dispatcher(DispatcherOptions options = {}) : options_(options) {}

    /// Registers (or replaces) a method.
    void add(std::string name, Handler handler);
    /// Answers several calls of one method at once: result i for params i, as many calls of the
    /// method's Handler in that order would answer (each sees the effects of those before it).
    using BatchHandler = std::function<std::vector<RpcResult>(std::span<const Params>)>;
    /// Gives the method registered as `name` (add() it first) a batch handler: in a JSON-RPC
    /// batch, a run of consecutive well-formed calls of it with array params goes to `handler`
    /// in one call (a connection's own method of that name is never batched).
    void add_batch(const std::string& name, BatchHandler handler);
    void set_observer(RequestObserver observer) { observer_ = std::move(observer); }
    [[nodiscard]] bool has(std::string_view name) const;
    /// The registered methods' names, in ascending order.
    [[nodiscard]] std::vector<std::string> names() const;

    /// Methods of one connection (eth_subscribe over a WebSocket), looked up before the shared
    /// ones.
    using ConnectionMethods = std::unordered_map<std::string, Handler>;

    /// Handles a request body. Returns the serialized response, or nothing when the body held
    /// only notifications (HTTP then answers 204 with no body).
    [[nodiscard]] std::optional<std::string> handle(
        std::string_view body, const ConnectionMethods* connection = nullptr) const;

    /// Handles one parsed request value (object) and returns its response object, or nothing for
    /// a notification. Exposed for tests and the fuzzer.
    [[nodiscard]] std::optional<Json> handle_one(
        const Json& request, const ConnectionMethods* connection = nullptr) const;

    /// Serializes a response value (invalid UTF-8 in strings is replaced, never thrown).
    [[nodiscard]] static std::string serialize(const Json& response);
    /// A complete error response with a null id (what a transport-level failure answers).
    [[nodiscard]] static std::string error_response(int code, std::string_view message);

  private:
    struct Entry {
        std::string name;
        Handler handler;
        BatchHandler batch;  ///< empty: none
    };
    /// A well-formed request, its method looked up (`handler` null: no such method).
    struct Call {
        Json id;
        bool notification = false;
        const std::string* requested = nullptr;  ///< the method as the request names it
        std::string_view name;                   ///< the registered name ("" when unknown)
        const Handler* handler = nullptr;
        const BatchHandler* batch = nullptr;  ///< set when it may join a batched run
        const Json* params = nullptr;         ///< an array or an object
    };
    /// The error response to an invalid request (always answered, with a null id when it has
    /// none), or the call to make.
    [[nodiscard]] std::variant<Json, Call> prepare(const Json& request,
                                                   const ConnectionMethods* connection) const;
    /// Reports an invalid request (-32600, no method) to the observer.
    void observe_invalid() const;
    [[nodiscard]] static RpcResult run(const Call& call);
    [[nodiscard]] std::optional<Json> finish(const Call& call, RpcResult result,
                                             std::chrono::nanoseconds elapsed) const;
    DispatcherOptions options_;
    std::unordered_map<std::string, Entry> methods_;
    RequestObserver observer_;
};

}  // namespace pel::node::rpc
