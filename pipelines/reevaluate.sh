#!/usr/bin/env bash
# make reevaluate: what cron runs. Ingests new blurry/sharp pairs dropped in an inbox folder
# (generic layout: NAME_blur.EXT / NAME_sharp.EXT, registered as the test split), scores each
# training run's newest checkpoint and the blurry input on the inbox captures not scored yet,
# appends the new rows to reports/history/history.{csv,md} and rewrites the inbox report.
#
# Usage: pipelines/reevaluate.sh INBOX
# Environment (the Makefile sets them): MANIFEST (default: the embedded dataset's manifest),
# RUNS (runs), REPORTS (reports), BIN (.build/release).
# Safe to run concurrently: a non-blocking flock on REPORTS/history/.reevaluate.lock; a second run
# exits 0 saying another run holds the lock. Idempotent: a run with nothing new says so.
# Exit status: 0 done (rejected inbox items are listed but do not fail the run); else the failing stage's.
set -uo pipefail
inbox=${1:?usage: pipelines/reevaluate.sh INBOX}
[ -d "$inbox" ] || { echo "reevaluate: inbox $inbox: no such folder" >&2; exit 65; }
inbox=$(cd "$inbox" && pwd)   # absolute: captures are registered under this root
cd "$(dirname "$0")/.."
bin=${BIN:-.build/release}
manifest=${MANIFEST:-$(awk '/^manifest:/{print $2}' configs/datasets/embedded.yaml)}
runs=${RUNS:-runs}
reports=${REPORTS:-reports}
history="$reports/history"
stamp() { date -u '+%Y-%m-%d %H:%M:%S UTC'; }

for tool in jdrl-ingest jdrl-eval; do
  [ -x "$bin/$tool" ] || { echo "reevaluate: $bin/$tool is not built (run: swift build -c release)" >&2; exit 1; }
done
mkdir -p "$history"

lock="$history/.reevaluate.lock"
exec 9>>"$lock"
if ! flock -n 9; then
  echo "reevaluate: $(stamp): another run holds the lock $lock (pid $(cat "$lock.pid" 2>/dev/null || echo unknown)); nothing done"
  exit 0
fi
echo $$ > "$lock.pid"
echo "reevaluate: $(stamp): inbox $inbox, manifest $manifest"

"$bin/jdrl-ingest" "$inbox" --manifest "$manifest" --layout generic --split test
ingest_status=$?
if [ $ingest_status -eq 3 ]; then
  echo "reevaluate: some inbox items were rejected (listed above); the others go on"
elif [ $ingest_status -ne 0 ]; then
  echo "reevaluate: jdrl-ingest failed (exit $ingest_status)" >&2; exit $ingest_status
fi

"$bin/jdrl-eval" --manifest "$manifest" --split test --root "$inbox" --latest-checkpoints --runs "$runs" \
  --report "$history/latest" --history "$history"
eval_status=$?
echo "reevaluate: $(stamp): done (jdrl-eval exit $eval_status); history in $history/history.md"
# jdrl-eval's 3 (some items failed, each named) is reported, like rejected inbox items, not fatal for cron.
[ $eval_status -eq 3 ] && exit 0
exit $eval_status
