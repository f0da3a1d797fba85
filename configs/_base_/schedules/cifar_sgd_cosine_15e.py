# A short schedule for the bundled CIFAR-10 subset: 15 epochs of SGD with a
# cosine learning rate updated every iteration.
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=5e-4,
                   nesterov=True))
param_scheduler = dict(
    type='CosineAnnealingLR', by_epoch=True, T_max=15,
    convert_to_iter_based=True)
train_cfg = dict(by_epoch=True, max_epochs=15, val_interval=5)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=64)
