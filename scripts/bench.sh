#!/usr/bin/env bash
# The standard pel-bench sweep (issue 6): Block-STM against the sequential executor on every
# workload, at the sizes of the targets. Writes
#   docs/bench/results.json   every record of every run (pel-bench --json), merged
#   docs/bench/speedup.png    speedup against threads, one panel per workload (gnuplot)
# and rewrites the README between the markers <!-- pel-bench:begin --> and <!-- pel-bench:end -->
# (nothing else in the README is touched) with the targets, a table of every configuration and
# the figure.
#
# Usage: scripts/bench.sh [BUILD_DIR]      (default build/release; needs BUILD_DIR/bench/pel-bench:
#                                           `ninja -C BUILD_DIR pel_bench`, a Release build)
# Environment: PEL_BENCH_REPEAT (default 5: timed rounds, one run per executor and thread count
# each, medians reported), PEL_BENCH_MIN_TIME_MS (default 1500: more rounds, up to 100 x the
# repeat, until the sequential runs of a configuration add up to this; short blocks get more
# samples), PEL_BENCH_NO_README=1 (write results.json and the PNG only), PEL_BENCH_README_ONLY=1
# (run nothing: rewrite the README section from the committed docs/bench/results.json),
# PEL_BENCH_COMMIT (the commit the binary was built from, when it is not this checkout's HEAD).
# Takes about 5-10 minutes on 2 cores. Run it on a machine that is otherwise idle: the figures are
# wall-clock medians, and the load average at the start of every run is recorded with them.
set -euo pipefail
cd "$(dirname "$0")/.."

build=${1:-build/release}
bin="$build/bench/pel-bench"
repeat=${PEL_BENCH_REPEAT:-5}
min_time_ms=${PEL_BENCH_MIN_TIME_MS:-1500}
if [[ "${PEL_BENCH_README_ONLY:-}" != 1 && ! -x "$bin" ]]; then
  echo "bench.sh: $bin not found; build it first: ninja -C $build pel_bench" >&2
  exit 1
fi
for tool in jq gnuplot python3; do
  command -v "$tool" >/dev/null || { echo "bench.sh: $tool is required" >&2; exit 1; }
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
readme_only=${PEL_BENCH_README_ONLY:-}
if [[ "$readme_only" == 1 && ! -f docs/bench/results.json ]]; then
  echo "bench.sh: PEL_BENCH_README_ONLY=1 needs docs/bench/results.json" >&2
  exit 1
fi
n=0
run() {
  n=$((n + 1))
  echo "== pel-bench $*" >&2
  "$bin" "$@" --repeat "$repeat" --min-time-ms "$min_time_ms" --json "$tmp/run$(printf %02d $n).json"
}

if [[ "$readme_only" != 1 ]]; then
# In-memory base state, 1,000- and 10,000-transaction blocks, 1 and 2 threads (the machine's cores).
run --workload transfer --accounts 2,10,100,1000,10000 --txs 1000,10000 --threads 1,2,4
run --workload erc20 --accounts 100,10000 --txs 1000,10000 --threads 1,2,4
run --workload amm --accounts 10000 --pools 1,10,100 --txs 1000,10000 --threads 1,2,4
run --workload lending --accounts 1000 --pools 1,10,100 --txs 1000,10000 --threads 1,2,4
run --workload mixed --accounts 10000 --pools 10 --hot 0.1 --txs 1000,10000 --threads 1,2,4
# LevelDB base state with 100 us per cold read: how far threads hide storage latency.
run --workload transfer --accounts 10000 --txs 10000 --state leveldb --read-latency-us 100 \
  --threads 1,2,4,8,16,32

mkdir -p docs/bench
if [[ -n "${PEL_BENCH_COMMIT:-}" ]]; then
  commit=$PEL_BENCH_COMMIT
  dirty=""
else
  commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
  dirty=""
  # Not `git status | grep -q .`: under pipefail, git's SIGPIPE when grep quits early would read as clean.
  if [[ -n "$(git status --porcelain --untracked-files=no 2>/dev/null || true)" ]]; then
    dirty=" (+ local changes)"
  fi
fi
jq -s --arg date "$(date -u +%Y-%m-%dT%H:%MZ)" --arg commit "$commit$dirty" \
  --arg cpu "$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2 | sed 's/^ //')" \
  --argjson min_time_ms "$min_time_ms" \
  '{tool: "pel-bench", script: "scripts/bench.sh", date: $date, commit: $commit, cpu: $cpu,
    min_time_ms: $min_time_ms,
    hardware_threads: .[0].hardware_threads,
    runs: [.[] | {command, load_average_at_start, ok}],
    records: [.[].records[]]}' "$tmp"/run*.json > "$tmp/merged.json"
# One record per line, times rounded to the microsecond: small diffs from run to run.
python3 - "$tmp/merged.json" docs/bench/results.json <<'PY'
import json, sys
def rounded(v):
    if isinstance(v, float):
        return round(v, 3)
    if isinstance(v, list):
        return [rounded(x) for x in v]
    if isinstance(v, dict):
        return {k: rounded(x) for k, x in v.items()}
    return v
doc = json.load(open(sys.argv[1]))
records = doc.pop("records")
head = json.dumps(doc, indent=2)[:-2]
lines = ",\n".join("    " + json.dumps(rounded(r), sort_keys=True) for r in records)
open(sys.argv[2], "w").write(head + ',\n  "records": [\n' + lines + "\n  ]\n}\n")
PY
"$bin" --replot docs/bench/results.json --plot docs/bench/speedup.png
echo "bench.sh: wrote docs/bench/results.json and docs/bench/speedup.png" >&2
fi

[[ "${PEL_BENCH_NO_README:-}" == 1 ]] && exit 0

# The README section: the targets, one row per configuration, the figure.
jq -r '
  def f2: . * 100 | round / 100 | tostring | if test("\\.") then . else . + ".0" end;
  def x: (f2) + "x";
  def sp($r; $w; $a; $p; $t; $st; $th):
    [$r[] | select(.workload == $w and .accounts == $a and .pools == $p and .txs == $t
                   and .state == $st and .threads == $th)] | first;
  def target($r; $name; $w; $a; $p; $t; $st; $th; $min):
    sp($r; $w; $a; $p; $t; $st; $th) as $rec
    | if $rec == null then "| \($name) | >= \($min)x | not measured | | | | | |"
      else "| \($name) | >= \($min)x | **\($rec.speedup | x)** | "
           + "\($rec.sequential_ms_min / $rec.parallel_ms_min | x) | "
           + (sp($r; $w; $a; $p; $t; $st; 1) as $one
              | if $one == null or $rec.recovery_ms <= 0 then "-"
                else ($one.recovery_ms / $rec.recovery_ms | x) end) + " | "
           + (if $rec.copies_speedup == null then "-" else ($rec.copies_speedup | x) end) + " | "
           + (if $rec.core_round_trip_ns == null then "-"
              else "\($rec.core_round_trip_ns | round) ns" end) + " | "
           + (if $rec.speedup >= $min then "met" else "not met" end) + " |" end;
  .records as $r
  | "Measured by `scripts/bench.sh` on \(.date), commit \(.commit), \(.hardware_threads) hardware"
    + " threads (\(.cpu)). Load average (1, 5, 15 min) at the start of each run: "
    + ([.runs[] | .load_average_at_start | map(f2) | join(" ")] | join("; "))
    + ". Medians of at least \([$r[].repeat] | min) timed rounds (one run per executor each, interleaved in an order that rotates from round to round;"
    + " more rounds for short blocks, until the sequential runs add up to \(.min_time_ms) ms) after"
    + " \($r[0].warmup) warm-up round; every parallel"
    + " run is checked against the sequential one (receipts, diff, state root). Speedup ="
    + " sequential time / parallel time for the same block (medians; in parentheses the ratio of the"
    + " fastest runs, less sensitive to other load); sender recovery is a separate stage"
    + " (last column). The recovery stage is a perfectly parallel job on the same transactions:"
    + " its speedup from 1 thread in the same configuration shows how much of the second core the"
    + " machine gave in those minutes (itself noisy: above 2x when the 1-thread run was slowed)."
    + " Copies: t copies of the sequential run at once on t threads (2 <= t <= hardware threads,"
    + " memory state), t x sequential time / their wall time (medians), measured in the same rounds:"
    + " how much of t cores the machine gave the work of this block, with no coordination at all. A"
    + " reference, not a bound (each copy does the whole block, so Block-STM can exceed it)."
    + " Core-to-core round trip: the time a cache line takes to go from the first CPU to the second"
    + " and back, measured before each round (median); Block-STM shares cache lines between its"
    + " workers, and the host of this machine sometimes moves its two vCPUs apart (50-60 ns becomes"
    + " 300-360 ns for seconds at a time), which slows 2-thread Block-STM and little else."
    + " All records: [docs/bench/results.json](docs/bench/results.json).",
    "",
    "| target (2 threads unless said) | wanted | measured (medians) | fastest runs | recovery stage speedup, same rows | sequential copies, same rows | core-to-core round trip, same rows | |",
    "|---|---|---|---|---|---|---|---|",
    target($r; "transfer, 10,000 accounts, 10,000 txs"; "transfer"; 10000; 1; 10000; "memory"; 2; 1.9),
    target($r; "erc20, 10,000 holders, 10,000 txs"; "erc20"; 10000; 1; 10000; "memory"; 2; 1.9),
    target($r; "amm, 100 pools, 10,000 txs"; "amm"; 10000; 100; 10000; "memory"; 2; 1.8),
    target($r; "lending, 1,000 users, 100 markets, 10,000 txs"; "lending"; 1000; 100; 10000; "memory"; 2; 1.7),
    target($r; "transfer, 2 accounts (fully dependent), 10,000 txs"; "transfer"; 2; 1; 10000; "memory"; 2; 0.97),
    target($r; "amm, 1 pool (fully dependent), 10,000 txs"; "amm"; 10000; 1; 10000; "memory"; 2; 0.97),
    target($r; "transfer, 10,000 accounts, leveldb, 100 us reads, 32 threads"; "transfer"; 10000; 1; 10000; "leveldb"; 32; 10),
    "",
    "| workload | N | P | txs | state | sequential | seq. Mgas/s | speedup by threads: medians (fastest runs) | sequential copies | re-exec/tx | valid/tx | fallback | recovery ms by threads |",
    "|---|---:|---:|---:|---|---:|---:|---|---|---:|---:|---|---|",
    ($r | group_by([.workload, .accounts, .pools, .txs, .state, .read_latency_us])
        | sort_by(.[0] | [(.workload as $w | ["transfer","erc20","amm","lending","mixed"] | index($w)),
                          (.state != "memory"), .read_latency_us, .accounts, .pools, .txs])[]
        | (max_by(.threads)) as $top
        | "| \(.[0].workload) | \(.[0].accounts) | \(if .[0].workload == "transfer" or .[0].workload == "erc20" then "-" else .[0].pools end)"
          + " | \(.[0].txs) | \(.[0].state)\(if .[0].read_latency_us > 0 then ", \(.[0].read_latency_us) us" else "" end)"
          + " | \(.[0].sequential_ms | f2) ms | \(.[0].sequential_mgas_per_s | round)"
          + " | \([.[] | "\(.threads): \(.speedup | x) (\(.sequential_ms_min / .parallel_ms_min | x))"] | join(", "))"
          + " | \([.[] | select(.copies_speedup != null) | "\(.threads): \(.copies_speedup | x)"] | if length == 0 then "-" else join(", ") end)"
          + " | \($top.re_executions_per_tx * 1000 | round / 1000)"
          + " | \($top.validations_per_tx * 1000 | round / 1000)"
          + " | \([.[] | select(.fallback != "") | "\(.threads) threads: \(.fallback_runs)/\(.repeat)"] | if length == 0 then "none" else join(", ") end)"
          + " | \([.[] | "\(.threads): \(.recovery_ms | f2)"] | join(", ")) |"),
    "",
    "![pel-bench speedup against threads](docs/bench/speedup.png)"
' docs/bench/results.json > "$tmp/section.md"

python3 - "$tmp/section.md" <<'PY'
import sys
begin, end = "<!-- pel-bench:begin -->", "<!-- pel-bench:end -->"
section = open(sys.argv[1]).read().rstrip("\n")
text = open("README.md").read()
i, j = text.find(begin), text.find(end)
if i < 0 or j < i:
    sys.exit("bench.sh: README.md lacks the pel-bench markers; nothing written")
open("README.md", "w").write(text[: i + len(begin)] + "\n" + section + "\n" + text[j:])
PY
echo "bench.sh: README.md section updated" >&2
