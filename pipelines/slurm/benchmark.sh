#!/usr/bin/env bash
# `make benchmark` on Slurm: a jdrl-eval job array over the captures of the test split (each task scores its
# shard into its own shard manifest), a merge job, then one job that prints and writes the whole table
# (jdrl-eval without --shard finds everything scored and only reports).
#
# Usage: pipelines/slurm/benchmark.sh configs/datasets/NAME.yaml [TASKS] [-- JDRL-EVAL OPTIONS...]
# Default options: --split test --latest-checkpoints --runs runs (and --pairs for synthesised datasets).
# Environment as for patches.sh (BIN, SBATCH_ARGS, CPUS). Prints the job ids.
set -euo pipefail
cd "$(dirname "$0")/../.."
config=${1:?usage: pipelines/slurm/benchmark.sh configs/datasets/NAME.yaml [TASKS] [-- OPTIONS...]}
shift
tasks=4
if [ $# -gt 0 ] && [ "$1" != -- ]; then tasks=$1; shift; fi
[ "${1:-}" = -- ] && shift
bin=$(cd "${BIN:-.build/release}" && pwd)
manifest=$(sed -n 's/^manifest:[[:space:]]*\([^[:space:]#]*\).*/\1/p' "$config")
pairs=$(sed -n 's/^  pairs:[[:space:]]*\([^[:space:]#]*\).*/\1/p' "$config")
name=$(basename "$manifest" .sqlite)
logs=work-data/slurm-logs/$name
mkdir -p "$logs"
options=("$@")
[ ${#options[@]} -gt 0 ] || options=(--split test --latest-checkpoints --runs runs ${pairs:+--pairs "$pairs"})
read -r -a extra <<< "${SBATCH_ARGS:-}"
submit() {
  local job=$1 after=$2 array=$3; shift 3
  sbatch --parsable --chdir="$PWD" --job-name="jdrl-$job" --cpus-per-task="${CPUS:-1}" \
    --output="$logs/$job-%A_%a.log" ${after:+--dependency=afterok:$after} ${array:+--array=$array} \
    --export=ALL,JDRL_BIN="$bin" "${extra[@]}" "$@"
}
quoted=$(printf ' %q' "${options[@]}")
array=$(submit eval "" "0-$((tasks - 1))" pipelines/slurm/stage-task.sh eval "$config" "${options[@]}")
merge=$(submit eval-merge "$array" "" --wrap "\"$bin/jdrl-manifest\" merge \"$manifest\" data-manifests/shards/$name/eval-*.sqlite")
table=$(submit eval-table "$merge" "" --wrap "\"$bin/jdrl-eval\" --manifest \"$manifest\"$quoted --report reports/benchmark/$name")
echo "slurm benchmark ($config, $tasks tasks): eval=$array eval-merge=$merge eval-table=$table"
