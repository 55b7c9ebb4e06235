# BEiT v2 pretraining schedule (docs/official.md §2.6, PRETRAINING.md):
# absolute lr 1.5e-3 for a total batch of 2048 (not scaled by batch size),
# AdamW betas (0.9, 0.98) for 300 epochs, wd 0.05, clip 3.0, 10 warmup epochs
# from ~0, then per-iteration cosine to 1e-5.
#
# Optimizer groups: mmpretrain's LearningRateDecayOptimWrapperConstructor with
# layer_decay_rate=1.0 (every lr scale is 1: no layer decay in pretraining). It
# skips parameters without grad, so the frozen tokenizer is not in the
# optimizer. No weight decay on ndim <= 1 parameters (LN, biases, q/v biases,
# layer scales), biases, pos_embed and cls_token; mask_token, the shared
# rel-pos table and the MIM head ARE decayed (docs/official.md §6.11).
#
# Mixed precision: OptimWrapper (fp32) here because AmpOptimWrapper needs CUDA
# (docs/stack_notes.md #7); `tools/train.py --amp` switches to AmpOptimWrapper
# (bf16 where supported, else fp16 + dynamic loss scale, as the official
# torch.cuda.amp + GradScaler).
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(
        type='AdamW',
        lr=1.5e-3,
        betas=(0.9, 0.98),
        eps=1e-8,
        weight_decay=0.05,
        # torch's single-kernel AdamW: the update rule of the official
        # per-parameter loop (torch's default on CPU), one pass over all
        # tensors instead of seven per tensor; `fused=False` restores the
        # loop (docs/benchmark.md)
        fused=True),
    clip_grad=dict(max_norm=3.0),  # global L2 norm, after unscale
    constructor='LearningRateDecayOptimWrapperConstructor',
    paramwise_cfg=dict(
        layer_decay_rate=1.0,
        flat_decay_mult=0.,
        bias_decay_mult=0.,
        custom_keys={
            'pos_embed': dict(decay_mult=0.),
            'cls_token': dict(decay_mult=0.),
        }))

# Official warmup is linear from 0 (docs/official.md §6.10); mmengine's
# LinearLR would divide by zero at start_factor=0, so start at 1e-6 of the
# peak.
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=True, begin=0, end=10,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=1e-5, by_epoch=True, begin=10,
         end=300, convert_to_iter_based=True),
]

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=300)

# The official lr is absolute for 2048 images per step. With
# `--auto-scale-lr` (enable=True) mmengine rescales it linearly to the
# actual total batch; off by default, as the official recipe.
auto_scale_lr = dict(base_batch_size=2048, enable=False)
