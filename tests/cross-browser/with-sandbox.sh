#!/usr/bin/env bash
# Runs the cross-browser flows against a private copy of the release build, with the sandbox
# identity provider and weather API, and stops everything afterwards. The sandbox's ports are
# shared, so run it under the ports lock:
#   flock /tmp/nimbus-ports.lock bash tests/cross-browser/with-sandbox.sh [run.mjs args...]
# NIMBUS_DIST (default dist) is the build to test; it is copied first, so a rebuild of it while
# the browsers run changes nothing under them.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$PWD/node_modules/.bin:$PATH"

source_dist=${NIMBUS_DIST:-dist}
[ -s "$source_dist/index.html" ] || { echo "no release build in $source_dist (trunk build --release)" >&2; exit 1; }
copy=$(mktemp -d /tmp/xb-dist.XXXXXX)
cp -a "$source_dist"/. "$copy"/

export SANDBOX_LOGS=${SANDBOX_LOGS:-/tmp/xb-sandbox-logs}
# shellcheck source=scripts/sandbox.sh
source scripts/sandbox.sh
trap 'sandbox_stop; rm -rf "$copy"' EXIT
sandbox_start_idp
sandbox_start_api
sandbox_start spa "http://127.0.0.1:8080/config.json" node tests/e2e/serve-dist.mjs "$copy" 8080
NIMBUS_DIST=$copy node tests/cross-browser/run.mjs "$@"
