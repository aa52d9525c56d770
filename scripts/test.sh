#!/usr/bin/env bash
# Installs what is missing, builds everything, and runs every test: the Catch2 suite
# through CTest, the Java binding's test, then the Python tests (module, CLI, workload generator) through pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
mkdir -p build
bash scripts/build.sh -DPREFLIGHT_PYTHON=ON -DPREFLIGHT_TESTS=ON
ctest --test-dir build/release --output-on-failure -j"$(nproc)" -E '^python_tests$'
bash bindings/java/test.sh build/release
PYTHONPATH="$PWD/build/release/python" PREFLIGHT_CLI="$PWD/build/release/preflight" \
  python3 -m pytest -q -p no:cacheprovider tests/python
