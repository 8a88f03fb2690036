#!/usr/bin/env bash
# The main job on built-in defaults: set up, check the installation, and run the quick-start
# config end to end with what Ppcls can do today.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
./ppcls doctor
./ppcls models list
./ppcls models info PPLCNet_x0_25 --class-num 10 --image-size 64
./ppcls train -c configs/quick_start/PPLCNet_x0_25_demo.yaml --check
