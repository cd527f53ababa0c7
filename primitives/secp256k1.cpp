// SPDX-License-Identifier: Apache-2.0
// secp256k1 signatures through libsecp256k1's recovery module.
#include "primitives/secp256k1.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <random>

#include <secp256k1.h>
#include <secp256k1_recovery.h>

#include "primitives/keccak.hpp"

namespace pel::crypto {
namespace {

// One context for the whole process. libsecp256k1 documents every call that takes a
// `const secp256k1_context*` as safe to run concurrently; the only mutating call,
// secp256k1_context_randomize, runs once here, before the context is published (the static
// local's initialisation is thread safe, C++11 [stmt.dcl]/4). The context is never destroyed:
// signing may still run in other threads' static destructors at exit.
const secp256k1_context* context() noexcept {
    static const secp256k1_context* const ctx = [] {
        secp256k1_context* c = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
        PEL_ASSERT(c != nullptr, "secp256k1_context_create failed");
        // Blinding against side channels while signing; it does not change any result.
        std::array<unsigned char, 32> seed{};
        std::random_device rd;
        for (size_t i = 0; i < seed.size(); i += 4) {
            const unsigned v = rd();
            for (size_t j = 0; j < 4; ++j) {
                seed[i + j] = static_cast<unsigned char>(v >> (8 * j));
            }
        }
        const int randomized = secp256k1_context_randomize(c, seed.data());
        PEL_ASSERT(randomized == 1, "secp256k1_context_randomize failed");
        return c;
    }();
    return ctx;
}

PublicKey serialize(const secp256k1_pubkey& pubkey) noexcept {
    std::array<unsigned char, 65> ser{};
    size_t len = ser.size();
    const int ok = secp256k1_ec_pubkey_serialize(context(), ser.data(), &len, &pubkey,
                                                 SECP256K1_EC_UNCOMPRESSED);
    PEL_ASSERT(ok == 1 && len == 65, "secp256k1_ec_pubkey_serialize failed");
    // Skip the 0x04 prefix: the address hashes only X || Y.
    PublicKey out;
    std::copy(ser.begin() + 1, ser.end(), out.begin());
    return out;
}

Address address_of(const PublicKey& key) noexcept {
    return address_from_hash(keccak256(ByteView{key.data(), key.size()}));
}

}  // namespace

Result<Signature> sign(const Hash32& msg_hash, const Hash32& secret_key) {
    const secp256k1_context* ctx = context();
    if (secp256k1_ec_seckey_verify(ctx, secret_key.data()) != 1) {
        return make_error("secp256k1: invalid secret key (zero or not below the curve order)");
    }
    secp256k1_ecdsa_recoverable_signature sig;
    // A null nonce function selects RFC 6979; libsecp256k1 always emits low-s signatures.
    if (secp256k1_ecdsa_sign_recoverable(ctx, &sig, msg_hash.data(), secret_key.data(), nullptr,
                                         nullptr) != 1) {
        return make_error("secp256k1: signing failed");
    }
    std::array<unsigned char, 64> compact{};
    int recid = 0;
    const int ok =
        secp256k1_ecdsa_recoverable_signature_serialize_compact(ctx, compact.data(), &recid, &sig);
    PEL_ASSERT(ok == 1 && recid >= 0 && recid <= 3, "secp256k1: serialize_compact failed");
    Signature out;
    out.r = U256::from_be32(compact.data());
    out.s = U256::from_be32(compact.data() + 32);  // NOLINT
    // recid bit 0 is the parity of R.y; bit 1 (R.x >= n) has probability ~2^-128 and Ethereum
    // signatures cannot express it, so treat it as a broken invariant.
    PEL_ASSERT(recid <= 1, "secp256k1: recovery id with overflowed R.x");
    out.y_parity = static_cast<uint8_t>(recid);
    return out;
}

Result<PublicKey> recover_public_key(const Hash32& msg_hash, const Signature& sig,
                                     bool require_low_s) {
    if (sig.r.is_zero() || sig.r >= kSecp256k1N) {
        return make_error("secp256k1: r out of range [1, n-1]");
    }
    if (sig.s.is_zero() || sig.s >= kSecp256k1N) {
        return make_error("secp256k1: s out of range [1, n-1]");
    }
    if (require_low_s && sig.s > kSecp256k1HalfN) {
        return make_error("secp256k1: s above n/2 (EIP-2)");
    }
    if (sig.y_parity > 1) {
        return make_error("secp256k1: y_parity ", static_cast<unsigned>(sig.y_parity),
                          " is not 0 or 1");
    }
    const secp256k1_context* ctx = context();
    std::array<unsigned char, 64> compact{};
    sig.r.to_be32(compact.data());
    sig.s.to_be32(compact.data() + 32);  // NOLINT
    secp256k1_ecdsa_recoverable_signature rsig;
    if (secp256k1_ecdsa_recoverable_signature_parse_compact(ctx, &rsig, compact.data(),
                                                            sig.y_parity) != 1) {
        return make_error("secp256k1: cannot parse signature");
    }
    secp256k1_pubkey pubkey;
    if (secp256k1_ecdsa_recover(ctx, &pubkey, &rsig, msg_hash.data()) != 1) {
        return make_error("secp256k1: no public key recovers from this signature");
    }
    return serialize(pubkey);
}

Result<Address> recover_address(const Hash32& msg_hash, const Signature& sig, bool require_low_s) {
    PEL_TRY(const PublicKey key, recover_public_key(msg_hash, sig, require_low_s));
    return address_of(key);
}

Address address_from_hash(const Hash32& public_key_hash) noexcept {
    Address out;
    std::copy(public_key_hash.bytes.begin() + 12, public_key_hash.bytes.end(), out.bytes.begin());
    return out;
}

Result<Address> address_from_secret(const Hash32& secret_key) {
    const secp256k1_context* ctx = context();
    secp256k1_pubkey pubkey;
    if (secp256k1_ec_pubkey_create(ctx, &pubkey, secret_key.data()) != 1) {
        return make_error("secp256k1: invalid secret key (zero or not below the curve order)");
    }
    return address_of(serialize(pubkey));
}

}  // namespace pel::crypto
