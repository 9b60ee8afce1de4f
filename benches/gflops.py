#!/usr/bin/env python3
"""Prints GFLOP/s per criterion benchmark of `cargo bench --bench conv` (median time), reading
target/criterion/*/*/*/new/{estimates,benchmark}.json. Usage: python3 benches/gflops.py"""
import glob
import json
import os

rows = []
for est in sorted(glob.glob("target/criterion/*/*/*/new/estimates.json")):
    folder = os.path.dirname(est)
    bench = json.load(open(os.path.join(folder, "benchmark.json")))
    flops = (bench.get("throughput") or {}).get("Elements")
    if not flops:
        continue
    median_ns = json.load(open(est))["median"]["point_estimate"]
    rows.append((bench["full_id"], median_ns / 1e6, flops / median_ns))
for name, ms, gflops in rows:
    print(f"{name:48s} {ms:9.3f} ms  {gflops:7.1f} GFLOP/s")
