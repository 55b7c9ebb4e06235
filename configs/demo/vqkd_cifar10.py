# CIFAR-10 benchmark stage 1 (tools/run_demo.py --preset cifar): the small
# CPU VQ-KD config of configs/vqkd/ as is (2,500 train images, 5 epochs,
# K = 1024, EfficientNet-Lite0 at 128 px), plus the test split settings the
# codebook stage needs: tools/test.py tokenizes the 2,000-image test subset.
_base_ = ['../vqkd/vqkd_vit-tiny-p4_1x128x4-effnet-lite0_1xb64-5e_cifar10.py']

# tools/test.py, unlike tools/train.py, adds no default collate_fn, and the
# tokenizer needs a stacked batch.
test_dataloader = dict(
    _base_.val_dataloader, collate_fn=dict(type='default_collate'))
test_evaluator = _base_.val_evaluator
test_cfg = dict()
work_dir = './work_dirs/cifar_benchmark/vqkd'
