// SPDX-License-Identifier: Apache-2.0
// viem's view of the node under test: the dev chain (id 31337) at its URL, and public and wallet
// clients on it that poll every 50 ms.
'use strict';

const viem = require('viem');
const { privateKeyToAccount } = require('viem/accounts');

function devChain(url) {
  return viem.defineChain({ id: 31337, name: 'pel-e2e',
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [url] } } });
}

// No response cache: the tests read state right after changing it.
function publicClient(url, chain = devChain(url)) {
  return viem.createPublicClient({ chain, transport: viem.http(url), pollingInterval: 50,
    cacheTime: 0 });
}

// `account`: a private key (a local account that signs) or an address (the node signs).
function walletClient(url, account, chain = devChain(url)) {
  const a = typeof account === 'string' && account.length === 66 ? privateKeyToAccount(account)
    : account;
  return viem.createWalletClient({ account: a, chain, transport: viem.http(url),
    pollingInterval: 50 });
}

module.exports = { devChain, publicClient, walletClient };
