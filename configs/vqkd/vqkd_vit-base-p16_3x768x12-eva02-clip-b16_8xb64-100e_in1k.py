# EVA02-CLIP-B/16 teacher (open_clip EVA02-B-16, a timm Eva tower with
# RoPE) on the paper recipe. Target = final-normed patch tokens through the
# tower's own Linear projection to the 512-d joint space (as CLIP's proj).
_base_ = './vqkd_vit-base-p16_3x768x12-clip-b16_8xb64-100e_in1k.py'
model = dict(
    decoder_out_dims=512,
    teacher=dict(
        model_name='EVA02-B-16', pretrained='merged2b_s8b_b131k',
        projection='proj'))
