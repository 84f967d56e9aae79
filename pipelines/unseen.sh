#!/usr/bin/env bash
# Scores trained models on captures synthesised from photos the project never trained on: gain over the
# input, alignment and colour error per image (docs/results.md).
#
# Usage: pipelines/unseen.sh [PHOTOS [RUNS]]   e.g. `make benchmark-unseen`
# PHOTOS defaults to the development photos beside the peers, $JDRL_PEERS/../data/dev-photos
# (pipelines/peers-location.sh; not part of the repo: a user points it at any folder of sharp photos). Photos whose name starts with an embedded photo's name are left out, so nothing scored
# was seen in training. Every photo gives one test pair (jdrl-synth, width WIDTH, default 960), scored
# with each run's newest checkpoint under RUNS (default runs) against the exactly aligned sharp image.
# Work lives in work-data/unseen/, the manifest in data-manifests/unseen.sqlite, the report in
# reports/unseen/.
set -euo pipefail
cd "$(dirname "$0")/.."
. pipelines/peers-location.sh
photos=${1:-$JDRL_PEERS/../data/dev-photos}
runs=${2:-runs}
width=${WIDTH:-960}
bin=${BIN:-.build/release}
work=work-data/unseen
test -d "$photos" || { echo "unseen: no photo folder $photos (usage: pipelines/unseen.sh PHOTOS [RUNS]; or set JDRL_PEERS)" >&2; exit 65; }

embedded=()
for photo in datasets/embedded/photos/*; do embedded+=("$(basename "${photo%.*}")"); done
mkdir -p "$work/photos"
names=()
for photo in "$photos"/*; do
  case "${photo,,}" in *.jpg|*.jpeg|*.png|*.tif|*.tiff) ;; *) continue ;; esac
  name=$(basename "${photo%.*}")
  seen=no
  for e in "${embedded[@]}"; do [[ "$name" == "$e"* ]] && seen=yes; done
  [ $seen = no ] || continue
  ln -sfn "$(realpath "$photo")" "$work/photos/$(basename "$photo")"
  names+=("$name")
done
[ ${#names[@]} -gt 0 ] || { echo "unseen: no photo in $photos that the embedded dataset lacks" >&2; exit 64; }

config=$work/unseen.yaml
{
  echo "# Written by pipelines/unseen.sh: every photo is a test pair."
  echo "name: unseen"
  echo "root: $work/SDD"
  echo "layout: sdd"
  echo "manifest: data-manifests/unseen.sqlite"
  echo "patches: $work/patches"
  echo "size_tolerance: 4"
  echo "tiling: {protocol: sdd, size: 512, scale: 1.0, stride: 256, drop_least_sharp: 0.0, compression: 1}"
  echo "synthesis:"
  echo "  photos: $work/photos"
  echo "  pairs: $work/pairs"
  echo "  width: $width"
  echo "  seed: 2026"
  echo "  train_variants: 1"
  echo "  test: [$(IFS=,; echo "${names[*]}")]"
} > "$config"

echo "unseen: ${#names[@]} photos from $photos, scored at width $width"
"$bin/jdrl-synth" --config "$config"
status=0
"$bin/jdrl-ingest" --config "$config" || status=$?
if [ $status -ne 0 ] && [ $status -ne 3 ]; then exit $status; fi
"$bin/jdrl-eval" --manifest data-manifests/unseen.sqlite --split test --latest-checkpoints --runs "$runs" \
  --pairs "$work/pairs" --report reports/unseen
