# ImageNet-Sketch (Wang et al., "Learning Robust Global Representations by
# Penalizing Local Predictive Power", NeurIPS 2019): 50,889 sketches of all
# 1000 ImageNet-1k classes, data/imagenet-sketch/<wnid>/*.JPEG, 1000-way
# top-k (the official code: --nb_classes 1000, no --robust_test). The
# images go through the test pipeline of the model config this fragment is
# applied to:
#   python tools/test.py FINETUNE_CONFIG CKPT \
#       --test-set configs/_base_/datasets/robustness/imagenet_sketch.py
test_dataloader = dict(
    dataset=dict(
        type='mmbeitv2.ImageNetVariant',
        variant='imagenet-sketch',
        data_root='data/imagenet-sketch'))
test_evaluator = dict(type='mmpretrain.Accuracy', topk=(1, 5))
