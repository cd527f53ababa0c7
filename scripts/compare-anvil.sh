#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs the same pel-loadgen workloads against anvil and against pel-node on this machine and
# prints both results and the ratio pel/anvil of committed transactions per second.
#
#   scripts/compare-anvil.sh [--txs T] [--senders K] [--concurrency C] [--batch B]
#                            [--workloads "erc20 transfer"]
#                            [--anvil-modes "interval automine mixed"] [--anvil-block-time S]
#                            [--gas-limit G] [--repeat R] [--build DIR] [--out DIR]
#
# anvil comes from npm (@foundry-rs/anvil-linux-amd64, pinned by tests/e2e/package-lock.json).
# Every run starts a fresh node (a fresh pel datadir), so each sees the same genesis state.
# --batch B: pel-loadgen sends B transactions per HTTP request as one JSON-RPC batch, to both
# nodes alike (anvil answers batches; default 1: one eth_sendRawTransaction per request; 100 is
# what an ethers v6 JsonRpcProvider sends at most per request by default).
# Both nodes get the same block gas limit and chain; pel-node runs in automine (--block-time 0:
# a block whenever the pool has ready transactions, taking all that fit; under sustained load
# the next block waits up to --automine.gather-ms, 2 by default, for more).
# --repeat R: R rounds, each anvil then pel-node on fresh nodes; prints every round's ratio and the
# median of the R ratios (the machine's speed drifts between rounds; a round's two runs are
# seconds apart).
#
# anvil modes (--anvil-modes; default "interval automine"; each run gets its own fresh anvil):
#   interval  --block-time 0.05: a block every 50 ms with every pending transaction that fits the
#             gas limit. This is the fair counterpart of pel's automine ("a block whenever the
#             pool has ready transactions, taking all that fit"): blocks as soon as anvil can
#             make them, at most 50 ms late, and the cap it implies (gas limit / 50 ms = 600
#             Mgas/s) is far above what anvil executes, so anvil's own speed is what is measured.
#   automine  anvil's default (a block as transactions arrive). Under a burst of more than a
#             block's worth of transactions anvil stops mining ready transactions
#             (foundry-rs/foundry#10122): the run then ends with transactions never committed
#             (the loadgen gives up after 10 s without a block) and its tx/s covers only what
#             was committed. Reported because it is anvil's default.
#   mixed     --mixed-mining --block-time 0.2 (automine plus an interval): on this machine its
#             miner stopped altogether under the same burst; available for checking that.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

txs=20000
senders=200
concurrency=16
batch=1
workloads="erc20 transfer"
anvil_modes="interval automine"
anvil_block_time=0.05
build="build/release"
out=""
gas_limit=30000000
repeat=1
while (($#)); do
  case "$1" in
    --txs) txs=$2; shift 2 ;;
    --senders) senders=$2; shift 2 ;;
    --concurrency) concurrency=$2; shift 2 ;;
    --batch) batch=$2; shift 2 ;;
    --workloads) workloads=$2; shift 2 ;;
    --anvil-modes) anvil_modes=$2; shift 2 ;;
    --anvil-block-time) anvil_block_time=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --gas-limit) gas_limit=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
    -h|--help) sed -n '3,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
    *) echo "compare-anvil: unknown argument $1 (--help)" >&2; exit 2 ;;
  esac
done

[[ "$repeat" =~ ^[1-9][0-9]*$ ]] || { echo "compare-anvil: --repeat needs a positive count" >&2; exit 2; }
pel_node="$build/node/pel-node"
loadgen="$build/tools/loadgen/pel-loadgen"
if [[ ! -x "$pel_node" || ! -x "$loadgen" ]]; then
  echo "compare-anvil: building pel-node and pel-loadgen in $build" >&2
  if [[ ! -f "$build/build.ninja" ]]; then
    cmake --preset release -B "$build" >/dev/null
  fi
  cmake --build "$build" --target pel_node pel_loadgen
fi

# anvil from the committed lock file (no install when node_modules already matches it).
if ! (cd tests/e2e && node lib/deps-current.js); then
  (cd tests/e2e && npm ci --prefer-offline --no-audit --no-fund)
fi
anvil="$root/tests/e2e/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"
[[ -x "$anvil" ]] || { echo "compare-anvil: $anvil missing after npm ci" >&2; exit 1; }

[[ -n "$out" ]] || out=$(mktemp -d "${TMPDIR:-/tmp}/pel-compare.XXXXXX")
mkdir -p "$out"
node_pid=""
datadir=""
cleanup() {
  if [[ -n "$node_pid" ]]; then kill "$node_pid" 2>/dev/null || true; wait "$node_pid" 2>/dev/null || true; fi
  if [[ -n "$datadir" ]]; then rm -rf "$datadir"; fi
}
trap cleanup EXIT

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close();});'
}

wait_ready() {  # url
  for _ in $(seq 1 300); do
    # Ready means a JSON-RPC result: pel-node answers HTTP 200 with an error while it starts.
    if curl -sf -m 1 -H 'content-type: application/json' \
        -d '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}' "$1" 2>/dev/null |
        grep -q '"result"'; then
      return 0
    fi
    if ! kill -0 "$node_pid" 2>/dev/null; then return 1; fi
    sleep 0.1
  done
  return 1
}

stop_node() {
  kill "$node_pid" 2>/dev/null || true
  wait "$node_pid" 2>/dev/null || true
  node_pid=""
  if [[ -n "$datadir" ]]; then rm -rf "$datadir"; datadir=""; fi
}

start_anvil() {  # mode port
  local flags=(--port "$2" --host 127.0.0.1 --hardfork cancun --gas-limit "$gas_limit")
  case "$1" in
    mixed) flags+=(--mixed-mining --block-time 0.2) ;;
    automine) ;;
    interval) flags+=(--block-time "$anvil_block_time") ;;
    *) echo "compare-anvil: unknown anvil mode $1" >&2; exit 2 ;;
  esac
  "$anvil" "${flags[@]}" >"$3" 2>&1 &
  node_pid=$!
}

start_pel() {  # port log
  datadir=$(mktemp -d "${TMPDIR:-/tmp}/pel-compare-data.XXXXXX")
  "$pel_node" --datadir "$datadir" --http.addr 127.0.0.1 --http.port "$1" --gas-limit "$gas_limit" \
    --block-time 0 --metrics.port 0 --log-level warn >"$2" 2>&1 &
  node_pid=$!
}

load() {  # url workload json timeout
  "$loadgen" --url "$1" --workload "$2" --senders "$senders" --txs "$txs" \
    --concurrency "$concurrency" --batch "$batch" --timeout "$4" --json "$3" || true
}

summary() {  # json
  [[ -f "$1" ]] || { echo "no result (pel-loadgen failed in setup; see above)"; return; }
  jq -r '"\(.committed)/\(.sent) committed, \(.committed_tps|floor) tx/s, \(.mgas_per_s*10|floor/10) Mgas/s, p50 \(.latency_ms.p50|floor) ms, p99 \(.latency_ms.p99|floor) ms, \(.blocks) blocks, errors \(.errors), reverted \(.reverted)"' "$1"
}

echo "machine: $(nproc) cores, $(uname -m); load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "anvil: $("$anvil" --version | head -1); pel-node: $("$pel_node" --version 2>/dev/null || echo '?')"
echo "load: $txs transactions from $senders senders over $concurrency connections, $batch per request; gas limit $gas_limit"
echo "results: $out"
declare -A tps
for r in $(seq 1 "$repeat"); do
  for w in $workloads; do
    for mode in $anvil_modes; do
      port=$(free_port)
      start_anvil "$mode" "$port" "$out/anvil-$mode-$w-$r.log"
      wait_ready "http://127.0.0.1:$port" || { echo "anvil did not start:"; cat "$out/anvil-$mode-$w-$r.log"; exit 1; }
      echo "== $w on anvil ($mode), round $r of $repeat"
      load "http://127.0.0.1:$port" "$w" "$out/anvil-$mode-$w-$r.json" 10
      stop_node
      tps[anvil-$mode-$w-$r]=$(jq '.committed_tps' "$out/anvil-$mode-$w-$r.json" 2>/dev/null || echo 0)
    done
    port=$(free_port)
    start_pel "$port" "$out/pel-$w-$r.log"
    wait_ready "http://127.0.0.1:$port" || { echo "pel-node did not start:"; cat "$out/pel-$w-$r.log"; exit 1; }
    echo "== $w on pel-node (automine), round $r of $repeat"
    load "http://127.0.0.1:$port" "$w" "$out/pel-$w-$r.json" 10
    stop_node
    tps[pel-$w-$r]=$(jq '.committed_tps' "$out/pel-$w-$r.json" 2>/dev/null || echo 0)
  done
done

ratio() {  # pel_tps anvil_tps
  jq -n --argjson p "$1" --argjson a "$2" 'if $a > 0 then ($p / $a * 100 | floor) / 100 else "n/a" end'
}

echo
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-9s %-5s %-16s %s\n' workload round node result
for w in $workloads; do
  declare -A ratios=()  # per anvil mode: this workload's round ratios, space-separated
  for r in $(seq 1 "$repeat"); do
    for mode in $anvil_modes; do
      printf '%-9s %-5s %-16s %s\n' "$w" "$r" "anvil ($mode)" "$(summary "$out/anvil-$mode-$w-$r.json")"
    done
    printf '%-9s %-5s %-16s %s\n' "$w" "$r" "pel-node" "$(summary "$out/pel-$w-$r.json")"
    for mode in $anvil_modes; do
      this=$(ratio "${tps[pel-$w-$r]}" "${tps[anvil-$mode-$w-$r]}")
      ratios[$mode]+="$this "
      printf '%-9s %-5s ratio pel/anvil (%s) committed tx/s: %s\n' "$w" "$r" "$mode" "$this"
    done
  done
  if ((repeat > 1)); then
    for mode in $anvil_modes; do
      read -ra rounds <<<"${ratios[$mode]}"
      median=$(printf '%s\n' "${rounds[@]}" | jq -s 'map(select(type == "number")) | sort |
        if length == 0 then "n/a" elif length % 2 == 1 then .[length / 2 | floor]
        else ((.[length / 2 - 1] + .[length / 2]) / 2 * 100 | round) / 100 end')
      printf '%-9s median of %s rounds, ratio pel/anvil (%s): %s (rounds: %s)\n' "$w" "$repeat" "$mode" \
        "$median" "${rounds[*]}"
    done
  fi
done
