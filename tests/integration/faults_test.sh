#!/usr/bin/env bash
# Fault tolerance with the local provider: a runtime that crashes mid-batch, and a batch that
# runs past the function's timeout. Every test must end with exactly one status.
source "$(dirname "$0")/faults_lib.sh"
proj="$(fault_project)"
trap 'rm -rf "$proj"' EXIT
cd "$proj"

# (a) The test "crashes the runtime once" kills hypertest-runner on its first attempt: its
# batch's unfinished tests go back to the queue and pass in later invocations.
fault_config "$proj"
run_ht run --quiet --grep "@crash|@ok"
expect_rc 0 "run with a crashing runtime"
[[ -f .hypertest/storage/ht-faults/crash ]] || fail "the crash test never ran its crash; output:
$out"
expect_one_status_each hypertest.results.json 7
[[ "$(json hypertest.results.json 'j.tests.success')" == 7 ]] || fail "not all 7 passed: $out"
[[ "$(json_test hypertest.results.json 'crashes the runtime once' attempts)" == 2 ]] ||
    fail "the crashed test should have run twice: $(cat hypertest.results.json)"
batches=$(sed -n 's/.*\[run:start\] [0-9]* tests · \([0-9]*\) batches.*/\1/p' <<<"$out")
invocations=$(json hypertest.results.json 'j.invocations')
(( invocations > batches )) || fail "expected re-queued invocations: $invocations for $batches batches"
pass "runtime crash: re-queued, 7/7 passed in $invocations invocations ($batches planned)"

# (b) A 10 s test in a function with a 12 s timeout: Playwright is stopped 5 s before the
# deadline (at 7 s), the test is re-run alone once (invocationRetries 1), then fails with the
# reason; the quick tests that shared its batch never started, go back without blame and pass.
fault_config "$proj" '{"invocationRetries": 1}' '{"functionTimeout": 12}'
run_ht run --quiet --grep "@slow|@ok"
expect_rc 1 "run with a test longer than the function timeout"
expect_one_status_each hypertest.results.json 7
[[ "$(json hypertest.results.json 'j.tests.success')" == 6 ]] || fail "the 6 quick tests should pass: $out"
[[ "$(json_test hypertest.results.json 'sleeps 10 s' status)" == failed ]] || fail "slow test not failed: $out"
reason="$(json hypertest.results.json "j.testResults.find(t => t.titlePath.at(-1) === 'sleeps 10 s').error.message")"
grep -q "after 2 invocations" <<<"$reason" || fail "reason lacks the attempts: $reason"
grep -q "deadline" <<<"$reason" || fail "reason lacks the deadline: $reason"
[[ "$(json hypertest.results.json "j.testResults.filter(t => t.titlePath.at(-1).startsWith('ok ') && t.attempts > 1).length")" -ge 1 ]] ||
    fail "no quick test shared the slow test's batch: the case tests nothing: $out"
pass "function timeout: the slow test failed after 2 invocations ($(head -c 120 <<<"$reason"))"
