# Ablation (docs/ablations.md), not BEiT v2's method: what the codes cost.
# The demo student regresses the demo teacher's features (EfficientNet-Lite0
# block 10 at 64 px, the map the demo tokenizer's decoder reconstructs,
# resampled to the 8x8 grid, l2-normalised) on the masked patches with a
# cosine loss, instead of predicting the tokenizer's codes; masks,
# aggregation branch, optimizer and schedule are the demo's.
_base_ = ['../beitv2_demo_cifar10-subset.py']

model = dict(
    target_generator=dict(
        _delete_=True,
        type='TeacherFeatures',
        teacher=dict(type='EfficientNetLite0Teacher', input_size=64),
        grid=(8, 8)),
    # its width C follows the backbone's (BEiTv2)
    head=dict(_delete_=True, type='FeatureRegressionHead', target_dims=112))
log_processor = dict(mean_pattern=r'.*(loss|time|data_time|grad_norm).*')
