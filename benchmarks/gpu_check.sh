#!/usr/bin/env bash
# One-command GPU check, about 12 minutes on one GPU:
#   1. bf16 autocast vs fp32 losses, targets and gradients of one
#      pretraining and one VQ-KD step (ViT-B, batch 32, random weights);
#   2. fused SDPA with the float relative-position bias vs the plain path;
#   3. the training-throughput ratio mmbeitv2 / mmpretrain, pretraining,
#      ViT-B, batch 64, bf16 (benchmarks/benchmark_train.py);
#   4. the table of docs/benchmark.md on CUDA: fp32 / bf16 x eager /
#      compiled pretraining steps (ViT-S, ViT-B), the fine-tuning and VQ-KD
#      steps in bf16, and ViT-L with activation checkpointing (memory).
# Usage: bash benchmarks/gpu_check.sh [OUT_DIR]
# Results: OUT_DIR/checks.json, OUT_DIR/benchmark_pretrain_b64_bf16.json and
# the logs next to them (default OUT_DIR: work_dirs/gpu_check).
set -euo pipefail
cd "$(dirname "$0")/.."  # the repository root: python -m benchmarks.*
OUT=${1:-work_dirs/gpu_check}
mkdir -p "$OUT"
PYTHON=${PYTHON:-python}

"$PYTHON" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else "error: no CUDA device visible to torch")'
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv \
    > "$OUT/gpu.csv" 2>&1 || true

echo "== 1-2: bf16 vs fp32, SDPA float bias vs plain =="
timeout 240 "$PYTHON" -m benchmarks.gpu_check --device cuda \
    --arch base --batch-size 32 --out "$OUT/checks.json" \
    2>&1 | tee "$OUT/checks.log"

echo "== 3: throughput ratio, pretraining ViT-B, batch 64, bf16 =="
timeout 240 "$PYTHON" -m benchmarks.benchmark_train \
    --stage pretrain --arch base --batch-size 64 --img-size 224 \
    --dtype bf16 --device cuda --warmup 2 --steps 6 \
    --out "$OUT/benchmark_pretrain_b64_bf16.json" \
    2>&1 | tee "$OUT/benchmark.log"

echo "== 4: the throughput table (docs/benchmark.md) on CUDA =="
# name | benchmark_train options; each row keeps going if one fails
while read -r NAME OPTS; do
    [ -z "$NAME" ] && continue
    echo "-- $NAME: $OPTS"
    # shellcheck disable=SC2086
    timeout 150 "$PYTHON" -m benchmarks.benchmark_train $OPTS --device cuda \
        --warmup 2 --steps 6 --out "$OUT/table_$NAME.json" \
        > "$OUT/table_$NAME.log" 2>&1 || echo "   ($NAME failed: $OUT/table_$NAME.log)"
    grep -E "img/s|ratio" "$OUT/table_$NAME.log" || true
done <<'ROWS'
b64_fp32 --stage pretrain --arch base --batch-size 64 --dtype fp32
b64_bf16_compiled --stage pretrain --arch base --batch-size 64 --dtype bf16 --compile
s128_bf16 --stage pretrain --arch small --batch-size 128 --dtype bf16
ft_b64_bf16 --stage finetune --arch base --batch-size 64 --dtype bf16
vqkd_b64_bf16 --stage vqkd --arch base --batch-size 64 --dtype bf16 --no-ref
l32_bf16_cp --stage pretrain --arch large --batch-size 32 --dtype bf16 --with-cp --no-ref
ROWS
echo "done: $OUT"
