# CLIP ViT-L/14 teacher (open_clip ViT-L-14, OpenAI weights) on the paper
# recipe. Target = ln_post tokens @ visual.proj, 768-d; at 224 px the
# teacher's 16x16 map is resampled (bilinear, antialiased) to the
# tokenizer's 14x14 grid (grid_align='resize_input' feeds it 196 px).
_base_ = './vqkd_vit-base-p16_3x768x12-clip-b16_8xb64-100e_in1k.py'
model = dict(
    decoder_out_dims=768,
    teacher=dict(
        model_name='ViT-L-14', pretrained='openai', projection='proj',
        grid_align='interpolate'))
