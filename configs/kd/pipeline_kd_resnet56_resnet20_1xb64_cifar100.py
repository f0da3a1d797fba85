# Train the ResNet-56 teacher, then distil ResNet-20 from it with KD.
stages = [
    dict(name='teacher', config='../cifar_models/resnet56_1xb64_cifar100.py'),
    dict(name='kd', config='kd_resnet56_resnet20_1xb64_cifar100.py',
         cfg_options={'model.teacher_ckpt': '{teacher}'}),
]
