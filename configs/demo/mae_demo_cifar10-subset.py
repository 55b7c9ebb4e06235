# The demo's pixel-target baseline (tools/run_demo.py --config
# mae=configs/demo/mae_demo_cifar10-subset.py
# probe_mae=configs/demo/vit-4x128-p4_mae-pre_linear-probe_cifar10.py):
# mmpretrain's MAE of the CIFAR-10 benchmark (mae_vit-4x128-p4_cifar10.py:
# the same 4x128 ViT as the BEiT v2 student, MAE's own recipe) at the demo
# student's budget: 1,000 iterations of 32 on the embedded subset, 60 warmup
# iterations, cosine to 1e-5 (beitv2_demo_cifar10-subset.py).
_base_ = ['./mae_vit-4x128-p4_cifar10.py']

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
default_hooks = dict(checkpoint=dict(interval=max_iters))
work_dir = './work_dirs/demo/mae'
