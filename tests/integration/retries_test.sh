#!/usr/bin/env bash
# Test retries in fresh invocations (flaky), --fail-on-flaky, --last-failed and --max-failures
# with the local provider.
source "$(dirname "$0")/faults_lib.sh"
proj="$(fault_project)"
trap 'rm -rf "$proj"' EXIT
cd "$proj"
faults=.hypertest/storage/ht-faults

# (a) "retries": 1 in the config: the test that fails once ends flaky, the run passes.
fault_config "$proj" '{"retries": 1}'
run_ht run --quiet --grep "@flaky|@ok"
expect_rc 0 "flaky run"
expect_out "retrying faults.spec.ts › fails on its first attempt (retry 1 of 1)" "retry announced"
expect_one_status_each hypertest.results.json 7
[[ "$(json hypertest.results.json 'j.tests.flaky')" == 1 ]] || fail "expected 1 flaky: $out"
[[ "$(json_test hypertest.results.json 'fails on its first attempt' status)" == flaky ]] || fail "not flaky"
[[ "$(json_test hypertest.results.json 'fails on its first attempt' attempts)" == 2 ]] || fail "not 2 attempts"
[[ "$(json_test hypertest.results.json 'ok 1' attempts)" == 1 ]] || fail "a passing test was re-run"
grep -q "flaky: passed after 2 attempts" hypertest.junit.xml || fail "JUnit does not mention the flaky test"
pass "retries: flaky test passed on its retry; run passed"

# (b) --fail-on-flaky (and --retries overriding the config) make the same outcome fail the run.
rm -rf "$faults"
run_ht run --quiet --grep "@flaky|@ok" --retries 2 --fail-on-flaky
expect_rc 1 "--fail-on-flaky"
[[ "$(json hypertest.results.json 'j.status')" == failed ]] || fail "results status should be failed"
[[ "$(json hypertest.results.json 'j.tests.flaky')" == 1 ]] || fail "expected 1 flaky: $out"
pass "--fail-on-flaky: exit 1"

# (c) Without retries a failing test fails the run; --last-failed runs only that test again.
run_ht run --quiet --grep "@fail|@ok" --retries 0
expect_rc 1 "failing run"
[[ "$(json hypertest.results.json 'j.tests.failed')" == 1 ]] || fail "expected 1 failed: $out"
failed_id="$(json_test hypertest.results.json 'always fails' testId)"
stored="$(json .hypertest/storage/_hypertest/hypertest/last-run.json 'j.failedTestIds.join(",")')"
[[ "$stored" == "$failed_id" ]] || fail "last-run.json names '$stored', expected '$failed_id'"
run_ht run --quiet --last-failed
expect_rc 1 "--last-failed"
expect_one_status_each hypertest.results.json 1
[[ "$(json_test hypertest.results.json 'always fails' status)" == failed ]] || fail "--last-failed ran: $out"
pass "--last-failed: ran only the failed test"

# (d) --max-failures: the run stops dispatching and fails; every test still has one status.
run_ht run --quiet --grep "@fail|@ok" --max-failures 1
expect_rc 1 "--max-failures"
expect_out "(--max-failures 1): no new invocations" "max-failures announced"
expect_one_status_each hypertest.results.json 7
pass "--max-failures 1: exit 1, one status per test"
