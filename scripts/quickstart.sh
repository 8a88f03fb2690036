#!/usr/bin/env bash
# The main job on built-in defaults: set up, check the installation, generate the synthetic
# demo data set, train the quick-start model on it and evaluate the best checkpoint.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
./ppcls doctor
[ -f dataset/demo/train_list.txt ] || ./ppcls dataset make-demo dataset/demo
./ppcls train -c configs/quick_start/PPLCNet_x0_25_demo.yaml "$@"
./ppcls eval -c configs/quick_start/PPLCNet_x0_25_demo.yaml "$@" \
  -o Global.pretrained_model=output/PPLCNet_x0_25/best_model
