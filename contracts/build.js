// SPDX-License-Identifier: Apache-2.0
// Compiles every contracts/src/*.sol with the pinned solcjs (package.json) through standard JSON
// input and writes build/<Contract>.json: abi, bytecode (creation code), deployedBytecode
// (runtime code) and methodIdentifiers, plus the compiler settings used. Run with `npm run build`.
'use strict';

const fs = require('fs');
const path = require('path');
const solc = require('solc');

const root = __dirname;
const srcDir = path.join(root, 'src');
const outDir = path.join(root, 'build');

// Pinned settings: the benchmarks' gas figures depend on them.
const settings = {
  evmVersion: 'cancun',
  optimizer: { enabled: true, runs: 200 },
  // No CBOR metadata hash: the bytecode then depends only on the sources and these settings,
  // not on absolute paths or comments.
  metadata: { bytecodeHash: 'none', appendCBOR: false },
  outputSelection: {
    '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object', 'evm.methodIdentifiers'] },
  },
};

function findImport(importPath) {
  // Library imports ("@openzeppelin/...") resolve through node_modules.
  for (const base of [root, path.join(root, 'node_modules')]) {
    const p = path.join(base, importPath);
    if (fs.existsSync(p)) {
      return { contents: fs.readFileSync(p, 'utf8') };
    }
  }
  return { error: `not found: ${importPath}` };
}

const sources = {};
for (const f of fs.readdirSync(srcDir).filter((n) => n.endsWith('.sol')).sort()) {
  sources[`src/${f}`] = { content: fs.readFileSync(path.join(srcDir, f), 'utf8') };
}

const input = { language: 'Solidity', sources, settings };
const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImport }));

let failed = false;
for (const e of output.errors || []) {
  console.error(e.formattedMessage || e.message);
  if (e.severity === 'error') failed = true;
}
if (failed) process.exit(1);

fs.mkdirSync(outDir, { recursive: true });
for (const file of Object.keys(sources)) {
  for (const [name, c] of Object.entries(output.contracts[file] || {})) {
    const artifact = {
      contractName: name,
      sourceName: file,
      compiler: { name: 'solc', version: solc.version() },
      settings: { evmVersion: settings.evmVersion, optimizer: settings.optimizer, metadata: settings.metadata },
      abi: c.abi,
      bytecode: `0x${c.evm.bytecode.object}`,
      deployedBytecode: `0x${c.evm.deployedBytecode.object}`,
      methodIdentifiers: c.evm.methodIdentifiers,
    };
    const out = path.join(outDir, `${name}.json`);
    fs.writeFileSync(out, `${JSON.stringify(artifact, null, 2)}\n`);
    console.log(`wrote ${path.relative(root, out)} (${c.evm.deployedBytecode.object.length / 2} bytes runtime)`);
  }
}
