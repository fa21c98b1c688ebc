#!/usr/bin/env bash
# Per-test statuses from a Playwright JSON report and from hypertest.results.json, in one line
# format, so that tests can compare plain Playwright with hypertest.

# Prints "project<TAB>file<TAB>titlePath as JSON<TAB>status" lines, sorted.
# $1: a Playwright JSON report. Status rules: src/plugins/playwright/report.hpp.
statuses_from_playwright_report() {
  node - "$1" <<'JS'
const report = JSON.parse(require('fs').readFileSync(process.argv[2], 'utf8'));
const lines = [];
const walk = (suite, titles) => {
  for (const spec of suite.specs || []) {
    for (const test of spec.tests) {
      const last = test.results.length ? test.results[test.results.length - 1].status : '';
      let status = 'failed';
      if (!test.results.length) status = 'skipped';  // "did not run" (a dependency failed)
      else if (test.status === 'expected') status = last === 'skipped' ? 'skipped' : 'passed';
      else if (test.status === 'flaky') status = 'flaky';
      else if (test.status === 'skipped') status = last === 'interrupted' ? 'failed' : 'skipped';
      lines.push([test.projectName, spec.file, JSON.stringify([...titles, spec.title]), status].join('\t'));
    }
  }
  for (const child of suite.suites || []) walk(child, child.title ? [...titles, child.title] : titles);
};
for (const fileSuite of report.suites) walk(fileSuite, []);
console.log(lines.sort().join('\n'));
JS
}

# Same line format from hypertest.results.json (success means passed).
statuses_from_hypertest_results() {
  node - "$1" <<'JS'
const results = JSON.parse(require('fs').readFileSync(process.argv[2], 'utf8'));
const known = new Set(['success', 'failed', 'skipped', 'flaky']);
const lines = results.testResults.map(t => {
  const status = t.status === 'success' ? 'passed' : known.has(t.status) ? t.status : 'unknown:' + t.status;
  return [t.project, t.filePath, JSON.stringify(t.titlePath), status].join('\t');
});
console.log(lines.sort().join('\n'));
JS
}
