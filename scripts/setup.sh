#!/usr/bin/env bash
# Installs every system and Python dependency Preflight needs on Debian 12.
# Idempotent and quick when everything is already present.
# --bench also installs the peers benchmarks/peers/ times Preflight against (scripts/bench.sh passes it);
# the tests do not need them (tests/python/test_peers_bench.py skips the peers that are missing).
set -euo pipefail
BENCH=0
[ "${1:-}" = "--bench" ] && BENCH=1

APT_PACKAGES=(
  cmake ninja-build g++ clang clang-14 libclang-rt-14-dev ccache
  libpugixml-dev libsimdjson-dev libboost-dev libabsl-dev catch2 libbenchmark-dev
  python3-dev
  openjdk-17-jdk-headless libjna-java pkg-config
  libsodium-dev libssl-dev openssl wrk
  libcurl4-openssl-dev  # bindings/http: the upstream client (serve --upstream, snapshot pull)
  nlohmann-json3-dev  # fuzz/check_request_json_reference: the reference JSON parser
  libxxhash-dev  # engine/image: the compiled image's checksum (XXH3-64)
  libzstd-dev  # engine/model: the SCIM query documents, kept compressed (zstd frames)
)
PIP_PACKAGES=(pytest pybind11 scikit-build-core mypy matplotlib requests fastapi uvicorn pandas pyarrow dask distributed)
BENCH_PIP_PACKAGES=(cedarpy regopy casbin)  # benchmarks/peers: Cedar, OPA's Rego (rego-cpp), casbin
((BENCH)) && PIP_PACKAGES+=("${BENCH_PIP_PACKAGES[@]}")

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PY=${PYTHON:-python3}
pip_missing=()
for p in "${PIP_PACKAGES[@]}"; do
  mod=${p//-/_}
  "$PY" -c "import ${mod}" 2>/dev/null || pip_missing+=("$p")
done
if ((${#pip_missing[@]})); then
  echo "setup: pip installing ${pip_missing[*]}" >&2
  "$PY" -m pip install -q "${pip_missing[@]}"
fi
