# The quickstart: train a teacher, train the student alone, distil the
# student with KD on the same schedule; print accuracy and wall time of each.
#   python tools/train.py configs/quickstart/pipeline_kd_resnet20_resnet8-w8_cifar10mini.py
stages = [
    dict(name='teacher', config='resnet20_1xb64_cifar10mini.py'),
    dict(name='student_alone', config='resnet8-w8_1xb64_cifar10mini.py'),
    dict(name='student_kd',
         config='kd_resnet20_resnet8-w8_1xb64_cifar10mini.py',
         cfg_options={'model.teacher_ckpt': '{teacher}'}),
]
