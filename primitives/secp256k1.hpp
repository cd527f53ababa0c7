// SPDX-License-Identifier: Apache-2.0
// secp256k1 signatures through Debian's libsecp256k1 (recovery module).
// Thread safety: every function may be called from many threads at once.
#pragma once

#include <array>
#include <cstdint>

#include "primitives/hash.hpp"
#include "primitives/result.hpp"
#include "primitives/u256.hpp"

namespace pel::crypto {

/// A recoverable ECDSA signature: r, s and the parity of R's y coordinate (0 or 1).
struct Signature {
    U256 r;
    U256 s;
    uint8_t y_parity = 0;

    friend bool operator==(const Signature&, const Signature&) = default;
};

/// The curve order n and n/2 (EIP-2: transaction signatures need s <= n/2).
inline constexpr U256 kSecp256k1N{0xbfd25e8cd0364141ULL, 0xbaaedce6af48a03bULL,
                                  0xfffffffffffffffeULL, 0xffffffffffffffffULL};
inline constexpr U256 kSecp256k1HalfN{0xdfe92f46681b20a0ULL, 0x5d576e7357a4501dULL,
                                      0xffffffffffffffffULL, 0x7fffffffffffffffULL};

/// Signs a 32-byte message hash (RFC 6979 nonce); the result always has low s.
/// Error: the secret key is zero or not below n.
[[nodiscard]] Result<Signature> sign(const Hash32& msg_hash, const Hash32& secret_key);

/// Recovers the signer's address. Errors: r or s zero or not below n, y_parity > 1, high s when
/// `require_low_s` (transactions, EIP-2; the ecrecover precompile allows high s), or no point.
[[nodiscard]] Result<Address> recover_address(const Hash32& msg_hash, const Signature& sig,
                                              bool require_low_s);

/// An uncompressed public key without its 0x04 prefix: X || Y, 32 bytes each, big-endian.
using PublicKey = std::array<uint8_t, 64>;

/// recover_address() without the last step: the signer's public key (same checks, same errors).
/// For hashing many keys at once (keccak256_many) into addresses.
[[nodiscard]] Result<PublicKey> recover_public_key(const Hash32& msg_hash, const Signature& sig,
                                                   bool require_low_s);

/// keccak256(X || Y)[12:]: the address of a public key.
[[nodiscard]] Address address_from_hash(const Hash32& public_key_hash) noexcept;

/// The address of a secret key: keccak256(uncompressed public key without prefix)[12:].
[[nodiscard]] Result<Address> address_from_secret(const Hash32& secret_key);

}  // namespace pel::crypto
