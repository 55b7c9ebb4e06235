# Copyright (c) mmbeitv2 contributors. All rights reserved.
from .beit_attention import BEiTAttention, gather_tokens
from .beit_block import BEiTBlock, Mlp
from .query_index import (masked_positions, masked_query_index,
                          uniform_mask_count, with_cls_index)
from .relative_position_bias import (RelativePositionBias,
                                     relative_position_index)

__all__ = [
    'BEiTAttention', 'BEiTBlock', 'Mlp', 'RelativePositionBias',
    'relative_position_index', 'gather_tokens', 'masked_positions',
    'uniform_mask_count', 'with_cls_index', 'masked_query_index'
]
