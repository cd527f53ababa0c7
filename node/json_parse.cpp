// SPDX-License-Identifier: Apache-2.0
#include "node/json_parse.hpp"

#include <cstdint>
#include <memory>
#include <simdjson.h>
#include <string>

#include "primitives/assert.hpp"

namespace pel::node::rpc {

namespace {

using Json = nlohmann::json;

/// Texts up to this size reuse the thread's parser (its buffers grow to the largest text seen);
/// larger ones get a parser of their own, freed after the call.
constexpr size_t kReusedParserMaxBytes = size_t{1} << 20;

/// Builds the nlohmann value of a simdjson DOM element. Recursion is bounded by simdjson's depth
/// limit (1,024).
/// The element's value as T, which its type() says it holds. Named values, not simdjson_result
/// temporaries: GCC 12's dangling-pointer analysis misreads those.
template <class T>
T read(const simdjson::dom::element& e) {
    T v{};
    const simdjson::error_code err = e.get(v);
    PEL_ASSERT(err == simdjson::SUCCESS, "parse_json: an element is not of its own type");
    return v;
}

class Converter {
  public:
    /// True if an integer zero was met: its text may have been "-0" (see the header).
    [[nodiscard]] bool saw_zero() const noexcept { return saw_zero_; }

    Json convert(const simdjson::dom::element& e) {
        using Type = simdjson::dom::element_type;
        switch (e.type()) {
            case Type::ARRAY: {
                const auto array = read<simdjson::dom::array>(e);
                Json out = Json::array();
                auto& items = out.get_ref<Json::array_t&>();
                items.reserve(array.size());
                for (const simdjson::dom::element item : array) {
                    items.push_back(convert(item));
                }
                return out;
            }
            case Type::OBJECT: {
                const auto object = read<simdjson::dom::object>(e);
                Json out = Json::object();
                auto& fields = out.get_ref<Json::object_t&>();
                for (const simdjson::dom::key_value_pair field : object) {
                    // operator[] then assignment: the last of duplicate keys wins, as in nlohmann.
                    fields[std::string(field.key)] = convert(field.value);
                }
                return out;
            }
            case Type::INT64: {
                const auto v = read<int64_t>(e);
                if (v < 0) {
                    return Json(v);  // nlohmann: a signed integer
                }
                saw_zero_ = saw_zero_ || v == 0;
                return Json(static_cast<uint64_t>(v));  // nlohmann: unsigned when non-negative
            }
            case Type::UINT64: {
                return Json(read<uint64_t>(e));
            }
            case Type::DOUBLE: {
                return Json(read<double>(e));
            }
            case Type::STRING: {
                return Json(std::string(read<std::string_view>(e)));
            }
            case Type::BOOL: {
                return Json(read<bool>(e));
            }
            case Type::NULL_VALUE:
                break;
        }
        return Json();
    }

  private:
    bool saw_zero_ = false;
};

Json parse_with_nlohmann(std::string_view text) {
    return Json::parse(text, nullptr, /*allow_exceptions=*/false);
}

}  // namespace

Json parse_json(std::string_view text) {
    thread_local simdjson::dom::parser reused;
    std::unique_ptr<simdjson::dom::parser> own;
    simdjson::dom::parser* parser = &reused;
    if (text.size() > kReusedParserMaxBytes) {
        own = std::make_unique<simdjson::dom::parser>();
        parser = own.get();
    }
    simdjson::dom::element root;
    // realloc_if_needed: simdjson reads past the end in blocks, so it copies the text into a
    // padded buffer of its own.
    if (parser->parse(text.data(), text.size(), /*realloc_if_needed=*/true).get(root) !=
        simdjson::SUCCESS) {
        return parse_with_nlohmann(text);  // malformed, or beyond simdjson (see the header)
    }
    Converter converter;
    Json out = converter.convert(root);
    if (converter.saw_zero() && text.find("-0") != std::string_view::npos) {
        return parse_with_nlohmann(text);
    }
    return out;
}

}  // namespace pel::node::rpc
