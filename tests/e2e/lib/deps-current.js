// SPDX-License-Identifier: Apache-2.0
// Exits 0 when node_modules already holds exactly what package-lock.json pins (npm's own record
// of the installed tree, node_modules/.package-lock.json, lists the same packages at the same
// versions and integrity), 1 otherwise. run-ctest.sh then skips `npm ci`, so the suite runs
// offline once installed.
'use strict';

const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
function packages(file) {
  try {
    const all = JSON.parse(fs.readFileSync(file, 'utf8')).packages || {};
    const out = {};
    for (const [k, v] of Object.entries(all)) {
      if (k !== '' && !v.extraneous) out[k] = `${v.version} ${v.integrity || ''}`;
    }
    return out;
  } catch (_) {
    return null;
  }
}
const want = packages(path.join(root, 'package-lock.json'));
const have = packages(path.join(root, 'node_modules', '.package-lock.json'));
const same = want && have && Object.keys(want).length === Object.keys(have).length
  && Object.entries(want).every(([k, v]) => have[k] === v);
process.exit(same ? 0 : 1);
