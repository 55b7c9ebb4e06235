# CIFAR-10 benchmark reference (tools/run_demo.py --preset cifar, stage
# probe_teacher): the same linear probe on the frozen EfficientNet-Lite0
# teacher's features (block 10 at 128 px, averaged over space: 112-d), i.e.
# how much of the task the tokenizer's target already solves. The teacher
# is ~20x slower than the 4x128 ViT per image, so it is probed on a fixed
# 5,000-image train subset for 2 epochs (eval: the full test split).
_base_ = ['./vit-tiny-p4_linear-probe_cifar10.py']

model = dict(
    # The teacher takes RGB in [0, 1] and normalises it itself.
    data_preprocessor=dict(
        type='ClsDataPreprocessor',
        mean=[0., 0., 0.],
        std=[255., 255., 255.],
        to_rgb=True),
    backbone=dict(
        _delete_=True,
        type='TeacherBackbone',
        teacher=dict(type='EfficientNetLite0Teacher', input_size=128)),
    neck=dict(input_features=112),
    head=dict(in_channels=112))
train_dataloader = dict(
    dataset=dict(indices=list(range(0, 50000, 10))))
max_epochs = 2
param_scheduler = [
    dict(type='CosineAnnealingLR', by_epoch=True, begin=0, end=max_epochs,
         eta_min=0., convert_to_iter_based=True)
]
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
work_dir = './work_dirs/cifar_benchmark/probe_teacher'
