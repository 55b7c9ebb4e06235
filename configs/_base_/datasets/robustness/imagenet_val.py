# ImageNet-1k val, the reference row of the robustness table:
# data/imagenet/val/<wnid>/*.JPEG (labels from the wnid, so a partial copy
# keeps correct labels), or mmpretrain's flat layout with
# ann_file='meta/val.txt'. 1000-way top-k. The images go through the test
# pipeline of the model config this fragment is applied to:
#   python tools/test.py FINETUNE_CONFIG CKPT \
#       --test-set configs/_base_/datasets/robustness/imagenet_val.py
test_dataloader = dict(
    dataset=dict(
        type='mmbeitv2.ImageNetVariant',
        variant='imagenet',
        data_root='data/imagenet',
        data_prefix='val'))
test_evaluator = dict(type='mmpretrain.Accuracy', topk=(1, 5))
