#!/usr/bin/env bash
# Runs tests/chaos/broker_crash_test.ts again and again beside CPU burners, to
# catch a subscriber that does not come back after a broker crash (it once
# stalled on a loaded machine). Not part of `deno task test`: it takes
# ~30 × 15 s.
#
#   bash tests/chaos/broker_crash_loop.sh [RUNS]     # default 30
#   BURNERS=2 bash tests/chaos/broker_crash_loop.sh  # busy loops beside it (default 1)
#
# Failed runs keep their output in tests/output/broker_crash_loop/.
set -uo pipefail
cd "$(dirname "$0")/../.."
runs="${1:-30}"
burners="${BURNERS:-1}"
out="tests/output/broker_crash_loop"
mkdir -p "$out"
pids=()
for _ in $(seq "$burners"); do
  (while :; do :; done) &
  pids+=($!)
done
trap 'kill "${pids[@]}" 2>/dev/null' EXIT
pass=0
fail=0
for i in $(seq "$runs"); do
  log="$out/run-$i.log"
  start=$(date +%s)
  if deno test --allow-all tests/chaos/broker_crash_test.ts >"$log" 2>&1; then
    pass=$((pass + 1))
    rm -f "$log"
    echo "run $i: ok ($(($(date +%s) - start)) s)"
  else
    fail=$((fail + 1))
    echo "run $i: FAILED ($(($(date +%s) - start)) s), output in $log"
  fi
done
echo "broker crash loop: $pass of $runs passed with $burners CPU burner(s)"
[ "$fail" -eq 0 ]
