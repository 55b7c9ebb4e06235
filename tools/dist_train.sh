#!/usr/bin/env bash
# Train on GPUS processes per node with torchrun:
#   bash tools/dist_train.sh CONFIG GPUS [tools/train.py options]
# Multi-node: NNODES, NODE_RANK, MASTER_ADDR, PORT as in mmpretrain.
# TOOL (default train.py) names the tools/ script to launch; dist_test.sh
# sets it to test.py.

CONFIG=$1
GPUS=$2
TOOL=${TOOL:-train.py}
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}

PYTHONPATH="$(dirname $0)/..":$PYTHONPATH \
torchrun \
    --nnodes=$NNODES \
    --node_rank=$NODE_RANK \
    --master_addr=$MASTER_ADDR \
    --nproc_per_node=$GPUS \
    --master_port=$PORT \
    $(dirname "$0")/$TOOL \
    $CONFIG \
    --launcher pytorch ${@:3}
