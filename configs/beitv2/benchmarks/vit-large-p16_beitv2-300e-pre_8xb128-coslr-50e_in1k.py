# BEiT v2 ViT-L/16 fine-tuning from 300-epoch pretraining (docs/official.md
# §3.4; paper 86.6 top-1): as the 1600e recipe with lr 5e-4.
_base_ = './vit-large-p16_beitv2-1600e-pre_8xb128-coslr-50e_in1k.py'

optim_wrapper = dict(optimizer=dict(lr=5e-4))
