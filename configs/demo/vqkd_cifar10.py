# CIFAR-10 benchmark stage 1 (tools/run_demo.py --preset cifar): VQ-KD with
# the small CPU tokenizer of configs/vqkd/ (4x128 ViT encoder, 1-block
# decoder, K = 1024, dead-code restart) on all 50,000 train images for
# 3 epochs (2,343 iterations of 64), validated (codebook usage) on all
# 10,000 test images: the demo tokenizer config on CIFAR-10.
# Teacher: EfficientNet-Lite0 at 64 px, block 10 -> a 4x4 map of 112
# channels, resampled bilinearly to the 8x8 token grid. Measured on CIFAR-10
# (L-BFGS probe of mean-pooled features, 5,000 train / 2,000 test images):
# 68.2% at 64 px vs 68.7% at 128 px, for ~1/6 of the cost, so the
# tokenizer sees 3 epochs instead of 1/2 in the same time.
_base_ = ['./vqkd_demo_shapes10.py']

data_root = 'data/cifar10/'
model = dict(teacher=dict(input_size=64))
train_dataloader = dict(dataset=dict(data_root=data_root))
# tools/test.py (the codebook stage) tokenizes the same test split
val_dataloader = dict(dataset=dict(data_root=data_root, data_prefix='test'))
test_dataloader = val_dataloader

max_epochs = 3
param_scheduler = [dict(_base_.param_scheduler[0], end=200),
                   dict(_base_.param_scheduler[1], end=max_epochs)]
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
default_hooks = dict(
    logger=dict(interval=50), checkpoint=dict(max_keep_ckpts=2))
work_dir = './work_dirs/cifar_benchmark/vqkd'
