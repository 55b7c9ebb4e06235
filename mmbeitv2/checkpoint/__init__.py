# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""The one home of checkpoint knowledge: reading files safely
(:mod:`.io`), the official key maps and drop list (:mod:`.official_keys`),
layout detection and in-memory conversion (:mod:`.layouts`), the state-dict
preparation of ``BEiTv2ViT`` (:mod:`.vit_state_dict`: shared -> per-block
tables, resizes), the strict tokenizer loader (:mod:`.tokenizer_loading`)
and the ``init_cfg`` test (:mod:`.init_cfg`).

Only the pure modules are imported here; :mod:`.vit_state_dict` and
:mod:`.tokenizer_loading` are imported by the models that use them.
"""
from .init_cfg import loads_pretrained
from .io import load_checkpoint_file, unwrap_state_dict
from .layouts import (OFFICIAL_LAYOUTS, convert_official,
                      convert_official_checkpoint, detect_layout,
                      extract_backbone, to_mmbeitv2)
from .official_keys import (DROPPED_PREFIXES, convert_beitv2_finetune,
                            convert_beitv2_finetune_key,
                            convert_beitv2_pretrain,
                            convert_beitv2_pretrain_key, convert_block_key,
                            convert_vit_key, convert_vqkd, convert_vqkd_key,
                            is_finetune_layout)

__all__ = [
    'loads_pretrained', 'load_checkpoint_file', 'unwrap_state_dict',
    'OFFICIAL_LAYOUTS', 'convert_official', 'convert_official_checkpoint',
    'detect_layout', 'extract_backbone', 'to_mmbeitv2', 'DROPPED_PREFIXES',
    'convert_beitv2_finetune', 'convert_beitv2_finetune_key',
    'convert_beitv2_pretrain', 'convert_beitv2_pretrain_key',
    'convert_block_key', 'convert_vit_key', 'convert_vqkd',
    'convert_vqkd_key', 'is_finetune_layout'
]
