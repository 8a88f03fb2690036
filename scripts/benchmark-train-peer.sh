#!/usr/bin/env bash
# Real training, Ppcls against a plain PyTorch loop (Debian's PyTorch 1.13 + torchvision, stock
# MobileNetV2 in channels_last, scripts/torch_train_peer.py), on the same generated images and the
# same recipe: 10 classes of 32 px images (`ppcls dataset make-demo`), batch 128, SGD momentum 0.9,
# cosine LR 0.05 with a warm-up epoch, label smoothing 0.1, random crop + flip, 2 threads and 2
# loader workers, one evaluation at the end. The runs alternate ROUNDS times; each prints one JSON
# line (wall_s: the whole command, start-up included; top1: the final evaluation) and the last line
# compares the medians (ratio > 1: Ppcls trains faster).
#   scripts/benchmark-train-peer.sh [ROUNDS] [EPOCHS] [PER_CLASS]     (defaults 2, 3, 500: 4,000 training images)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-2}
epochs=${2:-3}
per_class=${3:-500}
. scripts/peer-python.sh # sets $python; installs the peer with OpenBLAS where missing
./ppcls --version >/dev/null # builds first when the sources changed, outside the timed runs

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
./ppcls dataset make-demo "$work/data" --classes 10 --per-class "$per_class" --size 32 >/dev/null
ppcls_train=(./ppcls train -c configs/quick_start/PPLCNet_x0_25_demo.yaml
    -o Arch.name=MobileNetV2 -o Global.epochs="$epochs" -o Global.eval_interval="$epochs" -o Global.save_interval="$epochs"
    -o Global.print_batch_step=1000 -o Global.output_dir="$work/out" -o "Global.image_shape=[3,32,32]" -o Global.num_threads=2
    -o DataLoader.Train.dataset.image_root="$work/data/" -o DataLoader.Train.dataset.cls_label_path="$work/data/train_list.txt"
    -o DataLoader.Eval.dataset.image_root="$work/data/" -o DataLoader.Eval.dataset.cls_label_path="$work/data/val_list.txt"
    -o DataLoader.Train.dataset.transform_ops.1.RandCropImage.size=32 -o DataLoader.Train.sampler.batch_size=128
    -o DataLoader.Eval.dataset.transform_ops.1.ResizeImage.resize_short=36 -o DataLoader.Eval.dataset.transform_ops.2.CropImage.size=32
    -o DataLoader.Eval.sampler.batch_size=128)
peer=("$python" scripts/torch_train_peer.py --root "$work/data" --train-list "$work/data/train_list.txt"
    --val-list "$work/data/val_list.txt" --classes 10 --epochs "$epochs" --size 32 --batch-size 128)
for _ in $(seq "$rounds"); do
    rm -rf "$work/out"
    start=$(date +%s%N)
    "${ppcls_train[@]}" > "$work/ppcls.log" 2>&1
    elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
    wall=$(printf '%d.%03d' $((elapsed_ms / 1000)) $((elapsed_ms % 1000)))
    top1=$(grep -o '\[Eval\]\[Epoch [0-9]*\]\[Avg\].*top1: [0-9.]*' "$work/ppcls.log" | tail -1 | sed 's/.*top1: //')
    echo "{\"model\": \"MobileNetV2\", \"phase\": \"ppcls_train\", \"size\": 32, \"batch\": 128, \"threads\": 2, \"epochs\": $epochs, \"wall_s\": $wall, \"top1\": ${top1:-null}}" | tee -a "$work/lines"
    env MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=2147483647 "${peer[@]}" 2>/dev/null | tail -1 | tee -a "$work/lines"
done
"$python" - "$work/lines" "$epochs" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
ours = [r["wall_s"] for r in rows if r["phase"] == "ppcls_train"]
peer = [r["wall_s"] for r in rows if r["phase"] == "train"]
epochs = int(sys.argv[2])
o, p = statistics.median(ours), statistics.median(peer)
print(json.dumps({"model": "MobileNetV2", "phase": "ppcls_train/torch_train_channels_last", "size": 32, "batch": 128, "threads": 2,
                  "epochs": epochs, "wall_s": round(o, 2), "epochs_per_s": round(epochs / o, 4), "peer_wall_s": round(p, 2),
                  "peer_epochs_per_s": round(epochs / p, 4), "ratio": round(p / o, 3),
                  "round_ratios": [round(b / a, 3) for a, b in zip(ours, peer)]}))
PY
