// SPDX-License-Identifier: Apache-2.0
#include "tools/loadgen/http_rpc.hpp"

#include <utility>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "node/json_parse.hpp"

namespace pel::loadgen {

namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

Result<Endpoint> parse_loopback_url(std::string_view url) {
    constexpr std::string_view kScheme = "http://";
    if (url.substr(0, kScheme.size()) != kScheme) {
        return make_error("url '", url, "': only http:// URLs are supported");
    }
    std::string_view rest = url.substr(kScheme.size());
    const size_t slash = rest.find('/');
    std::string_view authority = rest.substr(0, slash);
    Endpoint ep;
    ep.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
    if (!authority.empty() && authority.front() == '[') {  // [::1]:8545
        const size_t close = authority.find(']');
        if (close == std::string_view::npos) {
            return make_error("url '", url, "': unterminated IPv6 address");
        }
        ep.host = std::string(authority.substr(1, close - 1));
        authority = authority.substr(close + 1);
        if (!authority.empty() && authority.front() != ':') {
            return make_error("url '", url, "': expected ':' after the IPv6 address");
        }
        ep.port = authority.empty() ? "80" : std::string(authority.substr(1));
    } else {
        const size_t colon = authority.rfind(':');
        ep.host = std::string(authority.substr(0, colon));
        ep.port = colon == std::string_view::npos ? "80" : std::string(authority.substr(colon + 1));
    }
    if (ep.host.empty() || ep.port.empty()) {
        return make_error("url '", url, "': missing host or port");
    }
    boost::system::error_code ec;
    asio::io_context ioc;
    tcp::resolver resolver(ioc);
    const auto results = resolver.resolve(ep.host, ep.port, ec);
    if (ec) {
        return make_error("url '", url, "': cannot resolve: ", ec.message());
    }
    if (results.empty()) {
        return make_error("url '", url, "': the host resolves to no address");
    }
    for (const auto& r : results) {
        if (!r.endpoint().address().is_loopback()) {
            return make_error("url '", url, "': ", ep.host, " resolves to ",
                              r.endpoint().address().to_string(),
                              ", which is not loopback; pel-loadgen only loads a local node");
        }
    }
    return ep;
}

struct HttpRpc::Impl {
    explicit Impl(Endpoint e) : ep(std::move(e)), stream(ioc) {}

    Result<void> connect() {
        boost::system::error_code ec;
        stream.socket().close(ec);
        tcp::resolver resolver(ioc);
        const auto results = resolver.resolve(ep.host, ep.port, ec);
        if (ec) {
            return make_error("resolve ", ep.host, ": ", ec.message());
        }
        stream.connect(results, ec);
        if (ec) {
            return make_error("connect ", ep.host, ":", ep.port, ": ", ec.message());
        }
        stream.socket().set_option(tcp::no_delay(true), ec);
        connected = true;
        return {};
    }

    Result<std::string> exchange(const std::string& body) {
        http::request<http::string_body> req{http::verb::post, ep.target, 11};
        req.set(http::field::host, ep.host);
        req.set(http::field::content_type, "application/json");
        req.keep_alive(true);
        req.body() = body;
        req.prepare_payload();
        boost::system::error_code ec;
        http::write(stream, req, ec);
        if (ec) {
            connected = false;
            return make_error("write: ", ec.message());
        }
        http::response_parser<http::string_body> parser;
        parser.body_limit(256U * 1024U * 1024U);
        http::read(stream, buffer, parser, ec);
        if (ec) {
            connected = false;
            return make_error("read: ", ec.message());
        }
        auto res = parser.release();
        if (!res.keep_alive()) {
            connected = false;
        }
        if (res.result() != http::status::ok) {
            return make_error("HTTP ", static_cast<unsigned>(res.result_int()), ": ",
                              res.body().substr(0, 200));
        }
        return std::move(res.body());
    }

    Endpoint ep;
    asio::io_context ioc;
    beast::tcp_stream stream;
    beast::flat_buffer buffer;
    bool connected = false;
};

HttpRpc::HttpRpc(Endpoint endpoint) : impl_(std::make_unique<Impl>(std::move(endpoint))) {}
HttpRpc::~HttpRpc() = default;

Result<nlohmann::json> HttpRpc::post(const std::string& body) {
    const bool was_connected = impl_->connected;
    if (!was_connected) {
        PEL_TRY_VOID(impl_->connect());
    }
    auto text = impl_->exchange(body);
    if (!text && was_connected && !impl_->connected) {
        // The server closed an idle keep-alive connection: reconnect once.
        PEL_TRY_VOID(impl_->connect());
        text = impl_->exchange(body);
    }
    if (!text) {
        return unexpected(std::move(text).error());
    }
    auto json = pel::node::rpc::parse_json(*text);
    if (json.is_discarded()) {
        return make_error("response is not JSON: ", text->substr(0, 200));
    }
    return json;
}

Result<nlohmann::json> HttpRpc::call(std::string_view method, nlohmann::json params) {
    const nlohmann::json req = {
        {"jsonrpc", "2.0"}, {"id", 1}, {"method", method}, {"params", std::move(params)}};
    PEL_TRY(auto res, post(req.dump()));
    if (res.contains("error")) {
        const auto& err = res["error"];
        return make_error(method, ": ", err.value("message", err.dump()));
    }
    if (!res.contains("result")) {
        return make_error(method, ": response has neither result nor error: ", res.dump());
    }
    return std::move(res["result"]);
}

}  // namespace pel::loadgen
