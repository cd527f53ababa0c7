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

namespace {

// An account list: [nonce, balance, storage root, code hash], or without the two hashes.
Result<Account> decode_fields(ByteView rlp, bool with_hashes) {
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
    if (with_hashes) {
        auto storage_root = d.read_hash();
        if (!storage_root) return field_error("storage root", storage_root.error());
        a.storage_root = *storage_root;
        auto code_hash = d.read_hash();
        if (!code_hash) return field_error("code hash", code_hash.error());
        a.code_hash = *code_hash;
    }
    if (auto end = d.expect_end(); !end) return field_error("list", end.error());
    if (auto end = outer.expect_end(); !end) return field_error("encoding", end.error());
    return a;
}

}  // namespace

Result<Account> decode_account(ByteView rlp) { return decode_fields(rlp, true); }

namespace {

// What every account without storage and code ends with: RLP(kEmptyTrieRoot) ||
// RLP(kEmptyCodeHash).
constexpr size_t kPlainTail = 2 * kHashItemSize;

bool ends_with_plain_tail(ByteView rlp) noexcept {
    if (rlp.size() < kPlainTail) return false;
    const ByteView tail = rlp.subspan(rlp.size() - kPlainTail);
    return tail[0] == 0xa0 && equal(tail.subspan(1, 32), kEmptyTrieRoot.view()) &&
           tail[kHashItemSize] == 0xa0 &&
           equal(tail.subspan(kHashItemSize + 1), kEmptyCodeHash.view());
}

bool is_plain(const Account& a) noexcept {
    return a.storage_root == kEmptyTrieRoot && a.code_hash == kEmptyCodeHash;
}

}  // namespace

void encode_stored_account(Bytes& out, const Account& a) {
    if (!is_plain(a)) {
        encode_account(out, a);
        return;
    }
    const auto nonce_bytes = static_cast<unsigned>((std::bit_width(a.nonce) + 7) / 8);
    rlp::encode_list_header(out, uint_item_size(nonce_bytes, a.nonce) +
                                     uint_item_size(a.balance.byte_width(), a.balance.low64()));
    rlp::encode_uint(out, a.nonce);
    rlp::encode_uint(out, a.balance);
}

Result<Account> decode_stored_account(ByteView stored) {
    const rlp::Decoder outer(stored);
    auto header = outer.peek_header();
    if (!header) return field_error("list", header.error());
    if (header->is_list && header->payload_len < kPlainTail) return decode_fields(stored, false);
    PEL_TRY(Account a, decode_fields(stored, true));
    if (is_plain(a)) {
        return make_error(
            "account: stored in the full form although it has no storage and no code");
    }
    return a;
}

std::optional<ByteView> shortened_account_rlp(ByteView rlp) noexcept {
    // A long list header with a one-byte length: 0xf8 n, n = what follows, 56 <= n <= 255.
    if (rlp.size() < 2 + kPlainTail || rlp.size() > 2 + 255 || rlp[0] != 0xf8 ||
        rlp[1] != rlp.size() - 2 || !ends_with_plain_tail(rlp)) {
        return std::nullopt;
    }
    return rlp.subspan(2, rlp.size() - 2 - kPlainTail);
}

void append_lengthened_account_rlp(Bytes& out, ByteView middle) {
    PEL_ASSERT(middle.size() <= kMaxShortenedAccountRlp, "account RLP too long to lengthen");
    out.push_back(0xf8);
    out.push_back(static_cast<uint8_t>(middle.size() + kPlainTail));
    append(out, middle);
    rlp::encode_bytes(out, kEmptyTrieRoot.view());
    rlp::encode_bytes(out, kEmptyCodeHash.view());
}

}  // namespace pel::state
