#!/usr/bin/env bash
# MobileNetV2 training speed, Ppcls against the Python peer (Debian's PyTorch 1.13 + torchvision)
# at its best CPU setting, measured side by side in one run. Two cases: batch 32 at 224 px and
# batch 128 at 32 px (2 threads). In each round every run below starts in a fresh process, the
# runs alternating so that a change in machine load hits all of them:
#   ppcls              ./ppcls benchmark step as users run it: channels_last (Global.memory_format's default), jemalloc
#   ppcls_nchw         the same in NCHW (--memory-format contiguous)
#   tv                 torchvision's stock model, NCHW, glibc with Ppcls's tuning (glibc's environment tunables)
#   tv_cl              the same in torch.channels_last (model and batch): what PyTorch users run on CPU
#   tv_paddle_cl       channels_last, with the first block's 1x1 expand conv that PaddleClas's
#                      architecture (Ppcls's) has and torchvision's lacks (4% more MACs): the same network
#   tv_paddle_cl_jemalloc  the same network on jemalloc, preloaded exactly as ./ppcls does (scripts/jemalloc.sh)
# The last lines compare the medians of the per-round median step times (ratio > 1: Ppcls is
# faster), list each round's ratio, and name each case's best peer (its fastest run) with
# Ppcls's ratio against it.
#   scripts/benchmark-peer.sh [ROUNDS] [STEPS]        (defaults 3 and 5)
# Installs the peer (python3-torch, python3-torchvision, OpenBLAS: scripts/peer-python.sh) where missing.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
steps=${2:-5}
. scripts/peer-python.sh # sets $python; installs the peer with OpenBLAS where missing
./ppcls --version >/dev/null # builds first when the sources changed, outside the timed runs

lines=$(mktemp -d)
trap 'rm -rf "$lines"' EXIT
glibc_tuning=(env MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=2147483647)
run() { # CASE TAG COMMAND...: one run, its JSON line kept under CASE TAG
    local case=$1 tag=$2; shift 2
    "$@" 2>/dev/null | tail -1 | sed "s/^/$case $tag /" | tee -a "$lines/all"
}
for _ in $(seq "$rounds"); do
    for case in 224x32 32x128; do
        size=${case%x*} batch=${case#*x}
        ppcls_step=(./ppcls benchmark step --model MobileNetV2 --batch-size "$batch" --image-size "$size" --steps "$steps")
        peer=("$python" scripts/torchvision_peer.py --batch-size "$batch" --image-size "$size" --steps "$steps" --threads 2)
        run "$case" ppcls "${ppcls_step[@]}" --memory-format channels_last
        run "$case" ppcls_nchw "${ppcls_step[@]}" --memory-format contiguous
        run "$case" tv "${glibc_tuning[@]}" "${peer[@]}"
        run "$case" tv_cl "${glibc_tuning[@]}" "${peer[@]}" --channels-last
        run "$case" tv_paddle_cl "${glibc_tuning[@]}" "${peer[@]}" --paddle-arch --channels-last
        run "$case" tv_paddle_cl_jemalloc bash -c '. scripts/jemalloc.sh && exec "$@"' peer "${peer[@]}" --paddle-arch --channels-last
    done
done
"$python" - "$lines/all" <<'PY'
import json, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    case, tag, row = line.split(" ", 2)
    if row.startswith("{"):
        runs.setdefault(case, {}).setdefault(tag, []).append(json.loads(row)["median_ms"])
def line(case, ours, peer, phase):
    size, batch = map(int, case.split("x"))
    o, p = statistics.median(runs[case][ours]), statistics.median(runs[case][peer])
    return json.dumps({"model": "MobileNetV2", "phase": phase, "size": size, "batch": batch, "threads": 2,
                       "median_ms": round(o, 1), "samples_per_s": round(batch * 1000 / o, 2),
                       "peer_median_ms": round(p, 1), "peer_samples_per_s": round(batch * 1000 / p, 2),
                       "ratio": round(p / o, 3), "rounds": len(runs[case][ours]),
                       "round_ratios": [round(b / a, 3) for a, b in zip(runs[case][ours], runs[case][peer])]})
best = []
for case, tags in runs.items():
    for ours, peer in (("ppcls", "tv"), ("ppcls", "tv_cl"), ("ppcls", "tv_paddle_cl"), ("ppcls", "tv_paddle_cl_jemalloc"),
                       ("ppcls", "ppcls_nchw"), ("tv_cl", "tv")):
        if ours in tags and peer in tags:
            print(line(case, ours, peer, f"{ours}/{peer}"))
    peers = [t for t in tags if t.startswith("tv")]
    if "ppcls" in tags and peers:
        fastest = min(peers, key=lambda t: statistics.median(tags[t]))
        best.append(line(case, "ppcls", fastest, f"ppcls/best_peer={fastest}"))
print("\n".join(best))
PY
