// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: decode_transaction and decode_blob_network_form (EIP-4844's pooled form with
// its sidecar) never crash, and whatever they accept is canonical, so encoding the decoded
// transaction gives back exactly the input bytes.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "primitives/transaction.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const pel::ByteView in{data, size};
    if (const auto pooled = pel::decode_blob_network_form(in)) {
        const pel::Bytes again = pel::encode_blob_network_form(pooled->txn, pooled->blobs,
                                                               pooled->commitments, pooled->proofs);
        if (!pel::is_blob_network_form(in) || !pel::equal(again, in) ||
            !pel::equal(pooled->canonical, pel::encode_transaction(pooled->txn))) {
            std::fputs("txn_fuzz: accepted network form does not re-encode identically\n", stderr);
            std::abort();
        }
    }
    const auto txn = pel::decode_transaction(in);
    if (!txn) {
        return 0;
    }
    const pel::Bytes again = pel::encode_transaction(*txn);
    if (!pel::equal(again, in)) {
        std::fputs("txn_fuzz: accepted input does not re-encode identically\n", stderr);
        std::abort();
    }
    // Sender recovery takes arbitrary r, s and y_parity here: the range checks must keep every
    // value away from libsecp256k1's illegal-argument paths.
    static_cast<void>(pel::recover_sender(*txn));
    return 0;
}
