// SPDX-License-Identifier: Apache-2.0
#include "node/dev_accounts.hpp"

#include <array>
#include <cstring>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <secp256k1.h>

#include "primitives/secp256k1.hpp"

namespace pel::node {
namespace {

constexpr uint32_t kHardened = 0x80000000U;

std::array<uint8_t, 64> hmac_sha512(ByteView key, ByteView data) {
    std::array<uint8_t, 64> out{};
    unsigned len = 0;
    HMAC(EVP_sha512(), key.data(), static_cast<int>(key.size()), data.data(), data.size(),
         out.data(), &len);
    return out;
}

struct Secp256k1Context {
    secp256k1_context* ctx = secp256k1_context_create(SECP256K1_CONTEXT_SIGN);
    ~Secp256k1Context() { secp256k1_context_destroy(ctx); }
    Secp256k1Context() = default;
    Secp256k1Context(const Secp256k1Context&) = delete;
    Secp256k1Context& operator=(const Secp256k1Context&) = delete;
    Secp256k1Context(Secp256k1Context&&) = delete;
    Secp256k1Context& operator=(Secp256k1Context&&) = delete;
};

const secp256k1_context* context() {
    static const Secp256k1Context c;  // read-only use after creation: thread safe
    return c.ctx;
}

}  // namespace

Bytes bip39_seed(std::string_view mnemonic, std::string_view passphrase) {
    std::string salt = "mnemonic";
    salt.append(passphrase);
    Bytes seed(64);
    PKCS5_PBKDF2_HMAC(mnemonic.data(), static_cast<int>(mnemonic.size()),
                      reinterpret_cast<const unsigned char*>(salt.data()),  // NOLINT
                      static_cast<int>(salt.size()), 2048, EVP_sha512(), 64, seed.data());
    return seed;
}

Result<Hash32> bip32_derive(ByteView seed, const std::vector<uint32_t>& path) {
    const auto master = hmac_sha512(as_bytes("Bitcoin seed"), seed);
    Hash32 key;
    Hash32 chain;
    std::memcpy(key.data(), master.data(), 32);
    std::memcpy(chain.data(), master.data() + 32, 32);
    if (secp256k1_ec_seckey_verify(context(), key.data()) != 1) {
        return make_error("bip32: invalid master key");
    }
    for (const uint32_t index : path) {
        std::array<uint8_t, 37> data{};
        if ((index & kHardened) != 0) {
            std::memcpy(data.data() + 1, key.data(), 32);
        } else {
            secp256k1_pubkey pub;
            if (secp256k1_ec_pubkey_create(context(), &pub, key.data()) != 1) {
                return make_error("bip32: invalid key at index ", index);
            }
            std::array<uint8_t, 33> ser{};
            size_t len = ser.size();
            secp256k1_ec_pubkey_serialize(context(), ser.data(), &len, &pub,
                                          SECP256K1_EC_COMPRESSED);
            if (len != 33) {
                return make_error("bip32: bad public key serialisation");
            }
            std::memcpy(data.data(), ser.data(), 33);
        }
        data[33] = static_cast<uint8_t>(index >> 24);
        data[34] = static_cast<uint8_t>(index >> 16);
        data[35] = static_cast<uint8_t>(index >> 8);
        data[36] = static_cast<uint8_t>(index);
        const auto i = hmac_sha512(chain.view(), ByteView(data.data(), data.size()));
        Hash32 child = key;
        // child = IL + parent (mod n); fails when IL >= n or the sum is zero (BIP-32: skip index).
        if (secp256k1_ec_seckey_tweak_add(context(), child.data(), i.data()) != 1) {
            return make_error("bip32: invalid child key at index ", index);
        }
        key = child;
        std::memcpy(chain.data(), i.data() + 32, 32);
    }
    return key;
}

Result<std::vector<DevAccount>> derive_dev_accounts(std::string_view mnemonic, size_t count) {
    const Bytes seed = bip39_seed(mnemonic);
    std::vector<DevAccount> out;
    out.reserve(count);
    for (size_t i = 0; i < count; ++i) {
        PEL_TRY(Hash32 key, bip32_derive(seed, {44 | kHardened, 60 | kHardened, 0 | kHardened, 0,
                                                static_cast<uint32_t>(i)}));
        PEL_TRY(Address addr, crypto::address_from_secret(key));
        out.push_back({addr, key});
    }
    return out;
}

}  // namespace pel::node
