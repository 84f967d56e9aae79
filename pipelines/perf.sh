#!/usr/bin/env bash
# Runs every benchmark (or the one named) and prints one JSON line each, ours against a peer
# measured in the same run. Peers live outside the repository, in $JDRL_PEERS (pipelines/peers-location.sh);
# its setup.sh installs today's PyTorch and ONNX Runtime in a virtual environment and prints that
# interpreter as its last word, which the PyTorch peers run on (JDRL_PEER_PYTHON, unless already set); benchmarks whose peer is missing
# say so in their JSON line.
set -euo pipefail
cd "$(dirname "$0")/.."
# No OPENBLAS_CORETYPE here: jdrl-bench gives each peer the OpenBLAS core that fits this CPU.
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}"
. pipelines/peers-location.sh
if [ -f "$JDRL_PEERS/setup.sh" ]; then
  if ready="$(bash "$JDRL_PEERS/setup.sh")"; then
    echo "$ready" >&2
    export JDRL_PEER_PYTHON="${JDRL_PEER_PYTHON:-${ready##* }}"
  else
    echo "perf: peer setup failed; peer columns may be missing" >&2
  fi
fi
exec .build/release/jdrl-bench "$@"
