#!/usr/bin/env bash
# Test retries in fresh invocations (flaky), --fail-on-flaky, --last-failed and --max-failures
# with the local provider.
source "$(dirname "$0")/faults_lib.sh"
proj="$(fault_project)"
trap 'rm -rf "$proj"' EXIT
cd "$proj"
faults=.hypertest/storage/ht-faults

# Fails unless the merged HTML report shows each test of hypertest.results.json once, with the
# outcome Playwright gives its status, one result per attempt (retry 0..n), and the same counts.
# Optional: $1 = a test's title, $2 = the statuses its results must have in order ("failed,passed").
expect_html_matches_results() {
    [[ -f hypertest-report/index.html ]] || fail "no HTML report: $out"
    node "$HT_SOURCE_DIR/tests/integration/html_report.js" hypertest-report/index.html >html.json ||
        fail "cannot read the HTML report's data"
    node -e '
const fs = require("fs");
const [title, statuses] = process.argv.slice(1);
const html = JSON.parse(fs.readFileSync("html.json", "utf8"));
const results = JSON.parse(fs.readFileSync("hypertest.results.json", "utf8"));
const problems = [];
const key = (project, file, titles) => [project, file, ...titles].join(" › ");
const mine = new Map(results.testResults.map(t => [key(t.project, t.filePath, t.titlePath), t]));
const outcomeOf = {success: "expected", failed: "unexpected", flaky: "flaky", skipped: "skipped"};
const seen = new Set();
for (const [name, file] of Object.entries(html)) {
  if (name === "report.json") continue;
  for (const t of file.tests) {
    const k = key(t.projectName, t.location.file, [...t.path, t.title]);
    if (seen.has(k)) problems.push(`${k} is shown more than once`);
    seen.add(k);
    const r = mine.get(k);
    if (!r) { problems.push(`${k} is not in the results file`); continue; }
    if (t.outcome !== outcomeOf[r.status]) problems.push(`${k}: HTML ${t.outcome}, results ${r.status}`);
    if (t.results.length !== r.attempts) problems.push(`${k}: ${t.results.length} results, ${r.attempts} attempts`);
    t.results.forEach((x, i) => { if (x.retry !== i) problems.push(`${k}: result ${i} has retry ${x.retry}`); });
    if (title && t.title === title && t.results.map(x => x.status).join(",") !== statuses)
      problems.push(`${k}: results ${t.results.map(x => x.status)}, expected ${statuses}`);
  }
}
if (title && ![...seen].some(k => k.endsWith(" › " + title))) problems.push(`${title} is not in the HTML report`);
const stats = html["report.json"].stats;
const want = {total: results.testResults.length, expected: results.tests.success,
              unexpected: results.tests.failed, flaky: results.tests.flaky, skipped: results.tests.skipped};
for (const [k, v] of Object.entries(want)) if (stats[k] !== v) problems.push(`HTML counts ${k}=${stats[k]}, results ${v}`);
if (problems.length) { console.error(problems.join("\n")); process.exit(1); }
' "${1:-}" "${2:-}" || fail "the HTML report does not match hypertest.results.json"
}

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
expect_html_matches_results "fails on its first attempt" "failed,passed"
[[ "$out" != *"HTML report may show"* ]] || fail "warned about repeats in the HTML report: $out"
pass "retries: flaky test passed on its retry; run passed; HTML report shows it once, flaky"

# (b) --fail-on-flaky (and --retries overriding the config) make the same outcome fail the run.
rm -rf "$faults"
run_ht run --quiet --grep "@flaky|@ok" --retries 2 --fail-on-flaky
expect_rc 1 "--fail-on-flaky"
[[ "$(json hypertest.results.json 'j.status')" == failed ]] || fail "results status should be failed"
[[ "$(json hypertest.results.json 'j.tests.flaky')" == 1 ]] || fail "expected 1 flaky: $out"
expect_html_matches_results "fails on its first attempt" "failed,passed"
pass "--fail-on-flaky: exit 1"

# (c) Without retries a failing test fails the run; --last-failed runs only that test again.
run_ht run --quiet --grep "@fail|@ok" --retries 0
expect_rc 1 "failing run"
[[ "$(json hypertest.results.json 'j.tests.failed')" == 1 ]] || fail "expected 1 failed: $out"
expect_html_matches_results "always fails" "failed"
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
expect_out "(maxFailures 1): no new invocations" "max-failures announced"
expect_one_status_each hypertest.results.json 7
pass "--max-failures 1: exit 1, one status per test"
