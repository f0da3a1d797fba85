# AB (Heo et al. 2019), RepDistiller's two stages:
# 1. init: the student's feature layers train on the distill losses alone
#    (30 epochs, lr 0.05 constant);
# 2. ce: the whole student trains with cross-entropy alone (RepDistiller's
#    -a 0; its stage-2 distill term is 0), 240 epochs, starting from the
#    stage-1 student (its `student.*` weights).
# Train the teacher first: configs/cifar_models/resnet56_1xb64_cifar100.py.
stages = [
    dict(name='init',
         config='ab-init_resnet56_resnet20_1xb64_cifar100.py'),
    dict(name='ce',
         config='../cifar_models/resnet20_1xb64_cifar100.py',
         cfg_options={
             'model.init_cfg.type': 'Pretrained',
             'model.init_cfg.checkpoint': '{init}',
             'model.init_cfg.prefix': 'student.'
         }),
]
