// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: decode_transaction never crashes, and whatever it accepts is canonical, so
// encoding the decoded transaction gives back exactly the input bytes.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "primitives/transaction.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const pel::ByteView in{data, size};
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
