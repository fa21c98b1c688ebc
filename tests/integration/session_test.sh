#!/usr/bin/env bash
# A test cannot reach the terminal of the user who ran hypertest (no TIOCSTI into their shell):
# run under a pseudo-terminal, where the user's own processes can open /dev/tty, a test inside
# a function environment must not be able to, sandboxed or not.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
source "$here/lib.sh"

fixture="$HT_SOURCE_DIR/tests/fixtures/playwright-realworld"
project="$(copy_project "$fixture")"
trap 'rm -rf "$project"' EXIT
cd "$project"
mkdir -p tty
cat >tty/tty.spec.ts <<'TS'
import { expect, test } from '@playwright/test';
import fs from 'node:fs';

test('has no controlling terminal', () => {
  expect(() => fs.closeSync(fs.openSync('/dev/tty', 'r+'))).toThrow();
});
TS
cat >playwright.tty.config.ts <<'TS'
import { defineConfig } from '@playwright/test';
export default defineConfig({ testDir: './tty' });
TS

# The terminal exists: a process of the user's own session opens it.
script -qec "node -e \"require('fs').openSync('/dev/tty', 'r+'); console.log('user-tty-ok')\"" /dev/null \
  >"$project/user.log" 2>&1 || true
grep -q user-tty-ok "$project/user.log" || fail "no pseudo-terminal to test with: $(cat "$project/user.log")"

for sandbox in true false; do
  cat >hypertest.config.json <<JSON
{"testRunner": {"name": "playwright", "config": "playwright.tty.config.ts"},
 "cloudProvider": {"functionName": "tty-$sandbox", "sandbox": $sandbox}}
JSON
  if [[ "$sandbox" == true ]] && ! can_sandbox; then
    echo "skip: bubblewrap cannot create a sandbox here"
    continue
  fi
  rm -f hypertest.results.json  # each pass is judged by its own results
  script -qec "'$HT' run --quiet" /dev/null >"$project/run-$sandbox.log" 2>&1 || true
  [[ -f hypertest.results.json ]] ||
    fail "sandbox $sandbox: no results written; output: $(cat "$project/run-$sandbox.log")"
  [[ "$(json hypertest.results.json 'j.tests.success')" == 1 ]] ||
    fail "sandbox $sandbox: a test could open the user's terminal; output: $(cat "$project/run-$sandbox.log")"
  pass "sandbox $sandbox: the test has no controlling terminal"
done
