# DINOv2 ViT-B/14 teacher (timm, LVD-142M weights) on the paper recipe.
# Target = final-normed patch tokens, 768-d (registers/[CLS] dropped).
# DINOv2 was trained at 518 px; it runs at 224 here (16x16 patches, the
# paper teachers' input size), and its 16x16 map is resampled (bilinear,
# antialiased) to the tokenizer's 14x14 grid. grid_align='resize_input'
# feeds it 196 px instead (14x14 patches, nothing interpolated).
_base_ = './vqkd_vit-base-p16_3x768x12-clip-b16_8xb64-100e_in1k.py'
model = dict(
    decoder_out_dims=768,
    teacher=dict(
        _delete_=True,
        type='TimmViTTeacher',
        model_name='vit_base_patch14_dinov2.lvd142m',
        pretrained=True,
        input_size=224,
        grid_align='interpolate'))
