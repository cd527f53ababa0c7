// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include "node/dev_accounts.hpp"
#include "primitives/hex.hpp"
#include "primitives/secp256k1.hpp"

namespace pel::node {
namespace {

TEST(DevAccounts, bip39_seed_of_the_test_mnemonic) {
    // Seed of "test test ... junk" with no passphrase (the value every BIP-39 tool prints).
    const Bytes seed = bip39_seed(kDevMnemonic);
    ASSERT_EQ(seed.size(), 64U);
    // Re-derived independently: the first account's key below pins the whole chain; here only
    // check the seed is deterministic and depends on the passphrase.
    EXPECT_EQ(seed, bip39_seed(kDevMnemonic));
    EXPECT_NE(seed, bip39_seed(kDevMnemonic, "x"));
}

TEST(DevAccounts, anvil_accounts_0_and_1) {
    auto accounts = derive_dev_accounts(kDevMnemonic, 10);
    ASSERT_TRUE(accounts.has_value()) << accounts.error().message;
    ASSERT_EQ(accounts->size(), 10U);
    EXPECT_EQ((*accounts)[0].address,
              *Address::from_hex("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"));
    EXPECT_EQ(
        (*accounts)[0].secret_key,
        *Hash32::from_hex("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"));
    EXPECT_EQ((*accounts)[1].address,
              *Address::from_hex("0x70997970C51812dc3A010C7d01b50e0d17dc79C8"));
    EXPECT_EQ((*accounts)[9].address,
              *Address::from_hex("0xa0Ee7A142d267C1f36714E4a8F75612F20a79720"));
    for (const DevAccount& a : *accounts) {
        EXPECT_EQ(*crypto::address_from_secret(a.secret_key), a.address);
    }
}

TEST(DevAccounts, another_mnemonic_gives_other_accounts) {
    auto a = derive_dev_accounts(
        "abandon abandon abandon abandon abandon abandon abandon abandon "
        "abandon abandon abandon about",
        1);
    ASSERT_TRUE(a.has_value());
    // The well-known first account of the BIP-39 "abandon ... about" test mnemonic.
    EXPECT_EQ((*a)[0].address, *Address::from_hex("0x9858EfFD232B4033E47d90003D41EC34EcaEda94"));
}

}  // namespace
}  // namespace pel::node
