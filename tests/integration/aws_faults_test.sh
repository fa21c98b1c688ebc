#!/usr/bin/env bash
# Fault cases on the aws path, against tools/aws-emulator: with a seeded share of Lambda
# Invoke calls throttled (429 TooManyRequestsException with a Reason and Retry-After), answered
# with 5xx or dropped, `hypertest invoke` still ends with every selected test passed exactly once,
# and the emulator's request log shows the faults were really injected; and Ctrl-C with Invoke
# calls in flight cancels them and still writes every report.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/registry_lib.sh"
source "$(dirname "$0")/faults_lib.sh"
source "$(dirname "$0")/aws_lib.sh"
FN=ht
GREP='catalog\.spec'  # the 9 tests of tests/catalog.spec.ts
WANT=9
aws_start "$FN"  # registry, emulator, function, base image, config; cd into the project

run_ht deploy
expect_rc 0 "deploy"
pass "deployed to the emulated Lambda"

# Runs the selected tests under the fault knobs $2; $1 names the case. Leaves the Invoke entries
# of this run's request log in $work/$1.invokes.json and the results in $work/$1.results.json;
# sets $took (seconds) and $retried (invoke calls hypertest retried, from its --verbose log).
invoke_under_faults() {
    local name="$1" knobs="$2" before
    admin DELETE faults > /dev/null
    before="$(curl -sS -f "$EMU_URL/_emulator/requests" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).length))')"
    admin POST faults "$knobs" > /dev/null || fail "$name: the emulator refused the fault knobs $knobs"
    rm -f hypertest.results.json
    local t0=$SECONDS
    run_ht invoke --quiet --grep "$GREP" --concurrency 4 --verbose
    took=$((SECONDS - t0))
    retried=$(grep -c '; retry [0-9]* in ' <<<"$out" || true)
    echo "$out" > "$work/$name.out"
    admin DELETE faults > /dev/null
    expect_rc 0 "$name: invoke"
    [[ -f hypertest.results.json ]] || fail "$name: no results file"
    cp hypertest.results.json "$work/$name.results.json"
    expect_one_status_each hypertest.results.json "$WANT"
    local success
    success=$(json hypertest.results.json 'j.tests.success')
    [[ "$success" == "$WANT" ]] || fail "$name: $success of $WANT passed: $out"
    curl -sS -f "$EMU_URL/_emulator/requests" | node -e '
let s = ""; process.stdin.on("data", (d) => s += d).on("end", () => {
  const log = JSON.parse(s).slice(Number(process.argv[1])).filter((r) => r.operation === "Invoke");
  console.log(JSON.stringify(log));
});' "$before" > "$work/$name.invokes.json"
}

# Prints "<invokes> <faulted> <per-kind counts>" for a case's request log.
fault_summary() {
    node -e '
const log = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
const kinds = {};
for (const r of log) if (r.fault) kinds[r.fault] = (kinds[r.fault] || 0) + 1;
const faulted = log.filter((r) => r.fault).length;
console.log(`${log.length} ${faulted} ${JSON.stringify(kinds)}`);' "$1"
}

# (1) About a third of Invoke calls throttled: 429 TooManyRequestsException with a Reason.
invoke_under_faults throttle \
    '{"seed":5,"throttleRate":0.34,"throttleReason":"ReservedFunctionConcurrentInvocationLimitExceeded","operations":["Invoke"]}'
read -r calls _ kinds < <(fault_summary "$work/throttle.invokes.json")
throttled=$(node -e 'const l=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")); console.log(l.filter(r=>r.fault==="throttle"&&r.status===429&&r.error==="TooManyRequestsException").length)' "$work/throttle.invokes.json")
[[ "$throttled" -ge 2 ]] || fail "throttle: only $throttled Invoke calls answered 429 ($calls calls, $kinds): the case tests nothing"
[[ "$calls" -gt "$throttled" ]] || fail "throttle: no Invoke call got through ($calls calls)"
out="$(cat "$work/throttle.out")"
expect_out "TooManyRequestsException (HTTP 429)" "throttle: hypertest saw the 429"
expect_out "throttled: at most " "throttle: the in-flight target was lowered"
invocations=$(json "$work/throttle.results.json" 'j.invocations')
pass "throttle: $WANT/$WANT passed in ${took}s; $calls Invoke calls for $invocations invocations, $throttled answered 429, $retried retried"

# (2) 5xx answers and dropped connections for a share of Invoke calls.
invoke_under_faults server \
    '{"seed":9,"serverErrorRate":0.25,"dropConnectionRate":0.2,"operations":["Invoke"]}'
read -r calls _ kinds < <(fault_summary "$work/server.invokes.json")
servers=$(node -e 'const l=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")); console.log(l.filter(r=>r.fault==="server"&&r.status>=500).length)' "$work/server.invokes.json")
drops=$(node -e 'const l=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")); console.log(l.filter(r=>r.fault==="drop"&&r.status===null).length)' "$work/server.invokes.json")
[[ "$servers" -ge 1 && "$drops" -ge 1 ]] ||
    fail "server: $servers 5xx answers and $drops dropped connections ($calls calls, $kinds): the case tests nothing"
invocations=$(json "$work/server.results.json" 'j.invocations')
pass "server errors: $WANT/$WANT passed in ${took}s; $calls Invoke calls for $invocations invocations, $servers answered 5xx, $drops dropped, $retried retried"

# (3) Ctrl-C while Invoke calls are in flight (each held 30 s by the emulator): the libcurl
# multi transfers are cancelled, unfinished tests end cancelled, every report is written, and
# hypertest exits 130 within 3 s.
admin POST faults '{"slowMs":30000,"operations":["Invoke"]}' > /dev/null || fail "sigint: the emulator refused slowMs"
rm -f hypertest.results.json
interrupt_ht 1.5 invoke --quiet --grep "$GREP" --concurrency 4
admin DELETE faults > /dev/null
expect_rc 130 "sigint: interrupted invoke"
(( elapsed_ms <= 3000 )) || fail "sigint: exit took ${elapsed_ms} ms after SIGINT (limit 3000): $out"
[[ "$(json hypertest.results.json 'j.status')" == interrupted ]] || fail "sigint: results status is not interrupted"
expect_one_status_each hypertest.results.json "$WANT"
cancelled="$(json hypertest.results.json 'j.tests.cancelled')"
[[ "$cancelled" == "$WANT" ]] || fail "sigint: $cancelled of $WANT cancelled: $(cat hypertest.results.json)"
grep -q "<testsuites" hypertest.junit.xml || fail "sigint: no JUnit XML after the interrupt"
started="$(json hypertest.results.json 'j.invocations')"
[[ "$started" == 4 ]] || fail "sigint: $started invocations started, expected 4 in flight"
pass "sigint: exit 130 after ${elapsed_ms} ms with $started Invoke calls in flight; $cancelled/$WANT cancelled, reports written"
