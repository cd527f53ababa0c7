#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A local BFT devnet: N pel-node validators on loopback, fully peered, with their data and logs
# in one folder. `scripts/devnet.sh help` lists the commands; `scripts/devnet.sh help CMD` (or
# `CMD --help`) explains one. Nodes are numbered from 0: node i answers JSON-RPC on
# 127.0.0.1:(PEL_DEVNET_RPC_BASE + i) and peers on 127.0.0.1:(PEL_DEVNET_P2P_BASE + i).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly root
readonly prog="scripts/devnet.sh"

usage() {
  cat <<EOF
usage: $prog COMMAND [ARGS]

  up N          generate N node keys and a genesis, start N validators, wait until they are peered
                (on a folder whose nodes are all stopped: restart them with their data)
  down          stop every node (SIGTERM, then SIGKILL after a timeout); keeps the data
  status        per node: pid alive, head block number and hash, peers
  kill I [-9]   stop node I (SIGTERM; -9: SIGKILL, as a crash would)
  start I       restart stopped node I on its datadir
  logs I [-f] [-n LINES]
                show the end of node I's log (-f: follow)
  bench [ARGS]  run pel-loadgen against every node (transactions spread round-robin)
  help [CMD]    this text, or a command's

Environment (the values given at the first \`up\` are stored in the folder and reused):
  PEL_DEVNET_DIR           folder for keys, genesis, datadirs, logs, pids (default ./devnet)
  PEL_NODE                 pel-node binary (default: build/release/node/pel-node, else on PATH)
  PEL_DEVNET_RPC_BASE      JSON-RPC port of node 0 (8545); node i uses base + i
  PEL_DEVNET_P2P_BASE      peer-to-peer port of node 0 (30303); node i uses base + i
  PEL_DEVNET_METRICS_BASE  Prometheus port of node 0 (0 = metrics off, the default)
  PEL_DEVNET_THREADS       Block-STM executor threads per node (2)
  PEL_DEVNET_BLOCK_TIME    target seconds between blocks (1)
  PEL_DEVNET_CHAIN_ID      chain id of the genesis (pel-node's default when unset)
  PEL_DEVNET_GAS_LIMIT     block gas limit of the genesis (pel-node's default when unset)
  PEL_DEVNET_LOG_LEVEL     node log level (info)
  PEL_DEVNET_TIMEOUT       seconds \`up\`/\`start\` wait for RPC and peers (60)
  PEL_DEVNET_STOP_TIMEOUT  seconds \`down\`/\`kill\` wait after SIGTERM before SIGKILL (30)
  PEL_LOADGEN              pel-loadgen binary for \`bench\` (default: build/release/tools/loadgen/pel-loadgen)

Files in the folder: devnet.conf, genesis.json, node<i>.key and node<i>.id (node key and its
address), node<i>/ (datadir), node<i>.log, node<i>.pid (while running).
EOF
}

help_cmd() {
  case "${1:-}" in
    up)
      cat <<EOF
usage: $prog up N

Creates PEL_DEVNET_DIR (default ./devnet) with N node keys (pel-node --print-node-id), a genesis
with the 10 dev accounts and the N nodes as validators (pel-node --init-genesis), and starts the
N nodes in the background on 127.0.0.1: node i with RPC port PEL_DEVNET_RPC_BASE + i, p2p port
PEL_DEVNET_P2P_BASE + i, every other node as a static peer (host:port@id). Waits until every node
answers JSON-RPC and has N-1 peers (PEL_DEVNET_TIMEOUT seconds; on timeout it prints which nodes
are not ready and their log tails, leaves the nodes running for inspection and exits 1), then
prints a table of the nodes.

On a folder made by an earlier \`up\` whose nodes are all stopped, restarts them with their data
(N must match). Refuses when any node of the folder is still running.
EOF
      ;;
    down)
      cat <<EOF
usage: $prog down

Sends SIGTERM to every running node of PEL_DEVNET_DIR, waits up to PEL_DEVNET_STOP_TIMEOUT seconds
(30) and then SIGKILLs what is left. Keys, genesis, datadirs and logs stay: \`up N\` restarts the
same chain; \`rm -rf DIR\` wipes it.
EOF
      ;;
    status)
      cat <<EOF
usage: $prog status

One line per node: index, pid and whether it runs, RPC URL, head block number, head hash
(prefix), peer count and, when the node answers pel_consensusStatus, its consensus height and
round. Exits 1 when PEL_DEVNET_DIR holds no devnet.
EOF
      ;;
    kill)
      cat <<EOF
usage: $prog kill I [-9]

Stops node I: SIGTERM and a wait of up to PEL_DEVNET_STOP_TIMEOUT seconds (then SIGKILL); with
-9, SIGKILL at once, as a crash would. Its datadir stays; \`start I\` restarts it.
EOF
      ;;
    start)
      cat <<EOF
usage: $prog start I

Restarts stopped node I with its datadir, key and the devnet's genesis and peers; waits until it
answers JSON-RPC (PEL_DEVNET_TIMEOUT seconds), then prints its pid, head and peers. It catches up
with the others by itself. Refuses when node I is running.
EOF
      ;;
    logs)
      cat <<EOF
usage: $prog logs I [-f] [-n LINES]

Prints the last LINES (50) lines of node I's log (PEL_DEVNET_DIR/node<I>.log); -f follows it.
EOF
      ;;
    bench)
      cat <<EOF
usage: $prog bench [pel-loadgen ARGS]

Runs pel-loadgen with --url set to every node's RPC URL (transactions spread round-robin over the
nodes, one node per sender; inclusion observed on node 0). Without ARGS: --workload erc20
--senders 500 --txs 75000 --concurrency 32. Any ARGS replace those defaults (not --url).
EOF
      ;;
    help | "") usage ;;
    *) die "unknown command '$1' ($prog help)" ;;
  esac
}

die() {
  echo "devnet: $*" >&2
  exit 1
}

is_uint() { [[ "$1" =~ ^[0-9]+$ ]]; }

# --- configuration -----------------------------------------------------------------------------

dir_arg="${PEL_DEVNET_DIR:-./devnet}"
dir=""       # absolute, once resolved
n=0
rpc_base=0
p2p_base=0
metrics_base=0
threads=0
block_time=0
log_level=info

resolve_dir() {
  if [[ -d "$dir_arg" ]]; then
    dir="$(cd "$dir_arg" && pwd)"
  else
    dir=""
  fi
}

# Reads DIR/devnet.conf (written by `up`); every value must be an unsigned integer except the log
# level.
load_conf() {
  resolve_dir
  [[ -n "$dir" && -f "$dir/devnet.conf" ]] ||
    die "no devnet in $dir_arg (no devnet.conf); start one with: $prog up N"
  local key value
  while IFS='=' read -r key value; do
    [[ -z "$key" || "$key" == \#* ]] && continue
    case "$key" in
      n | rpc_base | p2p_base | metrics_base | threads)
        is_uint "$value" || die "$dir/devnet.conf: $key=$value is not a number"
        printf -v "$key" '%s' "$value"
        ;;
      block_time)
        [[ "$value" =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "$dir/devnet.conf: block_time=$value"
        block_time="$value"
        ;;
      log_level) log_level="$value" ;;
      *) die "$dir/devnet.conf: unknown key $key" ;;
    esac
  done <"$dir/devnet.conf"
  ((n >= 1)) || die "$dir/devnet.conf: n=$n"
}

write_conf() {
  cat >"$dir/devnet.conf" <<EOF
# Written by $prog up; read by every command. Wipe the folder to change it.
n=$n
rpc_base=$rpc_base
p2p_base=$p2p_base
metrics_base=$metrics_base
threads=$threads
block_time=$block_time
log_level=$log_level
EOF
}

find_node_bin() {
  if [[ -n "${PEL_NODE:-}" ]]; then
    [[ -x "$PEL_NODE" ]] || die "PEL_NODE=$PEL_NODE is not an executable"
    node_bin="$PEL_NODE"
  elif [[ -x "$root/build/release/node/pel-node" ]]; then
    node_bin="$root/build/release/node/pel-node"
  elif command -v pel-node >/dev/null; then
    node_bin="$(command -v pel-node)"
  else
    die "pel-node not found: build it (scripts/build.sh release) or set PEL_NODE"
  fi
}

# --- nodes ---------------------------------------------------------------------------------------

check_index() {
  is_uint "${1:-}" || die "node index expected, got '${1:-}' ($prog help)"
  (($1 < n)) || die "no node $1: this devnet has nodes 0..$((n - 1))"
}

rpc_url() { echo "http://127.0.0.1:$((rpc_base + $1))"; }

# pid of node $1 when it runs, else empty. A pid file whose process is gone, a zombie, or a
# process that is not this node (pid reused) counts as stopped.
node_pid() {
  local f="$dir/node$1.pid" pid state cmd
  [[ -f "$f" ]] || return 0
  pid="$(<"$f")"
  is_uint "$pid" || return 0
  kill -0 "$pid" 2>/dev/null || return 0
  if [[ -r "/proc/$pid/stat" ]]; then
    state="$(sed -E 's/^[0-9]+ \(.*\) ([A-Za-z]).*/\1/' "/proc/$pid/stat" 2>/dev/null || true)"
    [[ "$state" == "Z" || "$state" == "X" ]] && return 0
    cmd="$({ tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null || true)"
    [[ "$cmd" == *"--datadir $dir/node$1 "* ]] || return 0
  fi
  echo "$pid"
}

# JSON-RPC call: prints the result as jq's raw output (empty on error or no answer).
rpc() {
  local url="$1" method="$2" params="${3:-[]}"
  curl -sS --max-time 3 -H 'content-type: application/json' \
    --data "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$method\",\"params\":$params}" "$url" \
    2>/dev/null | jq -r 'if .result == null then empty else .result end' 2>/dev/null || true
}

hex_to_dec() {
  [[ "$1" =~ ^[0-9]+$ ]] && { echo "$1"; return; }
  local h="${1#0x}"
  [[ "$h" =~ ^[0-9a-fA-F]+$ ]] || { echo "?"; return; }
  echo "$((16#$h))"
}

peer_count() {
  local r
  r="$(rpc "$(rpc_url "$1")" net_peerCount)"
  if [[ -n "$r" ]]; then hex_to_dec "$r"; fi
}

log_tail() {
  local f="$dir/node$1.log" lines="${2:-20}"
  echo "--- node $1: last $lines lines of $f ---" >&2
  if [[ -f "$f" ]]; then tail -n "$lines" "$f" >&2; else echo "(no log)" >&2; fi
}

start_node() {
  local i="$1" peers="" j id
  for ((j = 0; j < n; j++)); do
    ((j == i)) && continue
    id="$(<"$dir/node$j.id")"
    peers+="${peers:+,}127.0.0.1:$((p2p_base + j))@$id"
  done
  local metrics_port=0
  ((metrics_base > 0)) && metrics_port=$((metrics_base + i))
  local -a args=(--datadir "$dir/node$i" --genesis "$dir/genesis.json"
    --node-key "$dir/node$i.key" --p2p.addr 127.0.0.1 --p2p.port "$((p2p_base + i))"
    --http.addr 127.0.0.1 --http.port "$((rpc_base + i))" --metrics.port "$metrics_port"
    --threads "$threads" --block-time "$block_time" --log-level "$log_level")
  [[ -n "$peers" ]] && args+=(--peers "$peers")
  echo "=== $(date -u +%FT%TZ) $prog: $node_bin ${args[*]}" >>"$dir/node$i.log"
  # setsid: the node gets its own session, so a Ctrl-C or hang-up of this terminal does not reach it.
  setsid "$node_bin" "${args[@]}" </dev/null >>"$dir/node$i.log" 2>&1 &
  local pid="$!" tries
  echo "$pid" >"$dir/node$i.pid"
  # Until the exec, the child's command line is this shell's, which node_pid does not take for
  # the node: wait for the exec (or the exit) before anyone asks.
  for ((tries = 0; tries < 100; tries++)); do
    kill -0 "$pid" 2>/dev/null || break
    [[ -n "$(node_pid "$i")" ]] && break
    sleep 0.02
  done
}

# Node $1's state for the wait loops: "down", "norpc", "peers:<count>" (answers JSON-RPC).
node_state() {
  local head peers
  if [[ -z "$(node_pid "$1")" ]]; then
    echo down
    return
  fi
  head="$(rpc "$(rpc_url "$1")" eth_blockNumber)"
  if [[ -z "$head" ]]; then
    echo norpc
    return
  fi
  peers="$(peer_count "$1")"
  is_uint "$peers" || peers=0
  echo "peers:$peers"
}

# Waits until every node in $2.. answers JSON-RPC and has at least $1 peers (empty: any), or one
# of them exits, or PEL_DEVNET_TIMEOUT passes; then says which nodes failed and why, with the end
# of their logs, and returns 1.
wait_nodes() {
  local want_peers="$1" deadline i st ready
  shift
  deadline=$(($(date +%s) + timeout))
  local -A state=()
  while :; do
    ready=0
    for i in "$@"; do
      st="$(node_state "$i")"
      state[$i]="$st"
      if [[ "$st" == down ]]; then
        echo "devnet: node $i exited during startup; the end of its log:" >&2
        log_tail "$i" 20
        return 1
      fi
      if [[ "$st" == peers:* ]] && { [[ -z "$want_peers" ]] || ((${st#peers:} >= want_peers)); }; then
        ready=$((ready + 1))
      fi
    done
    ((ready == $#)) && return 0
    (($(date +%s) >= deadline)) && break
    sleep 0.2
  done
  for i in "$@"; do
    st="${state[$i]}"
    case "$st" in
      norpc) echo "devnet: node $i does not answer JSON-RPC on $(rpc_url "$i") after ${timeout}s" >&2 ;;
      peers:*)
        [[ -z "$want_peers" ]] || ((${st#peers:} >= want_peers)) && continue
        echo "devnet: node $i has ${st#peers:} peers after ${timeout}s, expected $want_peers" >&2
        ;;
    esac
    log_tail "$i" 10
  done
  return 1
}

running_nodes() {
  local i out=""
  for ((i = 0; i < n; i++)); do
    [[ -n "$(node_pid "$i")" ]] && out+="${out:+ }$i"
  done
  echo "$out"
}

print_table() {
  local i pid
  printf '%-4s  %-24s  %-16s  %-42s  %s\n' node rpc p2p "node id" pid
  for ((i = 0; i < n; i++)); do
    pid="$(node_pid "$i")"
    printf '%-4s  %-24s  %-16s  %-42s  %s\n' "$i" "$(rpc_url "$i")" \
      "127.0.0.1:$((p2p_base + i))" "$(<"$dir/node$i.id")" "${pid:-stopped}"
  done
}

# Sends $2 to node $1 and waits until it is gone; SIGKILL after the stop timeout.
stop_node() {
  local i="$1" sig="$2" pid waited=0
  pid="$(node_pid "$i")"
  if [[ -z "$pid" ]]; then
    rm -f "$dir/node$i.pid"
    return 0
  fi
  kill "-$sig" "$pid" 2>/dev/null || true
  while [[ -n "$(node_pid "$i")" ]]; do
    if ((waited >= stop_timeout * 10)); then
      echo "devnet: node $i (pid $pid) still runs ${stop_timeout}s after SIG$sig: SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null || true
      stop_timeout=$((stop_timeout + 5))
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  rm -f "$dir/node$i.pid"
}

# --- commands ------------------------------------------------------------------------------------

cmd_up() {
  [[ $# -eq 1 ]] || die "usage: $prog up N"
  if ! is_uint "$1" || (($1 < 1 || $1 > 64)); then
    die "up: N must be 1..64, got '$1'"
  fi
  local want="$1" i
  find_node_bin
  resolve_dir
  if [[ -n "$dir" && -f "$dir/devnet.conf" ]]; then
    load_conf
    local running
    running="$(running_nodes)"
    [[ -z "$running" ]] ||
      die "a devnet is already running in $dir (nodes: $running); see '$prog status', stop it with '$prog down'"
    ((want == n)) ||
      die "$dir holds a $n-node devnet; '$prog up $n' restarts it, or wipe it (rm -rf $dir) first"
    echo "devnet: restarting the $n stopped nodes of $dir with their data"
  else
    for v in PEL_DEVNET_RPC_BASE PEL_DEVNET_P2P_BASE PEL_DEVNET_METRICS_BASE PEL_DEVNET_THREADS; do
      [[ -z "${!v:-}" ]] || is_uint "${!v}" || die "$v=${!v} is not a number"
    done
    n="$want"
    rpc_base="${PEL_DEVNET_RPC_BASE:-8545}"
    p2p_base="${PEL_DEVNET_P2P_BASE:-30303}"
    metrics_base="${PEL_DEVNET_METRICS_BASE:-0}"
    threads="${PEL_DEVNET_THREADS:-2}"
    block_time="${PEL_DEVNET_BLOCK_TIME:-1}"
    log_level="${PEL_DEVNET_LOG_LEVEL:-info}"
    [[ "$block_time" =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "PEL_DEVNET_BLOCK_TIME=$block_time"
    ((threads >= 1)) || die "PEL_DEVNET_THREADS must be >= 1"
    ((rpc_base + n <= 65536 && p2p_base + n <= 65536 && metrics_base + n <= 65536)) ||
      die "ports out of range"
    if [[ -e "$dir_arg" && -n "$(ls -A "$dir_arg" 2>/dev/null)" ]]; then
      die "$dir_arg exists and is not a devnet folder (no devnet.conf); choose another PEL_DEVNET_DIR"
    fi
    mkdir -p "$dir_arg"
    resolve_dir
    echo "devnet: creating a $n-node devnet in $dir"
    local ids="" id
    for ((i = 0; i < n; i++)); do
      id="$("$node_bin" --node-key "$dir/node$i.key" --print-node-id)" ||
        die "pel-node --print-node-id failed for node $i"
      id="$(echo "$id" | tail -n 1 | tr -d '[:space:]')"
      [[ "$id" =~ ^0x[0-9a-f]{40}$ ]] || die "pel-node --print-node-id printed '$id', not an address"
      echo "$id" >"$dir/node$i.id"
      ids+="${ids:+,}$id"
    done
    local -a gen=(--init-genesis "$dir/genesis.json" --validators "$ids")
    [[ -n "${PEL_DEVNET_CHAIN_ID:-}" ]] && gen+=(--chain-id "$PEL_DEVNET_CHAIN_ID")
    [[ -n "${PEL_DEVNET_GAS_LIMIT:-}" ]] && gen+=(--gas-limit "$PEL_DEVNET_GAS_LIMIT")
    "$node_bin" "${gen[@]}" >/dev/null || die "pel-node ${gen[*]} failed"
    [[ -s "$dir/genesis.json" ]] || die "pel-node --init-genesis wrote no $dir/genesis.json"
    write_conf
  fi
  for ((i = 0; i < n; i++)); do
    start_node "$i"
  done
  if ! wait_nodes "$((n - 1))" $(seq 0 $((n - 1))); then
    echo "devnet: not every node is up and peered; running nodes are left for inspection" >&2
    echo "        ('$prog status', '$prog logs I'); stop them with '$prog down'" >&2
    exit 1
  fi
  print_table
  echo "devnet: $n nodes up and fully peered; data and logs in $dir"
  echo "        '$prog status' shows heads and peers; '$prog down' stops them"
}

cmd_down() {
  [[ $# -eq 0 ]] || die "usage: $prog down"
  load_conf
  local i pid count=0
  for ((i = 0; i < n; i++)); do
    pid="$(node_pid "$i")"
    if [[ -n "$pid" ]]; then
      kill -TERM "$pid" 2>/dev/null || true
      count=$((count + 1))
    else
      rm -f "$dir/node$i.pid"
    fi
  done
  for ((i = 0; i < n; i++)); do
    stop_node "$i" TERM
  done
  echo "devnet: stopped $count node(s); data kept in $dir"
  echo "        '$prog up $n' restarts this chain; 'rm -rf $dir' wipes it"
}

cmd_status() {
  [[ $# -eq 0 ]] || die "usage: $prog status"
  load_conf
  local i pid url head number hash peers cs extra c_height c_round c_step
  printf '%-4s  %-8s  %-7s  %-24s  %-8s  %-12s  %-5s  %s\n' \
    node pid state rpc head hash peers consensus
  for ((i = 0; i < n; i++)); do
    pid="$(node_pid "$i")"
    url="$(rpc_url "$i")"
    number="-" hash="-" peers="-" extra="-"
    if [[ -n "$pid" ]]; then
      head="$(rpc "$url" eth_getBlockByNumber '["latest",false]' | jq -c '[.number,.hash]' 2>/dev/null || true)"
      if [[ -n "$head" && "$head" != "null" ]]; then
        number="$(hex_to_dec "$(jq -r '.[0]' <<<"$head")")"
        hash="$(jq -r '.[1]' <<<"$head" | cut -c1-10).."
      else
        number="?"
      fi
      peers="$(peer_count "$i")"
      cs="$(rpc "$url" pel_consensusStatus | jq -r '[.height, .round, .step] | @tsv' 2>/dev/null || true)"
      if [[ -n "$cs" ]]; then
        IFS=$'\t' read -r c_height c_round c_step <<<"$cs"
        extra="height $(hex_to_dec "$c_height") round $(hex_to_dec "$c_round") $c_step"
      fi
    fi
    printf '%-4s  %-8s  %-7s  %-24s  %-8s  %-12s  %-5s  %s\n' "$i" "${pid:--}" \
      "$([[ -n "$pid" ]] && echo running || echo stopped)" "$url" "$number" "$hash" \
      "${peers:-?}" "$extra"
  done
}

cmd_kill() {
  [[ $# -ge 1 && $# -le 2 ]] || die "usage: $prog kill I [-9]"
  load_conf
  check_index "$1"
  local sig=TERM
  if [[ $# -eq 2 ]]; then
    case "$2" in
      -9 | -KILL | -SIGKILL) sig=KILL ;;
      *) die "kill: unknown option '$2' (only -9)" ;;
    esac
  fi
  local pid
  pid="$(node_pid "$1")"
  [[ -n "$pid" ]] || die "node $1 is not running"
  stop_node "$1" "$sig"
  echo "devnet: node $1 (pid $pid) stopped with SIG$sig; '$prog start $1' restarts it"
}

cmd_start() {
  [[ $# -eq 1 ]] || die "usage: $prog start I"
  load_conf
  check_index "$1"
  find_node_bin
  local pid
  pid="$(node_pid "$1")"
  [[ -z "$pid" ]] || die "node $1 is already running (pid $pid)"
  start_node "$1"
  wait_nodes "" "$1" || exit 1
  echo "devnet: node $1 started (pid $(node_pid "$1"), $(rpc_url "$1"), head" \
    "$(hex_to_dec "$(rpc "$(rpc_url "$1")" eth_blockNumber)"), peers $(peer_count "$1"))"
}

cmd_logs() {
  [[ $# -ge 1 ]] || die "usage: $prog logs I [-f] [-n LINES]"
  load_conf
  check_index "$1"
  local i="$1" follow=0 lines=50
  shift
  while (($#)); do
    case "$1" in
      -f) follow=1; shift ;;
      -n)
        if [[ $# -lt 2 ]] || ! is_uint "$2"; then die "logs: -n needs a number"; fi
        lines="$2"; shift 2 ;;
      *) die "logs: unknown option '$1'" ;;
    esac
  done
  [[ -f "$dir/node$i.log" ]] || die "node $i has no log yet ($dir/node$i.log)"
  if ((follow)); then
    exec tail -n "$lines" -f "$dir/node$i.log"
  fi
  tail -n "$lines" "$dir/node$i.log"
}

cmd_bench() {
  load_conf
  local loadgen="${PEL_LOADGEN:-}"
  if [[ -z "$loadgen" ]]; then
    if [[ -x "$root/build/release/tools/loadgen/pel-loadgen" ]]; then
      loadgen="$root/build/release/tools/loadgen/pel-loadgen"
    elif command -v pel-loadgen >/dev/null; then
      loadgen="$(command -v pel-loadgen)"
    else
      die "pel-loadgen not found: build it (cmake --build build/release --target pel_loadgen) or set PEL_LOADGEN"
    fi
  fi
  local running i urls=""
  running="$(running_nodes)"
  [[ -n "$running" ]] || die "no node of $dir is running ('$prog up $n')"
  for ((i = 0; i < n; i++)); do
    urls+="${urls:+,}$(rpc_url "$i")"
  done
  local -a args=("$@")
  ((${#args[@]})) || args=(--workload erc20 --senders 500 --txs 75000 --concurrency 32)
  echo "devnet: $loadgen --url $urls ${args[*]}" >&2
  exec "$loadgen" --url "$urls" "${args[@]}"
}

# --- main ----------------------------------------------------------------------------------------

timeout="${PEL_DEVNET_TIMEOUT:-60}"
stop_timeout="${PEL_DEVNET_STOP_TIMEOUT:-30}"
is_uint "$timeout" || die "PEL_DEVNET_TIMEOUT=$timeout is not a number of seconds"
is_uint "$stop_timeout" || die "PEL_DEVNET_STOP_TIMEOUT=$stop_timeout is not a number of seconds"
for tool in curl jq setsid; do
  command -v "$tool" >/dev/null || die "$tool is needed (scripts/setup.sh installs it)"
done
node_bin=""

cmd="${1:-}"
[[ -n "$cmd" ]] || { usage >&2; exit 2; }
shift
if [[ "${1:-}" == "--help" || "${1:-}" == "-h" ]]; then
  help_cmd "$cmd"
  exit 0
fi
case "$cmd" in
  up) cmd_up "$@" ;;
  down) cmd_down "$@" ;;
  status) cmd_status "$@" ;;
  kill) cmd_kill "$@" ;;
  start) cmd_start "$@" ;;
  logs) cmd_logs "$@" ;;
  bench) cmd_bench "$@" ;;
  help | -h | --help) help_cmd "${1:-}" ;;
  *) echo "devnet: unknown command '$cmd'" >&2; usage >&2; exit 2 ;;
esac
