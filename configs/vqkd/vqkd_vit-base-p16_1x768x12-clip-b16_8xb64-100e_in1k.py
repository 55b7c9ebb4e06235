# The 1-layer-decoder variant (official vqkd_encoder_base_decoder_1x768x12).
_base_ = './vqkd_vit-base-p16_3x768x12-clip-b16_8xb64-100e_in1k.py'
model = dict(decoder=dict(arch=dict(num_layers=1)))
