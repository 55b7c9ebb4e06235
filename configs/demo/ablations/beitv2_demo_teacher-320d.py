# Demo pretraining on a tokenizer whose decoder predicts 320-channel
# teacher features (EfficientNet-Lite0 block 15: the
# vqkd_demo_teacher-b15-*.py ablations); only the tokenizer's last decoder
# layer differs, the student is the demo's.
_base_ = ['../beitv2_demo_cifar10-subset.py']

model = dict(target_generator=dict(decoder_out_dims=320))
