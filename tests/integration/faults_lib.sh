# shellcheck shell=bash
# Helpers for the scheduling and fault tests: projects made from tests/fixtures/playwright-faults.
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Copies the fixture (plus the node_modules of playwright-statuses) to $1, or to a new temp
# dir; prints where.
fault_project() {
    local dst="${1:-}"
    [[ -n "$dst" ]] || dst="$(mktemp -d)"
    mkdir -p "$dst"
    cp -a "$HT_SOURCE_DIR/tests/fixtures/playwright-faults/." "$dst/"
    cp -a "$HT_SOURCE_DIR/tests/fixtures/playwright-statuses/node_modules" "$dst/"
    echo "$dst"
}

# Writes hypertest.config.json in $1. $2: JSON merged into the top level, $3: into cloudProvider.
# HT_FAULT_DIR lies below the storage directory: the one place a sandboxed function may write.
fault_config() {
    node -e '
const [dir, top, cloud] = process.argv.slice(1);
const config = {testRunner: {name: "playwright"}, concurrency: 2, ...JSON.parse(top || "{}")};
config.cloudProvider = {name: "local", env: {HT_FAULT_DIR: dir + "/.hypertest/storage/ht-faults"},
                        ...JSON.parse(cloud || "{}")};
require("fs").writeFileSync(dir + "/hypertest.config.json", JSON.stringify(config, null, 2));
' "$1" "${2:-}" "${3:-}"
}

# Prints the pids of the processes started for the function environments of the project in $1,
# sandboxed or not (bwrap, the runner, the framework below it): fault_config puts HT_FAULT_DIR,
# which names the project, into their environment.
function_pids() {
    { grep -lzxF -- "HT_FAULT_DIR=$1/.hypertest/storage/ht-faults" /proc/[0-9]*/environ 2>/dev/null ||
        true; } | sed 's|^/proc/||; s|/environ$||'
}

# Fails unless every test of the results file has exactly one status from the allowed set.
expect_one_status_each() {
    local file="$1" want_total="$2"
    node -e '
const j = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
const ids = j.testResults.map(t => t.testId);
const known = new Set(["success", "failed", "skipped", "flaky", "cancelled"]);
if (new Set(ids).size !== ids.length) { console.error("a test is listed twice"); process.exit(1); }
if (ids.length !== Number(process.argv[2])) { console.error(ids.length + " tests, expected " + process.argv[2]); process.exit(1); }
const bad = j.testResults.filter(t => !known.has(t.status));
if (bad.length) { console.error("unknown statuses: " + bad.map(t => t.status)); process.exit(1); }
const sum = ["success", "failed", "skipped", "flaky", "cancelled"].reduce((n, k) => n + j.tests[k], 0);
if (sum !== ids.length) { console.error("counts do not add up"); process.exit(1); }
' "$file" "$want_total" || fail "results in $file break the one-status-per-test rule"
}

# Prints the field of the test whose title is $2: json_test FILE TITLE FIELD
json_test() {
    json "$1" "(j.testResults.find(t => t.titlePath.at(-1) === '$2') || {})['$3']"
}
