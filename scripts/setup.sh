#!/usr/bin/env bash
# Installs every package the build, the tests and the example need. Idempotent.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

debs=(cmake g++ make pkg-config libcurl4-openssl-dev libssl-dev nlohmann-json3-dev
  libcli11-dev libarchive-dev zlib1g-dev libcpp-httplib-dev libgtest-dev libgmock-dev
  chromium bubblewrap passt docker-registry skopeo apache2-utils python3)

missing=()
for p in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo_cmd=()
  [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# JS side: pinned in package-lock.json files; never downloads a browser.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
for dir in examples/playwright tests/fixtures/playwright-statuses tests/fixtures/playwright-realworld \
    tools/aws-emulator tools/cloudformation; do
  if [[ -f "$here/$dir/package.json" ]]; then
    # Skip a directory installed from this very lockfile (its hash is kept in node_modules);
    # a changed lockfile is installed again.
    (cd "$here/$dir" && {
      sum=$(sha256sum package-lock.json | cut -d' ' -f1)
      if [[ "$(cat node_modules/.hypertest-lock-sha256 2>/dev/null)" != "$sum" ]]; then
        npm ci --no-audit --no-fund --loglevel=error
        echo "$sum" > node_modules/.hypertest-lock-sha256
      fi
    })
  fi
done
