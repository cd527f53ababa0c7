// SPDX-License-Identifier: Apache-2.0
#include "node/eip712.hpp"

#include <algorithm>
#include <array>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "node/json_codec.hpp"
#include "primitives/keccak.hpp"
#include "primitives/u256.hpp"

namespace pel::node {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kDomainType = "EIP712Domain";
/// Structs and arrays nested deeper than this are refused (the encoder recurses).
constexpr size_t kMaxDepth = 64;

struct Field {
    std::string name;
    std::string type;
};
using Types = std::map<std::string, std::vector<Field>, std::less<>>;

Error at(const std::string& path, const std::string& what) {
    return Error{path.empty() ? what : path + ": " + what};
}

Result<Types> parse_types(const Json& types) {
    if (!types.is_object()) {
        return make_error("types: expected an object of struct definitions");
    }
    Types out;
    for (const auto& [name, fields] : types.items()) {
        const std::string where = "types." + name;
        if (name.empty()) {
            return make_error("types: a struct name is empty");
        }
        if (!fields.is_array()) {
            return make_error(where, ": expected an array of {name, type}");
        }
        std::vector<Field>& list = out[name];
        std::set<std::string, std::less<>> seen;
        for (const Json& f : fields) {
            if (!f.is_object() || !f.contains("name") || !f.contains("type") ||
                !f["name"].is_string() || !f["type"].is_string()) {
                return make_error(where, ": every field needs a string name and type");
            }
            Field field{f["name"].get<std::string>(), f["type"].get<std::string>()};
            if (field.name.empty() || field.type.empty()) {
                return make_error(where, ": a field name or type is empty");
            }
            if (!seen.insert(field.name).second) {
                return make_error(where, ": field '", field.name, "' appears twice");
            }
            list.push_back(std::move(field));
        }
    }
    return out;
}

// "T[2][]" -> element "T[2]" and length "" (dynamic); false when `type` is not an array.
bool split_array(std::string_view type, std::string_view& element, std::string_view& length) {
    if (type.empty() || type.back() != ']') {
        return false;
    }
    const size_t open = type.rfind('[');
    if (open == std::string_view::npos || open == 0) {
        return false;
    }
    element = type.substr(0, open);
    length = type.substr(open + 1, type.size() - open - 2);
    return true;
}

std::string_view base_type(std::string_view type) {
    const size_t open = type.find('[');
    return open == std::string_view::npos ? type : type.substr(0, open);
}

// The N of "uintN"/"intN"/"bytesN" after `prefix`, or 0 when the rest is not a plain number.
unsigned type_width(std::string_view type, std::string_view prefix) {
    if (type.size() <= prefix.size() || type.substr(0, prefix.size()) != prefix) {
        return 0;
    }
    unsigned n = 0;
    for (const char c : type.substr(prefix.size())) {
        if (c < '0' || c > '9' || n > 1000) {
            return 0;
        }
        n = n * 10 + static_cast<unsigned>(c - '0');
    }
    return type[prefix.size()] == '0' ? 0 : n;
}

bool is_atomic_or_dynamic(std::string_view t) {
    if (t == "address" || t == "bool" || t == "string" || t == "bytes") {
        return true;
    }
    const unsigned b = type_width(t, "bytes");
    if (b >= 1 && b <= 32) {
        return true;
    }
    const unsigned u = type_width(t, t.substr(0, 4) == "uint" ? "uint" : "int");
    return u >= 8 && u <= 256 && u % 8 == 0;
}

Result<void> check_field_type(const Types& types, std::string_view type, const std::string& where) {
    std::string_view element;
    std::string_view length;
    std::string_view t = type;
    while (split_array(t, element, length)) {
        for (const char c : length) {
            if (c < '0' || c > '9') {
                return make_error(where, ": bad array length in type '", std::string(type), "'");
            }
        }
        t = element;
    }
    if (!is_atomic_or_dynamic(t) && !types.contains(t)) {
        return make_error(where, ": unknown type '", std::string(t), "'");
    }
    return {};
}

// Every struct type reachable from `name` (itself included), checking each field's type. An
// explicit work list, not recursion: a chain of struct types is as long as the request allows.
Result<void> collect_deps(const Types& types, const std::string& name,
                          std::set<std::string, std::less<>>& out) {
    std::vector<std::string> todo{name};
    out.insert(name);
    while (!todo.empty()) {
        const std::string current = std::move(todo.back());
        todo.pop_back();
        for (const Field& f : types.find(current)->second) {
            PEL_TRY_VOID(check_field_type(types, f.type, "types." + current + "." + f.name));
            const std::string_view base = base_type(f.type);
            if (types.contains(base) && out.insert(std::string(base)).second) {
                todo.emplace_back(base);
            }
        }
    }
    return {};
}

Result<std::string> encode_type(const Types& types, const std::string& primary) {
    if (!types.contains(primary)) {
        return make_error("unknown type '", primary, "'");
    }
    std::set<std::string, std::less<>> deps;
    PEL_TRY_VOID(collect_deps(types, primary, deps));
    deps.erase(primary);
    std::string out;
    const auto append = [&](const std::string& name) {
        out += name;
        out += '(';
        bool first = true;
        for (const Field& f : types.find(name)->second) {
            if (!first) {
                out += ',';
            }
            first = false;
            out += f.type;
            out += ' ';
            out += f.name;
        }
        out += ')';
    };
    append(primary);
    for (const std::string& d : deps) {  // std::set: sorted by name, as EIP-712 requires
        append(d);
    }
    return out;
}

// uintN / intN from a JSON integer, a decimal string (optionally negative) or "0x" hex.
Result<Hash32> encode_integer(const Json& v, unsigned bits, bool is_signed) {
    bool negative = false;
    U256 magnitude;
    if (v.is_number_unsigned()) {
        magnitude = U256(v.get<uint64_t>());
    } else if (v.is_number_integer()) {
        const int64_t x = v.get<int64_t>();
        negative = x < 0;
        magnitude =
            U256(negative ? uint64_t{0} - static_cast<uint64_t>(x) : static_cast<uint64_t>(x));
    } else if (v.is_string()) {
        std::string_view s = v.get_ref<const std::string&>();
        if (!s.empty() && s.front() == '-') {
            negative = true;
            s.remove_prefix(1);
        }
        if (s.empty()) {
            return make_error("expected an integer, got an empty string");
        }
        const bool hex = s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
        auto parsed = hex ? U256::from_hex(s) : U256::from_dec(s);
        if (!parsed) {
            return make_error("not an integer: ", parsed.error().message);
        }
        magnitude = *parsed;
    } else {
        return make_error("expected an integer (number or string), got ", v.type_name());
    }
    if (negative && magnitude.is_zero()) {
        negative = false;
    }
    if (!is_signed) {
        if (negative) {
            return make_error("negative value for uint", bits);
        }
        if (bits < 256 && magnitude >= (U256(1) << bits)) {
            return make_error("value out of range for uint", bits);
        }
        return magnitude.to_hash();
    }
    const U256 limit = U256(1) << (bits - 1);  // 2^(N-1)
    if (negative ? magnitude > limit : magnitude >= limit) {
        return make_error("value out of range for int", bits);
    }
    return (negative ? -magnitude : magnitude).to_hash();
}

class Encoder {
  public:
    explicit Encoder(const Types& types) : types_(types) {}

    Result<Hash32> hash_struct(const std::string& type, const Json& data, const std::string& path,
                               size_t depth) {
        if (depth > kMaxDepth) {
            return unexpected(at(path, "typed data nested too deeply"));
        }
        if (!data.is_object()) {
            return unexpected(at(path, std::string("expected an object for struct ") + type +
                                           ", got " + data.type_name()));
        }
        PEL_TRY(const Hash32 type_hash, type_hash_of(type));
        const std::vector<Field>& fields = types_.find(type)->second;
        for (auto it = data.begin(); it != data.end(); ++it) {
            const std::string& key = it.key();
            const bool known = std::any_of(fields.begin(), fields.end(),
                                           [&](const Field& f) { return f.name == key; });
            if (!known) {
                return unexpected(at(path, "field '" + key + "' is not in type " + type));
            }
        }
        Bytes enc(type_hash.bytes.begin(), type_hash.bytes.end());
        enc.reserve(32 * (fields.size() + 1));
        for (const Field& f : fields) {
            const std::string where = path.empty() ? f.name : path + "." + f.name;
            const auto v = data.find(f.name);
            if (v == data.end()) {
                return unexpected(at(where, "missing value of type " + f.type));
            }
            PEL_TRY(const Hash32 word, encode_value(f.type, *v, where, depth + 1));
            enc.insert(enc.end(), word.bytes.begin(), word.bytes.end());
        }
        return keccak256(enc);
    }

  private:
    Result<Hash32> type_hash_of(const std::string& type) {
        if (const auto it = type_hashes_.find(type); it != type_hashes_.end()) {
            return it->second;
        }
        PEL_TRY(const std::string encoded, encode_type(types_, type));
        const Hash32 h = keccak256(as_bytes(encoded));
        type_hashes_.emplace(type, h);
        return h;
    }

    Result<Hash32> encode_value(const std::string& type, const Json& v, const std::string& path,
                                size_t depth) {
        if (depth > kMaxDepth) {
            return unexpected(at(path, "typed data nested too deeply"));
        }
        std::string_view element;
        std::string_view length;
        if (split_array(type, element, length)) {
            if (!v.is_array()) {
                return unexpected(at(path, "expected an array for " + type));
            }
            if (!length.empty() && std::to_string(v.size()) != length) {
                return unexpected(at(path, "expected " + std::string(length) + " elements for " +
                                               type + ", got " + std::to_string(v.size())));
            }
            Bytes enc;
            enc.reserve(32 * v.size());
            const std::string elem(element);
            for (size_t i = 0; i < v.size(); ++i) {
                PEL_TRY(const Hash32 word,
                        encode_value(elem, v[i], path + "[" + std::to_string(i) + "]", depth + 1));
                enc.insert(enc.end(), word.bytes.begin(), word.bytes.end());
            }
            return keccak256(enc);
        }
        if (types_.contains(type)) {
            return hash_struct(type, v, path, depth);
        }
        auto word = encode_atomic(type, v);
        if (!word) {
            return unexpected(at(path, word.error().message));
        }
        return *word;
    }

    static Result<Hash32> encode_atomic(const std::string& type, const Json& v) {
        if (type == "string") {
            if (!v.is_string()) {
                return make_error("expected a string, got ", v.type_name());
            }
            return keccak256(as_bytes(v.get_ref<const std::string&>()));
        }
        if (type == "bytes") {
            PEL_TRY(const Bytes b, json::parse_data(v));
            return keccak256(b);
        }
        if (type == "address") {
            PEL_TRY(const Address a, json::parse_address(v));
            Hash32 out;
            std::copy(a.bytes.begin(), a.bytes.end(), out.bytes.begin() + 12);
            return out;
        }
        if (type == "bool") {
            if (!v.is_boolean()) {
                return make_error("expected true or false, got ", v.type_name());
            }
            Hash32 out;
            out.bytes[31] = v.get<bool>() ? 1 : 0;
            return out;
        }
        if (const unsigned n = type_width(type, "bytes"); n >= 1 && n <= 32) {
            PEL_TRY(const Bytes b, json::parse_data(v));
            if (b.size() != n) {
                return make_error("expected ", n, " bytes for ", type, ", got ", b.size());
            }
            Hash32 out;
            std::copy(b.begin(), b.end(), out.bytes.begin());
            return out;
        }
        const bool is_signed = type.rfind("int", 0) == 0;
        const unsigned bits = type_width(type, is_signed ? "int" : "uint");
        if (bits >= 8 && bits <= 256 && bits % 8 == 0) {
            return encode_integer(v, bits, is_signed);
        }
        return make_error("unknown type '", type, "'");
    }

    const Types& types_;
    std::map<std::string, Hash32, std::less<>> type_hashes_;
};

// EIP712Domain from the domain's fields, in the standard order, when the types omit it.
void derive_domain_type(Types& types, const Json& domain) {
    static const std::array<Field, 5> kStandard{{{"name", "string"},
                                                 {"version", "string"},
                                                 {"chainId", "uint256"},
                                                 {"verifyingContract", "address"},
                                                 {"salt", "bytes32"}}};
    std::vector<Field> fields;
    for (const Field& f : kStandard) {
        if (domain.contains(f.name)) {
            fields.push_back(f);
        }
    }
    types.emplace(std::string(kDomainType), std::move(fields));
}

}  // namespace

Hash32 personal_message_digest(ByteView message) {
    const std::string prefix =
        "\x19"
        "Ethereum Signed Message:\n" +
        std::to_string(message.size());
    Bytes buf(prefix.begin(), prefix.end());
    buf.insert(buf.end(), message.begin(), message.end());
    return keccak256(buf);
}

Result<std::string> typed_data_encode_type(const Json& types, const std::string& primary_type) {
    PEL_TRY(const Types parsed, parse_types(types));
    return encode_type(parsed, primary_type);
}

Result<Hash32> typed_data_digest(const Json& typed_data) {
    if (!typed_data.is_object()) {
        return make_error("typed data: expected an object, got ", typed_data.type_name());
    }
    for (const char* key : {"types", "primaryType", "domain"}) {
        if (!typed_data.contains(key)) {
            return make_error("typed data: missing \"", key, "\"");
        }
    }
    if (!typed_data["primaryType"].is_string()) {
        return make_error("typed data: primaryType must be a string");
    }
    const std::string primary = typed_data["primaryType"].get<std::string>();
    const Json& domain = typed_data["domain"];
    if (!domain.is_object()) {
        return make_error("typed data: domain must be an object");
    }
    auto types = parse_types(typed_data["types"]);
    if (!types) {
        return make_error("typed data: ", types.error().message);
    }
    if (!types->contains(kDomainType)) {
        derive_domain_type(*types, domain);
    }
    if (!types->contains(primary)) {
        return make_error("typed data: primaryType '", primary, "' is not in types");
    }
    Encoder enc(*types);
    auto domain_hash = enc.hash_struct(std::string(kDomainType), domain, "domain", 0);
    if (!domain_hash) {
        return make_error("typed data: ", domain_hash.error().message);
    }
    Bytes pre{0x19, 0x01};
    pre.insert(pre.end(), domain_hash->bytes.begin(), domain_hash->bytes.end());
    if (primary != kDomainType) {
        const auto m = typed_data.find("message");
        if (m == typed_data.end()) {
            return make_error("typed data: missing \"message\"");
        }
        auto message_hash = enc.hash_struct(primary, *m, "message", 0);
        if (!message_hash) {
            return make_error("typed data: ", message_hash.error().message);
        }
        pre.insert(pre.end(), message_hash->bytes.begin(), message_hash->bytes.end());
    }
    return keccak256(pre);
}

}  // namespace pel::node
