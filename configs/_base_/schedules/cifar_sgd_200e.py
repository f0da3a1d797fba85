# DIH's CIFAR schedule (Table 2 of the DIH README): 200 epochs, SGD lr 0.1
# with Nesterov momentum 0.9, weight decay 5e-4, lr x0.1 at epochs 60, 120
# and 180, batch 64 in total. (The authors' code decays by x0.2; their
# README and paper say x0.1.)
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=5e-4,
                   nesterov=True))
param_scheduler = dict(
    type='MultiStepLR', by_epoch=True, milestones=[60, 120, 180], gamma=0.1)
train_cfg = dict(by_epoch=True, max_epochs=200, val_interval=1)
val_cfg = dict()
test_cfg = dict()
# lr above is for a total batch of 64; --auto-scale-lr rescales it
auto_scale_lr = dict(base_batch_size=64)
