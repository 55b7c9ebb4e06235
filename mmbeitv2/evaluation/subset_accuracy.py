# Copyright (c) mmbeitv2 contributors. All rights reserved.
from typing import Optional, Sequence, Union

import torch
from mmpretrain.evaluation import Accuracy

from mmbeitv2.datasets.imagenet_variants import get_subset_indices
from mmbeitv2.errors import UserInputError
from mmbeitv2.registry import METRICS


@METRICS.register_module()
class SubsetAccuracy(Accuracy):
    """mmpretrain's top-k ``Accuracy`` of a 1000-way classifier on a test
    set that holds only some of the classes (ImageNet-A, ImageNet-R).

    As the official BEiT v2 robustness evaluation (microsoft/unilm
    ``beit2/run_class_finetuning.py --robust_test imagenet_a|imagenet_r``,
    which keeps only the subset's rows of the classifier): the scores of the
    subset's classes, in ImageNet-1k index order, are kept and the rest
    dropped before the top-k, and each label (an ImageNet-1k index) becomes
    its position in the subset. A class outside the subset can then never be
    predicted. The model's ``pred_score`` is the softmax of the logits,
    which keeps their order, so the top-k equals the top-k of the
    restricted logits (as long as no score underflows to 0, i.e. for logit
    gaps below about 80 in fp32).

    Args:
        subset (str | Sequence[int]): A test set with a class list in
            :data:`mmbeitv2.datasets.imagenet_variants.VARIANTS`
            (``'imagenet-a'``, ``'imagenet-r'``), or the class indices.
        topk (int | Sequence[int]): As ``Accuracy``. Defaults to ``(1, )``.
        thrs (float | Sequence[float | None] | None): As ``Accuracy``.
            Defaults to 0.
        collect_device (str): Defaults to ``'cpu'``.
        prefix (str, optional): Defaults to ``'accuracy'``, as ``Accuracy``,
            so every test set reports ``accuracy/top1``.
    """

    def __init__(self,
                 subset: Union[str, Sequence[int]],
                 topk: Union[int, Sequence[int]] = (1, ),
                 thrs: Union[float, Sequence[Optional[float]], None] = 0.,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(
            topk=topk, thrs=thrs, collect_device=collect_device,
            prefix=prefix)
        if isinstance(subset, str):
            subset = get_subset_indices(subset)
        indices = torch.as_tensor(list(subset), dtype=torch.long)
        if indices.ndim != 1 or not len(indices) or \
                (indices.diff() <= 0).any() or indices.min() < 0:
            raise UserInputError(
                'SubsetAccuracy: subset must be sorted, unique class '
                f'indices >= 0, got {list(subset)[:5]}...')
        self.indices = indices  # (S, )
        # ImageNet-1k index -> position in the subset, -1 outside it
        self.position = torch.full((int(indices.max()) + 1, ), -1)
        self.position[indices] = torch.arange(len(indices))

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        """Restrict each sample's scores and label to the subset, then
        store them as ``Accuracy`` does."""
        restricted = []
        for sample in data_samples:
            if 'pred_score' not in sample:
                raise UserInputError(
                    'SubsetAccuracy needs pred_score (class scores) in the '
                    'model outputs; a head giving only labels cannot be '
                    'restricted')
            score = sample['pred_score']  # (1000, )
            label = int(sample['gt_label'].view(-1)[0])
            in_subset = label < len(self.position) and \
                self.position[label] >= 0
            if not in_subset:
                raise UserInputError(
                    f'SubsetAccuracy: label {label} is not one of the '
                    f'{len(self.indices)} subset classes; the test set and '
                    'the evaluator subset disagree')
            restricted.append(
                dict(
                    pred_score=score[self.indices.to(score.device)],
                    gt_label=self.position[label].view(1)))
        super().process(data_batch, restricted)
