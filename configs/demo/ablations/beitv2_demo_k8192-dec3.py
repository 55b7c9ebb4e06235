# Demo pretraining on the 8192-code, 3-block-decoder tokenizer
# (vqkd_demo_k8192-dec3.py): the student's MIM head predicts 8192 classes.
_base_ = ['../beitv2_demo_cifar10-subset.py']

model = dict(
    head=dict(num_embed=8192),
    target_generator=dict(
        quantizer=dict(num_embed=8192),
        decoder=dict(arch=dict(num_layers=3))))
