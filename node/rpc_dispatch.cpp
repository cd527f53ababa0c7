// SPDX-License-Identifier: Apache-2.0
#include "node/rpc_dispatch.hpp"

#include <exception>

#include <spdlog/spdlog.h>

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
    Entry e{name, std::move(handler)};
    methods_.insert_or_assign(std::move(name), std::move(e));
}

bool Dispatcher::has(std::string_view name) const {
    return methods_.find(std::string(name)) != methods_.end();
}

std::optional<Json> Dispatcher::handle_one(const Json& request,
                                           const ConnectionMethods* connection) const {
    const auto start = std::chrono::steady_clock::now();
    std::string_view method_name;
    int code = 0;
    auto observe = [&] {
        if (observer_) {
            observer_(method_name, std::chrono::steady_clock::now() - start, code);
        }
    };
    auto invalid = [&](std::string message) {
        code = kInvalidRequest;
        observe();
        return response_with_error(Json(), RpcError{kInvalidRequest, std::move(message), {}});
    };

    if (!request.is_object()) {
        return invalid("invalid request");
    }
    const auto id_it = request.find("id");
    const bool notification = id_it == request.end();
    const Json id = notification ? Json() : *id_it;
    if (!valid_id(id)) {
        return invalid("invalid request: id must be a number, a string or null");
    }
    const auto version = request.find("jsonrpc");
    if (version == request.end() || !version->is_string() || *version != "2.0") {
        code = kInvalidRequest;
        observe();
        return response_with_error(
            id, RpcError{kInvalidRequest, "invalid request: \"jsonrpc\" must be \"2.0\"", {}});
    }
    const auto method = request.find("method");
    if (method == request.end() || !method->is_string()) {
        code = kInvalidRequest;
        observe();
        return response_with_error(
            id, RpcError{kInvalidRequest, "invalid request: \"method\" must be a string", {}});
    }
    const auto& name = method->get_ref<const std::string&>();
    const auto params_it = request.find("params");
    static const Json kEmptyArray = Json::array();
    const Json* params = &kEmptyArray;
    if (params_it != request.end() && !params_it->is_null()) {
        if (!params_it->is_array() && !params_it->is_object()) {
            code = kInvalidRequest;
            observe();
            return response_with_error(
                id, RpcError{kInvalidRequest,
                             "invalid request: \"params\" must be an array or an object",
                             {}});
        }
        params = &*params_it;
    }

    RpcResult result = rpc_error(kInternalError, "internal error");
    const Handler* handler = nullptr;
    if (connection != nullptr) {
        if (const auto own = connection->find(name); own != connection->end()) {
            method_name = own->first;
            handler = &own->second;
        }
    }
    if (handler == nullptr) {
        if (const auto entry = methods_.find(name); entry != methods_.end()) {
            method_name = entry->second.name;
            handler = &entry->second.handler;
        }
    }
    if (handler == nullptr) {
        result =
            rpc_error(kMethodNotFound, "the method " + name + " does not exist/is not available");
    } else {
        if (params->is_object()) {
            result =
                rpc_error(kInvalidParams, "non-array args (named parameters are not supported)");
        } else {
            try {
                result = (*handler)(Params(*params));
            } catch (const std::exception& e) {
                spdlog::error("rpc: {} failed: {}", name, e.what());
                result = rpc_error(kInternalError, std::string("internal error: ") + e.what());
            }
        }
    }
    code = result ? 0 : result.error().code;
    observe();
    if (notification) {
        return std::nullopt;
    }
    if (!result) {
        return response_with_error(id, result.error());
    }
    return Json{{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result).value()}};
}

std::optional<std::string> Dispatcher::handle(std::string_view body,
                                              const ConnectionMethods* connection) const {
    Json parsed = Json::parse(body, nullptr, /*allow_exceptions=*/false);
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
    Json out = Json::array();
    for (const auto& req : parsed) {
        if (auto r = handle_one(req, connection)) {
            out.push_back(std::move(*r));
        }
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
