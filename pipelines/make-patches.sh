#!/usr/bin/env bash
# make patches: (synthesise the embedded default if the config says so) -> ingest -> tile -> flows.
# Usage: pipelines/make-patches.sh CONFIG   (e.g. configs/datasets/embedded.yaml)
# Every stage skips finished work, so a second run does nothing and says so.
# Exit status: the first failing stage's; ingest's 3 ("some pairs rejected") does not stop tiling.
set -uo pipefail
cd "$(dirname "$0")/.."
config=${1:?usage: pipelines/make-patches.sh configs/datasets/NAME.yaml}
bin=${BIN:-.build/release}
started=$(date +%s)

if grep -q '^synthesis:' "$config"; then
  "$bin/jdrl-synth" --config "$config" || exit $?
fi

"$bin/jdrl-ingest" --config "$config"
ingest_status=$?
if [ $ingest_status -ne 0 ] && [ $ingest_status -ne 3 ]; then exit $ingest_status; fi

"$bin/jdrl-tile" --config "$config" || exit $?

# Flows both ways (blurry<->GT) and calibration masks for every kept patch: training's
# initialisation stage and the manifest flow source read them. A dataset whose GT is the aligned sharp
# image (synthesis.aligned_gt, the pretraining set) has nothing to align.
manifest=$(sed -n 's/^manifest:[[:space:]]*\([^[:space:]#]*\).*/\1/p' "$config")
if ! grep -Eq '^[[:space:]]+aligned_gt:[[:space:]]*true' "$config"; then
  "$bin/jdrl-flow" --manifest "${manifest:-data-manifests/jdrl.sqlite}" || exit $?
fi

# The manifest's patch rows and the patch files on disk must agree.
"$bin/jdrl-tile" --config "$config" --verify || exit $?

echo "make patches: done in $(( $(date +%s) - started )) s ($config)"
exit $ingest_status
