#!/usr/bin/env bash
# Ctrl-C during a run with the local provider: exit 130 within 3 s, functions stopped, the
# results file written (status "interrupted", one status per test, some cancelled).
# shellcheck source=faults_lib.sh
source "$(dirname "$0")/faults_lib.sh"
proj="$(fault_project)"
seen="$(mktemp)"
trap 'rm -rf "$proj" "$seen"' EXIT
cd "$proj"
fault_config "$proj"

run_ht deploy --quiet
expect_rc 0 "deploy"
# The leak check at the end must see the function processes while they run, or it proves nothing.
watch_functions() {
    for _ in $(seq 100); do
        if [[ -n "$(function_pids "$proj")" ]]; then echo seen >"$seen"; return; fi
        sleep 0.1
    done
}
watch_functions &
watcher=$!
interrupt_ht 2 run --quiet --grep "@slow|@ok"
wait "$watcher"
expect_rc 130 "interrupted run"
[[ -s "$seen" ]] || fail "no function process of $proj was seen during the run"
(( elapsed_ms <= 3000 )) || fail "exit took ${elapsed_ms} ms after SIGINT (limit 3000); output: $out"
[[ "$(json hypertest.results.json 'j.status')" == interrupted ]] || fail "results status is not interrupted"
expect_one_status_each hypertest.results.json 7
cancelled="$(json hypertest.results.json 'j.tests.cancelled')"
(( cancelled >= 1 )) || fail "expected cancelled tests: $(cat hypertest.results.json)"
reason="$(json hypertest.results.json "j.testResults.find(t => t.status === 'cancelled').error.message")"
grep -q "interrupted" <<<"$reason" || fail "cancelled without the reason: $reason"
grep -q "<testsuites" hypertest.junit.xml || fail "no JUnit XML after the interrupt"
sleep 0.5
left="$(function_pids "$proj")"
if [[ -n "$left" ]]; then
    fail "function processes still run after the interrupt: $(ps -o pid=,args= -p "${left//$'\n'/,}")"
fi
pass "SIGINT: exit 130 after ${elapsed_ms} ms, $cancelled cancelled, reports written, no function left"
