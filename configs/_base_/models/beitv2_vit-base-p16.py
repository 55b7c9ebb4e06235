# BEiT v2 ViT-B/16 masked image modeling with patch aggregation
# (docs/official.md §2.1-§2.3). Each setting is stated once: the backbone's
# `arch` also sets the neck's arch and the head's width, and the neck's
# `early_layers` sets which backbone blocks are returned (BEiTv2 derives
# them). Values that must agree are declared once here; child configs
# override the dict fields (a top-level variable is substituted while this
# file is parsed, so redefining it in a child changes nothing).
num_embed = 8192  # VQ-KD codebook size (docs/official.md §1.1)
layer_scale_init_value = 0.1  # --layer_scale_init_value, base (1e-5 large)

model = dict(
    type='BEiTv2',
    # Two views of one crop (docs/official.md §2.5): the model view with
    # ImageNet mean/std; the tokenizer view in [0, 1] (the tokenizer maps it to
    # [-1, 1] itself, docs/official.md §1.2). Both are converted BGR -> RGB.
    data_preprocessor=dict(
        type='TwoNormDataPreprocessor',
        mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
        second_mean=[0., 0., 0.], second_std=[255., 255., 255.],
        to_rgb=True),
    backbone=dict(
        type='BEiTv2ViT',
        arch='base',  # ViT-B: width 768, 12 blocks; the neck and head too
        img_size=224,
        patch_size=16,
        # (early, final) raw tokens, no norm: the neck owns the shared norm;
        # which blocks follows from the neck's early_layers
        out_type='raw',
        final_norm=False,
        with_mask_token=True,
        # one zero-init table (docs/official.md §2.1)
        use_shared_rel_pos_bias=True,
        use_rel_pos_bias=False,
        layer_scale_init_value=layer_scale_init_value,
        # 0 for 300 epochs, 0.1 for 1600 (docs/official.md §2.6)
        drop_path_rate=0.,
        # trunc N(0, .02) at +-1 sigma (docs/official.md §6.1)
        init_style='pretrain'),
    neck=dict(
        type='BEiTv2Neck',
        num_layers=2,
        # patch tokens of the 9th of 12 blocks, the paper's l
        # (docs/official.md §2.2)
        early_layers=9,
        layer_scale_init_value=layer_scale_init_value,
        drop_path_rate=0.),
    head=dict(type='MIMHead', num_embed=num_embed),
    # The last student, neck and tokenizer-encoder blocks compute only the
    # tokens the losses read ([CLS] + masked): same losses, ~6% fewer FLOPs
    # (BEiTv2 docstring); False runs every token through every block.
    use_masked_only_last_blocks=True,
    # The frozen paper tokenizer vqkd_encoder_base_decoder_3x768x12_clip
    # (docs/official.md §1.1, §1.7). The official file loads as downloaded
    # (mmbeitv2/checkpoint/layouts.py converts its unilm keys in memory), as
    # does one already in mmbeitv2 keys. Its path is the ONE field
    # `model.target_generator.init_cfg.checkpoint`, settable with
    # --cfg-options. No teacher is built for tokens only. Another tokenizer
    # (configs/vqkd/: DINOv2, SigLIP, EVA02-CLIP, CLIP-L teachers): set
    # `model.target_generator.vqkd_config` to the VQ-KD config it was
    # trained with (its architecture replaces the one below) and the
    # checkpoint to its weights.
    target_generator=dict(
        type='VQKDTokenizer',
        vqkd_config=None,
        encoder=dict(arch='base', img_size=224, patch_size=16),
        decoder=dict(
            arch=dict(
                embed_dims=768,
                num_layers=3,
                num_heads=12,
                feedforward_channels=3072),
            img_size=14,
            patch_size=1,
            in_channels=32),
        quantizer=dict(num_embed=num_embed, embed_dims=32),
        decoder_out_dims=512,
        teacher=None,
        init_cfg=dict(
            type='Pretrained',
            checkpoint='checkpoints/vqkd_encoder_base_decoder_3x768x12_clip'
            '_mmbeitv2.pth')))
