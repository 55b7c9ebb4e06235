# Linear-probe schedule (BEiT v1 run_linear_eval.py recipe): AdamW, lr 4e-3
# at batch 1024 (1e-3 * bs / 256), wd 1e-4, cosine to 0 over 100 epochs,
# evaluated every 10.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=4e-3, weight_decay=1e-4,
                   betas=(0.9, 0.999)))
max_epochs = 100
param_scheduler = [
    dict(type='CosineAnnealingLR', by_epoch=True, begin=0, end=max_epochs,
         eta_min=0., convert_to_iter_based=True)
]
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=10)
val_cfg = dict()
test_cfg = dict()
