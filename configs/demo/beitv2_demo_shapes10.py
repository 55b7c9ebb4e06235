# Demo stage 2 (tools/run_demo.py): BEiT v2 pretraining on shapes10 on top
# of the demo tokenizer (vqkd_demo_shapes10.py). The small CPU CIFAR-10
# config of configs/beitv2/ (32 px, patch 4 -> 8x8 grid, a 4x128 ViT with
# aggregation from the 3rd block, K = 1024, 26 of 64 patches masked, the
# official optimizer; docs/official.md §2.6) with the demo's data, batch and
# schedule.
# The student must match vit-4x128-p4_linear-probe_demo_shapes10.py.
# run_demo.py sets model.target_generator.init_cfg.checkpoint and the data.
_base_ = ['../beitv2/beitv2_vit-4x128-p4_1xb32-coslr-400iter_cifar10.py']

model = dict(
    target_generator=dict(
        init_cfg=dict(checkpoint='work_dirs/demo_shapes10/vqkd/epoch_8.pth')))

train_dataloader = dict(
    batch_size=64, dataset=dict(data_root='data/shapes10/'))

# 1,000 iterations of 64 = 32 epochs of the demo's 2,000 train images
# (~0.5 s per iteration on 2 free CPU cores, i.e. ~8 minutes); 100 warmup
# iterations, cosine to 1e-5.
max_iters = 1000
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0,
         end=100),
    dict(type='CosineAnnealingLR', eta_min=1e-5, by_epoch=False, begin=100,
         end=max_iters),
]
train_cfg = dict(max_iters=max_iters)
default_hooks = dict(
    logger=dict(interval=50), checkpoint=dict(interval=250))
log_processor = dict(window_size=100)
work_dir = './work_dirs/demo_shapes10/pretrain'
