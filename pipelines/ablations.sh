#!/usr/bin/env bash
# The ablation tables of docs/results.md: JDRL against the baseline and the paper's Table 4 ablations, every run at the
# budget of configs/jdrl-unet-cpu.yaml, all scored on the embedded default's held-out test captures
# (against the exactly aligned sharp image, whole image and defocused region, beside the blurry input).
#
# Usage: pipelines/ablations.sh [STEPS]    e.g. `make ablations` or `make ablations STEPS=1000`
# STEPS stops each run early (a shorter study; the schedule stays the config's). Runs live in
# runs/ablations/<name> and resume when re-run; the report goes to reports/ablations/.
set -euo pipefail
cd "$(dirname "$0")/.."
steps=${1:-}
bin=${BIN:-.build/release}
dataset=configs/datasets/embedded.yaml
manifest=$(sed -n 's/^manifest:[[:space:]]*\([^[:space:]#]*\).*/\1/p' "$dataset")
pairs=$(sed -n 's/^  pairs:[[:space:]]*\([^[:space:]#]*\).*/\1/p' "$dataset")
test -f "$manifest" || ./pipelines/make-patches.sh "$dataset"

configs=(configs/jdrl-unet-cpu.yaml configs/baseline-unet-cpu.yaml
         configs/ablations/no_deformation.yaml configs/ablations/no_mask.yaml
         configs/ablations/no_cycle.yaml configs/ablations/no_reblur.yaml)
for config in "${configs[@]}"; do
  echo "ablations: training $config${steps:+ ($steps steps)}"
  "$bin/jdrl-train" --config "$config" --manifest "$manifest" --runs runs/ablations ${steps:+--max-steps "$steps"}
done
"$bin/jdrl-eval" --manifest "$manifest" --split test --latest-checkpoints --runs runs/ablations \
  --pairs "$pairs" --report reports/ablations
