// SPDX-License-Identifier: Apache-2.0
#include "node/rpc_ots.hpp"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "node/json_codec.hpp"
#include "node/rpc_api.hpp"
#include "node/rpc_json.hpp"

namespace pel::node::rpc {

namespace q = pel::node::json;

namespace {

constexpr uint64_t kOtsApiLevel = 8;

using Frame = exec::CallFrame;
using FrameType = exec::CallFrame::Type;

/// A number as Otterscan sends it (a JSON number) or as a quantity string.
Result<uint64_t, RpcError> number_param(const Params& p, size_t i) {
    const Json& v = p.at(i);
    if (v.is_number_unsigned()) {
        return v.get<uint64_t>();
    }
    return decode_param(p, i, q::parse_quantity_u64);
}

/// A page size in [1, kMaxOtsPageSize].
Result<size_t, RpcError> page_size_param(const Params& p, size_t i) {
    PEL_TRY(const uint64_t n, number_param(p, i));
    if (n == 0 || n > kMaxOtsPageSize) {
        return invalid_argument(
            i, Error{"page size must be 1 to " + std::to_string(kMaxOtsPageSize) + ", got " +
                     std::to_string(n)});
    }
    return static_cast<size_t>(n);
}

Result<BlockRecord, RpcError> require_block(const NodeApi& node, BlockSelector s) {
    PEL_TRY(auto block, api(node.block_by_number(s)));
    if (!block) {
        return rpc_error(kServerError, "block not found");
    }
    return std::move(*block);
}

Result<ReceiptRecord, RpcError> require_receipt(const NodeApi& node, const Hash32& tx) {
    PEL_TRY(auto r, api(node.receipt_by_hash(tx)));
    if (!r) {
        return rpc_error(kInternalError, "receipt missing for transaction " + q::hash(tx));
    }
    return std::move(*r);
}

/// The call frames of a mined transaction (a replay from its block's parent state).
Result<Frame, RpcError> frames_of(const NodeApi& node, const Hash32& tx) {
    PEL_TRY(const auto receipt, api(node.receipt_by_hash(tx)));
    if (!receipt) {
        return rpc_error(kServerError, "transaction " + q::hash(tx) + " not found");
    }
    TraceOptions options;
    options.tracer = TraceOptions::Tracer::kCall;
    PEL_TRY(auto r, api(node.trace_transaction(tx, options)));
    auto* root = r ? std::get_if<Frame>(&*r) : nullptr;
    if (root == nullptr) {
        return rpc_error(kInternalError, "transaction " + q::hash(tx) + " gave no call trace");
    }
    return std::move(*root);
}

Json address_or_null(const std::optional<Address>& a) {
    return a ? Json(q::address(*a)) : Json(nullptr);
}

/// Where a frame went: its callee, or the contract a create made (or would have made).
std::optional<Address> target(const Frame& f) { return f.to ? f.to : f.created; }

void append_trace_entries(Json& out, const Frame& f, uint64_t depth) {
    Json e;
    e["type"] = exec::to_string(f.type);
    e["depth"] = depth;
    e["from"] = q::address(f.from);
    e["to"] = address_or_null(target(f));
    const bool no_value = f.type == FrameType::kStaticCall || f.type == FrameType::kDelegateCall;
    e["value"] = no_value ? Json(nullptr) : Json(q::quantity(f.value.value_or(U256{})));
    e["input"] = q::data(f.input);
    e["output"] = q::data(f.output);
    out.push_back(std::move(e));
    for (const Frame& c : f.calls) {
        append_trace_entries(out, c, depth + 1);
    }
}

void append_operations(Json& out, const Frame& f, bool top) {
    std::optional<int> type;
    if (!top) {
        switch (f.type) {
            case FrameType::kCall:
                if (f.value && !f.value->is_zero()) {
                    type = 0;
                }
                break;
            case FrameType::kSelfDestruct:
                type = 1;
                break;
            case FrameType::kCreate:
                type = 2;
                break;
            case FrameType::kCreate2:
                type = 3;
                break;
            default:
                break;
        }
    }
    if (type) {
        out.push_back({{"type", *type},
                       {"from", q::address(f.from)},
                       {"to", address_or_null(target(f))},
                       {"value", q::quantity(f.value.value_or(U256{}))}});
    }
    for (const Frame& c : f.calls) {
        append_operations(out, c, false);
    }
}

/// The block as Otterscan's block pages read it: transactionCount, no logsBloom.
Json ots_block_json(const BlockRecord& b, bool with_txs) {
    Json j = block_json(b, with_txs);
    if (!with_txs) {
        j.erase("transactions");
    }
    j["transactionCount"] = b.transactions.size();
    j["logsBloom"] = nullptr;
    return j;
}

Result<Json, RpcError> block_details(const NodeApi& node, const BlockRecord& b) {
    U256 fees;
    for (const TxRecord& tx : b.transactions) {
        PEL_TRY(const ReceiptRecord r, require_receipt(node, tx.hash));
        fees += U256(r.gas_used) * r.effective_gas_price;
    }
    return Json{{"block", ots_block_json(b, false)},
                {"issuance", {{"blockReward", "0x0"}, {"uncleReward", "0x0"}, {"issuance", "0x0"}}},
                {"totalFees", q::quantity(fees)}};
}

/// The transactions of block `n` that `addr` sent, received or created, last first. With `out`
/// null only whether there is one.
Result<bool, RpcError> search_block(const NodeApi& node, uint64_t n, const Address& addr, Json* txs,
                                    Json* receipts) {
    PEL_TRY(const auto block, api(node.block_by_number(BlockSelector::at(n))));
    if (!block) {
        return false;
    }
    bool found = false;
    for (auto it = block->transactions.rbegin(); it != block->transactions.rend(); ++it) {
        const TxRecord& tx = *it;
        bool match = tx.from == addr || (tx.txn.to && *tx.txn.to == addr);
        std::optional<ReceiptRecord> receipt;
        if (!match && !tx.txn.to) {
            PEL_TRY(receipt, require_receipt(node, tx.hash));
            match = receipt->contract_address == addr;
        }
        if (!match) {
            continue;
        }
        found = true;
        if (txs == nullptr) {
            return true;
        }
        if (!receipt) {
            PEL_TRY(receipt, require_receipt(node, tx.hash));
        }
        Json r = receipt_json(*receipt);
        r["timestamp"] = q::quantity(block->header.timestamp);
        txs->push_back(tx_json(tx));
        receipts->push_back(std::move(r));
    }
    return found;
}

/// ots_searchTransactionsBefore (`before`) or After from block `from` (exclusive; 0: the head,
/// or genesis).
Result<Json, RpcError> search(const NodeApi& node, const Address& addr, uint64_t from,
                              size_t page_size, bool before) {
    const uint64_t head = node.head().number;
    // The blocks to scan, in order: [lo, hi], walked down (before) or up (after).
    uint64_t lo = 0;
    uint64_t hi = 0;
    if (before) {
        hi = from == 0 ? head : std::min(from - 1, head);
    } else {
        lo = from == 0 ? 0 : from >= head ? head + 1 : from + 1;  // past the head: nothing
        hi = head;
    }
    // Per block, newest first within it; "after" collects the oldest block first (reversed
    // below). Whole blocks: the page ends after the block that fills it.
    std::vector<std::pair<Json, Json>> blocks;
    size_t found = 0;
    bool more = false;  // a match beyond the page
    for (uint64_t i = 0; lo <= hi && i <= hi - lo; ++i) {
        const uint64_t n = before ? hi - i : lo + i;
        if (found >= page_size) {
            PEL_TRY(const bool any, search_block(node, n, addr, nullptr, nullptr));
            if (any) {
                more = true;
                break;
            }
            continue;
        }
        Json bt = Json::array();
        Json br = Json::array();
        PEL_TRY(const bool any, search_block(node, n, addr, &bt, &br));
        if (any) {
            found += bt.size();
            blocks.emplace_back(std::move(bt), std::move(br));
        }
    }
    if (!before) {
        std::reverse(blocks.begin(), blocks.end());
    }
    Json txs = Json::array();
    Json receipts = Json::array();
    for (auto& [bt, br] : blocks) {
        for (size_t k = 0; k < bt.size(); ++k) {
            txs.push_back(std::move(bt[k]));
            receipts.push_back(std::move(br[k]));
        }
    }
    const bool newest = before ? (from == 0 || from > head) : !more;
    const bool oldest = before ? !more : from == 0;
    return Json{{"txs", std::move(txs)},
                {"receipts", std::move(receipts)},
                {"firstPage", newest},
                {"lastPage", oldest}};
}

/// The last successful CREATE or CREATE2 frame under `f` (itself included) that made `addr`.
const Frame* creating_frame(const Frame& f, const Address& addr) {
    const Frame* found = nullptr;
    if (f.is_create() && !f.failed() && f.to == addr) {
        found = &f;
    }
    for (const Frame& c : f.calls) {
        if (const Frame* inner = creating_frame(c, addr)) {
            found = inner;
        }
    }
    return found;
}

Result<Json, RpcError> contract_creator(const NodeApi& node, const Address& addr) {
    PEL_TRY(const Bytes code, api(node.code(addr, BlockSelector::latest())));
    if (code.empty()) {
        return Json(nullptr);
    }
    TraceOptions options;
    options.tracer = TraceOptions::Tracer::kCall;
    bool traceable = true;  // until a block's parent state is below the history window
    for (uint64_t n = node.head().number; n > 0; --n) {
        PEL_TRY(const BlockRecord block, require_block(node, BlockSelector::at(n)));
        if (block.transactions.empty()) {
            continue;
        }
        if (traceable) {
            auto traces = node.trace_block(BlockSelector::at(n), options);
            if (!traces && traces.error().kind == ApiErrorKind::kRejected) {
                traceable = false;  // historical state not available: top-level creations only
            } else {
                PEL_TRY(const auto t, api(std::move(traces)));
                const std::vector<TxTrace> none;
                const std::vector<TxTrace>& list = t ? *t : none;
                for (auto it = list.rbegin(); it != list.rend(); ++it) {
                    const auto* root = std::get_if<Frame>(&it->result);
                    const Frame* f = root != nullptr ? creating_frame(*root, addr) : nullptr;
                    if (f != nullptr) {
                        return Json{{"hash", q::hash(it->tx_hash)},
                                    {"creator", q::address(f->from)}};
                    }
                }
                continue;
            }
        }
        for (auto it = block.transactions.rbegin(); it != block.transactions.rend(); ++it) {
            if (it->txn.to) {
                continue;
            }
            PEL_TRY(const ReceiptRecord r, require_receipt(node, it->hash));
            if (r.status && r.contract_address == addr) {
                return Json{{"hash", q::hash(it->hash)}, {"creator", q::address(it->from)}};
            }
        }
    }
    return Json(nullptr);
}

}  // namespace

void register_ots_methods(Dispatcher& d, NodeApi& api_ref) {
    const NodeApi* const node = &api_ref;

    d.add("ots_getApiLevel", [](const Params& p) -> RpcResult {
        PEL_TRY_VOID(p.expect(0, 0));
        return Json(kOtsApiLevel);
    });
    d.add("erigon_getHeaderByNumber", [node](const Params& p) -> RpcResult {
        PEL_TRY_VOID(p.expect(1, 1));
        PEL_TRY(const BlockSelector s, block_selector(*node, p, 0, false));
        PEL_TRY(const auto block, api(node->block_by_number(s)));
        return block ? block_json(*block, false) : Json();
    });
    d.add("ots_hasCode", [node](const Params& p) -> RpcResult {
        PEL_TRY_VOID(p.expect(1, 2));
        PEL_TRY(const Address a, decode_param(p, 0, q::parse_address));
        PEL_TRY(const BlockSelector s, block_selector(*node, p, 1, true));
        PEL_TRY(const Bytes code, api(node->code(a, s)));
        return Json(!code.empty());
    });
    d.add("ots_traceTransaction", [node](const Params& p) -> RpcResult {
        PEL_TRY_VOID(p.expect(1, 1));
        PEL_TRY(const Hash32 h, decode_param(p, 0, q::parse_hash));
        PEL_TRY(const Frame root, frames_of(*node, h));
        Json out = Json::array();
        append_trace_entries(out, root, 0);
        return out;
    });
    d.add("ots_getInternalOperations", [node](const Params& p) -> RpcResult {
        PEL_TRY_VOID(p.expect(1, 1));
        PEL_TRY(const Hash32 h, decode_param(p, 0, q::parse_hash));
        PEL_TRY(const Frame root, frames_of(*node, h));
        Json out = Json::array();
        append_operations(out, root, true);
        return out;
    });
    d.add("ots_getTransactionError", [node](const Params& p) -> RpcResult {
        PEL_TRY_VOID(p.expect(1, 1));
        PEL_TRY(const Hash32 h, decode_param(p, 0, q::parse_hash));
        PEL_TRY(const Frame root, frames_of(*node, h));
        const bool reverted = root.status == vm::Status::kRevert;
        return Json(q::data(reverted ? ByteView(root.output) : ByteView{}));
    });
    d.add("ots_getBlockDetails", [node](const Params& p) -> RpcResult {
        PEL_TRY_VOID(p.expect(1, 1));
        std::optional<BlockSelector> s;
        if (p.at(0).is_number_unsigned()) {
            s = BlockSelector::at(p.at(0).get<uint64_t>());
        } else {
            PEL_TRY(s, block_selector(*node, p, 0, false));
        }
        PEL_TRY(const BlockRecord b, require_block(*node, *s));
        return block_details(*node, b);
    });
    d.add("ots_getBlockDetailsByHash", [node](const Params& p) -> RpcResult {
        PEL_TRY_VOID(p.expect(1, 1));
        PEL_TRY(const Hash32 h, decode_param(p, 0, q::parse_hash));
        PEL_TRY(const auto block, api(node->block_by_hash(h)));
        if (!block) {
            return rpc_error(kServerError, "block not found");
        }
        return block_details(*node, *block);
    });
    d.add("ots_getBlockTransactions", [node](const Params& p) -> RpcResult {
        PEL_TRY_VOID(p.expect(3, 3));
        PEL_TRY(const uint64_t number, number_param(p, 0));
        PEL_TRY(const uint64_t page, number_param(p, 1));
        PEL_TRY(const size_t page_size, page_size_param(p, 2));
        PEL_TRY(const BlockRecord b, require_block(*node, BlockSelector::at(number)));
        // Page 0 is the last page_size transactions, page 1 the page_size before them, ...
        const size_t count = b.transactions.size();
        const uint64_t skip = page > count / page_size ? count : page * page_size;
        const size_t end = count - static_cast<size_t>(skip);
        const size_t begin = end > page_size ? end - page_size : 0;
        Json full = ots_block_json(b, true);
        Json txs = Json::array();
        Json receipts = Json::array();
        for (size_t i = begin; i < end; ++i) {
            Json tx = std::move(full["transactions"][i]);
            // The 4-byte selector only: the list shows the method called.
            std::string& input = tx["input"].get_ref<std::string&>();
            input.resize(std::min<size_t>(input.size(), 10));
            txs.push_back(std::move(tx));
            PEL_TRY(const ReceiptRecord r, require_receipt(*node, b.transactions[i].hash));
            Json rj = receipt_json(r);
            rj["logs"] = nullptr;
            rj["logsBloom"] = nullptr;
            receipts.push_back(std::move(rj));
        }
        full["transactions"] = std::move(txs);
        return Json{{"fullblock", std::move(full)}, {"receipts", std::move(receipts)}};
    });
    const auto search_method = [node](bool before) {
        return [node, before](const Params& p) -> RpcResult {
            PEL_TRY_VOID(p.expect(3, 3));
            PEL_TRY(const Address a, decode_param(p, 0, q::parse_address));
            PEL_TRY(const uint64_t from, number_param(p, 1));
            PEL_TRY(const size_t page_size, page_size_param(p, 2));
            return search(*node, a, from, page_size, before);
        };
    };
    d.add("ots_searchTransactionsBefore", search_method(true));
    d.add("ots_searchTransactionsAfter", search_method(false));
    d.add("ots_getTransactionBySenderAndNonce", [node](const Params& p) -> RpcResult {
        PEL_TRY_VOID(p.expect(2, 2));
        PEL_TRY(const Address a, decode_param(p, 0, q::parse_address));
        PEL_TRY(const uint64_t nonce, number_param(p, 1));
        PEL_TRY(const uint64_t next, api(node->nonce(a, BlockSelector::latest())));
        if (nonce >= next) {
            return Json(nullptr);  // not sent, or not mined yet
        }
        for (uint64_t n = node->head().number; n > 0; --n) {
            PEL_TRY(const BlockRecord b, require_block(*node, BlockSelector::at(n)));
            for (const TxRecord& tx : b.transactions) {
                if (tx.from == a && tx.txn.nonce == nonce) {
                    return Json(q::hash(tx.hash));
                }
            }
        }
        return Json(nullptr);  // a nonce set by anvil_setNonce, not used by a transaction
    });
    d.add("ots_getContractCreator", [node](const Params& p) -> RpcResult {
        PEL_TRY_VOID(p.expect(1, 1));
        PEL_TRY(const Address a, decode_param(p, 0, q::parse_address));
        return contract_creator(*node, a);
    });
}

}  // namespace pel::node::rpc
