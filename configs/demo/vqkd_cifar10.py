# CIFAR-10 benchmark stage 1 (tools/run_demo.py --preset cifar): VQ-KD with
# the small CPU tokenizer of configs/vqkd/ (4x128 ViT encoder, 1-block
# decoder, K = 1024, dead-code restart) on all 50,000 train images for
# 3 epochs (2,343 iterations of 64), validated (codebook usage) on all
# 10,000 test images.
# Teacher: EfficientNet-Lite0 at 64 px, block 10 -> a 4x4 map of 112
# channels, resampled bilinearly to the 8x8 token grid. Measured on CIFAR-10
# (L-BFGS probe of mean-pooled features, 5,000 train / 2,000 test images):
# 68.2% at 64 px vs 68.7% at 128 px, for ~1/6 of the cost, so the
# tokenizer sees 3 epochs instead of 1/2 in the same time.
_base_ = ['../vqkd/vqkd_vit-tiny-p4_1x128x4-effnet-lite0_1xb64-5e_cifar10.py']

model = dict(teacher=dict(input_size=64))
train_dataloader = dict(dataset=dict(indices=None))
val_dataloader = dict(dataset=dict(indices=None))
# tools/test.py (the codebook stage) tokenizes the same test split;
# tools/test.py, unlike tools/train.py, adds no default collate_fn, and the
# tokenizer needs a stacked batch.
test_dataloader = dict(
    _base_.val_dataloader,
    collate_fn=dict(type='default_collate'),
    dataset=dict(_base_.val_dataloader.dataset, indices=None))
test_evaluator = _base_.val_evaluator
test_cfg = dict()

max_epochs = 3
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0,
         end=200),
    dict(type='CosineAnnealingLR', eta_min=1e-5, by_epoch=True, begin=0,
         end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
default_hooks = dict(logger=dict(interval=50))
work_dir = './work_dirs/cifar_benchmark/vqkd'
