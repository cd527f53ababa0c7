#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# ctest's pel_e2e: installs the locked npm packages when node_modules does not already match
# package-lock.json (npm ci; from the npm cache when it can), then runs every test file against
# the pel-node given in PEL_NODE. Fails (never skips) when node or npm is missing.
set -eu
cd "$(dirname "$0")"
if [ -z "${PEL_NODE:-}" ]; then
  echo "run-ctest.sh: PEL_NODE (path of pel-node) is not set" >&2
  exit 1
fi
command -v node >/dev/null || { echo "run-ctest.sh: node (Node.js >= 18) not found" >&2; exit 1; }
if ! node lib/deps-current.js; then
  command -v npm >/dev/null || { echo "run-ctest.sh: npm not found" >&2; exit 1; }
  npm ci --prefer-offline --no-audit --no-fund
fi
export PEL_E2E_TARGET=pel
export PEL_E2E_LOG_TAILS=1
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -ge 21 ] || node --test-concurrency=1 -e '' 2>/dev/null; then
  # The spec reporter repeats every failure, with its error, at the end of the output (where a
  # CI log that keeps only a part still shows it).
  exec node --test --test-concurrency=1 --test-timeout=120000 --test-reporter=spec
fi
# Older runners (Debian 12's Node.js 18) lack --test-concurrency/--test-timeout: one file at a time.
for f in test/*.test.js; do
  node --test "$f"
done
