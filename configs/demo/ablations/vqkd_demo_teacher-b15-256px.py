# Ablation (docs/ablations.md): EfficientNet-Lite0's last block (15) at
# 256 px, whose 8x8 map is the token grid itself (no resampling).
# Pretraining on it: beitv2_demo_teacher-320d.py.
_base_ = ['./vqkd_demo_teacher-b15-128px.py']

model = dict(teacher=dict(input_size=256))
work_dir = './work_dirs/ablations/teacher-b15-256px/vqkd'
