#!/usr/bin/env bash
# One task of a stage's Slurm array (submitted by pipelines/slurm/patches.sh): snapshot the main manifest
# into this task's shard file, run STAGE on shard K of N, leave the shard for the merge job.
# Usage (inside sbatch --array): pipelines/slurm/stage-task.sh ingest|tile|flow|eval CONFIG [EVAL OPTIONS...]
set -euo pipefail
stage=${1:?stage}
config=${2:?config}
shift 2
bin=${JDRL_BIN:-.build/release}
k=${SLURM_ARRAY_TASK_ID:?run inside a Slurm array}
n=${SLURM_ARRAY_TASK_COUNT:?run inside a Slurm array}
threads=${SLURM_CPUS_PER_TASK:-1}
manifest=$(sed -n 's/^manifest:[[:space:]]*\([^[:space:]#]*\).*/\1/p' "$config")
name=$(basename "$manifest" .sqlite)
shards=data-manifests/shards/$name
mkdir -p "$shards"
shard=$shards/$stage-$k.sqlite
rm -f "$shard" "$shard-wal" "$shard-shm"
# The snapshot is a merge into an empty file: the same rows by content (ids may differ; merges match by content).
if [ -f "$manifest" ]; then "$bin/jdrl-manifest" merge --into "$shard" "$manifest" > /dev/null; fi
shard_config=$shards/$stage-$k.yaml
sed "s#^manifest:.*#manifest: $shard#" "$config" > "$shard_config"

echo "jdrl $stage: shard $k/$n of $config into $shard"
case $stage in
  ingest)
    status=0
    "$bin/jdrl-ingest" --config "$shard_config" --shard "$k/$n" --threads "$threads" || status=$?
    # 3: some pairs were rejected (named above, recorded with their reason): the others go on.
    if [ $status -ne 0 ] && [ $status -ne 3 ]; then exit $status; fi ;;
  tile) "$bin/jdrl-tile" --config "$shard_config" --shard "$k/$n" --threads "$threads" ;;
  flow) "$bin/jdrl-flow" --manifest "$shard" --shard "$k/$n" --threads "$threads" --output-directory "work-data/flows/$name" ;;
  eval)
    status=0
    "$bin/jdrl-eval" --manifest "$shard" --shard "$k/$n" --threads "$threads" "$@" || status=$?
    # 3: some captures failed (named above); the others were scored and are merged.
    if [ $status -ne 0 ] && [ $status -ne 3 ]; then exit $status; fi ;;
  *) echo "unknown stage $stage" >&2; exit 64 ;;
esac
