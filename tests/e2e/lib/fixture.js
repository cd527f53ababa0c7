// SPDX-License-Identifier: Apache-2.0
// A test file's node under test and an ethers provider on it: started before the file's tests and
// stopped (datadir removed) after them. Use: const f = nodeFixture(); ... f.provider, f.node.url.
'use strict';

const { before, after } = require('node:test');
const { ethers } = require('ethers');
const { startNode } = require('./node');

function nodeFixture(options = {}) {
  const f = { node: null, provider: null };
  before(async () => {
    f.node = await startNode(options);
    f.provider = new ethers.JsonRpcProvider(f.node.url, undefined,
      { pollingInterval: 50, cacheTimeout: -1, batchMaxCount: 1 });
  });
  after(async () => {
    if (f.provider) f.provider.destroy();
    if (f.node) {
      await f.node.stop();
      f.node.cleanup();
    }
  });
  return f;
}

module.exports = { nodeFixture };
