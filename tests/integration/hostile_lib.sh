# shellcheck shell=bash
# Helpers for the hostile-input tests (hostile_*_test.sh): a function, a base image or a project
# that attacks hypertest. Needs HT_BIN and HT_SOURCE_DIR (lib.sh); call hostile_cleanup on exit.
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=registry_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/registry_lib.sh"
# shellcheck source=faults_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/faults_lib.sh"
HOSTILE_HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# Exits 0 with "skip:" when bubblewrap cannot create a sandbox here (as session_test.sh does).
require_sandbox() {
    can_sandbox || { echo "skip: bubblewrap cannot create a sandbox here"; exit 0; }
}

# Stops the registries (hostile ones included) and removes the directories given.
hostile_cleanup() {
    stop_registries
    [[ $# -gt 0 ]] || return 0
    chmod -R u+w "$@" 2>/dev/null || true
    rm -rf "$@"
}

# start_hostile_registry <state-dir>: tests/integration/hostile_registry.js on free ports; sets
# HOSTILE_REG (127.0.0.1:<port>), HOSTILE_TOKEN_PORT and HOSTILE_AUTH_LOG.
start_hostile_registry() {
    local state="$1"
    mkdir -p "$state"
    node "$HOSTILE_HERE/hostile_registry.js" "$state" >"$state/server.log" 2>&1 &
    REG_PIDS+=("$!")  # stop_registries stops it
    for _ in $(seq 100); do
        [[ -f "$state/ports.json" ]] && break
        sleep 0.1
    done
    [[ -f "$state/ports.json" ]] || fail "hostile_registry.js did not start: $(cat "$state/server.log")"
    # shellcheck disable=SC2034  # for the caller
    HOSTILE_REG="127.0.0.1:$(json "$state/ports.json" j.registry)" \
        HOSTILE_TOKEN_PORT="$(json "$state/ports.json" j.token)" HOSTILE_AUTH_LOG="$state/auth.log"
    touch "$state/auth.log"
}

# Every Authorization header in a log of hostile_registry.js, decoded when Basic: one a line.
decoded_auth() {
    awk '$4 != "-" {print $4" "$5}' "$1" | while read -r scheme value; do
        if [[ "$scheme" == Basic ]]; then
            echo "Basic $(base64 -d <<<"$value" 2>/dev/null || echo "$value")"
        else
            echo "$scheme $value"
        fi
    done
}

# measure_ht <args...>: like run_ht, and sets peak_kb to hypertest's peak resident memory
# (KiB, VmHWM polled from /proc). Killed after HOSTILE_TIMEOUT seconds (default 90): rc 124 then.
measure_ht() {
    local log pid hwm killed="" deadline=$((SECONDS + ${HOSTILE_TIMEOUT:-90}))
    log="$(mktemp)"
    "$HT" "$@" >"$log" 2>&1 &
    pid=$!
    peak_kb=0
    while kill -0 "$pid" 2>/dev/null; do
        hwm="$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)"
        [[ -z "$hwm" || "$hwm" -le "$peak_kb" ]] || peak_kb="$hwm"
        if (( SECONDS >= deadline )); then
            killed=1
            kill -9 "$pid" 2>/dev/null || true
        fi
        sleep 0.05
    done
    set +e
    wait "$pid" 2>/dev/null
    rc=$?
    set -e
    [[ -z "$killed" ]] || rc=124
    out="$(cat "$log")"
    rm -f "$log"
}

# Exit 2 (not a crash or a signal), and no "internal error".
expect_clean_failure() {
    expect_rc 2 "$1"
    ! grep -qi "internal error" <<<"$out" || fail "$1: an internal error instead of a message:
$out"
}

# Fails when a file holds a raw escape that drives a terminal: OSC (ESC ]) or clear-screen (ESC [2J).
expect_no_raw_escapes() {
    ! grep -qaP '\x1b\]' "$1" || fail "$2: raw ESC ] (OSC: retitles the terminal) reached the terminal"
    ! grep -qaP '\x1b\[2J' "$1" || fail "$2: raw ESC [2J (clear screen) reached the terminal"
}
