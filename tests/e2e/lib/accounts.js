// SPDX-License-Identifier: Apache-2.0
// The dev accounts of the "test ... junk" mnemonic (m/44'/60'/0'/0/i), derived here with ethers
// rather than copied, so that the node's list is checked against an independent derivation.
'use strict';

const { HDNodeWallet, Mnemonic } = require('ethers');

const kMnemonic = 'test test test test test test test test test test test junk';

function devAccounts(n = 10) {
  const m = Mnemonic.fromPhrase(kMnemonic);
  const out = [];
  for (let i = 0; i < n; i++) {
    const w = HDNodeWallet.fromMnemonic(m, `m/44'/60'/0'/0/${i}`);
    out.push({ address: w.address, privateKey: w.privateKey });
  }
  return out;
}

module.exports = { devAccounts, kMnemonic };
