# CIFAR-10 benchmark stage 2 (tools/run_demo.py --preset cifar): the demo
# pretraining config (4x128 ViT, patch 4, K = 1024, 26 of 64 patches
# masked block-wise, aggregation from the 3rd block, the official
# optimizer) on the 50,000 CIFAR-10 train images: 3,500 iterations of 64
# (4.5 epochs), 200 warmup iterations, cosine to 1e-5. ~0.5 s per
# iteration on 2 free CPU cores, i.e. ~30 of the benchmark's minutes.
_base_ = ['./beitv2_demo_shapes10.py']

train_dataloader = dict(dataset=dict(data_root='data/cifar10/'))
max_iters = 3500
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0,
         end=200),
    dict(type='CosineAnnealingLR', eta_min=1e-5, by_epoch=False,
         begin=200, end=max_iters),
]
train_cfg = dict(max_iters=max_iters)
default_hooks = dict(
    logger=dict(interval=50), checkpoint=dict(interval=500))
work_dir = './work_dirs/cifar_benchmark/pretrain'
