// SPDX-License-Identifier: Apache-2.0
#include "state/account.hpp"

#include <bit>

#include "primitives/rlp.hpp"

namespace pel::state {

namespace {

// Size of the RLP item for an unsigned integer that takes `bytes` significant bytes and whose
// value is `low` when it fits one byte.
constexpr size_t uint_item_size(unsigned bytes, uint64_t low) noexcept {
    if (bytes == 0 || (bytes == 1 && low < 0x80)) return 1;  // 0x80, or the byte itself
    return 1 + bytes;                                        // at most 32 bytes: short form
}

constexpr size_t kHashItemSize = 33;

size_t payload_size(const Account& a) noexcept {
    const auto nonce_bytes = static_cast<unsigned>((std::bit_width(a.nonce) + 7) / 8);
    return uint_item_size(nonce_bytes, a.nonce) +
           uint_item_size(a.balance.byte_width(), a.balance.low64()) + 2 * kHashItemSize;
}

Unexpected<Error> field_error(const char* field, const Error& e) {
    return make_error("account ", field, ": ", e.message);
}

}  // namespace

size_t encoded_account_size(const Account& a) noexcept {
    const size_t p = payload_size(a);
    return rlp::header_size(p) + p;
}

void encode_account(Bytes& out, const Account& a) {
    rlp::encode_list_header(out, payload_size(a));
    rlp::encode_uint(out, a.nonce);
    rlp::encode_uint(out, a.balance);
    rlp::encode_bytes(out, a.storage_root.view());
    rlp::encode_bytes(out, a.code_hash.view());
}

Bytes encode_account(const Account& a) {
    Bytes out;
    out.reserve(encoded_account_size(a));
    encode_account(out, a);
    return out;
}

Result<Account> decode_account(ByteView rlp) {
    rlp::Decoder outer(rlp);
    auto list = outer.read_list();
    if (!list) return field_error("list", list.error());
    rlp::Decoder& d = list.value();
    Account a;
    auto nonce = d.read_u64();
    if (!nonce) return field_error("nonce", nonce.error());
    a.nonce = *nonce;
    auto balance = d.read_u256();
    if (!balance) return field_error("balance", balance.error());
    a.balance = *balance;
    auto storage_root = d.read_hash();
    if (!storage_root) return field_error("storage root", storage_root.error());
    a.storage_root = *storage_root;
    auto code_hash = d.read_hash();
    if (!code_hash) return field_error("code hash", code_hash.error());
    a.code_hash = *code_hash;
    if (auto end = d.expect_end(); !end) return field_error("list", end.error());
    if (auto end = outer.expect_end(); !end) return field_error("encoding", end.error());
    return a;
}

}  // namespace pel::state
