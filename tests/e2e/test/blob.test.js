// SPDX-License-Identifier: Apache-2.0
// EIP-4844 blob transactions sent by viem and ethers, their KZG commitments and proofs computed by
// kzg-wasm (c-kzg-4844 compiled to WASM, with the mainnet trusted setup): admitted in the network
// form, mined with the block's and the receipt's blob gas fields, BLOBHASH and BLOBBASEFEE inside
// the transaction equal to what the clients computed, and a sidecar whose proofs do not open its
// blobs refused with nothing admitted.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const viem = require('viem');
const ethers = require('ethers');
const { privateKeyToAccount } = require('viem/accounts');
const { loadKZG } = require('kzg-wasm');
const { startNode, rawRpc, target } = require('../lib/node');
const { devAccounts } = require('../lib/accounts');
const { publicClient, walletClient } = require('../lib/viem');
const { compile } = require('../lib/contracts');

const kGasPerBlob = 131072n;
const dev = devAccounts();
let node;
let pub;
let kzg;
let sink;
let sinkAbi;

// The interface viem and ethers take (bytes in, bytes out) over kzg-wasm's hex strings.
function kzgFor(lib) {
  const hex = (x) => (typeof x === 'string' ? x : viem.bytesToHex(x));
  return {
    blobToKzgCommitment: (blob) => viem.hexToBytes(lib.blobToKZGCommitment(hex(blob))),
    computeBlobKzgProof: (blob, commitment) =>
      viem.hexToBytes(lib.computeBlobKZGProof(hex(blob), hex(commitment))),
  };
}

function walletFor(privateKey) {
  return walletClient(node.url, privateKey);
}

before(async () => {
  kzg = kzgFor(await loadKZG());
  node = await startNode();
  pub = publicClient(node.url);
  const c = compile();
  sinkAbi = c.BlobSink.abi;
  const hash = await walletFor(dev[0].privateKey).deployContract({ abi: sinkAbi,
    bytecode: c.BlobSink.bytecode });
  sink = (await pub.waitForTransactionReceipt({ hash })).contractAddress;
});

after(async () => {
  if (node) {
    await node.stop();
    node.cleanup();
  }
});

test('viem: a two-blob transaction is mined and its contract sees the blobs\' hashes', async () => {
  const blobs = [...viem.toBlobs({ data: viem.stringToHex('pel: the first blob') }),
    ...viem.toBlobs({ data: viem.stringToHex('pel: the second blob') })];
  assert.equal(blobs.length, 2);
  const commitments = viem.blobsToCommitments({ blobs, kzg });
  const hashes = viem.commitmentsToVersionedHashes({ commitments });
  const wallet = walletFor(dev[1].privateKey);
  const hash = await wallet.writeContract({ address: sink, abi: sinkAbi, functionName: 'record',
    blobs, kzg, maxFeePerBlobGas: viem.parseGwei('1') });
  const receipt = await pub.waitForTransactionReceipt({ hash });
  assert.equal(receipt.status, 'success');
  assert.equal(receipt.type, 'eip4844');
  assert.equal(receipt.blobGasUsed, 2n * kGasPerBlob);
  const block = await pub.getBlock({ blockNumber: receipt.blockNumber });
  assert.equal(block.blobGasUsed, 2n * kGasPerBlob);
  // The receipt's blob gas price is the blob base fee of its block.
  const parent = await pub.getBlock({ blockNumber: receipt.blockNumber - 1n });
  const fee = await rawRpc(node.url, 'eth_feeHistory', ['0x1', viem.toHex(parent.number), []]);
  assert.equal(receipt.blobGasPrice, BigInt(fee.result.baseFeePerBlobGas[1]));
  const tx = await pub.getTransaction({ hash });
  assert.deepEqual(tx.blobVersionedHashes, hashes);
  assert.equal(tx.maxFeePerBlobGas, viem.parseGwei('1'));
  // Inside the transaction: BLOBHASH(0), BLOBHASH(1), then zero; BLOBBASEFEE.
  const read = (functionName, args = []) => pub.readContract({ address: sink, abi: sinkAbi,
    functionName, args });
  assert.equal(await read('count'), 2n);
  assert.equal(await read('seen', [0n]), hashes[0]);
  assert.equal(await read('seen', [1n]), hashes[1]);
  assert.equal(await read('blobBaseFee'), receipt.blobGasPrice);
  // The sender paid the blob gas at the blob base fee, besides gas and value.
  const before = await pub.getBalance({ address: dev[1].address, blockNumber: receipt.blockNumber - 1n });
  const after = await pub.getBalance({ address: dev[1].address, blockNumber: receipt.blockNumber });
  assert.equal(before - after, receipt.gasUsed * receipt.effectiveGasPrice +
    receipt.blobGasUsed * receipt.blobGasPrice);
});

test('ethers: a blob transaction with a value transfer', async () => {
  const provider = new ethers.JsonRpcProvider(node.url, 31337, { staticNetwork: true,
    cacheTimeout: -1, pollingInterval: 50 });
  const signer = new ethers.Wallet(dev[2].privateKey, provider);
  const blob = viem.toBlobs({ data: viem.stringToHex('pel: a blob from ethers') })[0];
  const sent = await signer.sendTransaction({ type: 3, to: dev[3].address, value: 5n, blobs: [blob],
    kzg, maxFeePerBlobGas: ethers.parseUnits('1', 'gwei') });
  const receipt = await sent.wait();
  assert.equal(receipt.status, 1);
  assert.equal(receipt.type, 3);
  assert.equal(receipt.blobGasUsed, kGasPerBlob);
  const tx = await provider.getTransaction(sent.hash);
  const expected = viem.commitmentsToVersionedHashes({
    commitments: viem.blobsToCommitments({ blobs: [blob], kzg }) });
  assert.deepEqual(tx.blobVersionedHashes, expected);
  provider.destroy();
});

test('a sidecar whose proofs do not open its blobs is refused, and nothing is admitted',
  async () => {
    const account = privateKeyToAccount(dev[4].privateKey);
    const blobs = [...viem.toBlobs({ data: viem.stringToHex('pel: blob a') }),
      ...viem.toBlobs({ data: viem.stringToHex('pel: blob b') })];
    const sidecars = viem.toBlobSidecars({ blobs, kzg });
    // Each proof given with the other blob: valid points, wrong openings.
    const swapped = [{ ...sidecars[0], proof: sidecars[1].proof },
      { ...sidecars[1], proof: sidecars[0].proof }];
    const base = { chainId: 31337, type: 'eip4844', to: dev[5].address, nonce: 0, gas: 21000n,
      maxFeePerGas: viem.parseGwei('20'), maxPriorityFeePerGas: viem.parseGwei('1'),
      maxFeePerBlobGas: viem.parseGwei('1'),
      blobVersionedHashes: viem.commitmentsToVersionedHashes({
        commitments: sidecars.map((s) => s.commitment) }) };
    const bad = await account.signTransaction({ ...base, sidecars: swapped });
    const res = await rawRpc(node.url, 'eth_sendRawTransaction', [bad]);
    assert.ok(res.error, JSON.stringify(res));
    if (target === 'pel') {
      assert.equal(res.error.message, 'invalid blob 0: can\'t verify opening proof');
    }
    assert.equal(await pub.getTransactionCount({ address: account.address, blockTag: 'pending' }),
      0);
    // The same transaction with its true sidecar goes through.
    const good = await account.signTransaction({ ...base, sidecars });
    const ok = await rawRpc(node.url, 'eth_sendRawTransaction', [good]);
    assert.ok(ok.result, JSON.stringify(ok));
    const receipt = await pub.waitForTransactionReceipt({ hash: ok.result });
    assert.equal(receipt.status, 'success');
    assert.equal(receipt.blobGasUsed, 2n * kGasPerBlob);
  });
