#!/usr/bin/env bash
# Search on N processes of one machine (GPUs with NCCL; on a CPU-only machine
# KDRunner uses gloo):  bash tools/dist_search.sh CONFIG N [search.py args]
set -e
CONFIG=$1
GPUS=$2
if [ -z "$CONFIG" ] || [ -z "$GPUS" ]; then
    echo "usage: bash tools/dist_search.sh CONFIG NUM_PROCESSES [args]" >&2
    exit 2
fi
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}

PYTHONPATH="$(dirname "$0")/..":$PYTHONPATH \
python -m torch.distributed.run \
    --nnodes=$NNODES \
    --node_rank=$NODE_RANK \
    --master_addr=$MASTER_ADDR \
    --nproc_per_node=$GPUS \
    --master_port=$PORT \
    "$(dirname "$0")/search.py" \
    "$CONFIG" \
    --launcher pytorch "${@:3}"
