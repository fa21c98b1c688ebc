#!/usr/bin/env bash
# The aws provider against bad input and a changed cloud (tools/aws-emulator): drift between the
# function's image and the manifest (warning / error), missing or expired credentials, a wrong
# region, an unknown function, a Zip function, a missing bucket, and a throttling storm on Invoke.
# Each must fail with a clear message and a fix (exit 2), doctor must name the failing check, and
# no secret key may appear in any output.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/registry_lib.sh"
source "$(dirname "$0")/aws_lib.sh"
FN=ht
aws_start "$FN"
GREP="header links move between pages"

# run_env VAR=value... / -u VAR ... -- hypertest arguments
run_env() {
    local envs=()
    while [[ "$1" != "--" ]]; do envs+=("$1"); shift; done
    shift
    set +e
    out="$(env "${envs[@]}" "$HT" "$@" 2>&1)"
    rc=$?
    set -e
    echo "$out" >> "$outputs"
}
run() { run_env -- "$@"; }
show() { [[ -n "${HT_VERBOSE:-}" ]] && echo "---- $*: rc=$rc
$out" >&2 || true; }

run deploy
expect_rc 0 "deploy"
digest="$(json "$proj/.hypertest/image/index.json" 'j.manifests[j.manifests.length-1].digest')"
pass "deployed $digest"

# Drift: the same layers under another manifest digest (an annotation), set on the function
# behind hypertest's back with the official SDK's UpdateFunctionCode.
MT='application/vnd.oci.image.manifest.v1+json'
curl -sS -f -u "AWS:$REG_PASSWORD" -H "Accept: $MT" "http://$REG_ADDR/v2/hypertest/manifests/$digest" > "$work/m.json"
node -e 'const fs=require("fs");const m=JSON.parse(fs.readFileSync(process.argv[1]));
m.annotations={...(m.annotations||{}),"test.drift":"1"};fs.writeFileSync(process.argv[2],JSON.stringify(m))' \
    "$work/m.json" "$work/m2.json"
other="sha256:$(sha256sum "$work/m2.json" | cut -d' ' -f1)"
curl -sS -f -u "AWS:$REG_PASSWORD" -X PUT -H "Content-Type: $MT" --data-binary "@$work/m2.json" \
    "http://$REG_ADDR/v2/hypertest/manifests/$other" > /dev/null || fail "cannot push the second manifest"
set_image() {
    (cd "$EMU" && node --input-type=module -e '
import { LambdaClient, UpdateFunctionCodeCommand, waitUntilFunctionUpdatedV2 } from "@aws-sdk/client-lambda";
const c = new LambdaClient({ region: process.env.AWS_REGION, endpoint: process.env.AWS_ENDPOINT_URL });
const [name, uri] = process.argv.slice(1);
await c.send(new UpdateFunctionCodeCommand({ FunctionName: name, ImageUri: uri }));
await waitUntilFunctionUpdatedV2({ client: c, maxWaitTime: 60, minDelay: 1 }, { FunctionName: name });
' "$FN" "$REG_ADDR/hypertest@$1" 2>>"$work/sdk.err") || fail "UpdateFunctionCode to $1: $(tail -5 "$work/sdk.err")"
}
set_image "$other"
drift="drift: function \"$FN\" runs image $other but the manifest names $digest"

run invoke --quiet --grep "$GREP"
show "invoke, drift warning"
expect_rc 0 "invoke with drift and driftDetectionPolicy warning"
expect_out "$drift" "the drift warning names both images"
[[ "$(json hypertest.results.json 'j.tests.success')" == 1 ]] || fail "the run did not proceed after the drift warning: $out"
pass "drift with policy warning: a warning naming both images, and the run proceeds"

aws_config "$FN" "$BUCKET" "$REGION" '"driftDetectionPolicy": "error"'
rm -f hypertest.results.json
run invoke --quiet --grep "$GREP"
show "invoke, drift error"
expect_rc 2 "invoke with drift and driftDetectionPolicy error"
expect_out "$drift" "the drift error names both images"
expect_out 'run `hypertest deploy`' "the drift error says how to fix it"
[[ ! -f hypertest.results.json ]] || fail "a run started despite driftDetectionPolicy error"
pass "drift with policy error: exit 2 naming both images and the fix"
set_image "$digest"
aws_config "$FN" "$BUCKET" "$REGION"

# Bad input: each case through invoke (exit 2, a message and a fix) and doctor (the failing check).
printf '' > "$work/empty"
NO_CREDS=(-u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN -u AWS_PROFILE
    -u AWS_WEB_IDENTITY_TOKEN_FILE -u AWS_ROLE_ARN -u AWS_CONTAINER_CREDENTIALS_RELATIVE_URI
    -u AWS_CONTAINER_CREDENTIALS_FULL_URI AWS_CONFIG_FILE="$work/empty"
    AWS_SHARED_CREDENTIALS_FILE="$work/empty" AWS_EC2_METADATA_DISABLED=true)
# bad_case <name> <invoke message> <invoke fix> <doctor check> <doctor message> [env...]
bad_case() {
    local name="$1" msg="$2" fix="$3" check="$4" dmsg="$5"
    shift 5
    rm -f hypertest.results.json
    run_env "$@" -- invoke --quiet --grep "$GREP"
    show "$name: invoke"
    expect_rc 2 "$name: invoke"
    expect_out "$msg" "$name: invoke names the problem"
    expect_out "$fix" "$name: invoke says how to fix it"
    run_env "$@" -- doctor
    show "$name: doctor"
    expect_rc 2 "$name: doctor"
    expect_out "✕ $check: " "$name: doctor fails the $check check"
    expect_out "$dmsg" "$name: doctor names the problem"
    expect_out "    fix: " "$name: doctor says how to fix it"
    pass "$name: invoke exits 2 with the reason and a fix; doctor fails '$check'"
}

no_creds="no AWS credentials found (looked in: environment, web identity, profile default, container endpoint, instance metadata)"
bad_case "missing credentials" "$no_creds" "Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY" \
    credentials "$no_creds" "${NO_CREDS[@]}"
# The emulator only serves us-east-1: a request signed for another region is rejected, as AWS
# rejects a request sent to one region's endpoint but signed for another.
aws_config "$FN" "$BUCKET" "eu-west-3"
bad_case "wrong region" "'eu-west-3' is wrong; expecting 'us-east-1'" "set cloudProvider.region" \
    credentials "'eu-west-3' is wrong; expecting 'us-east-1'. The request was signed for another region: set cloudProvider.region"
# An unknown or Zip function has no manifest either: invoke names the function's problem first.
aws_config "no-such-fn" "$BUCKET" "$REGION"
bad_case "unknown function" 'Lambda GetFunction no-such-fn: ResourceNotFoundException (HTTP 404)' \
    'Create the Lambda function "no-such-fn" (package type Image) in us-east-1' \
    function "ResourceNotFoundException (HTTP 404): Function not found"
run deploy
show "unknown function: deploy"
expect_rc 2 "unknown function: deploy"
expect_out 'cannot update function "no-such-fn": Lambda GetFunction no-such-fn: ResourceNotFoundException (HTTP 404)' \
    "unknown function: deploy names the function"
expect_out 'Create the Lambda function "no-such-fn" (package type Image) in us-east-1, or set cloudProvider.functionName' \
    "unknown function: deploy says how to fix it"
pass "unknown function: deploy exits 2 naming the function and the fix"
admin POST functions '{"name":"zipfn","packageType":"Zip"}' > /dev/null || fail "cannot create a Zip function"
aws_config "zipfn" "$BUCKET" "$REGION"
bad_case "Zip function" 'Lambda function "zipfn" is a .zip function' 'create it with --package-type Image' \
    function "zipfn is a Zip function"
run deploy
show "Zip function: deploy"
expect_rc 2 "Zip function: deploy"
expect_out 'Lambda function "zipfn" is a .zip function; hypertest deploys container images: create it with --package-type Image' \
    "Zip function: deploy names the problem and the fix"
pass "Zip function: deploy exits 2 naming the package type and the fix"
aws_config "$FN" "no-such-bucket" "$REGION"
bad_case "missing bucket" "NoSuchBucket (HTTP 404): The specified bucket does not exist" \
    "set cloudProvider.bucketName" bucket "cannot write to s3://no-such-bucket/"
aws_config "$FN" "$BUCKET" "$REGION"
EXP_SECRET="expSecret/$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
admin POST credentials '{"accessKeyId":"AKIDEXPIRED","secretAccessKey":"'"$EXP_SECRET"'","sessionToken":"tok-exp"}' > /dev/null
admin POST credentials/expire '{"accessKeyId":"AKIDEXPIRED"}' > /dev/null
expired="The security token included in the request is expired"
bad_case "expired token" "ExpiredToken (HTTP 400): $expired" "refresh the session" credentials \
    "ExpiredToken (HTTP 403): $expired" AWS_ACCESS_KEY_ID=AKIDEXPIRED AWS_SECRET_ACCESS_KEY="$EXP_SECRET" AWS_SESSION_TOKEN=tok-exp

# A throttling storm on Invoke: every invocation answers 429. The run ends (no hang) with every
# test failed once, naming the throttling, and the results file is still written.
admin POST faults '{"throttleRate":1.0,"services":["lambda"],"operations":["Invoke"]}' > /dev/null
aws_config "$FN" "$BUCKET" "$REGION" '"invocationRetries": 0'
rm -f hypertest.results.json
start=$SECONDS
run invoke --quiet --grep "site"
show "throttling"
admin DELETE faults > /dev/null
expect_rc 1 "invoke in a throttling storm"
expect_out "TooManyRequestsException (HTTP 429): Rate Exceeded. (reason: CallerRateLimitExceeded)" \
    "the failures name the throttling"
[[ -f hypertest.results.json ]] || fail "no results file after the throttling storm"
planned="$(sed -n 's/^\[run:start\] \([0-9]*\) tests .*/\1/p' <<<"$out")"
node -e '
const j = JSON.parse(require("fs").readFileSync("hypertest.results.json", "utf8"));
const want = Number(process.argv[1]);
const ids = j.testResults.map((r) => r.testId);
const bad = j.testResults.filter((r) => r.status !== "failed" || !/TooManyRequestsException/.test((r.error || {}).message || ""));
if (!(want >= 2) || j.tests.total !== want || ids.length !== want || new Set(ids).size !== want || bad.length || j.tests.failed !== want) {
  console.error(JSON.stringify({ want, tests: j.tests, ids, bad: bad.slice(0, 2) }, null, 1)); process.exit(1);
}' "$planned" || fail "the results after the throttling storm are not one failed status per test: $out"
pass "throttling storm: $planned tests each failed once with the 429 reason in $((SECONDS - start)) s; results written"

# Neither secret key appears in anything hypertest printed or wrote.
leaks="$(grep -rlF -e "$SECRET" -e "$EXP_SECRET" -e "$REG_PASSWORD" "$outputs" "$proj" "$state/functions" 2>/dev/null || true)"
[[ -z "$leaks" ]] || fail "a secret appears in: $leaks"
[[ -s "$outputs" ]] || fail "no outputs were collected"
pass "no secret key or registry password in any output, project file or function log"
