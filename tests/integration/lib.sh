# shellcheck shell=bash
# Helpers for integration tests. Needs HT_BIN (directory with hypertest) and HT_SOURCE_DIR.
set -euo pipefail
: "${HT_BIN:?set HT_BIN to the directory holding hypertest}"
: "${HT_SOURCE_DIR:?set HT_SOURCE_DIR to the repository root}"
HT="$HT_BIN/hypertest"
# Where the local function host unpacks images (outside the project): beside the binaries, not
# in the user's own cache, unless the caller names one.
export HYPERTEST_CACHE_DIR="${HYPERTEST_CACHE_DIR:-$(cd "$HT_BIN/.." && pwd)/integration-cache}"
# shellcheck disable=SC2034  # ht_cache_dir is for the tests that source this file
ht_cache_dir="$HYPERTEST_CACHE_DIR"

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }

# Copies a project (with its node_modules) into a fresh temp dir; prints the copy's path.
copy_project() {
    local src="$1" dst
    dst="$(mktemp -d)"
    cp -a "$src/." "$dst/"
    rm -rf "$dst/.hypertest" "$dst/hypertest.results.json" "$dst/hypertest.junit.xml" "$dst/hypertest-report" "$dst/test-results"
    echo "$dst"
}

# Runs hypertest, capturing stdout+stderr in $out and the exit code in $rc.
run_ht() {
    set +e
    out="$("$HT" "$@" 2>&1)"
    rc=$?
    set -e
}

expect_rc() {
    local want="$1" what="$2"
    [[ "$rc" == "$want" ]] || fail "$what: exit code $rc, expected $want; output:
$out"
}

expect_out() {
    local needle="$1" what="$2"
    grep -qF -- "$needle" <<<"$out" || fail "$what: output lacks '$needle'; output:
$out"
}

json() { node -e "const j=JSON.parse(require('fs').readFileSync(process.argv[1],'utf8')); console.log(eval(process.argv[2]))" "$@"; }

# interrupt_ht <seconds> <args...>: runs hypertest in the background, sends SIGINT <seconds>
# after it printed [run:start], and waits for it. Sets out, rc and elapsed_ms (SIGINT to exit).
interrupt_ht() {
    local delay="$1" log pid start
    shift
    log="$(mktemp)"
    "$HT" "$@" >"$log" 2>&1 &
    pid=$!
    for _ in $(seq 1 300); do
        grep -qF "[run:start]" "$log" && break
        sleep 0.1
    done
    grep -qF "[run:start]" "$log" || { kill -9 "$pid"; fail "the run did not start: $(cat "$log")"; }
    sleep "$delay"
    start=$(date +%s%N)
    kill -INT "$pid"
    set +e
    wait "$pid"
    rc=$?
    set -e
    # shellcheck disable=SC2034  # elapsed_ms is for the caller
    elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
    out="$(cat "$log")"
    rm -f "$log"
}

# True when bubblewrap can create the sandbox the local host uses.
can_sandbox() { bwrap --ro-bind / / --unshare-all --new-session true 2>/dev/null; }

# The OCI architecture of this machine: amd64 or arm64.
host_arch() {
    case "$(uname -m)" in
      x86_64) echo amd64 ;;
      aarch64 | arm64) echo arm64 ;;
      *) fail "unsupported machine $(uname -m)" ;;
    esac
}
