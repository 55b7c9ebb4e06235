# BEiT v2 ViT-B/16, 300 epochs on ImageNet-1k (docs/official.md §2.6): the
# primitive config of this folder. 16 GPUs x 128 = 2048 images per step.
# Train:  bash tools/dist_train.sh THIS_CONFIG 16 --amp \
#             --cfg-options model.target_generator.init_cfg.checkpoint=VQKD
_base_ = [
    '../_base_/models/beitv2_vit-base-p16.py',
    '../_base_/datasets/imagenet_bs128_beitv2.py',
    '../_base_/schedules/beitv2_adamw-coslr-300e.py',
    'mmpretrain::_base_/default_runtime.py',
]
default_scope = 'mmbeitv2'

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=100),
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=3))

# Log the MIM accuracies (acc_mim, acc_mim_agg and the majority-code
# baseline acc_mim_majority) averaged over the logging window, like losses.
log_processor = dict(
    window_size=100, mean_pattern=r'.*(loss|time|data_time|grad_norm|acc).*')

# seed 0 + rank as the official run; mmengine also seeds python random and
# numpy per dataloader worker (the mask generator uses both).
randomness = dict(seed=0, diff_rank_seed=True)

# The tokenizer has no trainable parameters, so DDP needs no unused
# parameter search.
find_unused_parameters = False
