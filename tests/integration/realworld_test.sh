#!/usr/bin/env bash
# Habits of real Playwright suites, run as they are (tests/fixtures/playwright-realworld):
# (1) `init` on a project without testDir; several invocations at once each start the webServer
#     on the same fixed port and build into the project; the suite sees the shell's variables;
#     the project stays unchanged and the user's own `playwright test --list` still works; a
#     spec change re-uses the unpacked dependency layer;
# (2) maxFailures counts across the run: the same statuses as plain Playwright;
# (3) a webServer that cannot start stops the run at once with its message, exit 2.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
source "$here/lib.sh"
# shellcheck source=statuses_lib.sh
source "$here/statuses_lib.sh"

fixture="$HT_SOURCE_DIR/tests/fixtures/playwright-realworld"
[[ -f "$fixture/node_modules/@playwright/test/cli.js" ]] ||
  fail "Playwright is not installed in $fixture (run scripts/setup.sh)"
project="$(copy_project "$fixture")"
tmp="$(mktemp -d)"
export HYPERTEST_CACHE_DIR="$tmp/cache"
trap 'rm -rf "$project" "$tmp"' EXIT
cd "$project"
git init -q .

# (1) init writes no testRunner.config (the root's default config is the one) and ignores
# hypertest's files in git.
run_ht init
expect_rc 0 "init"
[[ "$(json hypertest.config.json 'j.testRunner.config')" == undefined ]] ||
  fail "init set testRunner.config although playwright.config.ts is the default"
grep -qx '.hypertest/' .gitignore || fail ".gitignore lacks .hypertest/: $(cat .gitignore)"
json hypertest.config.json 'JSON.stringify({...j, concurrency: 4})' >cfg.tmp && mv cfg.tmp hypertest.config.json

FIXTURE_SHELL_VAR=from-shell run_ht run --quiet
expect_rc 0 "run of the fixed-port suite"
[[ "$(json hypertest.results.json 'j.tests.success')" == 4 ]] ||
  fail "expected 4 passed tests; output:
$out"
(( $(json hypertest.results.json 'j.invocations') >= 3 )) ||
  fail "expected several invocations at once; output:
$out"
[[ ! -e dist ]] || fail "the webServer's build wrote into the project itself"
pass "4 tests in $(json hypertest.results.json 'j.invocations') invocations, each with its own server on port 4173"

listed="$(node node_modules/@playwright/test/cli.js test --list 2>&1 | tail -n 1)"
[[ "$listed" == "Total: 4 tests in 4 files" ]] ||
  fail "plain Playwright's discovery changed after hypertest run: $listed"
[[ -z "$(find . -path ./node_modules -prune -o -name '*.spec.ts' -print | grep -v '^./tests/\|^./failing/')" ]] ||
  fail "hypertest left copies of specs inside the project"
pass "the user's own playwright test --list still finds the 4 tests"

# A one-line spec change: the next deploy unpacks the new test layer only; the dependency
# layer's unpacked copy is re-used.
layers_before="$(ls "$HYPERTEST_CACHE_DIR/layers" | sort)"
echo "// changed" >>tests/env.spec.ts
run_ht deploy --quiet
expect_rc 0 "deploy after a spec change"
new_layers="$(comm -13 <(echo "$layers_before") <(ls "$HYPERTEST_CACHE_DIR/layers" | sort) | wc -l)"
[[ "$new_layers" == 1 ]] || fail "expected one new unpacked layer after a spec change, got $new_layers"
pass "a spec change unpacks one new layer; the dependency layer is re-used"

# (2) maxFailures: 2, five failing tests in one file.
cat >hypertest.config.json <<'JSON'
{"testRunner": {"name": "playwright", "config": "playwright.maxfailures.config.ts"},
 "cloudProvider": {"functionName": "maxfailures"}, "concurrency": 2}
JSON
PLAYWRIGHT_JSON_OUTPUT_NAME="$tmp/plain.json" node node_modules/@playwright/test/cli.js test \
  --config playwright.maxfailures.config.ts --workers=2 --reporter=json --output "$tmp/plain-out" \
  >"$tmp/plain.log" 2>&1 || true
statuses_from_playwright_report "$tmp/plain.json" >"$tmp/expected.tsv"
run_ht run --quiet
expect_rc 1 "run with maxFailures"
statuses_from_hypertest_results hypertest.results.json >"$tmp/actual.tsv"
diff -u --label playwright "$tmp/expected.tsv" --label hypertest "$tmp/actual.tsv" ||
  fail "maxFailures: statuses differ from plain Playwright's; output:
$out"
[[ "$(cut -f4 "$tmp/actual.tsv" | sort | uniq -c | tr -s ' \n' ' ')" == " 2 failed 1 passed 4 skipped " ]] ||
  fail "maxFailures: unexpected statuses: $(cut -f4 "$tmp/actual.tsv" | tr '\n' ' ')"
pass "maxFailures 2: 2 failed, the rest did not run, as under plain Playwright"

# (3) The webServer's build step fails: exit 2 at once with the build's own message.
cat >hypertest.config.json <<'JSON'
{"testRunner": {"name": "playwright", "config": "playwright.broken-server.config.ts"},
 "cloudProvider": {"functionName": "brokenserver"}, "concurrency": 2}
JSON
run_ht run --quiet
expect_rc 2 "run whose webServer cannot start"
expect_out "build failed: site/missing-entry.ts not found" "the webServer's message"
expect_out "could not start" "the reason"
(( $(json hypertest.results.json 'j.invocations') <= 2 )) ||
  fail "a suite that cannot start was retried: $(json hypertest.results.json 'j.invocations') invocations"
pass "a webServer that cannot start stops the run (exit 2) with its own message"
