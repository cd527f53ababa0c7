// SPDX-License-Identifier: Apache-2.0
// eth_getProof (EIP-1186) against another implementation: anvil (its tries come from alloy-trie)
// runs beside pel-node, and the proofs must be the same bytes. At genesis both hold the same ten
// dev accounts (anvil without its default CREATE2 deployer), so account proofs of inclusion and of
// exclusion must match exactly; after the same ERC-20 deployment and transfer on both, the token's
// storage trie must give the same storage proofs (the account tries differ there: fees and block
// rewards are each node's own). pel-node only: under PEL_E2E_TARGET=anvil it would compare anvil
// with itself.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { ethers } = require('ethers');
const { startNode, target } = require('../lib/node');
const { devAccounts } = require('../lib/accounts');
const { compile } = require('../lib/contracts');

const skip = target === 'anvil' ? 'compares pel-node with anvil' : false;
const dev = devAccounts();
const absent = '0x00000000000000000000000000000000000000aa';
let pel;
let anvil;
let pelProvider;
let anvilProvider;

function proofOf(provider, address, slots) {
  return provider.send('eth_getProof', [address, slots, 'latest']);
}

before(async () => {
  if (skip) return;
  pel = await startNode();
  anvil = await startNode({ target: 'anvil', args: ['--disable-default-create2-deployer'] });
  const opts = { pollingInterval: 50, cacheTimeout: -1, batchMaxCount: 1 };
  pelProvider = new ethers.JsonRpcProvider(pel.url, undefined, opts);
  anvilProvider = new ethers.JsonRpcProvider(anvil.url, undefined, opts);
});

after(async () => {
  for (const p of [pelProvider, anvilProvider]) if (p) p.destroy();
  for (const n of [pel, anvil]) {
    if (n) {
      await n.stop();
      n.cleanup();
    }
  }
});

test('account proofs at genesis are the bytes anvil gives', { skip }, async () => {
  for (const address of [dev[0].address, dev[7].address, absent]) {
    const ours = await proofOf(pelProvider, address, []);
    const theirs = await proofOf(anvilProvider, address, []);
    assert.deepEqual(ours, theirs, `eth_getProof(${address})`);
  }
  // The root node hashes to the head's state root; the last node of an inclusion proof is the
  // account's leaf.
  const head = await pelProvider.send('eth_getBlockByNumber', ['latest', false]);
  const p = await proofOf(pelProvider, dev[0].address, []);
  assert.equal(ethers.keccak256(p.accountProof[0]), head.stateRoot);
  assert.equal(p.balance, ethers.toQuantity(ethers.parseEther('10000')));
  assert.equal(p.storageHash, '0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421');
});

test('storage proofs of the same ERC-20 state are the bytes anvil gives', { skip }, async () => {
  const { E2EToken } = compile();
  const tokens = [];
  for (const provider of [pelProvider, anvilProvider]) {
    const wallet = new ethers.Wallet(dev[0].privateKey, provider);
    const factory = new ethers.ContractFactory(E2EToken.abi, E2EToken.bytecode, wallet);
    const token = await factory.deploy(10n ** 24n);
    await token.waitForDeployment();
    await (await token.transfer(dev[1].address, 1234n)).wait();
    tokens.push(await token.getAddress());
  }
  assert.equal(tokens[0], tokens[1]);  // same sender and nonce
  // OpenZeppelin's ERC20: _balances at slot 0 (a mapping), _totalSupply at slot 2.
  const coder = ethers.AbiCoder.defaultAbiCoder();
  const balanceSlot = (a) => ethers.keccak256(coder.encode(['address', 'uint256'], [a, 0]));
  const slots = [balanceSlot(dev[0].address), balanceSlot(dev[1].address),
    balanceSlot(absent), ethers.zeroPadValue('0x02', 32)];
  const ours = await proofOf(pelProvider, tokens[0], slots);
  const theirs = await proofOf(anvilProvider, tokens[0], slots);
  assert.equal(ours.storageHash, theirs.storageHash);
  assert.equal(ours.codeHash, theirs.codeHash);
  assert.deepEqual(ours.storageProof, theirs.storageProof);
  assert.equal(BigInt(ours.storageProof[1].value), 1234n);
  assert.equal(ours.storageProof[2].value, '0x0');  // a proof of exclusion
  assert.ok(ours.storageProof[2].proof.length > 0);
  assert.equal(ethers.keccak256(ours.storageProof[0].proof[0]), ours.storageHash);
  // The token's account proof ends with its leaf, under pel-node's own state root.
  const head = await pelProvider.send('eth_getBlockByNumber', ['latest', false]);
  assert.equal(ethers.keccak256(ours.accountProof[0]), head.stateRoot);
});

test('eth_getProof refuses bad keys and historical blocks', { skip }, async () => {
  await assert.rejects(pelProvider.send('eth_getProof', [absent, ['0xzz'], 'latest']),
    (e) => e.error && e.error.code === -32602);
  await assert.rejects(pelProvider.send('eth_getProof', [absent, '0x1', 'latest']),
    (e) => e.error && e.error.code === -32602);
  await assert.rejects(pelProvider.send('eth_getProof', [absent, [], '0x0']),
    (e) => e.error && /historical state not available/.test(e.error.message));
});
