#!/usr/bin/env bash
# Runs the playwright-statuses fixture twice, with plain Playwright and with `hypertest run`,
# and checks that every test gets the same status from both.
# Usage: HT_BIN=<dir with hypertest> playwright_statuses_test.sh [fixture dir]
# With HT_PLAIN_ONLY=1 only the plain Playwright run and its status extraction happen.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
fixture="$(cd "${1:-${HT_FIXTURE_DIR:-$here/../fixtures/playwright-statuses}}" && pwd)"
: "${HT_BIN:?set HT_BIN to the directory holding the hypertest binary}"
[[ -f "$fixture/node_modules/@playwright/test/cli.js" ]] ||
  { echo "FAIL: Playwright is not installed in $fixture (run scripts/setup.sh)" >&2; exit 1; }

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# shellcheck source=statuses_lib.sh
source "$here/statuses_lib.sh"

# (a) Plain Playwright, as a user would run it.
echo "== plain playwright test"
plain_rc=0
(cd "$fixture" && PLAYWRIGHT_JSON_OUTPUT_NAME="$tmp/plain.json" FORCE_COLOR=0 \
  node node_modules/@playwright/test/cli.js test --reporter=json --output "$tmp/plain-results" \
  >"$tmp/plain.log" 2>&1) || plain_rc=$?
if [[ $plain_rc -ne 1 || ! -s "$tmp/plain.json" ]]; then
  echo "FAIL: plain Playwright exited with $plain_rc (expected 1: some tests fail on purpose)" >&2
  tail -n 30 "$tmp/plain.log" >&2
  exit 1
fi
statuses_from_playwright_report "$tmp/plain.json" >"$tmp/expected.tsv"
echo "plain Playwright: $(wc -l <"$tmp/expected.tsv") tests;" \
  "$(cut -f4 "$tmp/expected.tsv" | sort | uniq -c | tr -s ' \n' ' ')"
if [[ "${HT_PLAIN_ONLY:-0}" == 1 ]]; then
  cat "$tmp/expected.tsv"
  exit 0
fi

# (b) hypertest in a copy of the fixture (Playwright's own outputs left behind).
echo "== hypertest run"
project="$tmp/project"
mkdir -p "$project"
(cd "$fixture" && tar --exclude=./test-results --exclude=./playwright-report --exclude=./blob-report \
  --exclude=./.hypertest --exclude='./hypertest.*' -cf - .) | (cd "$project" && tar -xf -)
cat >"$project/hypertest.config.json" <<'JSON'
{"testRunner": {"name": "playwright"}, "concurrency": 2}
JSON
ht_rc=0
(cd "$project" && "$HT_BIN/hypertest" run --quiet >"$tmp/hypertest.log" 2>&1) || ht_rc=$?
if [[ $ht_rc -ne 1 ]]; then
  echo "FAIL: hypertest run exited with $ht_rc (expected 1: some tests fail)" >&2
  tail -n 40 "$tmp/hypertest.log" >&2
  exit 1
fi
[[ -s "$project/hypertest.results.json" ]] ||
  { echo "FAIL: hypertest wrote no hypertest.results.json" >&2; tail -n 40 "$tmp/hypertest.log" >&2; exit 1; }

# (c) Every test exactly once, with the status plain Playwright gave it.
statuses_from_hypertest_results "$project/hypertest.results.json" >"$tmp/actual.tsv"
duplicates="$(cut -f1-3 "$tmp/actual.tsv" | uniq -d)"
if [[ -n "$duplicates" ]]; then
  echo "FAIL: tests reported more than once by hypertest:" >&2
  echo "$duplicates" >&2
  exit 1
fi
if ! diff -u --label playwright "$tmp/expected.tsv" --label hypertest "$tmp/actual.tsv" >"$tmp/diff.txt"; then
  echo "FAIL: hypertest and plain Playwright disagree (- playwright, + hypertest):" >&2
  cat "$tmp/diff.txt" >&2
  exit 1
fi
echo "PASS: $(wc -l <"$tmp/actual.tsv") tests, same statuses as plain Playwright"
