# CIFAR-10 benchmark stage 4/5 (tools/run_demo.py --preset cifar): the demo
# linear probe on CIFAR-10 (train: 50,000 images, eval: the 10,000 test
# images), 3 epochs (~6 minutes each on 2 free CPU cores, estimate). Run
# on the pretrained backbone and, with model.backbone.init_cfg=None, on a
# random one.
_base_ = ['./vit-4x128-p4_linear-probe_demo_shapes10.py']

data_root = 'data/cifar10/'
train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root, data_prefix='test'))
test_dataloader = val_dataloader
max_epochs = 3
param_scheduler = [dict(_base_.param_scheduler[0], end=max_epochs)]
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
default_hooks = dict(logger=dict(interval=50))
work_dir = './work_dirs/cifar_benchmark/probe'
