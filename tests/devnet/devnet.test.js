// SPDX-License-Identifier: Apache-2.0
// A 4-validator devnet (scripts/devnet.sh) under faults, end to end:
//   1. up 4: every node has 3 peers; signed ETH transfers (one at a time and a burst) and ERC-20
//      (BenchToken) deployment and transfers, sent to different nodes, get receipts;
//   2. every node has the same block hash and stateRoot at a common height;
//   3. kill -9 one node: the other three keep committing (>= 3 more blocks) and mine what is sent
//      to them;
//   4. kill -9 a second node: no quorum, so no block for several seconds; the two survivors agree
//      on every block they have (no fork); a transaction sent meanwhile is accepted and waits;
//   5. restart both: they catch up, the chain goes on (transactions sent to the restarted nodes
//      are mined), and all four agree on every block up to a common height;
//   6. every transaction any node accepted has a receipt on every node, in the same block, and
//      every sender's nonce and token balance agree on every node.
// PEL_NODE: the pel-node binary. Ports: a random free range on 127.0.0.1. The devnet folder is a
// temporary directory (PEL_DEVNET_DIR when set, e.g. by run-ctest.sh), always torn down at the
// end; on failure the nodes' last log lines are printed.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { execFile } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
// ethers and the dev-account derivation come from tests/e2e's locked npm packages.
const { ethers } = require('../e2e/node_modules/ethers');
const { devAccounts } = require('../e2e/lib/accounts');

const kRepo = path.resolve(__dirname, '..', '..');
const kScript = path.join(kRepo, 'scripts', 'devnet.sh');
const kNodes = 4;
const kGwei = 10n ** 9n;
const kTokenGas = 120000n;
const token = JSON.parse(fs.readFileSync(path.join(kRepo, 'contracts', 'build', 'BenchToken.json'),
  'utf8'));
const tokenIface = new ethers.Interface(token.abi);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const t0 = Date.now();
const stamp = () => `${((Date.now() - t0) / 1000).toFixed(1)}s`;
function log(msg) {
  console.log(`[devnet ${stamp()}] ${msg}`);
}

// --- ports and the devnet script ----------------------------------------------------------------

function portFree(port) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

// A base port B such that B..B+3 (RPC) and B+10..B+13 (p2p) are free; below Linux's ephemeral
// range so that outgoing connections do not take them meanwhile.
async function freeBase() {
  for (let attempt = 0; attempt < 100; attempt++) {
    const base = 10000 + 20 * Math.floor(Math.random() * 1100);
    const ports = [];
    for (let i = 0; i < kNodes; i++) ports.push(base + i, base + 10 + i);
    const free = await Promise.all(ports.map(portFree));
    if (free.every(Boolean)) return base;
  }
  throw new Error('no free port range found on 127.0.0.1');
}

function devnet(env, ...args) {
  return new Promise((resolve, reject) => {
    execFile('bash', [kScript, ...args], { env, timeout: 120000, maxBuffer: 1 << 24 },
      (err, stdout, stderr) => {
        if (err) {
          err.message = `scripts/devnet.sh ${args.join(' ')} failed (${err.code ?? err.signal}):\n`
            + `${stdout}${stderr}`;
          reject(err);
        } else {
          resolve(stdout + stderr);
        }
      });
  });
}

// --- JSON-RPC ------------------------------------------------------------------------------------

async function post(url, body) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10000),
  });
  if (res.status !== 200) throw new Error(`${url}: HTTP ${res.status}: ${await res.text()}`);
  return res.json();
}

async function rpc(url, method, params = []) {
  const r = await post(url, { jsonrpc: '2.0', id: 1, method, params });
  if (r.error) throw new Error(`${url} ${method}: ${JSON.stringify(r.error)}`);
  return r.result;
}

// Many calls in batches of 100; results in order; a JSON-RPC error fails the call.
async function rpcBatch(url, calls) {
  const out = [];
  for (let i = 0; i < calls.length; i += 100) {
    const chunk = calls.slice(i, i + 100);
    const r = await post(url, chunk.map(([method, params], j) => ({ jsonrpc: '2.0', id: j, method,
      params })));
    assert.ok(Array.isArray(r), `${url}: batch answered ${JSON.stringify(r).slice(0, 200)}`);
    const byId = new Map(r.map((x) => [x.id, x]));
    for (let j = 0; j < chunk.length; j++) {
      const x = byId.get(j);
      if (!x || x.error) throw new Error(`${url} ${chunk[j][0]}: ${JSON.stringify(x)}`);
      out.push(x.result);
    }
  }
  return out;
}

async function waitFor(what, fn, timeoutMs, intervalMs = 200) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`
        + (last ? ` (last error: ${last.message})` : ''));
    }
    await sleep(intervalMs);
  }
}

// --- the devnet under test ----------------------------------------------------------------------

class Devnet {
  constructor() {
    this.dir = process.env.PEL_DEVNET_DIR
      || fs.mkdtempSync(path.join(os.tmpdir(), 'pel-devnet-'));
    this.ownDir = !process.env.PEL_DEVNET_DIR;
    this.urls = [];
    this.env = null;
    this.accepted = []; // { hash, node, what }
    this.nonces = new Map(); // address -> next nonce
  }

  async up() {
    if (!process.env.PEL_NODE) throw new Error('PEL_NODE is not set (path of the pel-node binary)');
    const base = await freeBase();
    this.env = {
      ...process.env,
      PEL_DEVNET_DIR: path.join(this.dir, 'net'),
      PEL_DEVNET_RPC_BASE: String(base),
      PEL_DEVNET_P2P_BASE: String(base + 10),
      PEL_DEVNET_METRICS_BASE: '0',
      PEL_DEVNET_THREADS: process.env.PEL_DEVNET_THREADS || '1',
      PEL_DEVNET_BLOCK_TIME: process.env.PEL_DEVNET_BLOCK_TIME || '1',
      PEL_DEVNET_TIMEOUT: '60',
      PEL_DEVNET_STOP_TIMEOUT: '10',
    };
    for (let i = 0; i < kNodes; i++) this.urls.push(`http://127.0.0.1:${base + i}`);
    log(`up ${kNodes} (RPC ports ${base}..${base + kNodes - 1}, p2p ${base + 10}..)`);
    log(await this.run('up', String(kNodes)));
  }

  run(...args) {
    return devnet(this.env, ...args);
  }

  async heads(nodes) {
    return Promise.all(nodes.map(async (i) => Number(await rpc(this.urls[i], 'eth_blockNumber'))));
  }

  async send(node, wallet, tx, what) {
    const from = wallet.address;
    if (!this.nonces.has(from)) {
      this.nonces.set(from, Number(await rpc(this.urls[node], 'eth_getTransactionCount',
        [from, 'pending'])));
    }
    const nonce = this.nonces.get(from);
    const raw = await wallet.signTransaction({
      type: 2, chainId: this.chainId, nonce, maxFeePerGas: this.maxFee,
      maxPriorityFeePerGas: kGwei, ...tx,
    });
    const hash = await rpc(this.urls[node], 'eth_sendRawTransaction', [raw]);
    assert.equal(hash, ethers.keccak256(raw), `node ${node} returned another hash for ${what}`);
    this.nonces.set(from, nonce + 1);
    this.accepted.push({ hash, node, what });
    return hash;
  }

  async receipt(node, hash, timeoutMs = 60000) {
    const r = await waitFor(`the receipt of ${hash} on node ${node}`,
      () => rpc(this.urls[node], 'eth_getTransactionReceipt', [hash]), timeoutMs);
    assert.equal(r.status, '0x1', `transaction ${hash} failed: ${JSON.stringify(r)}`);
    return r;
  }

  // Every listed node has the same hash for blocks 0..h (and the same stateRoot at h).
  async checkSameChain(nodes, h) {
    const calls = [];
    for (let b = 0; b <= h; b++) calls.push(['eth_getBlockByNumber', [ethers.toQuantity(b), false]]);
    const chains = await Promise.all(nodes.map((i) => rpcBatch(this.urls[i], calls)));
    for (let b = 0; b <= h; b++) {
      for (let k = 1; k < nodes.length; k++) {
        assert.ok(chains[k][b], `node ${nodes[k]} has no block ${b}`);
        assert.equal(chains[k][b].hash, chains[0][b].hash,
          `fork: nodes ${nodes[0]} and ${nodes[k]} disagree on block ${b}`);
        assert.equal(chains[k][b].stateRoot, chains[0][b].stateRoot,
          `nodes ${nodes[0]} and ${nodes[k]} disagree on the stateRoot of block ${b}`);
      }
    }
    return chains[0][h];
  }

  async logTails(lines = 40) {
    let out = '';
    for (let i = 0; i < kNodes; i++) {
      const f = path.join(this.env.PEL_DEVNET_DIR, `node${i}.log`);
      if (!fs.existsSync(f)) continue;
      const all = fs.readFileSync(f, 'utf8').split('\n');
      out += `--- node ${i}: last ${lines} lines of ${f} ---\n${all.slice(-lines - 1).join('\n')}\n`;
    }
    return out;
  }

  async teardown(failed) {
    if (this.env) {
      if (failed) {
        try {
          console.log(await this.run('status'));
        } catch (e) {
          console.log(e.message);
        }
        console.log(await this.logTails());
      }
      try {
        log(await this.run('down'));
      } catch (e) {
        console.log(`teardown: ${e.message}`);
      }
    }
    if (this.ownDir && !process.env.PEL_DEVNET_KEEP) {
      fs.rmSync(this.dir, { recursive: true, force: true });
    }
  }
}

// --- the scenario --------------------------------------------------------------------------------

test('devnet: 4 validators, transactions to every node, crash faults, restart and catch-up',
  { timeout: 270000 }, async () => {
    const net4 = new Devnet();
    const timings = [];
    const dev = devAccounts().map((a) => new ethers.Wallet(a.privateKey));
    const all = [0, 1, 2, 3];
    let phaseStart = Date.now();
    const phaseDone = (name) => {
      const s = (Date.now() - phaseStart) / 1000;
      timings.push([name, s]);
      log(`${name}: ${s.toFixed(1)} s`);
      phaseStart = Date.now();
    };
    let failed = true;
    try {
      // 1. Up, peered; transfers and ERC-20 sent to different nodes get receipts.
      await net4.up();
      for (const i of all) {
        assert.equal(Number(await rpc(net4.urls[i], 'net_peerCount')), kNodes - 1,
          `node ${i} peers`);
        // The engine fills in its status once it runs (its first height): wait for that.
        let cs;
        await waitFor(`node ${i}'s consensus status with ${kNodes} validators`, async () => {
          cs = await rpc(net4.urls[i], 'pel_consensusStatus');
          const v = Array.isArray(cs.validators) ? cs.validators.length : Number(cs.validators);
          return v === kNodes;
        }, 15000).catch((e) => {
          throw new Error(`${e.message}: last pel_consensusStatus ${JSON.stringify(cs)}`);
        });
      }
      net4.chainId = BigInt(await rpc(net4.urls[0], 'eth_chainId'));
      const head = await rpc(net4.urls[0], 'eth_getBlockByNumber', ['latest', false]);
      const baseFee = BigInt(head.baseFeePerGas || 0);
      net4.maxFee = baseFee * 4n + 100n * kGwei;

      const pending = [];
      for (let k = 1; k <= 4; k++) { // dev account k sends two transfers through node k-1
        for (let j = 0; j < 2; j++) {
          const to = ethers.getAddress(ethers.dataSlice(ethers.id(`devnet/recipient/${k}/${j}`), 12));
          pending.push([k - 1, await net4.send(k - 1, dev[k], { to, value: 1000n + BigInt(j),
            gasLimit: 21000n }, `transfer ${k}.${j}`)]);
        }
      }
      const deployData = ethers.concat([token.bytecode,
        tokenIface.encodeDeploy([10n ** 24n])]);
      const deployGas = BigInt(await rpc(net4.urls[1], 'eth_estimateGas',
        [{ from: dev[0].address, data: deployData }]));
      const deployHash = await net4.send(1, dev[0], { data: deployData,
        gasLimit: deployGas * 12n / 10n }, 'deploy BenchToken');
      const deployed = await net4.receipt(1, deployHash);
      const tokenAddr = ethers.getAddress(deployed.contractAddress);
      log(`BenchToken at ${tokenAddr} (block ${Number(deployed.blockNumber)})`);
      const holders = [5, 6, 7, 8];
      for (const h of holders) { // funded through node 2, in nonce order
        pending.push([2, await net4.send(2, dev[0], { to: tokenAddr, gasLimit: kTokenGas,
          data: tokenIface.encodeFunctionData('transfer', [dev[h].address, 10n ** 21n]) },
        `token funding ${h}`)]);
      }
      for (const [node, hash] of pending.splice(0)) await net4.receipt(node, hash);
      const tokenTransfer = (i, from, to, amount) => net4.send(i, dev[from], { to: tokenAddr,
        gasLimit: kTokenGas, data: tokenIface.encodeFunctionData('transfer',
          [dev[to].address, amount]) }, `token ${from}->${to}`);
      for (const [k, h] of holders.entries()) { // holder h sends tokens through node k
        pending.push([k, await tokenTransfer(k, h, 9, 1000n + BigInt(k))]);
      }
      for (const [node, hash] of pending.splice(0)) await net4.receipt(node, hash);
      // A burst: 4 senders x 10 transfers, each sender through its own node, without waiting.
      for (let j = 0; j < 10; j++) {
        for (let k = 1; k <= 4; k++) {
          pending.push([k - 1, await net4.send(k - 1, dev[k], { to: dev[9].address,
            value: 1n, gasLimit: 21000n }, `burst ${k}.${j}`)]);
        }
      }
      for (const [node, hash] of pending.splice(0)) await net4.receipt(node, hash);
      phaseDone('phase 1 (up 4, peers, transfers and ERC-20 via every node)');

      // 2. Same head hash and stateRoot at a common height on every node.
      const h2 = Math.min(...await net4.heads(all));
      const b2 = await net4.checkSameChain(all, h2);
      log(`all 4 nodes agree on blocks 0..${h2} (head ${b2.hash.slice(0, 10)}.., stateRoot `
        + `${b2.stateRoot.slice(0, 10)}..)`);
      phaseDone('phase 2 (same hash and stateRoot at a common height)');

      // 3. One node crashes: the other three keep committing and mine new transactions.
      log(await net4.run('kill', '3', '-9'));
      const live3 = [0, 1, 2];
      const h3 = Math.max(...await net4.heads(live3));
      for (const i of live3) {
        pending.push([i, await net4.send(i, dev[i + 1], { to: dev[9].address, value: 7n,
          gasLimit: 21000n }, `transfer with node 3 down via ${i}`)]);
      }
      pending.push([1, await tokenTransfer(1, 5, 9, 5n)]);
      for (const [node, hash] of pending.splice(0)) await net4.receipt(node, hash);
      await waitFor(`3 more blocks on nodes 0-2 after block ${h3}`,
        async () => Math.min(...await net4.heads(live3)) >= h3 + 3, 60000);
      log(`with node 3 down: heads ${await net4.heads(live3)} (from ${h3})`);
      phaseDone('phase 3 (kill -9 one node: the chain goes on)');

      // 4. A second node crashes: 2 of 4 validators are no quorum; no block, no fork.
      log(await net4.run('kill', '2', '-9'));
      const live2 = [0, 1];
      await sleep(2000); // a height already decided before the kill may still be delivered
      const haltHeads = await net4.heads(live2);
      const haltHash = await net4.send(0, dev[1], { to: dev[9].address, value: 11n,
        gasLimit: 21000n }, 'transfer sent while halted');
      await sleep(6000);
      const laterHeads = await net4.heads(live2);
      log(`halted: heads ${haltHeads} then ${laterHeads} 6 s later`);
      assert.equal(Math.max(...laterHeads), Math.max(...haltHeads),
        'a block was committed with only 2 of 4 validators up');
      const r = await rpc(net4.urls[0], 'eth_getTransactionReceipt', [haltHash]);
      assert.equal(r, null, 'a transaction was mined while the chain had no quorum');
      const common4 = Math.min(...laterHeads);
      await net4.checkSameChain(live2, common4);
      log(`the 2 survivors agree on blocks 0..${common4}`);
      phaseDone('phase 4 (kill -9 a second node: halt without fork)');

      // 5. Both come back: they catch up and the chain goes on; all agree on every block.
      log(await net4.run('start', '2'));
      log(await net4.run('start', '3'));
      const haltTop = Math.max(...laterHeads);
      await waitFor(`all 4 nodes past block ${haltTop + 3}`,
        async () => Math.min(...await net4.heads(all)) >= haltTop + 3, 90000, 250);
      await net4.receipt(0, haltHash);
      // The restarted nodes take transactions again and the others mine them.
      for (const i of [2, 3]) {
        pending.push([i, await net4.send(i, dev[i + 1], { to: dev[9].address, value: 13n,
          gasLimit: 21000n }, `transfer via restarted node ${i}`)]);
      }
      pending.push([3, await tokenTransfer(3, 6, 9, 7n)]);
      for (const [node, hash] of pending.splice(0)) await net4.receipt(node, hash);
      const h5 = Math.min(...await net4.heads(all));
      await net4.checkSameChain(all, h5);
      log(`after the restarts: all 4 agree on blocks 0..${h5}`);
      phaseDone('phase 5 (restart both: catch-up, chain goes on, all agree)');

      // 6. Every accepted transaction has a receipt on every node, in the same block; nonces
      //    and token balances agree everywhere.
      const hashes = net4.accepted.map((a) => a.hash);
      await waitFor('every accepted transaction\'s receipt on every node', async () => {
        for (const i of all) {
          const rs = await rpcBatch(net4.urls[i], hashes.map((h) => ['eth_getTransactionReceipt',
            [h]]));
          if (rs.some((x) => x === null)) return false;
        }
        return true;
      }, 30000, 500);
      const receipts = await Promise.all(all.map((i) => rpcBatch(net4.urls[i],
        hashes.map((h) => ['eth_getTransactionReceipt', [h]]))));
      for (const [k, a] of net4.accepted.entries()) {
        for (const i of all) {
          const rc = receipts[i][k];
          assert.equal(rc.status, '0x1', `${a.what} (${a.hash}) failed on node ${i}`);
          assert.equal(rc.blockHash, receipts[0][k].blockHash,
            `${a.what} (${a.hash}): node ${i} has it in another block`);
        }
      }
      for (const [from, next] of net4.nonces) {
        for (const i of all) {
          assert.equal(Number(await rpc(net4.urls[i], 'eth_getTransactionCount', [from, 'latest'])),
            next, `nonce of ${from} on node ${i}`);
        }
      }
      const balanceCall = (addr) => ['eth_call', [{ to: tokenAddr,
        data: tokenIface.encodeFunctionData('balanceOf', [addr]) }, 'latest']];
      const tokenHolders = [0, ...holders, 9].map((k) => dev[k].address);
      // Nothing is sent any more, so the head state's balances are stable (the state root of a
      // common block was compared in phase 5; only the head state can be read).
      const balances = await Promise.all(all.map((i) => rpcBatch(net4.urls[i],
        tokenHolders.map(balanceCall))));
      for (const i of all) assert.deepEqual(balances[i], balances[0], `token balances on node ${i}`);
      assert.equal(BigInt(balances[0][tokenHolders.length - 1]), 1000n + 1001n + 1002n + 1003n + 5n + 7n,
        'token balance of the recipient');
      log(`${hashes.length} accepted transactions: receipts on all 4 nodes, same blocks`);
      phaseDone('phase 6 (no accepted transaction lost)');
      failed = false;
    } finally {
      await net4.teardown(failed);
      console.log('phase timings (s):');
      for (const [name, s] of timings) console.log(`  ${s.toFixed(1).padStart(6)}  ${name}`);
    }
  });
