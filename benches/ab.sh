#!/usr/bin/env bash
# Two builds of fashion-cnn on one `bench` workload, alternately, ROUNDS times: prints each pass
# and the median ratio B/A. Alternating is what makes a before/after comparison on a shared, noisy
# machine worth quoting.
#
#   benches/ab.sh OLD_BINARY NEW_BINARY --preset seed000 --batch-size 512 --steps 4
#   (ROUNDS=5 THREADS=2)
set -euo pipefail
a=${1:?the first binary}; b=${2:?the second binary}; shift 2
rounds=${ROUNDS:-5}; threads=${THREADS:-2}
log=$(mktemp)
for round in $(seq "$rounds"); do
  for which in a b; do
    binary=$a; [ "$which" = b ] && binary=$b
    echo "$which $("$binary" --threads "$threads" bench "$@")" | tee -a "$log"
  done
done
python3 "$(dirname "$0")/ratios.py" "$log" b a images_per_sec peak_rss_mb
rm -f "$log"
