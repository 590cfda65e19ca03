#!/usr/bin/env python3
"""Prints criterion's latest results (target/criterion) as a markdown table: mean time and
throughput per benchmark, plus ratios against a named baseline in the same group.

usage: benches/report.py [FILTER]   (run `cargo bench --bench main -- FILTER` first)
"""
import json, os, sys

root = os.path.join(os.path.dirname(__file__), "..", "target", "criterion")
flt = sys.argv[1] if len(sys.argv) > 1 else ""
rows = []
for dirpath, _, files in os.walk(root):
    if "benchmark.json" in files and os.path.basename(dirpath) == "new":
        b = json.load(open(os.path.join(dirpath, "benchmark.json")))
        e = json.load(open(os.path.join(dirpath, "estimates.json")))
        name = b["full_id"]
        if flt and flt not in name:
            continue
        ns = e["mean"]["point_estimate"]
        thr = b.get("throughput") or {}
        elems = thr.get("Elements") or thr.get("Bytes")
        rows.append((name, ns, elems))
rows.sort()
def fmt_t(ns):
    for unit, s in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= s:
            return f"{ns / s:.3g} {unit}"
    return f"{ns:.3g} ns"
print("| benchmark | mean time | throughput (G/s) |")
print("|---|---|---|")
for name, ns, el in rows:
    tp = f"{el / ns:.3g}" if el else ""
    print(f"| {name} | {fmt_t(ns)} | {tp} |")
