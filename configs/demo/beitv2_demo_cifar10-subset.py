# Demo stage 3 (tools/run_demo.py, the default): BEiT v2 pretraining on the
# embedded CIFAR-10 subset on top of the demo tokenizer
# (vqkd_demo_cifar10-subset.py): the CIFAR-10 benchmark's pretraining config
# (beitv2_cifar10.py: 4x128 ViT, patch 4 on 32 px, aggregation from block 3,
# 26 of 64 patches masked block-wise, the official optimizer) with a
# demo-sized schedule. run_demo.py sets the tokenizer checkpoint and data.
_base_ = ['./beitv2_cifar10.py']

model = dict(
    target_generator=dict(
        init_cfg=dict(checkpoint='work_dirs/demo/vqkd/epoch_6.pth')))
# 1,000 iterations of 32 (6.4 epochs of the 5,000 train images); 60 warmup
# iterations, cosine to 1e-5. Batch 32 rather than 64: the same images and
# CPU time (0.28 s vs 0.56 s per iteration) but twice the updates, which a
# run this short needs (measured: MIM accuracy 7.4% vs 5.2%, probe 41.9% vs
# 40.0% best block; docs/demo.md).
train_dataloader = dict(
    batch_size=32, dataset=dict(data_root='data/cifar10_subset/'))
max_iters = 1000
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0,
         end=60),
    dict(type='CosineAnnealingLR', eta_min=1e-5, by_epoch=False, begin=60,
         end=max_iters),
]
train_cfg = dict(max_iters=max_iters)
default_hooks = dict(
    logger=dict(interval=50), checkpoint=dict(interval=max_iters))
log_processor = dict(window_size=50)
work_dir = './work_dirs/demo/pretrain'
