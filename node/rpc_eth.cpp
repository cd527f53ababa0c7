// SPDX-License-Identifier: Apache-2.0
// Thread safety / Invariants (the filter table):
//  - `Filters::mu` guards the table and every filter's backlog; node callbacks (new blocks,
//    new pending transactions) and RPC handlers take it for the duration of one update.
//  - A filter's backlog never exceeds max_filter_backlog entries (oldest dropped first), and a
//    filter whose last poll is older than filter_timeout is removed at the next table access.
//  - No NodeApi method is called with `mu` held (eth_getFilterLogs copies the criteria first), so
//    the node's callbacks can never wait on a handler that waits on the node.
#include "node/rpc_eth.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <deque>
#include <mutex>
#include <random>
#include <unordered_map>

#include "node/eip712.hpp"
#include "node/json_codec.hpp"
#include "node/rpc_api.hpp"
#include "node/rpc_json.hpp"
#include "node/rpc_ots.hpp"
#include "primitives/keccak.hpp"

namespace pel::node::rpc {

namespace q = pel::node::json;
using Clock = std::chrono::steady_clock;

namespace {

/// Blocks one trace_filter replays at most (each from its parent's state, so within the
/// --history.state window).
constexpr uint64_t kMaxTraceFilterBlocks = 1000;

/// EIP-55 mixed-case hex (geth's Address.Hex(), the txpool namespace's keys and text).
std::string checksummed(const Address& a) {
    std::string hex = q::address(a);  // "0x" + 40 lower-case digits
    const Hash32 h = keccak256(as_bytes(std::string_view(hex).substr(2)));
    for (size_t i = 0; i < 40; ++i) {
        const uint8_t nibble = (h.bytes[i / 2] >> (i % 2 == 0 ? 4 : 0)) & 0x0f;
        char& c = hex[i + 2];
        if (c >= 'a' && c <= 'f' && nibble >= 8) c = static_cast<char>(c - 'a' + 'A');
    }
    return hex;
}

/// txpool_content's shape: {sender: {nonce (decimal): value}}, senders as the node lists them.
template <class F>
Json by_sender_and_nonce(const std::vector<TxRecord>& txs, const F& value) {
    Json out = Json::object();
    for (const TxRecord& t : txs) {
        out[checksummed(t.from)][std::to_string(t.txn.nonce)] = value(t);
    }
    return out;
}

/// r || s || v with v = 27 + y parity: the 65-byte form eth_sign and its siblings return.
Bytes signature_bytes(const crypto::Signature& sig) {
    Bytes out(65);
    sig.r.to_be32(out.data());
    sig.s.to_be32(out.data() + 32);  // NOLINT
    out[64] = static_cast<uint8_t>(27 + sig.y_parity);
    return out;
}

Result<bool, RpcError> bool_param(const Params& p, size_t i) {
    const Json& v = p.at(i);
    if (v.is_null()) {
        return false;
    }
    if (!v.is_boolean()) {
        return invalid_argument(i, Error{"json: cannot unmarshal " + std::string(v.type_name()) +
                                         " into Go value of type bool"});
    }
    return v.get<bool>();
}

/// eth_feeHistory's block count: geth's HexOrDecimal64 (a hex or decimal string, or a number).
Result<uint64_t> block_count(const Json& v) {
    if (v.is_number_unsigned()) {
        return v.get<uint64_t>();
    }
    if (v.is_number_integer()) {
        return make_error("block count must not be negative");
    }
    if (v.is_string()) {
        const auto& s = v.get_ref<const std::string&>();
        if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
            return q::parse_quantity_u64(v);
        }
        PEL_TRY(const U256 n, U256::from_dec(s));
        if (!n.fits_u64()) {
            return make_error("block count too large");
        }
        return n.low64();
    }
    return make_error("json: cannot unmarshal ", std::string_view(v.type_name()),
                      " into a block count");
}

Result<std::vector<double>> percentiles(const Json& v) {
    std::vector<double> out;
    if (v.is_null()) {
        return out;
    }
    if (!v.is_array()) {
        return make_error("reward percentiles must be an array of numbers");
    }
    for (const auto& x : v) {
        if (!x.is_number()) {
            return make_error("reward percentiles must be an array of numbers");
        }
        out.push_back(x.get<double>());
    }
    return out;
}

std::string new_filter_id(std::mt19937_64& rng) {
    const U256 id(rng(), rng(), 0, 0);
    return q::quantity(id);
}

}  // namespace

RpcError from_api(const ApiError& e) {
    if (e.kind == ApiErrorKind::kReverted) {
        return RpcError{kExecutionReverted, q::revert_message(e.data), Json(q::data(e.data))};
    }
    return RpcError{rpc_error_code(e.kind), e.message, std::nullopt};
}

Result<BlockSelector, RpcError> block_selector(const NodeApi& node, const Params& p, size_t i,
                                               bool allow_hash) {
    if (p.at(i).is_null()) {
        return BlockSelector::latest();
    }
    PEL_TRY(const q::BlockParam b, decode_param(p, i, [allow_hash](const Json& v) {
                return q::parse_block_param(v, allow_hash);
            }));
    if (b.kind != q::BlockParam::Kind::kHash) {
        return to_selector(b);
    }
    PEL_TRY(const auto block, api(node.block_by_hash(b.hash)));
    if (!block) {
        return rpc_error(kServerError, "header for hash not found");
    }
    return BlockSelector::at(block->header.number);
}

struct EthRpc::Filters {
    enum class Kind : uint8_t { kLogs, kBlocks, kPending };
    struct Filter {
        Kind kind = Kind::kBlocks;
        LogFilter criteria;
        std::deque<LogRecord> logs;
        std::deque<Hash32> hashes;
        Clock::time_point last_poll;
    };

    const EthRpcOptions& options;
    mutable std::mutex mu;
    std::unordered_map<std::string, Filter> table;  // guarded by mu
    std::mt19937_64 rng{std::random_device{}()};    // guarded by mu

    explicit Filters(const EthRpcOptions& o) : options(o) {}

    void expire_locked(Clock::time_point now) {
        for (auto it = table.begin(); it != table.end();) {
            if (now - it->second.last_poll > options.filter_timeout) {
                it = table.erase(it);
            } else {
                ++it;
            }
        }
    }

    template <class T>
    void push_capped(std::deque<T>& q, T v) const {
        q.push_back(std::move(v));
        while (q.size() > options.max_filter_backlog) {
            q.pop_front();
        }
    }

    static bool in_range(const LogFilter& f, uint64_t block_num) {
        if (f.block_hash) {
            return false;  // a filter on one given block never sees new blocks
        }
        auto below = [&](const BlockSelector& s) {
            return s.tag == BlockTag::kEarliest
                       ? block_num > 0
                       : s.tag == BlockTag::kNumber && block_num > s.number;
        };
        const bool after_from =
            f.from_block.tag != BlockTag::kNumber || block_num >= f.from_block.number;
        return after_from && !below(f.to_block);
    }

    void on_block(const NewBlockEvent& ev) {
        const std::lock_guard lock(mu);
        expire_locked(options.clock());
        for (auto& [id, f] : table) {
            if (f.kind == Kind::kBlocks) {
                push_capped(f.hashes, ev.hash);
            } else if (f.kind == Kind::kLogs && in_range(f.criteria, ev.number)) {
                for (const auto& log : ev.logs) {
                    if (log_matches(f.criteria, log)) {
                        push_capped(f.logs, log);
                    }
                }
            }
        }
    }

    void on_pending(const Hash32& hash) {
        const std::lock_guard lock(mu);
        for (auto& [id, f] : table) {
            if (f.kind == Kind::kPending) {
                push_capped(f.hashes, hash);
            }
        }
    }

    Result<std::string, RpcError> install(Kind kind, LogFilter criteria) {
        const std::lock_guard lock(mu);
        const auto now = options.clock();
        expire_locked(now);
        if (table.size() >= options.max_filters) {
            return rpc_error(kServerError, "too many filters installed (limit " +
                                               std::to_string(options.max_filters) + ")");
        }
        std::string id = new_filter_id(rng);
        while (table.count(id) != 0) {
            id = new_filter_id(rng);
        }
        Filter f;
        f.kind = kind;
        f.criteria = std::move(criteria);
        f.last_poll = now;
        table.emplace(id, std::move(f));
        return id;
    }

    RpcResult changes(const std::string& id) {
        const std::lock_guard lock(mu);
        const auto now = options.clock();
        expire_locked(now);
        const auto it = table.find(id);
        if (it == table.end()) {
            return rpc_error(kServerError, "filter not found");
        }
        Filter& f = it->second;
        f.last_poll = now;
        Json out = Json::array();
        if (f.kind == Kind::kLogs) {
            for (const auto& log : f.logs) {
                out.push_back(log_json(log));
            }
            f.logs.clear();
        } else {
            for (const auto& h : f.hashes) {
                out.push_back(q::hash(h));
            }
            f.hashes.clear();
        }
        return out;
    }

    Result<LogFilter, RpcError> log_criteria(const std::string& id) {
        const std::lock_guard lock(mu);
        const auto now = options.clock();
        expire_locked(now);
        const auto it = table.find(id);
        if (it == table.end() || it->second.kind != Kind::kLogs) {
            return rpc_error(kServerError, "filter not found");
        }
        it->second.last_poll = now;
        return it->second.criteria;
    }

    bool uninstall(const std::string& id) {
        const std::lock_guard lock(mu);
        expire_locked(options.clock());
        return table.erase(id) != 0;
    }
};

EthRpc::EthRpc(NodeApi& api, EthRpcOptions options)
    : api_(api), options_(std::move(options)), filters_(std::make_unique<Filters>(options_)) {
    std::random_device rd;
    for (uint8_t& b : instance_id_.bytes) {
        b = static_cast<uint8_t>(rd());
    }
    Subscriber sub;
    Filters* f = filters_.get();
    sub.on_block = [f](const NewBlockEvent& ev) { f->on_block(ev); };
    sub.on_pending = [f](const Hash32& h) { f->on_pending(h); };
    subscription_ = api_.subscribe(std::move(sub));
}

EthRpc::~EthRpc() { api_.unsubscribe(subscription_); }

size_t EthRpc::test_filter_count() const {
    const std::lock_guard lock(filters_->mu);
    return filters_->table.size();
}

void EthRpc::register_methods(Dispatcher& d) {
    // Captured by pointer: the handlers outlive this call (they live in the dispatcher).
    NodeApi* const node = &api_;
    Filters* const filters = filters_.get();

    auto selector = [node](const Params& p, size_t i, bool allow_hash) {
        return block_selector(*node, p, i, allow_hash);
    };
    auto string_param = [](const Params& p, size_t i) -> Result<std::string, RpcError> {
        if (!p.at(i).is_string()) {
            return invalid_argument(i, Error{"expected a filter id string"});
        }
        return p.at(i).get<std::string>();
    };

    // --- chain and network ------------------------------------------------------------------
    d.add("web3_clientVersion", [this](const Params& p) -> RpcResult {
        PEL_TRY_VOID(p.expect(0, 0));
        return Json(options_.client_version);
    });
    // hardhat_metadata / anvil_metadata: what OpenZeppelin's upgrades plugin and other dev
    // tools read to tell one run of a dev chain from the next (instanceId: random per start).
    const auto metadata = [this, node](const Params& p) -> RpcResult {
        PEL_TRY_VOID(p.expect(0, 0));
        const auto head = node->head();
        return Json{{"clientVersion", options_.client_version},
                    {"chainId", node->chain_id()},
                    {"instanceId", q::hash(instance_id_)},
                    {"latestBlockNumber", head.number},
                    {"latestBlockHash", q::hash(head.hash)}};
    };
    d.add("hardhat_metadata", metadata);
    d.add("anvil_metadata", metadata);
    d.add("web3_sha3", [](const Params& p) -> RpcResult {
        PEL_TRY_VOID(p.expect(1, 1));
        PEL_TRY(const Bytes data, decode_param(p, 0, q::parse_data));
        return Json(q::hash(keccak256(data)));
    });
    d.add("eth_chainId", [node](const Params& p) -> RpcResult {
        PEL_TRY_VOID(p.expect(0, 0));
        return Json(q::quantity(node->chain_id()));
    });
    d.add("eth_coinbase", [node](const Params& p) -> RpcResult {
        PEL_TRY_VOID(p.expect(0, 0));
        return Json(q::address(node->coinbase()));
    });
    d.add("net_version", [node](const Params& p) -> RpcResult {
        PEL_TRY_VOID(p.expect(0, 0));
        return Json(std::to_string(node->chain_id()));
    });
    d.add("net_listening", [](const Params& p) -> RpcResult {
        PEL_TRY_VOID(p.expect(0, 0));
        return Json(true);
    });
    d.add("net_peerCount", [node](const Params& p) -> RpcResult {
        PEL_TRY_VOID(p.expect(0, 0));
        return Json(q::quantity(node->peer_count()));
    });
    d.add("eth_syncing", [](const Params& p) -> RpcResult {
        PEL_TRY_VOID(p.expect(0, 0));
        return Json(false);
    });
    d.add("eth_blockNumber", [node](const Params& p) -> RpcResult {
        PEL_TRY_VOID(p.expect(0, 0));
        return Json(q::quantity(node->head().number));
    });
    d.add("eth_accounts", [node](const Params& p) -> RpcResult {
        PEL_TRY_VOID(p.expect(0, 0));
        Json out = Json::array();
        for (const auto& a : node->accounts()) {
            out.push_back(q::address(a));
        }
        return out;
    });

    // --- accounts -----------------------------------------------------------------------------
    d.add("eth_getBalance", [node, selector](const Params& p) -> RpcResult {
        PEL_TRY_VOID(p.expect(1, 2));
        PEL_TRY(const Address a, decode_param(p, 0, q::parse_address));
        PEL_TRY(const BlockSelector s, selector(p, 1, true));
        PEL_TRY(const U256 v, api(node->balance(a, s)));
        return Json(q::quantity(v));
    });
    d.add("eth_getTransactionCount", [node, selector](const Params& p) -> RpcResult {
        PEL_TRY_VOID(p.expect(1, 2));
        PEL_TRY(const Address a, decode_param(p, 0, q::parse_address));
        PEL_TRY(const BlockSelector s, selector(p, 1, true));
        PEL_TRY(const uint64_t v, api(node->nonce(a, s)));
        return Json(q::quantity(v));
    });
    d.add("eth_getCode", [node, selector](const Params& p) -> RpcResult {
        PEL_TRY_VOID(p.expect(1, 2));
        PEL_TRY(const Address a, decode_param(p, 0, q::parse_address));
        PEL_TRY(const BlockSelector s, selector(p, 1, true));
        PEL_TRY(const Bytes v, api(node->code(a, s)));
        return Json(q::data(v));
    });
    d.add("eth_getStorageAt", [node, selector](const Params& p) -> RpcResult {
        PEL_TRY_VOID(p.expect(2, 3));
        PEL_TRY(const Address a, decode_param(p, 0, q::parse_address));
        PEL_TRY(const Hash32 slot, decode_param(p, 1, q::parse_slot));
        PEL_TRY(const BlockSelector s, selector(p, 2, true));
        PEL_TRY(const Hash32 v, api(node->storage_at(a, U256::from_hash(slot), s)));
        return Json(q::hash(v));
    });

    d.add("eth_getProof", [node, selector](const Params& p) -> RpcResult {
        PEL_TRY_VOID(p.expect(3, 3));
        PEL_TRY(const Address a, decode_param(p, 0, q::parse_address));
        const Json& keys = p.at(1);
        if (!keys.is_array()) {
            return invalid_argument(1, Error{"expected an array of storage keys"});
        }
        std::vector<U256> slots;
        std::vector<std::string> key_text;  // echoed as given (lower case), as geth does
        for (size_t i = 0; i < keys.size(); ++i) {
            auto slot = q::parse_slot(keys[i]);
            if (!slot) {
                return invalid_argument(
                    1, Error{"storage key " + std::to_string(i) + ": " + slot.error().message});
            }
            slots.push_back(U256::from_hash(*slot));
            std::string t = keys[i].get<std::string>();
            std::transform(t.begin(), t.end(), t.begin(),
                           [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
            key_text.push_back(std::move(t));
        }
        PEL_TRY(const BlockSelector s, selector(p, 2, true));
        PEL_TRY(const AccountProof proof, api(node->account_proof(a, slots, s)));
        const auto nodes = [](const std::vector<Bytes>& v) {
            Json out = Json::array();
            for (const Bytes& b : v) {
                out.push_back(q::data(b));
            }
            return out;
        };
        Json storage = Json::array();
        for (size_t i = 0; i < proof.storage_proof.size(); ++i) {
            const StorageProof& sp = proof.storage_proof[i];
            storage.push_back(Json{{"key", key_text.at(i)},
                                   {"value", q::quantity(sp.value)},
                                   {"proof", nodes(sp.proof)}});
        }
        return Json{
            {"address", q::address(proof.address)},  {"accountProof", nodes(proof.account_proof)},
            {"balance", q::quantity(proof.balance)}, {"codeHash", q::hash(proof.code_hash)},
            {"nonce", q::quantity(proof.nonce)},     {"storageHash", q::hash(proof.storage_hash)},
            {"storageProof", std::move(storage)}};
    });

    // --- execution ------------------------------------------------------------------------------
    // (call object, block, state overrides, block overrides): the parameters of eth_call,
    // eth_estimateGas and eth_createAccessList. `extra` parameters of the method's own sit
    // between the call object and the block (trace_call's trace kinds: 1); it parses them.
    const auto call_params =
        [selector](const Params& p,
                   size_t extra = 0) -> Result<std::pair<CallRequest, BlockSelector>, RpcError> {
        PEL_TRY_VOID(p.expect(1 + extra, 4 + extra));
        PEL_TRY(CallRequest req, decode_param(p, 0, parse_call_request));
        PEL_TRY(const BlockSelector s, selector(p, 1 + extra, true));
        if (!p.at(2 + extra).is_null()) {
            PEL_TRY(req.state_overrides, decode_param(p, 2 + extra, parse_state_overrides));
        }
        if (!p.at(3 + extra).is_null()) {
            PEL_TRY(req.block_overrides, decode_param(p, 3 + extra, parse_block_overrides));
        }
        return std::make_pair(std::move(req), s);
    };
    d.add("eth_call", [node, call_params](const Params& p) -> RpcResult {
        PEL_TRY(const auto args, call_params(p));
        PEL_TRY(const CallResult r, api(node->call(args.first, args.second)));
        if (r.success) {
            return Json(q::data(r.output));
        }
        if (r.reverted) {
            return rpc_error(kExecutionReverted, q::revert_message(r.output),
                             Json(q::data(r.output)));
        }
        return rpc_error(kServerError, r.error.empty() ? "execution failed" : r.error);
    });
    d.add("eth_estimateGas", [node, call_params](const Params& p) -> RpcResult {
        PEL_TRY(const auto args, call_params(p));
        PEL_TRY(const uint64_t gas, api(node->estimate_gas(args.first, args.second)));
        return Json(q::quantity(gas));
    });
    d.add("eth_createAccessList", [node, call_params](const Params& p) -> RpcResult {
        PEL_TRY(const auto args, call_params(p));
        PEL_TRY(const AccessListResult r, api(node->create_access_list(args.first, args.second)));
        Json out{{"accessList", access_list_json(r.access_list)},
                 {"gasUsed", q::quantity(r.gas_used)}};
        if (!r.error.empty()) {
            out["error"] = r.error;  // geth reports a failing call beside the list
        }
        return out;
    });
    // --- tracing: debug_traceTransaction / traceBlockByNumber / traceBlockByHash / traceCall ---
    const auto trace_params = [](const Params& p, size_t i) {
        return decode_param(p, i, parse_trace_params);
    };
    const auto block_traces = [](const std::optional<std::vector<TxTrace>>& traces,
                                 const std::string& what) -> RpcResult {
        if (!traces) {
            return rpc_error(kServerError, what + " not found");
        }
        Json out = Json::array();
        for (const TxTrace& t : *traces) {
            out.push_back(Json{{"txHash", q::hash(t.tx_hash)}, {"result", trace_json(t.result)}});
        }
        return out;
    };
    d.add("debug_traceTransaction", [node, trace_params](const Params& p) -> RpcResult {
        PEL_TRY_VOID(p.expect(1, 2));
        PEL_TRY(const Hash32 h, decode_param(p, 0, q::parse_hash));
        PEL_TRY(const TraceParams t, trace_params(p, 1));
        PEL_TRY(const auto r, api(node->trace_transaction(h, t.options)));
        if (!r) {
            return rpc_error(kServerError, "transaction not found");
        }
        return trace_json(*r);
    });
    d.add("debug_traceBlockByNumber",
          [node, selector, trace_params, block_traces](const Params& p) -> RpcResult {
              PEL_TRY_VOID(p.expect(1, 2));
              PEL_TRY(const BlockSelector s, selector(p, 0, false));
              PEL_TRY(const TraceParams t, trace_params(p, 1));
              PEL_TRY(const auto r, api(node->trace_block(s, t.options)));
              return block_traces(r, "block");
          });
    d.add("debug_traceBlockByHash",
          [node, trace_params, block_traces](const Params& p) -> RpcResult {
              PEL_TRY_VOID(p.expect(1, 2));
              PEL_TRY(const Hash32 h, decode_param(p, 0, q::parse_hash));
              PEL_TRY(const TraceParams t, trace_params(p, 1));
              PEL_TRY(const auto block, api(node->block_by_hash(h)));
              if (!block) {
                  return rpc_error(kServerError, "block " + q::hash(h) + " not found");
              }
              PEL_TRY(const auto r,
                      api(node->trace_block(BlockSelector::at(block->header.number), t.options)));
              return block_traces(r, "block " + q::hash(h));
          });
    d.add("debug_traceCall", [node, selector, trace_params](const Params& p) -> RpcResult {
        PEL_TRY_VOID(p.expect(1, 3));
        PEL_TRY(CallRequest req, decode_param(p, 0, parse_call_request));
        PEL_TRY(const BlockSelector s, selector(p, 1, true));
        PEL_TRY(TraceParams t, trace_params(p, 2));
        req.state_overrides = std::move(t.state_overrides);
        req.block_overrides = t.block_overrides;
        PEL_TRY(const TraceResult r, api(node->trace_call(req, s, t.options)));
        return trace_json(r);
    });
    // --- Parity-style traces: trace_transaction / trace_block / trace_filter ---------------------
    TraceOptions parity;
    parity.tracer = TraceOptions::Tracer::kCall;
    parity.parity_gas = true;
    // The traces of the block `s` names, each entry passing `keep` (all without one), appended to
    // `out`; false if there is no such block.
    const auto block_parity =
        [node, parity](
            BlockSelector s, Json& out,
            const std::function<bool(const exec::CallFrame&)>& keep) -> Result<bool, ApiError> {
        PEL_TRY(const auto block, node->block_by_number(s));
        if (!block) {
            return false;
        }
        PEL_TRY(const auto traces,
                node->trace_block(BlockSelector::at(block->header.number), parity));
        if (!traces) {
            return false;
        }
        for (size_t i = 0; i < traces->size(); ++i) {
            const auto& t = (*traces)[i];
            const auto* root = std::get_if<exec::CallFrame>(&t.result);
            if (root == nullptr) {
                return unexpected(ApiError{ApiErrorKind::kInternal, "not a call trace", {}});
            }
            append_parity_traces(
                out, *root, TraceLocation{block->hash, block->header.number, t.tx_hash, i}, keep);
        }
        return true;
    };
    d.add("trace_transaction", [node, parity](const Params& p) -> RpcResult {
        PEL_TRY_VOID(p.expect(1, 1));
        PEL_TRY(const Hash32 h, decode_param(p, 0, q::parse_hash));
        PEL_TRY(const auto receipt, api(node->receipt_by_hash(h)));
        if (!receipt) {
            return Json(nullptr);  // unknown or pending
        }
        PEL_TRY(const auto r, api(node->trace_transaction(h, parity)));
        const auto* root = r ? std::get_if<exec::CallFrame>(&*r) : nullptr;
        if (root == nullptr) {
            return rpc_error(kInternalError, "transaction " + q::hash(h) + " gave no call trace");
        }
        Json out = Json::array();
        append_parity_traces(
            out, *root,
            TraceLocation{receipt->block_hash, receipt->block_number, h, receipt->tx_index});
        return out;
    });
    // trace_replayTransaction / trace_replayBlockTransactions (OpenEthereum, reth; anvil has the
    // block one): each transaction's output with its traces (without the block fields) and its
    // stateDiff, as asked; vmTrace is null (refused when asked for).
    TraceOptions state_diff;
    state_diff.tracer = TraceOptions::Tracer::kPrestate;
    state_diff.diff_mode = true;
    const auto replay_json = [](const TraceResult& calls, const TraceResult* diff,
                                const ReplayKinds& kinds) -> Result<Json, RpcError> {
        const auto* root = std::get_if<exec::CallFrame>(&calls);
        const auto* changes = diff != nullptr ? std::get_if<PrestateTrace>(diff) : nullptr;
        if (root == nullptr || (kinds.state_diff && changes == nullptr)) {
            return rpc_error(kInternalError, "the replay gave no call trace or state diff");
        }
        Json trace = Json::array();
        if (kinds.trace) {
            append_parity_traces(trace, *root, std::nullopt);
        }
        return Json{{"output", q::data(root->output)},
                    {"stateDiff", changes != nullptr ? parity_state_diff(*changes) : Json()},
                    {"trace", std::move(trace)},
                    {"vmTrace", nullptr}};
    };
    d.add("trace_replayTransaction",
          [node, parity, state_diff, replay_json](const Params& p) -> RpcResult {
              PEL_TRY_VOID(p.expect(2, 2));
              PEL_TRY(const Hash32 h, decode_param(p, 0, q::parse_hash));
              PEL_TRY(const ReplayKinds kinds, decode_param(p, 1, parse_replay_kinds));
              PEL_TRY(const auto calls, api(node->trace_transaction(h, parity)));
              if (!calls) {
                  return rpc_error(kServerError, "transaction " + q::hash(h) + " not found");
              }
              std::optional<TraceResult> diff;
              if (kinds.state_diff) {
                  PEL_TRY(diff, api(node->trace_transaction(h, state_diff)));
              }
              return replay_json(*calls, diff ? &*diff : nullptr, kinds);
          });
    d.add("trace_replayBlockTransactions",
          [node, selector, parity, state_diff, replay_json](const Params& p) -> RpcResult {
              PEL_TRY_VOID(p.expect(2, 2));
              PEL_TRY(const BlockSelector s, selector(p, 0, false));
              PEL_TRY(const ReplayKinds kinds, decode_param(p, 1, parse_replay_kinds));
              PEL_TRY(const auto block, api(node->block_by_number(s)));
              if (!block) {
                  return Json();
              }
              const BlockSelector at = BlockSelector::at(block->header.number);
              PEL_TRY(const auto calls, api(node->trace_block(at, parity)));
              std::optional<std::vector<TxTrace>> diffs;
              if (kinds.state_diff) {
                  PEL_TRY(diffs, api(node->trace_block(at, state_diff)));
              }
              if (!calls || (diffs && diffs->size() != calls->size())) {
                  return rpc_error(kInternalError, "the block's replays disagree");
              }
              Json out = Json::array();
              for (size_t i = 0; i < calls->size(); ++i) {
                  PEL_TRY(Json r, replay_json((*calls)[i].result,
                                              diffs ? &(*diffs)[i].result : nullptr, kinds));
                  r["transactionHash"] = q::hash((*calls)[i].tx_hash);
                  out.push_back(std::move(r));
              }
              return out;
          });
    // trace_call (reth's: call, trace types, block, state overrides, block overrides): the
    // replay answer of a call run as eth_call runs it.
    d.add("trace_call",
          [node, call_params, parity, state_diff, replay_json](const Params& p) -> RpcResult {
              PEL_TRY(const auto args, call_params(p, 1));
              PEL_TRY(const ReplayKinds kinds, decode_param(p, 1, parse_replay_kinds));
              const auto& [req, s] = args;
              // Both tracers on one head (see trace_call_each).
              const std::array<TraceOptions, 2> both{parity, state_diff};
              PEL_TRY(const auto runs,
                      api(node->trace_call_each(req, s,
                                                std::span(both).first(kinds.state_diff ? 2 : 1))));
              return replay_json(runs.front(), kinds.state_diff ? &runs.back() : nullptr, kinds);
          });
    d.add("trace_block", [selector, block_parity](const Params& p) -> RpcResult {
        PEL_TRY_VOID(p.expect(1, 1));
        PEL_TRY(const BlockSelector s, selector(p, 0, false));
        Json out = Json::array();
        PEL_TRY(const bool found, api(block_parity(s, out, {})));
        return found ? out : Json(nullptr);
    });
    d.add("trace_filter", [node, block_parity](const Params& p) -> RpcResult {
        PEL_TRY_VOID(p.expect(1, 1));
        PEL_TRY(const TraceFilter f, decode_param(p, 0, parse_trace_filter));
        PEL_TRY(const auto from, api(node->block_by_number(f.from_block)));
        PEL_TRY(const auto to, api(node->block_by_number(f.to_block)));
        if (!from || !to) {
            return rpc_error(kServerError,
                             std::string(!from ? "fromBlock" : "toBlock") + ": header not found");
        }
        const uint64_t first = from->header.number;
        const uint64_t last = to->header.number;
        if (first > last) {
            return rpc_error(kInvalidParams, "invalid argument 0: fromBlock " +
                                                 std::to_string(first) + " is above toBlock " +
                                                 std::to_string(last));
        }
        if (last - first >= kMaxTraceFilterBlocks) {
            return rpc_error(kInvalidParams, "invalid argument 0: at most " +
                                                 std::to_string(kMaxTraceFilterBlocks) +
                                                 " blocks per trace_filter, asked for " +
                                                 std::to_string(last - first + 1));
        }
        Json matched = Json::array();
        const auto keep = [&f](const exec::CallFrame& frame) { return trace_matches(f, frame); };
        for (uint64_t n = first; n <= last; ++n) {
            PEL_TRY_VOID(api(block_parity(BlockSelector::at(n), matched, keep)));
            if (f.count && matched.size() >= f.after + *f.count) {
                break;
            }
        }
        Json out = Json::array();
        for (size_t i = f.after; i < matched.size() && (!f.count || out.size() < *f.count); ++i) {
            out.push_back(std::move(matched[i]));
        }
        return out;
    });
    register_ots_methods(d, api_);

    d.add("eth_gasPrice", [node](const Params& p) -> RpcResult {
        PEL_TRY_VOID(p.expect(0, 0));
        return Json(q::quantity(node->gas_price()));
    });
    d.add("eth_maxPriorityFeePerGas", [node](const Params& p) -> RpcResult {
        PEL_TRY_VOID(p.expect(0, 0));
        return Json(q::quantity(node->max_priority_fee()));
    });
    d.add("eth_blobBaseFee", [node](const Params& p) -> RpcResult {
        PEL_TRY_VOID(p.expect(0, 0));
        PEL_TRY(const FeeHistory h, api(node->fee_history(1, BlockSelector::latest(), {})));
        if (h.base_fee_per_blob_gas.empty()) {
            return rpc_error(kInternalError, "no blob base fee");
        }
        return Json(q::quantity(h.base_fee_per_blob_gas.back()));
    });
    d.add("eth_feeHistory", [node, selector](const Params& p) -> RpcResult {
        PEL_TRY_VOID(p.expect(2, 3));
        PEL_TRY(const uint64_t count, decode_param(p, 0, block_count));
        PEL_TRY(const BlockSelector newest, selector(p, 1, false));
        PEL_TRY(const std::vector<double> pcts, decode_param(p, 2, percentiles));
        PEL_TRY(const FeeHistory h, api(node->fee_history(count, newest, pcts)));
        return fee_history_json(h, !p.at(2).is_null());
    });

    // --- blocks and transactions ----------------------------------------------------------------
    d.add("eth_getBlockByNumber", [node, selector](const Params& p) -> RpcResult {
        PEL_TRY_VOID(p.expect(1, 2));
        PEL_TRY(const BlockSelector s, selector(p, 0, false));
        PEL_TRY(const bool full, bool_param(p, 1));
        PEL_TRY(const auto block, api(node->block_by_number(s)));
        return block ? block_json(*block, full) : Json();
    });
    d.add("eth_getBlockByHash", [node](const Params& p) -> RpcResult {
        PEL_TRY_VOID(p.expect(1, 2));
        PEL_TRY(const Hash32 h, decode_param(p, 0, q::parse_hash));
        PEL_TRY(const bool full, bool_param(p, 1));
        PEL_TRY(const auto block, api(node->block_by_hash(h)));
        return block ? block_json(*block, full) : Json();
    });
    d.add("eth_getBlockTransactionCountByNumber", [node, selector](const Params& p) -> RpcResult {
        PEL_TRY_VOID(p.expect(1, 1));
        PEL_TRY(const BlockSelector s, selector(p, 0, false));
        PEL_TRY(const auto block, api(node->block_by_number(s)));
        return block ? Json(q::quantity(block->transactions.size())) : Json();
    });
    d.add("eth_getBlockTransactionCountByHash", [node](const Params& p) -> RpcResult {
        PEL_TRY_VOID(p.expect(1, 1));
        PEL_TRY(const Hash32 h, decode_param(p, 0, q::parse_hash));
        PEL_TRY(const auto block, api(node->block_by_hash(h)));
        return block ? Json(q::quantity(block->transactions.size())) : Json();
    });
    d.add("eth_getTransactionByBlockNumberAndIndex",
          [node, selector](const Params& p) -> RpcResult {
              PEL_TRY_VOID(p.expect(2, 2));
              PEL_TRY(const BlockSelector s, selector(p, 0, false));
              PEL_TRY(const uint64_t i, decode_param(p, 1, q::parse_quantity_u64));
              PEL_TRY(const auto block, api(node->block_by_number(s)));
              if (!block || i >= block->transactions.size()) {
                  return Json();
              }
              return tx_json(block->transactions[i]);
          });
    d.add("eth_getTransactionByBlockHashAndIndex", [node](const Params& p) -> RpcResult {
        PEL_TRY_VOID(p.expect(2, 2));
        PEL_TRY(const Hash32 h, decode_param(p, 0, q::parse_hash));
        PEL_TRY(const uint64_t i, decode_param(p, 1, q::parse_quantity_u64));
        PEL_TRY(const auto block, api(node->block_by_hash(h)));
        if (!block || i >= block->transactions.size()) {
            return Json();
        }
        return tx_json(block->transactions[i]);
    });
    d.add("eth_getUncleCountByBlockNumber", [node, selector](const Params& p) -> RpcResult {
        PEL_TRY_VOID(p.expect(1, 1));
        PEL_TRY(const BlockSelector s, selector(p, 0, false));
        PEL_TRY(const auto block, api(node->block_by_number(s)));
        return block ? Json("0x0") : Json();
    });
    // Post-merge blocks have no uncles: null for any block, as geth answers.
    d.add("eth_getUncleByBlockNumberAndIndex", [selector](const Params& p) -> RpcResult {
        PEL_TRY_VOID(p.expect(2, 2));
        PEL_TRY_VOID(selector(p, 0, false));
        PEL_TRY_VOID(decode_param(p, 1, q::parse_quantity_u64));
        return Json();
    });
    d.add("eth_getUncleByBlockHashAndIndex", [](const Params& p) -> RpcResult {
        PEL_TRY_VOID(p.expect(2, 2));
        PEL_TRY_VOID(decode_param(p, 0, q::parse_hash));
        PEL_TRY_VOID(decode_param(p, 1, q::parse_quantity_u64));
        return Json();
    });
    d.add("eth_getUncleCountByBlockHash", [node](const Params& p) -> RpcResult {
        PEL_TRY_VOID(p.expect(1, 1));
        PEL_TRY(const Hash32 h, decode_param(p, 0, q::parse_hash));
        PEL_TRY(const auto block, api(node->block_by_hash(h)));
        return block ? Json("0x0") : Json();
    });
    d.add("eth_getTransactionByHash", [node](const Params& p) -> RpcResult {
        PEL_TRY_VOID(p.expect(1, 1));
        PEL_TRY(const Hash32 h, decode_param(p, 0, q::parse_hash));
        PEL_TRY(const auto tx, api(node->transaction_by_hash(h)));
        return tx ? tx_json(*tx) : Json();
    });
    d.add("eth_getTransactionReceipt", [node](const Params& p) -> RpcResult {
        PEL_TRY_VOID(p.expect(1, 1));
        PEL_TRY(const Hash32 h, decode_param(p, 0, q::parse_hash));
        PEL_TRY(const auto r, api(node->receipt_by_hash(h)));
        return r ? receipt_json(*r) : Json();
    });
    d.add("eth_getBlockReceipts", [node, selector](const Params& p) -> RpcResult {
        PEL_TRY_VOID(p.expect(1, 1));
        PEL_TRY(const BlockSelector s, selector(p, 0, true));
        PEL_TRY(const auto block, api(node->block_by_number(s)));
        if (!block) {
            return Json();
        }
        Json out = Json::array();
        for (const auto& tx : block->transactions) {
            PEL_TRY(const auto r, api(node->receipt_by_hash(tx.hash)));
            if (!r) {
                return rpc_error(kInternalError,
                                 "receipt missing for transaction " + q::hash(tx.hash));
            }
            out.push_back(receipt_json(*r));
        }
        return out;
    });
    // eth_sendRawTransaction's one parameter: the signed transaction's bytes.
    const auto raw_param = [](const Params& p) -> Result<Bytes, RpcError> {
        PEL_TRY_VOID(p.expect(1, 1));
        return decode_param(p, 0, q::parse_data);
    };
    d.add("eth_sendRawTransaction", [node, raw_param](const Params& p) -> RpcResult {
        PEL_TRY(const Bytes raw, raw_param(p));
        PEL_TRY(const Hash32 h, api(node->submit_raw_transaction(raw)));
        return Json(q::hash(h));
    });
    // A batch of them (what load generators and bundlers send): decoded here, then admitted
    // together (the node hashes them and recovers their senders in one pass).
    d.add_batch("eth_sendRawTransaction", [node, raw_param](std::span<const Params> calls) {
        std::vector<RpcResult> out(calls.size(), RpcResult(Json()));
        std::vector<Bytes> raws;
        std::vector<size_t> at;  // the call of each decoded transaction
        raws.reserve(calls.size());
        at.reserve(calls.size());
        for (size_t i = 0; i < calls.size(); ++i) {
            auto raw = raw_param(calls[i]);
            if (!raw) {
                out[i] = unexpected(std::move(raw.error()));
                continue;
            }
            raws.push_back(std::move(*raw));
            at.push_back(i);
        }
        const std::vector<ByteView> views(raws.begin(), raws.end());
        auto admitted = node->submit_raw_transactions(views);
        for (size_t k = 0; k < admitted.size(); ++k) {
            if (admitted[k]) {
                out[at[k]] = Json(q::hash(*admitted[k]));
            } else {
                out[at[k]] = unexpected(from_api(admitted[k].error()));
            }
        }
        return out;
    });
    d.add("eth_sendTransaction", [node](const Params& p) -> RpcResult {
        PEL_TRY_VOID(p.expect(1, 1));
        PEL_TRY(const CallRequest req, decode_param(p, 0, parse_call_request));
        PEL_TRY(const Hash32 h, api(node->send_transaction(req)));
        return Json(q::hash(h));
    });

    d.add("eth_signTransaction", [node](const Params& p) -> RpcResult {
        // The signed encoding as a string (as anvil answers, and as ethers' JsonRpcSigner and
        // viem's signTransaction expect; geth wraps it in {raw, tx}).
        PEL_TRY_VOID(p.expect(1, 1));
        PEL_TRY(const CallRequest req, decode_param(p, 0, parse_call_request));
        PEL_TRY(const Bytes raw, api(node->sign_transaction(req)));
        return Json(q::data(raw));
    });

    // --- txpool (geth's namespace)
    d.add("txpool_status", [node](const Params& p) -> RpcResult {
        PEL_TRY_VOID(p.expect(0, 0));
        const auto c = node->pool_content();
        return Json{{"pending", q::quantity(uint64_t{c.pending.size()})},
                    {"queued", q::quantity(uint64_t{c.queued.size()})}};
    });
    d.add("txpool_content", [node](const Params& p) -> RpcResult {
        PEL_TRY_VOID(p.expect(0, 0));
        const auto c = node->pool_content();
        return Json{{"pending", by_sender_and_nonce(c.pending, tx_json)},
                    {"queued", by_sender_and_nonce(c.queued, tx_json)}};
    });
    d.add("txpool_contentFrom", [node](const Params& p) -> RpcResult {
        PEL_TRY_VOID(p.expect(1, 1));
        PEL_TRY(const Address a, decode_param(p, 0, q::parse_address));
        const auto c = node->pool_content();
        const auto of = [&](const std::vector<TxRecord>& txs) {
            Json out = Json::object();
            for (const TxRecord& t : txs) {
                if (t.from == a) out[std::to_string(t.txn.nonce)] = tx_json(t);
            }
            return out;
        };
        return Json{{"pending", of(c.pending)}, {"queued", of(c.queued)}};
    });
    d.add("txpool_inspect", [node](const Params& p) -> RpcResult {
        PEL_TRY_VOID(p.expect(0, 0));
        // geth's summary line: "<to>: <value> wei + <gas> gas × <fee cap> wei".
        const auto summary = [](const TxRecord& t) {
            const std::string to = t.txn.to ? checksummed(*t.txn.to) : "contract creation";
            return to + ": " + t.txn.value.to_string() + " wei + " +
                   std::to_string(t.txn.gas_limit) + " gas \u00d7 " +
                   t.txn.max_fee_per_gas.to_string() + " wei";
        };
        const auto c = node->pool_content();
        return Json{{"pending", by_sender_and_nonce(c.pending, summary)},
                    {"queued", by_sender_and_nonce(c.queued, summary)}};
    });

    // --- the dev chain's controls (anvil's and hardhat's names)
    // A count of seconds or a timestamp: a JSON number or a hex quantity, as both accept.
    const auto seconds_param = [](const Params& p, size_t i) -> Result<uint64_t, RpcError> {
        const Json& v = p.at(i);
        if (v.is_number_unsigned()) {
            return v.get<uint64_t>();
        }
        auto q64 = q::parse_quantity_u64(v);
        if (!q64) {
            return invalid_argument(i, Error{"expected a non-negative integer or a quantity"});
        }
        return *q64;
    };
    d.add("evm_mine", [node, seconds_param](const Params& p) -> RpcResult {
        PEL_TRY_VOID(p.expect(0, 1));
        std::optional<uint64_t> ts;
        if (!p.at(0).is_null()) {
            PEL_TRY(ts, seconds_param(p, 0));
        }
        PEL_TRY_VOID(api(node->mine_block(ts)));
        return Json("0x0");  // what anvil and hardhat answer
    });
    // anvil_mine / hardhat_mine (blocks = 1, interval = 1): `blocks` blocks, the first now and
    // each later one `interval` seconds after the one before.
    const auto mine_many = [node, seconds_param](const Params& p) -> RpcResult {
        PEL_TRY_VOID(p.expect(0, 2));
        uint64_t blocks = 1;
        uint64_t interval = 1;
        if (!p.at(0).is_null()) {
            PEL_TRY(blocks, seconds_param(p, 0));
        }
        if (!p.at(1).is_null()) {
            PEL_TRY(interval, seconds_param(p, 1));
        }
        constexpr uint64_t kMaxBlocks = 10'000;
        if (blocks > kMaxBlocks) {
            return invalid_argument(0, Error{"at most 10000 blocks per call"});
        }
        if (interval == 0 || interval > (uint64_t{1} << 32)) {
            return invalid_argument(1, Error{"the interval must be 1 to 2^32 seconds"});
        }
        for (uint64_t i = 0; i < blocks; ++i) {
            std::optional<uint64_t> ts;
            if (i > 0) {
                ts = node->head().timestamp + interval;
            }
            PEL_TRY_VOID(api(node->mine_block(ts)));
        }
        return Json();
    };
    d.add("anvil_mine", mine_many);
    d.add("hardhat_mine", mine_many);
    // anvil_setBalance / setNonce / setCode / setStorageAt and hardhat's names. Numbers and
    // words are read as eth_getStorageAt reads a slot (hex up to 32 bytes, leading zeros
    // allowed: ethers' toBeHex pads). anvil answers null (setStorageAt: true), hardhat true.
    const auto word_param = [](const Params& p, size_t i) -> Result<U256, RpcError> {
        PEL_TRY(const Hash32 w, decode_param(p, i, q::parse_slot));
        return U256::from_be32(w.bytes.data());
    };
    const auto set_account = [node, word_param](std::string_view field, bool hardhat) {
        return [node, word_param, field, hardhat](const Params& p) -> RpcResult {
            PEL_TRY_VOID(p.expect(field == "storage" ? 3 : 2, field == "storage" ? 3 : 2));
            PEL_TRY(const Address addr, decode_param(p, 0, q::parse_address));
            DevAccountChange change;
            if (field == "balance") {
                PEL_TRY(change.balance, word_param(p, 1));
            } else if (field == "nonce") {
                PEL_TRY(const U256 n, word_param(p, 1));
                if (n > U256(UINT64_MAX)) {
                    return invalid_argument(1, Error{"nonce above 2^64-1"});
                }
                change.nonce = n.low64();
            } else if (field == "code") {
                PEL_TRY(change.code, decode_param(p, 1, q::parse_data));
            } else {
                PEL_TRY(const U256 slot, word_param(p, 1));
                PEL_TRY(const U256 value, word_param(p, 2));
                change.storage.emplace_back(slot, value);
            }
            if (auto r = node->set_account(addr, change); !r) {
                return unexpected(from_api(r.error()));
            }
            return hardhat || field == "storage" ? Json(true) : Json();
        };
    };
    for (const bool hardhat : {false, true}) {
        const std::string ns = hardhat ? "hardhat_" : "anvil_";
        d.add(ns + "setBalance", set_account("balance", hardhat));
        d.add(ns + "setNonce", set_account("nonce", hardhat));
        d.add(ns + "setCode", set_account("code", hardhat));
        d.add(ns + "setStorageAt", set_account("storage", hardhat));
    }

    // Mining: evm_setAutomine / anvil_setAutomine (bool); evm_setIntervalMining takes hardhat's
    // milliseconds, anvil_setIntervalMining anvil's seconds (which also turns automine off, as
    // anvil's interval mode does); 0 stops interval mining. hardhat_getAutomine /
    // anvil_getAutomine: automine on and no interval.
    const auto set_automine = [node](const Params& p) -> RpcResult {
        PEL_TRY_VOID(p.expect(1, 1));
        if (!p.at(0).is_boolean()) {
            return invalid_argument(0, Error{"expected a boolean"});
        }
        if (auto r = node->set_mining(p.at(0).get<bool>(), std::nullopt); !r) {
            return unexpected(from_api(r.error()));
        }
        return Json();
    };
    d.add("evm_setAutomine", set_automine);
    d.add("anvil_setAutomine", set_automine);
    const auto set_interval = [node, seconds_param](bool anvil) {
        return [node, seconds_param, anvil](const Params& p) -> RpcResult {
            PEL_TRY_VOID(p.expect(1, 1));
            PEL_TRY(const uint64_t n, seconds_param(p, 0));
            const double seconds = anvil ? static_cast<double>(n) : static_cast<double>(n) / 1000.0;
            std::optional<bool> automine;
            if (anvil && n > 0) {
                automine = false;
            }
            if (auto r = node->set_mining(automine, seconds); !r) {
                return unexpected(from_api(r.error()));
            }
            return Json();
        };
    };
    d.add("evm_setIntervalMining", set_interval(false));
    d.add("anvil_setIntervalMining", set_interval(true));
    const auto get_automine = [node](const Params& p) -> RpcResult {
        PEL_TRY_VOID(p.expect(0, 0));
        const MiningMode m = node->mining_mode();
        return Json(m.automine && m.interval_s == 0);
    };
    d.add("hardhat_getAutomine", get_automine);
    d.add("anvil_getAutomine", get_automine);

    // anvil_impersonateAccount / anvil_stopImpersonatingAccount and hardhat's names.
    const auto impersonate = [node](bool on, bool hardhat) {
        return [node, on, hardhat](const Params& p) -> RpcResult {
            PEL_TRY_VOID(p.expect(1, 1));
            PEL_TRY(const Address addr, decode_param(p, 0, q::parse_address));
            if (auto r = node->impersonate(addr, on); !r) {
                return unexpected(from_api(r.error()));
            }
            return hardhat ? Json(true) : Json();
        };
    };
    d.add("anvil_impersonateAccount", impersonate(true, false));
    d.add("anvil_stopImpersonatingAccount", impersonate(false, false));
    d.add("hardhat_impersonateAccount", impersonate(true, true));
    d.add("hardhat_stopImpersonatingAccount", impersonate(false, true));

    // evm_snapshot / evm_revert (and anvil's names for them): ids are quantities from 0x1.
    const auto snapshot = [node](const Params& p) -> RpcResult {
        PEL_TRY_VOID(p.expect(0, 0));
        PEL_TRY(const uint64_t id, api(node->snapshot()));
        return Json(q::quantity(id));
    };
    const auto revert = [node, seconds_param](const Params& p) -> RpcResult {
        PEL_TRY_VOID(p.expect(1, 1));
        PEL_TRY(const uint64_t id, seconds_param(p, 0));
        PEL_TRY(const bool done, api(node->revert(id)));
        return Json(done);
    };
    d.add("evm_snapshot", snapshot);
    d.add("anvil_snapshot", snapshot);
    d.add("evm_revert", revert);
    d.add("anvil_revert", revert);
    d.add("evm_increaseTime", [node, seconds_param](const Params& p) -> RpcResult {
        PEL_TRY_VOID(p.expect(1, 1));
        PEL_TRY(const uint64_t secs, seconds_param(p, 0));
        PEL_TRY(const uint64_t total, api(node->increase_time(secs)));
        return Json(total);  // a JSON number, as anvil answers
    });
    d.add("evm_setNextBlockTimestamp", [node, seconds_param](const Params& p) -> RpcResult {
        PEL_TRY_VOID(p.expect(1, 1));
        PEL_TRY(const uint64_t ts, seconds_param(p, 0));
        if (auto r = node->set_next_block_timestamp(ts); !r) {
            return unexpected(from_api(r.error()));
        }
        return Json();
    });

    // --- signing with the dev accounts (EIP-191 and EIP-712 digests, node/eip712.hpp)
    // eth_sign takes (address, data); personal_sign (data, address) and geth's optional
    // password, which dev accounts ignore.
    const auto sign_message = [node](const Params& p, size_t data_at,
                                     size_t account_at) -> RpcResult {
        PEL_TRY(const Bytes message, decode_param(p, data_at, q::parse_data));
        PEL_TRY(const Address account, decode_param(p, account_at, q::parse_address));
        PEL_TRY(const auto sig, api(node->sign_hash(account, personal_message_digest(message))));
        return Json(q::data(signature_bytes(sig)));
    };
    d.add("eth_sign", [sign_message](const Params& p) -> RpcResult {
        PEL_TRY_VOID(p.expect(2, 2));
        return sign_message(p, 1, 0);
    });
    d.add("personal_sign", [sign_message](const Params& p) -> RpcResult {
        PEL_TRY_VOID(p.expect(2, 3));
        return sign_message(p, 0, 1);
    });
    d.add("eth_signTypedData_v4", [node](const Params& p) -> RpcResult {
        PEL_TRY_VOID(p.expect(2, 2));
        PEL_TRY(const Address account, decode_param(p, 0, q::parse_address));
        // ethers and viem send the typed data as a JSON string; MetaMask's callers as either.
        const Json& arg = p.at(1);
        Json parsed;
        if (arg.is_string()) {
            parsed = Json::parse(arg.get_ref<const std::string&>(), nullptr,
                                 /*allow_exceptions=*/false);
            if (parsed.is_discarded()) {
                return invalid_argument(1, Error{"typed data: not valid JSON"});
            }
        }
        auto digest = typed_data_digest(arg.is_string() ? parsed : arg);
        if (!digest) {
            return invalid_argument(1, digest.error());
        }
        PEL_TRY(const auto sig, api(node->sign_hash(account, *digest)));
        return Json(q::data(signature_bytes(sig)));
    });

    // --- logs and filters
    // -------------------------------------------------------------------------
    d.add("eth_getLogs", [node](const Params& p) -> RpcResult {
        PEL_TRY_VOID(p.expect(1, 1));
        PEL_TRY(const LogFilter f, decode_param(p, 0, parse_log_filter));
        PEL_TRY(const auto logs, api(node->logs(f)));
        Json out = Json::array();
        for (const auto& l : logs) {
            out.push_back(log_json(l));
        }
        return out;
    });
    d.add("eth_newFilter", [filters](const Params& p) -> RpcResult {
        PEL_TRY_VOID(p.expect(1, 1));
        PEL_TRY(LogFilter f, decode_param(p, 0, parse_log_filter));
        PEL_TRY(const std::string id, filters->install(Filters::Kind::kLogs, std::move(f)));
        return Json(id);
    });
    d.add("eth_newBlockFilter", [filters](const Params& p) -> RpcResult {
        PEL_TRY_VOID(p.expect(0, 0));
        PEL_TRY(const std::string id, filters->install(Filters::Kind::kBlocks, {}));
        return Json(id);
    });
    d.add("eth_newPendingTransactionFilter", [filters](const Params& p) -> RpcResult {
        // geth takes an optional fullTx flag; only hashes are delivered here.
        PEL_TRY_VOID(p.expect(0, 1));
        PEL_TRY(const bool full, bool_param(p, 0));
        if (full) {
            return rpc_error(kInvalidParams,
                             "invalid argument 0: full transaction objects are not supported");
        }
        PEL_TRY(const std::string id, filters->install(Filters::Kind::kPending, {}));
        return Json(id);
    });
    d.add("eth_getFilterChanges", [filters, string_param](const Params& p) -> RpcResult {
        PEL_TRY_VOID(p.expect(1, 1));
        PEL_TRY(const std::string id, string_param(p, 0));
        return filters->changes(id);
    });
    d.add("eth_getFilterLogs", [node, filters, string_param](const Params& p) -> RpcResult {
        PEL_TRY_VOID(p.expect(1, 1));
        PEL_TRY(const std::string id, string_param(p, 0));
        PEL_TRY(const LogFilter f, filters->log_criteria(id));
        PEL_TRY(const auto logs, api(node->logs(f)));
        Json out = Json::array();
        for (const auto& l : logs) {
            out.push_back(log_json(l));
        }
        return out;
    });
    d.add("eth_uninstallFilter", [filters, string_param](const Params& p) -> RpcResult {
        PEL_TRY_VOID(p.expect(1, 1));
        PEL_TRY(const std::string id, string_param(p, 0));
        return Json(filters->uninstall(id));
    });

    // --- pel ------------------------------------------------------------------------------------
    d.add("pel_consensusStatus", [node](const Params& p) -> RpcResult {
        PEL_TRY_VOID(p.expect(0, 0));
        const ConsensusStatus cs = node->consensus_status();
        if (!cs.enabled) {
            return Json{{"mode", "single"}};
        }
        Json peers = Json::array();
        for (const Address& a : cs.peers) {
            peers.push_back(a.to_hex());
        }
        return Json{{"mode", "consensus"},         {"height", q::quantity(cs.block_num)},
                    {"round", cs.round},           {"step", cs.step},
                    {"validators", cs.validators}, {"peers", std::move(peers)},
                    {"proposer", cs.proposer}};
    });
    d.add("pel_getBlockConflicts", [node, selector](const Params& p) -> RpcResult {
        PEL_TRY_VOID(p.expect(0, 1));
        PEL_TRY(const BlockSelector s, selector(p, 0, true));
        PEL_TRY(const auto report, api(node->conflict_report(s)));
        return report ? conflict_report_json(*report) : Json();
    });
}

}  // namespace pel::node::rpc
