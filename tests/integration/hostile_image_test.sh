#!/usr/bin/env bash
# A hostile base-image registry (tests/integration/hostile_registry.js) against `hypertest
# deploy` with the local provider (issue 14, items 3, 4 and 5). The push registry is Debian's
# docker-registry with htpasswd; HYPERTEST_REGISTRY_USERNAME/PASSWORD are set for it.
# - a layer with setuid, setgid and world-writable entries unpacks without those bits;
# - the push registry's credentials never reach the base registry (Basic) nor a token service on
#   another host:port (Bearer); HYPERTEST_BASE_REGISTRY_* are what the base registry gets;
# - a 1 GiB manifest, a manifest or index nested 300000 deep, an endless layer blob, and a layer
#   past cloudProvider.unpackLimits.maxBytes: exit 2 with a message, no crash, bounded memory.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=hostile_lib.sh
source "$here/hostile_lib.sh"
for t in docker-registry htpasswd; do command -v $t >/dev/null || fail "$t missing: run scripts/setup.sh"; done

work="$(mktemp -d)"
trap 'hostile_cleanup "$work"' EXIT
export HYPERTEST_CACHE_DIR="$work/cache"
push_password="push-pw-$RANDOM$RANDOM"
start_registry "$work/push" pushuser "$push_password"
PUSH="$REG_ADDR"
export HYPERTEST_REGISTRY_USERNAME=pushuser HYPERTEST_REGISTRY_PASSWORD="$push_password"
unset HYPERTEST_BASE_REGISTRY_USERNAME HYPERTEST_BASE_REGISTRY_PASSWORD
start_hostile_registry "$work/hostile"
H="$HOSTILE_REG"
fault_project "$work/project" >/dev/null
cd "$work/project"

arch="$(host_arch)"
config() {  # <repository of the hostile registry> [extra cloudProvider JSON]
    echo '{"testRunner": {"name": "playwright"}, "cloudProvider": {"name": "local", "platform": "linux/'"$arch"'",
      "functionName": "'"$1"'", "baseImage": "'"$H/$1/img:1"'", "registry": "'"$PUSH"'/app"'"${2:-}"'}}' > hypertest.config.json
}
# The push password must never appear in what the hostile registry or its token service saw.
expect_no_leak() {
    local seen
    seen="$(decoded_auth "$HOSTILE_AUTH_LOG")"
    ! grep -qF -- "$push_password" <<<"$seen" ||
        fail "$1: the push registry's password was sent to $2: $(grep -F -- "$push_password" <<<"$seen" | sort -u)"
}

# --- item 3: setuid, setgid and world-writable bits -----------------------------------------
config modes
measure_ht deploy --quiet
expect_rc 0 "deploy on a base with setuid/setgid/world-writable entries"
[[ -n "$(find "$HYPERTEST_CACHE_DIR/rootfs" -path '*/bin/suid' -type f)" ]] ||
    fail "the base layer was not unpacked into $HYPERTEST_CACHE_DIR/rootfs"
bits="$(find "$HYPERTEST_CACHE_DIR" ! -type l -perm /6002 -printf '%m %p\n')"
[[ -z "$bits" ]] || fail "setuid, setgid or world-writable entries in the layer cache:
$bits"
suid="$(find "$work" ! -type l -perm /6000 -printf '%m %p\n')"
[[ -z "$suid" ]] || fail "setuid/setgid files on the host: $suid"
pass "base layer unpacked without setuid, setgid or world-writable bits"

# --- item 4: credentials are scoped to the push registry ------------------------------------
config basic
measure_ht deploy --quiet
expect_no_leak "Basic challenge of the base registry" "the base registry $H"
expect_clean_failure "base registry asking for Basic auth, no base credentials"
pass "a base registry asking for Basic auth gets no push credentials (exit 2)"

HYPERTEST_BASE_REGISTRY_USERNAME=base HYPERTEST_BASE_REGISTRY_PASSWORD=basepass measure_ht deploy --quiet
expect_no_leak "Basic challenge with base credentials" "the base registry $H"
expect_rc 0 "base registry with HYPERTEST_BASE_REGISTRY_USERNAME/PASSWORD"
decoded="$(decoded_auth "$HOSTILE_AUTH_LOG")"
grep -qxF "Basic base:basepass" <<<"$decoded" ||
    fail "the base registry never got HYPERTEST_BASE_REGISTRY_*: $(sort -u <<<"$decoded")"
pass "the base registry gets HYPERTEST_BASE_REGISTRY_USERNAME/PASSWORD, the push registry its own"

# With base credentials set, so that there is something to withhold.
config bearer
HYPERTEST_BASE_REGISTRY_USERNAME=base HYPERTEST_BASE_REGISTRY_PASSWORD=basepass measure_ht deploy --quiet
expect_no_leak "Bearer realm on another port" "the token service 127.0.0.1:$HOSTILE_TOKEN_PORT"
expect_rc 0 "base registry with a Bearer realm on another host:port (anonymous token)"
grep '^token ' "$HOSTILE_AUTH_LOG" >"$work/token.log" || fail "the token service was never asked"
awk '$4 != "-"' "$work/token.log" | grep -q . &&
    fail "the plain-HTTP token service on another port got an Authorization header: $(decoded_auth "$work/token.log")"
expect_out "not sending credentials to the token service" "Bearer realm on another port: the warning"
pass "a plain-HTTP token service on another host:port is asked anonymously; the deploy still works"

# --- item 5: bounded inputs ---------------------------------------------------------------
config big
measure_ht deploy --quiet
expect_clean_failure "1 GiB manifest"
expect_out "4194304" "1 GiB manifest: the cap"
(( peak_kb < 300000 )) || fail "1 GiB manifest: peak memory $((peak_kb / 1024)) MiB"
pass "1 GiB manifest: exit 2 at the 4 MiB cap, peak memory $((peak_kb / 1024)) MiB"

for repo in deep deepindex; do
    config "$repo"
    measure_ht deploy --quiet
    expect_clean_failure "$repo: nested 300000 deep"
    expect_out "nested deeper than 256 levels" "$repo: nested 300000 deep"
done
pass "a manifest and an index nested 300000 deep: exit 2 naming the depth limit"

config endless
HOSTILE_TIMEOUT=30 measure_ht deploy --quiet
[[ "$rc" != 124 ]] || fail "endless blob: deploy still running after 30 s"
expect_clean_failure "endless layer blob"
expect_out "123457" "endless layer blob: the descriptor's size"
pass "endless layer blob: cut off at the descriptor's size, exit 2"

config large ', "unpackLimits": {"maxBytes": 1048576}'
measure_ht deploy --quiet
expect_clean_failure "layer past unpackLimits.maxBytes"
expect_out "unpackLimits.maxBytes" "layer past unpackLimits.maxBytes"
! grep -q "unknown key" <<<"$out" || fail "unpackLimits is not a known key: $out"
pass "a 2 MiB file past unpackLimits.maxBytes 1048576: exit 2 naming the limit"
