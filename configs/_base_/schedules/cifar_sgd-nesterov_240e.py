# ReviewKD's CIFAR-100 schedule (its train.py defaults): 240 epochs, SGD
# lr 0.1, Nesterov momentum 0.9, weight decay 5e-4, lr x0.1 at epochs 150,
# 180 and 210, batch 128 in total (the leaf config sets the batch size).
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.1, momentum=0.9, nesterov=True,
                   weight_decay=5e-4))
param_scheduler = dict(
    type='MultiStepLR', by_epoch=True, milestones=[150, 180, 210], gamma=0.1)
train_cfg = dict(by_epoch=True, max_epochs=240, val_interval=1)
val_cfg = dict()
test_cfg = dict()
# lr above is for a total batch of 128; --auto-scale-lr rescales it
auto_scale_lr = dict(base_batch_size=128)
