# Ablation of the demo tokenizer's length (docs/ablations.md): 12 epochs
# instead of 6, the same warmup and cosine shape; twice the tokenizer's
# CPU time.
_base_ = ['../vqkd_demo_cifar10-subset.py']

max_epochs = 12
param_scheduler = [_base_.param_scheduler[0],
                   dict(_base_.param_scheduler[1], end=max_epochs)]
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
work_dir = './work_dirs/ablations/vqkd-12e/vqkd'
