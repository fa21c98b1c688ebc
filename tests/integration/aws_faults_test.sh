#!/usr/bin/env bash
# Issue 5's fault cases on the aws path, against tools/aws-emulator: with a seeded share of Lambda
# Invoke calls throttled (429 TooManyRequestsException with a Reason and Retry-After), answered
# with 5xx or dropped, `hypertest invoke` still ends with every selected test passed exactly once,
# and the emulator's request log shows the faults were really injected.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/registry_lib.sh"
source "$(dirname "$0")/faults_lib.sh"
EMU="$HT_SOURCE_DIR/tools/aws-emulator"
for t in docker-registry htpasswd node curl; do command -v $t >/dev/null || fail "$t missing: run scripts/setup.sh"; done
[[ -d "$EMU/node_modules/@smithy/signature-v4" ]] || fail "run npm ci in $EMU (scripts/setup.sh)"

work="$(mktemp -d)"
# Environments get TMPDIR under <state>/functions/<name>/envs/...: Chromium's SingletonSocket must
# fit a 107-byte socket path, so keep state and name short.
state="$(mktemp -d /tmp/f.XXXX)"
FN=ht
proj="$(copy_project "$HT_SOURCE_DIR/examples/playwright")"
EMU_PID=""
cleanup() {
    if [[ -n "$EMU_PID" ]]; then kill "$EMU_PID" 2>/dev/null || true; wait "$EMU_PID" 2>/dev/null || true; fi
    stop_registries
    if [[ -n "${HT_KEEP_TEMP:-}" ]]; then echo "kept $work, $state and $proj" >&2; return; fi
    chmod -R u+w "$work" "$proj" 2>/dev/null || true
    rm -rf "$work" "$proj" "$state"
}
trap cleanup EXIT

KEY_ID="AKIDHYPERTESTFAULT"
SECRET="faultSecret/$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')+Key"
REG_PASSWORD="regpw-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
BUCKET="ht-fault-results"
REGION="us-east-1"
GREP='catalog\.spec'  # the 9 tests of tests/catalog.spec.ts
WANT=9

start_registry "$work/registry" AWS "$REG_PASSWORD"
node "$EMU/src/main.js" --port 0 --state "$state" --registry "$REG_ADDR" \
    --registry-password "$REG_PASSWORD" --region "$REGION" --access-key "$KEY_ID" --secret-key "$SECRET" \
    --bucket "$BUCKET" > "$work/emulator.out" 2> "$work/emulator.err" &
EMU_PID=$!
for _ in $(seq 200); do
    grep -q '^ready ' "$work/emulator.out" 2>/dev/null && break
    kill -0 "$EMU_PID" 2>/dev/null || fail "the emulator exited: $(cat "$work/emulator.err")"
    sleep 0.1
done
EMU_PORT="$(awk '/^ready /{print $2; exit}' "$work/emulator.out")"
[[ -n "$EMU_PORT" ]] || fail "the emulator did not report its port: $(cat "$work/emulator.err")"
EMU_URL="http://127.0.0.1:$EMU_PORT"
admin() { curl -sS -f -X "$1" -H 'Content-Type: application/json' ${3:+--data "$3"} "$EMU_URL/_emulator/$2"; }
admin POST functions '{"name":"'"$FN"'","timeout":300,"memory":2048,"architectures":["x86_64"]}' > /dev/null ||
    fail "cannot create the function in the emulator"

case "$(uname -m)" in
  x86_64) arch=amd64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) fail "unsupported machine $(uname -m)" ;;
esac
"$HT_SOURCE_DIR/scripts/make-host-base-image.sh" "$HT_BIN/hypertest-runner" "$work/base" >/dev/null

cd "$proj"
cat > hypertest.config.json <<JSON
{ "testRunner": { "name": "playwright" }, "concurrency": 4,
  "cloudProvider": { "name": "aws", "region": "$REGION", "functionName": "$FN",
    "bucketName": "$BUCKET", "ecrRegistry": "$REG_ADDR/hypertest", "platform": "linux/$arch",
    "baseImage": "oci:$work/base:host-base", "lambdaUpdateMaxWaitTime": 120 } }
JSON
export HOME="$work/home" AWS_ENDPOINT_URL="$EMU_URL" AWS_ACCESS_KEY_ID="$KEY_ID" AWS_SECRET_ACCESS_KEY="$SECRET"
export AWS_REGION="$REGION" AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_DEFAULT_REGION AWS_CONFIG_FILE AWS_SHARED_CREDENTIALS_FILE 2>/dev/null || true
mkdir -p "$HOME"

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
read -r calls faulted kinds < <(fault_summary "$work/throttle.invokes.json")
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
read -r calls faulted kinds < <(fault_summary "$work/server.invokes.json")
servers=$(node -e 'const l=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")); console.log(l.filter(r=>r.fault==="server"&&r.status>=500).length)' "$work/server.invokes.json")
drops=$(node -e 'const l=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")); console.log(l.filter(r=>r.fault==="drop"&&r.status===null).length)' "$work/server.invokes.json")
[[ "$servers" -ge 1 && "$drops" -ge 1 ]] ||
    fail "server: $servers 5xx answers and $drops dropped connections ($calls calls, $kinds): the case tests nothing"
invocations=$(json "$work/server.results.json" 'j.invocations')
pass "server errors: $WANT/$WANT passed in ${took}s; $calls Invoke calls for $invocations invocations, $servers answered 5xx, $drops dropped, $retried retried"
