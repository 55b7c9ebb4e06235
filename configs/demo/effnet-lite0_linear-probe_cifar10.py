# CIFAR-10 benchmark reference (tools/run_demo.py --preset cifar, stage
# probe_teacher): the same linear probe on the frozen EfficientNet-Lite0
# teacher's features as the tokenizer sees them (block 10 at 64 px, averaged
# over space: 112-d), i.e. how much of the task the tokenizer's target
# already solves; 2 epochs on the full train split, eval on the test split.
_base_ = ['./vit-4x128-p4_linear-probe_cifar10.py']

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
        teacher=dict(type='EfficientNetLite0Teacher', input_size=64)),
    # one probe on the pooled teacher map: BatchNorm + linear
    neck=dict(_delete_=True, type='ClsBatchNormNeck', input_features=112),
    head=dict(
        _delete_=True,
        type='LinearClsHead',
        num_classes=10,
        in_channels=112,
        topk=(1, ),
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        init_cfg=dict(type='Normal', layer='Linear', std=0.01, bias=0.)))
val_evaluator = [dict(type='Accuracy', topk=(1, ))]
test_evaluator = val_evaluator
max_epochs = 2
param_scheduler = [dict(_base_.param_scheduler[0], end=max_epochs)]
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
work_dir = './work_dirs/cifar_benchmark/probe_teacher'
