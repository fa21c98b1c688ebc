#!/usr/bin/env bash
# Client overhead of 2,000 invocations: hypertest's dispatcher + aws provider vs a Node script
# that invokes the way Node tools commonly do (@aws-sdk/client-lambda behind a concurrency
# limiter), both invoking, over SigV4, a function of tools/aws-emulator that answers at once (builtinAnswer
# "hypertest-passed": no runtime process), 2,000 one-test invocations at concurrency 100.
#
# Usage: bench/invoke_overhead.sh [--invocations 2000] [--concurrency 100] [--runs 5]
#
# Builds ht_bench_invoke_overhead in $HT_BUILD_DIR (default build/bench, RelWithDebInfo); installs
# bench/invoke_overhead's pinned packages on first use (npm ci). Starts the emulator on a free
# port, runs one untimed warm-up of the same size (the emulator's JIT: a cold server makes every
# client spend more CPU per call), then the two clients alternately --runs times each and prints
# every run's JSON line and a Markdown table of the medians:
#   client | wall s | CPU s (user+sys) | peak RSS MB | CPU ratio | CPU s in the invoke loop | emulator CPU s
# CPU ratio is the Node client's CPU over this client's. The emulator's CPU (the server, not
# counted) is shown for context. Exit status 1 when a run failed (a test not passed, a driver or
# the emulator exited), 2 on bad usage or a failed build or install.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${HT_BUILD_DIR:-$repo_root/build/bench}"
node_dir="$repo_root/bench/invoke_overhead"
emu_dir="$repo_root/tools/aws-emulator"
invocations=2000 concurrency=100 runs=5
die() { echo "invoke_overhead: $*" >&2; exit 2; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --invocations) invocations="${2:-}"; shift 2 ;;
    --concurrency) concurrency="${2:-}"; shift 2 ;;
    --runs) runs="${2:-}"; shift 2 ;;
    *) die "unknown argument '$1' (--invocations N, --concurrency C, --runs R)" ;;
  esac
done
for v in "$invocations" "$concurrency" "$runs"; do [[ "$v" =~ ^[1-9][0-9]*$ ]] || die "counts must be positive integers, got '$v'"; done
for t in node npm curl; do command -v "$t" >/dev/null || die "$t is not installed (scripts/setup.sh)"; done
[[ -d "$emu_dir/node_modules/@smithy/signature-v4" ]] || die "run npm ci in $emu_dir (scripts/setup.sh)"

if [[ ! -f "$build_dir/CMakeCache.txt" ]]; then
  echo "configuring $build_dir..." >&2
  cmake -S "$repo_root" -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
echo "building ht_bench_invoke_overhead in $build_dir..." >&2
cmake --build "$build_dir" -j2 --target ht_bench_invoke_overhead >"$build_dir/bench-build.log" 2>&1 ||
  { tail -40 "$build_dir/bench-build.log" >&2; die "build failed"; }
ht_driver="$build_dir/bin/ht_bench_invoke_overhead"
if [[ ! -d "$node_dir/node_modules/@aws-sdk/client-lambda" ]]; then
  echo "installing bench/invoke_overhead's packages (npm ci)..." >&2
  (cd "$node_dir" && npm ci --no-audit --no-fund >/dev/null) || die "npm ci failed in $node_dir"
fi

# The emulator, as tests/integration/aws_lib.sh starts it (that library also needs a registry,
# a base image and a project, none of which this bench uses: the function has no image).
work="$(mktemp -d)"
state="$(mktemp -d /tmp/e.XXXX)"
EMU_PID=""
cleanup() {
  if [[ -n "$EMU_PID" ]]; then kill "$EMU_PID" 2>/dev/null || true; wait "$EMU_PID" 2>/dev/null || true; fi
  rm -rf "$work" "$state"
}
trap cleanup EXIT
KEY_ID="AKIDHYPERTESTBENCH"
SECRET="benchSecret/$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')+Key"
REGION="us-east-1"
FUNCTION="bench-instant"
# --registry is required but never contacted: nothing is pulled.
node "$emu_dir/src/main.js" --port 0 --state "$state" --registry 127.0.0.1:9 --region "$REGION" \
  --access-key "$KEY_ID" --secret-key "$SECRET" > "$work/emulator.out" 2> "$work/emulator.err" &
EMU_PID=$!
for _ in $(seq 200); do
  grep -q '^ready ' "$work/emulator.out" 2>/dev/null && break
  kill -0 "$EMU_PID" 2>/dev/null || { cat "$work/emulator.err" >&2; echo "invoke_overhead: the emulator exited" >&2; exit 1; }
  sleep 0.1
done
port="$(awk '/^ready /{print $2; exit}' "$work/emulator.out")"
[[ -n "$port" ]] || { cat "$work/emulator.err" >&2; echo "invoke_overhead: the emulator did not report its port" >&2; exit 1; }
EMU_URL="http://127.0.0.1:$port"
curl -sS -f -X POST -H 'Content-Type: application/json' \
  --data '{"name":"'"$FUNCTION"'","builtinAnswer":"hypertest-passed","timeout":60}' "$EMU_URL/_emulator/functions" >/dev/null ||
  { echo "invoke_overhead: cannot create the function in the emulator" >&2; exit 1; }

# Only the emulator's credentials and endpoint, for both clients.
export HOME="$work/home" AWS_ENDPOINT_URL="$EMU_URL" AWS_ACCESS_KEY_ID="$KEY_ID" AWS_SECRET_ACCESS_KEY="$SECRET"
export AWS_REGION="$REGION" AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_DEFAULT_REGION AWS_CONFIG_FILE AWS_SHARED_CREDENTIALS_FILE 2>/dev/null || true
mkdir -p "$HOME"

# CPU seconds of the emulator's process tree (main.js may re-run itself as a child).
tck="$(getconf CLK_TCK)"
emu_cpu() {
  local pids total=0 p
  pids="$EMU_PID $(ps -o pid= --ppid "$EMU_PID" 2>/dev/null | tr '\n' ' ')"
  for p in $pids; do
    [[ -r "/proc/$p/stat" ]] || continue
    total=$((total + $(awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$p/stat")))
  done
  awk -v t="$total" -v h="$tck" 'BEGIN { printf "%.3f", t / h }'
}

if grep -q 'start_invoke' "$repo_root/src/core/dispatch.cpp"; then dispatcher="event loop (start_invoke/poll)"; else dispatcher="thread per invocation"; fi
echo "machine: $(nproc) cores, $(awk -F': ' '/^model name/{print $2; exit}' /proc/cpuinfo), node $(node --version)"
if rev="$(git -C "$repo_root" rev-parse --short HEAD 2>/dev/null)"; then
  git -C "$repo_root" diff --quiet HEAD -- src || rev="$rev + uncommitted src changes"
else
  rev="(not a git checkout)"
fi
echo "hypertest: $rev, dispatcher: $dispatcher"
echo "emulator on $port; $invocations one-test invocations, concurrency $concurrency, $runs runs each"

results="$work/results.jsonl"
failed=0
run() {  # <client> <command...>: one run; appends its JSON line (+ emulator_cpu_s) to $results
  local client="$1" before after line
  shift
  before="$(emu_cpu)"
  if ! line="$("$@" --invocations "$invocations" --concurrency "$concurrency" --function "$FUNCTION" --region "$REGION")"; then
    echo "invoke_overhead: $client run failed: $line" >&2
    failed=1
    return
  fi
  after="$(emu_cpu)"
  line="${line%\}},\"emulator_cpu_s\":$(awk -v a="$after" -v b="$before" 'BEGIN { printf "%.3f", a - b }')}"
  echo "$line" | tee -a "$results"
}
# Warm-up (not counted): the emulator's JIT and caches.
(cd "$node_dir" && node node_sdk.mjs --invocations "$invocations" --concurrency "$concurrency" --function "$FUNCTION" --region "$REGION" >/dev/null) ||
  { echo "invoke_overhead: the warm-up failed" >&2; exit 1; }
for _ in $(seq "$runs"); do
  run hypertest "$ht_driver"
  run node-sdk node "$node_dir/node_sdk.mjs"
done
kill -0 "$EMU_PID" 2>/dev/null || { echo "invoke_overhead: the emulator exited: $(cat "$work/emulator.err")" >&2; failed=1; }

echo
node --input-type=module - "$results" <<'JS' || failed=1
import fs from 'node:fs';
const rows = fs.readFileSync(process.argv[2], 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const stats = {};
for (const client of ['hypertest', 'node-sdk']) {
  const mine = rows.filter((r) => r.client === client);
  if (!mine.length) continue;
  stats[client] = Object.fromEntries(['wall_s', 'cpu_s', 'max_rss_mb', 'loop_cpu_s', 'emulator_cpu_s'].map((k) => [k, median(mine.map((r) => r[k]))]));
  stats[client].runs = mine.length;
}
const node_cpu = stats['node-sdk']?.cpu_s;
console.log('| client | wall s | CPU s (user+sys) | peak RSS MB | CPU ratio | CPU s in the invoke loop | emulator CPU s |');
console.log('| --- | --- | --- | --- | --- | --- | --- |');
for (const [client, s] of Object.entries(stats)) {
  const ratio = node_cpu ? `${(node_cpu / s.cpu_s).toFixed(1)}x` : '-';
  console.log(`| ${client} | ${s.wall_s.toFixed(2)} | ${s.cpu_s.toFixed(3)} | ${s.max_rss_mb.toFixed(1)} | ${ratio} | ${s.loop_cpu_s.toFixed(3)} | ${s.emulator_cpu_s.toFixed(2)} |`);
}
console.log(`\nmedians of ${Object.values(stats).map((s) => s.runs).join(' / ')} runs; CPU ratio: the Node client's CPU over this client's`);
if (stats.hypertest && node_cpu) {
  const x = node_cpu / stats.hypertest.cpu_s;
  console.log(`target, at least 10x less CPU than the Node SDK: ${x >= 10 ? 'met' : 'not met'} (${x.toFixed(1)}x)`);
}
if (!stats.hypertest || !stats['node-sdk']) process.exit(1);
JS
if (( failed )); then exit 1; fi
