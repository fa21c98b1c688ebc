#!/usr/bin/env bash
# Times the example suite (examples/playwright) under hypertest against plain Playwright.
#
# Usage: bench/example_vs_playwright.sh [rounds=5]
#
# Needs a built hypertest: $HT_BIN (a bin directory or the binary itself; default
# build/release/bin), else `hypertest` on PATH. Works on a copy of the example in a temp dir:
# `hypertest deploy --quiet` once (not timed), then per round `hypertest invoke --quiet
# --concurrency 2` and `playwright test --workers=2 --reporter=dot`, timed by wall clock.
# Prints per-round times, both medians and, last, `ratio: X.XX` = median(hypertest) /
# median(playwright). Exits 1 if any run fails (its log is shown), 2 on bad usage.
# The temp dir is removed on success unless KEEP_WORK=1, and kept on failure.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
example_dir="$repo_root/examples/playwright"
rounds="${1:-5}"

die() {
  echo "example_vs_playwright: $*" >&2
  exit 2
}

[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || die "rounds must be a positive integer, got '$rounds'"
[[ -d "$example_dir" ]] || die "no example project at $example_dir"
command -v node >/dev/null || die "node is not on PATH"

find_hypertest() {
  local candidate="${HT_BIN:-$repo_root/build/release/bin}"
  if [[ -f "$candidate" && -x "$candidate" ]]; then
    echo "$candidate"
  elif [[ -x "$candidate/hypertest" ]]; then
    echo "$candidate/hypertest"
  elif command -v hypertest >/dev/null; then
    command -v hypertest
  else
    die "no hypertest binary in ${HT_BIN:-$repo_root/build/release/bin} or on PATH; build it or set HT_BIN"
  fi
}
hypertest="$(realpath "$(find_hypertest)")"

work="$(mktemp -d "${TMPDIR:-/tmp}/ht-bench.XXXXXX")"
cleanup() {
  local status=$?
  if [[ "${KEEP_WORK:-0}" == 1 || $status != 0 ]]; then
    echo "work dir kept: $work" >&2
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT

# A private copy, so hypertest's state and Playwright's output never touch the repo.
# node_modules is copied, not symlinked: deploy packs it into an image layer, and a symlink
# pointing outside the project would not survive that.
project="$work/project"
mkdir -p "$project"
tar -C "$example_dir" \
  --exclude=./node_modules --exclude=./test-results --exclude=./playwright-report \
  --exclude=./blob-report --exclude=./.hypertest \
  --exclude=./hypertest.results.json --exclude=./hypertest.junit.xml \
  -cf - . | tar -C "$project" -xf -
if [[ -d "$example_dir/node_modules/@playwright/test" ]]; then
  cp -a "$example_dir/node_modules" "$project/node_modules"
else
  echo "installing the example's dependencies (npm ci)..." >&2
  (cd "$project" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund >"$work/npm.log" 2>&1) ||
    { cat "$work/npm.log" >&2; die "npm ci failed in $project"; }
fi

now() { date +%s.%N; }

# run_timed NAME LOG CMD...: runs CMD in the project dir and prints its wall time in seconds;
# on a non-zero exit shows the end of LOG and stops the benchmark.
run_timed() {
  local name="$1" log="$2"
  shift 2
  local start end status=0
  start="$(now)"
  (cd "$project" && "$@") >"$log" 2>&1 || status=$?
  end="$(now)"
  if ((status != 0)); then
    echo "example_vs_playwright: $name exited $status; last lines of $log:" >&2
    tail -n 40 "$log" >&2
    exit 1
  fi
  awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f\n", b - a }'
}

median() {
  printf '%s\n' "$@" | sort -g | awk '
    { v[NR] = $1 }
    END { if (NR % 2) printf "%.2f\n", v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

echo "hypertest: $hypertest"
echo "project:   $project"
echo "deploying (not timed)..."
run_timed "hypertest deploy" "$work/deploy.log" "$hypertest" deploy --quiet >/dev/null

ht_times=()
pw_times=()
for ((round = 1; round <= rounds; round++)); do
  ht="$(run_timed "hypertest invoke (round $round)" "$work/hypertest.$round.log" \
    "$hypertest" invoke --quiet --concurrency 2)"
  pw="$(run_timed "playwright test (round $round)" "$work/playwright.$round.log" \
    node node_modules/@playwright/test/cli.js test --workers=2 --reporter=dot \
    --output "$work/playwright-output")"
  ht_times+=("$ht")
  pw_times+=("$pw")
  printf 'round %d: hypertest %6.2f s   playwright %6.2f s\n' "$round" "$ht" "$pw"
done

ht_median="$(median "${ht_times[@]}")"
pw_median="$(median "${pw_times[@]}")"
printf 'median:  hypertest %6.2f s   playwright %6.2f s\n' "$ht_median" "$pw_median"
awk -v h="$ht_median" -v p="$pw_median" 'BEGIN { printf "ratio: %.2f\n", h / p }'
