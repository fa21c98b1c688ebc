#!/usr/bin/env bash
# Ctrl-C during a run with the local provider: exit 130 within 3 s, functions stopped, the
# results file written (status "interrupted", one status per test, some cancelled).
source "$(dirname "$0")/faults_lib.sh"
proj="$(fault_project)"
trap 'rm -rf "$proj"' EXIT
cd "$proj"
fault_config "$proj"

run_ht deploy --quiet
expect_rc 0 "deploy"
interrupt_ht 2 run --quiet --grep "@slow|@ok"
expect_rc 130 "interrupted run"
(( elapsed_ms <= 3000 )) || fail "exit took ${elapsed_ms} ms after SIGINT (limit 3000); output: $out"
[[ "$(json hypertest.results.json 'j.status')" == interrupted ]] || fail "results status is not interrupted"
expect_one_status_each hypertest.results.json 7
cancelled="$(json hypertest.results.json 'j.tests.cancelled')"
(( cancelled >= 1 )) || fail "expected cancelled tests: $(cat hypertest.results.json)"
reason="$(json hypertest.results.json "j.testResults.find(t => t.status === 'cancelled').error.message")"
grep -q "interrupted" <<<"$reason" || fail "cancelled without the reason: $reason"
grep -q "<testsuites" hypertest.junit.xml || fail "no JUnit XML after the interrupt"
sleep 0.5
if pgrep -f "$proj/.hypertest/functions" >/dev/null; then
    fail "function processes still run after the interrupt: $(pgrep -af "$proj/.hypertest/functions")"
fi
pass "SIGINT: exit 130 after ${elapsed_ms} ms, $cancelled cancelled, reports written, no function left"
