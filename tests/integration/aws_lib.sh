# shellcheck shell=bash
# Set-up shared by the aws provider tests: docker-registry with htpasswd, tools/aws-emulator with
# one image function, the host base image and an example project configured for the aws provider.
# Source after lib.sh and registry_lib.sh. aws_start <function> [config extras] sets work, state,
# proj, KEY_ID, SECRET, REG_PASSWORD, BUCKET, REGION, EMU, EMU_URL, arch, outputs and exports the
# emulator's credentials and endpoint (no profile, no instance metadata); cleanup runs on EXIT.
EMU="$HT_SOURCE_DIR/tools/aws-emulator"
for t in docker-registry htpasswd node curl; do command -v $t >/dev/null || fail "$t missing: run scripts/setup.sh"; done
[[ -d "$EMU/node_modules/@smithy/signature-v4" ]] || fail "run npm ci in $EMU (scripts/setup.sh)"

work="$(mktemp -d)"
# Short state path: the emulator's function directories live under it.
state="$(mktemp -d /tmp/e.XXXX)"
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

KEY_ID="AKIDHYPERTESTE2E"
SECRET="e2eSecret/$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')+Key"
REG_PASSWORD="regpw-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
BUCKET="ht-e2e-results"
REGION="us-east-1"
# shellcheck disable=SC2034  # outputs is for the tests that source this file
outputs="$work/outputs.txt"

admin() { curl -sS -f -X "$1" -H 'Content-Type: application/json' ${3:+--data "$3"} "$EMU_URL/_emulator/$2"; }

# Writes hypertest.config.json in the current directory: aws_config <function> <bucket> <region> [extra top-level JSON]
aws_config() {
    cat > hypertest.config.json <<JSON
{ "testRunner": { "name": "playwright" }, "concurrency": 2${4:+, $4},
  "cloudProvider": { "name": "aws", "region": "$3", "functionName": "$1",
    "bucketName": "$2", "ecrRegistry": "$REG_ADDR/hypertest", "platform": "linux/$arch",
    "baseImage": "oci:$work/base:host-base", "lambdaUpdateMaxWaitTime": 120 } }
JSON
}

aws_start() {
    local fn="$1"
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
    local port
    port="$(awk '/^ready /{print $2; exit}' "$work/emulator.out")"
    [[ -n "$port" ]] || fail "the emulator did not report its port: $(cat "$work/emulator.err")"
    EMU_URL="http://127.0.0.1:$port"
    admin POST functions '{"name":"'"$fn"'","timeout":300,"memory":2048,"architectures":["x86_64"]}' > /dev/null ||
        fail "cannot create the function in the emulator"
    pass "emulator on $port, registry on $REG_ADDR (htpasswd user AWS)"

    arch="$(host_arch)"
    "$HT_SOURCE_DIR/scripts/make-host-base-image.sh" "$HT_BIN/hypertest-runner" "$work/base" >/dev/null

    cd "$proj" || fail "cannot enter $proj"
    aws_config "$fn" "$BUCKET" "$REGION" "${2:-}"
    # Only the emulator's credentials and endpoint: no profile, no instance metadata.
    export HOME="$work/home" AWS_ENDPOINT_URL="$EMU_URL" AWS_ACCESS_KEY_ID="$KEY_ID" AWS_SECRET_ACCESS_KEY="$SECRET"
    export AWS_REGION="$REGION" AWS_EC2_METADATA_DISABLED=true
    unset AWS_PROFILE AWS_SESSION_TOKEN AWS_DEFAULT_REGION AWS_CONFIG_FILE AWS_SHARED_CREDENTIALS_FILE 2>/dev/null || true
    mkdir -p "$HOME"
}
