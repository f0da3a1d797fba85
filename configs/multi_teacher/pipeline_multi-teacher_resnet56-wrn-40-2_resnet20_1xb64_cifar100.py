# Train both teachers, then ResNet-20 from both: per-teacher KD losses, and
# KD from their averaged logits.
stages = [
    dict(name='resnet56',
         config='../cifar_models/resnet56_1xb64_cifar100.py'),
    dict(name='wrn_40_2',
         config='../cifar_models/wrn-40-2_1xb64_cifar100.py'),
    dict(name='per_teacher',
         config='kd-per-teacher_resnet56-wrn-40-2_resnet20_1xb64_cifar100.py',
         cfg_options={'model.teachers.resnet56.ckpt': '{resnet56}',
                      'model.teachers.wrn_40_2.ckpt': '{wrn_40_2}'}),
    dict(name='ensemble',
         config='kd-ensemble_resnet56-wrn-40-2_resnet20_1xb64_cifar100.py',
         cfg_options={'model.teachers.resnet56.ckpt': '{resnet56}',
                      'model.teachers.wrn_40_2.ckpt': '{wrn_40_2}'}),
]
