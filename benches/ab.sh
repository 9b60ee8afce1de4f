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
python3 - "$log" <<'PY'
import json, statistics, sys
rows = {"a": [], "b": []}
for line in open(sys.argv[1]):
    which, _, text = line.partition(" ")
    rows[which].append(json.loads(text))
for key in ["images_per_sec", "peak_rss_mb"]:
    ratios = [b[key] / a[key] for a, b in zip(rows["a"], rows["b"])]
    print(f"{key:15s} B/A: median {statistics.median(ratios):.2f}  (rounds: {', '.join(f'{r:.2f}' for r in ratios)})")
PY
rm -f "$log"
