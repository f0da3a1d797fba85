# TAKD (Mirzadeh et al. 2020): ResNet-110 -> teaching assistant ResNet-56 ->
# ResNet-20, each step plain KD with RepDistiller's CIFAR-100 recipe (0.1 CE +
# 0.9 KL, T = 4, 240 epochs).
# 1. ta: ResNet-56 distilled from the ResNet-110 teacher (train the teacher
#    first: configs/cifar_models/resnet110_1xb64_cifar100.py);
# 2. student: ResNet-20 distilled from the assistant (its distiller
#    checkpoint gives its student's weights).
stages = [
    dict(name='ta',
         config='../kd/kd_resnet110_resnet56_1xb64_cifar100.py'),
    dict(name='student',
         config='../kd/kd_resnet56_resnet20_1xb64_cifar100.py',
         cfg_options={'model.teacher_ckpt': '{ta}'}),
]
