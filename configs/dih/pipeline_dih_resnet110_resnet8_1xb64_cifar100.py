# DIH end to end on CIFAR-100: train the ResNet-110 teacher, fine-tune its
# heads on a validation split of the training set, distil ResNet-8 from the
# cohort:
#   python tools/train.py configs/dih/pipeline_dih_resnet110_resnet8_1xb64_cifar100.py \
#       --work-dir work_dirs/dih_resnet110_resnet8_cifar100_seed30 \
#       --cfg-options randomness.seed=30
# (the paper reports the mean of seeds 30, 50 and 67). Running it again
# skips finished stages and resumes an interrupted one.
stages = [
    dict(name='teacher',
         config='../cifar_models/resnet110_1xb64-200e_cifar100.py'),
    dict(name='heads', config='dih-heads_resnet110_1xb64_cifar100.py',
         cfg_options={'model.teacher_ckpt': '{teacher}'}),
    dict(name='student', config='dih_resnet110_resnet8_1xb64_cifar100.py',
         cfg_options={'model.teacher_ckpt': '{heads}'}),
]
