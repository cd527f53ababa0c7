// SPDX-License-Identifier: Apache-2.0
#include "node/rpc_dispatch.hpp"

#include <algorithm>
#include <exception>
#include <utility>
#include <variant>
#include <vector>

#include <spdlog/spdlog.h>

#include "node/json_parse.hpp"
#include "primitives/assert.hpp"

namespace pel::node::rpc {

namespace {

const Json kNull;  // what Params::at answers for an absent parameter

Json error_object(const RpcError& e) {
    Json err = {{"code", e.code}, {"message", e.message}};
    if (e.data) {
        err["data"] = *e.data;
    }
    return err;
}

Json response_with_error(const Json& id, const RpcError& e) {
    return Json{{"jsonrpc", "2.0"}, {"id", id}, {"error", error_object(e)}};
}

bool valid_id(const Json& id) { return id.is_null() || id.is_string() || id.is_number(); }

}  // namespace

const Json& Params::at(size_t i) const { return i < a_.size() ? a_[i] : kNull; }

Result<void, RpcError> Params::expect(size_t min, size_t max) const {
    // Trailing nulls count as absent (geth does the same for optional arguments).
    size_t n = a_.size();
    while (n > min && a_[n - 1].is_null()) {
        --n;
    }
    if (n < min) {
        return rpc_error(kInvalidParams,
                         "missing value for required argument " + std::to_string(n));
    }
    if (n > max) {
        return rpc_error(kInvalidParams, "too many arguments, want at most " + std::to_string(max));
    }
    for (size_t i = 0; i < min; ++i) {
        if (a_[i].is_null()) {
            return rpc_error(kInvalidParams,
                             "missing value for required argument " + std::to_string(i));
        }
    }
    return {};
}

Unexpected<RpcError> invalid_argument(size_t i, const Error& e) {
    return rpc_error(kInvalidParams, "invalid argument " + std::to_string(i) + ": " + e.message);
}

void Dispatcher::add(std::string name, Handler handler) {
    Entry e{name, std::move(handler), {}};  // a replaced method loses its batch handler
    methods_.insert_or_assign(std::move(name), std::move(e));
}

bool Dispatcher::has(std::string_view name) const {
    return methods_.find(std::string(name)) != methods_.end();
}

std::vector<std::string> Dispatcher::names() const {
    std::vector<std::string> out;
    out.reserve(methods_.size());
    for (const auto& [name, entry] : methods_) {
        out.push_back(name);
    }
    std::sort(out.begin(), out.end());
    return out;
}

void Dispatcher::add_batch(const std::string& name, BatchHandler handler) {
    const auto it = methods_.find(name);
    PEL_ASSERT(it != methods_.end(), "add_batch: register the method with add() first");
    it->second.batch = std::move(handler);
}

void Dispatcher::observe_invalid() const {
    if (observer_) {
        observer_("", std::chrono::nanoseconds(0), kInvalidRequest);
    }
}

std::variant<Json, Dispatcher::Call> Dispatcher::prepare(
    const Json& request, const ConnectionMethods* connection) const {
    Call call;
    auto invalid = [](const Json& id, std::string message) {
        return response_with_error(id, RpcError{kInvalidRequest, std::move(message), {}});
    };

    if (!request.is_object()) {
        return invalid(Json(), "invalid request");
    }
    const auto id_it = request.find("id");
    call.notification = id_it == request.end();
    call.id = call.notification ? Json() : *id_it;
    if (!valid_id(call.id)) {
        return invalid(Json(), "invalid request: id must be a number, a string or null");
    }
    const auto version = request.find("jsonrpc");
    if (version == request.end() || !version->is_string() || *version != "2.0") {
        return invalid(call.id, "invalid request: \"jsonrpc\" must be \"2.0\"");
    }
    const auto method = request.find("method");
    if (method == request.end() || !method->is_string()) {
        return invalid(call.id, "invalid request: \"method\" must be a string");
    }
    call.requested = &method->get_ref<const std::string&>();
    const auto params_it = request.find("params");
    static const Json kEmptyArray = Json::array();
    call.params = &kEmptyArray;
    if (params_it != request.end() && !params_it->is_null()) {
        if (!params_it->is_array() && !params_it->is_object()) {
            return invalid(call.id, "invalid request: \"params\" must be an array or an object");
        }
        call.params = &*params_it;
    }
    if (connection != nullptr) {
        if (const auto own = connection->find(*call.requested); own != connection->end()) {
            call.name = own->first;
            call.handler = &own->second;
            return call;
        }
    }
    if (const auto entry = methods_.find(*call.requested); entry != methods_.end()) {
        call.name = entry->second.name;
        call.handler = &entry->second.handler;
        if (entry->second.batch && call.params->is_array()) {
            call.batch = &entry->second.batch;
        }
    }
    return call;
}

RpcResult Dispatcher::run(const Call& call) {
    if (call.handler == nullptr) {
        return rpc_error(kMethodNotFound,
                         "the method " + *call.requested + " does not exist/is not available");
    }
    if (call.params->is_object()) {
        return rpc_error(kInvalidParams, "non-array args (named parameters are not supported)");
    }
    try {
        return (*call.handler)(Params(*call.params));
    } catch (const std::exception& e) {
        spdlog::error("rpc: {} failed: {}", *call.requested, e.what());
        return rpc_error(kInternalError, std::string("internal error: ") + e.what());
    }
}

std::optional<Json> Dispatcher::finish(const Call& call, RpcResult result,
                                       std::chrono::nanoseconds elapsed) const {
    if (observer_) {
        observer_(call.name, elapsed, result ? 0 : result.error().code);
    }
    if (call.notification) {
        return std::nullopt;
    }
    if (!result) {
        return response_with_error(call.id, result.error());
    }
    return Json{{"jsonrpc", "2.0"}, {"id", call.id}, {"result", std::move(result).value()}};
}

std::optional<Json> Dispatcher::handle_one(const Json& request,
                                           const ConnectionMethods* connection) const {
    const auto start = std::chrono::steady_clock::now();
    auto prepared = prepare(request, connection);
    if (auto* response = std::get_if<Json>(&prepared)) {
        observe_invalid();
        return std::move(*response);
    }
    const Call& call = std::get<Call>(prepared);
    RpcResult result = run(call);
    return finish(call, std::move(result), std::chrono::steady_clock::now() - start);
}

std::optional<std::string> Dispatcher::handle(std::string_view body,
                                              const ConnectionMethods* connection) const {
    Json parsed = parse_json(body);
    if (parsed.is_discarded()) {
        if (observer_) {
            observer_("", std::chrono::nanoseconds(0), kParseError);
        }
        return error_response(kParseError, "parse error");
    }
    if (!parsed.is_array()) {
        auto r = handle_one(parsed, connection);
        if (!r) {
            return std::nullopt;
        }
        return serialize(*r);
    }
    if (parsed.empty()) {
        return error_response(kInvalidRequest, "empty batch");
    }
    if (parsed.size() > options_.max_batch) {
        Json out = Json::array();
        out.push_back(response_with_error(
            Json(), RpcError{kInvalidRequest,
                             "batch too large: " + std::to_string(parsed.size()) +
                                 " requests, the limit is " + std::to_string(options_.max_batch),
                             {}}));
        return serialize(out);
    }
    std::vector<std::variant<Json, Call>> prepared;
    prepared.reserve(parsed.size());
    for (const auto& req : parsed) prepared.push_back(prepare(req, connection));
    Json out = Json::array();
    const auto push = [&out](std::optional<Json> r) {
        if (r) out.push_back(std::move(*r));
    };
    // In order; a run of consecutive calls of one method with a batch handler goes to it at once.
    for (size_t i = 0; i < prepared.size();) {
        if (auto* response = std::get_if<Json>(&prepared[i])) {
            observe_invalid();
            push(std::move(*response));
            ++i;
            continue;
        }
        const Call& first = std::get<Call>(prepared[i]);
        size_t end = i + 1;
        while (first.batch != nullptr && end < prepared.size()) {
            const Call* next = std::get_if<Call>(&prepared[end]);
            if (next == nullptr || next->batch != first.batch) break;
            ++end;
        }
        if (end - i == 1) {
            const auto start = std::chrono::steady_clock::now();
            RpcResult result = run(first);
            push(finish(first, std::move(result), std::chrono::steady_clock::now() - start));
            ++i;
            continue;
        }
        const auto start = std::chrono::steady_clock::now();
        std::vector<Params> params;
        params.reserve(end - i);
        for (size_t k = i; k < end; ++k) params.emplace_back(*std::get<Call>(prepared[k]).params);
        std::vector<RpcResult> results;
        try {
            results = (*first.batch)(params);
            PEL_ASSERT(results.size() == params.size(), "a batch handler answers every call");
        } catch (const std::exception& e) {
            spdlog::error("rpc: {} (batch of {}) failed: {}", *first.requested, params.size(),
                          e.what());
            results.assign(
                params.size(),
                RpcResult(rpc_error(kInternalError, std::string("internal error: ") + e.what())));
        }
        // Each call is charged an equal share of the run's time.
        const auto share = (std::chrono::steady_clock::now() - start) / (end - i);
        for (size_t k = i; k < end; ++k) {
            push(finish(std::get<Call>(prepared[k]), std::move(results[k - i]), share));
        }
        i = end;
    }
    if (out.empty()) {
        return std::nullopt;
    }
    return serialize(out);
}

std::string Dispatcher::serialize(const Json& response) {
    return response.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string Dispatcher::error_response(int code, std::string_view message) {
    return serialize(response_with_error(Json(), RpcError{code, std::string(message), {}}));
}

}  // namespace pel::node::rpc
