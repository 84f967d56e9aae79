#!/usr/bin/env bash
# `make patches` as a DAG of Slurm jobs: synthesis (if the config has a `synthesis` section), then one job
# array per per-item stage (ingest, tile, flow), each followed by a merge job, then the patch check.
#
# Usage: pipelines/slurm/patches.sh configs/datasets/NAME.yaml [TASKS]     (or: make patches SLURM=1)
# TASKS: array size of every stage (default 4). Environment: BIN (the release executables, default
# .build/release), SBATCH_ARGS (extra sbatch options for every job, e.g. "--partition=cpu --time=2:00:00"),
# CPUS (cores per task, default 1). Prints the job ids; logs go to work-data/slurm-logs/<manifest name>/.
#
# SQLite over NFS is not safe, so no two jobs write one manifest: every task of an array snapshots the main
# manifest into its own shard file (nothing writes the main one while an array runs), runs its stage on shard
# K of N of the items, and the merge job that follows folds the shards back (`jdrl-manifest merge`: by content,
# idempotent). Patch and flow files go straight to their shared folders: each item's files are its own.
set -euo pipefail
cd "$(dirname "$0")/../.."
config=${1:?usage: pipelines/slurm/patches.sh configs/datasets/NAME.yaml [TASKS]}
tasks=${2:-4}
bin=$(cd "${BIN:-.build/release}" && pwd)
manifest=$(sed -n 's/^manifest:[[:space:]]*\([^[:space:]#]*\).*/\1/p' "$config")
name=$(basename "$manifest" .sqlite)
logs=work-data/slurm-logs/$name
mkdir -p "$logs" "$(dirname "$manifest")"
read -r -a extra <<< "${SBATCH_ARGS:-}"

submit() {  # submit JOB-NAME DEPENDENCY ARRAY COMMAND...: prints the job id
  local job=$1 after=$2 array=$3; shift 3
  sbatch --parsable --chdir="$PWD" --job-name="jdrl-$job" --cpus-per-task="${CPUS:-1}" \
    --output="$logs/$job-%A_%a.log" ${after:+--dependency=afterok:$after} ${array:+--array=$array} \
    --export=ALL,JDRL_BIN="$bin" "${extra[@]}" "$@"
}

ids=()
previous=
if grep -q '^synthesis:' "$config"; then
  previous=$(submit synth "" "" --wrap "\"$bin/jdrl-synth\" --config \"$config\" --threads \${SLURM_CPUS_PER_TASK:-1}")
  ids+=("synth=$previous")
fi
for stage in ingest tile flow; do
  array=$(submit "$stage" "$previous" "0-$((tasks - 1))" pipelines/slurm/stage-task.sh "$stage" "$config")
  merge=$(submit "$stage-merge" "$array" "" --wrap "\"$bin/jdrl-manifest\" merge \"$manifest\" data-manifests/shards/$name/$stage-*.sqlite")
  ids+=("$stage=$array" "$stage-merge=$merge")
  previous=$merge
done
verify=$(submit verify "$previous" "" --wrap "\"$bin/jdrl-tile\" --config \"$config\" --verify")
ids+=("verify=$verify")
echo "slurm patches ($config, $tasks tasks per stage): ${ids[*]}"
echo "watch: squeue --name=jdrl-synth,jdrl-ingest,jdrl-tile,jdrl-flow,jdrl-verify; logs in $logs; then: $bin/jdrl-manifest status $manifest"
