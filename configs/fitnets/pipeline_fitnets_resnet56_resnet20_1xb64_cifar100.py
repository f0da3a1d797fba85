# FitNets, the paper's two stages (Romero et al. 2015), as DIH compares it:
# 1. hint: resnet20 up to its guided layer regresses resnet56's hint layer
#    (40 epochs, L2 only);
# 2. kd: KD on the whole student (0.1 CE + 0.9 KL, T = 4, 240 epochs),
#    starting from the stage-1 student.
# Train the teacher first: configs/cifar_models/resnet56_1xb64_cifar100.py.
stages = [
    dict(name='hint',
         config='fitnets-hint_resnet56_resnet20_1xb64_cifar100.py'),
    dict(name='kd',
         config='../kd/kd_resnet56_resnet20_1xb64_cifar100.py',
         cfg_options={'model.student_ckpt': '{hint}'}),
]
