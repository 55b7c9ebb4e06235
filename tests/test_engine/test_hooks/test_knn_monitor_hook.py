# Copyright (c) mmbeitv2 contributors. All rights reserved.
import json
import math
import os.path as osp
import shutil
import tempfile
import uuid
from unittest import TestCase

import torch
from knn_monitor_utils import (ARCH, build_mae, make_image_folder,
                               split_loader)
from mmengine.dataset import default_collate
from mmengine.registry import DefaultScope

from mmbeitv2.engine.hooks import KNNMonitorHook
from mmbeitv2.engine.hooks.knn_monitor_hook import normalised_images
from mmbeitv2.errors import ConfigValueError
from mmbeitv2.evaluation.backbone_features import backbone_features
from mmbeitv2.evaluation.knn import knn_predict, knn_top1


def _unit(deg: float) -> list:
    return [math.cos(math.radians(deg)), math.sin(math.radians(deg))]


# Six bank points on the unit circle, two classes.
BANK = torch.tensor([_unit(a) for a in (0, 60, -60, 180, 120, 90)])
BANK_LABELS = torch.tensor([0, 1, 1, 0, 0, 1])
# q0 at 0 deg: cosine 1.0 to b0 (class 0), 0.5 to b1 and b2 (class 1),
# 0 to b5, -0.5 to b4, -1 to b3. q1 at 90 deg: 1.0 to b5 (class 1),
# 0.866 to b1 (class 1) and b4 (class 0), 0 to b0 and b3, -0.866 to b2.
QUERY = torch.tensor([_unit(0), _unit(90)])
QUERY_LABELS = torch.tensor([0, 1])


class TestKNN(TestCase):

    def test_weighted_vote_beats_majority(self):
        # k=3, q0: neighbours b0 (0), b1 (1), b2 (1): the majority says 1,
        # but with T=0.07 class 0 gets exp(1/0.07) = 1.6e6 against
        # 2 exp(0.5/0.07) = 2.5e3 for class 1 -> 0.
        # q1: b5 (1), b1 (1), b4 (0) -> 1 either way.
        pred = knn_predict(BANK, BANK_LABELS, QUERY, 2, k=3, temperature=.07)
        self.assertEqual(pred.tolist(), [0, 1])
        # T=1 flattens the weights: exp(1) = 2.72 < 2 exp(0.5) = 3.30, so
        # q0 goes with the majority, class 1.
        pred = knn_predict(BANK, BANK_LABELS, QUERY, 2, k=3, temperature=1.)
        self.assertEqual(pred.tolist(), [1, 1])
        # k=1: the nearest neighbour alone.
        pred = knn_predict(BANK, BANK_LABELS, QUERY, 2, k=1)
        self.assertEqual(pred.tolist(), [0, 1])

    def test_top1_cosine_and_k_clamped(self):
        # k=20 > 6 bank points: all six vote; q0's class 0 gets
        # exp(1/.07) + exp(-.5/.07) + exp(-1/.07) = 1.6e6 against
        # 2 exp(.5/.07) + exp(0) = 2.5e3: 100%.
        self.assertEqual(
            knn_top1(BANK, BANK_LABELS, QUERY, QUERY_LABELS, 2), 100.)
        self.assertEqual(
            knn_top1(BANK, BANK_LABELS, QUERY, QUERY_LABELS, 2, k=3,
                     temperature=1.), 50.)
        # Cosine similarity: the feature norms do not matter.
        norms = torch.tensor([5., .1, 2., 1., 3., .5])[:, None]
        scaled = knn_predict(BANK * norms, BANK_LABELS, QUERY * 7, 2, k=3)
        self.assertEqual(scaled.tolist(), [0, 1])


class TestBackboneFeatures(TestCase):

    def test_mae_vit_unmasked_in_train_mode(self):
        model = build_mae()
        vit = model.backbone
        self.assertTrue(vit.training)
        x = torch.randn(2, 3, 32, 32)
        saved = vit.out_type, list(vit.out_indices)
        cls = backbone_features(vit, x, 'cls')
        # Deterministic (no random masking) and equal to the plain
        # VisionTransformer forward on all 16 patches, after the final norm.
        self.assertTrue(torch.equal(cls, backbone_features(vit, x, 'cls')))
        with torch.no_grad():
            tokens = vit(x, mask=None)[-1]  # (B, 1 + 16, C)
        self.assertEqual(tokens.shape, (2, 17, ARCH['embed_dims']))
        torch.testing.assert_close(cls, tokens[:, 0])
        torch.testing.assert_close(
            backbone_features(vit, x, 'mean'), tokens[:, 1:].mean(1))
        self.assertEqual((vit.out_type, vit.out_indices), saved)

    def test_beitv2_pretraining_backbone(self):
        from tiny_models import pretrain_backbone

        from mmbeitv2.registry import MODELS
        torch.manual_seed(0)
        vit = MODELS.build(pretrain_backbone(ARCH, early_layers=1)).eval()
        x = torch.randn(2, 3, 32, 32)
        with torch.no_grad():
            early, last = vit(x)  # out_indices (0, 1), raw tokens
        torch.testing.assert_close(backbone_features(vit, x, 'cls'),
                                   last[:, 0])
        torch.testing.assert_close(backbone_features(vit, x, 'mean'),
                                   last[:, 1:].mean(1))
        self.assertEqual(vit.out_indices, [0, 1])


class TestKNNMonitorHook(TestCase):

    @classmethod
    def setUpClass(cls):
        cls.root = make_image_folder(tempfile.mkdtemp())
        cls.hook = cls._hook(k=3)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.root)

    @classmethod
    def _hook(cls, **kwargs) -> KNNMonitorHook:
        hook = KNNMonitorHook(
            split_loader(cls.root, 'train'), split_loader(cls.root, 'test'),
            **kwargs)
        with DefaultScope.overwrite_default_scope('mmbeitv2'):
            hook.build_loaders()
        return hook

    def test_arguments_are_checked(self):
        loader = split_loader(self.root, 'train')
        for kwargs, msg in ((dict(interval=0), 'interval=0'),
                            (dict(k=0), 'k=0'),
                            (dict(temperature=0), 'temperature=0'),
                            (dict(feature='avg'), "feature='avg'")):
            with self.assertRaisesRegex(ConfigValueError, msg):
                KNNMonitorHook(loader, loader, **kwargs)

    def test_demo_fragment_adds_the_hook_to_a_pretraining_config(self):
        from mmengine.config import Config

        from mmbeitv2.registry import HOOKS
        configs = osp.join(osp.dirname(__file__), '..', '..', '..',
                           'configs')
        path = osp.join(self.root, 'beitv2_knn.py')
        with open(path, 'w') as f:
            f.write(f"_base_ = ['{configs}/demo/beitv2_demo_cifar10-subset"
                    f".py', '{configs}/_base_/monitor/knn_cifar10_subset.py'"
                    ']\n')
        cfg = Config.fromfile(path)
        self.assertIn('target_generator', cfg.model)
        hook = HOOKS.build(cfg.custom_hooks[0])
        self.assertEqual((hook.interval, hook.k, hook.temperature,
                          hook.feature), (250, 20, 0.07, 'cls'))
        bank = hook.dataloader_cfgs['bank']['dataset']
        query = hook.dataloader_cfgs['query']['dataset']
        self.assertEqual(len(bank['indices']), 1000)  # 100 per class
        self.assertEqual((query['data_prefix'], query['indices']),
                         ('test', None))

    def test_measure_equals_knn_of_the_features_and_changes_nothing(self):
        model = build_mae()
        state = {k: v.clone() for k, v in model.state_dict().items()}
        top1, num_bank, num_query = self.hook.measure(model)
        self.assertEqual((num_bank, num_query), (12, 7))
        self.assertTrue(model.backbone.training)  # train mode restored
        for key, value in model.state_dict().items():
            self.assertTrue(torch.equal(value, state[key]), key)
        # The same kNN by hand, on features of the images in file order.
        feats = {}
        model.eval()
        for split in ('bank', 'query'):
            batches = list(self.hook._loaders[split])
            x = torch.cat([normalised_images(model, b) for b in batches])
            feats[split] = (backbone_features(model.backbone, x, 'cls'),
                            torch.tensor([int(s.gt_label[0]) for b in batches
                                          for s in b['data_samples']]))
        expected = knn_top1(*feats['bank'], *feats['query'], 2, k=3)
        self.assertEqual(top1, expected)

    def test_two_view_preprocessor_normalises_the_first_view(self):
        from tiny_models import beitv2_cfg

        from mmbeitv2.registry import MODELS
        with DefaultScope.overwrite_default_scope('mmbeitv2'):
            model = MODELS.build(beitv2_cfg(ARCH, ARCH, 16, early_layers=1))
        data = default_collate(
            [self.hook._loaders['query'].dataset[i] for i in range(2)])
        x = normalised_images(model, data)
        mean = torch.tensor([123.675, 116.28, 103.53]).view(1, 3, 1, 1)
        std = torch.tensor([58.395, 57.12, 57.375]).view(1, 3, 1, 1)
        rgb = data['inputs'].flip(1).float()  # BGR -> RGB
        torch.testing.assert_close(x, (rgb - mean) / std)
        top1, _, _ = self.hook.measure(model)
        self.assertTrue(0 <= top1 <= 100)

    def test_runner_logs_scalar_every_interval_and_at_the_end(self):
        from mmengine.runner import Runner
        work_dir = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, work_dir)
        train = split_loader(self.root, 'train')
        train['sampler'] = dict(type='InfiniteSampler', shuffle=True)
        runner = Runner(
            model=build_mae(),
            work_dir=work_dir,
            train_dataloader=train,
            optim_wrapper=dict(optimizer=dict(type='AdamW', lr=1e-3)),
            train_cfg=dict(by_epoch=False, max_iters=3),
            default_hooks=dict(
                logger=dict(type='LoggerHook', interval=1),
                checkpoint=None),
            custom_hooks=[
                dict(type='KNNMonitorHook',
                     bank_dataloader=split_loader(self.root, 'train'),
                     query_dataloader=split_loader(self.root, 'test'),
                     interval=2, k=3)
            ],
            default_scope='mmbeitv2',
            experiment_name=f'knn_{uuid.uuid4().hex}')
        runner.train()
        top1 = runner.message_hub.get_scalar('monitor/knn_top1').current()
        self.assertTrue(0 <= top1 <= 100)
        # iteration 2 (interval) and 3 (the end), in the scalars json
        vis = osp.join(runner.log_dir, 'vis_data', 'scalars.json')
        with open(vis) as f:
            rows = [json.loads(line) for line in f]
        knn = [(r['step'], r['monitor/knn_top1']) for r in rows
               if 'monitor/knn_top1' in r]
        self.assertEqual([s for s, _ in knn], [2, 3])
        self.assertEqual(knn[-1][1], top1)
        with open(osp.join(runner.log_dir, f'{runner.timestamp}.log')) as f:
            log = f.read()
        self.assertIn('kNN monitor, iteration 2: top-1', log)
        self.assertIn('kNN monitor, iteration 3: top-1', log)
        self.assertIn('12 bank / 7 query images', log)
