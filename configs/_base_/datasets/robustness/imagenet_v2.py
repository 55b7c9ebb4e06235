# ImageNet-V2 (Recht et al., "Do ImageNet Classifiers Generalize to
# ImageNet?", ICML 2019), e.g. the MatchedFrequency split: 10,000 images,
# data/imagenet-v2/<class index 0..999>/*.jpeg. The folder name is the
# ImageNet-1k class index (not the rank of the folder name), 1000-way
# top-k. The images go through the test pipeline of the model config this
# fragment is applied to:
#   python tools/test.py FINETUNE_CONFIG CKPT \
#       --test-set configs/_base_/datasets/robustness/imagenet_v2.py
test_dataloader = dict(
    dataset=dict(
        type='mmbeitv2.ImageNetVariant',
        variant='imagenet-v2',
        data_root='data/imagenet-v2'))
test_evaluator = dict(type='mmpretrain.Accuracy', topk=(1, 5))
