// SPDX-License-Identifier: Apache-2.0
// Restart on the same datadir: balances, nonces, blocks, receipts, logs, contract state, state
// below the head and traces are all still there, and the chain continues from the head. pel-node
// only: anvil keeps no data across restarts, so under PEL_E2E_TARGET=anvil these tests are
// skipped (and say so in their names).
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { ethers } = require('ethers');
const { startNode, target } = require('../lib/node');
const { devAccounts } = require('../lib/accounts');
const { compile } = require('../lib/contracts');

const skip = target === 'anvil' ? 'anvil has no persistence across restarts' : false;
const dev = devAccounts();
let node;
let provider;

function connect() {
  if (provider) provider.destroy();
  provider = new ethers.JsonRpcProvider(node.url, undefined,
    { pollingInterval: 50, cacheTimeout: -1, batchMaxCount: 1 });
  return new ethers.Wallet(dev[0].privateKey, provider);
}

// Everything a restart must keep, read through the RPC.
async function record(token, hashes) {
  const head = await provider.getBlockNumber();
  const blocks = [];
  for (let i = 0; i <= head; i++) blocks.push(await provider.send('eth_getBlockByNumber', [ethers.toQuantity(i), true]));
  const receipts = [];
  for (const h of hashes) receipts.push(await provider.send('eth_getTransactionReceipt', [h]));
  const txs = [];
  for (const h of hashes) txs.push(await provider.send('eth_getTransactionByHash', [h]));
  const balances = [];
  for (const a of dev.slice(0, 4)) balances.push(await provider.getBalance(a.address));
  const nonces = [];
  for (const a of dev.slice(0, 4)) nonces.push(await provider.getTransactionCount(a.address, 'latest'));
  const tokenBalances = [];
  for (const a of dev.slice(0, 4)) tokenBalances.push(await token.balanceOf(a.address));
  const logs = await provider.send('eth_getLogs', [{ fromBlock: '0x0', toBlock: 'latest',
    address: await token.getAddress() }]);
  const code = await provider.getCode(await token.getAddress());
  // State below the head and traces (the --history.state window is stored with the blocks).
  const balanceOf = token.interface.encodeFunctionData('balanceOf', [dev[1].address]);
  const past = [];
  for (let i = 0; i <= head; i++) {
    const tag = ethers.toQuantity(i);
    past.push([await provider.send('eth_getBalance', [dev[1].address, tag]),
      await provider.send('eth_call', [{ to: await token.getAddress(), data: balanceOf }, tag])]);
  }
  const traces = [];
  for (const h of hashes) traces.push(await provider.send('debug_traceTransaction', [h, { tracer: 'callTracer' }]));
  return { head, blocks, receipts, txs, balances, nonces, tokenBalances, logs, code, past, traces };
}

before(async () => {
  if (skip) return;
  node = await startNode();
});

after(async () => {
  if (provider) provider.destroy();
  if (node) {
    await node.stop();
    node.cleanup();
  }
});

async function buildHistory(wallet) {
  const { E2EToken } = compile();
  const token = await new ethers.ContractFactory(E2EToken.abi, E2EToken.bytecode, wallet)
    .deploy(10n ** 21n);
  await token.waitForDeployment();
  const hashes = [token.deploymentTransaction().hash];
  for (let i = 1; i <= 3; i++) {
    const t = await token.transfer(dev[i].address, BigInt(i) * 100n);
    await t.wait();
    hashes.push(t.hash);
    const e = await wallet.sendTransaction({ to: dev[i].address, value: ethers.parseEther('1') });
    await e.wait();
    hashes.push(e.hash);
  }
  return { token, hashes };
}

async function checkResumes(wallet, token, saved) {
  // The chain continues: the next block's parent is the old head, the nonce carries on.
  const receipt = await (await token.transfer(dev[1].address, 1n)).wait();
  assert.equal(receipt.status, 1);
  assert.equal(receipt.blockNumber, saved.head + 1);
  const block = await provider.getBlock(receipt.blockNumber);
  assert.equal(block.parentHash, saved.blocks[saved.head].hash);
  const tx = await provider.getTransaction(receipt.hash);
  assert.equal(tx.nonce, saved.nonces[0]);
  assert.equal(await token.balanceOf(dev[1].address), saved.tokenBalances[1] + 1n);
}

test(`restart after SIGTERM keeps balances, blocks and receipts (pel-node only${skip ? '; skipped for anvil: no persistence' : ''})`, { skip }, async () => {
  let wallet = connect();
  const { token: t0, hashes } = await buildHistory(wallet);
  const saved = await record(t0, hashes);
  assert.ok(saved.head >= 7);
  const exit = await node.stop();
  assert.ok(exit.code === 0 || exit.sig === 'SIGTERM', `exit after SIGTERM: ${JSON.stringify(exit)}`);
  await node.start();
  wallet = connect();
  const token = t0.connect(wallet);
  assert.deepEqual(await record(token, hashes), saved);
  await checkResumes(wallet, token, saved);
});

test(`restart after SIGKILL keeps every block whose receipt was served (pel-node only${skip ? '; skipped for anvil: no persistence' : ''})`, { skip }, async () => {
  let wallet = connect();
  const { token: t0, hashes } = await buildHistory(wallet);
  const saved = await record(t0, hashes);
  node.proc.kill('SIGKILL');
  await node.exited;
  node.proc = null;
  await node.start();
  wallet = connect();
  const token = t0.connect(wallet);
  assert.deepEqual(await record(token, hashes), saved);
  await checkResumes(wallet, token, saved);
});
