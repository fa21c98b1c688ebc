#!/usr/bin/env bash
# Runs real open-source Playwright suites once with plain Playwright and once with hypertest,
# and compares the verdicts per test.
#
# Usage: bench/real_suites.sh [PROJECT_DIR...]
#
# Without arguments it takes every known project (table below) found under $REAL_SUITES_DIR
# (required then). For each project directory, in it:
#   1. plain:     npx --no-install playwright test --workers=$WORKERS [--config C] --project=P...
#                 --reporter=json   (report via PLAYWRIGHT_JSON_OUTPUT_NAME)
#   2. hypertest: hypertest init --force (non-interactive; plus testRunner.config when the
#                 project's Playwright config is not at the default place), then
#                 hypertest run -q --project=P... [--retries N]
# then prints a Markdown table, one row per project: project, commit, tests, plain passed,
# hypertest passed, matches (tests plain passes that hypertest passes too / tests plain passes),
# wall time plain, wall time hypertest (whole `run`, deploy included; invoke alone in brackets),
# and below it the tests whose verdicts differ. "Passed" counts passed and flaky tests.
# The comparison is bench/real_suites_compare.mjs.
#
# Environment:
#   REAL_SUITES_DIR   where the prepared projects are (needed when no directory is given)
#   HYPERTEST         the hypertest binary or its bin directory (else HT_BIN, else the first of
#                     build/{release,ci,dev}/bin/hypertest of this repo, else `hypertest` on PATH)
#   OUT_DIR           where reports and logs go (default: a new temp dir, printed, kept)
#   WORKERS           plain Playwright --workers (default 2)
#   HT_CONCURRENCY    hypertest --concurrency (default: the config's, i.e. the number of cores)
#   HT_RETRIES        hypertest --retries: "auto" (default) = the retries the plain run used
#                     (the Playwright config's, which hypertest turns off inside an invocation),
#                     "config" = hypertest's own default, or a number
#   PROJECTS, PW_CONFIG  Playwright projects (comma-separated, default chromium) and config
#                     path for directories not in the table below
#
# Exit: 0 when every project was run and compared (test failures do not count), 1 when a run
# produced no report, 2 on bad usage. The project directories are used in place: hypertest
# writes hypertest.config.json, .hypertest/, hypertest-report/ and its results files there
# (and a recent `init` appends those names to the project's .gitignore).
#
# The projects (this script fetches nothing; prepare them by hand, once). Each is the upstream
# GitHub repository at the commit given, extracted into $REAL_SUITES_DIR/<name>, with one change
# (kept as $REAL_SUITES_DIR/<name>.patch): the Chromium project's `use` gains
#   launchOptions: { executablePath: '/usr/lib/chromium/chromium' }
# (Debian's chromium; never `playwright install`). Install with PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1.
#
#   name      repository@commit                                   project  config file changed; setup
#   turbo     hotwired/turbo@4481af6b6d7483363a44ee9f4af2e0f879c83b3c  chrome   playwright.config.js;
#             yarn 1 on PATH (npm i -g yarn@1.22.22), yarn install --frozen-lockfile, yarn build.
#             481 tests, webServer `yarn start` (node src/tests/server.mjs, port 9000), retries 2.
#             Playwright 1.51.1 (no --test-list: the runner picks tests by file:line).
#   docsify   docsifyjs/docsify@c8f93ff3fc1093a3f46073bfbb2bc45e227f0a5e  chromium  playwright.config.js;
#             npm ci (its prepare script builds dist/). 62 tests, globalSetup starts browser-sync
#             on port 4000.
#   it-tools  CorentinTh/it-tools@07eea0f484c0e4d1224aba51285323ec3c7ee4d3  chromium  playwright.config.ts;
#             npx pnpm@9.11.0 install --frozen-lockfile, npx pnpm@9.11.0 build. 61 tests,
#             webServer `npm run preview` (vite preview, port 5050). Playwright 1.32.3 (no
#             --test-list).
#   swup      swup/swup@02b48383e07935f360219fa3928ed1c4384c0f0b  chromium  tests/config/playwright.config.ts;
#             npm ci, npm run build. 103 tests, webServer `npm run test:e2e:start` (nyc instrument
#             into tests/fixtures/dist, then serve on port 8274). Its config records video, which
#             needs Playwright's ffmpeg at ~/.cache/ms-playwright/ffmpeg-<rev>/ffmpeg-linux
#             (e.g. a link to Debian's /usr/bin/ffmpeg); without it every test fails (under
#             hypertest too, where HOME is the invocation's own directory).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
compare="$repo_root/bench/real_suites_compare.mjs"
suites_dir="${REAL_SUITES_DIR:-}"
workers="${WORKERS:-2}"
ht_retries="${HT_RETRIES:-auto}"

die() {
  echo "real_suites: $*" >&2
  exit 2
}

# name -> "commit|projects|playwright config (empty: Playwright's lookup)"
declare -A known=(
  [turbo]="4481af6b6d7483363a44ee9f4af2e0f879c83b3c|chrome|"
  [docsify]="c8f93ff3fc1093a3f46073bfbb2bc45e227f0a5e|chromium|"
  [it-tools]="07eea0f484c0e4d1224aba51285323ec3c7ee4d3|chromium|"
  [swup]="02b48383e07935f360219fa3928ed1c4384c0f0b|chromium|tests/config/playwright.config.ts"
)
known_order=(turbo docsify it-tools swup)

[[ "$workers" =~ ^[1-9][0-9]*$ ]] || die "WORKERS must be a positive integer, got '$workers'"
[[ "$ht_retries" =~ ^(auto|config|[0-9]+)$ ]] || die "HT_RETRIES must be auto, config or a number"
[[ -z "${HT_CONCURRENCY:-}" || "$HT_CONCURRENCY" =~ ^[1-9][0-9]*$ ]] ||
  die "HT_CONCURRENCY must be a positive integer"
command -v node >/dev/null || die "node is not on PATH"
[[ -f "$compare" ]] || die "missing $compare"

find_hypertest() {
  local candidate
  for candidate in "${HYPERTEST:-}" "${HT_BIN:-}"; do
    [[ -n "$candidate" ]] || continue
    if [[ -f "$candidate" && -x "$candidate" ]]; then
      echo "$candidate"
      return
    elif [[ -x "$candidate/hypertest" ]]; then
      echo "$candidate/hypertest"
      return
    fi
    die "no hypertest binary at $candidate"
  done
  for candidate in release ci dev; do
    if [[ -x "$repo_root/build/$candidate/bin/hypertest" ]]; then
      echo "$repo_root/build/$candidate/bin/hypertest"
      return
    fi
  done
  command -v hypertest || die "no hypertest binary: build it or set HYPERTEST"
}
hypertest="$(realpath "$(find_hypertest)")"

dirs=()
if (($# > 0)); then
  dirs=("$@")
else
  [[ -n "$suites_dir" ]] || die "give project directories, or set REAL_SUITES_DIR (see the header of $0)"
  for name in "${known_order[@]}"; do
    [[ -d "$suites_dir/$name" ]] && dirs+=("$suites_dir/$name")
  done
  ((${#dirs[@]} > 0)) || die "no prepared project under $suites_dir (see the header of $0)"
fi

out_dir="${OUT_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/real-suites.XXXXXX")}"
mkdir -p "$out_dir"
out_dir="$(realpath "$out_dir")"
echo "hypertest: $hypertest" >&2
echo "reports and logs: $out_dir" >&2

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

rows=()
details=()
status=0
for dir in "${dirs[@]}"; do
  [[ -d "$dir" ]] || die "not a directory: $dir"
  dir="$(realpath "$dir")"
  name="$(basename "$dir")"
  [[ -d "$dir/node_modules/@playwright/test" ]] || die "$dir: @playwright/test is not installed"
  if [[ -n "${known[$name]:-}" ]]; then
    IFS='|' read -r commit projects pw_config <<<"${known[$name]}"
  else
    commit="$(git -C "$dir" rev-parse HEAD 2>/dev/null || echo unknown)"
    projects="${PROJECTS:-chromium}"
    pw_config="${PW_CONFIG:-}"
  fi
  IFS=',' read -r -a project_list <<<"$projects"
  pw_args=(--workers="$workers")
  ht_args=()
  [[ -n "$pw_config" ]] && pw_args+=(--config "$pw_config")
  for p in "${project_list[@]}"; do
    pw_args+=(--project="$p")
    ht_args+=(--project="$p")
  done
  if ! grep -rqs --include='playwright.config.*' /usr/lib/chromium/chromium "$dir/${pw_config:-.}" \
    --exclude-dir=node_modules; then
    echo "real_suites: warning: $name: no Playwright config mentions /usr/lib/chromium/chromium" \
      "(patch not applied?)" >&2
  fi

  echo "== $name: plain Playwright" >&2
  plain_json="$out_dir/$name.plain.json"
  rm -f "$plain_json"
  start="$(now)"
  plain_rc=0
  (cd "$dir" && PLAYWRIGHT_JSON_OUTPUT_NAME="$plain_json" \
    npx --no-install playwright test "${pw_args[@]}" --reporter=json) \
    >"$out_dir/$name.plain.log" 2>&1 || plain_rc=$?
  plain_wall="$(elapsed "$start" "$(now)")"
  echo "   exit $plain_rc, ${plain_wall}s" >&2
  if [[ ! -s "$plain_json" ]]; then
    echo "real_suites: $name: plain Playwright wrote no report (exit $plain_rc):" >&2
    tail -n 20 "$out_dir/$name.plain.log" >&2
    rows+=("| $name | $commit | – | no report (exit $plain_rc) | – | – | ${plain_wall} s | – |")
    status=1
    continue
  fi

  echo "== $name: hypertest" >&2
  retries_args=()
  case "$ht_retries" in
    config) ;;
    auto)
      retries_args=(--retries "$(node -e '
        const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
        console.log(Math.max(0, ...(r.config?.projects ?? []).map((p) => p.retries ?? 0)));
      ' "$plain_json")")
      ;;
    *) retries_args=(--retries "$ht_retries") ;;
  esac
  concurrency_args=()
  [[ -n "${HT_CONCURRENCY:-}" ]] && concurrency_args=(--concurrency "$HT_CONCURRENCY")
  ht_json="$out_dir/$name.hypertest.results.json"
  rm -f "$ht_json" "$dir/hypertest.results.json"
  start="$(now)"
  ht_rc=0
  (
    cd "$dir"
    "$hypertest" init --force </dev/null
    if [[ -n "$pw_config" ]]; then
      node -e '
        const fs = require("fs");
        const c = JSON.parse(fs.readFileSync("hypertest.config.json", "utf8"));
        c.testRunner = { ...c.testRunner, config: process.argv[1] };
        fs.writeFileSync("hypertest.config.json", JSON.stringify(c, null, 2) + "\n");
      ' "$pw_config"
    fi
    "$hypertest" run -q "${ht_args[@]}" "${retries_args[@]}" "${concurrency_args[@]}" </dev/null
  ) >"$out_dir/$name.hypertest.log" 2>&1 || ht_rc=$?
  ht_wall="$(elapsed "$start" "$(now)")"
  echo "   exit $ht_rc, ${ht_wall}s" >&2
  compare_args=(--name "$name" --commit "${commit:0:12}" --plain "$plain_json" --plain-wall "$plain_wall"
    --ht-wall "$ht_wall" --ht-exit "$ht_rc")
  if [[ -f "$dir/hypertest.results.json" ]]; then
    cp "$dir/hypertest.results.json" "$ht_json"
    compare_args+=(--ht "$ht_json")
  else
    echo "real_suites: $name: hypertest wrote no results (exit $ht_rc):" >&2
    tail -n 20 "$out_dir/$name.hypertest.log" >&2
    status=1
  fi

  result="$(node "$compare" "${compare_args[@]}")"
  rows+=("$(node -e 'console.log(JSON.parse(process.argv[1]).row)' "$result")")
  detail="$(node -e 'console.log(JSON.parse(process.argv[1]).details)' "$result")"
  [[ -n "$detail" ]] && details+=("### $name" "" "$detail" "")
done

{
  echo "| project | commit | tests | plain passed | hypertest passed | matches | wall plain | wall hypertest |"
  echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
  printf '%s\n' "${rows[@]}"
  if ((${#details[@]} > 0)); then
    echo
    printf '%s\n' "${details[@]}"
  fi
} | tee "$out_dir/summary.md"
exit "$status"
