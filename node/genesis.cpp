// SPDX-License-Identifier: Apache-2.0
#include "node/genesis.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "node/chain.hpp"
#include "primitives/hex.hpp"
#include "primitives/keccak.hpp"
#include "primitives/rlp.hpp"
#include "state/mem_state.hpp"

namespace pel::node {
namespace {

using nlohmann::json;

Result<U256> quantity(const json& v, const std::string& name) {
    if (v.is_number_unsigned()) {
        return U256(v.get<uint64_t>());
    }
    if (v.is_number_integer() && v.get<int64_t>() >= 0) {
        return U256(static_cast<uint64_t>(v.get<int64_t>()));
    }
    if (v.is_string()) {
        const auto s = v.get<std::string>();
        auto r = U256::from_string(s);
        if (!r) {
            return make_error("genesis: field '", name, "': ", r.error().message);
        }
        return r;
    }
    return make_error("genesis: field '", name, "': expected a number or a numeric string");
}

Result<uint64_t> quantity64(const json& v, const std::string& name) {
    PEL_TRY(U256 x, quantity(v, name));
    if (!x.fits_u64()) {
        return make_error("genesis: field '", name, "': does not fit 64 bits");
    }
    return x.low64();
}

Result<Bytes> hex_bytes(const json& v, const std::string& name) {
    if (!v.is_string()) {
        return make_error("genesis: field '", name, "': expected a hex string");
    }
    auto r = from_hex(v.get<std::string>());
    if (!r) {
        return make_error("genesis: field '", name, "': ", r.error().message);
    }
    return r;
}

template <class Fixed>
Result<Fixed> fixed_hex(const json& v, const std::string& name) {
    if (!v.is_string()) {
        return make_error("genesis: field '", name, "': expected a hex string");
    }
    std::string s = v.get<std::string>();
    auto r = Fixed::from_hex(s);
    if (!r) {
        return make_error("genesis: field '", name, "': ", r.error().message);
    }
    return r;
}

Result<Hash32> word(const json& v, const std::string& name) {
    // Storage keys and values: up to 32 bytes of hex, left-padded.
    if (!v.is_string()) {
        return make_error("genesis: field '", name, "': expected a hex string");
    }
    auto r = U256::from_hex(v.get<std::string>());
    if (!r) {
        return make_error("genesis: field '", name, "': ", r.error().message);
    }
    return r->to_hash();
}

Result<Genesis> parse(const json& j, const Genesis& defaults) {
    if (!j.is_object()) {
        return make_error("genesis: expected a JSON object at the top level");
    }
    Genesis g = defaults;
    if (!j.contains("config") || !j["config"].is_object()) {
        return make_error("genesis: field 'config': missing or not an object");
    }
    const json& config = j["config"];
    if (!config.contains("chainId")) {
        return make_error("genesis: field 'config.chainId': missing");
    }
    PEL_TRY(g.chain_id, quantity64(config["chainId"], "config.chainId"));
    if (g.chain_id == 0) {
        return make_error("genesis: field 'config.chainId': must not be zero");
    }
    if (config.contains("pel") && !config["pel"].is_null()) {
        const json& pel = config["pel"];
        if (!pel.is_object()) {
            return make_error("genesis: field 'config.pel': expected an object");
        }
        if (pel.contains("validators")) {
            const json& vs = pel["validators"];
            if (!vs.is_array() || vs.empty()) {
                return make_error(
                    "genesis: field 'config.pel.validators': expected a non-empty array");
            }
            std::vector<consensus::Validator> list;
            for (size_t i = 0; i < vs.size(); ++i) {
                const std::string name = "config.pel.validators[" + std::to_string(i) + "]";
                consensus::Validator v;
                if (vs[i].is_object()) {
                    if (!vs[i].contains("address")) {
                        return make_error("genesis: field '", name, ".address': missing");
                    }
                    PEL_TRY(v.address, fixed_hex<Address>(vs[i]["address"], name + ".address"));
                    if (vs[i].contains("power")) {
                        PEL_TRY(v.power, quantity64(vs[i]["power"], name + ".power"));
                    }
                } else {
                    PEL_TRY(v.address, fixed_hex<Address>(vs[i], name));
                }
                list.push_back(v);
            }
            // Checked in the JSON's order, so that errors give the JSON's indices.
            auto set = consensus::make_validator_set(list);
            if (!set) {
                return make_error("genesis: field 'config.pel.validators': ", set.error().message);
            }
            g.validators = canonical_validators(std::move(list));
        }
    }
    if (j.contains("gasLimit")) {
        PEL_TRY(g.gas_limit, quantity64(j["gasLimit"], "gasLimit"));
        if (g.gas_limit < 21000) {
            return make_error("genesis: field 'gasLimit': below 21000");
        }
    }
    if (j.contains("baseFeePerGas") && !j["baseFeePerGas"].is_null()) {
        PEL_TRY(g.base_fee, quantity(j["baseFeePerGas"], "baseFeePerGas"));
    }
    if (j.contains("timestamp")) {
        PEL_TRY(g.timestamp, quantity64(j["timestamp"], "timestamp"));
    }
    if (j.contains("extraData") && !j["extraData"].is_null()) {
        PEL_TRY(g.extra_data, hex_bytes(j["extraData"], "extraData"));
        if (g.extra_data.size() > 32 && g.validators.empty()) {
            return make_error("genesis: field 'extraData': longer than 32 bytes");
        }
    }
    if (!g.validators.empty()) {
        // Consensus mode: extraData is the commitment to the validator set (genesis.hpp).
        const Hash32 derived = validator_set_commitment(g.validators);
        if (!g.extra_data.empty() && !std::ranges::equal(g.extra_data, derived.view())) {
            return make_error(
                "genesis: field 'extraData': ", to_hex(g.extra_data),
                " is not the commitment to config.pel.validators; a consensus genesis has "
                "extraData ",
                derived.to_hex(),
                " (keccak256 of the RLP list of [address, power] in ascending address order): "
                "set that or leave extraData out");
        }
        g.extra_data.assign(derived.bytes.begin(), derived.bytes.end());
    }
    if (j.contains("coinbase") && !j["coinbase"].is_null()) {
        PEL_TRY(g.coinbase, fixed_hex<Address>(j["coinbase"], "coinbase"));
    }
    if (j.contains("difficulty")) {
        PEL_TRY(g.difficulty, quantity(j["difficulty"], "difficulty"));
    }
    if (j.contains("mixHash") && !j["mixHash"].is_null()) {
        PEL_TRY(g.mix_hash, fixed_hex<Hash32>(j["mixHash"], "mixHash"));
    }
    if (j.contains("nonce")) {
        PEL_TRY(g.nonce, quantity64(j["nonce"], "nonce"));
    }
    if (j.contains("excessBlobGas") && !j["excessBlobGas"].is_null()) {
        PEL_TRY(g.excess_blob_gas, quantity64(j["excessBlobGas"], "excessBlobGas"));
    }
    if (j.contains("alloc")) {
        const json& alloc = j["alloc"];
        if (!alloc.is_object()) {
            return make_error("genesis: field 'alloc': expected an object");
        }
        for (const auto& [key, acc] : alloc.items()) {
            const std::string where = "alloc." + key;
            auto addr = Address::from_hex(key);
            if (!addr) {
                return make_error("genesis: field '", where,
                                  "': bad address: ", addr.error().message);
            }
            if (!acc.is_object()) {
                return make_error("genesis: field '", where, "': expected an object");
            }
            GenesisAccount a;
            if (acc.contains("balance")) {
                PEL_TRY(a.balance, quantity(acc["balance"], where + ".balance"));
            }
            if (acc.contains("nonce")) {
                PEL_TRY(a.nonce, quantity64(acc["nonce"], where + ".nonce"));
            }
            if (acc.contains("code") && !acc["code"].is_null()) {
                PEL_TRY(a.code, hex_bytes(acc["code"], where + ".code"));
            }
            if (acc.contains("storage") && !acc["storage"].is_null()) {
                if (!acc["storage"].is_object()) {
                    return make_error("genesis: field '", where, ".storage': expected an object");
                }
                for (const auto& [slot, value] : acc["storage"].items()) {
                    PEL_TRY(Hash32 k, word(json(slot), where + ".storage key " + slot));
                    PEL_TRY(Hash32 v, word(value, where + ".storage." + slot));
                    if (!U256::from_hash(v).is_zero()) {
                        a.storage[U256::from_hash(k)] = U256::from_hash(v);
                    }
                }
            }
            if (g.alloc.contains(*addr)) {
                return make_error("genesis: field '", where, "': address listed twice");
            }
            g.alloc.emplace(*addr, std::move(a));
        }
    }
    return g;
}

}  // namespace

Result<Genesis> parse_genesis(std::string_view json_text, const Genesis& defaults) {
    const json j = json::parse(json_text.begin(), json_text.end(), nullptr, false);
    if (j.is_discarded()) {
        return make_error("genesis: not valid JSON");
    }
    return parse(j, defaults);
}

Result<Genesis> load_genesis_file(const std::string& path, const Genesis& defaults) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return make_error("genesis: cannot read file ", path);
    }
    std::stringstream ss;
    ss << in.rdbuf();
    auto g = parse_genesis(ss.str(), defaults);
    if (!g) {
        return make_error(path, ": ", g.error().message);
    }
    return g;
}

std::vector<consensus::Validator> canonical_validators(
    std::vector<consensus::Validator> validators) {
    std::ranges::stable_sort(validators, {}, &consensus::Validator::address);
    return validators;
}

Hash32 validator_set_commitment(const std::vector<consensus::Validator>& validators) {
    Bytes items;
    for (const consensus::Validator& v : canonical_validators(validators)) {
        Bytes pair;
        rlp::encode_bytes(pair, v.address.view());
        rlp::encode_uint(pair, v.power);
        rlp::encode_list(items, pair);
    }
    Bytes list;
    rlp::encode_list(list, items);
    return keccak256(list);
}

Result<std::string> make_consensus_genesis_json(uint64_t chain_id, uint64_t gas_limit,
                                                const std::vector<Address>& validators,
                                                const std::vector<Address>& funded) {
    std::vector<consensus::Validator> list;
    for (const Address& a : validators) {
        list.push_back({a, 1});
    }
    if (auto set = consensus::make_validator_set(list); !set) {
        return make_error("validators: ", set.error().message);
    }
    list = canonical_validators(std::move(list));
    json vs = json::array();
    for (const consensus::Validator& v : list) {
        vs.push_back(v.address.to_hex());
    }
    json alloc = json::object();
    for (const Address& a : funded) {
        alloc[a.to_hex()] = json{{"balance", dev_account_balance().to_hex()}};
    }
    json j;
    j["config"] = json{{"chainId", chain_id}, {"pel", json{{"validators", vs}}}};
    j["gasLimit"] = U256(gas_limit).to_hex();
    j["baseFeePerGas"] = "0x3b9aca00";
    j["timestamp"] = "0x0";
    j["extraData"] = validator_set_commitment(list).to_hex();
    j["alloc"] = std::move(alloc);
    return j.dump(2) + "\n";
}

U256 dev_account_balance() { return U256(10'000) * U256(1'000'000'000'000'000'000ULL); }

state::StateDiff genesis_diff(const Genesis& g) {
    state::StateDiff diff;
    for (const auto& [addr, a] : g.alloc) {
        state::AccountDiff d;
        d.nonce = a.nonce;
        d.balance = a.balance;
        if (!a.code.empty()) {
            d.code = state::CodeChange{keccak256(a.code), a.code};
        }
        for (const auto& [k, v] : a.storage) {
            d.storage.emplace(k, v);
        }
        diff.accounts.emplace(addr, std::move(d));
    }
    return diff;
}

Hash32 genesis_state_root(const Genesis& g) {
    state::MemState s;
    for (const auto& [addr, a] : g.alloc) {
        s.create(addr);
        s.set_nonce(addr, a.nonce);
        s.set_balance(addr, a.balance);
        if (!a.code.empty()) {
            s.set_code(addr, a.code);
        }
        for (const auto& [k, v] : a.storage) {
            s.set_storage(addr, k, v);
        }
    }
    return s.state_root();
}

BlockHeader genesis_header(const Genesis& g, const Hash32& state_root) {
    BlockHeader h;
    h.ommers_hash = kEmptyOmmersHash;
    h.coinbase = g.coinbase;
    h.state_root = state_root;
    h.transactions_root = kEmptyTrieRoot;
    h.receipts_root = kEmptyTrieRoot;
    h.difficulty = g.difficulty;
    h.number = 0;
    h.gas_limit = g.gas_limit;
    h.timestamp = g.timestamp;
    if (g.validators.empty()) {
        h.extra_data = g.extra_data;
    } else {
        const Hash32 commitment = validator_set_commitment(g.validators);
        h.extra_data.assign(commitment.bytes.begin(), commitment.bytes.end());
    }
    h.mix_hash = g.mix_hash;
    h.nonce = g.nonce;
    h.base_fee_per_gas = g.base_fee;
    h.withdrawals_root = kEmptyTrieRoot;
    h.excess_blob_gas = g.excess_blob_gas;
    return h;
}

}  // namespace pel::node
