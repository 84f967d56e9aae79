#!/usr/bin/env bash
# jdrl-deblur over many images as a Slurm job array: task K of N deblurs every N-th image (K, K+N, ...).
# No manifest is written, so nothing needs merging; each output is written by jdrl-deblur on its own.
#
# Usage: pipelines/slurm/deblur.sh CHECKPOINT OUT_DIR TASKS IMAGE...
# Environment as for patches.sh (BIN, SBATCH_ARGS, CPUS). Prints the job id.
set -euo pipefail
cd "$(dirname "$0")/../.."
checkpoint=${1:?usage: pipelines/slurm/deblur.sh CHECKPOINT OUT_DIR TASKS IMAGE...}
out=${2:?out dir}
tasks=${3:?tasks}
shift 3
[ $# -gt 0 ] || { echo "deblur: no images given" >&2; exit 64; }
bin=$(cd "${BIN:-.build/release}" && pwd)
mkdir -p "$out" work-data/slurm-logs/deblur
list=$(mktemp -p work-data/slurm-logs/deblur images-XXXXXX.txt)
printf '%s\n' "$@" > "$list"
read -r -a extra <<< "${SBATCH_ARGS:-}"
job=$(sbatch --parsable --chdir="$PWD" --job-name=jdrl-deblur --cpus-per-task="${CPUS:-1}" --array="0-$((tasks - 1))" \
  --output="work-data/slurm-logs/deblur/deblur-%A_%a.log" "${extra[@]}" --wrap "
    mine=\$(awk -v k=\$SLURM_ARRAY_TASK_ID -v n=\$SLURM_ARRAY_TASK_COUNT '(NR - 1) % n == k' '$list')
    [ -z \"\$mine\" ] && exit 0
    mapfile -t images <<< \"\$mine\"
    '$bin/jdrl-deblur' --checkpoint '$checkpoint' --out-dir '$out' --threads \${SLURM_CPUS_PER_TASK:-1} \"\${images[@]}\"")
echo "slurm deblur ($# images, $tasks tasks): deblur=$job"
