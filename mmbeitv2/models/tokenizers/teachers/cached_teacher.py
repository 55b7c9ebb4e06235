# Copyright (c) mmbeitv2 contributors. All rights reserved.
from typing import Dict, List, Optional, Tuple

import torch

from mmbeitv2.errors import UserInputError
from mmbeitv2.registry import MODELS
from .base_teacher import map_to_tokens
from .teacher_wrapper import TeacherWrapper


@MODELS.register_module()
class CachedTeacher(TeacherWrapper):
    """A frozen teacher that runs once per training view: a speed option of
    the small CPU configs, not part of BEiT v2's method.

    VQ-KD runs the frozen teacher on every view of every epoch. When the
    views are a finite set with ids (the train pipeline's random transforms
    wrapped in ``FixedViews`` and packed with
    ``PackInputs(algorithm_keys=['view_id'])``), a view's teacher features
    never change, so this wrapper keeps the inner teacher's raw
    (C, h', w') map of every view it has seen and runs the teacher only on
    the new ones. The targets equal the uncached ones exactly. Memory: one
    map per view (e.g. 112 x 4 x 4 floats = 7 KB for EfficientNet-Lite0 at
    64 px). The cache is not saved in checkpoints (a resumed run refills
    it). Batches without data samples (``predict``) go through the teacher
    uncached.

    Configs set it as ``cache=True`` in the tokenizer's teacher dict
    (:func:`build_teacher`).

    Args:
        teacher (dict): The inner teacher's config.
    """

    def __init__(self, teacher: dict) -> None:
        super().__init__(teacher)
        # view_id -> the inner teacher's raw (C, h', w') map, in fp32
        self._maps: Dict[int, torch.Tensor] = {}

    def targets(self, x01: torch.Tensor, grid: Tuple[int, int],
                data_samples: Optional[list], update: bool) -> torch.Tensor:
        """The inner teacher's targets, from the cache where possible: each
        data sample must have a ``view_id``; without data samples the
        teacher runs uncached. ``update`` is passed to the inner teacher."""
        if data_samples is None:
            return self.teacher(x01, grid, update=update)
        maps = self.cached_maps(x01, grid, view_ids(data_samples))
        # (B, C, h', w') -> the tokenizer's grid -> (B, h*w, C)
        return map_to_tokens(self.teacher.to_grid(maps, grid))

    def cached_maps(self, x01: torch.Tensor, grid: Tuple[int, int],
                    ids: List[int]) -> torch.Tensor:
        """(B, C, h', w') raw teacher maps of these views, from the cache
        where present; the missing ones are computed and stored."""
        missing = [i for i, v in enumerate(ids) if v not in self._maps]
        if missing:
            maps = self.teacher.raw_feature_map(
                x01[torch.tensor(missing, device=x01.device)], grid)
            for i, feat in zip(missing, maps.float()):
                self._maps[ids[i]] = feat.clone()
        return torch.stack([self._maps[v] for v in ids])


def view_ids(data_samples: list) -> List[int]:
    """The ``view_id`` of every sample, or one actionable error line."""
    if not data_samples or any('view_id' not in s for s in data_samples):
        raise UserInputError(
            'CachedTeacher (model.teacher.cache=True) needs a view id per '
            "image: wrap the train pipeline's random transforms in "
            "dict(type='FixedViews', num_views=..., transforms=[...]) and "
            "pack it with dict(type='PackInputs', algorithm_keys="
            "['view_id']), or set model.teacher.cache=False")
    return [int(s.view_id) for s in data_samples]
