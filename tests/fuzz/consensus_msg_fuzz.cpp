// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the strict consensus message decoder (and the certificate decoder).
// Checks the decoder's promises: it never crashes or reads out of bounds (sanitizers), every
// input it accepts is canonical (re-encoding gives the input back byte for byte), accepted
// messages satisfy the documented invariants (valid round below round, low-s signatures, commit
// payload hashing to the certificate's value id), and signer recovery on whatever it accepts
// returns a result or an error, never a crash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <iostream>

#include "consensus/certificate.hpp"
#include "consensus/message.hpp"

namespace {

using namespace pel;
using namespace pel::consensus;

[[noreturn]] void fail(const char* what) {
    std::cerr << "consensus_msg_fuzz: " << what << "\n";
    std::abort();
}

void check_signature(const crypto::Signature& s) {
    if (s.y_parity > 1 || s.r.is_zero() || s.s.is_zero() || s.r >= crypto::kSecp256k1N ||
        s.s > crypto::kSecp256k1HalfN) {
        fail("accepted a signature outside the documented ranges");
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const ByteView in(data, size);
    if (auto msg = decode_message(in)) {
        if (!equal(encode(*msg), in)) fail("accepted message does not re-encode to its input");
        if (const auto* p = std::get_if<Proposal>(&*msg)) {
            if (p->valid_round < kNilRound || p->valid_round >= p->round) {
                fail("accepted a proposal whose valid round is not below its round");
            }
            if (p->value_id != value_id_of(p->payload)) fail("proposal value id");
            check_signature(p->signature);
            static_cast<void>(crypto::recover_address(
                proposal_digest(1, p->height, p->round, p->value_id, p->valid_round), p->signature,
                true));
        } else if (const auto* v = std::get_if<Vote>(&*msg)) {
            check_signature(v->signature);
            static_cast<void>(crypto::recover_address(
                vote_digest(1, v->type, v->height, v->round, v->value_id), v->signature, true));
        } else {
            const auto& c = std::get<CommitMessage>(*msg);
            if (value_id_of(c.payload) != c.certificate.value_id) fail("commit payload hash");
            for (const auto& s : c.certificate.signatures) check_signature(s);
        }
    }
    if (auto cert = decode_certificate(in)) {
        Bytes out;
        encode_certificate(out, *cert);
        if (!equal(out, in)) fail("accepted certificate does not re-encode to its input");
        if (cert->signatures.empty() || cert->signatures.size() > kMaxValidators) {
            fail("certificate signature count out of range");
        }
    }
    return 0;
}
