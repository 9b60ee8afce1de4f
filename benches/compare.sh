#!/usr/bin/env bash
# Runs `fashion-cnn bench` and a reference framework's bench.py alternately, ROUNDS times, and
# prints each pair and the median ratio ours/theirs per metric: on these shared, noisy machines
# only ratios measured side by side in one run count.
#
#   benches/compare.sh keras seed002 64 [--infer]        (ROUNDS=3 PYTHON=/tmp/ref-venv/bin/python)
set -euo pipefail
framework=${1:?keras or torch}; preset=${2:-seed002}; batch=${3:-64}; shift $(( $# < 3 ? $# : 3 ))
extra=("$@")
rounds=${ROUNDS:-3}; threads=${THREADS:-2}; python=${PYTHON:-/tmp/ref-venv/bin/python}
here=$(cd "$(dirname "$0")/.." && pwd)
reference=${REFERENCE:-$here/../shared/reference}
cargo build --release --quiet --manifest-path "$here/Cargo.toml"
ours="$here/target/release/fashion-cnn"
log=$(mktemp)
for round in $(seq "$rounds"); do
  "$ours" --threads "$threads" bench --preset "$preset" --batch-size "$batch" "${extra[@]}" | sed 's/^/ours /' | tee -a "$log"
  (cd "$reference" && "$python" bench.py --framework "$framework" --preset "$preset" --batch-size "$batch" \
      --threads "$threads" "${extra[@]}" 2>/dev/null | grep '^{' | sed 's/^/theirs /') | tee -a "$log"
done
python3 "$here/benches/ratios.py" "$log" ours theirs images_per_sec gflops peak_rss_mb
rm -f "$log"
