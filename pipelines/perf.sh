#!/usr/bin/env bash
# Runs every benchmark (or the one named) and prints one JSON line each, ours against a peer
# measured in the same run. Peers live outside the repository, in $JDRL_PEERS (pipelines/peers-location.sh;
# its setup.sh installs PyTorch, OpenCV, Pillow, pyvips, scikit-image); benchmarks whose peer is missing
# say so in their JSON line.
set -euo pipefail
cd "$(dirname "$0")/.."
# No OPENBLAS_CORETYPE here: jdrl-bench gives each peer the OpenBLAS core that fits this CPU.
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}"
. pipelines/peers-location.sh
peers="$JDRL_PEERS"
if [ -x "$peers/setup.sh" ] || [ -f "$peers/setup.sh" ]; then
  bash "$peers/setup.sh" >&2 || echo "perf: peer setup failed; peer columns may be missing" >&2
fi
exec .build/release/jdrl-bench "$@"
