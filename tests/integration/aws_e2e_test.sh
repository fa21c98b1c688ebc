#!/usr/bin/env bash
# The aws provider end to end against tools/aws-emulator (Lambda, ECR, STS, Service Quotas, S3)
# and docker-registry with htpasswd: doctor, deploy (push with the ECR token, UpdateFunctionCode,
# wait) and invoke (Lambda Invoke; the runner uploads artifacts to S3 with the function's own
# credentials). Every AWS request must pass the emulator's independent signature check, and
# neither the secret key nor the registry password may appear in any output, log or result.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/registry_lib.sh"
source "$(dirname "$0")/aws_lib.sh"
FN=ht
aws_start "$FN"

run_ht deploy
echo "$out" >> "$outputs"
expect_rc 0 "deploy"
digest="$(json "$proj/.hypertest/image/index.json" 'j.manifests[j.manifests.length-1].digest')"
resolved="$(curl -sS "$EMU_URL/_emulator/functions/$FN" | json /dev/stdin 'j.code.ResolvedImageUri')"
[[ "$resolved" == "$REG_ADDR/hypertest@$digest" ]] || fail "the function runs '$resolved', expected $REG_ADDR/hypertest@$digest"
curl -sS -f -u "AWS:$REG_PASSWORD" -o /dev/null -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
    "http://$REG_ADDR/v2/hypertest/manifests/$digest" || fail "the image is not in the registry"
pass "deploy pushed $digest with the ECR token and pointed the function at it"

run_ht doctor
echo "$out" >> "$outputs"
expect_rc 0 "doctor"
for check in config credentials registry function "function settings" bucket concurrency; do
    expect_out "✓ $check: " "doctor passes $check"
done
pass "doctor: every check passes"

run_ht invoke --quiet
echo "$out" >> "$outputs"
expect_rc 0 "invoke"
[[ -f hypertest.results.json ]] || fail "no results file"
total=$(json hypertest.results.json 'j.tests.total')
success=$(json hypertest.results.json 'j.tests.success')
[[ "$total" -ge 20 && "$total" == "$success" ]] || fail "$success of $total passed: $out"
[[ "$(json hypertest.results.json 'j.provider')" == "aws" ]] || fail "provider in the results"
billed=$(json hypertest.results.json 'j.billedGbSeconds')
node -e "process.exit(Number(process.argv[1]) > 0 ? 0 : 1)" "$billed" || fail "no billed time from REPORT lines ($billed)"
run_id=$(json hypertest.results.json 'j.runId')
pass "invoke: $success/$total passed on the emulated Lambda, billed ${billed} GB-s"

# The results file in S3, read back with the official SDK (signed, path-style).
s3_get() {
    (cd "$EMU" && node --input-type=module -e '
import { S3Client, GetObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
const s3 = new S3Client({ region: process.env.AWS_REGION, endpoint: process.env.AWS_ENDPOINT_URL, forcePathStyle: true });
const [bucket, key] = process.argv.slice(1);
if (key.endsWith("/")) {
  const r = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: key }));
  for (const o of r.Contents || []) console.log(o.Key);
} else {
  const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  process.stdout.write(await r.Body.transformToString());
}' "$@" 2>>"$work/s3-client.err")  # the SDK warns about Node 20 on stderr
}
s3_get "$BUCKET" "$run_id/hypertest.results.json" > "$work/s3-results.json" || fail "results not in S3"
[[ "$(json "$work/s3-results.json" 'j.runId')" == "$run_id" ]] || fail "S3 results are another run's"
s3_get "$BUCKET" "_hypertest/$FN/hypertest.manifest.json" > "$work/s3-manifest.json" || fail "manifest not in S3"
[[ "$(json "$work/s3-manifest.json" 'j.imageDigest')" == "$digest" ]] || fail "manifest in S3 names another image"
s3_get "$BUCKET" "$run_id/" > "$work/s3-keys.txt"
grep -q "^$run_id/blobs/.*\.zip$" "$work/s3-keys.txt" || fail "no blob report uploaded by the runner: $(cat "$work/s3-keys.txt")"
pass "results, manifest and the runner's blob reports are in s3://$BUCKET"

# Every AWS request passed the emulator's signature check.
curl -sS "$EMU_URL/_emulator/requests" > "$work/requests.json"
node -e '
const log = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
const bad = log.filter((r) => r.signatureOk === false || (r.signed && r.signatureOk !== true));
if (bad.length) { console.error(JSON.stringify(bad.slice(0, 3), null, 1)); process.exit(1); }
const ops = new Set(log.map((r) => r.operation));
for (const op of ["GetAuthorizationToken", "GetFunction", "UpdateFunctionCode", "Invoke", "PutObject", "GetCallerIdentity"])
  if (!ops.has(op)) { console.error("missing operation " + op + " in " + [...ops].join(",")); process.exit(1); }
console.log(log.length);' "$work/requests.json" > "$work/request-count" || fail "request log: $(cat "$work/request-count")"
pass "$(cat "$work/request-count") AWS requests, all signed correctly"

# A wrong secret key: doctor names the credentials check and how to fix it, without the key.
WRONG_SECRET="wrong/$SECRET"
AWS_SECRET_ACCESS_KEY="$WRONG_SECRET" run_ht doctor
echo "$out" >> "$outputs"
expect_rc 2 "doctor with a wrong secret key"
expect_out "✕ credentials: STS GetCallerIdentity: SignatureDoesNotMatch (HTTP 403)" "doctor names the signature error"
expect_out "fix: set AWS_ACCESS_KEY_ID" "doctor says how to fix the credentials"
grep -qF -- "$WRONG_SECRET" <<<"$out" && fail "doctor printed the wrong secret key"
pass "doctor with a wrong secret key: credentials check fails with a fix"

# No secret anywhere we wrote or printed.
leaks="$(grep -rlF -e "$SECRET" -e "$REG_PASSWORD" "$outputs" "$proj" "$work/requests.json" \
    "$state/functions" "$work/s3-results.json" 2>/dev/null || true)"
[[ -z "$leaks" ]] || fail "a secret appears in: $leaks"
pass "neither the secret key nor the registry password appears in outputs, logs or results"
