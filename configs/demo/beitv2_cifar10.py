# CIFAR-10 benchmark stage 2 (tools/run_demo.py --preset cifar): the demo
# pretraining config (4x128 ViT, patch 4, K = 1024, official optimizer) on
# the 50,000 CIFAR-10 train images: 1,000 iterations of 64 (1.3 epochs),
# 100 warmup iterations, cosine to 1e-5. At ~4 CPU s per iteration
# (measured on shapes10) that is ~35 of the 90 minutes on 2 CPU cores.
_base_ = ['./beitv2_demo_shapes10.py']

train_dataloader = dict(dataset=dict(data_root='data/cifar10/'))
max_iters = 1000
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0,
         end=100),
    dict(type='CosineAnnealingLR', eta_min=1e-5, by_epoch=False,
         begin=100, end=max_iters),
]
train_cfg = dict(max_iters=max_iters)
default_hooks = dict(
    logger=dict(interval=50), checkpoint=dict(interval=250))
work_dir = './work_dirs/cifar_benchmark/pretrain'
