# Values the demo's tokenizer, pretraining and downstream configs must agree
# on, declared once (house_style.md §3). The demo runs on 2 CPU cores in
# about 15 minutes, so everything is far below the paper's sizes
# (spec §1.1: ViT-B/16 encoder, 8192 x 32 codebook, 224 px).
data_root = 'data/shapes10'  # set with --cfg-options / tools/run_demo.py
img_size = 32  # shapes10 and CIFAR-10 are 32 x 32
patch_size = 4  # 8 x 8 = 64 tokens (paper: 16 px patches, 14 x 14)
num_embed = 512  # codebook size K (paper 8192)
codebook_dims = 32  # code dimension D (paper 32)
teacher_size = 128  # EfficientNet-Lite0 input: >= 128 (contracts.md)
teacher_dims = 112  # channels of _blocks[10] (stride 16 -> 8 x 8 at 128)
# The student ViT: ViT-Tiny width, 6 blocks (ViT-Tiny has 12).
vit_arch = dict(
    embed_dims=192, num_layers=6, num_heads=3, feedforward_channels=768)
early_layers = 4  # patch aggregation reads block 4 of 6 (paper 9 of 12)
num_classes = 10  # set by tools/run_demo.py from the class folders

# The tokenizer, shared by VQ-KD training (with a teacher) and by
# pretraining (as the frozen target generator, teacher=None).
tokenizer = dict(
    type='VQKDTokenizer',
    encoder=dict(
        arch=dict(
            embed_dims=128, num_layers=4, num_heads=4,
            feedforward_channels=512),
        img_size=img_size,
        patch_size=patch_size),
    decoder=dict(
        arch=dict(
            embed_dims=128, num_layers=1, num_heads=4,
            feedforward_channels=512),
        img_size=img_size // patch_size,
        patch_size=1,
        in_channels=codebook_dims),
    quantizer=dict(
        num_embed=num_embed,
        embed_dims=codebook_dims,
        # Revive codes unused for 30 steps (about half an epoch): on a small data set the
        # official rule (no revival, spec §1.3.4) leaves codes dead.
        dead_code_threshold=30),
    decoder_out_dims=teacher_dims)

# [0, 255] BGR from LoadImageFromFile -> [0, 1] RGB for the tokenizer.
unit_range_preprocessor = dict(
    type='mmpretrain.ClsDataPreprocessor',
    mean=[0., 0., 0.],
    std=[255., 255., 255.],
    to_rgb=True)
