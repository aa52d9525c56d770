#!/usr/bin/env bash
# Installs what is missing, builds, and answers the documented CheckedPolicyViolations
# request (examples/request.json) from the bundled demo snapshot.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
mkdir -p build
BUILD_DIR=build/demo bash scripts/build.sh -DPREFLIGHT_PYTHON=OFF -DPREFLIGHT_TESTS=OFF \
  >build/demo-build.log 2>&1 || { tail -50 build/demo-build.log; exit 1; }
echo "\$ preflight check --snapshot examples/demo-snapshot --request examples/request.json --pretty" >&2
build/demo/preflight check --snapshot examples/demo-snapshot --request examples/request.json --pretty
