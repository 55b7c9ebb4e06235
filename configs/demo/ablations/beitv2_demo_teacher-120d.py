# Demo pretraining on a tokenizer whose decoder predicts 120-channel teacher
# features (EfficientNet-Lite2 block 14: vqkd_demo_teacher-lite2.py); only
# the tokenizer's last decoder layer differs, the student is the demo's.
_base_ = ['../beitv2_demo_cifar10-subset.py']

model = dict(target_generator=dict(decoder_out_dims=120))
