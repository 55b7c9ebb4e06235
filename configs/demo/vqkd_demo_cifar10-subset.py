# Demo stage 1 (tools/run_demo.py, the default): VQ-KD on the embedded
# CIFAR-10 subset (mmbeitv2/datasets/demo/embedded/: 500 train / 100 test real
# photos per class, unpacked by run_demo.py, which also sets data_root).
# The CIFAR-10 benchmark's tokenizer config (vqkd_cifar10.py: 4x128 ViT
# encoder, 1-block decoder, K = 1024 with dead-code restart, the offline
# EfficientNet-Lite0 teacher at 64 px) with a demo-sized schedule and one
# speed option (docs/demo.md): the teacher feature cache. The train crops
# are drawn from 3 fixed views per image (FixedViews), so the frozen
# teacher runs once per view and its maps are reused in later epochs
# (cache=True wraps the teacher in CachedTeacher; losses equal the
# uncached ones for the same views). Children and --cfg-options still set
# the teacher's own fields as model.teacher.<field>. Without the cache:
# --cfg-options model.teacher.cache=False and the plain pipeline,
# train_dataloader.dataset.pipeline=... (base config).
_base_ = ['./vqkd_cifar10.py']

data_root = 'data/cifar10_subset/'
model = dict(teacher=dict(cache=True))
train_pipeline = [
    _base_.train_pipeline[0],  # load
    dict(type='FixedViews', num_views=3,
         transforms=_base_.train_pipeline[1:-1]),  # crop, flip
    dict(type='PackInputs', algorithm_keys=['view_id']),
]
train_dataloader = dict(
    dataset=dict(data_root=data_root, indices=None,
                 pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(data_root=data_root, indices=None))
test_dataloader = val_dataloader

# 6 epochs x 78 iterations of 64 (5,000 images): 30 warmup iterations,
# cosine to epoch 6.
max_epochs = 6
param_scheduler = [dict(_base_.param_scheduler[0], end=30),
                   dict(_base_.param_scheduler[1], end=max_epochs)]
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
default_hooks = dict(logger=dict(interval=20),
                     checkpoint=dict(max_keep_ckpts=1))
work_dir = './work_dirs/demo/vqkd'
