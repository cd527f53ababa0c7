// SPDX-License-Identifier: Apache-2.0
// The signing methods of the dev accounts as the clients use them: ethers' JsonRpcSigner and a
// viem wallet client with a JSON-RPC account sign messages (personal_sign), EIP-712 typed data
// (eth_signTypedData_v4) and transactions (eth_signTransaction); each library recovers the signer
// itself, and an OpenZeppelin ERC20Permit accepts a permit signed by the node (its EIP-712 digest
// computed on chain).
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { ethers } = require('ethers');
const viem = require('viem');
const { target } = require('../lib/node');
const { nodeFixture } = require('../lib/fixture');
const { devAccounts } = require('../lib/accounts');
const { compile } = require('../lib/contracts');
const { publicClient, walletClient } = require('../lib/viem');

const dev = devAccounts();
// anvil (used only to validate these tests) words a missing key "No Signer available" (-32602);
// pel-node answers as geth does: -32000 "unknown account".
const kUnknownAccount = target === 'anvil' ? /No Signer available/ : /unknown account/;
const f = nodeFixture();

// A typed message with nested structs, arrays, signed integers and bytes (what the node's
// encoder must get right for the libraries' recovery to succeed).
const kDomain = { name: 'pel e2e', version: '2', chainId: 31337,
  verifyingContract: '0x00000000000000000000000000000000000000cc' };
const kTypes = {
  Leg: [{ name: 'pool', type: 'address' }, { name: 'amounts', type: 'uint128[]' },
    { name: 'tick', type: 'int24' }],
  Order: [{ name: 'owner', type: 'address' }, { name: 'legs', type: 'Leg[]' },
    { name: 'memo', type: 'string' }, { name: 'tag', type: 'bytes4' },
    { name: 'data', type: 'bytes' }, { name: 'partial', type: 'bool' },
    { name: 'window', type: 'uint64[2]' }],
};
function order(owner) {
  return {
    owner,
    legs: [{ pool: '0x00000000000000000000000000000000000000aa', amounts: [1n, 2n ** 127n],
      tick: -887272 }, { pool: '0x00000000000000000000000000000000000000bb', amounts: [],
      tick: 887272 }],
    memo: 'swap 1 ETH → USDC', tag: '0xdeadbeef', data: '0x0102', partial: true,
    window: [1700000000n, 1800000000n],
  };
}

test('ethers JsonRpcSigner: personal_sign and eth_signTypedData_v4 recover to the account',
  async () => {
    const signer = await f.provider.getSigner(dev[1].address);
    const message = 'pel: sign in at block 1 ✓';
    const sig = await signer.signMessage(message);
    assert.equal(ethers.verifyMessage(message, sig), dev[1].address);
    // Bytes are signed as bytes, not as their hex text.
    const bytes = ethers.getBytes('0x00ff10');
    assert.equal(ethers.verifyMessage(bytes, await signer.signMessage(bytes)), dev[1].address);

    const typedSig = await signer.signTypedData(kDomain, kTypes, order(dev[1].address));
    assert.equal(ethers.verifyTypedData(kDomain, kTypes, order(dev[1].address), typedSig),
      dev[1].address);
    // Any change to the message gives another digest, so another recovered address.
    const changed = { ...order(dev[1].address), memo: 'swap 2 ETH' };
    assert.notEqual(ethers.verifyTypedData(kDomain, kTypes, changed, typedSig), dev[1].address);
  });

test('an account without a key here is refused, and bad typed data is invalid params',
  async () => {
    const stranger = ethers.Wallet.createRandom().address;
    await assert.rejects(new ethers.JsonRpcSigner(f.provider, stranger).signMessage('hi'),
      (e) => kUnknownAccount.test(e.message));
    await assert.rejects(f.provider.send('eth_signTypedData_v4',
      [dev[1].address, JSON.stringify({ types: {}, primaryType: 'Nope', domain: {}, message: {} })]),
    (e) => e.error && e.error.code === -32602 &&
      (target === 'anvil' || /^invalid argument 1: typed data: /.test(e.error.message)));
  });

test('viem wallet client with a JSON-RPC account: signMessage and signTypedData', async () => {
  const wallet = walletClient(f.node.url, dev[2].address);
  const message = 'hello from viem';
  const sig = await wallet.signMessage({ message });
  assert.equal(await viem.recoverMessageAddress({ message, signature: sig }), dev[2].address);
  const raw = await wallet.signMessage({ message: { raw: '0x68656c6c6f' } });
  assert.equal(await viem.recoverMessageAddress({ message: { raw: '0x68656c6c6f' },
    signature: raw }), dev[2].address);

  const typed = { domain: kDomain, types: kTypes, primaryType: 'Order',
    message: order(dev[2].address) };
  const typedSig = await wallet.signTypedData(typed);
  assert.equal(await viem.recoverTypedDataAddress({ ...typed, signature: typedSig }),
    dev[2].address);
  // The public client's verify actions check on chain: an eth_call of a creation (ERC-6492's
  // deployless validator) whose answer is what the init code returns.
  const pub = publicClient(f.node.url);
  assert.equal(await pub.verifyMessage({ address: dev[2].address, message, signature: sig }), true);
  assert.equal(await pub.verifyTypedData({ ...typed, address: dev[2].address,
    signature: typedSig }), true);
  assert.equal(await pub.verifyMessage({ address: dev[3].address, message, signature: sig }),
    false);
});

test('an ERC20Permit accepts a permit the node signed (EIP-2612)', async () => {
  const { E2EPermitToken } = compile();
  const owner = await f.provider.getSigner(dev[3].address);  // signs through the node
  const spender = new ethers.Wallet(dev[4].privateKey, f.provider);
  const factory = new ethers.ContractFactory(E2EPermitToken.abi, E2EPermitToken.bytecode, owner);
  const token = await factory.deploy(10n ** 24n);
  await token.waitForDeployment();
  const address = await token.getAddress();

  const value = 5n * 10n ** 18n;
  const deadline = BigInt(Math.floor(Date.now() / 1000) + 3600);
  const nonce = await token.nonces(dev[3].address);
  const domain = { name: 'E2E Permit', version: '1', chainId: 31337, verifyingContract: address };
  const types = { Permit: [{ name: 'owner', type: 'address' }, { name: 'spender', type: 'address' },
    { name: 'value', type: 'uint256' }, { name: 'nonce', type: 'uint256' },
    { name: 'deadline', type: 'uint256' }] };
  const sig = ethers.Signature.from(await owner.signTypedData(domain, types,
    { owner: dev[3].address, spender: dev[4].address, value, nonce, deadline }));
  // The token's domain separator is the one the node hashed.
  assert.equal(await token.DOMAIN_SEPARATOR(), ethers.TypedDataEncoder.hashDomain(domain));

  const asSpender = token.connect(spender);
  const receipt = await (await asSpender.permit(dev[3].address, dev[4].address, value, deadline,
    sig.v, sig.r, sig.s)).wait();
  assert.equal(receipt.status, 1);
  assert.equal(await token.allowance(dev[3].address, dev[4].address), value);
  assert.equal(await token.nonces(dev[3].address), nonce + 1n);
  await (await asSpender.transferFrom(dev[3].address, dev[4].address, value)).wait();
  assert.equal(await token.balanceOf(dev[4].address), value);

  // The same permit again: the nonce moved on, so the recovered signer differs and it reverts.
  await assert.rejects(asSpender.permit(dev[3].address, dev[4].address, value, deadline,
    sig.v, sig.r, sig.s), (e) => e.code === 'CALL_EXCEPTION');
});

test('eth_signTransaction: signed by the node, decoded by the clients, then broadcast', async () => {
  const signer = await f.provider.getSigner(dev[5].address);
  const to = ethers.Wallet.createRandom().address;
  const raw = await signer.signTransaction({ to, value: 7n });
  const tx = ethers.Transaction.from(raw);
  assert.equal(tx.from, dev[5].address);
  assert.equal(tx.to, to);
  assert.equal(tx.value, 7n);
  assert.equal(tx.chainId, 31337n);
  assert.equal(tx.nonce, await f.provider.getTransactionCount(dev[5].address, 'pending'));
  // Signing submitted nothing; broadcasting the encoding does.
  assert.equal(await f.provider.getBalance(to), 0n);
  const sent = await f.provider.broadcastTransaction(raw);
  assert.equal(sent.hash, ethers.keccak256(raw));
  assert.equal((await sent.wait()).status, 1);
  assert.equal(await f.provider.getBalance(to), 7n);

  const wallet = walletClient(f.node.url, dev[6].address);
  const serialized = await wallet.signTransaction({ to, value: 5n });
  assert.equal(await viem.recoverTransactionAddress({ serializedTransaction: serialized }),
    dev[6].address);
  assert.equal(viem.parseTransaction(serialized).value, 5n);
});
