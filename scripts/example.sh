#!/usr/bin/env bash
# The main job on a fresh machine: install what is needed, build hypertest, then run the
# example Playwright suite on the local provider (deploy + invoke in one `hypertest run`).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$here/scripts/setup.sh"
bash "$here/scripts/build.sh" release
cd "$here/examples/playwright"
exec "$here/build/release/bin/hypertest" run "$@"
