// SPDX-License-Identifier: Apache-2.0
#include "node/chain.hpp"

#include <cstring>
#include <string_view>

#include <nlohmann/json.hpp>

#include "primitives/keccak.hpp"
#include "primitives/rlp.hpp"
#include "primitives/sorted.hpp"

namespace pel::node {
namespace {

Bytes wrap_list(const Bytes& payload) {
    Bytes out;
    rlp::encode_list(out, payload);
    return out;
}

Result<Bloom> read_bloom(rlp::Decoder& d) {
    PEL_TRY(ByteView b, d.read_bytes());
    if (b.size() != 256) {
        return make_error("logsBloom: expected 256 bytes, got ", b.size());
    }
    Bloom out{};
    std::memcpy(out.data(), b.data(), 256);
    return out;
}

Bytes prefixed_key(char tag, ByteView rest) {
    Bytes k(2 + rest.size());
    k[0] = static_cast<uint8_t>('x');
    k[1] = static_cast<uint8_t>(tag);
    if (!rest.empty()) {
        std::memcpy(k.data() + 2, rest.data(), rest.size());
    }
    return k;
}

template <class T>
Result<T> field(Result<T> r, const char* name) {
    if (!r) {
        return make_error("header field '", name, "': ", r.error().message);
    }
    return r;
}

}  // namespace

Bytes encode_header(const BlockHeader& h) {
    Bytes p;
    rlp::encode_bytes(p, h.parent_hash.view());
    rlp::encode_bytes(p, h.ommers_hash.view());
    rlp::encode_bytes(p, h.coinbase.view());
    rlp::encode_bytes(p, h.state_root.view());
    rlp::encode_bytes(p, h.transactions_root.view());
    rlp::encode_bytes(p, h.receipts_root.view());
    rlp::encode_bytes(p, ByteView(h.logs_bloom.data(), h.logs_bloom.size()));
    rlp::encode_uint(p, h.difficulty);
    rlp::encode_uint(p, h.number);
    rlp::encode_uint(p, h.gas_limit);
    rlp::encode_uint(p, h.gas_used);
    rlp::encode_uint(p, h.timestamp);
    rlp::encode_bytes(p, h.extra_data);
    rlp::encode_bytes(p, h.mix_hash.view());
    std::array<uint8_t, 8> nonce{};
    for (size_t i = 0; i < 8; ++i) {
        nonce[i] = static_cast<uint8_t>(h.nonce >> (56 - 8 * i));
    }
    rlp::encode_bytes(p, ByteView(nonce.data(), nonce.size()));
    rlp::encode_uint(p, h.base_fee_per_gas);
    rlp::encode_bytes(p, h.withdrawals_root.view());
    rlp::encode_uint(p, h.blob_gas_used);
    rlp::encode_uint(p, h.excess_blob_gas);
    rlp::encode_bytes(p, h.parent_beacon_block_root.view());
    return wrap_list(p);
}

Result<BlockHeader> decode_header(ByteView rlp_bytes) {
    rlp::Decoder outer(rlp_bytes);
    PEL_TRY(rlp::Decoder d, outer.read_list());
    PEL_TRY_VOID(outer.expect_end());
    BlockHeader h;
    PEL_TRY(h.parent_hash, field(d.read_hash(), "parentHash"));
    PEL_TRY(h.ommers_hash, field(d.read_hash(), "ommersHash"));
    PEL_TRY(h.coinbase, field(d.read_address(), "coinbase"));
    PEL_TRY(h.state_root, field(d.read_hash(), "stateRoot"));
    PEL_TRY(h.transactions_root, field(d.read_hash(), "transactionsRoot"));
    PEL_TRY(h.receipts_root, field(d.read_hash(), "receiptsRoot"));
    PEL_TRY(h.logs_bloom, field(read_bloom(d), "logsBloom"));
    PEL_TRY(h.difficulty, field(d.read_u256(), "difficulty"));
    PEL_TRY(h.number, field(d.read_u64(), "number"));
    PEL_TRY(h.gas_limit, field(d.read_u64(), "gasLimit"));
    PEL_TRY(h.gas_used, field(d.read_u64(), "gasUsed"));
    PEL_TRY(h.timestamp, field(d.read_u64(), "timestamp"));
    PEL_TRY(ByteView extra, field(d.read_bytes(), "extraData"));
    h.extra_data.assign(extra.begin(), extra.end());
    PEL_TRY(h.mix_hash, field(d.read_hash(), "mixHash"));
    PEL_TRY(ByteView nonce, field(d.read_bytes(), "nonce"));
    if (nonce.size() != 8) {
        return make_error("header field 'nonce': expected 8 bytes");
    }
    h.nonce = 0;
    for (const uint8_t b : nonce) {
        h.nonce = (h.nonce << 8) | b;
    }
    PEL_TRY(h.base_fee_per_gas, field(d.read_u256(), "baseFeePerGas"));
    PEL_TRY(h.withdrawals_root, field(d.read_hash(), "withdrawalsRoot"));
    PEL_TRY(h.blob_gas_used, field(d.read_u64(), "blobGasUsed"));
    PEL_TRY(h.excess_blob_gas, field(d.read_u64(), "excessBlobGas"));
    PEL_TRY(h.parent_beacon_block_root, field(d.read_hash(), "parentBeaconBlockRoot"));
    PEL_TRY_VOID(d.expect_end());
    return h;
}

Hash32 header_hash(const BlockHeader& h) { return keccak256(encode_header(h)); }

U256 next_base_fee(const BlockHeader& parent) {
    const uint64_t target = parent.gas_limit / 2;
    if (target == 0 || parent.gas_used == target) {
        return parent.base_fee_per_gas;
    }
    if (parent.gas_used > target) {
        U256 delta =
            parent.base_fee_per_gas * U256(parent.gas_used - target) / U256(target) / U256(8);
        if (delta.is_zero()) {
            delta = 1;
        }
        return parent.base_fee_per_gas + delta;
    }
    const U256 delta =
        parent.base_fee_per_gas * U256(target - parent.gas_used) / U256(target) / U256(8);
    return parent.base_fee_per_gas - delta;
}

uint64_t next_excess_blob_gas(const BlockHeader& parent) {
    const uint64_t sum = parent.excess_blob_gas + parent.blob_gas_used;
    return sum < kTargetBlobGasPerBlock ? 0 : sum - kTargetBlobGasPerBlock;
}

namespace {

/// encode_receipt, or without the logsBloom field (encode_stored_receipt).
Bytes encode_receipt_fields(const StoredReceipt& r, bool with_bloom) {
    Bytes p;
    if (r.status) {
        rlp::encode_uint(p, uint64_t{1});
    } else {
        rlp::encode_bytes(p, {});
    }
    rlp::encode_uint(p, r.cumulative_gas_used);
    if (with_bloom) {
        rlp::encode_bytes(p, ByteView(r.bloom.data(), r.bloom.size()));
    }
    Bytes logs;
    for (const exec::Log& log : r.logs) {
        Bytes l;
        rlp::encode_bytes(l, log.address.view());
        Bytes topics;
        for (const Hash32& t : log.topics) {
            rlp::encode_bytes(topics, t.view());
        }
        rlp::encode_list(l, topics);
        rlp::encode_bytes(l, log.data);
        rlp::encode_list(logs, l);
    }
    rlp::encode_list(p, logs);
    Bytes out;
    if (r.type != TxnType::kLegacy) {
        out.push_back(static_cast<uint8_t>(r.type));
    }
    rlp::encode_list(out, p);
    return out;
}

}  // namespace

Bytes encode_receipt(const StoredReceipt& r) { return encode_receipt_fields(r, true); }

Bytes encode_stored_receipt(const StoredReceipt& r) { return encode_receipt_fields(r, false); }

Result<StoredReceipt> decode_stored_receipt(ByteView encoded) {
    StoredReceipt r;
    if (encoded.empty()) {
        return make_error("receipt: empty");
    }
    if (encoded[0] < 0x80) {
        // Typed receipts (EIP-2718) start with their type, 1 to 3; a legacy one has none.
        if (encoded[0] == 0 || encoded[0] > 3) {
            return make_error("receipt: unknown type ", encoded[0]);
        }
        r.type = static_cast<TxnType>(encoded[0]);
        encoded = encoded.subspan(1);
    }
    rlp::Decoder outer(encoded);
    PEL_TRY(rlp::Decoder d, outer.read_list());
    PEL_TRY_VOID(outer.expect_end());
    PEL_TRY(ByteView status, d.read_bytes());
    if (status.size() > 1 || (status.size() == 1 && status[0] != 1)) {
        return make_error("receipt: bad status");
    }
    r.status = status.size() == 1;
    PEL_TRY(r.cumulative_gas_used, d.read_u64());
    PEL_TRY(rlp::Decoder logs, d.read_list());
    while (!logs.at_end()) {
        PEL_TRY(rlp::Decoder l, logs.read_list());
        exec::Log log;
        PEL_TRY(log.address, l.read_address());
        PEL_TRY(rlp::Decoder topics, l.read_list());
        while (!topics.at_end()) {
            PEL_TRY(Hash32 t, topics.read_hash());
            log.topics.push_back(t);
        }
        PEL_TRY(ByteView data, l.read_bytes());
        log.data.assign(data.begin(), data.end());
        PEL_TRY_VOID(l.expect_end());
        r.logs.push_back(std::move(log));
    }
    PEL_TRY_VOID(d.expect_end());
    r.bloom = exec::logs_bloom(r.logs);
    return r;
}

Bytes encode_body(const StoredBody& b) {
    Bytes senders;
    for (const Address& a : b.senders) {
        rlp::encode_bytes(senders, a.view());
    }
    Bytes p;
    rlp::encode_bytes_list(p, b.txns);
    rlp::encode_list(p, senders);
    return wrap_list(p);
}

Result<StoredBody> decode_body(ByteView rlp_bytes) {
    rlp::Decoder outer(rlp_bytes);
    PEL_TRY(rlp::Decoder d, outer.read_list());
    PEL_TRY_VOID(outer.expect_end());
    PEL_TRY(rlp::Decoder txs, d.read_list());
    PEL_TRY(rlp::Decoder senders, d.read_list());
    PEL_TRY_VOID(d.expect_end());
    StoredBody b;
    while (!txs.at_end()) {
        PEL_TRY(ByteView t, txs.read_bytes());
        b.txns.emplace_back(t.begin(), t.end());
    }
    while (!senders.at_end()) {
        PEL_TRY(Address a, senders.read_address());
        b.senders.push_back(a);
    }
    if (b.txns.size() != b.senders.size()) {
        return make_error("body: ", b.txns.size(), " transactions but ", b.senders.size(),
                          " senders");
    }
    return b;
}

Bytes encode_receipt_list(std::span<const Bytes> receipts) {
    Bytes out;
    rlp::encode_bytes_list(out, receipts);
    return out;
}

Result<std::vector<Bytes>> decode_receipt_list(ByteView rlp_bytes) {
    return rlp::decode_bytes_list(rlp_bytes);
}

uint64_t block_size(ByteView header_rlp, std::span<const Bytes> txns) {
    size_t txs_payload = 0;
    for (const Bytes& t : txns) {
        // Legacy transactions are RLP lists and sit in the body as they are; typed ones are byte
        // strings (EIP-2718).
        const bool legacy = !t.empty() && t[0] >= 0xc0;
        txs_payload += legacy ? t.size() : rlp::header_size(t.size()) + t.size();
    }
    const size_t payload = header_rlp.size() + rlp::header_size(txs_payload) + txs_payload + 2;
    return rlp::header_size(payload) + payload;
}

std::string encode_conflict_report(const BlockConflictReport& r) {
    nlohmann::json j;
    j["n"] = r.block_number;
    j["h"] = r.block_hash.to_hex();
    j["txs"] = r.txs;
    j["gas"] = r.gas_used;
    j["ex"] = r.executions;
    j["rex"] = r.re_executions;
    j["val"] = r.validations;
    j["ab"] = r.aborts;
    j["dw"] = r.dependency_waits;
    j["fb"] = r.fallback;
    j["fbf"] = r.fallback_from;
    j["ems"] = r.execution_ms;
    j["cms"] = r.commit_ms;
    j["thr"] = r.threads;
    nlohmann::json top = nlohmann::json::array();
    for (const ConflictLocation& c : r.top_conflicts) {
        nlohmann::json e;
        e["a"] = c.address.to_hex();
        if (c.slot) {
            e["s"] = c.slot->to_hex();
        }
        e["c"] = c.count;
        top.push_back(std::move(e));
    }
    j["top"] = std::move(top);
    return j.dump();
}

Result<BlockConflictReport> decode_conflict_report(ByteView text) {
    const auto j = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        return make_error("conflict report: not JSON");
    }
    // Counters are written as unsigned integers: anything else is a damaged record (a double
    // out of uint64_t's range would not even convert defined, found by pel_block_fuzz).
    const auto u64 = [](const nlohmann::json& o, const char* key) -> Result<uint64_t> {
        const auto it = o.find(key);
        if (it == o.end() || !it->is_number_unsigned()) {
            return make_error("conflict report: '", key, "' is not an unsigned integer");
        }
        return it->get<uint64_t>();
    };
    try {
        BlockConflictReport r;
        PEL_TRY(r.block_number, u64(j, "n"));
        PEL_TRY(r.block_hash, Hash32::from_hex(j.at("h").get<std::string>()));
        PEL_TRY(r.txs, u64(j, "txs"));
        PEL_TRY(r.gas_used, u64(j, "gas"));
        PEL_TRY(r.executions, u64(j, "ex"));
        PEL_TRY(r.re_executions, u64(j, "rex"));
        PEL_TRY(r.validations, u64(j, "val"));
        PEL_TRY(r.aborts, u64(j, "ab"));
        PEL_TRY(r.dependency_waits, u64(j, "dw"));
        r.fallback = j.at("fb").get<std::string>();
        PEL_TRY(r.fallback_from, u64(j, "fbf"));
        r.execution_ms = j.at("ems").get<double>();
        r.commit_ms = j.at("cms").get<double>();
        PEL_TRY(r.threads, u64(j, "thr"));
        for (const auto& e : j.at("top")) {
            if (!e.is_object()) {
                return make_error("conflict report: a top conflict is not an object");
            }
            ConflictLocation c;
            PEL_TRY(c.address, Address::from_hex(e.at("a").get<std::string>()));
            if (e.contains("s")) {
                PEL_TRY(U256 s, U256::from_hex(e.at("s").get<std::string>()));
                c.slot = s;
            }
            PEL_TRY(c.count, u64(e, "c"));
            r.top_conflicts.push_back(c);
        }
        return r;
    } catch (const std::exception& e) {
        return make_error("conflict report: ", e.what());
    }
}

Bytes encode_block(ByteView header_rlp, std::span<const Bytes> raw_txns) {
    Bytes p(header_rlp.begin(), header_rlp.end());
    rlp::encode_bytes_list(p, raw_txns);
    return wrap_list(p);
}

Result<DecodedBlock> decode_block(ByteView payload) {
    rlp::Decoder outer(payload);
    auto d = outer.read_list();
    if (!d) {
        return make_error("block: not an RLP list: ", d.error().message);
    }
    if (auto e = outer.expect_end(); !e) {
        return make_error("block: trailing bytes after the block");
    }
    auto header_raw = d->read_raw_item();
    if (!header_raw) {
        return make_error("block: header: ", header_raw.error().message);
    }
    DecodedBlock b;
    auto header = decode_header(*header_raw);
    if (!header) {
        return make_error("block: header: ", header.error().message);
    }
    b.header = std::move(*header);
    b.header_rlp.assign(header_raw->begin(), header_raw->end());
    if (encode_header(b.header) != b.header_rlp) {
        return make_error("block: header: not canonically encoded");
    }
    auto txs = d->read_list();
    if (!txs) {
        return make_error("block: transaction list: ", txs.error().message);
    }
    if (auto e = d->expect_end(); !e) {
        return make_error("block: expected 2 items (header, transactions), got more");
    }
    for (size_t i = 0; !txs->at_end(); ++i) {
        auto raw = txs->read_bytes();
        if (!raw) {
            return make_error("block: transaction ", i, ": ", raw.error().message);
        }
        auto txn = decode_transaction(*raw);
        if (!txn) {
            return make_error("block: transaction ", i, ": ", txn.error().message);
        }
        if (encode_transaction(*txn) != Bytes(raw->begin(), raw->end())) {
            return make_error("block: transaction ", i, ": not canonically encoded");
        }
        b.raw_txns.emplace_back(raw->begin(), raw->end());
        b.txns.push_back(std::move(*txn));
    }
    return b;
}

Bytes encode_u64_be(uint64_t v) {
    Bytes b(8);
    for (size_t i = 0; i < 8; ++i) {
        b[i] = static_cast<uint8_t>(v >> (56 - 8 * i));
    }
    return b;
}

Result<uint64_t> decode_u64_be(ByteView b) {
    if (b.size() != 8) {
        return make_error("expected an 8-byte number, got ", b.size(), " bytes");
    }
    uint64_t v = 0;
    for (const uint8_t x : b) {
        v = (v << 8) | x;
    }
    return v;
}

// --- old values ("xo" records) ------------------------------------------------------------------

namespace {

void encode_slots(Bytes& out, const std::unordered_map<U256, U256>& slots) {
    Bytes list;
    for (const auto* e : entries_by_key(slots)) {
        Bytes pair;
        rlp::encode_uint(pair, e->first);
        rlp::encode_uint(pair, e->second);
        rlp::encode_list(list, pair);
    }
    rlp::encode_list(out, list);
}

/// Canonical lists hold their keys in strictly ascending order (so that a value has one
/// encoding): `key` must come after `last`, which it then becomes.
template <class K>
Result<void> next_key(std::optional<K>& last, const K& key, std::string_view what) {
    if (last && !(*last < key)) {
        return make_error(what, key.to_hex(), " out of order");
    }
    last = key;
    return {};
}

Result<std::unordered_map<U256, U256>> decode_slots(rlp::Decoder& d) {
    PEL_TRY(rlp::Decoder list, d.read_list());
    std::unordered_map<U256, U256> out;
    std::optional<U256> last;
    while (!list.at_end()) {
        PEL_TRY(rlp::Decoder pair, list.read_list());
        PEL_TRY(const U256 slot, pair.read_u256());
        PEL_TRY(const U256 value, pair.read_u256());
        PEL_TRY_VOID(pair.expect_end());
        PEL_TRY_VOID(next_key(last, slot, "slot "));
        out.emplace(slot, value);
    }
    return out;
}

/// An optional item: an empty list when unset, else a list of the item's fields.
template <class F>
void encode_optional(Bytes& out, bool set, F&& fields) {
    Bytes payload;
    if (set) {
        fields(payload);
    }
    rlp::encode_list(out, payload);
}

void encode_dev_changes(Bytes& out, const state::StateDiff& diff) {
    Bytes list;
    for (const auto* e : entries_by_key(diff.accounts)) {
        const state::AccountDiff& d = e->second;
        Bytes item;
        rlp::encode_bytes(item, e->first.view());
        rlp::encode_uint(item, uint64_t{d.deleted ? 1U : 0U} | (d.storage_cleared ? 2U : 0U));
        encode_optional(item, d.nonce.has_value(),
                        [&](Bytes& p) { rlp::encode_uint(p, *d.nonce); });
        encode_optional(item, d.balance.has_value(),
                        [&](Bytes& p) { rlp::encode_uint(p, *d.balance); });
        encode_optional(item, d.code.has_value(), [&](Bytes& p) {
            rlp::encode_bytes(p, d.code->hash.view());
            rlp::encode_bytes(p, d.code->bytes);
        });
        encode_slots(item, d.storage);
        rlp::encode_list(list, item);
    }
    rlp::encode_list(out, list);
}

Result<state::StateDiff> decode_dev_changes(rlp::Decoder& d) {
    PEL_TRY(rlp::Decoder list, d.read_list());
    state::StateDiff diff;
    std::optional<Address> last;
    while (!list.at_end()) {
        PEL_TRY(rlp::Decoder item, list.read_list());
        PEL_TRY(const Address addr, item.read_address());
        PEL_TRY_VOID(next_key(last, addr, "dev change of "));
        state::AccountDiff a;
        PEL_TRY(const uint64_t flags, item.read_u64());
        if (flags > 3) {
            return make_error("dev change of ", addr.to_hex(), ": unknown flags ", flags);
        }
        a.deleted = (flags & 1U) != 0;
        a.storage_cleared = (flags & 2U) != 0;
        PEL_TRY(rlp::Decoder nonce, item.read_list());
        if (!nonce.at_end()) {
            PEL_TRY(a.nonce, nonce.read_u64());
            PEL_TRY_VOID(nonce.expect_end());
        }
        PEL_TRY(rlp::Decoder balance, item.read_list());
        if (!balance.at_end()) {
            PEL_TRY(a.balance, balance.read_u256());
            PEL_TRY_VOID(balance.expect_end());
        }
        PEL_TRY(rlp::Decoder code, item.read_list());
        if (!code.at_end()) {
            state::CodeChange c;
            PEL_TRY(c.hash, code.read_hash());
            PEL_TRY(const ByteView bytes, code.read_bytes());
            PEL_TRY_VOID(code.expect_end());
            c.bytes.assign(bytes.begin(), bytes.end());
            a.code = std::move(c);
        }
        PEL_TRY(a.storage, decode_slots(item));
        PEL_TRY_VOID(item.expect_end());
        diff.accounts.emplace(addr, std::move(a));
    }
    return diff;
}

}  // namespace

Bytes encode_old_values(const OldValues& v) {
    Bytes accounts;
    for (const auto* e : entries_by_key(v.accounts)) {
        const OldAccount& o = e->second;
        Bytes item;
        rlp::encode_bytes(item, e->first.view());
        if (o.account) {
            state::encode_account(item, *o.account);
        } else {
            rlp::encode_bytes(item, {});
        }
        rlp::encode_uint(item, uint64_t{o.wiped ? 1U : 0U});
        encode_slots(item, o.slots);
        rlp::encode_list(accounts, item);
    }
    Bytes payload;
    rlp::encode_list(payload, accounts);
    if (v.dev_changes) {
        encode_dev_changes(payload, *v.dev_changes);
    } else {
        rlp::encode_bytes(payload, {});
    }
    return wrap_list(payload);
}

Result<OldValues> decode_old_values(ByteView rlp_bytes) {
    rlp::Decoder outer(rlp_bytes);
    PEL_TRY(rlp::Decoder d, outer.read_list());
    PEL_TRY_VOID(outer.expect_end());
    OldValues out;
    PEL_TRY(rlp::Decoder accounts, d.read_list());
    std::optional<Address> last;
    while (!accounts.at_end()) {
        PEL_TRY(rlp::Decoder item, accounts.read_list());
        PEL_TRY(const Address addr, item.read_address());
        PEL_TRY_VOID(next_key(last, addr, "old values: account "));
        OldAccount o;
        PEL_TRY(const rlp::Header h, item.peek_header());
        if (h.is_list) {
            PEL_TRY(const ByteView raw, item.read_raw_item());
            auto acc = state::decode_account(raw);
            if (!acc) {
                return make_error("old values: account ", addr.to_hex(), ": ", acc.error().message);
            }
            o.account = *acc;
        } else {
            PEL_TRY(const ByteView none, item.read_bytes());
            if (!none.empty()) {
                return make_error("old values: account ", addr.to_hex(),
                                  ": expected an account list or an empty string");
            }
        }
        PEL_TRY(const uint64_t wiped, item.read_u64());
        if (wiped > 1) {
            return make_error("old values: account ", addr.to_hex(), ": wiped flag ", wiped);
        }
        o.wiped = wiped == 1;
        auto slots = decode_slots(item);
        if (!slots) {
            return make_error("old values: account ", addr.to_hex(), ": ", slots.error().message);
        }
        o.slots = std::move(*slots);
        PEL_TRY_VOID(item.expect_end());
        out.accounts.emplace(addr, std::move(o));
    }
    PEL_TRY(const rlp::Header h, d.peek_header());
    if (h.is_list) {
        auto dev = decode_dev_changes(d);
        if (!dev) {
            return make_error("old values: ", dev.error().message);
        }
        out.dev_changes = std::make_shared<const state::StateDiff>(std::move(*dev));
    } else {
        PEL_TRY(const ByteView none, d.read_bytes());
        if (!none.empty()) {
            return make_error("old values: expected dev changes or an empty string");
        }
    }
    PEL_TRY_VOID(d.expect_end());
    return out;
}

namespace keys {
Bytes header(uint64_t num) { return prefixed_key('h', encode_u64_be(num)); }
Bytes hash_index(const Hash32& hash) { return prefixed_key('n', hash.view()); }
Bytes certificate(uint64_t num) { return prefixed_key('q', encode_u64_be(num)); }
Bytes body(uint64_t num) { return prefixed_key('b', encode_u64_be(num)); }
Bytes receipts(uint64_t num) { return prefixed_key('r', encode_u64_be(num)); }
Bytes txn(const Hash32& hash) { return prefixed_key('t', hash.view()); }
Bytes conflicts(uint64_t num) { return prefixed_key('c', encode_u64_be(num)); }
Bytes old_values(uint64_t num) { return prefixed_key('o', encode_u64_be(num)); }
Bytes old_values_prefix() { return prefixed_key('o', {}); }
Bytes identity() { return prefixed_key('g', {}); }
}  // namespace keys

}  // namespace pel::node
