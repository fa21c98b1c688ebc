#!/usr/bin/env bash
# Base images: deploy builds the image on cloudProvider.baseImage (an OCI layout on disk, or a
# registry image), reproducibly; the local host runs the runner inside the image; a base
# image of another platform is refused with exit 2.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/registry_lib.sh"
TOOL="$HT_BIN/ht_oci_tool"
for t in skopeo docker-registry; do command -v $t >/dev/null || fail "$t missing: run scripts/setup.sh"; done
work="$(mktemp -d)"
proj="$(copy_project "$HT_SOURCE_DIR/examples/playwright")"
trap 'stop_registries; chmod -R u+w "$work" "$proj"; rm -rf "$work" "$proj"' EXIT

arch="$(host_arch)"
if [[ "$arch" == amd64 ]]; then other=arm64; else other=amd64; fi

# The base image holds a copy of the real runner; in debug mode the runner logs its own path,
# so the function logs show which runner the host started.
"$HT_SOURCE_DIR/scripts/make-host-base-image.sh" "$HT_BIN/hypertest-runner" "$work/base" >/dev/null
export HT_RUNNER_DEBUG=1
base_layers="$(skopeo inspect "oci:$work/base:host-base" | json /dev/stdin 'j.Layers.length')"

config() {  # <baseImage> [extra cloudProvider JSON]
    echo '{"testRunner": {"name": "playwright"}, "concurrency": 2, "cloudProvider": {"name": "local", "platform": "linux/'"$arch"'", "baseImage": "'"$1"'"'"${2:-}"'}}' > hypertest.config.json
}
manifest_file=.hypertest/storage/_hypertest/hypertest/hypertest.manifest.json
image_digest() { json .hypertest/functions/hypertest/function.json j.imageDigest; }

cd "$proj"
# --- OCI layout on disk ---------------------------------------------------------------------
config "oci:$work/base:host-base"
run_ht run --quiet
expect_rc 0 "run on the oci: base"
total=$(json hypertest.results.json 'j.tests.total')
success=$(json hypertest.results.json 'j.tests.success')
[[ "$total" -ge 20 && "$total" == "$success" ]] || fail "$success of $total passed: $out"
grep -q "hypertest-runner $ht_cache_dir/rootfs/" .hypertest/functions/hypertest/logs/*.log ||
    fail "the host did not start the image's own runner: $(cat .hypertest/functions/hypertest/logs/*.log | head -20)"
pass "run on an oci: base image: $success/$total passed with the image's runner"

skopeo inspect "oci:.hypertest/image:hypertest" > "$work/inspect.json"
skopeo inspect --config "oci:.hypertest/image:hypertest" > "$work/config.json"
[[ "$(json "$work/inspect.json" 'j.Layers.length')" == "$((base_layers + 2))" ]] || fail "layers: $(cat "$work/inspect.json")"
[[ "$(json "$work/inspect.json" 'j.Layers[0]')" == "$(skopeo inspect "oci:$work/base:host-base" | json /dev/stdin 'j.Layers[0]')" ]] ||
    fail "the base layer does not come first"
[[ "$(json "$work/inspect.json" 'j.Architecture')" == "$arch" ]] || fail "architecture"
c() { json "$work/config.json" "$1"; }
[[ "$(c 'j.config.Entrypoint.join(" ")')" == "/usr/local/bin/hypertest-runner" ]] || fail "entrypoint: $(c 'j.config.Entrypoint')"
[[ "$(c 'j.config.WorkingDir')" == "/var/task" ]] || fail "working dir"
[[ "$(c 'j.config.Env.join(",")')" == "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin,HOME=/tmp,LAMBDA_TASK_ROOT=/var/task" ]] ||
    fail "env: $(c 'j.config.Env')"
[[ "$(c 'j.rootfs.diff_ids.length')" == "$((base_layers + 2))" ]] || fail "diff_ids"
[[ "$(c 'j.history.map(h=>h.created_by).join("|")')" == "make-host-base-image.sh: hypertest-runner|hypertest: dependencies|hypertest: tests" ]] ||
    fail "history: $(c 'j.history')"
skopeo copy -q "oci:.hypertest/image:hypertest" "dir:$work/copied" || fail "skopeo cannot copy the image"
[[ "$(json "$manifest_file" 'j.baseImage.reference')" == "oci:$work/base:host-base" ]] || fail "manifest lacks the base"
pass "image: base layers + 2, env merged, runner entrypoint, /var/task, history kept"

first="$(image_digest)"
run_ht deploy
expect_rc 0 "second deploy"
[[ "$(image_digest)" == "$first" ]] || fail "second deploy changed the digest: $first -> $(image_digest)"
rm -rf .hypertest/image .hypertest/cache .hypertest/functions
run_ht deploy
expect_rc 0 "deploy from scratch"
[[ "$(image_digest)" == "$first" ]] || fail "deploy from scratch gave another digest: $first -> $(image_digest)"
pass "same base + same inputs = same digest ($first), also from an empty image store"

# --- wrong platform -------------------------------------------------------------------------
mkdir -p "$work/armsrc/usr/local/bin" && cp "$HT_BIN/hypertest-runner" "$work/armsrc/usr/local/bin/"
"$TOOL" build "$work/other" other "$work/armsrc" --arch "$other" >/dev/null
config "oci:$work/other:other"
run_ht deploy
expect_rc 2 "base image of another platform"
expect_out "linux/$other" "wrong platform names the base's platform"
expect_out "linux/$arch" "wrong platform names the wanted platform"
expect_out "cloudProvider.baseImage" "wrong platform names the key"
echo '{"testRunner": {"name": "playwright"}, "cloudProvider": {"platform": "linux/s390x"}}' > hypertest.config.json
run_ht deploy
expect_rc 2 "unsupported platform"; expect_out "cloudProvider.platform" "unsupported platform"
config "ubuntu:22.04"
run_ht deploy
expect_rc 2 "base image without a host"; expect_out "cloudProvider.baseImage" "base image without a host"
config "oci:$work/nothere"
run_ht deploy
expect_rc 2 "missing layout"; expect_out "not an OCI image layout" "missing layout"
pass "wrong platform and bad baseImage values: exit 2 with a clear message"

# --- registry base, pushed to a registry target on the same host ---------------------------
start_registry "$work/reg"
R="$REG_ADDR"
"$HT_SOURCE_DIR/scripts/make-host-base-image.sh" "$HT_BIN/hypertest-runner" "$work/realbase" >/dev/null
skopeo copy -q --dest-tls-verify=false "oci:$work/realbase:host-base" "docker://$R/base:1"
rm -rf .hypertest
config "$R/base:1" ', "registry": "'"$R"'/app"'
run_ht run --quiet --grep "@smoke"
expect_rc 0 "run on a registry base"
expect_out "1 mounted" "the base layer is mounted from the base's repository, not uploaded"
n=$(json hypertest.results.json 'j.tests.total'); ok=$(json hypertest.results.json 'j.tests.success')
[[ "$n" -ge 1 && "$n" == "$ok" ]] || fail "$ok of $n passed: $out"
digest="$(image_digest)"
skopeo inspect --tls-verify=false "docker://$R/app:hypertest" > "$work/pushed.json"
[[ "$(json "$work/pushed.json" j.Digest)" == "$digest" ]] || fail "registry tag != function image"
[[ "$(json "$work/pushed.json" 'j.Layers.length')" == 3 ]] || fail "pushed layers: $(cat "$work/pushed.json")"
[[ "$(json "$manifest_file" 'j.baseImage.reference')" == "$R/base:1" ]] || fail "manifest lacks the base"
pass "registry base: pulled, image pushed with the base layer mounted, $ok/$n passed"

lines="$(log_lines "$REG_LOG")"
run_ht deploy
expect_rc 0 "unchanged deploy on a registry base"
[[ "$(image_digest)" == "$digest" ]] || fail "digest changed"
methods="$(log_methods_since "$REG_LOG" $((lines + 1)))"
! grep -qE "^(GET|POST|PUT|PATCH)" <<<"$methods" || fail "unchanged deploy did more than HEAD requests: $methods"
pass "unchanged deploy on a registry base: HEAD requests only"

"$TOOL" push "$work/other" other "$R/base:wrong" >/dev/null
config "$R/base:wrong"
run_ht deploy
expect_rc 2 "registry base of another platform"
expect_out "linux/$other" "registry wrong platform"; expect_out "linux/$arch" "registry wrong platform"
pass "registry base of another platform: exit 2"
