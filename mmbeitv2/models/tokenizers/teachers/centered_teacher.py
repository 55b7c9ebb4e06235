# Copyright (c) mmbeitv2 contributors. All rights reserved.
from typing import Dict, Optional, Tuple

import torch

from mmbeitv2.registry import MODELS
from .teacher_wrapper import TeacherWrapper


@MODELS.register_module()
class CenteredTeacher(TeacherWrapper):
    """Teacher features minus their running mean: a named deviation from
    BEiT v2, whose VQ-KD regresses the raw teacher features
    (https://arxiv.org/abs/2208.06366 §3.1; unilm beit2 ``modeling_vqkd.py``
    ``get_regress_target``), off by default.

    For teachers whose patch features share one large direction
    (docs/demo.md), the cosine loss mostly measures that direction; with
    the mean subtracted it measures what differs between patches. The mean
    is an EMA over training batches (buffer ``target_mean``, started at the
    first batch's mean), updated only when the tokenizer trains
    (``update=True``), never in eval. It is the teacher's one piece of
    training state: the tokenizer saves it in its checkpoint under its own
    keys ``target_mean`` / ``target_mean_initted``
    (:meth:`running_stats`), while the teacher's weights stay out.

    Configs set it as ``center=True`` (and ``center_momentum``) in the
    tokenizer's teacher dict (:func:`build_teacher`).

    Args:
        teacher (dict): The inner teacher's config.
        out_dims (int): The teacher's feature width C (the tokenizer's
            ``decoder_out_dims``).
        momentum (float): EMA momentum of ``target_mean``.
            Defaults to 0.99.
    """

    def __init__(self,
                 teacher: dict,
                 out_dims: int,
                 momentum: float = 0.99) -> None:
        super().__init__(teacher)
        self.momentum = momentum
        self.register_buffer('target_mean', torch.zeros(out_dims))
        self.register_buffer('target_mean_initted', torch.tensor(0.))

    def targets(self, x01: torch.Tensor, grid: Tuple[int, int],
                data_samples: Optional[list], update: bool) -> torch.Tensor:
        """The inner teacher's targets in fp32 minus the running mean,
        which ``update=True`` (the tokenizer training) first updates with
        this batch; ``data_samples`` are passed to the inner teacher."""
        target = self.teacher(x01, grid, data_samples, update).float()
        if update:
            batch_mean = target.mean((0, 1))  # (C, )
            # First batch: start at its mean, not at zero.
            m = self.momentum * self.target_mean_initted
            self.target_mean.mul_(m).add_(batch_mean * (1 - m))
            self.target_mean_initted.fill_(1.)
        return target - self.target_mean

    def running_stats(self) -> Dict[str, torch.Tensor]:
        return dict(
            self.teacher.running_stats(),
            target_mean=self.target_mean,
            target_mean_initted=self.target_mean_initted)
