# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Linear probes on extracted, frozen features.

The BEiT v1 per-layer protocol (docs/official.md §3.5: every block's
``[CLS ; mean of the patch tokens]``, a normalisation, a linear classifier)
fitted on features extracted once, instead of trained with SGD through the
frozen backbone for several epochs: multinomial logistic regression on
standardised features, full batch, L-BFGS. On CPU this takes seconds where
the SGD probe takes minutes, and the pretrained, the random-init, the MAE
and the teacher probes all go through the same code. It is the probe of the
small CPU benchmarks (``tools/analysis_tools/feature_probe.py``); the
paper-size probe configs keep the SGD protocol (``tools/train.py``), and so
can the CIFAR-10 probe configs.

Model selection never looks at the test split: the weight decay of each
block and the "best block" are chosen on a held-out part of the train split
(every ``holdout_every``-th image), then each block is refitted on the whole
train split with its weight decay and scored on the test split.
"""
from typing import Dict, Iterable, List, Sequence, Tuple, Union

import torch
import torch.nn.functional as F

DEFAULT_WEIGHT_DECAYS = (1e-4, 1e-3, 1e-2)


def layer_features(outs: Sequence[torch.Tensor],
                   num_extra_tokens: int = 1) -> torch.Tensor:
    """Per-layer probe features of one batch.

    Args:
        outs (Sequence[torch.Tensor]): Backbone outputs, one per probed
            layer: raw token sequences (B, extra + N, C) of a ViT
            (``out_type='raw'``), or pooled features (B, C) (e.g. a
            ``TeacherBackbone``), used as they are.
        num_extra_tokens (int): Leading non-patch tokens ([CLS] first).

    Returns:
        torch.Tensor: (B, L, D): ``[CLS ; mean patch]`` (D = 2C) for token
        sequences, the pooled feature (D = C) otherwise.
    """
    feats = []
    for out in outs:
        if out.dim() == 3:  # (B, extra + N, C)
            patch = out[:, num_extra_tokens:].mean(dim=1)
            out = torch.cat([out[:, 0], patch], dim=-1)  # (B, 2C)
        feats.append(out.float())
    return torch.stack(feats, dim=1)


def standardize(train: torch.Tensor,
                *others: torch.Tensor) -> List[torch.Tensor]:
    """Zero mean, unit variance per feature, with the train statistics."""
    mean = train.mean(dim=0, keepdim=True)
    std = train.std(dim=0, keepdim=True).clamp_min(1e-6)
    return [(x - mean) / std for x in (train, *others)]


def fit_logistic_regression(x: torch.Tensor,
                            y: torch.Tensor,
                            num_classes: int,
                            weight_decay: Union[float, Sequence[float]],
                            max_iter: int = 200,
                            dtype: torch.dtype = torch.float32
                            ) -> Tuple[torch.Tensor, torch.Tensor]:
    """Multinomial logistic regression, full-batch L-BFGS.

    Minimises ``CE(x W + b, y) + weight_decay / 2 * |W|^2``; deterministic
    for the same inputs. Several independent problems are solved in one
    L-BFGS run (the objective is their sum, so each reaches its own
    optimum): ``x`` (P, N, D) with one weight decay per problem.

    Args:
        x (torch.Tensor): (N, D), or (P, N, D) for P problems.
        y (torch.Tensor): (N, ) labels, shared by the problems.
        num_classes (int): K.
        weight_decay (float | Sequence[float]): One, or one per problem.
        max_iter (int): L-BFGS iterations. Defaults to 200.
        dtype (torch.dtype): Defaults to float32 (on the demo's features
            the test top-1 of float32 and float64 fits differ by < 1 point,
            and float32 is ~1.3x faster on CPU).

    Returns:
        tuple: ``W`` (D, K) and ``b`` (K, ), or (P, D, K) and (P, K).
    """
    single = x.dim() == 2
    x = x.to(dtype)[None] if single else x.to(dtype)  # (P, N, D)
    wd = torch.as_tensor(weight_decay, dtype=dtype).expand(
        len(x)).reshape(-1, 1, 1)  # (P, 1, 1)
    w = torch.zeros(len(x), x.shape[2], num_classes, dtype=dtype,
                    requires_grad=True)
    b = torch.zeros(len(x), 1, num_classes, dtype=dtype,
                    requires_grad=True)
    targets = y.expand(len(x), -1).reshape(-1)  # (P*N, )
    opt = torch.optim.LBFGS([w, b], lr=1, max_iter=max_iter,
                            history_size=20, tolerance_grad=1e-7,
                            tolerance_change=1e-10,
                            line_search_fn='strong_wolfe')

    def closure():
        opt.zero_grad()
        logits = torch.baddbmm(b, x, w)  # (P, N, K)
        # sum over problems of each one's mean cross-entropy
        loss = F.cross_entropy(
            logits.reshape(-1, num_classes), targets,
            reduction='sum') / x.shape[1] + 0.5 * (wd * w * w).sum()
        loss.backward()
        return loss

    with torch.enable_grad():
        opt.step(closure)
    w, b = w.detach(), b.detach()[:, 0]
    return (w[0], b[0]) if single else (w, b)


def top1(x: torch.Tensor, y: torch.Tensor,
         params: Tuple[torch.Tensor, torch.Tensor]) -> float:
    """Top-1 accuracy (%) of a fitted probe."""
    w, b = params
    return (x.to(w.dtype) @ w + b).argmax(1).eq(y).double().mean().item() * 100


def probe_layers(train_x: torch.Tensor,
                 train_y: torch.Tensor,
                 test_x: torch.Tensor,
                 test_y: torch.Tensor,
                 num_classes: int,
                 weight_decays: Iterable[float] = DEFAULT_WEIGHT_DECAYS,
                 holdout_every: int = 10) -> Dict:
    """Probe every layer; choose weight decays and the best layer on a
    held-out part of the train split (module doc).

    Args:
        train_x, test_x (torch.Tensor): (N, L, D) features.
        train_y, test_y (torch.Tensor): (N, ) labels.
        num_classes (int): K.
        weight_decays (Iterable[float]): The grid searched per layer.
        holdout_every (int): Every n-th train sample is held out for the
            selection.

    Returns:
        dict: ``layer_top1`` (test top-1 per layer), ``layer_holdout_top1``,
        ``layer_weight_decay``, ``best_layer`` (chosen on the held-out
        part), ``best_top1`` (its test top-1), ``last_top1``.
    """
    weight_decays = tuple(weight_decays)
    num_layers, grid = train_x.shape[1], len(weight_decays)
    held = torch.zeros(len(train_y), dtype=torch.bool)
    held[::holdout_every] = True
    # 1. every (layer, weight decay) on the fit part, scored on held-out
    fit_x, held_x = [], []
    for layer in range(num_layers):
        f, h = standardize(train_x[~held, layer], train_x[held, layer])
        fit_x += [f] * grid
        held_x += [h] * grid
    w, b = fit_logistic_regression(
        torch.stack(fit_x), train_y[~held], num_classes,
        weight_decays * num_layers)
    scores = torch.tensor([
        top1(h, train_y[held], (w[i], b[i])) for i, h in enumerate(held_x)
    ]).view(num_layers, grid)
    # ties go to the larger weight decay
    best_wd = [max(range(grid), key=lambda g: (row[g].item(), g))
               for row in scores]
    # 2. every layer refitted on the whole train split with its decay
    all_x, test_xs = zip(*[
        standardize(train_x[:, layer], test_x[:, layer])
        for layer in range(num_layers)
    ])
    w, b = fit_logistic_regression(
        torch.stack(all_x), train_y, num_classes,
        [weight_decays[g] for g in best_wd])
    out = dict(
        layer_top1=[top1(t, test_y, (w[i], b[i]))
                    for i, t in enumerate(test_xs)],
        layer_holdout_top1=[scores[i, g].item()
                            for i, g in enumerate(best_wd)],
        layer_weight_decay=[weight_decays[g] for g in best_wd])
    held_scores = out['layer_holdout_top1']
    best_layer = max(range(len(held_scores)),
                     key=lambda i: (held_scores[i], i))
    out.update(
        best_layer=best_layer,
        best_top1=out['layer_top1'][best_layer],
        last_top1=out['layer_top1'][-1])
    return out
