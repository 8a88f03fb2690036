#!/usr/bin/env bash
# MobileNetV2 training speed, Ppcls against the Python peer (Debian's PyTorch 1.13 +
# torchvision), measured side by side in one run: the runs alternate ROUNDS times so that a
# change in machine load hits all of them, and the last lines compare the medians of the
# per-round median step times (ratio > 1: Ppcls is faster) and list each round's ratio. Each round runs:
#   ppcls           ./ppcls benchmark step, as users run it (on jemalloc where libjemalloc2 is installed)
#   ppcls_glibc     the same on glibc's malloc with Ppcls's tuning (PPCLS_MALLOC_TUNING=glibc)
#   tv              torchvision's stock model, glibc with the same tuning (glibc's environment tunables)
#   tv_paddle       torchvision with the first block's expand conv that PaddleClas's architecture
#                   (Ppcls's) has and torchvision's lacks (4% more MACs): the same network
#   tv_paddle_jemalloc  the same network on jemalloc, preloaded exactly as ./ppcls does (scripts/jemalloc.sh)
#   scripts/benchmark-peer.sh [ROUNDS] [STEPS]        (defaults 2 and 5; batch 32, 224 px, 2 threads)
# Installs python3-torch and python3-torchvision with apt-get when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-2}
steps=${2:-5}
python=/usr/bin/python3

if ! "$python" -c "import torchvision" 2>/dev/null; then
    sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
    $sudo apt-get update -qq && $sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-torch python3-torchvision >/dev/null
fi
./ppcls --version >/dev/null # builds first when the sources changed, outside the timed runs

lines=$(mktemp -d)
trap 'rm -rf "$lines"' EXIT
ppcls_step=(./ppcls benchmark step --model MobileNetV2 --batch-size 32 --image-size 224 --steps "$steps")
peer=("$python" scripts/torchvision_peer.py --batch-size 32 --image-size 224 --steps "$steps" --threads 2)
glibc_tuning=(env MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=2147483647)
run() { # TAG COMMAND...: one run, its JSON line kept under TAG
    local tag=$1; shift
    "$@" 2>/dev/null | tail -1 | sed "s/^/$tag /" | tee -a "$lines/all"
}
for _ in $(seq "$rounds"); do
    run ppcls "${ppcls_step[@]}"
    run ppcls_glibc env PPCLS_MALLOC_TUNING=glibc "${ppcls_step[@]}"
    run tv "${glibc_tuning[@]}" "${peer[@]}"
    run tv_paddle "${glibc_tuning[@]}" "${peer[@]}" --paddle-arch
    run tv_paddle_jemalloc bash -c '. scripts/jemalloc.sh && exec "$@"' peer "${peer[@]}" --paddle-arch
done
"$python" - "$lines/all" <<'PY'
import json, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    tag, _, row = line.partition(" ")
    if row.startswith("{"):
        runs.setdefault(tag, []).append(json.loads(row)["median_ms"])
median = {tag: statistics.median(times) for tag, times in runs.items()}
for ours, peer in (("ppcls", "tv"), ("ppcls", "tv_paddle"), ("ppcls", "tv_paddle_jemalloc"), ("ppcls_glibc", "tv_paddle")):
    if ours in median and peer in median:
        print(json.dumps({"model": "MobileNetV2", "phase": f"{ours}/{peer}", "size": 224, "batch": 32, "threads": 2,
                          "median_ms": round(median[ours], 1), "samples_per_s": round(32000 / median[ours], 2),
                          "peer_median_ms": round(median[peer], 1), "peer_samples_per_s": round(32000 / median[peer], 2),
                          "ratio": round(median[peer] / median[ours], 3), "rounds": len(runs[ours]),
                          "round_ratios": [round(p / o, 3) for o, p in zip(runs[ours], runs[peer])]}))
PY
