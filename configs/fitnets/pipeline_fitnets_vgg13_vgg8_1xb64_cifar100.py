# FitNets, the paper's two stages (Romero et al. 2015), as DIH compares it:
# 1. hint: vgg8 up to its guided layer regresses vgg13's hint layer
#    (40 epochs, L2 only);
# 2. kd: KD on the whole student (0.1 CE + 0.9 KL, T = 4, 240 epochs),
#    starting from the stage-1 student.
# Train the teacher first: configs/cifar_models/vgg13_1xb64_cifar100.py.
stages = [
    dict(name='hint',
         config='fitnets-hint_vgg13_vgg8_1xb64_cifar100.py'),
    dict(name='kd',
         config='../kd/kd_vgg13_vgg8_1xb64_cifar100.py',
         cfg_options={'model.student_ckpt': '{hint}'}),
]
