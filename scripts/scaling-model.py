#!/usr/bin/env python3
"""Data-parallel speed-up on paper for N machines, from `ppcls benchmark dist` lines measured here.

Reads the JSON lines of scripts/benchmark-dist.sh on standard input. For each model with a ranks_1 and a
ranks_2 line (the first bucket size seen) it takes
  t_c      the one-rank step (ranks_1 median_ms: forward, backward, optimizer at this batch),
  buckets  their sizes (bucket_mib) and when each started in the 2-rank job, as a share of forward+backward
           (bucket_start_share; 1 = after backward),
and models one rank per machine with a ring all-reduce over a link of bandwidth W and per-message latency a:
  c_i      = 2 (N-1)/N * size_i / W + 2 (N-1) a             (one bucket)
  finish_i = max(start_share_i * t_c, finish_(i-1)) + c_i    (one all-reduce at a time, in bucket order)
  exposed  = finish_last - t_c                               (what the step waits for after backward)
  speed-up = N t_c / (t_c + exposed);  without overlap: N t_c / (t_c + sum c_i).
Buckets start at the same share of the step on a faster machine (the 10x row divides t_c by 10).
Usage: scripts/benchmark-dist.sh | python3 scripts/scaling-model.py   (or with a file of saved lines)
"""
import json
import sys

LATENCY_S = 30e-6  # one message over TCP on a data-centre Ethernet
LINKS = [(10, 1.25e9), (25, 3.125e9)]  # Gbit/s, bytes/s
NODES = [8, 32, 64]
MIB = 1048576


def finish_times(t_c, sizes, shares, n, w):
    finish, costs = 0.0, []
    for size, share in zip(sizes, shares):
        cost = 2 * (n - 1) / n * size * MIB / w + 2 * (n - 1) * LATENCY_S
        finish = max(share * t_c, finish) + cost
        costs.append(cost)
    return finish, sum(costs)


lines = [json.loads(l[l.index("{"):]) for l in sys.stdin if "{" in l]
models = {}
for line in lines:
    entry = models.setdefault(line["model"], {})
    if line["phase"] == "ranks_1" and "t_c" not in entry:
        entry["t_c"] = line["median_ms"] / 1000
    if line["phase"] == "ranks_2" and "sizes" not in entry:
        entry.update(sizes=line["bucket_mib"], shares=line["bucket_start_share"], batch=line["batch"], size=line["size"],
                     exposed_share=line["exposed_share"], mib=line["gradient_mib"])

print("| model (per-rank batch, input) | machine | link | " + " | ".join(f"N = {n}" for n in NODES) + " |")
print("|---|---|---|" + "---|" * len(NODES))
for name, m in models.items():
    if "t_c" not in m or "sizes" not in m:
        continue
    for label, t_c in [(f"this one, step {m['t_c'] * 1000:.0f} ms", m["t_c"]), ("10x faster", m["t_c"] / 10)]:
        for gbit, w in LINKS:
            cells = []
            for n in NODES:
                finish, total = finish_times(t_c, m["sizes"], m["shares"], n, w)
                exposed = max(0.0, finish - t_c)
                cells.append(f"{n * t_c / (t_c + exposed):.1f}x ({n * t_c / (t_c + total):.1f}x)")
            print(f"| {name} ({m['batch']}, {m['size']} px, {m['mib']:.1f} MiB in {len(m['sizes'])} buckets) | {label} | {gbit} Gbit/s | "
                  + " | ".join(cells) + " |")
