#!/usr/bin/env bash
# The main job: the example suite runs on the local provider, passes, and writes every report.
source "$(dirname "$0")/lib.sh"
proj="$(copy_project "$HT_SOURCE_DIR/examples/playwright")"
trap 'rm -rf "$proj"' EXIT
cd "$proj"

run_ht run --quiet
expect_rc 0 "first run"
expect_out "[deploy] build done" "first run deploys"
expect_out "[run:end]" "summary line"
[[ -f hypertest.results.json ]] || fail "no results file"
total=$(json hypertest.results.json 'j.tests.total')
success=$(json hypertest.results.json 'j.tests.success')
[[ "$total" -ge 20 ]] || fail "expected 20+ tests, got $total"
[[ "$total" == "$success" ]] || fail "$success of $total passed"
invocations=$(json hypertest.results.json 'j.invocations')
[[ "$invocations" -lt "$total" ]] || fail "expected batching: $invocations invocations for $total tests"
run_id=$(json hypertest.results.json 'j.runId')
[[ -f ".hypertest/storage/$run_id/hypertest.results.json" ]] || fail "results not in storage under the run id"
grep -q "<testsuites" hypertest.junit.xml || fail "no JUnit XML"
[[ -f hypertest-report/index.html ]] || fail "no HTML report"
ids_again=$(json hypertest.results.json 'j.testResults.map(t=>t.testId).sort().join(",")')
pass "first run: $success/$total passed in $invocations invocations"

# The timing history learned a start-up cost per invocation, and the next plan uses it.
timings=".hypertest/storage/_hypertest/hypertest/timings.json"
[[ -f "$timings" ]] || fail "no timing history at $timings"
startup=$(json "$timings" 'j.startupMs')
[[ "$startup" =~ ^[0-9]+$ && "$startup" -gt 0 && "$startup" -lt 60000 ]] ||
  fail "timing history has no plausible startupMs: $startup"
run_ht list --plan --json
expect_rc 0 "list --plan"
planned=$(node -e 'console.log(JSON.parse(process.argv[1]).startupMs)' "$(tail -n1 <<<"$out")")
[[ "$planned" == "$startup" ]] || fail "the plan assumed start-up $planned ms, the history says $startup"
pass "start-up learned: $startup ms per invocation, used by the plan"

run_ht run --quiet
expect_rc 0 "second run"
expect_out "[deploy] update skipped" "unchanged project is not redeployed"
ids_now=$(json hypertest.results.json 'j.testResults.map(t=>t.testId).sort().join(",")')
[[ "$ids_again" == "$ids_now" ]] || fail "test ids changed between runs"
pass "second run reused the deployment; ids stable"

run_ht run --json --grep "@smoke"
expect_rc 0 "filtered run"
grep -q '"event":"run:end"' <<<"$out" || fail "no JSON run:end event: $out"
estimate=$(grep '"event":"run:start"' <<<"$out" | node -e 'console.log(JSON.parse(require("fs").readFileSync(0,"utf8")).estimatedMs)')
[[ "$estimate" =~ ^[0-9]+$ && "$estimate" -gt 0 ]] || fail "run:start has no plan estimate after two runs: $estimate"
n=$(json hypertest.results.json 'j.tests.total')
[[ "$n" -ge 1 && "$n" -lt "$total" ]] || fail "--grep @smoke selected $n of $total"
pass "--grep and --json work ($n tests)"
