# The paper's VQ-KD schedule (docs/official.md §1.6): 8 GPUs x 64, 100
# epochs, AdamW (0.9, 0.99), lr 5e-5 per 128 images, wd 1e-4, 10 warmup
# epochs, cosine to 1e-5, no grad clipping.
optim_wrapper = dict(
    type='OptimWrapper',
    # 5e-5 per 128 images, scaled linearly: 5e-5 * 512 / 128 = 2e-4.
    optimizer=dict(
        type='AdamW', lr=5e-5 * 512 / 128, betas=(0.9, 0.99), eps=1e-8,
        weight_decay=1e-4,
        # the official update rule in one kernel (`fused=False`: the loop;
        # docs/benchmark.md)
        fused=True),
    # No decay on biases, 1-D params, cls_token and pos_embed
    # (docs/official.md §1.6); the codebook is a buffer and never reaches
    # the optimizer.
    paramwise_cfg=dict(
        bias_decay_mult=0., norm_decay_mult=0., flat_decay_mult=0.,
        custom_keys={
            'cls_token': dict(decay_mult=0.),
            'pos_embed': dict(decay_mult=0.),
        }))
param_scheduler = [
    # Official warmup starts from 0 (LinearLR needs a positive factor).
    dict(type='LinearLR', start_factor=1e-6, by_epoch=True, begin=0,
         end=10, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=1e-5, by_epoch=True, begin=10,
         end=100, convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=100, val_interval=10)
val_cfg = dict()
# lr above is for 8 x 64 = 512 images per step.
auto_scale_lr = dict(base_batch_size=512)
