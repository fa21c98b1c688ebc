#!/usr/bin/env bash
# Makespan of hypertest's plan vs the lower bound, one test per invocation and round-robin
# shards: 1,000 sleep tests with heavy-tailed durations, start-up 2 s per invocation,
# concurrency 100, executed on the local function host through hypertest's dispatcher.
#
# Usage: bench/makespan.sh [ht_bench_makespan options...]
#   e.g. bench/makespan.sh --scale 1          (real time: about 7 minutes)
#        bench/makespan.sh --max-ms 30000     (a lighter tail: the work bound dominates)
#        bench/makespan.sh --no-run           (plans and predictions only)
# Defaults: --tests 1000 --concurrency 100 --startup-ms 2000 --scale 0.1 (all sleeps at a
# tenth: about 45 s in all, including warming up 100 environments).
#
# Builds ht_bench_makespan (and its sleep runtime) in $HT_BUILD_DIR (default
# build/bench, RelWithDebInfo) unless it is there and up to date. Prints the workload, the
# lower bound, each strategy's run, then a Markdown table:
#   strategy | batches | predicted | measured (x scale) | scaled back | ratio to lower bound
# Exit status: that of ht_bench_makespan (0 when every strategy ran and every test passed).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${HT_BUILD_DIR:-$repo_root/build/bench}"

if [[ ! -f "$build_dir/CMakeCache.txt" ]]; then
  echo "configuring $build_dir..." >&2
  cmake -S "$repo_root" -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
echo "building ht_bench_makespan in $build_dir..." >&2
cmake --build "$build_dir" -j2 --target ht_bench_makespan >"$build_dir/bench-build.log" 2>&1 ||
  { tail -40 "$build_dir/bench-build.log" >&2; echo "makespan: build failed" >&2; exit 2; }

# 100 runtimes, each with its Runtime API server, need a few hundred descriptors.
[[ "$(ulimit -n)" == unlimited || "$(ulimit -n)" -ge 4096 ]] || ulimit -n 4096 2>/dev/null || true
exec "$build_dir/bin/ht_bench_makespan" "$@"
