# DINO ViT-B/16 teacher (official vqkd_encoder_base_decoder_1x768x12_dino):
# target = final-normed patch tokens, 768-d.
_base_ = './vqkd_vit-base-p16_3x768x12-clip-b16_8xb64-100e_in1k.py'
model = dict(
    decoder=dict(arch=dict(num_layers=1)),
    decoder_out_dims=768,
    teacher=dict(
        _delete_=True,
        type='TimmViTTeacher',
        model_name='vit_base_patch16_224.dino',
        pretrained=True))
