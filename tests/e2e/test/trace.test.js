// SPDX-License-Identifier: Apache-2.0
// debug_traceTransaction, debug_traceBlockByNumber / ByHash and debug_traceCall with geth's
// opcode logger (no tracer), callTracer and prestateTracer, the Parity-style trace_transaction,
// trace_block and trace_filter, and the Otterscan methods (ots_*), checked against anvil (started with
// --steps-tracing, which its opcode logger needs) (revm-inspectors' geth tracers) on the
// same transactions: one that makes every kind of frame (CALL with value, STATICCALL,
// DELEGATECALL, a reverted CALL with a reason and a log, CREATE2, SELFDESTRUCT, a CALL refused for
// insufficient balance, a precompile) and the same one reverting at the top.
// Where anvil departs from geth (eth/tracers/native: the top frame's gas is the transaction's gas
// limit; a failed frame's logs are dropped, the top one's included; contracts created where
// nothing was are left out of the prestate; logs carry no "index"; with onlyTopCall a log's
// position counts no calls; in a block trace each top frame's gasUsed is its receipt's), pel-node
// follows geth and the comparison says so. The sender's balance differs between the two nodes (each its own fees).
// pel-node only: under PEL_E2E_TARGET=anvil it would compare anvil with itself.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { ethers } = require('ethers');
const { startNode, mined, target } = require('../lib/node');
const { devAccounts } = require('../lib/accounts');
const { compile } = require('../lib/contracts');

const skip = target === 'anvil' ? 'compares pel-node with anvil' : false;
const dev = devAccounts();
const callTracer = { tracer: 'callTracer', tracerConfig: { withLog: true } };
const prestate = { tracer: 'prestateTracer' };
const prestateDiff = { tracer: 'prestateTracer', tracerConfig: { diffMode: true } };
const nodes = {};  // name -> { node, provider, txs: {deploy, run, bad}, root }
// Each test's own limit, under the runner's per-file one: a test that hangs fails by name, the
// rest still run, and after() prints the nodes' log tails (PEL_E2E_LOG_TAILS, as ctest sets it).
const timeout = 30000;

before(async () => {
  if (skip) return;
  const C = compile();
  nodes.pel = { node: await startNode() };
  nodes.anvil = { node: await startNode({ target: 'anvil',
    args: ['--disable-default-create2-deployer', '--steps-tracing'] }) };
  for (const n of Object.values(nodes)) {
    n.provider = new ethers.JsonRpcProvider(n.node.url, undefined,
      { pollingInterval: 50, cacheTimeout: -1, batchMaxCount: 1 });
    const wallet = new ethers.Wallet(dev[0].privateKey, n.provider);
    const lib = await new ethers.ContractFactory(C.TraceLib.abi, C.TraceLib.bytecode, wallet)
      .deploy();
    await mined(n.provider, lib.deploymentTransaction().hash);
    const root = await new ethers.ContractFactory(C.TraceRoot.abi, C.TraceRoot.bytecode, wallet)
      .deploy(await lib.getAddress(), { value: 10, gasLimit: 900_000 });
    await mined(n.provider, root.deploymentTransaction().hash);
    n.root = root;
    const to = await root.getAddress();
    const send = async (v, value) => {
      const tx = await wallet.sendTransaction({ to, value, gasLimit: 1_000_000,
        data: root.interface.encodeFunctionData('run', [v]) });
      return mined(n.provider, tx.hash);
    };
    n.txs = { deploy: root.deploymentTransaction().hash, lib: lib.deploymentTransaction().hash };
    const run = await send(5n, 3n);
    assert.equal(run.status, 1);
    n.txs.run = run.hash;
    const bad = await send(5000n, 0n);
    assert.equal(bad.status, 0);  // reverts at the top, after all its frames
    n.txs.bad = bad.hash;
  }
}, { timeout: 60000 });

after(async () => {
  for (const n of Object.values(nodes)) {
    if (n.provider) n.provider.destroy();
    await n.node.stop();
    n.node.cleanup();
  }
});

function traceTx(name, key, options) {
  const n = nodes[name];
  return n.provider.send('debug_traceTransaction', [n.txs[key], options]);
}

// The frames as anvil prints them, less what only anvil prints (a log's "index").
function withoutIndex(frame) {
  const out = { ...frame };
  if (out.logs) out.logs = out.logs.map(({ index, ...rest }) => rest);
  if (out.calls) out.calls = out.calls.map(withoutIndex);
  return out;
}

function frames(frame, out = []) {
  out.push(frame);
  for (const c of frame.calls || []) frames(c, out);
  return out;
}

test('callTracer: the frames, gas, outputs and logs anvil gives', { skip, timeout }, async () => {
  for (const key of ['deploy', 'run']) {
    const ours = await traceTx('pel', key, callTracer);
    const theirs = withoutIndex(await traceTx('anvil', key, callTracer));
    const tx = await nodes.pel.provider.getTransaction(nodes.pel.txs[key]);
    // geth: the top frame's gas is the transaction's gas limit (anvil: after intrinsic gas).
    assert.equal(BigInt(ours.gas), tx.gasLimit, key);
    assert.deepEqual({ ...ours, gas: undefined }, { ...theirs, gas: undefined }, key);
  }
  const run = await traceTx('pel', 'run', callTracer);
  assert.deepEqual(run.calls.map((c) => c.type), ['CALL', 'STATICCALL', 'DELEGATECALL', 'CALL',
    'CREATE2', 'CALL', 'CALL', 'STATICCALL']);
  const [ping, , delegate, fail, create2, boom, poor, sha] = run.calls;
  assert.equal(ping.value, '0x3');
  assert.equal(delegate.from, run.to);  // the delegating contract, not the original caller
  assert.equal(delegate.value, '0x3');  // a DELEGATECALL shows its parent's value
  assert.equal(fail.error, 'execution reverted');
  assert.equal(fail.revertReason, 'TraceChild: no');
  assert.equal(fail.logs, undefined);  // a reverted frame's logs are gone
  assert.equal(boom.calls[0].type, 'SELFDESTRUCT');
  assert.equal(boom.calls[0].to, run.from);
  assert.equal(boom.calls[0].value, '0x2');
  assert.equal(create2.to, boom.to);
  assert.equal(poor.error, 'insufficient balance for transfer');
  assert.equal(poor.gasUsed, '0x0');
  assert.equal(sha.to, '0x0000000000000000000000000000000000000002');
  assert.equal(run.logs.length, 1);
  assert.equal(run.logs[0].position, '0x8');  // after all eight calls
  // The receipt's gas and the trace's agree.
  const receipt = await nodes.pel.provider.getTransactionReceipt(nodes.pel.txs.run);
  assert.equal(BigInt(run.gasUsed), receipt.gasUsed);
});

test('callTracer: a transaction that reverts at the top, onlyTopCall', { skip, timeout }, async () => {
  const ours = await traceTx('pel', 'bad', { tracer: 'callTracer' });
  const theirs = await traceTx('anvil', 'bad', { tracer: 'callTracer' });
  assert.deepEqual({ ...ours, gas: undefined }, { ...theirs, gas: undefined });
  assert.equal(ours.error, 'execution reverted');
  assert.equal(ours.revertReason, 'TraceRoot: too big');
  // geth drops every log of a failed top frame and of the frames under it (anvil keeps them).
  const logged = await traceTx('pel', 'bad', callTracer);
  assert.ok(frames(logged).every((f) => f.logs === undefined));
  const top = await traceTx('pel', 'run', { tracer: 'callTracer',
    tracerConfig: { onlyTopCall: true, withLog: true } });
  const topAnvil = withoutIndex(await traceTx('anvil', 'run', { tracer: 'callTracer',
    tracerConfig: { onlyTopCall: true, withLog: true } }));
  assert.equal(top.calls, undefined);
  // geth counts a log's position among the calls it recorded: none with onlyTopCall (anvil counts
  // the calls it left out).
  assert.deepEqual(top.logs.map((l) => l.position), ['0x0']);
  const noPosition = (f) => ({ ...f, gas: undefined,
    logs: f.logs.map(({ position, ...rest }) => rest) });
  assert.deepEqual(noPosition(top), noPosition(topAnvil));
});

test('prestateTracer: the accounts and slots anvil gives, in both modes', { skip, timeout }, async () => {
  const sender = dev[0].address.toLowerCase();
  for (const key of ['deploy', 'run', 'bad']) {
    // Contracts the transaction created: geth leaves them out of the prestate, anvil lists them.
    const created = frames(await traceTx('anvil', key, { tracer: 'callTracer' }))
      .filter((f) => f.type === 'CREATE' || f.type === 'CREATE2').map((f) => f.to)
      .filter(Boolean);
    const plain = (m) => Object.fromEntries(Object.entries(m)
      .filter(([a]) => !created.includes(a))
      .map(([a, v]) => [a, a === sender ? { ...v, balance: undefined } : v]));
    const ours = await traceTx('pel', key, prestate);
    const theirs = await traceTx('anvil', key, prestate);
    assert.deepEqual(plain(ours), plain(theirs), key);
    assert.ok(created.every((a) => !(a in ours)), key);
    assert.ok(ours[sender].nonce >= 1);
    const diffOurs = await traceTx('pel', key, prestateDiff);
    const diffTheirs = await traceTx('anvil', key, prestateDiff);
    assert.deepEqual(plain(diffOurs.pre), plain(diffTheirs.pre), `${key} pre`);
    assert.deepEqual(plain(diffOurs.post), plain(diffTheirs.post), `${key} post`);
  }
  // The run's diff: the child's x went from 0 to 5, the root's slot 7 (written through the
  // DELEGATECALL) from 0 to 5, and the child got the 3 wei.
  const diff = await traceTx('pel', 'run', prestateDiff);
  const root = (await nodes.pel.root.getAddress()).toLowerCase();
  const slot = (n) => ethers.zeroPadValue(ethers.toBeHex(n), 32);
  assert.equal(diff.post[root].storage[slot(7)], slot(5));
  const child = (await nodes.pel.root.child()).toLowerCase();
  assert.equal(diff.post[child].storage[slot(0)], slot(5));
  assert.equal(BigInt(diff.post[child].balance) - BigInt(diff.pre[child].balance), 3n);
});

test('debug_traceBlockByNumber and ByHash trace a block of several transactions', { skip, timeout },
  async () => {
    // Three dependent transfers in one block (automine off): the last one is traced over the
    // state the first two left.
    const answers = {};
    for (const [name, n] of Object.entries(nodes)) {
      await n.provider.send('evm_setAutomine', [false]);
      const wallet = new ethers.Wallet(dev[3].privateKey, n.provider);
      const nonce = await n.provider.getTransactionCount(dev[3].address);
      const hashes = [];
      for (let i = 0; i < 3; ++i) {
        const tx = await wallet.sendTransaction({ to: await n.root.getAddress(), nonce: nonce + i,
          gasLimit: 1_000_000, value: 1n,
          data: n.root.interface.encodeFunctionData('run', [BigInt(100 + i)]) });
        hashes.push(tx.hash);
      }
      await n.provider.send('evm_mine', []);
      await n.provider.send('evm_setAutomine', [true]);
      const receipt = await n.provider.waitForTransaction(hashes[2]);
      const byNumber = await n.provider.send('debug_traceBlockByNumber',
        [ethers.toQuantity(receipt.blockNumber), callTracer]);
      const byHash = await n.provider.send('debug_traceBlockByHash', [receipt.blockHash, prestate]);
      assert.deepEqual(byNumber.map((t) => t.txHash), hashes, name);
      assert.deepEqual(byHash.map((t) => t.txHash), hashes, name);
      const last = await n.provider.send('debug_traceTransaction', [hashes[2], callTracer]);
      assert.deepEqual(byNumber[2].result, last, name);
      answers[name] = { byNumber, byHash };
    }
    // Each top frame's gasUsed is its own receipt's (anvil's block traces give the block's
    // running total).
    for (const t of answers.pel.byNumber) {
      const r = await nodes.pel.provider.getTransactionReceipt(t.txHash);
      assert.equal(BigInt(t.result.gasUsed), r.gasUsed);
    }
    const norm = (t) => ({ ...withoutIndex(t.result), gas: undefined, gasUsed: undefined });
    assert.deepEqual(answers.pel.byNumber.map(norm), answers.anvil.byNumber.map(norm));
    const slots = (t) => Object.fromEntries(Object.entries(t.result)
      .filter(([, v]) => v.storage).map(([a, v]) => [a, v.storage]));
    assert.deepEqual(answers.pel.byHash.map(slots), answers.anvil.byHash.map(slots));
  });

test('debug_traceCall traces a call with state overrides as anvil does', { skip, timeout }, async () => {
  const results = {};
  for (const [name, n] of Object.entries(nodes)) {
    const to = await n.root.getAddress();
    const call = { from: dev[5].address, to, value: '0x7', gas: '0x100000',
      data: n.root.interface.encodeFunctionData('run', [9n]) };
    const plainCall = await n.provider.send('debug_traceCall', [call, 'latest', callTracer]);
    // The root's slot 7 overridden to 42: the prestate shows the overridden value.
    const override = { [to]: { stateDiff: { [ethers.zeroPadValue('0x07', 32)]:
      ethers.zeroPadValue('0x2a', 32) } } };
    const pre = await n.provider.send('debug_traceCall', [call, 'latest',
      { ...prestate, stateOverrides: override }]);
    const logged = await n.provider.send('debug_traceCall', [call, 'latest', {}]);
    results[name] = { plainCall, pre, logged };
  }
  const ours = results.pel;
  const theirs = results.anvil;
  assert.deepEqual({ ...ours.plainCall, gas: undefined },
    { ...withoutIndex(theirs.plainCall), gas: undefined });
  const root = (await nodes.pel.root.getAddress()).toLowerCase();
  assert.equal(ours.pre[root].storage[ethers.zeroPadValue('0x07', 32)],
    ethers.zeroPadValue('0x2a', 32));
  assert.deepEqual(ours.pre[root].storage, theirs.pre[root].storage);
  // The opcode logger through debug_traceCall: the same steps.
  assert.ok(ours.logged.structLogs.length > 100);
  assertSameSteps(ours.logged, theirs.logged, 'debug_traceCall');
});

test('trace_transaction, trace_block and trace_filter: the Parity-style traces anvil gives',
  { skip, timeout }, async () => {
    // Each node's traces carry its own block and transaction hashes; the rest is the same.
    const own = async (name, traces) => {
      const p = nodes[name].provider;
      for (const t of traces) {
        const block = await p.getBlock(t.blockNumber);
        assert.equal(t.blockHash, block.hash, name);
        assert.equal(t.transactionHash, block.transactions[t.transactionPosition], name);
      }
      return traces.map((t) => ({ ...t, blockHash: undefined, transactionHash: undefined }));
    };
    const send = (name, method, params) => nodes[name].provider.send(method, params);
    for (const key of ['deploy', 'run', 'bad']) {
      const ours = await send('pel', 'trace_transaction', [nodes.pel.txs[key]]);
      const theirs = await send('anvil', 'trace_transaction', [nodes.anvil.txs[key]]);
      assert.deepEqual(await own('pel', ours), await own('anvil', theirs), key);
    }
    const run = await send('pel', 'trace_transaction', [nodes.pel.txs.run]);
    assert.deepEqual(run.map((t) => t.type),
      ['call', 'call', 'call', 'call', 'call', 'create', 'call', 'suicide', 'call', 'call']);
    assert.deepEqual(run.map((t) => t.traceAddress),
      [[], [0], [1], [2], [3], [4], [5], [5, 0], [6], [7]]);
    assert.deepEqual(run.map((t) => t.action.callType),
      ['call', 'call', 'staticcall', 'delegatecall', 'call', undefined, 'call', undefined, 'call',
        'staticcall']);
    assert.equal(run[4].error, 'Reverted');
    assert.ok(run[4].result.output.startsWith('0x08c379a0'));  // a revert keeps its output
    assert.equal(run[5].action.creationMethod, 'create2');
    assert.equal(run[7].action.refundAddress, dev[0].address.toLowerCase());
    assert.equal(run[8].error, 'Insufficient balance for transfer');
    assert.equal(run[8].result, null);
    // The top trace's gas leaves out the intrinsic gas, in both its gas and its gasUsed.
    const tx = await nodes.pel.provider.getTransaction(nodes.pel.txs.run);
    const receipt = await nodes.pel.provider.getTransactionReceipt(nodes.pel.txs.run);
    assert.equal(receipt.gasUsed - BigInt(run[0].result.gasUsed),
      tx.gasLimit - BigInt(run[0].action.gas));
    assert.equal(await send('pel', 'trace_transaction', [ethers.ZeroHash]), null);

    // trace_block: the block of three transactions the block-trace test made, and the run's.
    const head = {};
    for (const name of Object.keys(nodes)) head[name] = await nodes[name].provider.getBlockNumber();
    assert.equal(head.pel, head.anvil);
    for (const n of [receipt.blockNumber, head.pel]) {
      const ours = await send('pel', 'trace_block', [ethers.toQuantity(n)]);
      const theirs = await send('anvil', 'trace_block', [ethers.toQuantity(n)]);
      assert.ok(ours.length > 0);
      assert.deepEqual(await own('pel', ours), await own('anvil', theirs), `block ${n}`);
    }
    assert.deepEqual(await send('pel', 'trace_block', [ethers.toQuantity(receipt.blockNumber)]),
      run);

    // trace_filter: by caller, by callee, either or both (reth's and anvil's "mode"), and a page.
    const root = (await nodes.pel.root.getAddress()).toLowerCase();
    const child = (await nodes.pel.root.child()).toLowerCase();
    const range = { fromBlock: '0x1', toBlock: ethers.toQuantity(head.pel) };
    for (const f of [{ toAddress: [root] }, { fromAddress: [root] },
      { fromAddress: [root], toAddress: [child] },
      { fromAddress: [root], toAddress: [child], mode: 'intersection' },
      { fromAddress: [root], after: 2, count: 3 }]) {
      const ours = await send('pel', 'trace_filter', [{ ...range, ...f }]);
      const theirs = await send('anvil', 'trace_filter', [{ ...range, ...f }]);
      assert.ok(ours.length > 0, JSON.stringify(f));
      assert.deepEqual(await own('pel', ours), await own('anvil', theirs), JSON.stringify(f));
    }
    await assert.rejects(send('pel', 'trace_filter', [{ fromBlock: '0x2', toBlock: '0x1' }]),
      (e) => e.error && e.error.code === -32602);
  });

// geth's opcode logger as both print it: anvil writes memory words and refunds its own way
// (0x-prefixed words, a refund and returnData on every step), and counts the gas a CREATE
// forwards in its cost, as geth does not.
function steps(trace) {
  return trace.structLogs.map((s) => ({
    pc: s.pc, op: s.op, gas: s.gas, gasCost: s.gasCost, depth: s.depth, stack: s.stack,
    error: s.error, refund: s.refund || 0,
    memory: s.memory && s.memory.map((m) => m.replace(/^0x/, '')),
    returnData: s.returnData && s.returnData !== '0x' ? s.returnData : undefined,
    storage: s.storage && Object.fromEntries(Object.entries(s.storage)
      .map(([k, v]) => [k.replace(/^0x/, '').padStart(64, '0'), v.replace(/^0x/, '').padStart(64, '0')])),
  }));
}

function assertSameSteps(ours, theirs, key) {
  const a = steps(ours);
  const b = steps(theirs);
  assert.equal(a.length, b.length, key);
  for (let i = 0; i < a.length; ++i) {
    if (a[i].op === 'CREATE' || a[i].op === 'CREATE2') {
      // geth: a create's cost leaves out the gas it forwards, all but a 64th of what is left
      // after the cost (anvil counts it, whether or not the create could start).
      const left = a[i].gas - a[i].gasCost;
      assert.equal(b[i].gasCost, a[i].gasCost + left - Math.floor(left / 64), `${key} step ${i}`);
      b[i].gasCost = a[i].gasCost;
    }
  }
  assert.deepEqual(a, b, key);
}

test('trace_replayBlockTransactions, trace_replayTransaction and trace_call: output and stateDiff',
  { skip, timeout }, async () => {
    const send = (name, method, params) => nodes[name].provider.send(method, params);
    const dev0 = dev[0].address.toLowerCase();
    const kinds = ['trace', 'stateDiff'];
    for (const key of ['deploy', 'run', 'bad']) {
      const answers = {};
      for (const name of ['pel', 'anvil']) {
        const n = nodes[name];
        const receipt = await n.provider.getTransactionReceipt(n.txs[key]);
        const [r] = await send(name, 'trace_replayBlockTransactions',
          [ethers.toQuantity(receipt.blockNumber), kinds]);
        assert.equal(r.transactionHash, n.txs[key], name);
        if (name === 'pel') {
          // trace_replayTransaction answers the same, without the hash.
          const { transactionHash, ...rest } = r;
          assert.deepEqual(await send(name, 'trace_replayTransaction', [n.txs[key], kinds]), rest);
        }
        // The sender's balance moves by each node's own fees.
        const b = r.stateDiff[dev0].balance['*'];
        assert.ok(BigInt(b.from) > BigInt(b.to), `${name} ${key}`);
        answers[name] = { ...r, transactionHash: undefined,
          stateDiff: { ...r.stateDiff, [dev0]: { ...r.stateDiff[dev0], balance: undefined } } };
      }
      const { trace, ...ours } = answers.pel;
      const { trace: anvilTrace, ...theirs } = answers.anvil;
      assert.deepEqual(ours, theirs, key);
      // The traces are trace_transaction's without the block fields (anvil's replay leaves out
      // calls to precompiles, which its trace_transaction keeps).
      const full = await send('pel', 'trace_transaction', [nodes.pel.txs[key]]);
      assert.deepEqual(trace, full.map(({ blockHash, blockNumber, transactionHash,
        transactionPosition, ...rest }) => rest), key);
      assert.ok(anvilTrace.length >= trace.length - 1, key);
    }
    // The deployment's contract appears: every field "+".
    const deployed = (await nodes.pel.provider.getTransactionReceipt(nodes.pel.txs.deploy))
      .contractAddress.toLowerCase();
    const [created] = await send('pel', 'trace_replayBlockTransactions',
      [ethers.toQuantity((await nodes.pel.provider.getTransactionReceipt(nodes.pel.txs.deploy))
        .blockNumber), ['stateDiff']]);
    assert.deepEqual(created.stateDiff[deployed].balance, { '+': '0x9' });  // 10 less 1 to its child
    assert.deepEqual(created.stateDiff[deployed].nonce, { '+': '0x2' });  // it created its child
    assert.ok(created.stateDiff[deployed].code['+'].length > 2);
    assert.deepEqual(created.trace, []);  // not asked for
    // trace_call of the same call at the block before: the same answer, less what the fee
    // changed (a call that names no fee pays none).
    const tx = await nodes.pel.provider.getTransaction(nodes.pel.txs.run);
    const call = { from: tx.from, to: tx.to, value: ethers.toQuantity(tx.value), data: tx.data,
      gas: ethers.toQuantity(tx.gasLimit) };
    const simulated = await send('pel', 'trace_call',
      [call, kinds, ethers.toQuantity(tx.blockNumber - 1)]);
    const replayed = await send('pel', 'trace_replayTransaction', [nodes.pel.txs.run, kinds]);
    assert.equal(simulated.output, replayed.output);
    assert.deepEqual(simulated.trace, replayed.trace);
    const accounts = (d) => Object.fromEntries(Object.entries(d)
      .filter(([a]) => a !== dev0 && a !== ethers.ZeroAddress));
    assert.deepEqual(accounts(simulated.stateDiff), accounts(replayed.stateDiff));
    assert.deepEqual(simulated.stateDiff[dev0].nonce, replayed.stateDiff[dev0].nonce);
    const only = await send('pel', 'trace_replayTransaction', [nodes.pel.txs.run, ['trace']]);
    assert.equal(only.stateDiff, null);
    assert.equal(only.vmTrace, null);
    const e = await send('pel', 'trace_replayTransaction', [nodes.pel.txs.run, ['vmTrace']])
      .catch((x) => x.error);
    assert.equal(e.code, -32602);
    assert.match(e.message, /"vmTrace" is not supported/);
  });

test('the opcode logger (no tracer): every step as anvil records it', { skip, timeout }, async () => {
  const options = { enableMemory: true, enableReturnData: true };
  for (const key of ['deploy', 'run', 'bad']) {
    const ours = await traceTx('pel', key, options);
    const theirs = await traceTx('anvil', key, options);
    assert.equal(ours.gas, theirs.gas, key);
    assert.equal(ours.failed, theirs.failed, key);
    assert.equal(ours.returnValue, theirs.returnValue, key);
    assert.ok(ours.structLogs.length > 100, key);
    assertSameSteps(ours, theirs, key);
  }
  // Stack off, a limit, and the SSTORE of the DELEGATECALL's slot 7 with its storage map.
  const short = await traceTx('pel', 'run', { disableStack: true, limit: 20 });
  assert.equal(short.structLogs.length, 20);
  assert.ok(short.structLogs.every((s) => s.stack === undefined && s.memory === undefined));
  const full = await traceTx('pel', 'run', {});
  const sstore = full.structLogs.find((s) => s.op === 'SSTORE' && s.depth === 2 &&
    s.storage['0000000000000000000000000000000000000000000000000000000000000007']);
  assert.ok(sstore, 'the library writes slot 7 in the root\'s storage');
  assert.equal(BigInt(sstore.stack.at(-2)), 5n);
});

test('debug_trace* refuses what it cannot do, with clear errors', { skip, timeout }, async () => {
  const p = nodes.pel.provider;
  const code = async (promise) => {
    try {
      await promise;
    } catch (e) {
      return e.error;
    }
    assert.fail('expected an error');
  };
  const hash = nodes.pel.txs.run;
  let e = await code(p.send('debug_traceTransaction', [hash, { tracer: '4byteTracer' }]));
  assert.equal(e.code, -32602);
  assert.match(e.message, /tracer "4byteTracer" is not supported/);
  e = await code(p.send('debug_traceTransaction', [hash,
    { tracer: 'callTracer', tracerConfig: { onlyTopCall: 'yes' } }]));
  assert.match(e.message, /onlyTopCall: expected a boolean/);
  e = await code(p.send('debug_traceTransaction', [ethers.ZeroHash, callTracer]));
  assert.equal(e.message, 'transaction not found');
  e = await code(p.send('debug_traceBlockByNumber', ['0xffffff', callTracer]));
  assert.match(e.message, /not found/);
  // noopTracer answers {}; genesis has nothing to trace.
  assert.deepEqual(await p.send('debug_traceTransaction', [hash, { tracer: 'noopTracer' }]), {});
  assert.deepEqual(await p.send('debug_traceBlockByNumber', ['0x0', callTracer]), []);
});

test('the Otterscan methods (ots_*) as anvil answers them, Erigon\'s rules where anvil departs',
  { skip, timeout }, async () => {
    const ots = (name, method, params) => nodes[name].provider.send(method, params);
    const both = async (method, paramsOf) => Promise.all(['pel', 'anvil'].map(
      (name) => ots(name, method, paramsOf(nodes[name]))));
    const dev0 = dev[0].address.toLowerCase();
    assert.deepEqual(await both('ots_getApiLevel', () => []), [8, 8]);

    // Every frame of the transaction. Erigon's rules, where anvil departs: CREATE2 and
    // SELFDESTRUCT have entries (anvil leaves them out), STATICCALL and DELEGATECALL no value.
    const [ours, theirs] = await both('ots_traceTransaction', (n) => [n.txs.run]);
    const anvilValue = (e) => (['STATICCALL', 'DELEGATECALL'].includes(e.type)
      ? { ...e, value: null } : e);
    assert.deepEqual(ours.filter((e) => !['CREATE2', 'SELFDESTRUCT'].includes(e.type)),
      theirs.map(anvilValue));
    const create2 = ours.find((e) => e.type === 'CREATE2');
    const root = (await nodes.pel.root.getAddress()).toLowerCase();
    assert.equal(create2.from, root);
    assert.equal(create2.depth, 1);
    assert.equal(create2.value, '0x2');
    const gone = ours.find((e) => e.type === 'SELFDESTRUCT');
    assert.deepEqual(gone, { type: 'SELFDESTRUCT', depth: 2, from: create2.to, to: dev0,
      value: '0x2', input: '0x', output: '0x' });
    assert.ok(ours.indexOf(gone) > ours.indexOf(create2));

    // Transfers, creates and self-destructs below the top frame (anvil also lists the
    // transaction's own value as the first transfer).
    const [ops, anvilOps] = await both('ots_getInternalOperations', (n) => [n.txs.run]);
    assert.deepEqual(ops, anvilOps.slice(1));
    assert.deepEqual(anvilOps[0], { type: 0, from: dev0, to: root, value: '0x3' });
    assert.deepEqual(ops.map((o) => o.type), [0, 3, 1, 0]);

    const [bad, anvilBad] = await both('ots_getTransactionError', (n) => [n.txs.bad]);
    assert.equal(bad, anvilBad);
    assert.equal(ethers.AbiCoder.defaultAbiCoder().decode(['string'],
      ethers.dataSlice(bad, 4))[0], 'TraceRoot: too big');
    assert.deepEqual(await both('ots_getTransactionError', (n) => [n.txs.run]), ['0x', '0x']);

    for (const name of ['pel', 'anvil']) {
      const n = nodes[name];
      const creator = (a) => ots(name, 'ots_getContractCreator', [a]);
      assert.deepEqual(await creator(root), { hash: n.txs.deploy, creator: dev0 }, name);
      const lib = (await n.provider.getTransactionReceipt(n.txs.lib)).contractAddress;
      assert.deepEqual(await creator(lib), { hash: n.txs.lib, creator: dev0 }, name);
      assert.equal(await creator(dev0), null, name);  // no code
      if (name === 'pel') {
        // Destroyed in the transaction that made it: no code now, so no creator (Erigon's rule;
        // anvil finds its CREATE2).
        assert.equal(await creator(create2.to), null, name);
      }
      const bySenderNonce = (nonce) => ots(name, 'ots_getTransactionBySenderAndNonce',
        [dev0, nonce]);
      assert.equal(await bySenderNonce(2), n.txs.run, name);
      assert.equal(await bySenderNonce(0), n.txs.lib, name);
      assert.equal(await bySenderNonce(99), null, name);
      assert.equal(await ots(name, 'ots_hasCode', [root, 'latest']), true, name);
      assert.equal(await ots(name, 'ots_hasCode', [dev0, 'latest']), false, name);
      assert.equal(await ots(name, 'ots_hasCode', [root, '0x1']), false, name);

      // Block details: the block without transactions, with their count and total fees.
      const receipt = await n.provider.send('eth_getTransactionReceipt', [n.txs.run]);
      const number = Number(receipt.blockNumber);
      const details = await ots(name, 'ots_getBlockDetails', [number]);
      assert.equal(details.block.hash, receipt.blockHash, name);
      assert.equal(details.block.transactionCount, 1, name);
      assert.equal(details.block.transactions, undefined, name);
      assert.deepEqual(details.issuance, { blockReward: '0x0', uncleReward: '0x0', issuance: '0x0' });
      assert.equal(BigInt(details.totalFees),
        BigInt(receipt.gasUsed) * BigInt(receipt.effectiveGasPrice), name);
      assert.deepEqual(await ots(name, 'ots_getBlockDetailsByHash', [receipt.blockHash]),
        details, name);
      const page = await ots(name, 'ots_getBlockTransactions', [number, 0, 5]);
      assert.equal(page.fullblock.transactions.length, 1, name);
      assert.equal(page.fullblock.transactions[0].hash, n.txs.run, name);
      assert.equal(page.fullblock.transactions[0].input, '0xa444f5e9', name);  // selector only
      assert.equal(page.receipts[0].transactionHash, n.txs.run, name);
      assert.equal(page.receipts[0].gasUsed, receipt.gasUsed, name);
    }
    // Erigon leaves out what the pages do not show (anvil keeps it).
    const details = await ots('pel', 'ots_getBlockDetails', [1]);
    assert.equal(details.block.logsBloom, null);
    const page = await ots('pel', 'ots_getBlockTransactions', [1, 0, 5]);
    assert.equal(page.receipts[0].logs, null);
    assert.equal(page.receipts[0].logsBloom, null);

    // An address's transactions, newest first, a page at a time, as the blocks themselves show
    // them (the earlier tests sent more), on both nodes alike.
    const history = async (name, address) => {
      const p = nodes[name].provider;
      const out = [];
      for (let n = await p.getBlockNumber(); n >= 1; n--) {
        const b = await p.send('eth_getBlockByNumber', [ethers.toQuantity(n), true]);
        for (const t of [...b.transactions].reverse()) {
          let hit = t.from === address || t.to === address;
          if (!hit && t.to === null) {
            hit = (await p.send('eth_getTransactionReceipt', [t.hash])).contractAddress === address;
          }
          if (hit) out.push(t.hash);
        }
      }
      return out;
    };
    const allPages = async (name, address, size) => {
      const pages = [];
      let block = 0;
      for (;;) {
        const r = await ots(name, 'ots_searchTransactionsBefore', [address, block, size]);
        assert.equal(r.firstPage, block === 0, name);
        assert.deepEqual(r.receipts.map((x) => x.transactionHash), r.txs.map((t) => t.hash));
        pages.push(r);
        if (r.lastPage) return pages;
        assert.ok(r.txs.length >= size, name);
        block = Number(r.txs.at(-1).blockNumber);
      }
    };
    const nonces = (r) => r.txs.map((t) => Number(t.nonce));
    const dev0Pages = {};
    for (const name of ['pel', 'anvil']) {
      dev0Pages[name] = await allPages(name, dev0, 2);
      const found = dev0Pages[name].flatMap((r) => r.txs.map((t) => t.hash));
      assert.deepEqual(found, await history(name, dev0), name);
      const first = dev0Pages[name][0];
      const block0 = await nodes[name].provider.getBlock(Number(first.txs[0].blockNumber));
      assert.equal(first.receipts[0].timestamp, ethers.toQuantity(block0.timestamp), name);
      const r = await ots(name, 'ots_searchTransactionsAfter', [dev0, 0, 2]);
      assert.deepEqual([nonces(r), r.firstPage, r.lastPage], [[1, 0], false, true], name);
    }
    assert.deepEqual(dev0Pages.pel.map(nonces), dev0Pages.anvil.map(nonces));
    // pel-node finds a contract's creation too (anvil matches calls only).
    const rootPages = await allPages('pel', root, 10);
    assert.deepEqual(rootPages.flatMap((r) => r.txs.map((t) => t.hash)),
      await history('pel', root));
    assert.equal(rootPages.at(-1).txs.at(-1).hash, nodes.pel.txs.deploy);
    const after = await ots('pel', 'ots_searchTransactionsAfter', [dev0, 2, 1]);
    assert.deepEqual([nonces(after), after.firstPage, after.lastPage], [[2], false, false]);

    // Pages of a block count from its end (Erigon's rule; anvil counts from the start): three
    // transfers in one block, two per page.
    const p = nodes.pel.provider;
    await p.send('evm_setAutomine', [false]);
    const wallet = new ethers.Wallet(dev[3].privateKey, p);
    const sent = [];
    const nonce = await p.getTransactionCount(wallet.address);
    for (let i = 0; i < 3; i++) {
      sent.push((await wallet.sendTransaction({ to: dev0, value: 1, nonce: nonce + i,
        gasLimit: 21000 })).hash);
    }
    await p.send('evm_mine', []);
    await p.send('evm_setAutomine', [true]);
    const number = await p.getBlockNumber();
    const page0 = await ots('pel', 'ots_getBlockTransactions', [number, 0, 2]);
    const page1 = await ots('pel', 'ots_getBlockTransactions', [number, 1, 2]);
    const page2 = await ots('pel', 'ots_getBlockTransactions', [number, 2, 2]);
    assert.deepEqual(page0.fullblock.transactions.map((t) => t.hash), sent.slice(1));
    assert.deepEqual(page0.receipts.map((t) => t.transactionHash), sent.slice(1));
    assert.deepEqual(page1.fullblock.transactions.map((t) => t.hash), sent.slice(0, 1));
    assert.deepEqual(page2.fullblock.transactions, []);
    assert.equal(page0.fullblock.transactionCount, 3);
    // dev0 received all three: one block, so one page even at page size 1.
    const recv = await ots('pel', 'ots_searchTransactionsBefore', [dev0, 0, 1]);
    assert.deepEqual(recv.txs.map((t) => t.hash), [...sent].reverse());

    let e = await ots('pel', 'ots_getBlockTransactions', [number, 0, 0]).catch((x) => x.error);
    assert.match(e.message, /page size must be 1 to 1000/);
    e = await ots('pel', 'ots_traceTransaction', [ethers.ZeroHash]).catch((x) => x.error);
    assert.match(e.message, /not found/);
    e = await ots('pel', 'ots_getBlockDetails', [number + 100]).catch((x) => x.error);
    assert.equal(e.message, 'block not found');
  });
