// SPDX-License-Identifier: Apache-2.0
// ethers v6 against the node under test: deploy an OpenZeppelin ERC-20 compiled with solc,
// transfer, read Transfer events (receipt, eth_getLogs, filters), decoded reverts, the error codes
// ethers gives nonce-too-low and insufficient-funds, eth_call/estimateGas, fee data and blocks.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { ethers } = require('ethers');
const { startNode } = require('../lib/node');
const { devAccounts } = require('../lib/accounts');
const { compile } = require('../lib/contracts');

const kSupply = 1_000_000n * 10n ** 18n;
const dev = devAccounts();
let node;
let provider;
let wallet;
let token;
let guard;
let transferReceipt;

before(async () => {
  node = await startNode();
  provider = new ethers.JsonRpcProvider(node.url, undefined,
    { pollingInterval: 50, cacheTimeout: -1, batchMaxCount: 1 });
  wallet = new ethers.Wallet(dev[0].privateKey, provider);
});

after(async () => {
  if (provider) provider.destroy();
  if (node) {
    await node.stop();
    node.cleanup();
  }
});

test('chain id, client version and the ten dev accounts with 10,000 ETH each', async () => {
  const network = await provider.getNetwork();
  assert.equal(network.chainId, 31337n);
  const accounts = await provider.send('eth_accounts', []);
  assert.deepEqual(accounts.map((a) => ethers.getAddress(a)), dev.map((a) => a.address));
  assert.equal(await provider.getBalance(dev[9].address), ethers.parseEther('10000'));
  const version = await provider.send('web3_clientVersion', []);
  assert.equal(typeof version, 'string');
  assert.ok(version.length > 0);
});

test('deploy an OpenZeppelin ERC-20 with ethers', async () => {
  const { E2EToken, Guard } = compile();
  const nonce = await provider.getTransactionCount(wallet.address, 'pending');
  const factory = new ethers.ContractFactory(E2EToken.abi, E2EToken.bytecode, wallet);
  token = await factory.deploy(kSupply);
  const receipt = await token.deploymentTransaction().wait();
  assert.equal(receipt.status, 1);
  const expected = ethers.getCreateAddress({ from: wallet.address, nonce });
  assert.equal(receipt.contractAddress, expected);
  assert.equal(await token.getAddress(), expected);
  assert.notEqual(await provider.getCode(expected), '0x');
  assert.equal(await token.name(), 'E2E Token');
  assert.equal(await token.symbol(), 'E2E');
  assert.equal(await token.decimals(), 18n);
  assert.equal(await token.totalSupply(), kSupply);
  assert.equal(await token.balanceOf(wallet.address), kSupply);
  // The mint's Transfer(0 -> deployer) is in the deployment receipt.
  const mint = receipt.logs.map((l) => token.interface.parseLog(l)).find((l) => l);
  assert.equal(mint.name, 'Transfer');
  assert.equal(mint.args.from, ethers.ZeroAddress);
  assert.equal(mint.args.value, kSupply);

  guard = await new ethers.ContractFactory(Guard.abi, Guard.bytecode, wallet).deploy();
  await guard.waitForDeployment();
});

test('transfer, with its Transfer event in the receipt', async () => {
  const tx = await token.transfer(dev[1].address, 1234n);
  transferReceipt = await tx.wait();
  assert.equal(transferReceipt.status, 1);
  assert.equal(transferReceipt.hash, tx.hash);
  assert.equal(transferReceipt.logs.length, 1);
  const ev = token.interface.parseLog(transferReceipt.logs[0]);
  assert.equal(ev.name, 'Transfer');
  assert.equal(ev.args.from, wallet.address);
  assert.equal(ev.args.to, dev[1].address);
  assert.equal(ev.args.value, 1234n);
  assert.equal(await token.balanceOf(dev[1].address), 1234n);
  assert.equal(await token.balanceOf(wallet.address), kSupply - 1234n);

  const got = await provider.getTransaction(tx.hash);
  assert.equal(got.from, wallet.address);
  assert.equal(got.to, await token.getAddress());
  assert.equal(got.nonce, tx.nonce);
  assert.equal(got.blockNumber, transferReceipt.blockNumber);
  assert.equal(got.blockHash, transferReceipt.blockHash);
  assert.equal(got.chainId, 31337n);
});

test('Transfer events through eth_getLogs (queryFilter and a raw filter object)', async () => {
  const logs = await token.queryFilter(token.filters.Transfer(wallet.address), 0, 'latest');
  assert.equal(logs.length, 1);
  assert.equal(logs[0].transactionHash, transferReceipt.hash);
  assert.equal(logs[0].args.value, 1234n);

  const raw = await provider.getLogs({
    address: await token.getAddress(),
    topics: [ethers.id('Transfer(address,address,uint256)')],
    fromBlock: transferReceipt.blockNumber,
    toBlock: transferReceipt.blockNumber,
  });
  assert.equal(raw.length, 1);
  const r = transferReceipt.logs[0];
  assert.equal(raw[0].blockHash, r.blockHash);
  assert.equal(raw[0].transactionHash, r.transactionHash);
  assert.equal(raw[0].index, r.index);
  assert.equal(raw[0].data, r.data);
  assert.deepEqual(raw[0].topics, r.topics);

  // A topic that matches nothing, and a range before the token existed.
  const none = await provider.getLogs({ address: await token.getAddress(),
    topics: [ethers.id('Approval(address,address,uint256)')], fromBlock: 0, toBlock: 'latest' });
  assert.equal(none.length, 0);
});

test('eth_newFilter / eth_newBlockFilter + eth_getFilterChanges', async () => {
  const address = await token.getAddress();
  const topic = ethers.id('Transfer(address,address,uint256)');
  const logFilter = await provider.send('eth_newFilter', [{ address, topics: [topic] }]);
  const blockFilter = await provider.send('eth_newBlockFilter', []);
  assert.deepEqual(await provider.send('eth_getFilterChanges', [logFilter]), []);

  const receipt = await (await token.transfer(dev[2].address, 77n)).wait();
  const changes = await provider.send('eth_getFilterChanges', [logFilter]);
  assert.equal(changes.length, 1);
  assert.equal(changes[0].transactionHash, receipt.hash);
  assert.equal(changes[0].blockHash, receipt.blockHash);
  assert.equal(BigInt(changes[0].data), 77n);
  assert.equal(ethers.getAddress(ethers.dataSlice(changes[0].topics[2], 12)), dev[2].address);
  assert.deepEqual(await provider.send('eth_getFilterChanges', [logFilter]), []);

  const blocks = await provider.send('eth_getFilterChanges', [blockFilter]);
  assert.ok(blocks.includes(receipt.blockHash), `${JSON.stringify(blocks)} has ${receipt.blockHash}`);

  assert.equal(await provider.send('eth_uninstallFilter', [logFilter]), true);
  assert.equal(await provider.send('eth_uninstallFilter', [blockFilter]), true);
  assert.equal(await provider.send('eth_uninstallFilter', [logFilter]), false);
});

test('eth_call and eth_estimateGas for an ERC-20 transfer', async () => {
  const estimate = await token.transfer.estimateGas(dev[3].address, 5n);
  assert.ok(estimate > 21000n && estimate < 100000n, `estimate ${estimate}`);
  const ret = await token.transfer.staticCall(dev[3].address, 5n);
  assert.equal(ret, true);
  assert.equal(await token.balanceOf(dev[3].address), 0n, 'eth_call changed state');
  const receipt = await (await token.transfer(dev[3].address, 5n, { gasLimit: estimate })).wait();
  assert.equal(receipt.status, 1);
  assert.ok(receipt.gasUsed <= estimate);
  const plain = await provider.estimateGas({ from: wallet.address, to: dev[4].address, value: 1n });
  assert.equal(plain, 21000n);
});

test('reverts decoded by ethers: require message and custom errors', async () => {
  await assert.rejects(guard.setSmall.staticCall(1000n), (e) => {
    assert.equal(e.code, 'CALL_EXCEPTION', e.message);
    assert.equal(e.reason, 'Guard: value too large');
    return true;
  });
  await assert.rejects(guard.setSmall.estimateGas(1000n), (e) => {
    assert.equal(e.code, 'CALL_EXCEPTION', e.message);
    assert.equal(e.reason, 'Guard: value too large');
    return true;
  });
  await assert.rejects(guard.setTiny.staticCall(50n), (e) => {
    assert.equal(e.code, 'CALL_EXCEPTION', e.message);
    assert.equal(e.revert?.name, 'TooLarge');
    assert.deepEqual([...e.revert.args], [50n, 10n]);
    return true;
  });
  // OpenZeppelin's own custom error, from an account that holds no tokens.
  const poor = token.connect(new ethers.Wallet(dev[5].privateKey, provider));
  await assert.rejects(poor.transfer.staticCall(dev[6].address, 1n), (e) => {
    assert.equal(e.code, 'CALL_EXCEPTION', e.message);
    assert.equal(e.revert?.name, 'ERC20InsufficientBalance');
    assert.deepEqual([...e.revert.args], [dev[5].address, 0n, 1n]);
    return true;
  });
  // Mined anyway (explicit gas limit): the receipt has status 0 and the state is unchanged.
  const tx = await guard.setSmall(1000n, { gasLimit: 100000n });
  await assert.rejects(tx.wait(), (e) => {
    assert.equal(e.code, 'CALL_EXCEPTION', e.message);
    assert.equal(e.receipt.status, 0);
    return true;
  });
  assert.equal(await guard.stored(), 0n);
  await (await guard.setSmall(42n)).wait();
  assert.equal(await guard.stored(), 42n);
});

test('nonce too low is NONCE_EXPIRED and changes nothing', async () => {
  const before = await provider.getTransactionCount(wallet.address, 'pending');
  const balance = await provider.getBalance(dev[7].address);
  await assert.rejects(
    wallet.sendTransaction({ to: dev[7].address, value: 1n, nonce: 0, gasLimit: 21000n }),
    (e) => {
      assert.equal(e.code, 'NONCE_EXPIRED', e.message);
      return true;
    });
  assert.equal(await provider.getTransactionCount(wallet.address, 'pending'), before);
  assert.equal(await provider.getBalance(dev[7].address), balance);
});

test('insufficient funds is INSUFFICIENT_FUNDS and changes nothing', async () => {
  const empty = ethers.Wallet.createRandom(provider);
  await assert.rejects(
    empty.sendTransaction({ to: dev[7].address, value: 1n, nonce: 0, gasLimit: 21000n }),
    (e) => {
      assert.equal(e.code, 'INSUFFICIENT_FUNDS', e.message);
      return true;
    });
  const rich = new ethers.Wallet(dev[8].privateKey, provider);
  await assert.rejects(
    rich.sendTransaction({ to: dev[7].address, value: ethers.parseEther('20000'),
      gasLimit: 21000n }),
    (e) => {
      assert.equal(e.code, 'INSUFFICIENT_FUNDS', e.message);
      return true;
    });
  assert.equal(await provider.getTransactionCount(empty.address, 'pending'), 0);
  assert.equal(await provider.getTransactionCount(rich.address, 'pending'), 0);
  assert.equal(await provider.getBalance(dev[8].address), ethers.parseEther('10000'));
});

test('gas price, fee data and eth_feeHistory as ethers uses them', async () => {
  const latest = await provider.getBlock('latest');
  assert.equal(typeof latest.baseFeePerGas, 'bigint');
  const fee = await provider.getFeeData();
  assert.ok(fee.gasPrice > 0n);
  assert.ok(fee.maxPriorityFeePerGas >= 0n);
  assert.ok(fee.maxFeePerGas >= latest.baseFeePerGas + fee.maxPriorityFeePerGas);
  const head = latest.number;
  const hist = await provider.send('eth_feeHistory', ['0x3', 'latest', [25, 75]]);
  assert.equal(BigInt(hist.oldestBlock), BigInt(head - 2));
  assert.equal(hist.baseFeePerGas.length, 4);
  assert.equal(BigInt(hist.baseFeePerGas[2]), latest.baseFeePerGas);
  assert.equal(hist.gasUsedRatio.length, 3);
  for (const r of hist.gasUsedRatio) assert.ok(r >= 0 && r <= 1);
  assert.equal(hist.reward.length, 3);
  for (const r of hist.reward) assert.equal(r.length, 2);
  // A type-2 transaction priced from the fee data is accepted and mined.
  const receipt = await (await wallet.sendTransaction({ to: dev[4].address, value: 1n })).wait();
  assert.equal(receipt.type, 2);
  assert.ok(receipt.gasPrice >= (await provider.getBlock(receipt.blockNumber)).baseFeePerGas);
});

test('blocks as ethers parses them', async () => {
  const head = await provider.getBlockNumber();
  const block = await provider.getBlock(transferReceipt.blockNumber, true);
  assert.equal(block.hash, transferReceipt.blockHash);
  assert.equal(block.number, transferReceipt.blockNumber);
  assert.ok(block.prefetchedTransactions.some((t) => t.hash === transferReceipt.hash));
  assert.equal(block.transactions.length, block.prefetchedTransactions.length);
  assert.ok(block.gasUsed >= transferReceipt.gasUsed);
  assert.ok(block.gasLimit >= block.gasUsed);
  const parent = await provider.getBlock(block.number - 1);
  assert.equal(block.parentHash, parent.hash);
  assert.ok(block.timestamp >= parent.timestamp);
  const byHash = await provider.getBlock(block.hash);
  assert.equal(byHash.number, block.number);
  const latest = await provider.getBlock('latest');
  assert.ok(latest.number >= head);
  assert.equal(await provider.getBlock(latest.number + 1000), null);
  const genesis = await provider.getBlock(0);
  assert.equal(genesis.number, 0);
  assert.equal(genesis.parentHash, ethers.ZeroHash);
});
