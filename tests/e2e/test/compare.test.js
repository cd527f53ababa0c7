// SPDX-License-Identifier: Apache-2.0
// Answers that must equal another implementation's: anvil (its tries from alloy-trie, its access
// lists from revm's inspector) runs beside pel-node on the same state.
// - eth_getProof (EIP-1186): at genesis both hold the same ten dev accounts (anvil without its
//   default CREATE2 deployer), so account proofs of inclusion and of exclusion must be the same
//   bytes; after the same ERC-20 deployment and transfer on both, so must the token's storage
//   proofs (the account tries differ there: fees and block rewards are each node's own).
// - eth_createAccessList: the same list and gas for a token transfer and a deployment.
// - eth_call's block environment: a call at a block runs in that block (its number, timestamp,
//   gas limit, coinbase, prevrandao and BLOCKHASH window), at "pending" in the next one.
// pel-node only: under PEL_E2E_TARGET=anvil it would compare anvil with itself.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { ethers } = require('ethers');
const { startNode, rawRpc, mined, target } = require('../lib/node');
const { devAccounts } = require('../lib/accounts');
const { compile } = require('../lib/contracts');

const skip = target === 'anvil' ? 'compares pel-node with anvil' : false;
const dev = devAccounts();
const absent = '0x00000000000000000000000000000000000000aa';
let pel;
let anvil;
let pelProvider;
let anvilProvider;
let token;  // the ERC-20 deployed on both (the storage proof test)

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
    await mined(provider, token.deploymentTransaction().hash);
    await mined(provider, (await token.transfer(dev[1].address, 1234n)).hash);
    tokens.push(await token.getAddress());
  }
  assert.equal(tokens[0], tokens[1]);  // same sender and nonce
  [token] = tokens;
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

test('eth_createAccessList gives the list and gas anvil gives', { skip }, async () => {
  const { E2EToken } = compile();
  assert.ok(token, 'the storage proof test deployed the token');
  const iface = new ethers.Interface(E2EToken.abi);
  const calls = [
    { from: dev[0].address, to: token, data: iface.encodeFunctionData('transfer', [dev[2].address, 9n]) },
    { from: dev[1].address, to: token, data: iface.encodeFunctionData('approve', [dev[3].address, 1n]) },
    { from: dev[0].address, data: E2EToken.bytecode + ethers.toBeHex(10n ** 20n, 32).slice(2) },
    { from: dev[4].address, to: dev[5].address, value: '0x1' },
  ];
  for (const call of calls) {
    const ours = await pelProvider.send('eth_createAccessList', [call, 'latest']);
    const theirs = await anvilProvider.send('eth_createAccessList', [call, 'latest']);
    const norm = (r) => ({ gasUsed: r.gasUsed, accessList: r.accessList.map((e) => ({
      address: e.address.toLowerCase(), storageKeys: [...e.storageKeys].sort() }))
      .sort((a, b) => (a.address < b.address ? -1 : 1)) });
    assert.deepEqual(norm(ours), norm(theirs), JSON.stringify(call));
  }
  // The list makes the call cheaper or equal, and viem's action reads the answer.
  const transfer = await pelProvider.send('eth_createAccessList', [calls[0], 'latest']);
  assert.ok(transfer.accessList.length > 0);
  const viem = require('viem');
  const pub = viem.createPublicClient({ transport: viem.http(pel.url) });
  const r = await pub.createAccessList({ account: calls[0].from, to: calls[0].to,
    data: calls[0].data });
  assert.equal(r.gasUsed, BigInt(transfer.gasUsed));
  assert.deepEqual(r.accessList.map((e) => e.address.toLowerCase()),
    transfer.accessList.map((e) => e.address));
  // A call that reverts still gets its list, with geth's error field.
  const failing = await pelProvider.send('eth_createAccessList', [{ from: dev[6].address, to: token,
    data: iface.encodeFunctionData('transfer', [dev[2].address, 1n]) }, 'latest']);
  assert.equal(failing.error, 'execution reverted');
  assert.ok(failing.accessList.length > 0);
});

test('eth_call runs in the block it names, as anvil and geth run it', { skip }, async () => {
  // Code put at an address by a state override: one block field, returned as a word.
  const at = '0x00000000000000000000000000000000000000c0';
  const ret = '5f5260205ff3';  // PUSH0 MSTORE PUSH1 32 PUSH0 RETURN
  const fields = { number: '43', timestamp: '42', gasLimit: '45', coinbase: '41',
    prevRandao: '44', chainId: '46', baseFee: '48', parentHash: '4360019003' + '40' };
  const env = async (provider, tag) => {
    const out = {};
    for (const [name, op] of Object.entries(fields)) {
      out[name] = await provider.send('eth_call', [{ to: at }, tag, { [at]: { code: `0x${op}${ret}` } }]);
    }
    return out;
  };
  for (const p of [pelProvider, anvilProvider]) await p.send('evm_mine', []);
  const head = await pelProvider.getBlockNumber();
  assert.equal(await anvilProvider.getBlockNumber(), head);
  const word = (v) => ethers.zeroPadValue(ethers.toBeHex(v), 32);
  for (const tag of ['latest', 'pending', ethers.toQuantity(head - 1)]) {
    const ours = await env(pelProvider, tag);
    const theirs = await env(anvilProvider, tag);
    for (const name of ['number', 'gasLimit', 'coinbase', 'chainId']) {
      assert.equal(ours[name], theirs[name], `${tag} ${name}`);
    }
    if (tag === 'pending') {
      assert.equal(ours.number, word(head + 1));
      continue;
    }
    // The block's own timestamp, prevrandao and parent hash (each node's own block).
    const block = await pelProvider.send('eth_getBlockByNumber', [tag, false]);
    assert.equal(ours.number, word(BigInt(block.number)), tag);
    assert.equal(ours.timestamp, word(BigInt(block.timestamp)), tag);
    assert.equal(ours.prevRandao, block.mixHash, tag);
    assert.equal(ours.parentHash, block.parentHash, tag);
    // A call that names no fee reads a zero BASEFEE (geth's rule; anvil reads the block's).
    assert.equal(ours.baseFee, word(0), tag);
  }
  // A timestamp set for the next block is the pending call's, as the block then mined shows.
  const tsCode = { [at]: { code: `0x42${ret}` } };
  for (const p of [pelProvider, anvilProvider]) {
    const next = (await p.getBlock('latest')).timestamp + 1000;
    await p.send('evm_setNextBlockTimestamp', [next]);
    const pending = await p.send('eth_call', [{ to: at }, 'pending', tsCode]);
    assert.equal(pending, word(next), 'pending call after evm_setNextBlockTimestamp');
    assert.equal(await p.send('eth_call', [{ to: at }, 'pending', tsCode]), pending, 'not consumed');
    await p.send('evm_mine', []);
    assert.equal((await p.getBlock('latest')).timestamp, next);
  }
});

test('block overrides for eth_call and debug_traceCall, as anvil applies them', { skip }, async () => {
  const at = '0x00000000000000000000000000000000000000c0';
  const ret = '5f5260205ff3';  // PUSH0 MSTORE PUSH1 32 PUSH0 RETURN
  const ops = { number: '43', time: '42', gasLimit: '45', feeRecipient: '41', prevRandao: '44',
    baseFeePerGas: '48' };
  const overrides = { number: '0x1234', time: '0x5678', gasLimit: '0x99999',
    feeRecipient: '0x00000000000000000000000000000000000000fe', prevRandao: `0x${'77'.repeat(32)}`,
    baseFeePerGas: '0x7' };
  // A fee is named, so BASEFEE reads the block's (geth zeroes it for calls that name none).
  const call = { from: dev[0].address, to: at, maxFeePerGas: '0x10', maxPriorityFeePerGas: '0x0' };
  const word = (v) => ethers.zeroPadValue(ethers.toBeHex(v), 32);
  for (const [field, op] of Object.entries(ops)) {
    const code = { [at]: { code: `0x${op}${ret}` } };
    const answers = await Promise.all([pelProvider, anvilProvider].map(
      (p) => p.send('eth_call', [call, 'latest', code, overrides])));
    assert.equal(answers[0], answers[1], field);
    const expected = field === 'prevRandao' ? overrides.prevRandao
      : field === 'feeRecipient' ? word(overrides.feeRecipient) : word(overrides[field]);
    assert.equal(answers[0], expected, field);
    // Only the fields given change.
    const without = await pelProvider.send('eth_call', [{ to: at }, 'latest', code, {}]);
    assert.notEqual(without, expected, field);
  }
  // debug_traceCall takes them in its options, as geth's TraceCallConfig does.
  const traced = await pelProvider.send('debug_traceCall', [{ to: at }, 'latest',
    { tracer: 'callTracer', stateOverrides: { [at]: { code: `0x42${ret}` } },
      blockOverrides: { time: '0x5678' } }]);
  assert.equal(traced.output, word(0x5678));
  const { error: refused } = await rawRpc(pel.url, 'eth_call',
    [call, 'latest', {}, { blobBaseFee: '0x1' }]);
  assert.equal(refused.code, -32602);
  assert.match(refused.message, /invalid argument 3: field 'blobBaseFee' is not supported/);
});
