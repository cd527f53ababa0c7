// SPDX-License-Identifier: Apache-2.0
// Starts the node under test on a loopback port it picks itself (port 0; the port is read from its
// "Listening on" line, so no other process can take it in between) with a temporary datadir,
// and stops it. A restart listens on the same port again, so clients keep their URL.
// PEL_NODE: path of the pel-node binary (the default target).
// PEL_E2E_TARGET=anvil: run the same tests against anvil (from this package's node_modules) to
// validate the tests themselves; anvil keeps no data across restarts.
'use strict';

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const target = process.env.PEL_E2E_TARGET === 'anvil' ? 'anvil' : 'pel';

function anvilPath() {
  return path.join(__dirname, '..', 'node_modules', '@foundry-rs', 'anvil-linux-amd64', 'bin',
    'anvil');
}

async function rawRpc(url, method, params = []) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  return res.json();
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

class NodeUnderTest {
  // options.target: 'pel' or 'anvil' (default: PEL_E2E_TARGET's); options.args: extra arguments.
  constructor(options = {}) {
    this.target = options.target || target;
    this.extraArgs = options.args || [];
    this.datadir = fs.mkdtempSync(path.join(os.tmpdir(), 'pel-e2e-'));
    this.proc = null;
    this.log = '';
    this.port = 0;
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  async start() {
    // Port 0 the first time: the node binds any free port and prints it. A restart asks for the
    // port the node had, which its own stop() has just freed.
    const port = String(this.port);
    let bin;
    let args;
    if (this.target === 'anvil') {
      bin = anvilPath();
      // Cancun, as pel-node; automine (one block per transaction) is anvil's default.
      args = ['--port', port, '--host', '127.0.0.1', '--hardfork', 'cancun'];
    } else {
      bin = process.env.PEL_NODE;
      if (!bin) throw new Error('PEL_NODE is not set (path of the pel-node binary)');
      args = ['--datadir', this.datadir, '--http.port', port, '--http.addr', '127.0.0.1'];
    }
    const logStart = this.log.length;
    const proc = spawn(bin, [...args, ...this.extraArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    this.exited = new Promise((resolve) => proc.on('exit', (code, sig) => resolve({ code, sig })));
    let exitInfo = null;
    this.exited.then((e) => { exitInfo = e; });
    proc.stdout.on('data', (d) => { this.log += d.toString(); });
    proc.stderr.on('data', (d) => { this.log += d.toString(); });
    const deadline = Date.now() + 30000;
    let listening = false;
    for (;;) {
      if (exitInfo) {
        throw new Error(`${bin} exited early (${JSON.stringify(exitInfo)}):\n${this.tail()}`);
      }
      if (!listening) {
        // Both pel-node and anvil print "Listening on 127.0.0.1:PORT" once bound.
        const m = /Listening on 127\.0\.0\.1:(\d+)/.exec(this.log.slice(logStart));
        if (m) {
          this.port = Number(m[1]);
          listening = true;
        }
      }
      if (listening) {
        try {
          const r = await rawRpc(this.url, 'eth_chainId');
          if (r.result) return;
        } catch (_) { /* not answering yet */ }
      }
      if (Date.now() > deadline) {
        throw new Error(`${bin} did not answer eth_chainId within 30 s:\n${this.tail()}`);
      }
      await sleep(50);
    }
  }

  tail() {
    return this.log.slice(-4000);
  }

  // SIGTERM, as a user stopping the node with Ctrl-C would (SIGINT) or a service manager would.
  async stop() {
    if (!this.proc) return null;
    if (process.env.PEL_E2E_LOG_TAILS === '1') {
      // Shown by ctest only when the suite fails: what each node was doing at the end.
      process.stderr.write(`--- ${this.target} node on port ${this.port}, last lines:\n${this.tail()}\n`);
    }
    const proc = this.proc;
    this.proc = null;
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 10000);
    const e = await this.exited;
    clearTimeout(timer);
    return e;
  }

  async restart() {
    const e = await this.stop();
    await this.start();
    return e;
  }

  cleanup() {
    fs.rmSync(this.datadir, { recursive: true, force: true });
  }
}

async function startNode(options = {}) {
  const n = new NodeUnderTest(options);
  await n.start();
  return n;
}

// The receipt of `hash`, polled until the node has it (up to timeoutMs). ethers v6's
// waitForTransaction and waitForDeployment check once, then wait for the next "block" event, and
// their polling subscriber only notes the block number on its first poll: a transaction mined in
// between, with no block after it (automine), is never seen. Seen as a stalled `before` hook
// against anvil; this has no such gap.
async function mined(provider, hash, timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const receipt = await provider.getTransactionReceipt(hash);
    if (receipt) return receipt;
    if (Date.now() > deadline) throw new Error(`transaction ${hash} not mined in ${timeoutMs} ms`);
    await sleep(25);
  }
}

module.exports = { startNode, rawRpc, sleep, mined, target, NodeUnderTest };
