# VQ-KD tokenizer, paper model (docs/official.md §1.1): ViT-B/16 encoder,
# 3-layer decoder, 8192 x 32 codebook, CLIP ViT-B/16 teacher (projected patch
# tokens).
num_embed = 8192  # codebook size K (paper)
codebook_dims = 32  # code dimension D (paper)
embed_dims = 768  # ViT-B width

model = dict(
    type='VQKDTokenizer',
    # The tokenizer takes [0, 1] RGB and maps it to [-1, 1] itself.
    data_preprocessor=dict(
        type='SelfSupDataPreprocessor',
        mean=[0., 0., 0.],
        std=[255., 255., 255.],
        to_rgb=True),
    encoder=dict(arch='base', img_size=224, patch_size=16),
    decoder=dict(
        arch=dict(
            embed_dims=embed_dims,
            num_layers=3,  # the recommended 3x768x12 decoder
            num_heads=12,
            feedforward_channels=3072),
        img_size=14,  # the 14x14 code map
        patch_size=1,
        in_channels=codebook_dims),
    quantizer=dict(
        num_embed=num_embed,
        embed_dims=codebook_dims,
        beta=1.0,  # hard-coded in unilm VQKD
        decay=0.99,  # --ema_decay
        kmeans_init=True,  # --quantize_kmeans_init
        dead_code_threshold=0),  # no restarts, as the paper
    decoder_out_dims=512,  # CLIP-B/16 projected width
    teacher=dict(type='CLIPTeacher', model_name='ViT-B-16',
                 pretrained='openai'))
