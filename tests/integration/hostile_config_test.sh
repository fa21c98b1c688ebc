#!/usr/bin/env bash
# What a project and its config can slip into hypertest (issue 14, item 8 and config numbers):
# - secrets (.env, id_rsa, keys, .npmrc, .aws/, ...) are not in the image's layers, while
#   .hypertestignore can take one back with "!" and leave out a folder with "name/";
# - file modes are kept: 0600 stays 0600, 0755 stays 0755 (layers and the unpacked copy);
# - a functionName that is not ^[A-Za-z0-9_-]{1,64}$ ("../x", "a/b", one with a newline) is
#   refused with exit 2 naming it, before anything is written;
# - out-of-range numbers (1e400, negative, 1e30) are exit 2 with a message, never "internal error".
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=hostile_lib.sh
source "$here/hostile_lib.sh"

work="$(mktemp -d)"
trap 'hostile_cleanup "$work"' EXIT
export HYPERTEST_CACHE_DIR="$work/cache"
fault_project "$work/project" >/dev/null
cd "$work/project"

# --- secrets and .hypertestignore ----------------------------------------------------------
secrets=(.env .env.local id_rsa id_rsa.pub id_ed25519 tls.key key.pem cert.p12 cert.pfx .npmrc .netrc
         .aws/credentials .ssh/config .docker/config.json tests/.env tests/deep/id_rsa)
for f in "${secrets[@]}" .env.example secret-dir/token.txt keep-dir/ok.txt private.txt run.sh; do
    mkdir -p "$(dirname "$f")"
    echo "SECRET_VALUE_$RANDOM" >"$f"
done
chmod 0600 private.txt
chmod 0755 run.sh
cat >.hypertestignore <<'IGNORE'
# .env.example holds no secret: take it back from the defaults
!.env.example
secret-dir/
IGNORE
echo '{"testRunner": {"name": "playwright"}, "cloudProvider": {"name": "local"}}' >hypertest.config.json
run_ht deploy --quiet
expect_rc 0 "deploy of a project with secrets"

# "<mode> <path>" for every entry of every layer of the deployed image.
python3 - .hypertest/image hypertest >"$work/entries.txt" <<'PY'
import json, sys, tarfile
layout, tag = sys.argv[1:3]
blob = lambda d: f"{layout}/blobs/sha256/{d.split(':', 1)[1]}"
index = json.load(open(f"{layout}/index.json"))
ref = next(m for m in index["manifests"]
           if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag)
for layer in json.load(open(blob(ref["digest"])))["layers"]:
    with tarfile.open(blob(layer["digest"]), "r:*") as t:
        for e in t:
            print(f"{e.mode & 0o7777:04o} {e.name.rstrip('/')}")
PY
grep -q ' var/task/tests/ok.spec.ts$' "$work/entries.txt" || fail "the image lacks the specs: $(head "$work/entries.txt")"
in_image() { awk -v p="var/task/$1" '$2 == p {found = 1} END {exit !found}' "$work/entries.txt"; }
for f in "${secrets[@]}" .aws .ssh secret-dir secret-dir/token.txt; do
    ! in_image "$f" || fail "$f is in the image"
done
in_image .env.example || fail "!.env.example in .hypertestignore did not take .env.example back"
in_image keep-dir/ok.txt || fail "keep-dir/ok.txt (not ignored) is missing from the image"
! grep -rqs SECRET_VALUE_ "$HYPERTEST_CACHE_DIR/layers" --include=.env --include='id_*' --include=.npmrc ||
    fail "a secret file was unpacked into the layer cache"
pass "defaults leave out ${#secrets[@]} secret files; !.env.example keeps it; secret-dir/ is left out"

# --- file modes ----------------------------------------------------------------------------
mode_in_image() { awk -v p="var/task/$1" '$2 == p {print $1}' "$work/entries.txt"; }
[[ "$(mode_in_image private.txt)" == 0600 ]] || fail "private.txt has mode $(mode_in_image private.txt) in the image, not 0600"
[[ "$(mode_in_image run.sh)" == 0755 ]] || fail "run.sh has mode $(mode_in_image run.sh) in the image, not 0755"
unpacked="$(find "$HYPERTEST_CACHE_DIR/layers" -path '*/var/task/private.txt' | head -n 1)"
[[ -n "$unpacked" ]] || fail "private.txt was not unpacked into $HYPERTEST_CACHE_DIR/layers"
[[ "$(stat -c %a "$unpacked")" == 600 ]] || fail "unpacked private.txt has mode $(stat -c %a "$unpacked"), not 600"
pass "0600 stays 0600 and 0755 stays 0755, in the layer and unpacked"

# --- functionName ------------------------------------------------------------------------
for name in '../x' 'a/b' 'a\nb'; do
    rm -rf .hypertest
    echo '{"testRunner": {"name": "playwright"}, "cloudProvider": {"name": "local", "functionName": "'"$name"'"}}' >hypertest.config.json
    run_ht deploy --quiet
    expect_clean_failure "functionName \"$name\""
    expect_out "functionName" "functionName \"$name\""
    [[ ! -e .hypertest ]] || fail "functionName \"$name\": written before the check: $(find .hypertest | head)"
done
pass "functionName ../x, a/b and one with a newline: exit 2 naming it, nothing written"

# --- numbers out of range ------------------------------------------------------------------
check_number() {  # <JSON merged into the top level> <what> [key the message names]
    node -e 'const c = Object.assign({testRunner: {name: "playwright"}, cloudProvider: {name: "local"}}, JSON.parse(process.argv[1]));
             console.log(JSON.stringify(c).replace(/"__1e400__"/g, "1e400"))' "$1" >hypertest.config.json
    run_ht deploy --quiet
    expect_clean_failure "$2"
    [[ -n "$out" ]] || fail "$2: no message"
    [[ -z "${3:-}" ]] || expect_out "$3" "$2"
}
check_number '{"concurrency": "__1e400__"}' "concurrency 1e400"
check_number '{"cloudProvider": {"name": "local", "functionTimeout": "__1e400__"}}' "functionTimeout 1e400"
check_number '{"concurrency": -3}' "concurrency -3" concurrency
check_number '{"concurrency": 1e30}' "concurrency 1e30" concurrency
check_number '{"cloudProvider": {"name": "local", "functionTimeout": 1e30}}' "functionTimeout 1e30" functionTimeout
pass "1e400, -3 and 1e30 in the config: exit 2 with a message, no internal error"
