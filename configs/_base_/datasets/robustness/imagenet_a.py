# ImageNet-A (Hendrycks et al., "Natural Adversarial Examples", CVPR 2021):
# 7,500 images of 200 ImageNet-1k classes, data/imagenet-a/<wnid>/*.jpg.
# Scored as the official BEiT v2 code (run_class_finetuning.py
# --robust_test imagenet_a): the 1000 class scores restricted to the 200
# classes before the top-k. The images go through the test pipeline of the
# model config this fragment is applied to:
#   python tools/test.py FINETUNE_CONFIG CKPT \
#       --test-set configs/_base_/datasets/robustness/imagenet_a.py
test_dataloader = dict(
    dataset=dict(
        type='mmbeitv2.ImageNetVariant',
        variant='imagenet-a',
        data_root='data/imagenet-a'))
test_evaluator = dict(
    type='mmbeitv2.SubsetAccuracy', subset='imagenet-a', topk=(1, 5))
