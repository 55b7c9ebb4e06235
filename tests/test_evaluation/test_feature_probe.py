# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""The closed-loop linear probe of mmbeitv2.evaluation.feature_probe."""
import torch
import torch.nn.functional as F

from mmbeitv2.evaluation import feature_probe as fp


def _blobs(n_per_class: int, classes: int, dims: int, signal: float,
           seed: int):
    """Gaussian classes: mean ``signal`` on one axis per class."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(classes).repeat_interleave(n_per_class)
    x = torch.randn(len(y), dims, generator=g)
    x[torch.arange(len(y)), y] += signal
    perm = torch.randperm(len(y), generator=g)
    return x[perm], y[perm]


def test_layer_features_cls_mean_and_pooled():
    tokens = torch.arange(2 * 5 * 3, dtype=torch.float).view(2, 5, 3)
    pooled = torch.ones(2, 4)
    out = fp.layer_features([tokens, tokens * 2], num_extra_tokens=1)
    assert out.shape == (2, 2, 6)  # (B, L, [CLS ; mean patch])
    torch.testing.assert_close(out[:, 0, :3], tokens[:, 0])
    torch.testing.assert_close(out[:, 0, 3:], tokens[:, 1:].mean(1))
    torch.testing.assert_close(out[:, 1], 2 * out[:, 0])
    assert fp.layer_features([pooled]).shape == (2, 1, 4)


def test_logistic_regression_reaches_the_optimum():
    x, y = _blobs(40, 3, 5, signal=3., seed=0)
    w, b = fp.fit_logistic_regression(x, y, 3, weight_decay=1e-2,
                                      dtype=torch.float64)
    assert fp.top1(x, y, (w, b)) > 95
    # first-order optimality: the gradient of the objective is ~0
    w, b = w.clone().requires_grad_(), b.clone().requires_grad_()
    loss = F.cross_entropy(x.double() @ w + b, y) + 0.5e-2 * (w * w).sum()
    gw, gb = torch.autograd.grad(loss, (w, b))
    assert gw.abs().max() < 1e-5 and gb.abs().max() < 1e-5


def test_batched_problems_equal_separate_fits():
    x, y = _blobs(30, 4, 6, signal=1.5, seed=1)
    stacked = torch.stack([x, x * 0.5 + 1])
    f64 = dict(dtype=torch.float64)
    w, b = fp.fit_logistic_regression(stacked, y, 4, [1e-3, 1e-1], **f64)
    for i, wd in enumerate((1e-3, 1e-1)):
        w1, b1 = fp.fit_logistic_regression(stacked[i], y, 4, wd, **f64)
        torch.testing.assert_close(w[i], w1, rtol=0, atol=2e-4)
        torch.testing.assert_close(b[i], b1, rtol=0, atol=2e-4)


def test_probe_layers_picks_the_informative_block_without_the_test_labels():
    x, y = _blobs(50, 4, 8, signal=2.5, seed=3)  # 200 samples
    noise = torch.randn_like(x)
    feats = torch.stack([noise, x, noise * 2], dim=1)  # (N, 3 blocks, D)
    train_x, train_y, test_x, test_y = feats[:150], y[:150], feats[150:], \
        y[150:]
    res = fp.probe_layers(train_x, train_y, test_x, test_y, 4)
    assert res['best_layer'] == 1
    assert res['best_top1'] == res['layer_top1'][1] > 85
    assert res['last_top1'] == res['layer_top1'][2] < 50
    assert len(res['layer_weight_decay']) == 3
    # the choice never looks at the test labels
    shuffled = fp.probe_layers(train_x, train_y, test_x,
                               test_y[torch.randperm(50)], 4)
    assert shuffled['best_layer'] == res['best_layer']
    assert shuffled['layer_weight_decay'] == res['layer_weight_decay']
    # deterministic
    assert fp.probe_layers(train_x, train_y, test_x, test_y, 4) == res


def test_logistic_regression_hand_solved():
    """Two points, x = +1 (class 1) and x = -1 (class 0), weight decay l.
    By symmetry the optimum has b0 = b1 and w = (-u/2, u/2), where u
    minimises log(1 + exp(-u)) + l u^2 / 4, i.e. l u (1 + e^u) = 2:
    solved here by bisection, independently of the probe's L-BFGS."""
    lam = 0.1
    lo, hi = 0., 20.
    for _ in range(200):
        mid = (lo + hi) / 2
        if lam * mid * (1 + torch.tensor(mid).exp().item()) < 2:
            lo = mid
        else:
            hi = mid
    u = (lo + hi) / 2
    x = torch.tensor([[1.], [-1.]])
    y = torch.tensor([1, 0])
    w, b = fp.fit_logistic_regression(x, y, 2, weight_decay=lam,
                                      dtype=torch.float64)
    torch.testing.assert_close(
        w, torch.tensor([[-u / 2, u / 2]], dtype=torch.float64),
        rtol=0, atol=1e-6)
    torch.testing.assert_close(b[0], b[1], rtol=0, atol=1e-9)
    assert 2. < u < 2.3  # u = 2.128: the numbers above are not degenerate
    # top-1 of a hand-checked case: sign of x decides, one of 4 wrong
    test_x = torch.tensor([[2.], [-0.5], [0.3], [-3.]])
    assert fp.top1(test_x, torch.tensor([1, 0, 0, 0]), (w, b)) == 75.
