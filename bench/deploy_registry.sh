#!/usr/bin/env bash
# Deploy to a registry: a project with a 100 MB dependency layer (random, incompressible files
# under node_modules), first deploy and a redeploy after a one-line test change, against Debian's
# docker-registry on 127.0.0.1; compared with `skopeo copy` of the same image layout to a
# second, empty registry.
#
# Usage: bench/deploy_registry.sh [dependency-MB=100]
#
# Needs a built hypertest ($HT_BIN: a bin directory, default build/release/bin, else PATH),
# docker-registry and skopeo (scripts/setup.sh). Prints, per step, wall time, what the push
# reported and how many bytes the registry stored. Exits 1 when a step fails, 2 on bad usage.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$repo_root/tests/integration/registry_lib.sh"
mb="${1:-100}"
die() { echo "deploy_registry: $*" >&2; exit 2; }
[[ "$mb" =~ ^[1-9][0-9]*$ ]] || die "dependency-MB must be a positive integer, got '$mb'"
for t in node docker-registry skopeo; do command -v "$t" >/dev/null || die "$t is not installed (scripts/setup.sh)"; done
bin="$(realpath -m "${HT_BIN:-$repo_root/build/release/bin}")"
if [[ -x "$bin/hypertest" ]]; then hypertest="$bin/hypertest"; else hypertest="$(command -v hypertest)" || die "no hypertest; build it or set HT_BIN"; fi

work="$(mktemp -d)"
trap 'stop_registries; rm -rf "$work"' EXIT
proj="$work/project"
cp -a "$repo_root/examples/playwright/." "$proj/"
rm -rf "$proj/.hypertest"
mkdir -p "$proj/node_modules/bench-blob"
for i in $(seq "$mb"); do head -c 1048576 /dev/urandom > "$proj/node_modules/bench-blob/part-$i.bin"; done

start_registry "$work/reg-ht"; ht_reg="$REG_ADDR" ht_data="$REG_DATA"
start_registry "$work/reg-skopeo"; sk_reg="$REG_ADDR" sk_data="$REG_DATA"
echo '{"testRunner": {"name": "playwright"}, "cloudProvider": {"name": "local", "registry": "'"$ht_reg"'/bench/app"}}' > "$proj/hypertest.config.json"

now() { date +%s.%N; }
stored() { du -sb "$1" 2>/dev/null | cut -f1 || echo 0; }
mb_of() { awk -v b="$1" 'BEGIN { printf "%.1f MB", b / 1e6 }'; }

deploy() {  # <label>
    local before start end log="$work/deploy-$1.log"
    before="$(stored "$ht_data")"
    start="$(now)"
    (cd "$proj" && "$hypertest" deploy --quiet > "$log" 2>&1) || { cat "$log"; echo "deploy failed" >&2; exit 1; }
    end="$(now)"
    step() { grep -oE "$1 done \\([^)]*\\)" "$log" | grep -oE '[0-9.]+(ms|s)' || echo "-"; }
    printf '%-34s wall %6.2f s  push %-6s host pull %-6s stored %-10s %s\n' "hypertest deploy ($1)" \
        "$(awk -v a="$start" -v b="$end" 'BEGIN { print b - a }')" "$(step push)" "$(step 'update function')" \
        "$(mb_of $(( $(stored "$ht_data") - before )))" "$(grep -oE 'push done .*' "$log" | sed 's/^push done ([^)]*) //')"
}

skopeo_copy() {  # <label>
    local before start end
    before="$(stored "$sk_data")"
    start="$(now)"
    skopeo copy -q --dest-tls-verify=false "oci:$proj/.hypertest/image:hypertest" "docker://$sk_reg/bench/app:hypertest"
    end="$(now)"
    printf '%-34s wall %6.2f s                              stored %s\n' "skopeo copy ($1)" \
        "$(awk -v a="$start" -v b="$end" 'BEGIN { print b - a }')" "$(mb_of $(( $(stored "$sk_data") - before )))"
}

echo "dependency layer: $mb MB of random files; hypertest $("$hypertest" --version 2>/dev/null | head -1)"
deploy "first"
skopeo_copy "first"
deploy "unchanged"
skopeo_copy "unchanged"
echo "// one-line change" >> "$(find "$proj/tests" -name '*.spec.*' | sort | head -1)"
deploy "one-line change"
skopeo_copy "one-line change"
