# shellcheck shell=bash
# Starts Debian's docker-registry (the reference distribution registry) on a free port with
# its own config, for tests and benchmarks. Source it; call stop_registries on exit.
# Sets REG_ADDR (127.0.0.1:<port>), REG_PID, REG_LOG (access log), REG_DATA (storage root).
REG_PIDS=()

free_port() {
    node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# start_registry <state-dir> [user password]  (with user: htpasswd Basic auth)
start_registry() {
    local state="$1" user="${2:-}" password="${3:-}" port auth=""
    command -v docker-registry >/dev/null || { echo "docker-registry is not installed (scripts/setup.sh)" >&2; return 1; }
    mkdir -p "$state"
    if [[ -n "$user" ]]; then
        htpasswd -Bbn "$user" "$password" > "$state/htpasswd"
        auth="auth: {htpasswd: {realm: basic-realm, path: $state/htpasswd}}"
    fi
    for _ in 1 2 3; do
        port="$(free_port)"
        cat > "$state/config.yml" <<YAML
version: 0.1
log: {level: warn, accesslog: {disabled: false}}
storage: {filesystem: {rootdirectory: $state/data}, delete: {enabled: true}}
http: {addr: 127.0.0.1:$port}
$auth
YAML
        docker-registry serve "$state/config.yml" > "$state/access.log" 2> "$state/registry.log" &
        REG_PID=$!
        REG_PIDS+=("$REG_PID")
        for _ in $(seq 100); do
            if curl -s -o /dev/null "http://127.0.0.1:$port/v2/"; then
                # shellcheck disable=SC2034  # REG_ADDR, REG_LOG and REG_DATA are for the caller
                REG_ADDR="127.0.0.1:$port" REG_LOG="$state/access.log" REG_DATA="$state/data"
                return 0
            fi
            kill -0 "$REG_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill "$REG_PID" 2>/dev/null || true
        wait "$REG_PID" 2>/dev/null || true
    done
    echo "docker-registry did not start; see $state/registry.log" >&2
    return 1
}

stop_registries() {
    local pid
    for pid in "${REG_PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    REG_PIDS=()
}

# Requests in the access log from line $2 on: "METHOD count" lines, sorted.
log_methods_since() {
    tail -n +"$2" "$1" | grep -oE '"(GET|HEAD|POST|PUT|PATCH|DELETE) ' | tr -d '"' | sort | uniq -c | awk '{print $2" "$1}'
}
log_lines() { wc -l < "$1"; }
