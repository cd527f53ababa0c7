#!/usr/bin/env bash
# Installs every missing build and test dependency of pel from Debian 12 packages.
# Idempotent: packages already installed are left alone, and apt-get runs only if something is
# missing. Needs root (or sudo).
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build pkg-config g++ clang clang-format libclang-rt-14-dev shellcheck
  # libraries
  libssl-dev libsecp256k1-dev libboost-dev nlohmann-json3-dev libsimdjson-dev libspdlog-dev libfmt-dev
  libleveldb-dev libtbb-dev libcli11-dev prometheus-cpp-dev libjemalloc-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev
  # benchmark plots and scripts (scripts/bench.sh, scripts/compare-anvil.sh)
  gnuplot-nox jq curl python3
)
# End-to-end tests run real JavaScript clients (ethers, viem, solc from npm): Debian's Node.js
# unless a node is already on the PATH.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "setup: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  SUDO="sudo"
fi
echo "setup: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
