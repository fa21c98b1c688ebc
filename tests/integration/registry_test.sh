#!/usr/bin/env bash
# Registry: the project's client against Debian's docker-registry, checked with skopeo; deploy
# pushes only what changed and the function host runs the image it pulls back.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/registry_lib.sh"
TOOL="$HT_BIN/ht_oci_tool"
for t in skopeo docker-registry htpasswd; do command -v $t >/dev/null || fail "$t missing: run scripts/setup.sh"; done
work="$(mktemp -d)"
trap 'stop_registries; chmod -R u+w "$work"; rm -rf "$work"' EXIT

# Runs ht_oci_tool; stdout in $work/out.json, stderr in $err, exit code in $rc.
tool() {
    set +e
    "$TOOL" "$@" > "$work/out.json" 2> "$work/err.txt"
    rc=$?
    set -e
    err="$(cat "$work/err.txt")"
}
ok_tool() { tool "$@"; [[ $rc == 0 ]] || fail "ht_oci_tool $*: exit $rc: $err"; }
expect_err() {  # <needle> <what>: the last tool call failed with exit 2 naming needle
    [[ $rc == 2 ]] || fail "$2: exit $rc, expected 2 ($err)"
    grep -qF -- "$1" <<<"$err" || fail "$2: error lacks '$1': $err"
}
out() { json "$work/out.json" "$1"; }
skopeo_json() { skopeo inspect --tls-verify=false "$@"; }

start_registry "$work/reg"
R="$REG_ADDR" R_LOG="$REG_LOG" R_DATA="$REG_DATA"

# --- push an image, compare with skopeo ----------------------------------------------------
mkdir -p "$work/src/tests" "$work/src/node_modules/dep"
echo "test('a', () => {});" > "$work/src/tests/a.spec.ts"
head -c 200000 /dev/urandom > "$work/src/node_modules/dep/blob.bin"
manifest="$("$TOOL" build "$work/layout" v1 "$work/src")"
ok_tool push "$work/layout" v1 "$R/team/app:v1"
[[ "$(out j.counts.uploaded)" == 2 && "$(out j.manifestsUploaded)" == 1 ]] || fail "first push: $(cat "$work/out.json")"
skopeo_json "docker://$R/team/app:v1" > "$work/inspect.json"
[[ "$(json "$work/inspect.json" j.Digest)" == "$manifest" ]] || fail "skopeo digest differs from $manifest"
[[ "$(json "$work/inspect.json" 'j.Architecture+"/"+j.Os')" == "amd64/linux" ]] || fail "skopeo platform"
ours_layers="$(node -e 'const fs=require("fs");const m=JSON.parse(fs.readFileSync(process.argv[1]));console.log(m.layers.map(l=>l.digest).join(","))' "$work/layout/blobs/sha256/${manifest#sha256:}")"
[[ "$(json "$work/inspect.json" 'j.Layers.join(",")')" == "$ours_layers" ]] || fail "skopeo layers differ"
skopeo_json --config "docker://$R/team/app:v1" > "$work/config.json"
cmp -s "$work/config.json" "$work/layout/blobs/sha256/$(json "$work/layout/blobs/sha256/${manifest#sha256:}" 'j.config.digest.slice(7)')" ||
    [[ "$(json "$work/config.json" j.architecture)" == amd64 ]] || fail "skopeo config differs"
skopeo_json --raw "docker://$R/team/app:v1" | cmp -s - "$work/layout/blobs/sha256/${manifest#sha256:}" || fail "raw manifest differs"
pass "push: skopeo sees the same digest, layers, platform and config"

lines="$(log_lines "$REG_LOG")"
ok_tool push "$work/layout" v1 "$R/team/app:v1"
[[ "$(out 'Object.keys(j.requests).join(",")')" == "HEAD" && "$(out j.counts.skipped)" == 2 ]] || fail "second push: $(cat "$work/out.json")"
[[ "$(log_methods_since "$REG_LOG" $((lines + 1)))" == "HEAD 3" ]] || fail "registry saw more than HEADs: $(log_methods_since "$REG_LOG" $((lines + 1)))"
pass "unchanged push sends HEAD requests only"

# Chunked upload of a large blob, and a cross-repository mount.
ok_tool push "$work/layout" v1 "$R/team/chunked:v1" --chunk-threshold 50000 --chunk-size 65536
[[ "$(out j.requests.PATCH)" -ge 3 ]] || fail "no chunked upload: $(cat "$work/out.json")"
ok_tool push "$work/layout" v1 "$R/team/mounted:v1" --mount-from team/app
[[ "$(out j.counts.mounted)" == 2 && "$(out j.counts.uploaded)" == 0 ]] || fail "mount: $(cat "$work/out.json")"
[[ "$(skopeo_json "docker://$R/team/chunked:v1" | json /dev/stdin j.Digest)" == "$manifest" ]] || fail "chunked digest"
pass "chunked upload and cross-repository mount"

# --- pull what skopeo pushed, OCI and Docker v2 ----------------------------------------------
"$HT_SOURCE_DIR/scripts/make-host-base-image.sh" "$HT_BIN/hypertest-runner" "$work/base" >/dev/null
skopeo inspect "oci:$work/base:host-base" > /dev/null || fail "skopeo cannot read the host base image"
for format in oci v2s2; do
    skopeo copy -q --dest-tls-verify=false --format "$format" "oci:$work/base:host-base" "docker://$R/base:$format"
    want="$(skopeo_json "docker://$R/base:$format" | json /dev/stdin j.Digest)"
    ok_tool pull "$R/base:$format" "$work/pulled-$format" --tag base
    [[ "$(out j.manifestDigest)" == "$want" ]] || fail "$format: pulled $(out j.manifestDigest), registry has $want"
    [[ "$(out j.counts.downloaded)" == 2 ]] || fail "$format: $(cat "$work/out.json")"
    want_type=application/vnd.oci.image.manifest.v1+json
    [[ $format == v2s2 ]] && want_type=application/vnd.docker.distribution.manifest.v2+json
    [[ "$(out j.mediaType)" == "$want_type" ]] || fail "$format: media type $(out j.mediaType)"
    ok_tool unpack "$work/pulled-$format" base "$work/root-$format"
    cmp -s "$work/root-$format/usr/local/bin/hypertest-runner" "$HT_BIN/hypertest-runner" || fail "$format: runner differs"
    [[ -x "$work/root-$format/usr/local/bin/hypertest-runner" ]] || fail "$format: runner not executable"
done
pass "pull of skopeo-pushed images (OCI and Docker v2), host base image unpacks to the runner"

# --- index with two platforms and an attestation --------------------------------------------
arm_src="$work/src-arm"; mkdir -p "$arm_src"; echo arm > "$arm_src/which"
amd_src="$work/src-amd"; mkdir -p "$amd_src"; echo amd > "$amd_src/which"
amd="$("$TOOL" build "$work/multi" amd "$amd_src" --arch amd64)"
arm="$("$TOOL" build "$work/multi" arm "$arm_src" --arch arm64)"
index="$("$TOOL" index "$work/multi" all amd arm --attestation)"
ok_tool push "$work/multi" all "$R/multi:all"
[[ "$(out j.manifestsUploaded)" == 4 ]] || fail "index push: $(cat "$work/out.json")"
[[ "$(skopeo_json --raw "docker://$R/multi:all" | json /dev/stdin 'j.manifests.length')" == 3 ]] || fail "index entries"
[[ "$(skopeo_json --override-arch arm64 "docker://$R/multi:all" | json /dev/stdin j.Architecture)" == arm64 ]] || fail "skopeo arm64"
[[ "$(skopeo_json --raw "docker://$R/multi:all" | json /dev/stdin 'j.manifests.find(m=>m.platform.architecture=="arm64").digest')" == "$arm" ]] || fail "index arm64 entry"
skopeo copy -q --all --dest-tls-verify=false "oci:$work/multi:all" "docker://$R/multi:viaskopeo"
for ref in multi:all multi:viaskopeo; do
    ok_tool pull "$R/$ref" "$work/pulled-multi" --platform arm64
    [[ "$(out j.manifestDigest)" == "$arm" && "$(out j.indexDigest)" == "$index" ]] || fail "$ref arm64: $(cat "$work/out.json")"
    ok_tool pull "$R/$ref" "$work/pulled-multi"
    [[ "$(out j.manifestDigest)" == "$amd" && "$(out j.platform)" == linux/amd64 ]] || fail "$ref amd64: $(cat "$work/out.json")"
done
tool pull "$R/multi:all" "$work/pulled-multi" --platform linux/s390x
expect_err "no linux/s390x image (it has: linux/amd64, linux/arm64)" "missing platform"
pass "index: platform chosen, attestation skipped (own push and skopeo --all)"

# --- bad input -----------------------------------------------------------------------------
tool pull "$R/multi@$arm" "$work/wrong"
expect_err "wrong platform" "single image of another platform"
tool pull "$R/team/app:nope" "$work/wrong"
expect_err "404" "missing tag"
tool pull "$R/nothere/app:v1" "$work/wrong"
expect_err "404" "missing repository"
tool pull "127.0.0.1:$(free_port)/team/app:v1" "$work/wrong"
expect_err "cannot reach registry" "unreachable registry"
tool push "$work/layout" v1 "team/app:v1"
expect_err "invalid image reference" "reference without host"
# A blob corrupted in the registry's storage is caught by the digest check.
layer="$(json "$work/layout/blobs/sha256/${manifest#sha256:}" 'j.layers[0].digest.slice(7)')"
ok_tool push "$work/layout" v1 "$R/corrupt/app:v1"
data="$REG_DATA/docker/registry/v2/blobs/sha256/${layer:0:2}/$layer/data"
# Flip every bit of byte 100 (writing a fixed byte would leave it unchanged 1 time in 256).
node -e 'const fs = require("fs"); const fd = fs.openSync(process.argv[1], "r+"); const b = Buffer.alloc(1);
fs.readSync(fd, b, 0, 1, 100); b[0] ^= 0xff; fs.writeSync(fd, b, 0, 1, 100); fs.closeSync(fd);' "$data"
tool pull "$R/corrupt/app:v1" "$work/corrupt"
expect_err "digest mismatch" "corrupted blob"
[[ ! -e "$work/corrupt/blobs/sha256/$layer" ]] || fail "corrupted blob was stored"
pass "bad input: clear errors, exit 2"

# --- Basic auth ----------------------------------------------------------------------------
start_registry "$work/reg-auth" AWS s3cret
A="$REG_ADDR"
tool push "$work/layout" v1 "$A/secure:v1"
expect_err "requires credentials" "no credentials"
HYPERTEST_REGISTRY_USERNAME=AWS HYPERTEST_REGISTRY_PASSWORD=wrong tool push "$work/layout" v1 "$A/secure:v1"
expect_err "rejected the credentials" "wrong password"
HYPERTEST_REGISTRY_USERNAME=AWS HYPERTEST_REGISTRY_PASSWORD=s3cret ok_tool push "$work/layout" v1 "$A/secure:v1"
[[ "$(skopeo_json --creds AWS:s3cret "docker://$A/secure:v1" | json /dev/stdin j.Digest)" == "$manifest" ]] || fail "auth push digest"
HYPERTEST_REGISTRY_USERNAME=AWS HYPERTEST_REGISTRY_PASSWORD=s3cret ok_tool pull "$A/secure:v1" "$work/pulled-auth"
[[ "$(out j.manifestDigest)" == "$manifest" ]] || fail "auth pull"
pass "Basic auth (htpasswd): refused without or with wrong credentials, works with them"

# --- deploy through the local provider ------------------------------------------------------
proj="$(copy_project "$HT_SOURCE_DIR/tests/fixtures/playwright-statuses")"
trap 'stop_registries; chmod -R u+w "$work"; rm -rf "$work" "$proj"' EXIT
cd "$proj"
echo '{"testRunner": {"name": "playwright"}, "cloudProvider": {"name": "local", "registry": "'"$R"'/deploy/app"}}' > hypertest.config.json
run_ht deploy
expect_rc 0 "first deploy"
expect_out "[deploy] push done" "first deploy pushes"
expect_out "to $R/deploy/app: 3 blobs uploaded" "first deploy uploads config and two layers"
digest="$(json .hypertest/functions/hypertest/function.json j.imageDigest)"
[[ "$(skopeo_json "docker://$R/deploy/app:hypertest" | json /dev/stdin j.Digest)" == "$digest" ]] || fail "registry tag != function image"
[[ -f ".hypertest/functions/hypertest/image/blobs/sha256/${digest#sha256:}" ]] || fail "host did not pull the image"
pass "deploy pushes the image; the host pulled it"

count_blobs() { find "$R_DATA/docker/registry/v2/blobs" -name data | wc -l; }
lines="$(log_lines "$R_LOG")"; blobs_before="$(count_blobs)"
run_ht deploy
expect_rc 0 "second deploy"
expect_out "3 blobs skipped" "second deploy skips"
[[ "$(log_methods_since "$R_LOG" $((lines + 1)))" == "HEAD 4" ]] || fail "unchanged deploy: $(log_methods_since "$R_LOG" $((lines + 1)))"
[[ "$(count_blobs)" == "$blobs_before" ]] || fail "unchanged deploy stored blobs"
pass "unchanged redeploy: HEAD requests only, nothing stored"

echo "// changed" >> tests/basic.spec.ts
lines="$(log_lines "$R_LOG")"
run_ht deploy
expect_rc 0 "third deploy"
expect_out "2 blobs uploaded" "changed deploy"
expect_out "1 skipped" "changed deploy keeps the dependency layer"
expect_out "1 manifest uploaded" "changed deploy"
methods="$(log_methods_since "$R_LOG" $((lines + 1)))"
grep -qx "PUT 3" <<<"$methods" || fail "expected 2 blob PUTs + 1 manifest PUT: $methods"
grep -qx "POST 2" <<<"$methods" || fail "expected 2 upload sessions: $methods"
[[ "$(count_blobs)" == "$((blobs_before + 3))" ]] || fail "expected 3 new blobs (layer, config, manifest): $(count_blobs) vs $blobs_before"
pass "one changed test file: one layer + one config + one manifest uploaded"

# The host runs the pushed image even when deploy's own layout is gone.
rm -rf .hypertest/image .hypertest/functions/hypertest/image
run_ht invoke --quiet --grep "passes"
[[ -f .hypertest/functions/hypertest/image/blobs/sha256/"$(json .hypertest/functions/hypertest/function.json 'j.imageDigest.slice(7)')" ]] || fail "host did not re-pull: $out"
passed="$(json hypertest.results.json j.tests.success)"
[[ "$passed" -ge 1 ]] || fail "no test passed from the pulled image: $out"
pass "function host pulled the image again and ran $passed test(s) from it"

# Bad registry settings through the CLI: exit 2 with the key named.
echo '{"testRunner": {"name": "playwright"}, "cloudProvider": {"name": "local", "registry": "deploy/app"}}' > hypertest.config.json
run_ht deploy
expect_rc 2 "registry without host"; expect_out "cloudProvider.registry" "registry without host"
echo '{"testRunner": {"name": "playwright"}, "cloudProvider": {"name": "local", "registry": "127.0.0.1:'"$(free_port)"'/x"}}' > hypertest.config.json
run_ht deploy
expect_rc 2 "registry down"; expect_out "cannot reach registry" "registry down"
echo '{"testRunner": {"name": "playwright"}, "cloudProvider": {"name": "local", "registry": "'"$A"'/x"}}' > hypertest.config.json
run_ht deploy
expect_rc 2 "auth registry without credentials"; expect_out "HYPERTEST_REGISTRY_USERNAME" "credentials hint"
pass "bad registry settings: exit 2 with a clear message"
