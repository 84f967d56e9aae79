#!/usr/bin/env bash
# The pretraining photos (datasets/pretrain/photos.tsv, licences in datasets/pretrain/ATTRIBUTION.md):
# downloads the Debian packages that hold them with `apt-get download` (never installs them), unpacks the
# listed files into OUT (default work-data/pretrain/photos), and adds the embedded train photos.
# Idempotent: a photo already in OUT is kept; the packages are kept in work-data/pretrain/debs.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-work-data/pretrain/photos}
list=datasets/pretrain/photos.tsv
debs=work-data/pretrain/debs
# Embedded photos that are not evaluation photos (the embedded test split is scored by make benchmark).
embedded_train=(aitzgorri life sunset analogpattern greentock)
mkdir -p "$out" "$debs"

missing=()
while IFS=$'\t' read -r name package path _; do
  [[ -z "$name" || "$name" == \#* ]] && continue
  [ -f "$out/$name.${path##*.}" ] || missing+=("$name")
done < "$list"

if [ ${#missing[@]} -gt 0 ]; then
  packages=$(grep -v '^#' "$list" | cut -f2 | sort -u)
  for package in $packages; do
    if ! ls "$debs/${package}"_*.deb >/dev/null 2>&1; then
      (cd "$debs" && apt-get download "$package" 2>/dev/null) || {
        sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
        $sudo apt-get update -qq
        (cd "$debs" && apt-get download "$package")
      }
    fi
    rm -rf "$debs/$package.unpacked.partial"
    dpkg-deb -x "$debs/${package}"_*.deb "$debs/$package.unpacked.partial"
    while IFS=$'\t' read -r name from path _; do
      [[ -z "$name" || "$name" == \#* || "$from" != "$package" ]] && continue
      source="$debs/$package.unpacked.partial/$path"
      test -f "$source" || { echo "fetch-pretrain-photos: $package has no $path ($list)" >&2; exit 65; }
      cp "$source" "$out/.$name.partial" && mv "$out/.$name.partial" "$out/$name.${path##*.}"
    done < "$list"
    rm -rf "$debs/$package.unpacked.partial"
  done
fi
for name in "${embedded_train[@]}"; do
  [ -f "$out/$name.jpg" ] || cp datasets/embedded/photos/$name.jpg "$out/$name.jpg"
done
echo "fetch-pretrain-photos: $(ls "$out" | wc -l) photos in $out"
