#!/usr/bin/env bash
# Installs what is needed, builds with warnings as errors, runs unit and integration tests.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$here/scripts/setup.sh"
bash "$here/scripts/build.sh" ci
cd "$here/build/ci"
ctest --output-on-failure --timeout 900 "$@"
