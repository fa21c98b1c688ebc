// Compares one project's plain Playwright JSON report with hypertest's results file, per test.
// Used by bench/real_suites.sh; see there for how the inputs are produced.
//
// Usage: node bench/real_suites_compare.mjs --name N --commit C --plain PLAIN.json
//          --plain-wall SECONDS [--ht hypertest.results.json --ht-wall SECONDS --ht-exit CODE]
//
// Prints one JSON object on stdout:
//   { row: "| … |" (a Markdown table row), details: "…" (Markdown, may be empty) }
// A test is keyed by project, file (relative to the config's testDir) and title path. "Passes"
// means the final verdict is passed or flaky (hypertest: success or flaky); skipped tests are
// counted apart. matches = tests plain passes that hypertest passes too.
import fs from 'node:fs';

function parseArgs(argv) {
  const a = {};
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith('--') || i + 1 >= argv.length) throw new Error(`bad argument ${argv[i]}`);
    a[argv[i].slice(2)] = argv[i + 1];
  }
  return a;
}

const SEP = '\u001f';
const stripAnsi = (s) => String(s ?? '').replace(/\u001b\[[0-9;]*[A-Za-z]/g, '');
const firstLine = (s) => stripAnsi(s).split('\n').map((l) => l.trim()).find((l) => l) ?? '';

// Plain Playwright JSON report -> Map(key -> {name, verdict, error})
function readPlain(file) {
  const report = JSON.parse(fs.readFileSync(file, 'utf8'));
  const tests = new Map();
  const walk = (suite, titles, specFile) => {
    for (const spec of suite.specs ?? []) {
      for (const t of spec.tests ?? []) {
        const results = t.results ?? [];
        const last = results[results.length - 1];
        let verdict;
        if (t.status === 'expected') verdict = last && last.status === 'skipped' ? 'skipped' : 'passed';
        else if (t.status === 'unexpected') verdict = 'failed';
        else verdict = t.status; // flaky | skipped
        const titlePath = [...titles, spec.title];
        const file = spec.file ?? specFile;
        const err = results.map((r) => r.error ?? (r.errors ?? [])[0]).find(Boolean);
        tests.set([t.projectName, file, ...titlePath].join(SEP), {
          name: `[${t.projectName}] ${file} › ${titlePath.join(' › ')}`,
          verdict,
          error: err ? firstLine(err.message) : '',
        });
      }
    }
    for (const child of suite.suites ?? []) walk(child, [...titles, child.title], child.file ?? specFile);
  };
  // Top-level suites are files: their title is the file path, not part of the title path.
  for (const fileSuite of report.suites ?? []) walk(fileSuite, [], fileSuite.file);
  const retries = Math.max(0, ...(report.config?.projects ?? []).map((p) => p.retries ?? 0));
  const errors = (report.errors ?? []).map((e) => firstLine(e.message));
  return { tests, retries, errors };
}

// hypertest.results.json -> Map(key -> {name, verdict, error, frameworkStatus})
function readHypertest(file) {
  const r = JSON.parse(fs.readFileSync(file, 'utf8'));
  const map = { success: 'passed', flaky: 'flaky', failed: 'failed', skipped: 'skipped', cancelled: 'cancelled' };
  const tests = new Map();
  for (const t of r.testResults ?? []) {
    tests.set([t.project, t.filePath, ...(t.titlePath ?? [])].join(SEP), {
      name: t.name,
      verdict: map[t.status] ?? t.status,
      frameworkStatus: t.frameworkStatus ?? '',
      error: firstLine(t.error?.message),
    });
  }
  return { tests, duration: r.duration, status: r.status };
}

const passes = (v) => v === 'passed' || v === 'flaky';
const secs = (s) => (s === undefined || s === '' || Number.isNaN(Number(s)) ? '–' : `${Number(s).toFixed(1)} s`);
const cell = (s) => String(s).replace(/\|/g, '\\|');

const args = parseArgs(process.argv.slice(2));
const plain = readPlain(args.plain);
const plainTests = [...plain.tests.values()];
const count = (arr, v) => arr.filter((t) => t.verdict === v).length;
const plainPassed = plainTests.filter((t) => passes(t.verdict)).length;
const plainDesc = `${plainPassed} (${count(plainTests, 'flaky')} flaky, ${count(plainTests, 'failed')} failed, ${count(plainTests, 'skipped')} skipped)`;

let htCell = 'no results';
let matchCell = '–';
let htWall = secs(args['ht-wall']);
const details = [];
if (plain.errors.length) details.push(`Plain run errors: ${plain.errors.map(cell).join('; ')}`);

if (args.ht && fs.existsSync(args.ht)) {
  const ht = readHypertest(args.ht);
  const htTests = [...ht.tests.values()];
  const htPassed = htTests.filter((t) => passes(t.verdict)).length;
  htCell = `${htPassed} (${count(htTests, 'flaky')} flaky, ${count(htTests, 'failed')} failed, ${count(htTests, 'skipped')} skipped, ${count(htTests, 'cancelled')} cancelled)`;
  if (ht.duration !== undefined) htWall += ` (invoke ${secs(ht.duration / 1000)})`;

  let matches = 0;
  const lost = []; // plain passes, hypertest does not
  const gained = []; // plain does not pass, hypertest does
  const other = []; // other verdict differences (skipped vs run, failed vs cancelled…)
  for (const [key, p] of plain.tests) {
    const h = ht.tests.get(key);
    if (!h) {
      (passes(p.verdict) ? lost : other).push({ name: p.name, plain: p.verdict, ht: 'missing', error: '' });
      continue;
    }
    if (passes(p.verdict) && passes(h.verdict)) matches++;
    else if (passes(p.verdict)) lost.push({ name: p.name, plain: p.verdict, ht: h.verdict, fs: h.frameworkStatus, error: h.error });
    else if (passes(h.verdict)) gained.push({ name: p.name, plain: p.verdict, ht: h.verdict, error: p.error });
    else if (p.verdict !== h.verdict) other.push({ name: p.name, plain: p.verdict, ht: h.verdict, error: h.error });
  }
  for (const [key, h] of ht.tests) {
    if (!plain.tests.has(key)) other.push({ name: h.name, plain: 'missing', ht: h.verdict, error: h.error });
  }
  matchCell = `${matches}/${plainPassed}`;

  const list = (title, rows) => {
    if (!rows.length) return;
    details.push(`${title} (${rows.length}):`);
    for (const r of rows) {
      const why = r.error ? ` — ${r.error.slice(0, 200)}` : '';
      const fsNote = r.fs && r.fs !== 'unexpected' ? ` [${r.fs}]` : '';
      details.push(`- ${r.name}: plain ${r.plain}, hypertest ${r.ht}${fsNote}${why}`);
    }
  };
  list('Plain passes, hypertest does not', lost);
  list('Hypertest passes, plain does not', gained);
  list('Other differences', other);

  // The most frequent first error lines under hypertest: usually the cause of most mismatches.
  const freq = new Map();
  for (const r of lost) if (r.error) freq.set(r.error, (freq.get(r.error) ?? 0) + 1);
  const top = [...freq.entries()].sort((a, b) => b[1] - a[1]).slice(0, 5);
  if (top.length) {
    details.push('Most frequent hypertest errors among them:');
    for (const [msg, n] of top) details.push(`- ${n} × ${msg.slice(0, 300)}`);
  }
} else if (args['ht-exit'] !== undefined) {
  htCell = `no results (exit ${args['ht-exit']})`;
}

const retriesNote = plain.retries ? ` (config retries ${plain.retries})` : '';
const row = `| ${cell(args.name)} | ${cell(args.commit)} | ${plainTests.length} | ${plainDesc}${retriesNote} | ${htCell} | ${matchCell} | ${secs(args['plain-wall'])} | ${htWall}${args['ht-exit'] !== undefined ? ` exit ${args['ht-exit']}` : ''} |`;
process.stdout.write(JSON.stringify({ row, details: details.join('\n'), retries: plain.retries }) + '\n');
