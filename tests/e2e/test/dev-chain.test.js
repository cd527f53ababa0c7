// SPDX-License-Identifier: Apache-2.0
// The dev chain's controls as test suites call them (hardhat-network-helpers and foundry's
// names): evm_mine (an empty block now, or at a timestamp), hardhat_mine / anvil_mine (several,
// at an interval), evm_increaseTime and evm_setNextBlockTimestamp; a contract reads the moved
// clock through block.timestamp; evm_snapshot / evm_revert as hardhat's loadFixture and viem's
// test client use them; anvil_setBalance and its kin; account impersonation; evm_setAutomine;
// hardhat_metadata and --rpc.client-version; state reads at earlier blocks.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { ethers } = require('ethers');
const { target } = require('../lib/node');
const { nodeFixture } = require('../lib/fixture');
const viem = require('viem');
const { devAccounts } = require('../lib/accounts');
const { compile } = require('../lib/contracts');
const { publicClient, walletClient } = require('../lib/viem');

const f = nodeFixture();

test('evm_mine, evm_increaseTime and evm_setNextBlockTimestamp move blocks and time', async () => {
  const start = await f.provider.getBlock('latest');
  await f.provider.send('evm_mine', []);
  const mined = await f.provider.getBlock('latest');
  assert.equal(mined.number, start.number + 1);
  assert.equal(mined.transactions.length, 0);

  const at = mined.timestamp + 10_000;
  await f.provider.send('evm_setNextBlockTimestamp', [at]);
  await f.provider.send('evm_mine', []);
  assert.equal((await f.provider.getBlock('latest')).timestamp, at);

  await f.provider.send('evm_increaseTime', [86_400]);
  await f.provider.send('evm_mine', []);
  const later = await f.provider.getBlock('latest');
  assert.ok(later.timestamp >= at + 86_400, `${later.timestamp} >= ${at + 86_400}`);

  await f.provider.send('evm_mine', [later.timestamp + 7]);
  assert.equal((await f.provider.getBlock('latest')).timestamp, later.timestamp + 7);

  // A contract sees the moved clock: its code returns TIMESTAMP (0x42) as a word (a call runs it
  // in the next block's environment on pel-node, in the head's on anvil).
  const runtime = '4260005260206000f3';
  const initcode = `0x68${runtime}60005260096017f3`;  // PUSH9 runtime, MSTORE, RETURN(23, 9)
  const wallet = new ethers.Wallet(devAccounts()[0].privateKey, f.provider);
  const receipt = await (await wallet.sendTransaction({ data: initcode })).wait();
  assert.equal(await f.provider.getCode(receipt.contractAddress), `0x${runtime}`);
  const mined2 = await f.provider.getBlock(receipt.blockNumber);
  const word = await f.provider.call({ to: receipt.contractAddress });
  assert.ok(mined2.timestamp >= later.timestamp + 7);
  assert.ok(BigInt(word) >= BigInt(mined2.timestamp), `${BigInt(word)} >= ${mined2.timestamp}`);
  // eth_call of a creation answers the code it would deploy (viem's deployless calls read it).
  assert.equal(await f.provider.send('eth_call', [{ data: initcode }, 'latest']), `0x${runtime}`);

  // hardhat_mine / anvil_mine: five blocks, a minute apart after the first.
  const before = await f.provider.getBlock('latest');
  await f.provider.send('hardhat_mine', ['0x5', '0x3c']);
  const after5 = await f.provider.getBlock('latest');
  assert.equal(after5.number, before.number + 5);
  const fourth = await f.provider.getBlock(before.number + 4);
  assert.equal(after5.timestamp - fourth.timestamp, 60);

  // A timestamp not after the head's is refused.
  const head = await f.provider.getBlock('latest');
  await assert.rejects(f.provider.send('evm_setNextBlockTimestamp', [head.timestamp - 1]));
});

test('txpool_status, txpool_content and txpool_inspect show a queued transaction', async () => {
  const wallet = new ethers.Wallet(devAccounts()[7].privateKey, f.provider);
  const nonce = await f.provider.getTransactionCount(wallet.address, 'pending');
  const to = ethers.getAddress('0x00000000000000000000000000000000000000ab');
  // Nonce + 2 leaves a gap: the transaction waits in the pool as queued.
  const tx = await wallet.populateTransaction({ to, value: 3n, nonce: nonce + 2, gasLimit: 21000 });
  const raw = await wallet.signTransaction(tx);
  const hash = await f.provider.send('eth_sendRawTransaction', [raw]);

  // Sender keys: geth (and pel-node) write them in EIP-55 case, anvil in lower case.
  const of = (obj) => (Object.entries(obj).find(([k]) => k.toLowerCase() ===
    wallet.address.toLowerCase()) || [])[1];
  const status = await f.provider.send('txpool_status', []);
  assert.equal(BigInt(status.queued), 1n);
  const content = await f.provider.send('txpool_content', []);
  const mine = of(content.queued);
  if (target === 'pel') assert.ok(content.queued[wallet.address], 'EIP-55 sender key');
  assert.ok(mine, JSON.stringify(content));
  assert.equal(mine[String(nonce + 2)].hash, hash);
  assert.equal(mine[String(nonce + 2)].blockHash, null);
  const inspect = await f.provider.send('txpool_inspect', []);
  assert.match(of(inspect.queued)[String(nonce + 2)],
    new RegExp(`^${to}: 3 wei \\+ 21000 gas × \\d+ wei$`, 'i'));
  if (target === 'pel') {  // geth's txpool_contentFrom; anvil has no such method
    const from = await f.provider.send('txpool_contentFrom', [wallet.address]);
    assert.equal(from.queued[String(nonce + 2)].hash, hash);
    assert.deepEqual(from.pending, {});
  }
});

test('evm_snapshot and evm_revert take state, blocks, receipts and the clock back', async () => {
  const { E2EToken } = compile();
  const wallet = new ethers.Wallet(devAccounts()[3].privateKey, f.provider);
  const to = ethers.getAddress('0x00000000000000000000000000000000000000cd');
  // loadFixture's pattern: the fixture (a deployed token), a snapshot, each test reverts to it
  // and takes a new one.
  const factory = new ethers.ContractFactory(E2EToken.abi, E2EToken.bytecode, wallet);
  const token = await factory.deploy(1000n);
  await token.waitForDeployment();
  let id = await f.provider.send('evm_snapshot', []);
  const base = await f.provider.getBlock('latest');
  const nonce = await f.provider.getTransactionCount(wallet.address);
  for (let round = 0; round < 2; round++) {
    const sent = await (await token.transfer(to, 250n)).wait();
    await (await wallet.sendTransaction({ to, value: 5n })).wait();
    await f.provider.send('evm_increaseTime', [7200]);
    await f.provider.send('evm_mine', []);
    assert.equal(await token.balanceOf(to), 250n);

    assert.equal(await f.provider.send('evm_revert', [id]), true);
    const back = await f.provider.getBlock('latest');
    assert.equal(back.number, base.number);
    assert.equal(back.hash, base.hash);
    assert.equal(await token.balanceOf(to), 0n);
    assert.equal(await token.balanceOf(wallet.address), 1000n);
    assert.equal(await f.provider.getBalance(to), 0n);
    assert.equal(await f.provider.getTransactionCount(wallet.address), nonce);
    assert.equal(await f.provider.getTransactionReceipt(sent.hash), null);
    assert.equal(await f.provider.getBlock(base.number + 1), null);
    assert.equal(await f.provider.send('evm_revert', [id]), false, 'a snapshot is used once');
    id = await f.provider.send('evm_snapshot', []);
  }
  // The clock went back with the state: the next block is not two hours ahead.
  await f.provider.send('evm_mine', []);
  const next = await f.provider.getBlock('latest');
  assert.ok(next.timestamp < base.timestamp + 3600, `${next.timestamp} < ${base.timestamp + 3600}`);

  // viem's test client (anvil mode: evm_snapshot / evm_revert).
  const client = viem.createTestClient({ mode: 'anvil', transport: viem.http(f.node.url) });
  const snap = await client.snapshot();
  await (await token.transfer(to, 1n)).wait();
  assert.equal(await token.balanceOf(to), 1n);
  await client.revert({ id: snap });
  assert.equal(await token.balanceOf(to), 0n);
  assert.equal(await f.provider.getBlockNumber(), next.number);
});

test('anvil_setBalance, setNonce, setCode and setStorageAt (and viem\'s actions) change accounts at once', async () => {
  // A key nobody funded: setBalance and setNonce, then it sends a transaction.
  const fresh = ethers.Wallet.createRandom().connect(f.provider);
  await f.provider.send('anvil_setBalance', [fresh.address, ethers.toBeHex(ethers.parseEther('2'))]);
  assert.equal(await f.provider.getBalance(fresh.address), ethers.parseEther('2'));
  await f.provider.send('hardhat_setNonce', [fresh.address, '0x5']);
  assert.equal(await f.provider.getTransactionCount(fresh.address), 5);
  const to = ethers.getAddress('0x00000000000000000000000000000000000000cf');
  const sent = await (await fresh.sendTransaction({ to, value: 1000n })).wait();
  assert.equal(sent.status, 1);
  assert.equal(await f.provider.getTransactionCount(fresh.address), 6);
  assert.equal(await f.provider.getBalance(to), 1000n);

  // Code that returns its slot 0, and the slot set beside it.
  const c = ethers.getAddress('0x00000000000000000000000000000000000000ce');
  const runtime = '0x60005460005260206000f3';  // SLOAD(0), MSTORE, RETURN 32 bytes
  await f.provider.send('anvil_setCode', [c, runtime]);
  await f.provider.send('anvil_setStorageAt', [c, '0x0', ethers.zeroPadValue('0x2a', 32)]);
  assert.equal(await f.provider.getCode(c), runtime);
  assert.equal(await f.provider.getStorage(c, 0), ethers.zeroPadValue('0x2a', 32));
  assert.equal(BigInt(await f.provider.call({ to: c })), 42n);

  // viem's test actions (anvil mode).
  const client = viem.createTestClient({ mode: 'anvil', transport: viem.http(f.node.url) });
  await client.setBalance({ address: c, value: 7n });
  await client.setStorageAt({ address: c, index: 0, value: viem.pad('0x2b') });
  await client.setNonce({ address: c, nonce: 9 });
  assert.equal(await f.provider.getBalance(c), 7n);
  assert.equal(await f.provider.getTransactionCount(c), 9);
  assert.equal(BigInt(await f.provider.call({ to: c })), 43n);

  // A block goes by: the changes stay.
  await f.provider.send('evm_mine', []);
  assert.equal(await f.provider.getBalance(c), 7n);
  assert.equal(await f.provider.getCode(c), runtime);
  assert.equal(BigInt(await f.provider.call({ to: c })), 43n);
});

test('anvil_impersonateAccount: an account and a contract send without keys', async () => {
  const whale = ethers.getAddress('0x00000000000000000000000000000000000000d1');
  const contract = ethers.getAddress('0x00000000000000000000000000000000000000d3');
  const to = ethers.getAddress('0x00000000000000000000000000000000000000d2');
  const hundred = ethers.toQuantity(ethers.parseEther('100'));
  await f.provider.send('anvil_setBalance', [whale, hundred]);
  await f.provider.send('anvil_setBalance', [contract, hundred]);
  await f.provider.send('anvil_setCode', [contract, '0x00']);

  // Not impersonated: there is no key for it.
  const whaleSigner = new ethers.JsonRpcSigner(f.provider, whale);  // hardhat's getImpersonatedSigner
  await assert.rejects(whaleSigner.sendTransaction({ to, value: 1n }));

  await f.provider.send('hardhat_impersonateAccount', [whale]);
  const r = await (await whaleSigner.sendTransaction({ to, value: 7n })).wait();
  assert.equal(r.status, 1);
  assert.equal(r.from, whale);

  // A contract sender through viem's JSON-RPC account (EIP-3607 waived while impersonated).
  await f.provider.send('anvil_impersonateAccount', [contract]);
  const wallet = walletClient(f.node.url, contract);
  const hash = await wallet.sendTransaction({ to, value: 5n });
  const pub = publicClient(f.node.url);
  const r2 = await pub.waitForTransactionReceipt({ hash });
  assert.equal(r2.status, 'success');
  assert.equal(ethers.getAddress(r2.from), contract);
  assert.equal(await f.provider.getBalance(to), 12n);

  await f.provider.send('hardhat_stopImpersonatingAccount', [whale]);
  await f.provider.send('anvil_stopImpersonatingAccount', [contract]);
  await assert.rejects(whaleSigner.sendTransaction({ to, value: 1n }));
});

test('evm_setAutomine(false) holds transactions for one evm_mine block', async () => {
  const wallet = new ethers.Wallet(devAccounts()[5].privateKey, f.provider);
  const to = ethers.getAddress('0x00000000000000000000000000000000000000e5');
  assert.equal(await f.provider.send('hardhat_getAutomine', []), true);
  await f.provider.send('evm_setAutomine', [false]);
  assert.equal(await f.provider.send('hardhat_getAutomine', []), false);
  const start = await f.provider.getBlockNumber();
  const sent = [];
  for (let i = 0; i < 3; i++) sent.push(await wallet.sendTransaction({ to, value: 1n }));
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(await f.provider.getBlockNumber(), start);
  await f.provider.send('evm_mine', []);
  const block = await f.provider.getBlock('latest');
  assert.equal(block.number, start + 1);
  assert.deepEqual([...block.transactions].sort(), sent.map((t) => t.hash).sort());
  await f.provider.send('evm_setAutomine', [true]);
  const r = await (await wallet.sendTransaction({ to, value: 1n })).wait();
  assert.equal(r.blockNumber, start + 2);
});

test('hardhat_metadata / anvil_metadata describe the running chain', async () => {
  const meta = await f.provider.send('anvil_metadata', []);
  assert.equal(meta.chainId, 31337);
  assert.equal(meta.latestBlockNumber, await f.provider.getBlockNumber());
  assert.match(meta.instanceId, /^0x[0-9a-f]{64}$/);
  assert.equal(typeof meta.clientVersion, 'string');
  assert.equal((await f.provider.send('hardhat_metadata', [])).instanceId, meta.instanceId);
});

test('--rpc.client-version sets what web3_clientVersion answers', { skip: target === 'anvil' ?
  'a pel-node option' : false }, async () => {
  const { startNode } = require('../lib/node');
  const other = await startNode({ args: ['--rpc.client-version', 'anvil/v1.0.0 (pel-node)'] });
  try {
    const res = await fetch(other.url, { method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'web3_clientVersion', params: [] }) });
    assert.equal((await res.json()).result, 'anvil/v1.0.0 (pel-node)');
  } finally {
    await other.stop();
    other.cleanup();
  }
});

test('state reads at earlier blocks (a blockTag), as tests compare before and after', async () => {
  const wallet = new ethers.Wallet(devAccounts()[8].privateKey, f.provider);
  const to = ethers.getAddress('0x00000000000000000000000000000000000000e8');
  const before = await f.provider.getBalance(to);
  const nonce = await f.provider.getTransactionCount(wallet.address);
  const r1 = await (await wallet.sendTransaction({ to, value: 11n })).wait();
  const r2 = await (await wallet.sendTransaction({ to, value: 22n })).wait();
  assert.equal(await f.provider.getBalance(to, r1.blockNumber - 1), before);
  assert.equal(await f.provider.getBalance(to, r1.blockNumber), before + 11n);
  assert.equal(await f.provider.getBalance(to, r2.blockNumber), before + 33n);
  assert.equal(await f.provider.getTransactionCount(wallet.address, r1.blockNumber - 1), nonce);
  assert.equal(await f.provider.getTransactionCount(wallet.address, r2.blockNumber), nonce + 2);
  // viem reads at a block number too.
  const client = viem.createPublicClient({ transport: viem.http(f.node.url) });
  assert.equal(await client.getBalance({ address: to, blockNumber: BigInt(r1.blockNumber) }),
    before + 11n);
});
