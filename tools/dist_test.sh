#!/usr/bin/env bash
# Test a checkpoint on GPUS processes per node with torchrun (dist_train.sh
# launching test.py; same multi-node variables):
#   bash tools/dist_test.sh CONFIG CHECKPOINT GPUS [tools/test.py options]

CONFIG=$1
CHECKPOINT=$2
GPUS=$3
TOOL=test.py bash "$(dirname "$0")/dist_train.sh" "$CONFIG" "$GPUS" \
    "$CHECKPOINT" "${@:4}"
