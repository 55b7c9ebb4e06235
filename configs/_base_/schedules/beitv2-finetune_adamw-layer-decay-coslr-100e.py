# BEiT v2 fine-tuning schedule (docs/official.md §3.3-§3.4): AdamW with
# layer-wise lr decay, 20 warmup epochs, per-iteration cosine to 1e-6 over
# 100 epochs; lrs are absolute, not batch-scaled. As in the official
# cosine_scheduler, every group follows schedule * lr_scale, floor included
# (LayerDecayCosineAnnealingLR: min_lr * lr_scale, not one absolute
# floor). A recipe with other lengths replaces the list, reusing its
# entries:
#   param_scheduler = [
#       dict(_base_.param_scheduler[0], end=WARMUP),
#       dict(_base_.param_scheduler[1], begin=WARMUP, end=EPOCHS)]
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(
        type='AdamW', lr=5e-4, weight_decay=0.05, betas=(0.9, 0.999),
        eps=1e-8,
        # the official update rule in one kernel (`fused=False`: the loop;
        # docs/benchmark.md)
        fused=True),
    # scale = layer_decay^(L+1-layer_id), ids from
    # BEiTv2ViT.get_layer_depth (docs/official.md §3.3)
    constructor='LearningRateDecayOptimWrapperConstructor',
    paramwise_cfg=dict(
        _delete_=True,
        # 0.6 for 1600e, 0.65 for 300e (docs/official.md §3.4)
        layer_decay_rate=0.6,
        # no weight decay: ndim <= 1 (biases, norms, q/v bias, gamma),
        # cls_token and pos_embed; rel-pos tables are decayed
        # (docs/official.md §3.3)
        flat_decay_mult=0.0,
        custom_keys={
            '.cls_token': dict(decay_mult=0.0),
            '.pos_embed': dict(decay_mult=0.0),
        }))

warmup_epochs = 20
max_epochs = 100
# linear warmup from ~0 (the official 0; LinearLR cannot start at exactly
# 0), then per-iteration cosine to min_lr = 1e-6 times each group's lr
# scale (unilm beit2 run_class_finetuning.py + utils.cosine_scheduler;
# docs/official.md §3.3, §6.10)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=True, begin=0,
         end=warmup_epochs, convert_to_iter_based=True),
    dict(type='LayerDecayCosineAnnealingLR', by_epoch=True,
         begin=warmup_epochs, end=max_epochs, eta_min=1e-6,
         convert_to_iter_based=True)
]
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=1)
val_cfg = dict()
test_cfg = dict()
