# SigLIP ViT-B/16 teacher (open_clip ViT-B-16-SigLIP, WebLI weights) on the
# paper recipe. The tower has no [CLS] token and its projection is the
# attention-pool (MAP) head, one vector per image: the target is the
# final-normed patch tokens, 768-d. Mean = std = 0.5 (the tag's own).
_base_ = './vqkd_vit-base-p16_3x768x12-clip-b16_8xb64-100e_in1k.py'
model = dict(
    decoder_out_dims=768,
    teacher=dict(
        model_name='ViT-B-16-SigLIP', pretrained='webli', projection='none'))
