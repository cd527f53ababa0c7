// SPDX-License-Identifier: Apache-2.0
// JSON-RPC over WebSocket on the HTTP port (where anvil serves it too), as dapps and scripts use
// it: ethers' WebSocketProvider (requests, 'block' events from newHeads, contract events from a
// logs subscription) and viem's webSocket transport (watchBlockNumber, watchContractEvent).
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { ethers } = require('ethers');
const viem = require('viem');
const { nodeFixture } = require('../lib/fixture');
const { devAccounts } = require('../lib/accounts');
const { compile } = require('../lib/contracts');

const f = nodeFixture();
const wsUrl = () => f.node.url.replace(/^http/, 'ws');
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(pred, what, ms = 15_000) {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

test('ethers WebSocketProvider: requests, block events and Transfer events', async () => {
  // No response cache (ethers keeps answers 250 ms by default): the transfer must see the nonce
  // the deployment used.
  const provider = new ethers.WebSocketProvider(wsUrl(), undefined, { cacheTimeout: -1 });
  try {
    assert.equal((await provider.getNetwork()).chainId, 31337n);
    const wallet = new ethers.Wallet(devAccounts()[6].privateKey, provider);
    const { E2EToken } = compile();
    const factory = new ethers.ContractFactory(E2EToken.abi, E2EToken.bytecode, wallet);
    const token = await factory.deploy(1000n);
    await token.waitForDeployment();

    // ethers sends eth_subscribe without waiting for its answer; count the answers (the node
    // registers a subscription before it answers) so the transfer below cannot come first.
    const registered = new Set();
    const register = provider._register.bind(provider);
    provider._register = (id, subscriber) => {
      registered.add(id);
      register(id, subscriber);
    };
    const blocks = [];
    await provider.on('block', (n) => blocks.push(n));
    const transfers = [];
    await token.on('Transfer', (from, to, value) => transfers.push({ from, to, value }));
    await until(() => registered.size >= 2, 'both subscriptions confirmed');
    const to = ethers.getAddress('0x00000000000000000000000000000000000000e6');
    const receipt = await (await token.transfer(to, 42n)).wait();
    await until(() => transfers.length > 0 && blocks.includes(receipt.blockNumber),
      'the Transfer event and the block');
    assert.deepEqual(transfers[0], { from: wallet.address, to, value: 42n });
  } finally {
    await provider.destroy();
  }
});

test('viem webSocket transport: watchBlockNumber and watchContractEvent', async () => {
  const { E2EToken } = compile();
  const account = devAccounts()[7];
  const deployer = new ethers.Wallet(account.privateKey, f.provider);
  const token = await new ethers.ContractFactory(E2EToken.abi, E2EToken.bytecode, deployer)
    .deploy(500n);
  await token.waitForDeployment();
  const address = await token.getAddress();

  const client = viem.createPublicClient({ transport: viem.webSocket(wsUrl()) });
  const numbers = [];
  const logs = [];
  const unwatchBlocks = client.watchBlockNumber({ onBlockNumber: (n) => numbers.push(n) });
  const unwatchLogs = client.watchContractEvent({ address, abi: E2EToken.abi,
    eventName: 'Transfer', onLogs: (l) => logs.push(...l) });
  try {
    // The transfer goes over HTTP, so nothing orders it after the subscriptions: wait until viem
    // holds both subscription ids (the node registers a subscription before it answers).
    const rpc = await client.transport.getRpcClient();
    await until(() => rpc.subscriptions.size >= 2, 'both subscriptions confirmed');
    const to = ethers.getAddress('0x00000000000000000000000000000000000000e7');
    const receipt = await (await token.transfer(to, 7n)).wait();
    await until(() => logs.length > 0 && numbers.includes(BigInt(receipt.blockNumber)),
      'the log and the block number');
    assert.equal(logs[0].args.to, to);
    assert.equal(logs[0].args.value, 7n);
    assert.equal(logs[0].transactionHash, receipt.hash);
    assert.equal(await client.getChainId(), 31337);
  } finally {
    unwatchBlocks();
    unwatchLogs();
    (await client.transport.getRpcClient()).close();
  }
});
