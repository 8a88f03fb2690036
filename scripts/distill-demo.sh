#!/usr/bin/env bash
# SSLD on the demo data: does a student taught by a teacher on unlabelled images beat the same
# student trained alone on the labelled images? Makes the data (10 classes, 80 train + 20 val
# images each), keeps labels for the first 16 train images per class (160 images) and lists all
# 800 train images without labels, trains a PP-LCNet x1.0 teacher on the labelled 160, then per seed
# (E = EPOCHS, batches of 32: 5 iterations per epoch over the labelled list, 25 over the 800 paths):
#   alone E:    PP-LCNet x0.25 on the labelled 160 for E epochs (same epochs)
#   alone 5E:   the same for 5E epochs (same iterations as distilled: 5E x 5 = E x 25)
#   distilled:  configs/quick_start/PPLCNet_x0_25_ssld_demo.yaml, E epochs over the 800 paths
# and prints val top-1 (200 images), best / last epoch.
# Usage: scripts/distill-demo.sh [WORKDIR (default output/distill_demo)] [SEEDS (default "1 2 3 4 5")] [EPOCHS (default 40)]
# The data goes to $DATA (default dataset/distill_demo, where the SSLD config looks); PPCLS overrides
# the CLI command (default ./ppcls). Two runs go at a time, one thread each.
set -euo pipefail
cd "$(dirname "$0")/.."
work="${1:-output/distill_demo}"
seeds="${2:-1 2 3 4 5}"
epochs="${3:-40}"
ppcls="${PPCLS:-./ppcls}"
data="${DATA:-dataset/distill_demo}"
mkdir -p "$work" "$data"

if [ ! -f "$data/val_list.txt" ]; then
  $ppcls dataset make-demo "$data" --classes 10 --per-class 100 --seed 0
  awk '{n[$2]++; if (n[$2] <= 16) print}' "$data/train_list.txt" > "$data/labelled_list.txt.tmp"
  cut -d' ' -f1 "$data/train_list.txt" > "$data/unlabeled_list.txt.tmp"
  mv "$data/labelled_list.txt.tmp" "$data/labelled_list.txt"
  mv "$data/unlabeled_list.txt.tmp" "$data/unlabeled_list.txt"
fi

# train NAME CONFIG LIST [-o ...]: one run, its log in $work/NAME.log
train() {
  local name=$1 config=$2 list=$3
  shift 3
  $ppcls train -c "$config" -o Global.output_dir="$work/$name" -o Global.save_interval=1000 -o Global.num_threads=1 \
    -o DataLoader.Train.dataset.image_root="$data/" -o DataLoader.Train.dataset.cls_label_path="$list" \
    -o DataLoader.Eval.dataset.image_root="$data/" -o DataLoader.Eval.dataset.cls_label_path="$data/val_list.txt" \
    "$@" > "$work/$name.log" 2>&1
}

alone=configs/quick_start/PPLCNet_x0_25_demo.yaml
teacher="$work/teacher/PPLCNet_x1_0/best_model"
[ -f "$teacher.safetensors" ] || train teacher "$alone" "$data/labelled_list.txt" \
  -o Arch.name=PPLCNet_x1_0 -o Global.epochs=100 -o Global.eval_interval=5 -o Global.seed=42

for seed in $seeds; do
  train "alone_steps_s$seed" "$alone" "$data/labelled_list.txt" -o Global.epochs=$((5 * epochs)) -o Global.seed="$seed" &
  train "distilled_s$seed" configs/quick_start/PPLCNet_x0_25_ssld_demo.yaml "$data/unlabeled_list.txt" \
    -o Global.epochs="$epochs" -o Global.seed="$seed" -o Arch.models.0.Teacher.pretrained="$teacher"
  wait
done
for seed in $seeds; do
  train "alone_epochs_s$seed" "$alone" "$data/labelled_list.txt" -o Global.epochs="$epochs" -o Global.seed="$seed" &
  if [ $((seed % 2)) -eq 0 ]; then wait; fi
done
wait

# best / last val top-1 of a run's log
result() {
  local best last
  best=$(grep -o 'best top1 [0-9.]*' "$work/$1.log" | tail -1 | cut -d' ' -f3)
  last=$(grep '\[Eval\]\[Epoch [0-9]*\]\[Avg\]' "$work/$1.log" | tail -1 | grep -o 'top1: [0-9.]*' | cut -d' ' -f2)
  echo "$best $last"
}
echo "teacher PPLCNet_x1_0 (160 labelled images, 100 epochs): best top1 $(result teacher | cut -d' ' -f1)"
echo "seed | alone, $epochs epochs (best / last) | alone, $((5 * epochs)) epochs (same iterations) | distilled, $epochs epochs over 800 unlabelled"
for seed in $seeds; do
  row="$seed"
  for arm in alone_epochs alone_steps distilled; do
    read -r best last <<< "$(result "${arm}_s$seed")"
    row="$row | $best / $last"
  done
  echo "$row"
done | tee "$work/table.txt"
awk -F' [|/] ' '{for (i = 2; i <= NF; i++) sum[i] += $i} END {row = "mean"; for (i = 2; i <= NF; i++) row = row sprintf(" %s %.4f", i % 2 ? "/" : "|", sum[i] / NR); print row}' "$work/table.txt"
