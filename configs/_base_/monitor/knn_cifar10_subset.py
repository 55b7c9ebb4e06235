# kNN monitor during pretraining (docs/monitor.md): DINO's weighted 20-NN
# top-1 (T = 0.07, eval_knn.py) of the backbone's last-block [CLS] on the
# demo's CIFAR-10 subset (data/cifar10_subset/{train,test}/<class>/),
# every 250 iterations and at the end, logged as monitor/knn_top1. Bank:
# every 5th train image (the folder is sorted by class: 100 per class,
# 1,000); query: the 1,000 test images. Both through the evaluation
# pipeline of the CIFAR-10 probes (Resize 37 -> CenterCrop 32, the
# ImageNet 256/224 ratio). Turn it on for a pretraining config (BEiT v2 or
# MAE) with a two-line config:
#   _base_ = ['../demo/beitv2_demo_cifar10-subset.py',
#             '../_base_/monitor/knn_cifar10_subset.py']
# (mmengine refuses a key set by two bases: the pretraining config must not
# list custom_hooks itself; else add this entry to its list).
knn_monitor_bank = dict(
    batch_size=250,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type='CustomDataset',
        data_root='data/cifar10_subset/',
        data_prefix='train',
        indices=list(range(0, 5000, 5)),
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='ResizeEdge', scale=37, edge='short',
                 backend='pillow', interpolation='bicubic'),
            dict(type='CenterCrop', crop_size=32),
            dict(type='PackInputs'),
        ]))
custom_hooks = [
    dict(
        type='KNNMonitorHook',
        interval=250,
        k=20,
        temperature=0.07,
        feature='cls',
        bank_dataloader=knn_monitor_bank,
        # the same settings on the whole test split
        query_dataloader=dict(
            knn_monitor_bank,
            dataset=dict(
                knn_monitor_bank['dataset'],
                data_prefix='test',
                indices=None))),
]
