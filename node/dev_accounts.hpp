// SPDX-License-Identifier: Apache-2.0
// Dev accounts from a BIP-39 mnemonic: the seed is PBKDF2-HMAC-SHA512(mnemonic, "mnemonic" +
// passphrase, 2048 rounds) (BIP-39), keys are derived along m/44'/60'/0'/0/i (BIP-32 with
// HMAC-SHA512 and secp256k1 tweak-add, BIP-44 Ethereum coin type 60). With the mnemonic
// "test test test test test test test test test test test junk" these are the accounts anvil,
// hardhat and foundry print.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "node/node.hpp"
#include "primitives/bytes.hpp"
#include "primitives/hash.hpp"
#include "primitives/result.hpp"

namespace pel::node {

inline constexpr std::string_view kDevMnemonic =
    "test test test test test test test test test test test junk";

/// The 64-byte BIP-39 seed of a mnemonic (the words are used as given: no NFKD normalisation,
/// which ASCII mnemonics do not need). Thread safe.
[[nodiscard]] Bytes bip39_seed(std::string_view mnemonic, std::string_view passphrase = "");

/// The secret key at BIP-32 `path` (indexes; hardened ones have bit 31 set) from `seed`.
/// Errors: an invalid derived key (probability below 2^-127). Thread safe.
[[nodiscard]] Result<Hash32> bip32_derive(ByteView seed, const std::vector<uint32_t>& path);

/// Accounts m/44'/60'/0'/0/i for i in [0, count). Thread safe.
[[nodiscard]] Result<std::vector<DevAccount>> derive_dev_accounts(std::string_view mnemonic,
                                                                  size_t count);

}  // namespace pel::node
