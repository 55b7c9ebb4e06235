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
train_dataloader = dict(dataset=dict(data_root='data/cifar10_subset/'))

# 500 iterations of 64 (6.4 epochs of the 5,000 train images); 30 warmup
# iterations, cosine to 1e-5.
max_iters = 500
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0,
         end=30),
    dict(type='CosineAnnealingLR', eta_min=1e-5, by_epoch=False, begin=30,
         end=max_iters),
]
train_cfg = dict(max_iters=max_iters)
default_hooks = dict(
    logger=dict(interval=25), checkpoint=dict(interval=max_iters))
log_processor = dict(window_size=25)
work_dir = './work_dirs/demo/pretrain'
