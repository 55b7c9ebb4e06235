#!/usr/bin/env bash
# Test a checkpoint under Slurm (slurm_train.sh launching test.py; same
# GPUS / GPUS_PER_NODE / CPUS_PER_TASK / SRUN_ARGS variables):
#   GPUS=8 bash tools/slurm_test.sh PARTITION JOB_NAME CONFIG CHECKPOINT \
#       [tools/test.py options]

TOOL=test.py TOOL_ARGS="$4" bash "$(dirname "$0")/slurm_train.sh" \
    "$1" "$2" "$3" "" "${@:5}"
