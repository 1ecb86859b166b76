#!/bin/sh
# The CI gate end to end on the tiny model: profile a baseline twice, rerun the same
# configuration twice, inject a regression (static batching) twice, then gate both against the
# baseline. The rerun must pass (exit 0) and the regression must fail (exit 1); the script exits
# non-zero otherwise. JUnit XML and a Markdown summary land in $OUT (default: ./ci-gate-out).
#
#   scripts/ci-gate-example.sh [path/to/inferscope]
#
# Environment: OUT (output directory), REQUESTS (per run, default 12), REGRESSION (the injected
# change, default "--scheduler static"; try "--kv-layout contiguous --kv-blocks 16").
set -eu
BIN=${1:-.build/debug/inferscope}
OUT=${OUT:-ci-gate-out}
REQUESTS=${REQUESTS:-12}
REGRESSION=${REGRESSION:---scheduler static}
mkdir -p "$OUT"
common="--model tiny --workload mixed --requests $REQUESTS --rate 200 --seed 1 --threads 1 --no-probe"

for i in 1 2; do
  "$BIN" profile $common -o "$OUT/baseline-$i.json" >/dev/null
  "$BIN" profile $common -o "$OUT/rerun-$i.json" >/dev/null
  # shellcheck disable=SC2086
  "$BIN" profile $common $REGRESSION -o "$OUT/regression-$i.json" >/dev/null
done

status=0
if "$BIN" gate "$OUT/rerun-1.json" "$OUT/rerun-2.json" --baseline "$OUT/baseline-1.json" "$OUT/baseline-2.json" \
     --junit "$OUT/rerun.xml" --summary "$OUT/rerun.md"; then
  echo "ci-gate-example: rerun passed, as it should"
else
  echo "ci-gate-example: the rerun of the same configuration FAILED the gate" >&2; status=1
fi
if "$BIN" gate "$OUT/regression-1.json" "$OUT/regression-2.json" --baseline "$OUT/baseline-1.json" "$OUT/baseline-2.json" \
     --junit "$OUT/regression.xml" --summary "$OUT/regression.md"; then
  echo "ci-gate-example: the injected regression ($REGRESSION) PASSED the gate" >&2; status=1
else
  echo "ci-gate-example: regression ($REGRESSION) failed the gate, as it should"
fi
exit $status
