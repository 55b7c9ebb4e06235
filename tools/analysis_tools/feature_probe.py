# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Linear probe of a frozen backbone on features extracted once.

Usage:
    python tools/analysis_tools/feature_probe.py CONFIG --work-dir DIR \
        [--cfg-options model.backbone.init_cfg.checkpoint=CKPT ...]

CONFIG is a linear-probe config (an ``ImageClassifier`` whose backbone
returns one output per probed block: a ViT with ``out_type='raw'``, or a
``TeacherBackbone``). The backbone is built as the config says (its
``init_cfg`` loads the pretrained weights; ``model.backbone.init_cfg=None``
gives the random-init reference, seeded by ``randomness.seed``). Every image
of the train and test splits goes once through the config's *test* pipeline
(no augmentation); per block, ``[CLS ; mean patch]`` features are fitted with
full-batch L-BFGS logistic regression (``mmbeitv2.evaluation.feature_probe``:
weight decay and best block chosen on a held-out tenth of the train split).

Writes ``DIR/probe.json`` (per-block test top-1, best and last block) and
``DIR/features.pt`` (test features, labels and image paths, for the demo's
nearest-neighbour picture).
"""
import argparse
import json
import os
import os.path as osp
import sys
import time

import torch

sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), '..', '..'))
from mmbeitv2.cli import run_cli  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='linear-probe config')
    parser.add_argument('--work-dir', required=True, help='output folder')
    parser.add_argument('--batch-size', type=int, default=250)
    parser.add_argument(
        '--num-workers', type=int, default=0,
        help='data loader workers (0: load in this process, fastest for '
        'a few thousand small images)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        default={}, help='override config keys')
    return parser.parse_args(argv)


def _loader(cfg, split: str, batch_size: int, num_workers: int):
    """``split`` ('train' or 'test') of CONFIG through its test pipeline,
    in order."""
    from mmengine.registry import DefaultScope
    from mmengine.runner import Runner
    dataset = dict(cfg[f'{split}_dataloader']['dataset'])
    dataset['pipeline'] = cfg.test_dataloader.dataset.pipeline
    loader = dict(
        batch_size=batch_size,
        num_workers=num_workers,
        persistent_workers=False,
        sampler=dict(type='DefaultSampler', shuffle=False),
        collate_fn=dict(type='default_collate'),
        dataset=dataset)
    with DefaultScope.overwrite_default_scope('mmbeitv2'):
        return Runner.build_dataloader(loader)


@torch.no_grad()
def extract(model, loader):
    """(N, L, D) per-block features, (N, ) labels and the image paths."""
    from mmbeitv2.evaluation.feature_probe import layer_features
    feats, labels, paths = [], [], []
    extra = getattr(model.backbone, 'num_extra_tokens', 1)
    for batch in loader:
        data = model.data_preprocessor(batch, False)
        outs = model.backbone(data['inputs'])  # one per probed block
        feats.append(layer_features(outs, extra))
        for sample in data['data_samples']:
            labels.append(int(sample.gt_label[0]))
            paths.append(sample.img_path)
    return torch.cat(feats), torch.tensor(labels), paths


def main(argv=None) -> dict:
    args = parse_args(argv)
    from mmengine.config import Config
    from mmengine.runner import set_random_seed

    from mmbeitv2.apis import get_model
    from mmbeitv2.compat import install_runtime_patches
    from mmbeitv2.evaluation.feature_probe import probe_layers
    install_runtime_patches()
    t0 = time.time()
    cfg = Config.fromfile(args.config)
    cfg.merge_from_dict(args.cfg_options)
    set_random_seed(cfg.get('randomness', {}).get('seed', 0))
    model = get_model(cfg)
    model.init_weights()  # init_cfg: pretrained weights, or random init
    model.eval()
    train = extract(model, _loader(cfg, 'train', args.batch_size,
                                   args.num_workers))
    test = extract(model, _loader(cfg, 'test', args.batch_size,
                                  args.num_workers))
    t1 = time.time()
    num_classes = int(max(train[1].max(), test[1].max())) + 1
    result = probe_layers(train[0], train[1], test[0], test[1], num_classes)
    result.update(
        num_train=len(train[1]), num_test=len(test[1]),
        num_classes=num_classes, extract_s=t1 - t0,
        fit_s=time.time() - t1)
    os.makedirs(args.work_dir, exist_ok=True)
    torch.save(dict(features=test[0].half(), labels=test[1],
                    paths=test[2]), osp.join(args.work_dir, 'features.pt'))
    # probe.json last: it marks the stage as done (tools/run_demo.py)
    with open(osp.join(args.work_dir, 'probe.json'), 'w') as f:
        json.dump(result, f, indent=1)
    per_block = ', '.join(f'{a:.1f}' for a in result['layer_top1'])
    print(f'feature probe: test top-1 per block [{per_block}]; best block '
          f'{result["best_layer"]} (chosen on held-out train images) '
          f'{result["best_top1"]:.1f}%, last block '
          f'{result["last_top1"]:.1f}% ({result["num_train"]} train / '
          f'{result["num_test"]} test images; extract '
          f'{result["extract_s"]:.0f} s, fit {result["fit_s"]:.0f} s)')
    return result


if __name__ == '__main__':
    sys.exit(run_cli(main))
