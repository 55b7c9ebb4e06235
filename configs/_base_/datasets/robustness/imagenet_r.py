# ImageNet-R (Hendrycks et al., "The Many Faces of Robustness", ICCV 2021):
# 30,000 renditions of 200 ImageNet-1k classes,
# data/imagenet-r/<wnid>/*.jpg. Scored as ImageNet-A (imagenet_a.py) and the
# official BEiT v2 code (run_class_finetuning.py --robust_test imagenet_r):
# the 1000 class scores restricted to ImageNet-R's 200 classes before the
# top-k. The images go through the test pipeline of the model config this
# fragment is applied to:
#   python tools/test.py FINETUNE_CONFIG CKPT \
#       --test-set configs/_base_/datasets/robustness/imagenet_r.py
_base_ = ['./imagenet_a.py']

test_dataloader = dict(
    dataset=dict(variant='imagenet-r', data_root='data/imagenet-r'))
test_evaluator = dict(subset='imagenet-r')
