# Copyright (c) mmbeitv2 contributors. All rights reserved.
import math
from typing import List

from mmengine.optim.scheduler import CosineAnnealingLR

from mmbeitv2.registry import PARAM_SCHEDULERS


@PARAM_SCHEDULERS.register_module()
class LayerDecayCosineAnnealingLR(CosineAnnealingLR):
    """Cosine annealing whose floor follows each group's layer-decay scale.

    The official fine-tuning (unilm ``beit2/run_class_finetuning.py`` with
    ``utils.cosine_scheduler``) builds one schedule from ``lr`` down to
    ``min_lr`` and sets every parameter group to ``schedule[it] *
    lr_scale``, so the floor is scaled by the layer decay too:
    ``min_lr * lr_scale``. mmengine's ``CosineAnnealingLR(eta_min=min_lr)``
    gives every group the same absolute floor instead; with layer decay 0.6
    on ViT-B the patch embedding (scale 0.6^13) would then end at ~760x
    its official lr. Here ``eta_min`` is the official ``min_lr`` (the floor
    of a group with ``lr_scale`` 1) and a group's floor is
    ``eta_min * group['lr_scale']``, the scale that mmpretrain's
    ``LearningRateDecayOptimWrapperConstructor`` stores in each group.
    Groups without ``lr_scale`` use scale 1, i.e. mmengine's behaviour.

    Args: those of mmengine's ``CosineAnnealingLR``; ``eta_min_ratio`` is
    not accepted (it already scales with each group's lr).
    """

    def __init__(self, optimizer, *args, eta_min: float = 0., **kwargs):
        if kwargs.get('eta_min_ratio') is not None:
            raise ValueError(
                'LayerDecayCosineAnnealingLR takes eta_min (the floor at '
                'lr_scale 1), not eta_min_ratio; use mmengine\'s '
                'CosineAnnealingLR for a ratio floor.')
        kwargs.pop('eta_min_ratio', None)
        super().__init__(optimizer, *args, eta_min=eta_min, **kwargs)

    def _floors(self) -> List[float]:
        return [
            self.eta_min * group.get('lr_scale', 1.0)
            for group in self.optimizer.param_groups
        ]

    def _get_value(self) -> list:
        """mmengine's chainable cosine step, with one floor per group."""
        groups = self.optimizer.param_groups
        if self.last_step == 0:
            return [group[self.param_name] for group in groups]
        floors = self._floors()
        if (self.last_step - 1 - self.T_max) % (2 * self.T_max) == 0:
            return [
                group[self.param_name] + (base - floor) *
                (1 - math.cos(math.pi / self.T_max)) / 2
                for base, floor, group in zip(self.base_values, floors,
                                              groups)
            ]
        ratio = (1 + math.cos(math.pi * self.last_step / self.T_max)) / (
            1 + math.cos(math.pi * (self.last_step - 1) / self.T_max))
        return [
            ratio * (group[self.param_name] - floor) + floor
            for floor, group in zip(floors, groups)
        ]
