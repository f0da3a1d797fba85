# FitNets' stage 1 as DIH's baseline runs it: 40 epochs of SGD at a constant
# lr 0.1, Nesterov momentum 0.9, weight decay 5e-4, batch 64.
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=5e-4,
                   nesterov=True))
# no param_scheduler: the lr stays constant
train_cfg = dict(by_epoch=True, max_epochs=40, val_interval=40)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=64)
