#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# ctest's pel_devnet: the 4-node devnet scenario (devnet.test.js) against the pel-node in PEL_NODE,
# with ethers from tests/e2e's locked npm packages (installed with `npm ci` there when
# node_modules does not match its lock file). The devnet lives in a temporary folder that is
# torn down (scripts/devnet.sh down) and removed however the run ends. Fails, never skips, when
# node or npm is missing.
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
e2e="$here/../e2e"
if [ -z "${PEL_NODE:-}" ]; then
  echo "run-ctest.sh: PEL_NODE (path of pel-node) is not set" >&2
  exit 1
fi
command -v node >/dev/null || { echo "run-ctest.sh: node (Node.js >= 18) not found" >&2; exit 1; }
if ! node "$e2e/lib/deps-current.js"; then
  command -v npm >/dev/null || { echo "run-ctest.sh: npm not found" >&2; exit 1; }
  (cd "$e2e" && npm ci --prefer-offline --no-audit --no-fund)
fi
tmp="$(mktemp -d "${TMPDIR:-/tmp}/pel-devnet-XXXXXX")"
export PEL_DEVNET_DIR="$tmp"
cleanup() {
  # The test tears its devnet down itself; this covers a runner killed half-way.
  if [ -f "$tmp/net/devnet.conf" ]; then
    PEL_DEVNET_DIR="$tmp/net" PEL_DEVNET_STOP_TIMEOUT=5 bash "$here/../../scripts/devnet.sh" down \
      >/dev/null 2>&1 || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
cd "$here"
# Node.js >= 20 knows --test-timeout; Debian 12's 18 does not (the test sets its own timeout).
if node --test-timeout=1 -e '' 2>/dev/null; then
  node --test --test-timeout=280000 devnet.test.js
else
  node --test devnet.test.js
fi
