# Sourced by the pipelines that need the benchmarks' peers (perf.sh) or the development photos beside
# them (unseen.sh): the one shell line that reads the peers' location, JDRL_PEERS, with its default
# relative to the repository root. jdrl-bench reads the same variable (Sources/jdrl-bench/PeerLocations.swift).
export JDRL_PEERS="${JDRL_PEERS:-../shared/peers}"
