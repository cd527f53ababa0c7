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

#include "node/chain.hpp"
#include "node/pool_journal.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const pel::ByteView in{data, size};
    if (const auto journal = pel::node::decode_pool_journal(in); journal) {
        if (!pel::equal(pel::node::encode_pool_journal(*journal), in)) {
            std::fputs("block_fuzz: accepted pool journal does not re-encode identically\n",
                       stderr);
            std::abort();
        }
    }
    if (const auto old = pel::node::decode_old_values(in); old) {
        if (!pel::equal(pel::node::encode_old_values(*old), in)) {
            std::fputs("block_fuzz: accepted old values do not re-encode identically\n", stderr);
            std::abort();
        }
    }
    if (const auto receipt = pel::node::decode_stored_receipt(in); receipt) {
        if (!pel::equal(pel::node::encode_stored_receipt(*receipt), in)) {
            std::fputs("block_fuzz: accepted stored receipt does not re-encode identically\n",
                       stderr);
            std::abort();
        }
    }
    if (const auto header = pel::node::decode_header(in); header) {
        if (!pel::equal(pel::node::encode_header(*header), in)) {
            std::fputs("block_fuzz: accepted header does not re-encode identically\n", stderr);
            std::abort();
        }
    }
    if (const auto body = pel::node::decode_body(in); body) {
        if (!pel::equal(pel::node::encode_body(*body), in)) {
            std::fputs("block_fuzz: accepted body does not re-encode identically\n", stderr);
            std::abort();
        }
    }
    if (const auto list = pel::node::decode_receipt_list(in); list) {
        if (!pel::equal(pel::node::encode_receipt_list(*list), in)) {
            std::fputs("block_fuzz: accepted receipt list does not re-encode identically\n",
                       stderr);
            std::abort();
        }
    }
    if (const auto report = pel::node::decode_conflict_report(in); report) {
        const std::string text = pel::node::encode_conflict_report(*report);
        const auto again = pel::node::decode_conflict_report(
            pel::ByteView{reinterpret_cast<const uint8_t*>(text.data()), text.size()});
        if (!again || pel::node::encode_conflict_report(*again) != text) {
            std::fputs("block_fuzz: accepted conflict report does not survive a round trip\n",
                       stderr);
            std::abort();
        }
    }
    const auto block = pel::node::decode_block(in);
    if (!block) {
        return 0;
    }
    if (block->raw_txns.size() != block->txns.size()) {
        std::fputs("block_fuzz: decoded transactions and encodings differ in count\n", stderr);
        std::abort();
    }
    if (!pel::equal(pel::node::encode_header(block->header), block->header_rlp)) {
        std::fputs("block_fuzz: accepted header does not re-encode identically\n", stderr);
        std::abort();
    }
    const pel::Bytes again = pel::node::encode_block(block->header_rlp, block->raw_txns);
    if (!pel::equal(again, in)) {
        std::fputs("block_fuzz: accepted block does not re-encode identically\n", stderr);
        std::abort();
    }
    return 0;
}
