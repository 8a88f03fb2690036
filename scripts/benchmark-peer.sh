#!/usr/bin/env bash
# MobileNetV2 training speed, Ppcls against the Python peer (Debian's PyTorch 1.13 +
# torchvision), measured side by side in one run: the two alternate ROUNDS times so that a
# change in machine load hits both, and the last line compares the medians of the per-round
# median step times (ratio > 1: Ppcls is faster). The peer runs twice a round: torchvision's
# stock model, and with the first block's expand conv that PaddleClas's architecture (Ppcls's)
# has and torchvision's lacks (4% more MACs), so the same network is compared too.
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

# The peer gets the same allocator tuning as ppcls (glibc's environment tunables).
export MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=2147483647
lines=$(mktemp)
trap 'rm -f "$lines"' EXIT
for _ in $(seq "$rounds"); do
    ./ppcls benchmark step --model MobileNetV2 --batch-size 32 --image-size 224 --steps "$steps" 2>/dev/null | tail -1 | tee -a "$lines"
    "$python" scripts/torchvision_peer.py --batch-size 32 --image-size 224 --steps "$steps" --threads 2 | tee -a "$lines"
    "$python" scripts/torchvision_peer.py --batch-size 32 --image-size 224 --steps "$steps" --threads 2 --paddle-arch | tee -a "$lines"
done
"$python" - "$lines" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
ppcls = statistics.median(r["median_ms"] for r in rows if r["model"] == "MobileNetV2")
for peer_model in ("torchvision.mobilenet_v2", "torchvision.mobilenet_v2+paddle_arch"):
    peer = statistics.median(r["median_ms"] for r in rows if r["model"] == peer_model)
    print(json.dumps({"model": "MobileNetV2", "phase": "ppcls/" + peer_model,
                      "size": 224, "batch": 32, "threads": 2,
                      "median_ms": round(ppcls, 1), "samples_per_s": round(32000 / ppcls, 2),
                      "peer_median_ms": round(peer, 1), "peer_samples_per_s": round(32000 / peer, 2), "ratio": round(peer / ppcls, 3)}))
PY
