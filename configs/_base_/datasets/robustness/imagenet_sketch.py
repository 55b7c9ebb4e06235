# ImageNet-Sketch (Wang et al., "Learning Robust Global Representations by
# Penalizing Local Predictive Power", NeurIPS 2019): 50,889 sketches of all
# 1000 ImageNet-1k classes, data/imagenet-sketch/<wnid>/*.JPEG, 1000-way
# top-k as ImageNet-V2 (imagenet_v2.py; the official code: --nb_classes
# 1000, no --robust_test). The images go through the test pipeline of the
# model config this fragment is applied to:
#   python tools/test.py FINETUNE_CONFIG CKPT \
#       --test-set configs/_base_/datasets/robustness/imagenet_sketch.py
_base_ = ['./imagenet_v2.py']

test_dataloader = dict(
    dataset=dict(variant='imagenet-sketch', data_root='data/imagenet-sketch'))
