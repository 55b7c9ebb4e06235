# Copyright (c) mmbeitv2 contributors. All rights reserved.
import pytest
import torch
from mmpretrain.evaluation import Accuracy

from mmbeitv2.datasets.imagenet_variants import IMAGENET_A_INDICES
from mmbeitv2.errors import UserInputError
from mmbeitv2.evaluation import SubsetAccuracy

A = IMAGENET_A_INDICES


def _samples(logits, labels):
    """Data samples as ``ClsHead.predict`` makes them: softmax scores."""
    scores = logits.softmax(dim=-1)
    return [
        dict(pred_score=s, gt_label=torch.tensor([label]))
        for s, label in zip(scores, labels)
    ]


def _evaluate(metric, samples):
    metric.process(None, samples)
    return metric.evaluate(len(samples))


def test_restriction_against_the_unrestricted_score():
    """The arg-max of all 1000 logits is class 0 (not in ImageNet-A); among
    the 200 A classes it is A[1] for the first two samples and A[0] for the
    third."""
    logits = torch.zeros(3, 1000)
    logits[:, 0] = 20.  # outside the subset, always the global arg-max
    logits[:2, A[1]] = 10.
    logits[2, A[0]] = 10.
    labels = [A[1], A[1], A[1]]
    samples = _samples(logits, labels)
    plain = _evaluate(Accuracy(topk=(1, 2)), samples)
    restricted = _evaluate(SubsetAccuracy('imagenet-a', topk=(1, 2)),
                           samples)
    assert plain['accuracy/top1'] == 0.
    assert restricted['accuracy/top1'] == pytest.approx(200 / 3)
    # top-2 inside A: {A[1], A[0]} for every sample
    assert restricted['accuracy/top2'] == pytest.approx(100.)
    assert plain['accuracy/top2'] == pytest.approx(200 / 3)


def test_equals_slicing_the_classifier_as_the_official_code():
    """Restricting the scores == a 200-row classifier (the official
    ``checkpoint_model['head.weight'][mask]``) with labels 0..199."""
    torch.manual_seed(0)
    feats, weight = torch.randn(64, 16), torch.randn(1000, 16)
    best = (feats @ weight[A].T).argmax(dim=1)  # (B, )
    # half the labels are the best subset class, half random ones
    picks = torch.where(
        torch.arange(64) % 2 == 0, best, torch.randint(0, 200, (64, )))
    labels = [A[i] for i in picks]
    ours = _evaluate(
        SubsetAccuracy(A, topk=(1, 5)), _samples(feats @ weight.T, labels))
    official_logits = feats @ weight[A].T  # (B, 200)
    positions = [A.index(label) for label in labels]
    official = _evaluate(
        Accuracy(topk=(1, 5)), _samples(official_logits, positions))
    assert ours == official
    assert 50 <= ours['accuracy/top1'] <= ours['accuracy/top5'] < 100


def test_label_outside_the_subset_is_an_error():
    metric = SubsetAccuracy('imagenet-a')
    with pytest.raises(UserInputError, match='label 0 is not one of the'):
        metric.process(None, _samples(torch.zeros(1, 1000), [0]))


@pytest.mark.parametrize('subset', [[3, 2], [1, 1], [], [-1, 4]])
def test_bad_subset(subset):
    with pytest.raises(UserInputError, match='sorted, unique'):
        SubsetAccuracy(subset)
