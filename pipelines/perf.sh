#!/usr/bin/env bash
# Runs every benchmark (or the one named) and prints one JSON line each. Peers: ../shared/peers.
set -euo pipefail
cd "$(dirname "$0")/.."
exec .build/release/jdrl-bench "$@"
