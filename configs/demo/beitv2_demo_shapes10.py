# Demo stage 2 (tools/run_demo.py): BEiT v2 pretraining on shapes10 on top
# of the demo tokenizer (vqkd_demo_shapes10.py; run_demo.py sets
# model.target_generator.init_cfg.checkpoint). Pipeline, tokenizer and
# optimizer are the small CPU CIFAR-10 config: patch 4 on 32 px (8x8 grid),
# K = 1024, 26 of 64 patches masked, AdamW 1.5e-3 (spec §2.6).
_base_ = ['../beitv2/beitv2_vit-tiny-p4_1xb64-coslr-300iter_cifar10.py']

# The student, stated here because the demo probe
# (vit-tiny-p4_linear-probe_demo_shapes10.py) must match it: 4 blocks of
# width 128, aggregation from the 3rd (the base model: 9th of 12).
model = dict(
    backbone=dict(
        arch=dict(
            _delete_=True, embed_dims=128, num_layers=4, num_heads=4,
            feedforward_channels=512),
        out_indices=(2, 3)),
    neck=dict(
        arch=dict(
            _delete_=True, embed_dims=128, num_layers=4, num_heads=4,
            feedforward_channels=512),
        early_layers=3),
    head=dict(embed_dims=128))

train_dataloader = dict(dataset=dict(data_root='data/shapes10/'))

# 400 iterations of 64 = 13 epochs of the demo shapes10 (2,000 train
# images); 30 warmup iterations.
max_iters = 400
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0,
         end=30),
    dict(type='CosineAnnealingLR', eta_min=1e-5, by_epoch=False, begin=30,
         end=max_iters),
]
train_cfg = dict(max_iters=max_iters)
default_hooks = dict(
    checkpoint=dict(by_epoch=False, interval=200, max_keep_ckpts=1))
work_dir = './work_dirs/demo/pretrain'
