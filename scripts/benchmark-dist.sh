#!/usr/bin/env bash
# Data-parallel figures for the README and the scaling model: `ppcls benchmark dist` on this machine,
# one rank (the baseline) against 2 and 4 ranks, all at ONE libtorch thread per rank (Global.num_threads=1),
# so that a rank's compute is the single-rank step's and the difference is communication and sharing.
# In every multi-rank job the steps alternate between the gradient all-reduce started during backward
# (the training setting) and started after it, so both are timed under the same load.
#   scripts/benchmark-dist.sh [ITERS]          (default 20; steps of each kind per job)
# Cases (per-rank batch, input):
#   PPHGNetV2_B0, batch 4, 64 px, buckets of 25 MiB (default) and 4 MiB: little compute per gradient byte
#   PPHGNetV2_B4, batch 8, 224 px, 25 MiB: the README's model, compute-bound
#   PPLCNet_x1_0, batch 8, 224 px, 25 MiB
# 4 ranks on a 2-core machine are oversubscribed (two ranks per core): their figures show the mechanics only.
set -euo pipefail
cd "$(dirname "$0")/.."
iters=${1:-20}
./ppcls --version >/dev/null # builds first when the sources changed, outside the timed runs
demo=configs/quick_start/PPLCNet_x0_25_demo.yaml
run() { # MODEL BATCH SIZE BUCKET_MB RANKS ITERS
    ./ppcls benchmark dist -c "$demo" -o Arch.name="$1" -o Arch.class_num=1000 -o Global.num_threads=1 \
        -o DataLoader.Train.sampler.batch_size="$2" -o DataLoader.Train.dataset.transform_ops.1.RandCropImage.size="$3" \
        -o Global.dist_bucket_mb="$4" --ranks "$5" --iters "$6" --warmup 2 2>/dev/null | sed "s/^/bucket_mb=$4 /"
}
run PPHGNetV2_B0 4 64 25 1,2,4 "$iters"
run PPHGNetV2_B0 4 64 4 1,2,4 "$iters"
run PPHGNetV2_B4 8 224 25 1,2 $(( (iters + 3) / 4 ))
run PPLCNet_x1_0 8 224 25 1,2 $(( (iters + 1) / 2 ))
