# CIFAR-10 benchmark stage 2 (tools/run_demo.py --preset cifar): the demo
# pretraining config (4x128 ViT, patch 4, K = 1024, official optimizer) on
# the 50,000 CIFAR-10 train images: 3,000 iterations of 64 (3.8 epochs),
# 150 warmup iterations, cosine to 1e-5. About 40 minutes of the 90-minute
# budget on 2 CPU cores (estimate, see docs/demo.md).
_base_ = ['./beitv2_demo_shapes10.py']

train_dataloader = dict(dataset=dict(data_root='data/cifar10/'))
max_iters = 3000
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0,
         end=150),
    dict(type='CosineAnnealingLR', eta_min=1e-5, by_epoch=False,
         begin=150, end=max_iters),
]
train_cfg = dict(max_iters=max_iters)
default_hooks = dict(
    logger=dict(interval=50), checkpoint=dict(interval=500))
work_dir = './work_dirs/cifar_benchmark/pretrain'
