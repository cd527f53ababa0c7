#!/usr/bin/env bash
# The README's main command: installs what is missing (scripts/setup.sh), builds the release preset
# (scripts/build.sh release) and runs pel-node in the foreground with the arguments given, e.g.
#   scripts/run.sh                                  # dev chain, JSON-RPC on 127.0.0.1:8545
#   scripts/run.sh --block-time 2 --metrics.port 9001 --datadir /tmp/pel
# The datadir defaults to the node's own default, ./pel-data in the directory you run this from;
# `scripts/run.sh --help` lists every option. Ctrl-C stops the node cleanly.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
(cd "$root" && scripts/setup.sh && scripts/build.sh release)
exec "$root/build/release/node/pel-node" "$@"
