#!/usr/bin/env bash
# Copies a pretraining run's newest weights into the folder the project ships (what `train.init_from` of the
# default configs names), with the run's resolved config and a PROVENANCE.md: steps, training time, CPU,
# photos and the weights' SHA-256. Usage: pipelines/ship-pretrained.sh [RUN_FOLDER [OUT]]
#   default: runs/pretrain-unet-cpu -> pretrained/unet-cpu
set -euo pipefail
cd "$(dirname "$0")/.."
run=${1:-runs/pretrain-unet-cpu}
out=${2:-pretrained/unet-cpu}
latest=$(sed -n 's/.*"folder" *: *"\([^"]*\)".*/\1/p' "$run/checkpoints/latest.json")
test -n "$latest" || { echo "ship-pretrained: $run has no checkpoint" >&2; exit 65; }
checkpoint="$run/checkpoints/$latest"
step=$(sed -n 's/.*"step" *: *\([0-9]*\).*/\1/p' "$checkpoint/state.json" | head -1)
mkdir -p "$out"
cp "$checkpoint/net_g.safetensors" "$out/.net_g.safetensors.partial" && mv "$out/.net_g.safetensors.partial" "$out/net_g.safetensors"
cp "$checkpoint/net_g.json" "$out/net_g.json"
cp "$run/config.yaml" "$out/config.yaml"
seconds=$(awk -F, 'NR > 1 { s += $NF } END { printf "%d", s }' "$run/curves.csv")
total=$(sed -n 's/.*training steps [0-9]*\.\.<[0-9]* of \([0-9]*\).*/\1/p' "$run/train.log" | tail -1)
cpu=$(lscpu | sed -n "s/^Model name: *//p")
family=$(sed -n 's/^cpu family\t*: //p' /proc/cpuinfo | head -1)
model=$(sed -n 's/^model\t*: //p' /proc/cpuinfo | head -1)
platform=$(grep -o 'oneDNN ISA [^;]*' "$run/train.log" | tail -1)
cat > "$out/PROVENANCE.md" <<EOT
# Pretrained network_g: where it comes from

- Made by \`make pretrain\` (stage 1: plain Charbonnier against the exactly aligned sharp image of pairs
  synthesised by \`configs/datasets/pretrain.yaml\`); the run's resolved config is \`config.yaml\` here.
- Photos: \`datasets/pretrain/photos.tsv\` and the embedded train photos; licences in
  \`datasets/pretrain/ATTRIBUTION.md\`. No evaluation photo is among them.
- Steps: $step of ${total:-?} (batch and crop in config.yaml), training time $((seconds / 60)) min
  (sum of the step times in curves.csv), shipped $(date -u +%Y-%m-%d).
- CPU: $cpu (family $family, model $model), 2 cores, $platform; the machine ran other work beside it.
- Weights: net_g.safetensors, SHA-256 $(sha256sum "$out/net_g.safetensors" | cut -d' ' -f1).
EOT
echo "ship-pretrained: step $step of $run -> $out"
