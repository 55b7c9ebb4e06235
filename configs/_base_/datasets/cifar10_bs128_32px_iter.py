# cifar10_bs128_32px.py for the iteration-based benchmark runs: an
# infinite training sampler; evaluation on the 32 px test images as they
# are (no resize/crop), 256 per batch.
_base_ = './cifar10_bs128_32px.py'

data_root = 'data/cifar10'
data_preprocessor = dict(num_classes=10)  # for Mixup/CutMix one-hot targets
test_pipeline = [dict(type='LoadImageFromFile'), dict(type='PackInputs')]
train_dataloader = dict(
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(data_root=data_root))
val_dataloader = dict(
    batch_size=256, dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
