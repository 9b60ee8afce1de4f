#!/usr/bin/env python3
"""Median ratio per metric between two sides of an alternating benchmark log.

Each log line is `SIDE JSON`, JSON being one `bench` line (ours or the reference bench.py), the
two sides taking turns. Usage: python3 benches/ratios.py LOG TOP BOTTOM KEY...
prints, per KEY, the median of TOP/BOTTOM over the rounds and every round's ratio."""
import json
import statistics
import sys

log, top, bottom, keys = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
rows = {top: [], bottom: []}
for line in open(log):
    side, _, text = line.partition(" ")
    rows[side].append(json.loads(text))
for key in keys:
    ratios = [t[key] / b[key] for t, b in zip(rows[top], rows[bottom]) if b[key]]
    rounds = ", ".join(f"{r:.2f}" for r in ratios)
    print(f"{key:15s} {top}/{bottom}: median {statistics.median(ratios):.2f}  (rounds: {rounds})")
