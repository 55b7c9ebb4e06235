# Demo stage 1 (tools/run_demo.py): VQ-KD tokenizer training on shapes10,
# the embedded default data set (mmbeitv2/datasets/demo/shapes10.py; the demo
# writes 10 x 200 train / 10 x 50 val images, 32 px). The rest is the small CPU
# CIFAR-10 config: 4x128 ViT encoder, 1-block decoder, K = 1024 codes
# with dead-code restart, the offline EfficientNet-Lite0 teacher at 128 px.
# run_demo.py sets data_root (any ImageFolder via --data) and the val split.
_base_ = ['../vqkd/vqkd_vit-4x128-p4_1x128x4-effnet-lite0_1xb64-5e_cifar10.py']

data_root = 'data/shapes10/'
# The whole train split (the CIFAR config takes every 20th image).
train_dataloader = dict(dataset=dict(data_root=data_root, indices=None))
val_dataloader = dict(
    dataset=dict(data_root=data_root, data_prefix='val', indices=None))
# tools/test.py (the codebook stage) tokenizes the same val split.
# tools/test.py, unlike tools/train.py, adds no default collate_fn, and the
# tokenizer needs a stacked batch.
test_dataloader = dict(
    _base_.val_dataloader,
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        _base_.val_dataloader.dataset,
        data_root=data_root,
        data_prefix='val',
        indices=None))
test_evaluator = _base_.val_evaluator
test_cfg = dict()

# 8 epochs x 31 iterations (2,000 images): 30 warmup iterations, then
# cosine. ~0.75 s per iteration of 64 on 2 free CPU cores with the fused
# teacher at 128 px (docs/demo.md), i.e. ~3 minutes.
max_epochs = 8
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0,
         end=30),
    dict(_base_.param_scheduler[1], begin=0, end=max_epochs),
]
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=1))
work_dir = './work_dirs/demo_shapes10/vqkd'
