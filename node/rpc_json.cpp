// SPDX-License-Identifier: Apache-2.0
#include "node/rpc_json.hpp"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <variant>

#include "node/revert.hpp"
#include "primitives/hex.hpp"
#include "vm/opcodes.hpp"

namespace pel::node::rpc {

namespace q = pel::node::json;

Json access_list_json(const AccessList& list) {
    Json out = Json::array();
    for (const auto& e : list) {
        Json keys = Json::array();
        for (const auto& k : e.storage_keys) {
            keys.push_back(q::hash(k));
        }
        out.push_back(Json{{"address", q::address(e.address)}, {"storageKeys", std::move(keys)}});
    }
    return out;
}

namespace {

Json bloom_json(const Bloom& bloom) { return q::data(ByteView(bloom.data(), bloom.size())); }

Json opt_hash(const std::optional<Hash32>& h) { return h ? Json(q::hash(*h)) : Json(); }
Json opt_quantity(const std::optional<uint64_t>& v) { return v ? Json(q::quantity(*v)) : Json(); }
Json opt_address(const std::optional<Address>& a) { return a ? Json(q::address(*a)) : Json(); }

}  // namespace

Json tx_json(const TxRecord& rec) {
    const Transaction& t = rec.txn;
    Json j;
    j["blockHash"] = opt_hash(rec.block_hash);
    j["blockNumber"] = opt_quantity(rec.block_number);
    j["from"] = q::address(rec.from);
    j["gas"] = q::quantity(t.gas_limit);
    j["gasPrice"] = q::quantity(rec.gas_price);
    if (t.type == TxnType::kDynamicFee || t.type == TxnType::kBlob) {
        j["maxFeePerGas"] = q::quantity(t.max_fee_per_gas);
        j["maxPriorityFeePerGas"] = q::quantity(t.max_priority_fee_per_gas);
    }
    if (t.type == TxnType::kBlob) {
        j["maxFeePerBlobGas"] = q::quantity(t.max_fee_per_blob_gas);
        Json hashes = Json::array();
        for (const auto& h : t.blob_versioned_hashes) {
            hashes.push_back(q::hash(h));
        }
        j["blobVersionedHashes"] = std::move(hashes);
    }
    j["hash"] = q::hash(rec.hash);
    j["input"] = q::data(t.data);
    j["nonce"] = q::quantity(t.nonce);
    j["to"] = opt_address(t.to);
    j["transactionIndex"] = opt_quantity(rec.index);
    j["value"] = q::quantity(t.value);
    j["type"] = q::quantity(static_cast<uint64_t>(t.type));
    if (t.type != TxnType::kLegacy) {
        j["accessList"] = access_list_json(t.access_list);
    }
    if (t.chain_id) {
        j["chainId"] = q::quantity(*t.chain_id);
    }
    const uint64_t parity = t.signature.y_parity;
    if (t.type == TxnType::kLegacy) {
        // EIP-155: v = chain_id * 2 + 35 + parity; unprotected: 27 + parity.
        const U256 v =
            t.chain_id ? U256(*t.chain_id) * U256(2) + U256(35 + parity) : U256(27 + parity);
        j["v"] = q::quantity(v);
    } else {
        j["v"] = q::quantity(parity);
        j["yParity"] = q::quantity(parity);
    }
    j["r"] = q::quantity(t.signature.r);
    j["s"] = q::quantity(t.signature.s);
    return j;
}

Json block_json(const BlockRecord& b, bool full) {
    const BlockHeader& h = b.header;
    Json j;
    j["baseFeePerGas"] = q::quantity(h.base_fee_per_gas);
    j["blobGasUsed"] = q::quantity(h.blob_gas_used);
    j["difficulty"] = q::quantity(h.difficulty);
    j["excessBlobGas"] = q::quantity(h.excess_blob_gas);
    j["extraData"] = q::data(h.extra_data);
    j["gasLimit"] = q::quantity(h.gas_limit);
    j["gasUsed"] = q::quantity(h.gas_used);
    j["hash"] = q::hash(b.hash);
    j["logsBloom"] = bloom_json(h.logs_bloom);
    j["miner"] = q::address(h.coinbase);
    j["mixHash"] = q::hash(h.mix_hash);
    std::array<uint8_t, 8> nonce{};
    for (size_t i = 0; i < 8; ++i) {
        nonce[7 - i] = static_cast<uint8_t>(h.nonce >> (8 * i));
    }
    j["nonce"] = q::data(nonce);
    j["number"] = q::quantity(h.number);
    j["parentBeaconBlockRoot"] = q::hash(h.parent_beacon_block_root);
    j["parentHash"] = q::hash(h.parent_hash);
    j["receiptsRoot"] = q::hash(h.receipts_root);
    j["sha3Uncles"] = q::hash(h.ommers_hash);
    j["size"] = q::quantity(b.size);
    j["stateRoot"] = q::hash(h.state_root);
    j["timestamp"] = q::quantity(h.timestamp);
    j["totalDifficulty"] = "0x0";
    Json txs = Json::array();
    for (const auto& tx : b.transactions) {
        txs.push_back(full ? tx_json(tx) : Json(q::hash(tx.hash)));
    }
    j["transactions"] = std::move(txs);
    j["transactionsRoot"] = q::hash(h.transactions_root);
    j["uncles"] = Json::array();
    j["withdrawals"] = Json::array();
    j["withdrawalsRoot"] = q::hash(h.withdrawals_root);
    return j;
}

Json log_json(const LogRecord& log) {
    Json topics = Json::array();
    for (const auto& t : log.topics) {
        topics.push_back(q::hash(t));
    }
    return Json{{"address", q::address(log.address)},
                {"topics", std::move(topics)},
                {"data", q::data(log.data)},
                {"blockNumber", q::quantity(log.block_number)},
                {"transactionHash", q::hash(log.tx_hash)},
                {"transactionIndex", q::quantity(log.tx_index)},
                {"blockHash", q::hash(log.block_hash)},
                {"logIndex", q::quantity(log.log_index)},
                {"removed", log.removed}};
}

Json receipt_json(const ReceiptRecord& r) {
    Json logs = Json::array();
    for (const auto& l : r.logs) {
        logs.push_back(log_json(l));
    }
    Json j{{"blockHash", q::hash(r.block_hash)},
           {"blockNumber", q::quantity(r.block_number)},
           {"contractAddress", opt_address(r.contract_address)},
           {"cumulativeGasUsed", q::quantity(r.cumulative_gas_used)},
           {"effectiveGasPrice", q::quantity(r.effective_gas_price)},
           {"from", q::address(r.from)},
           {"gasUsed", q::quantity(r.gas_used)},
           {"logs", std::move(logs)},
           {"logsBloom", bloom_json(r.logs_bloom)},
           {"status", r.status ? "0x1" : "0x0"},
           {"to", opt_address(r.to)},
           {"transactionHash", q::hash(r.tx_hash)},
           {"transactionIndex", q::quantity(r.tx_index)},
           {"type", q::quantity(static_cast<uint64_t>(r.type))}};
    if (r.type == TxnType::kBlob) {
        j["blobGasUsed"] = q::quantity(r.blob_gas_used);
        j["blobGasPrice"] = q::quantity(r.blob_gas_price);
    }
    return j;
}

Json fee_history_json(const FeeHistory& h, bool with_reward) {
    auto quantities = [](const std::vector<U256>& v) {
        Json a = Json::array();
        for (const auto& x : v) {
            a.push_back(q::quantity(x));
        }
        return a;
    };
    Json j{{"oldestBlock", q::quantity(h.oldest_block)},
           {"baseFeePerGas", quantities(h.base_fee_per_gas)},
           {"gasUsedRatio", h.gas_used_ratio},
           {"baseFeePerBlobGas", quantities(h.base_fee_per_blob_gas)},
           {"blobGasUsedRatio", h.blob_gas_used_ratio}};
    if (with_reward) {
        Json rows = Json::array();
        for (const auto& row : h.reward) {
            rows.push_back(quantities(row));
        }
        j["reward"] = std::move(rows);
    }
    return j;
}

Json conflict_report_json(const BlockConflictReport& r) {
    std::map<Address, uint64_t> per_contract;
    Json slots = Json::array();
    Json locations = Json::array();
    for (const auto& c : r.top_conflicts) {
        per_contract[c.address] += c.count;
        Json loc{{"address", q::address(c.address)},
                 {"slot", c.slot ? Json(q::hash(c.slot->to_hash())) : Json()},
                 {"count", c.count}};
        if (c.slot) {
            slots.push_back(loc);
        }
        locations.push_back(std::move(loc));
    }
    std::vector<std::pair<Address, uint64_t>> hot(per_contract.begin(), per_contract.end());
    std::stable_sort(hot.begin(), hot.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
    Json contracts = Json::array();
    for (const auto& [addr, count] : hot) {
        contracts.push_back(Json{{"address", q::address(addr)}, {"count", count}});
    }
    return Json{
        {"blockNumber", r.block_number},
        {"blockHash", q::hash(r.block_hash)},
        {"txs", r.txs},
        {"gasUsed", r.gas_used},
        {"executions", r.executions},
        {"reExecutions", r.re_executions},
        {"reExecutionsPerTx",
         r.txs == 0 ? 0.0 : static_cast<double>(r.re_executions) / static_cast<double>(r.txs)},
        {"validations", r.validations},
        {"aborts", r.aborts},
        {"dependencyWaits", r.dependency_waits},
        {"fallback", r.fallback.empty() ? Json() : Json(r.fallback)},
        {"fallbackFrom", r.fallback.empty() ? Json() : Json(r.fallback_from)},
        {"executionMs", r.execution_ms},
        {"commitMs", r.commit_ms},
        {"threads", r.threads},
        {"hotContracts", std::move(contracts)},
        {"hotSlots", std::move(slots)},
        {"conflicts", std::move(locations)}};
}

namespace {

/// Decodes field `name` of object `obj` with `decoder` when present and not null.
template <class T, class F>
Result<void> field(const Json& obj, const char* name, std::optional<T>& out, F&& decoder) {
    const auto it = obj.find(name);
    if (it == obj.end() || it->is_null()) {
        return {};
    }
    auto r = decoder(*it);
    if (!r) {
        return make_error("field '", name, "': ", r.error().message);
    }
    out = std::move(r).value();
    return {};
}

Result<AccessList> parse_access_list(const Json& v) {
    if (!v.is_array()) {
        return make_error("access list must be an array");
    }
    AccessList out;
    for (const auto& e : v) {
        if (!e.is_object()) {
            return make_error("access list entry must be an object");
        }
        AccessListEntry entry;
        const auto addr = e.find("address");
        if (addr == e.end()) {
            return make_error("access list entry without address");
        }
        PEL_TRY(entry.address, json::parse_address(*addr));
        const auto keys = e.find("storageKeys");
        if (keys != e.end() && !keys->is_null()) {
            if (!keys->is_array()) {
                return make_error("storageKeys must be an array");
            }
            for (const auto& k : *keys) {
                PEL_TRY(const Hash32 h, json::parse_hash(k));
                entry.storage_keys.push_back(h);
            }
        }
        out.push_back(std::move(entry));
    }
    return out;
}

/// A list of hashes (blobVersionedHashes).
Result<std::vector<Hash32>> parse_hash_list(const Json& v) {
    if (!v.is_array()) {
        return make_error("expected an array of hashes");
    }
    std::vector<Hash32> out;
    out.reserve(v.size());
    for (const auto& h : v) {
        PEL_TRY(const Hash32 x, json::parse_hash(h));
        out.push_back(x);
    }
    return out;
}

/// A hash or a list of hashes (null members match anything: the whole position is then any).
Result<std::vector<Hash32>> parse_topic_position(const Json& v) {
    std::vector<Hash32> out;
    if (v.is_null()) {
        return out;
    }
    if (v.is_string()) {
        PEL_TRY(const Hash32 h, json::parse_hash(v));
        out.push_back(h);
        return out;
    }
    if (!v.is_array()) {
        return make_error("topic must be null, a hash or a list of hashes");
    }
    for (const auto& t : v) {
        if (t.is_null()) {
            return std::vector<Hash32>{};  // geth: a null member matches any topic
        }
        PEL_TRY(const Hash32 h, json::parse_hash(t));
        out.push_back(h);
    }
    return out;
}

}  // namespace

Result<BlockOverrides> parse_block_overrides(const Json& v) {
    if (!v.is_object()) {
        return make_error("json: cannot unmarshal ", std::string_view(v.type_name()),
                          " into a block override object");
    }
    BlockOverrides o;
    for (auto it = v.begin(); it != v.end(); ++it) {
        const std::string& key = it.key();
        const Json& value = it.value();
        const auto fail = [&key](const Error& e) {
            return make_error("field '", key, "': ", e.message);
        };
        if (value.is_null()) {
            continue;
        }
        if (key == "number" || key == "time" || key == "gasLimit") {
            auto n = json::parse_quantity_u64(value);
            if (!n) {
                return fail(n.error());
            }
            if (*n > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
                return make_error("field '", key, "': above 2^63-1");
            }
            (key == "number" ? o.number : key == "time" ? o.time : o.gas_limit) = *n;
        } else if (key == "feeRecipient") {
            auto a = json::parse_address(value);
            if (!a) {
                return fail(a.error());
            }
            o.fee_recipient = *a;
        } else if (key == "prevRandao") {
            auto h = json::parse_hash(value);
            if (!h) {
                return fail(h.error());
            }
            o.prev_randao = *h;
        } else if (key == "baseFeePerGas") {
            auto q = json::parse_quantity(value);
            if (!q) {
                return fail(q.error());
            }
            o.base_fee = *q;
        } else {
            return make_error("field '", key,
                              "' is not supported (number, time, gasLimit, feeRecipient, "
                              "prevRandao and baseFeePerGas are)");
        }
    }
    return o;
}

Result<std::vector<std::pair<Address, AccountOverride>>> parse_state_overrides(const Json& v) {
    if (!v.is_object()) {
        return make_error("json: cannot unmarshal ", std::string_view(v.type_name()),
                          " into a state override object");
    }
    std::vector<std::pair<Address, AccountOverride>> out;
    for (const auto& [key, fields] : v.items()) {
        auto addr = q::parse_address(Json(key));
        if (!addr) {
            return make_error("state override key '", key, "': ", addr.error().message);
        }
        const std::string where = "state override of " + key + ": ";
        if (!fields.is_object()) {
            return make_error(where, "expected an object");
        }
        AccountOverride o;
        const auto slots = [&](const Json& m,
                               const char* name) -> Result<std::vector<std::pair<U256, U256>>> {
            if (!m.is_object()) {
                return make_error(where, "field '", name, "': expected an object");
            }
            std::vector<std::pair<U256, U256>> kv;
            for (const auto& [slot, value] : m.items()) {
                auto k = q::parse_hash(Json(slot));
                auto val = q::parse_hash(value);
                if (!k || !val) {
                    return make_error(where, "field '", name,
                                      "': ", (!k ? k.error() : val.error()).message);
                }
                kv.emplace_back(U256::from_be32(k->bytes.data()),
                                U256::from_be32(val->bytes.data()));
            }
            return kv;
        };
        for (const auto& [name, value] : fields.items()) {
            if (name == "balance") {
                auto b = q::parse_quantity(value);
                if (!b) return make_error(where, "field 'balance': ", b.error().message);
                o.balance = *b;
            } else if (name == "nonce") {
                auto n = q::parse_quantity_u64(value);
                if (!n) return make_error(where, "field 'nonce': ", n.error().message);
                o.nonce = *n;
            } else if (name == "code") {
                auto c = q::parse_data(value);
                if (!c) return make_error(where, "field 'code': ", c.error().message);
                o.code = std::move(*c);
            } else if (name == "state") {
                PEL_TRY(o.state, slots(value, "state"));
            } else if (name == "stateDiff") {
                PEL_TRY(o.state_diff, slots(value, "stateDiff"));
            }  // other fields (movePrecompileToAddress, ...) are not supported: ignored, as
               // geth ignores unknown fields
        }
        if (o.state && fields.contains("stateDiff")) {
            return make_error(where, "has both 'state' and 'stateDiff'");
        }
        out.emplace_back(*addr, std::move(o));
    }
    return out;
}

Result<CallRequest> parse_call_request(const Json& v) {
    if (!v.is_object()) {
        return make_error("json: cannot unmarshal ", std::string_view(v.type_name()),
                          " into a transaction object");
    }
    CallRequest r;
    PEL_TRY_VOID(field(v, "from", r.from, json::parse_address));
    PEL_TRY_VOID(field(v, "to", r.to, json::parse_address));
    PEL_TRY_VOID(field(v, "gas", r.gas, json::parse_quantity_u64));
    PEL_TRY_VOID(field(v, "gasPrice", r.gas_price, json::parse_quantity));
    PEL_TRY_VOID(field(v, "maxFeePerGas", r.max_fee_per_gas, json::parse_quantity));
    PEL_TRY_VOID(
        field(v, "maxPriorityFeePerGas", r.max_priority_fee_per_gas, json::parse_quantity));
    PEL_TRY_VOID(field(v, "value", r.value, json::parse_quantity));
    PEL_TRY_VOID(field(v, "nonce", r.nonce, json::parse_quantity_u64));
    PEL_TRY_VOID(field(v, "accessList", r.access_list, parse_access_list));
    PEL_TRY_VOID(field(v, "chainId", r.chain_id, json::parse_quantity_u64));
    PEL_TRY_VOID(field(v, "maxFeePerBlobGas", r.max_fee_per_blob_gas, json::parse_quantity));
    PEL_TRY_VOID(field(v, "blobVersionedHashes", r.blob_versioned_hashes, parse_hash_list));
    std::optional<Bytes> data;
    std::optional<Bytes> input;
    PEL_TRY_VOID(field(v, "data", data, json::parse_data));
    PEL_TRY_VOID(field(v, "input", input, json::parse_data));
    if (data && input && *data != *input) {
        return make_error(
            "both \"data\" and \"input\" are set and not equal. Please use \"input\" to pass "
            "transaction call data");
    }
    if (input) {
        r.data = std::move(*input);
    } else if (data) {
        r.data = std::move(*data);
    }
    if (r.gas_price && (r.max_fee_per_gas || r.max_priority_fee_per_gas)) {
        return make_error("both gasPrice and (maxFeePerGas or maxPriorityFeePerGas) specified");
    }
    if (r.max_fee_per_gas && r.max_priority_fee_per_gas &&
        *r.max_priority_fee_per_gas > *r.max_fee_per_gas) {
        return make_error("maxFeePerGas (", r.max_fee_per_gas->to_string(),
                          ") < maxPriorityFeePerGas (", r.max_priority_fee_per_gas->to_string(),
                          ")");
    }
    return r;
}

namespace {

Result<bool> trace_flag(const Json& config, const char* name, const char* where = "tracerConfig.") {
    const auto it = config.find(name);
    if (it == config.end() || it->is_null()) {
        return false;
    }
    if (!it->is_boolean()) {
        return make_error(where, name, ": expected a boolean");
    }
    return it->get<bool>();
}

/// geth's opcode logger result: {gas, failed, returnValue, structLogs}.
Json struct_trace_json(const exec::StructTrace& t) {
    Json logs = Json::array();
    for (const exec::StructLog& l : t.logs) {
        const char* name = vm::opcode_info(l.op).name;
        char undefined[32];
        if (name == nullptr) {
            std::snprintf(undefined, sizeof(undefined), "opcode 0x%x not defined", l.op);
            name = undefined;
        }
        Json j{{"pc", l.pc},
               {"op", name},
               {"gas", l.gas},
               {"gasCost", l.gas_cost},
               {"depth", l.depth}};
        if (l.error) {
            j["error"] = *l.error == vm::Status::kUndefinedInstruction
                             ? std::string("invalid opcode: ") + name  // geth names the byte
                             : halt_message(*l.error);
        }
        if (l.stack) {
            Json stack = Json::array();
            for (const U256& v : *l.stack) {
                stack.push_back(q::quantity(v));
            }
            j["stack"] = std::move(stack);
        }
        if (!l.return_data.empty()) {
            j["returnData"] = q::data(l.return_data);
        }
        if (l.memory) {
            Json memory = Json::array();
            for (size_t i = 0; i + 32 <= l.memory->size(); i += 32) {
                memory.push_back(to_hex(ByteView(l.memory->data() + i, 32), false));
            }
            j["memory"] = std::move(memory);
        }
        if (l.storage) {
            Json storage = Json::object();
            for (const auto& [k, v] : *l.storage) {
                storage[to_hex(k.to_hash().view(), false)] = to_hex(v.to_hash().view(), false);
            }
            j["storage"] = std::move(storage);
        }
        if (l.refund != 0) {
            j["refund"] = l.refund;
        }
        logs.push_back(std::move(j));
    }
    return Json{{"gas", t.gas},
                {"failed", t.failed},
                {"returnValue", q::data(t.return_value)},
                {"structLogs", std::move(logs)}};
}

Json frame_json(const exec::CallFrame& f) {
    Json out{{"type", exec::to_string(f.type)},
             {"from", q::address(f.from)},
             {"gas", q::quantity(f.gas)},
             {"gasUsed", q::quantity(f.gas_used)},
             {"input", q::data(f.input)}};
    if (f.to) {
        out["to"] = q::address(*f.to);
    }
    if (f.value) {
        out["value"] = q::quantity(*f.value);
    }
    if (!f.output.empty()) {
        out["output"] = q::data(f.output);
    }
    if (f.failed()) {
        out["error"] = halt_message(f.status);
        if (f.status == vm::Status::kRevert) {
            if (auto reason = decode_revert_reason(f.output)) {
                out["revertReason"] = std::move(*reason);
            }
        }
    }
    if (!f.calls.empty()) {
        Json calls = Json::array();
        for (const exec::CallFrame& c : f.calls) {
            calls.push_back(frame_json(c));
        }
        out["calls"] = std::move(calls);
    }
    if (!f.logs.empty()) {
        Json logs = Json::array();
        for (const exec::CallFrame::FrameLog& l : f.logs) {
            Json topics = Json::array();
            for (const Hash32& t : l.log.topics) {
                topics.push_back(q::hash(t));
            }
            logs.push_back(Json{{"address", q::address(l.log.address)},
                                {"topics", std::move(topics)},
                                {"data", q::data(l.log.data)},
                                {"position", q::quantity(l.position)}});
        }
        out["logs"] = std::move(logs);
    }
    return out;
}

Json prestate_accounts_json(const std::map<Address, PrestateAccount>& accounts) {
    Json out = Json::object();
    for (const auto& [addr, a] : accounts) {
        Json j = Json::object();
        if (a.balance) {
            j["balance"] = q::quantity(*a.balance);
        }
        if (a.nonce && *a.nonce != 0) {
            j["nonce"] = *a.nonce;
        }
        if (a.code && !a.code->empty()) {
            j["code"] = q::data(*a.code);
        }
        if (!a.storage.empty()) {
            Json storage = Json::object();
            for (const auto& [k, v] : a.storage) {
                storage[q::hash(k)] = q::hash(v);
            }
            j["storage"] = std::move(storage);
        }
        out[q::address(addr)] = std::move(j);
    }
    return out;
}

}  // namespace

Result<TraceParams> parse_trace_params(const Json& v) {
    constexpr const char* kTracers =
        "callTracer, prestateTracer, noopTracer, or none for the opcode logger";
    TraceParams out;
    if (v.is_null()) {
        return out;  // the opcode logger with geth's defaults
    }
    if (!v.is_object()) {
        return make_error("json: cannot unmarshal ", std::string_view(v.type_name()),
                          " into the trace options object");
    }
    // geth's logger.Config, at the top level.
    PEL_TRY(out.options.logger.disable_stack, trace_flag(v, "disableStack", ""));
    PEL_TRY(out.options.logger.disable_storage, trace_flag(v, "disableStorage", ""));
    PEL_TRY(out.options.logger.enable_memory, trace_flag(v, "enableMemory", ""));
    PEL_TRY(out.options.logger.enable_return_data, trace_flag(v, "enableReturnData", ""));
    if (const auto l = v.find("limit"); l != v.end() && !l->is_null()) {
        if (!l->is_number_unsigned()) {
            return make_error("limit: expected a non-negative number");
        }
        out.options.logger.limit = l->get<size_t>();
    }
    const auto tracer = v.find("tracer");
    const bool opcode_logger = tracer == v.end() || tracer->is_null();
    if (!opcode_logger && !tracer->is_string()) {
        return make_error("tracer: expected a string");
    }
    const auto name = opcode_logger ? std::string() : tracer->get<std::string>();
    if (opcode_logger) {
        out.options.tracer = TraceOptions::Tracer::kStruct;
    } else if (name == "callTracer") {
        out.options.tracer = TraceOptions::Tracer::kCall;
    } else if (name == "prestateTracer") {
        out.options.tracer = TraceOptions::Tracer::kPrestate;
    } else if (name == "noopTracer") {
        out.options.tracer = TraceOptions::Tracer::kNoop;
    } else {
        return make_error("tracer \"", name, "\" is not supported (", kTracers, ")");
    }
    if (const auto c = v.find("tracerConfig"); c != v.end() && !c->is_null()) {
        if (!c->is_object()) {
            return make_error("tracerConfig: expected an object");
        }
        PEL_TRY(out.options.call.only_top_call, trace_flag(*c, "onlyTopCall"));
        PEL_TRY(out.options.call.with_log, trace_flag(*c, "withLog"));
        PEL_TRY(out.options.diff_mode, trace_flag(*c, "diffMode"));
        PEL_TRY(out.options.disable_code, trace_flag(*c, "disableCode"));
        PEL_TRY(out.options.disable_storage, trace_flag(*c, "disableStorage"));
    }
    if (const auto t = v.find("timeout"); t != v.end() && !t->is_null() && !t->is_string()) {
        return make_error("timeout: expected a duration string");
    }
    if (const auto s = v.find("stateOverrides"); s != v.end() && !s->is_null()) {
        PEL_TRY(out.state_overrides, parse_state_overrides(*s));
    }
    if (const auto b = v.find("blockOverrides"); b != v.end() && !b->is_null()) {
        auto o = parse_block_overrides(*b);
        if (!o) {
            return make_error("blockOverrides: ", o.error().message);
        }
        out.block_overrides = std::move(*o);
    }
    return out;
}

Json trace_json(const TraceResult& result) {
    if (const auto* f = std::get_if<exec::CallFrame>(&result)) {
        return frame_json(*f);
    }
    if (const auto* t = std::get_if<exec::StructTrace>(&result)) {
        return struct_trace_json(*t);
    }
    if (const auto* p = std::get_if<PrestateTrace>(&result)) {
        if (!p->diff_mode) {
            return prestate_accounts_json(p->pre);
        }
        return Json{{"pre", prestate_accounts_json(p->pre)},
                    {"post", prestate_accounts_json(p->post)}};
    }
    return Json::object();
}

BlockSelector to_selector(const json::BlockParam& p) {
    using K = json::BlockParam::Kind;
    switch (p.kind) {
        case K::kLatest:
            return {BlockTag::kLatest, 0};
        case K::kPending:
            return {BlockTag::kPending, 0};
        case K::kEarliest:
            return {BlockTag::kEarliest, 0};
        case K::kSafe:
            return {BlockTag::kSafe, 0};
        case K::kFinalized:
            return {BlockTag::kFinalized, 0};
        case K::kNumber:
            return BlockSelector::at(p.number);
        case K::kHash:
            break;
    }
    return {};  // a hash is resolved by the caller (it needs the chain)
}

// --- Parity-style traces (trace_*) -------------------------------------------------------------

namespace {

const char* parity_call_type(exec::CallFrame::Type t) noexcept {
    switch (t) {
        case exec::CallFrame::Type::kStaticCall:
            return "staticcall";
        case exec::CallFrame::Type::kDelegateCall:
            return "delegatecall";
        case exec::CallFrame::Type::kCallCode:
            return "callcode";
        default:
            return "call";
    }
}

/// OpenEthereum's error words, as revm-inspectors prints them for trace_*.
std::string parity_error(vm::Status s) {
    switch (s) {
        case vm::Status::kRevert:
            return "Reverted";
        case vm::Status::kOutOfGas:
            return "Out of gas";
        case vm::Status::kInvalidInstruction:
        case vm::Status::kUndefinedInstruction:
            return "Bad instruction";
        case vm::Status::kBadJumpDestination:
            return "Bad jump destination";
        case vm::Status::kStackOverflow:
            return "Out of stack";
        case vm::Status::kStackUnderflow:
            return "Stack underflow";
        case vm::Status::kPrecompileFailure:
            return "Built-in failed";
        case vm::Status::kInsufficientBalance:
            return "Insufficient balance for transfer";
        case vm::Status::kInvalidMemoryAccess:
            return "Out of bounds";
        default:
            return halt_message(s);
    }
}

/// Whether a frame's Parity-style trace has a result: it succeeded or reverted (other failures
/// print a null result).
bool has_parity_result(const exec::CallFrame& f) noexcept {
    return !f.failed() || f.status == vm::Status::kRevert;
}

void parity_traces(Json& out, const exec::CallFrame& f, std::vector<size_t>& address,
                   const std::optional<TraceLocation>& at,
                   const std::function<bool(const exec::CallFrame&)>& keep) {
    if (!keep || keep(f)) {
        Json t = Json::object();
        Json result;  // null
        if (f.type == exec::CallFrame::Type::kSelfDestruct) {
            t["type"] = "suicide";
            t["action"] = Json{{"address", q::address(f.from)},
                               {"balance", q::quantity(f.value.value_or(U256{}))},
                               {"refundAddress", q::address(f.to.value_or(Address{}))}};
        } else if (f.is_create()) {
            t["type"] = "create";
            t["action"] = Json{{"from", q::address(f.from)},
                               {"gas", q::quantity(f.gas)},
                               {"init", q::data(f.input)},
                               {"value", q::quantity(f.value.value_or(U256{}))},
                               {"creationMethod",
                                f.type == exec::CallFrame::Type::kCreate2 ? "create2" : "create"}};
            if (has_parity_result(f)) {
                result = Json{{"address", q::address(f.created.value_or(Address{}))},
                              {"code", q::data(f.output)},
                              {"gasUsed", q::quantity(f.gas_used)}};
            }
        } else {
            t["type"] = "call";
            t["action"] = Json{{"from", q::address(f.from)},
                               {"callType", parity_call_type(f.type)},
                               {"gas", q::quantity(f.gas)},
                               {"input", q::data(f.input)},
                               {"to", q::address(f.to.value_or(Address{}))},
                               {"value", q::quantity(f.value.value_or(U256{}))}};
            if (has_parity_result(f)) {
                result = Json{{"gasUsed", q::quantity(f.gas_used)}, {"output", q::data(f.output)}};
            }
        }
        if (f.failed()) {
            t["error"] = parity_error(f.status);
        }
        t["result"] = std::move(result);
        if (at) {
            t["blockHash"] = q::hash(at->block_hash);
            t["blockNumber"] = at->block_number;
            t["transactionHash"] = q::hash(at->tx_hash);
            t["transactionPosition"] = at->tx_index;
        }
        t["subtraces"] = f.calls.size();
        t["traceAddress"] = address;
        out.push_back(std::move(t));
    }
    for (size_t i = 0; i < f.calls.size(); ++i) {
        address.push_back(i);
        parity_traces(out, f.calls[i], address, at, keep);
        address.pop_back();
    }
}

/// A filter's fromBlock or toBlock (a block number or tag; no hash).
Result<BlockSelector> block_field(const Json& v, std::string_view field) {
    auto p = json::parse_block_param(v, false);
    if (!p) {
        return make_error("field '", field, "': ", p.error().message);
    }
    return to_selector(*p);
}

/// A filter's list of addresses (null: none).
Result<std::vector<Address>> address_list(const Json& v, std::string_view field) {
    std::vector<Address> out;
    if (v.is_null()) {
        return out;
    }
    if (!v.is_array()) {
        return make_error("field '", field, "': must be an array of addresses");
    }
    for (const auto& a : v) {
        auto r = json::parse_address(a);
        if (!r) {
            return make_error("field '", field, "': ", r.error().message);
        }
        out.push_back(*r);
    }
    return out;
}

}  // namespace

void append_parity_traces(Json& out, const exec::CallFrame& root,
                          const std::optional<TraceLocation>& at,
                          const std::function<bool(const exec::CallFrame&)>& keep) {
    std::vector<size_t> address;
    parity_traces(out, root, address, at, keep);
}

Result<ReplayKinds> parse_replay_kinds(const Json& v) {
    if (!v.is_array() || v.empty()) {
        return make_error("expected a non-empty array of trace types (\"trace\", \"stateDiff\")");
    }
    ReplayKinds k;
    for (const Json& t : v) {
        if (!t.is_string()) {
            return make_error("trace types must be strings");
        }
        const std::string& name = t.get_ref<const std::string&>();
        if (name == "trace") {
            k.trace = true;
        } else if (name == "stateDiff") {
            k.state_diff = true;
        } else if (name == "vmTrace") {
            return make_error(
                "trace type \"vmTrace\" is not supported (\"trace\" and "
                "\"stateDiff\" are)");
        } else {
            return make_error("unknown trace type \"", name, "\"");
        }
    }
    return k;
}

namespace {
/// The keys of two maps, each once, in order.
template <class K, class V>
std::set<K> key_union(const std::map<K, V>& a, const std::map<K, V>& b) {
    std::set<K> out;
    for (const auto* m : {&a, &b}) {
        for (const auto& [k, v] : *m) {
            out.insert(k);
        }
    }
    return out;
}
}  // namespace

Json parity_state_diff(const PrestateTrace& diff) {
    const auto one = [](const char* how, Json v) { return Json{{how, std::move(v)}}; };
    const auto changed = [](Json from, Json to) {
        return Json{{"*", Json{{"from", std::move(from)}, {"to", std::move(to)}}}};
    };
    const auto balance = [](const PrestateAccount& a) {
        return q::quantity(a.balance.value_or(U256{}));
    };
    const auto nonce = [](const PrestateAccount& a) { return q::quantity(a.nonce.value_or(0)); };
    const auto code = [](const PrestateAccount& a) { return q::data(a.code.value_or(Bytes{})); };
    Json out = Json::object();
    for (const Address& addr : key_union(diff.pre, diff.post)) {
        const auto pre = diff.pre.find(addr);
        const auto post = diff.post.find(addr);
        Json j = Json::object();
        Json storage = Json::object();
        if (pre == diff.pre.end() || post == diff.post.end()) {
            // Created (post only) or deleted (pre only): every field appears or goes.
            const bool created = pre == diff.pre.end();
            const PrestateAccount& a = created ? post->second : pre->second;
            const char* how = created ? "+" : "-";
            j["balance"] = one(how, balance(a));
            j["nonce"] = one(how, nonce(a));
            j["code"] = one(how, code(a));
            for (const auto& [k, v] : a.storage) {
                storage[q::hash(k)] = one(how, q::hash(v));
            }
        } else {
            // Changed: the post state holds the fields and slots that changed (a slot that went
            // to zero is only in pre; one that came from zero only in post).
            const PrestateAccount& b = pre->second;
            const PrestateAccount& a = post->second;
            j["balance"] = a.balance ? changed(balance(b), balance(a)) : Json("=");
            j["nonce"] = a.nonce ? changed(nonce(b), nonce(a)) : Json("=");
            j["code"] = a.code ? changed(code(b), code(a)) : Json("=");
            for (const Hash32& k : key_union(b.storage, a.storage)) {
                const auto from = b.storage.find(k);
                const auto to = a.storage.find(k);
                storage[q::hash(k)] =
                    changed(q::hash(from != b.storage.end() ? from->second : Hash32{}),
                            q::hash(to != a.storage.end() ? to->second : Hash32{}));
            }
        }
        j["storage"] = std::move(storage);
        out[q::address(addr)] = std::move(j);
    }
    return out;
}

Result<TraceFilter> parse_trace_filter(const Json& v) {
    if (!v.is_object()) {
        return make_error("json: cannot unmarshal ", std::string_view(v.type_name()),
                          " into a trace filter object");
    }
    TraceFilter f;
    for (const auto& [key, value] : v.items()) {
        if (key == "fromBlock" || key == "toBlock") {
            if (value.is_null()) {
                continue;
            }
            PEL_TRY((key == "fromBlock" ? f.from_block : f.to_block), block_field(value, key));
        } else if (key == "fromAddress") {
            PEL_TRY(f.from_addresses, address_list(value, key));
        } else if (key == "toAddress") {
            PEL_TRY(f.to_addresses, address_list(value, key));
        } else if (key == "mode") {
            if (value == "union" || value.is_null()) {
                f.intersection = false;
            } else if (value == "intersection") {
                f.intersection = true;
            } else {
                return make_error("field 'mode': \"union\" or \"intersection\"");
            }
        } else if (key == "after" || key == "count") {
            if (value.is_null()) {
                continue;
            }
            if (!value.is_number_unsigned()) {
                return make_error("field '", key, "': must be a non-negative integer");
            }
            if (key == "after") {
                f.after = value.get<uint64_t>();
            } else {
                f.count = value.get<uint64_t>();
            }
        } else {
            return make_error("unknown field '", key,
                              "' (there are fromBlock, toBlock, fromAddress, toAddress, mode, "
                              "after, count)");
        }
    }
    return f;
}

bool trace_matches(const TraceFilter& filter, const exec::CallFrame& frame) {
    const auto in = [](const std::vector<Address>& list, const std::optional<Address>& a) {
        return list.empty() || (a && std::find(list.begin(), list.end(), *a) != list.end());
    };
    const std::optional<Address> to =
        frame.is_create() ? (has_parity_result(frame) ? frame.created : std::nullopt) : frame.to;
    const bool from_matches = in(filter.from_addresses, frame.from);
    const bool to_matches = in(filter.to_addresses, to);
    if (filter.from_addresses.empty() || filter.to_addresses.empty() || filter.intersection) {
        return from_matches && to_matches;
    }
    return from_matches || to_matches;
}

Result<LogFilter> parse_log_filter(const Json& v) {
    if (!v.is_object()) {
        return make_error("json: cannot unmarshal ", std::string_view(v.type_name()),
                          " into a filter object");
    }
    LogFilter f;
    const auto from = v.find("fromBlock");
    const auto to = v.find("toBlock");
    const auto hash = v.find("blockHash");
    const bool has_from = from != v.end() && !from->is_null();
    const bool has_to = to != v.end() && !to->is_null();
    if (hash != v.end() && !hash->is_null()) {
        if (has_from || has_to) {
            return make_error(
                "cannot specify both BlockHash and FromBlock/ToBlock, choose one or the other");
        }
        PEL_TRY(f.block_hash, json::parse_hash(*hash));
    }
    if (has_from) {
        PEL_TRY(f.from_block, block_field(*from, "fromBlock"));
    }
    if (has_to) {
        PEL_TRY(f.to_block, block_field(*to, "toBlock"));
    }
    const auto addr = v.find("address");
    if (addr != v.end() && !addr->is_null()) {
        if (addr->is_array()) {
            PEL_TRY(f.addresses, address_list(*addr, "address"));
        } else {
            auto r = json::parse_address(*addr);
            if (!r) {
                return make_error("field 'address': ", r.error().message);
            }
            f.addresses.push_back(*r);
        }
    }
    const auto topics = v.find("topics");
    if (topics != v.end() && !topics->is_null()) {
        if (!topics->is_array()) {
            return make_error("field 'topics': must be an array");
        }
        if (topics->size() > 4) {
            return make_error("field 'topics': at most 4 topic positions, got ", topics->size());
        }
        for (const auto& t : *topics) {
            auto r = parse_topic_position(t);
            if (!r) {
                return make_error("field 'topics': ", r.error().message);
            }
            f.topics.push_back(std::move(r).value());
        }
    }
    return f;
}

bool log_matches(const LogFilter& filter, const LogRecord& log) {
    if (!filter.addresses.empty() && std::find(filter.addresses.begin(), filter.addresses.end(),
                                               log.address) == filter.addresses.end()) {
        return false;
    }
    if (filter.topics.size() > log.topics.size()) {
        return false;
    }
    for (size_t i = 0; i < filter.topics.size(); ++i) {
        const auto& alts = filter.topics[i];
        if (!alts.empty() && std::find(alts.begin(), alts.end(), log.topics[i]) == alts.end()) {
            return false;
        }
    }
    return true;
}

}  // namespace pel::node::rpc
