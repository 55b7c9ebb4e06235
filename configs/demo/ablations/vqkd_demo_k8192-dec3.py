# Ablation of the demo tokenizer's size (docs/ablations.md): the paper's
# codebook, 8192 codes of 32 dimensions (paper §3.1; the demo has 1024), and
# a 3-block decoder (the official vqkd_encoder_base_decoder_3x768x12, §4.1;
# the demo decoder has 1 block).
_base_ = ['../vqkd_demo_cifar10-subset.py']

model = dict(
    quantizer=dict(num_embed=8192),
    decoder=dict(arch=dict(num_layers=3)))
work_dir = './work_dirs/ablations/k8192-dec3/vqkd'
# the usage metric counts over the same K
val_evaluator = dict(num_embed=8192)
test_evaluator = val_evaluator
