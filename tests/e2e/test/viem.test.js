// SPDX-License-Identifier: Apache-2.0
// viem against the node under test: deploy the OpenZeppelin ERC-20, transfer, events (receipt,
// eth_getLogs, a contract event filter), decoded reverts, NonceTooLowError and
// InsufficientFundsError, estimates, fees and blocks, as viem's actions use them.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const viem = require('viem');
const { privateKeyToAccount, generatePrivateKey } = require('viem/accounts');
const { startNode } = require('../lib/node');
const { devAccounts } = require('../lib/accounts');
const { devChain, publicClient, walletClient } = require('../lib/viem');
const { compile } = require('../lib/contracts');

const kSupply = 10n ** 24n;
const dev = devAccounts();
const transferEvent = viem.parseAbiItem(
  'event Transfer(address indexed from, address indexed to, uint256 value)');
let node;
let chain;
let pub;
let wallet;
let account;
let abi;
let guardAbi;
let token;
let guard;
let transferReceipt;

function walletFor(privateKey) {
  return walletClient(node.url, privateKey, chain);
}

function findCause(err, cls) {
  return err instanceof viem.BaseError ? err.walk((e) => e instanceof cls) : null;
}

before(async () => {
  node = await startNode();
  chain = devChain(node.url);
  pub = publicClient(node.url, chain);
  account = privateKeyToAccount(dev[0].privateKey);
  wallet = walletFor(dev[0].privateKey);
  const c = compile();
  abi = c.E2EToken.abi;
  guardAbi = c.Guard.abi;
  const deployGuard = await wallet.deployContract({ abi: guardAbi, bytecode: c.Guard.bytecode });
  guard = (await pub.waitForTransactionReceipt({ hash: deployGuard })).contractAddress;
});

after(async () => {
  if (node) {
    await node.stop();
    node.cleanup();
  }
});

test('deploy an OpenZeppelin ERC-20 with viem', async () => {
  const { E2EToken } = compile();
  const nonce = await pub.getTransactionCount({ address: account.address, blockTag: 'pending' });
  const hash = await wallet.deployContract({ abi, bytecode: E2EToken.bytecode, args: [kSupply] });
  const receipt = await pub.waitForTransactionReceipt({ hash });
  assert.equal(receipt.status, 'success');
  assert.equal(receipt.contractAddress,
    viem.getContractAddress({ from: account.address, nonce: BigInt(nonce) }).toLowerCase());
  token = receipt.contractAddress;
  const code = await pub.getCode({ address: token });
  assert.ok(code && code.length > 2);
  const read = (functionName, args = []) => pub.readContract({ address: token, abi, functionName,
    args });
  assert.equal(await read('name'), 'E2E Token');
  assert.equal(await read('totalSupply'), kSupply);
  assert.equal(await read('balanceOf', [account.address]), kSupply);
});

test('transfer with writeContract; Transfer decoded from the receipt', async () => {
  const hash = await wallet.writeContract({ address: token, abi, functionName: 'transfer',
    args: [dev[1].address, 500n] });
  transferReceipt = await pub.waitForTransactionReceipt({ hash });
  assert.equal(transferReceipt.status, 'success');
  const events = viem.parseEventLogs({ abi, logs: transferReceipt.logs });
  assert.equal(events.length, 1);
  assert.equal(events[0].eventName, 'Transfer');
  assert.equal(viem.getAddress(events[0].args.from), account.address);
  assert.equal(viem.getAddress(events[0].args.to), dev[1].address);
  assert.equal(events[0].args.value, 500n);
  assert.equal(await pub.readContract({ address: token, abi, functionName: 'balanceOf',
    args: [dev[1].address] }), 500n);
  const tx = await pub.getTransaction({ hash });
  assert.equal(viem.getAddress(tx.from), account.address);
  assert.equal(tx.blockNumber, transferReceipt.blockNumber);
  assert.equal(tx.type, 'eip1559');
  assert.equal(tx.chainId, 31337);
});

test('Transfer events through getLogs / getContractEvents', async () => {
  const logs = await pub.getLogs({ address: token, event: transferEvent,
    args: { from: account.address }, fromBlock: 0n, toBlock: 'latest' });
  assert.equal(logs.length, 1);
  assert.equal(logs[0].transactionHash, transferReceipt.transactionHash);
  assert.equal(logs[0].args.value, 500n);
  const all = await pub.getContractEvents({ address: token, abi, eventName: 'Transfer',
    fromBlock: 0n });
  // The mint and the transfer.
  assert.equal(all.length, 2);
  assert.equal(all[0].args.from, viem.zeroAddress);
  assert.equal(all[1].logIndex, transferReceipt.logs[0].logIndex);
});

test('contract event filter: eth_newFilter + eth_getFilterChanges', async () => {
  const filter = await pub.createContractEventFilter({ address: token, abi, eventName: 'Transfer' });
  assert.deepEqual(await pub.getFilterChanges({ filter }), []);
  const hash = await wallet.writeContract({ address: token, abi, functionName: 'transfer',
    args: [dev[2].address, 9n] });
  const receipt = await pub.waitForTransactionReceipt({ hash });
  const changes = await pub.getFilterChanges({ filter });
  assert.equal(changes.length, 1);
  assert.equal(changes[0].transactionHash, receipt.transactionHash);
  assert.equal(changes[0].eventName, 'Transfer');
  assert.equal(changes[0].args.value, 9n);
  assert.deepEqual(await pub.getFilterChanges({ filter }), []);
  assert.equal(await pub.uninstallFilter({ filter }), true);
});

test('eth_call / eth_estimateGas through simulateContract and estimateContractGas', async () => {
  const { result } = await pub.simulateContract({ account, address: token, abi,
    functionName: 'transfer', args: [dev[3].address, 1n] });
  assert.equal(result, true);
  const gas = await pub.estimateContractGas({ account, address: token, abi,
    functionName: 'transfer', args: [dev[3].address, 1n] });
  assert.ok(gas > 21000n && gas < 100000n, `gas ${gas}`);
  assert.equal(await pub.estimateGas({ account, to: dev[4].address, value: 1n }), 21000n);
  const data = viem.encodeFunctionData({ abi, functionName: 'balanceOf', args: [account.address] });
  const { data: ret } = await pub.call({ to: token, data });
  assert.equal(viem.hexToBigInt(ret), kSupply - 509n);
});

test('reverts decoded by viem: require message and custom errors', async () => {
  await assert.rejects(pub.simulateContract({ account, address: guard, abi: guardAbi,
    functionName: 'setSmall', args: [1000n] }), (e) => {
    const rev = findCause(e, viem.ContractFunctionRevertedError);
    assert.ok(rev, e.message);
    assert.equal(rev.reason, 'Guard: value too large');
    return true;
  });
  await assert.rejects(pub.simulateContract({ account, address: guard, abi: guardAbi,
    functionName: 'setTiny', args: [11n] }), (e) => {
    const rev = findCause(e, viem.ContractFunctionRevertedError);
    assert.ok(rev, e.message);
    assert.equal(rev.data?.errorName, 'TooLarge');
    assert.deepEqual(rev.data.args, [11n, 10n]);
    return true;
  });
  await assert.rejects(pub.estimateContractGas({ account, address: guard, abi: guardAbi,
    functionName: 'setSmall', args: [1000n] }), (e) => {
    const rev = findCause(e, viem.ContractFunctionRevertedError);
    assert.ok(rev, e.message);
    assert.equal(rev.reason, 'Guard: value too large');
    return true;
  });
  await assert.rejects(pub.simulateContract({ account: privateKeyToAccount(dev[5].privateKey),
    address: token, abi, functionName: 'transfer', args: [dev[6].address, 3n] }), (e) => {
    const rev = findCause(e, viem.ContractFunctionRevertedError);
    assert.ok(rev, e.message);
    assert.equal(rev.data?.errorName, 'ERC20InsufficientBalance');
    assert.deepEqual(rev.data.args, [dev[5].address, 0n, 3n]);
    return true;
  });
  assert.equal(await pub.readContract({ address: guard, abi: guardAbi, functionName: 'stored' }),
    0n);
});

test('nonce too low is NonceTooLowError and changes nothing', async () => {
  const before = await pub.getTransactionCount({ address: account.address, blockTag: 'pending' });
  assert.ok(before > 0);
  await assert.rejects(wallet.sendTransaction({ to: dev[7].address, value: 1n, nonce: 0,
    gas: 21000n }), (e) => {
    assert.ok(findCause(e, viem.NonceTooLowError), e.message);
    return true;
  });
  assert.equal(await pub.getTransactionCount({ address: account.address, blockTag: 'pending' }),
    before);
});

test('insufficient funds is InsufficientFundsError and changes nothing', async () => {
  const empty = walletFor(generatePrivateKey());
  await assert.rejects(empty.sendTransaction({ to: dev[7].address, value: 1n, nonce: 0,
    gas: 21000n }), (e) => {
    assert.ok(findCause(e, viem.InsufficientFundsError), e.message);
    return true;
  });
  const rich = walletFor(dev[8].privateKey);
  await assert.rejects(rich.sendTransaction({ to: dev[7].address,
    value: viem.parseEther('20000'), gas: 21000n }), (e) => {
    assert.ok(findCause(e, viem.InsufficientFundsError), e.message);
    return true;
  });
  assert.equal(await pub.getTransactionCount({ address: dev[8].address, blockTag: 'pending' }), 0);
  assert.equal(await pub.getBalance({ address: dev[8].address }), viem.parseEther('10000'));
});

test('gas price, estimateFeesPerGas and getFeeHistory', async () => {
  const block = await pub.getBlock();
  assert.equal(typeof block.baseFeePerGas, 'bigint');
  const gasPrice = await pub.getGasPrice();
  assert.ok(gasPrice > 0n);
  const fees = await pub.estimateFeesPerGas();
  assert.ok(fees.maxFeePerGas >= block.baseFeePerGas + fees.maxPriorityFeePerGas);
  const prio = await pub.estimateMaxPriorityFeePerGas();
  assert.ok(prio >= 0n);
  const hist = await pub.getFeeHistory({ blockCount: 2, rewardPercentiles: [50] });
  assert.equal(hist.oldestBlock, block.number - 1n);
  assert.equal(hist.baseFeePerGas.length, 3);
  assert.equal(hist.baseFeePerGas[1], block.baseFeePerGas);
  assert.equal(hist.gasUsedRatio.length, 2);
  assert.equal(hist.reward.length, 2);
  assert.equal(hist.reward[0].length, 1);
  const legacyHash = await wallet.sendTransaction({ to: dev[4].address, value: 2n,
    gasPrice: fees.maxFeePerGas });
  const legacy = await pub.waitForTransactionReceipt({ hash: legacyHash });
  assert.equal(legacy.status, 'success');
  assert.equal(legacy.type, 'legacy');
});

test('blocks as viem parses them (header fields, full transactions)', async () => {
  const block = await pub.getBlock({ blockNumber: transferReceipt.blockNumber,
    includeTransactions: true });
  assert.equal(block.hash, transferReceipt.blockHash);
  assert.equal(block.number, transferReceipt.blockNumber);
  assert.ok(block.transactions.some((t) => t.hash === transferReceipt.transactionHash));
  for (const f of ['parentHash', 'stateRoot', 'transactionsRoot', 'receiptsRoot']) {
    assert.match(block[f], /^0x[0-9a-f]{64}$/, f);
  }
  assert.match(block.logsBloom, /^0x[0-9a-f]{512}$/);
  assert.match(block.miner, /^0x[0-9a-fA-F]{40}$/);
  assert.equal(typeof block.timestamp, 'bigint');
  assert.equal(typeof block.gasLimit, 'bigint');
  assert.equal(typeof block.baseFeePerGas, 'bigint');
  assert.equal(typeof block.blobGasUsed, 'bigint');
  assert.equal(typeof block.excessBlobGas, 'bigint');
  const byHash = await pub.getBlock({ blockHash: block.hash });
  assert.equal(byHash.number, block.number);
  assert.deepEqual(byHash.transactions, block.transactions.map((t) => t.hash));
  const head = await pub.getBlockNumber({ cacheTime: 0 });
  assert.ok(head >= block.number);
});
