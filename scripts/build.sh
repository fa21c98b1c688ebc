#!/usr/bin/env bash
# Configures and builds hypertest. Usage: scripts/build.sh [preset-like name: release|ci] [build dir]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
kind="${1:-release}"
dir="${2:-$here/build/$kind}"
args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo)
[[ "$kind" == ci ]] && args+=(-DHYPERTEST_WERROR=ON)
[[ "$kind" == release ]] && args+=(-DHYPERTEST_TESTS=OFF -DCMAKE_BUILD_TYPE=Release)
cmake -S "$here" -B "$dir" "${args[@]}" >/dev/null
cmake --build "$dir" -j"$(nproc)"
