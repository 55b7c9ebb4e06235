# Ablation of the demo tokenizer's target (docs/ablations.md): the
# teacher's last MBConv block (EfficientNet-Lite0 block 15, 320 channels,
# stride 32) instead of block 10 (112 channels, stride 16), at 128 px: a
# 4x4 map resampled to the 8x8 token grid. The paper distils the teacher's
# last layer (CLIP ViT-B/16's final tokens, paper §3.1).
# Pretraining on it: beitv2_demo_teacher-320d.py.
_base_ = ['../vqkd_demo_cifar10-subset.py']

model = dict(
    teacher=dict(block_index=15, input_size=128), decoder_out_dims=320)
work_dir = './work_dirs/ablations/teacher-b15-128px/vqkd'
