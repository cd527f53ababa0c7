// SPDX-License-Identifier: Apache-2.0
// Transaction codec. Field orders follow the EIPs:
//   legacy     rlp([nonce, gasPrice, gasLimit, to, value, data, v, r, s])
//   EIP-2930   0x01 || rlp([chainId, nonce, gasPrice, gasLimit, to, value, data, accessList,
//                           yParity, r, s])
//   EIP-1559   0x02 || rlp([chainId, nonce, maxPriorityFeePerGas, maxFeePerGas, gasLimit, to,
//                           value, data, accessList, yParity, r, s])
//   EIP-4844   0x03 || rlp([chainId, nonce, maxPriorityFeePerGas, maxFeePerGas, gasLimit, to,
//                           value, data, accessList, maxFeePerBlobGas, blobVersionedHashes,
//                           yParity, r, s])
//   EIP-4844 network form (pool and eth_sendRawTransaction only):
//              0x03 || rlp([[the canonical fields above], blobs, commitments, proofs])
// Decoding is strict so that encode(decode(x)) == x for every accepted x: the RLP layer rejects
// non-canonical items, and this layer rejects missing or extra list items and trailing bytes.
#include "primitives/transaction.hpp"

#include <algorithm>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "primitives/keccak.hpp"
#include "primitives/rlp.hpp"

namespace pel {
namespace {

// Prefixes an RLP error with the field it happened in.
template <class T>
Result<T> in_field(Result<T> r, std::string_view name) {
    if (!r.has_value()) {
        return make_error("txn: field '", name, "': ", r.error().message);
    }
    return r;
}

// Reads the items of one transaction's field list, one named field at a time.
class FieldReader {
  public:
    explicit FieldReader(rlp::Decoder d) noexcept : d_(d) {}

    Result<uint64_t> u64(std::string_view name) {
        PEL_TRY_VOID(present(name));
        return in_field(d_.read_u64(), name);
    }
    Result<U256> u256(std::string_view name) {
        PEL_TRY_VOID(present(name));
        return in_field(d_.read_u256(), name);
    }
    Result<ByteView> bytes(std::string_view name) {
        PEL_TRY_VOID(present(name));
        return in_field(d_.read_bytes(), name);
    }
    Result<rlp::Decoder> list(std::string_view name) {
        PEL_TRY_VOID(present(name));
        return in_field(d_.read_list(), name);
    }
    /// EIP-2718 typed transactions carry the parity itself, which must be 0 or 1.
    Result<uint8_t> y_parity() {
        PEL_TRY(const uint64_t v, u64("y_parity"));
        if (v > 1) {
            return make_error("txn: field 'y_parity': must be 0 or 1, got ", v);
        }
        return static_cast<uint8_t>(v);
    }
    /// Empty string: contract creation; otherwise exactly 20 bytes.
    Result<std::optional<Address>> to() {
        PEL_TRY(const ByteView b, bytes("to"));
        if (b.empty()) {
            return std::optional<Address>{};
        }
        if (b.size() != Address::kSize) {
            return make_error("txn: field 'to': expected 0 or 20 bytes, got ", b.size());
        }
        Address a;
        std::copy(b.begin(), b.end(), a.bytes.begin());
        return std::optional<Address>{a};
    }
    Result<AccessList> access_list() {
        PEL_TRY(rlp::Decoder entries, list("access_list"));
        AccessList out;
        while (!entries.at_end()) {
            const size_t idx = out.size();
            auto entry = entries.read_list();
            if (!entry) {
                return entry_error(idx, entry.error());
            }
            AccessListEntry e;
            auto addr = entry->read_address();
            if (!addr) {
                return entry_error(idx, addr.error());
            }
            e.address = *addr;
            auto keys = entry->read_list();
            if (!keys) {
                return entry_error(idx, keys.error());
            }
            while (!keys->at_end()) {
                auto key = keys->read_hash();
                if (!key) {
                    return entry_error(idx, key.error());
                }
                e.storage_keys.push_back(*key);
            }
            if (auto end = entry->expect_end(); !end) {
                return entry_error(idx, end.error());
            }
            out.push_back(std::move(e));
        }
        return out;
    }
    Result<std::vector<Hash32>> hashes(std::string_view name) {
        PEL_TRY(rlp::Decoder items, list(name));
        std::vector<Hash32> out;
        while (!items.at_end()) {
            PEL_TRY(const Hash32 h, in_field(items.read_hash(), name));
            out.push_back(h);
        }
        return out;
    }
    /// Every item of the field list must have been read.
    Result<void> finish() const {
        if (!d_.at_end()) {
            return make_error("txn: too many fields: extra item at offset ", d_.offset());
        }
        return {};
    }

  private:
    Result<void> present(std::string_view name) const {
        if (d_.at_end()) {
            return make_error("txn: field '", name, "': missing (the list ends at offset ",
                              d_.offset(), ")");
        }
        return {};
    }
    static Unexpected<Error> entry_error(size_t idx, const Error& e) {
        return make_error("txn: field 'access_list': entry ", idx, ": ", e.message);
    }

    rlp::Decoder d_;
};

Result<Transaction> decode_legacy(rlp::Decoder list) {
    FieldReader f(list);
    Transaction t;
    t.type = TxnType::kLegacy;
    PEL_TRY(t.nonce, f.u64("nonce"));
    PEL_TRY(t.max_fee_per_gas, f.u256("gas_price"));
    t.max_priority_fee_per_gas = t.max_fee_per_gas;
    PEL_TRY(t.gas_limit, f.u64("gas_limit"));
    PEL_TRY(t.to, f.to());
    PEL_TRY(t.value, f.u256("value"));
    PEL_TRY(const ByteView data, f.bytes("data"));
    t.data.assign(data.begin(), data.end());
    PEL_TRY(const U256 v, f.u256("v"));
    if (v == 27 || v == 28) {
        t.signature.y_parity = static_cast<uint8_t>(v.low64() - 27);
    } else if (v >= 35) {
        // EIP-155: v = chain_id * 2 + 35 + y_parity.
        const U256 rest = v - 35;
        const U256 chain_id = rest >> 1;
        if (!chain_id.fits_u64()) {
            return make_error("txn: field 'v': EIP-155 chain id does not fit 64 bits");
        }
        t.chain_id = chain_id.low64();
        t.signature.y_parity = static_cast<uint8_t>(rest.low64() & 1);
    } else {
        return make_error("txn: field 'v': invalid legacy v ", v.low64(),
                          " (expected 27, 28 or chain_id * 2 + 35 + y_parity)");
    }
    PEL_TRY(t.signature.r, f.u256("r"));
    PEL_TRY(t.signature.s, f.u256("s"));
    PEL_TRY_VOID(f.finish());
    return t;
}

Result<Transaction> decode_typed(TxnType type, rlp::Decoder list) {
    FieldReader f(list);
    Transaction t;
    t.type = type;
    PEL_TRY(t.chain_id, f.u64("chain_id"));
    PEL_TRY(t.nonce, f.u64("nonce"));
    if (type == TxnType::kAccessList) {
        PEL_TRY(t.max_fee_per_gas, f.u256("gas_price"));
        t.max_priority_fee_per_gas = t.max_fee_per_gas;
    } else {
        PEL_TRY(t.max_priority_fee_per_gas, f.u256("max_priority_fee_per_gas"));
        PEL_TRY(t.max_fee_per_gas, f.u256("max_fee_per_gas"));
    }
    PEL_TRY(t.gas_limit, f.u64("gas_limit"));
    PEL_TRY(t.to, f.to());
    if (type == TxnType::kBlob && !t.to.has_value()) {
        return make_error(
            "txn: field 'to': a blob transaction cannot create a contract (EIP-4844)");
    }
    PEL_TRY(t.value, f.u256("value"));
    PEL_TRY(const ByteView data, f.bytes("data"));
    t.data.assign(data.begin(), data.end());
    PEL_TRY(t.access_list, f.access_list());
    if (type == TxnType::kBlob) {
        PEL_TRY(t.max_fee_per_blob_gas, f.u256("max_fee_per_blob_gas"));
        PEL_TRY(t.blob_versioned_hashes, f.hashes("blob_versioned_hashes"));
    }
    PEL_TRY(t.signature.y_parity, f.y_parity());
    PEL_TRY(t.signature.r, f.u256("r"));
    PEL_TRY(t.signature.s, f.u256("s"));
    PEL_TRY_VOID(f.finish());
    return t;
}

void encode_to(Bytes& out, const std::optional<Address>& to) {
    if (to.has_value()) {
        rlp::encode_bytes(out, to->view());
    } else {
        rlp::encode_bytes(out, {});
    }
}

void encode_access_list(Bytes& out, const AccessList& list) {
    Bytes entries;
    Bytes entry;
    Bytes keys;
    for (const AccessListEntry& e : list) {
        keys.clear();
        for (const Hash32& k : e.storage_keys) {
            rlp::encode_bytes(keys, k.view());
        }
        entry.clear();
        rlp::encode_bytes(entry, e.address.view());
        rlp::encode_list(entry, keys);
        rlp::encode_list(entries, entry);
    }
    rlp::encode_list(out, entries);
}

// The fields every type shares, from `nonce` (or `chain_id`) through `data`/`access_list`; the
// signature fields are left to the caller. This is also the unsigned payload that is hashed.
void encode_unsigned_fields(Bytes& out, const Transaction& t) {
    if (t.type != TxnType::kLegacy) {
        rlp::encode_uint(out, t.chain_id.value_or(0));
    }
    rlp::encode_uint(out, t.nonce);
    if (t.type == TxnType::kDynamicFee || t.type == TxnType::kBlob) {
        rlp::encode_uint(out, t.max_priority_fee_per_gas);
    }
    rlp::encode_uint(out, t.max_fee_per_gas);
    rlp::encode_uint(out, t.gas_limit);
    encode_to(out, t.to);
    rlp::encode_uint(out, t.value);
    rlp::encode_bytes(out, t.data);
    if (t.type != TxnType::kLegacy) {
        encode_access_list(out, t.access_list);
    }
    if (t.type == TxnType::kBlob) {
        rlp::encode_uint(out, t.max_fee_per_blob_gas);
        Bytes hashes;
        for (const Hash32& h : t.blob_versioned_hashes) {
            rlp::encode_bytes(hashes, h.view());
        }
        rlp::encode_list(out, hashes);
    }
}

Bytes wrap_payload(TxnType type, const Bytes& payload) {
    Bytes out;
    out.reserve(1 + rlp::header_size(payload.size()) + payload.size());
    if (type != TxnType::kLegacy) {
        out.push_back(static_cast<uint8_t>(type));
    }
    rlp::encode_list(out, payload);
    return out;
}

}  // namespace

Result<Transaction> decode_transaction(ByteView encoded) {
    if (encoded.empty()) {
        return make_error("txn: empty input");
    }
    const uint8_t first = encoded[0];
    if (first >= 0xc0) {
        rlp::Decoder outer(encoded);
        auto list = outer.read_list();
        if (!list) {
            return make_error("txn: legacy: ", list.error().message);
        }
        if (auto end = outer.expect_end(); !end) {
            return make_error("txn: ", end.error().message);
        }
        return decode_legacy(*list);
    }
    if (first >= 0x80) {
        return make_error("txn: first byte 0x", to_hex(encoded.first(1), false),
                          " is neither a type byte (0x00-0x7f) nor an RLP list");
    }
    if (first != static_cast<uint8_t>(TxnType::kAccessList) &&
        first != static_cast<uint8_t>(TxnType::kDynamicFee) &&
        first != static_cast<uint8_t>(TxnType::kBlob)) {
        return make_error("txn: unsupported transaction type 0x", to_hex(encoded.first(1), false));
    }
    const auto type = static_cast<TxnType>(first);
    rlp::Decoder outer(encoded.subspan(1), 1);
    if (outer.at_end()) {
        return make_error("txn: typed transaction has no payload");
    }
    auto list = outer.read_list();
    if (!list) {
        return make_error("txn: type ", static_cast<unsigned>(first), ": ", list.error().message);
    }
    if (auto end = outer.expect_end(); !end) {
        return make_error("txn: ", end.error().message);
    }
    return decode_typed(type, *list);
}

bool is_blob_network_form(ByteView encoded) noexcept {
    if (encoded.empty() || encoded[0] != static_cast<uint8_t>(TxnType::kBlob)) {
        return false;
    }
    rlp::Decoder outer(encoded.subspan(1), 1);
    auto list = outer.read_list();
    if (!list) {
        return false;
    }
    auto first = list->peek_header();
    return first && first->is_list;
}

Result<PooledBlobTransaction> decode_blob_network_form(ByteView encoded) {
    if (encoded.empty() || encoded[0] != static_cast<uint8_t>(TxnType::kBlob)) {
        return make_error("blob txn: not a blob transaction (type 3)");
    }
    rlp::Decoder outer(encoded.subspan(1), 1);
    auto list = outer.read_list();
    if (!list) {
        return make_error("blob txn: ", list.error().message);
    }
    if (auto end = outer.expect_end(); !end) {
        return make_error("blob txn: ", end.error().message);
    }
    PooledBlobTransaction out;
    auto body = list->read_raw_item();
    if (!body) {
        return make_error("blob txn: tx_payload_body: ", body.error().message);
    }
    if (body->empty() || (*body)[0] < 0xc0) {
        return make_error("blob txn: tx_payload_body is not a list");
    }
    out.canonical.reserve(1 + body->size());
    out.canonical.push_back(static_cast<uint8_t>(TxnType::kBlob));
    out.canonical.insert(out.canonical.end(), body->begin(), body->end());
    auto txn = decode_transaction(out.canonical);
    if (!txn) {
        return unexpected(std::move(txn.error()));
    }
    out.txn = std::move(*txn);
    const auto items = [&](std::string_view name, size_t size,
                           std::vector<ByteView>& to) -> Result<void> {
        if (list->at_end()) {
            return make_error("blob txn: '", name, "': missing");
        }
        auto l = list->read_list();
        if (!l) {
            return make_error("blob txn: '", name, "': ", l.error().message);
        }
        while (!l->at_end()) {
            auto b = l->read_bytes();
            if (!b) {
                return make_error("blob txn: '", name, "' item ", to.size(), ": ",
                                  b.error().message);
            }
            if (b->size() != size) {
                return make_error("blob txn: '", name, "' item ", to.size(), ": ", b->size(),
                                  " bytes, expected ", size);
            }
            to.push_back(*b);
        }
        return {};
    };
    PEL_TRY_VOID(items("blobs", kBlobBytes, out.blobs));
    PEL_TRY_VOID(items("commitments", kKzgBytes, out.commitments));
    PEL_TRY_VOID(items("proofs", kKzgBytes, out.proofs));
    if (!list->at_end()) {
        return make_error("blob txn: extra item at offset ", list->offset(),
                          " (expected [tx_payload_body, blobs, commitments, proofs])");
    }
    return out;
}

Bytes encode_blob_network_form(const Transaction& txn, std::span<const ByteView> blobs,
                               std::span<const ByteView> commitments,
                               std::span<const ByteView> proofs) {
    const Bytes canonical = encode_transaction(txn);
    Bytes payload(canonical.begin() + 1, canonical.end());  // the field list, type byte dropped
    const auto add = [&](std::span<const ByteView> parts) {
        Bytes l;
        for (const ByteView p : parts) rlp::encode_bytes(l, p);
        rlp::encode_list(payload, l);
    };
    add(blobs);
    add(commitments);
    add(proofs);
    Bytes out{static_cast<uint8_t>(TxnType::kBlob)};
    rlp::encode_list(out, payload);
    return out;
}

Bytes encode_transaction(const Transaction& txn) {
    Bytes payload;
    payload.reserve(128 + txn.data.size());
    encode_unsigned_fields(payload, txn);
    if (txn.type == TxnType::kLegacy) {
        if (txn.chain_id.has_value()) {
            rlp::encode_uint(payload, U256{*txn.chain_id} * 2 + 35 + txn.signature.y_parity);
        } else {
            rlp::encode_uint(payload, uint64_t{27} + txn.signature.y_parity);
        }
    } else {
        rlp::encode_uint(payload, uint64_t{txn.signature.y_parity});
    }
    rlp::encode_uint(payload, txn.signature.r);
    rlp::encode_uint(payload, txn.signature.s);
    return wrap_payload(txn.type, payload);
}

Bytes signing_payload(const Transaction& txn) {
    Bytes payload;
    payload.reserve(128 + txn.data.size());
    encode_unsigned_fields(payload, txn);
    if (txn.type == TxnType::kLegacy && txn.chain_id.has_value()) {
        // EIP-155: the chain id and two empty values stand in for v, r, s.
        rlp::encode_uint(payload, *txn.chain_id);
        rlp::encode_uint(payload, uint64_t{0});
        rlp::encode_uint(payload, uint64_t{0});
    }
    return wrap_payload(txn.type, payload);
}

Hash32 signing_hash(const Transaction& txn) { return keccak256(signing_payload(txn)); }

Hash32 transaction_hash(const Transaction& txn) { return keccak256(encode_transaction(txn)); }

Result<Address> recover_sender(const Transaction& txn) {
    return crypto::recover_address(signing_hash(txn), txn.signature, /*require_low_s=*/true);
}

std::vector<Result<Address>> recover_sender_many(std::span<const Transaction* const> txns) {
    const size_t n = txns.size();
    std::vector<Bytes> payloads;
    payloads.reserve(n);
    for (const Transaction* t : txns) payloads.push_back(signing_payload(*t));
    std::vector<ByteView> in(payloads.begin(), payloads.end());
    std::vector<Hash32> digests(n);
    keccak256_many(in, digests);
    // The recoveries one after the other (libsecp256k1's tables stay in this core's caches),
    // then the public keys hashed together.
    std::vector<Result<crypto::PublicKey>> keys;
    keys.reserve(n);
    for (size_t i = 0; i < n; ++i) {
        keys.push_back(
            crypto::recover_public_key(digests[i], txns[i]->signature, /*require_low_s=*/true));
    }
    in.clear();
    for (const auto& k : keys) {
        if (k) in.emplace_back(k->data(), k->size());
    }
    keccak256_many(in, std::span<Hash32>(digests.data(), in.size()));
    std::vector<Result<Address>> out;
    out.reserve(n);
    size_t next = 0;
    for (auto& k : keys) {
        if (k) {
            out.emplace_back(crypto::address_from_hash(digests[next++]));
        } else {
            out.emplace_back(unexpected(std::move(k.error())));
        }
    }
    return out;
}

Result<void> sign_transaction(Transaction& txn, const Hash32& secret_key) {
    PEL_TRY(const crypto::Signature sig, crypto::sign(signing_hash(txn), secret_key));
    txn.signature = sig;
    return {};
}

}  // namespace pel
