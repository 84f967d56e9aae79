#!/usr/bin/env bash
# make pretrain: stage 1 of two-stage training. Fetches the pretraining photos, makes the patches of exactly
# aligned pairs synthesised from them (make-patches.sh on configs/datasets/pretrain.yaml), then trains CONFIG
# (default configs/pretrain-unet-cpu.yaml). Every step skips finished work and training resumes from its
# newest checkpoint, so the stage can run in rounds (MAX_STEPS=N stops after N steps of this round).
# Usage: pipelines/pretrain.sh [CONFIG]
set -uo pipefail
cd "$(dirname "$0")/.."
config=${1:-configs/pretrain-unet-cpu.yaml}
dataset=configs/datasets/pretrain.yaml
bin=${BIN:-.build/release}
started=$(date +%s)

./pipelines/fetch-pretrain-photos.sh || exit $?
./pipelines/make-patches.sh "$dataset" || exit $?
echo "make pretrain: data ready in $(( $(date +%s) - started )) s"
"$bin/jdrl-train" --config "$config" --manifest data-manifests/pretrain.sqlite \
  ${MAX_STEPS:+--max-steps "$MAX_STEPS"} ${RUN_NAME:+--run-name "$RUN_NAME"}
