// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the consensus block payload decoder (node/chain.hpp decode_block): a
// validator runs it on every proposal a peer sends. It never crashes or reads out of bounds
// (sanitizers), and every payload it accepts is canonical: encoding the decoded header and
// transactions gives back exactly the input (so a value id names exactly one block).
// The same bytes also go through the pool journal decoder (node/pool_journal.hpp, a file the node
// reads at open), through the history window's record decoder (decode_old_values, records the
// node reads at open) and through the decoders of the chain records the RPC reads (stored
// receipts, headers, bodies, receipt lists), with the same property: what they accept
// re-encodes to exactly the input. The conflict report record is JSON, where one value has many
// spellings: what it accepts must encode to a text that decodes to the same report.
// Seeds: block_corpus/ (an empty block, a block with one legacy transaction, an old-values record
// with accounts, slots and dev changes, a stored EIP-1559 receipt with a Transfer log, a body
// with one transaction and its sender, and a conflict report).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "node/chain.hpp"
#include "node/pool_journal.hpp"

namespace {

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "block_fuzz: %s\n", what);
    std::abort();
}

/// What `decode` accepts must `encode` back to exactly `in`.
template <class Decode, class Encode>
void check_exact(pel::ByteView in, Decode&& decode, Encode&& encode, const char* what) {
    if (const auto value = decode(in); value && !pel::equal(encode(*value), in)) {
        fail(what);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    namespace node = pel::node;
    const pel::ByteView in{data, size};
    check_exact(in, node::decode_pool_journal, node::encode_pool_journal,
                "accepted pool journal does not re-encode identically");
    check_exact(in, node::decode_old_values, node::encode_old_values,
                "accepted old values do not re-encode identically");
    check_exact(in, node::decode_stored_receipt, node::encode_stored_receipt,
                "accepted stored receipt does not re-encode identically");
    check_exact(in, node::decode_header, node::encode_header,
                "accepted header does not re-encode identically");
    check_exact(in, node::decode_body, node::encode_body,
                "accepted body does not re-encode identically");
    check_exact(
        in, node::decode_receipt_list,
        [](const std::vector<pel::Bytes>& list) { return node::encode_receipt_list(list); },
        "accepted receipt list does not re-encode identically");
    if (const auto report = node::decode_conflict_report(in); report) {
        const std::string text = node::encode_conflict_report(*report);
        const auto again = node::decode_conflict_report(
            pel::ByteView{reinterpret_cast<const uint8_t*>(text.data()), text.size()});
        if (!again || node::encode_conflict_report(*again) != text) {
            fail("accepted conflict report does not survive a round trip");
        }
    }
    const auto block = node::decode_block(in);
    if (!block) {
        return 0;
    }
    if (block->raw_txns.size() != block->txns.size()) {
        fail("decoded transactions and encodings differ in count");
    }
    if (!pel::equal(node::encode_header(block->header), block->header_rlp)) {
        fail("accepted block header does not re-encode identically");
    }
    if (!pel::equal(node::encode_block(block->header_rlp, block->raw_txns), in)) {
        fail("accepted block does not re-encode identically");
    }
    return 0;
}
