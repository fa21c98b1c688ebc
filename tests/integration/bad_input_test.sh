#!/usr/bin/env bash
# Bad input: a clear message, exit code 2, and no half-written results.
source "$(dirname "$0")/lib.sh"
fixture="$HT_SOURCE_DIR/tests/fixtures/playwright-statuses"
work="$(mktemp -d)"
trap 'chmod -R u+w "$work"; rm -rf "$work"' EXIT

no_results() { [[ ! -e "$1/hypertest.results.json" ]] || fail "$2: a results file was written"; }

mkdir "$work/empty"; cd "$work/empty"
run_ht run --quiet
expect_rc 2 "no config"; expect_out "hypertest init" "no config"; no_results . "no config"
pass "no config"

echo '{"testRunner": {"name": "playwright"},}' > hypertest.config.json
run_ht invoke --quiet
expect_rc 2 "broken JSON"; expect_out "not valid JSON" "broken JSON"; no_results . "broken JSON"
pass "broken JSON"

echo '{"testRunner": {"name": "playwright"}, "concurency": 2}' > hypertest.config.json
run_ht run --quiet
expect_rc 2 "unknown key"; expect_out 'did you mean "concurrency"' "unknown key"
pass "unknown key"

echo '{"testRunner": {"name": "playwright"}, "concurrency": 0}' > hypertest.config.json
run_ht run --quiet
expect_rc 2 "concurrency 0"; expect_out '"concurrency"' "concurrency 0"
echo '{"testRunner": {"name": "playwright"}}' > hypertest.config.json
run_ht run --quiet --concurrency 0
expect_rc 2 "--concurrency 0"; expect_out "--concurrency" "--concurrency 0"
pass "concurrency 0"

# Playwright not installed: a project with a config and a spec but no node_modules.
mkdir -p tests && echo "import { test } from '@playwright/test'; test('x', () => {});" > tests/a.spec.ts
run_ht run --quiet
expect_rc 2 "playwright missing"; expect_out "npm install" "playwright missing"; no_results . "playwright missing"
pass "Playwright not installed"

# A spec that does not load: the fixture's broken config.
proj="$(copy_project "$fixture")"
cd "$proj"
echo '{"testRunner": {"name": "playwright", "config": "playwright.broken.config.ts"}}' > hypertest.config.json
run_ht run --quiet
expect_rc 2 "broken spec"; expect_out "broken" "broken spec names the file"; no_results . "broken spec"
pass "spec that does not load"

# Storage that cannot be written: its parent is a regular file.
touch not-a-dir
echo '{"testRunner": {"name": "playwright"}, "cloudProvider": {"name": "local", "storageDir": "not-a-dir/storage"}}' > hypertest.config.json
run_ht run --quiet
expect_rc 2 "storage not writable"; expect_out "not-a-dir" "storage not writable"; no_results . "storage not writable"
pass "storage not writable"

# A report folder over the project would let the HTML merge empty it: refused, nothing touched.
for dir in . .. "$proj" /; do
    echo "{\"testRunner\": {\"name\": \"playwright\"}, \"htmlReportDir\": \"$dir\"}" > hypertest.config.json
    before="$(find . -path ./node_modules -prune -o -print | sort | md5sum)"
    run_ht run --quiet
    expect_rc 2 "htmlReportDir $dir"; expect_out "htmlReportDir" "htmlReportDir $dir"
    [[ "$(find . -path ./node_modules -prune -o -print | sort | md5sum)" == "$before" ]] ||
        fail "htmlReportDir $dir: the project changed"
done
pass "htmlReportDir over the project, its parent or / is refused; the project is intact"

# A folder of the user's own as htmlReportDir: the run goes on without the HTML report, and the
# folder keeps what it holds.
mkdir -p mine && echo keep > mine/notes.txt
echo '{"testRunner": {"name": "playwright"}, "htmlReportDir": "mine"}' > hypertest.config.json
rm -f hypertest.results.json
run_ht run --quiet
[[ -f hypertest.results.json ]] || fail "htmlReportDir mine: no results; output:
$out"
expect_out "not a Playwright HTML report" "htmlReportDir mine"
[[ "$(ls -A mine)" == notes.txt && "$(cat mine/notes.txt)" == keep ]] || fail "htmlReportDir mine: the folder changed: $(ls -A mine)"
pass "htmlReportDir naming a folder that is not a report: left as it was, the run still reports"
rm -rf "$proj"
