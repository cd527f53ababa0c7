// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for net's frame and message decoders (what a peer controls byte for byte).
// Checks the decoders' promises: no crash or out-of-bounds read (sanitizers); the frame decoder
// never accepts a length above the maximum or a kind it does not know, and an accepted frame
// re-encodes to its input bytes; every payload a strict decoder accepts re-encodes to the same
// bytes; validate_payload agrees with the per-kind decoders.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <iostream>

#include "net/message.hpp"

namespace {

using namespace pel;
using namespace pel::net;

[[noreturn]] void fail(const char* what) {
    std::cerr << "net_msg_fuzz: " << what << "\n";
    std::abort();
}

void check_payload(MsgKind kind, ByteView payload) {
    bool ok = false;
    switch (kind) {
        case MsgKind::kHello:
            if (auto h = decode_hello(payload)) {
                ok = true;
                if (!equal(encode_hello(*h), payload)) fail("hello does not re-encode");
            }
            break;
        case MsgKind::kAuth:
            if (auto a = decode_auth(payload)) {
                ok = true;
                if (a->y_parity > 1) fail("auth accepted y_parity > 1");
                if (!equal(encode_auth(*a), payload)) fail("auth does not re-encode");
            }
            break;
        case MsgKind::kTxns:
            if (auto t = decode_txns(payload)) {
                ok = true;
                if (t->empty() || t->size() > kMaxTxnsPerMsg) fail("txns count out of range");
                std::vector<Bytes> raw;
                for (const GossipTxn& g : *t) raw.push_back(g.encoded);
                if (!equal(encode_txns(raw), payload)) fail("txns do not re-encode");
            }
            break;
        case MsgKind::kConsensus:
        case MsgKind::kBlock:
            ok = decode_opaque(payload).has_value();
            if (ok == payload.empty()) fail("opaque payload emptiness rule broken");
            break;
        case MsgKind::kPing:
        case MsgKind::kPong:
            if (auto n = decode_ping(payload)) {
                ok = true;
                if (!equal(encode_ping(*n), payload)) fail("ping does not re-encode");
            }
            break;
        case MsgKind::kDisconnect:
            if (auto r = decode_disconnect(payload)) {
                ok = true;
                if (!equal(encode_disconnect(*r), payload)) fail("disconnect does not re-encode");
            }
            break;
    }
    if (validate_payload(kind, payload).has_value() != ok) fail("validate_payload disagrees");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    // The first byte picks the maximum frame size, so small limits are exercised too.
    const uint32_t max_frame = data[0] == 0 ? kDefaultMaxFrameSize : uint32_t{data[0]} * 64U;
    ByteView in(data + 1, size - 1);
    // Every kind's payload decoder straight on the input, as well as inside frames.
    for (uint8_t k = 1; k <= 8; ++k) check_payload(static_cast<MsgKind>(k), in);
    while (!in.empty()) {
        auto f = decode_frame(in, max_frame);
        if (!f) break;
        if (f->consumed > in.size() || f->consumed < kFrameHeaderSize + 1) fail("bad consumed");
        if (f->consumed - kFrameHeaderSize > max_frame) fail("accepted an oversized frame");
        if (!equal(encode_frame(f->kind, f->payload), in.first(f->consumed))) {
            fail("frame does not re-encode");
        }
        check_payload(f->kind, f->payload);
        in = in.subspan(f->consumed);
    }
    return 0;
}
