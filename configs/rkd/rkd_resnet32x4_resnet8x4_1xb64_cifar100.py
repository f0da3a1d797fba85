# RKD (Park et al. 2019), RepDistiller's CIFAR-100 recipe: resnet32x4 teaches
# resnet8x4; loss = 1.0 CE + 1.0 x (25 distance + 50 angle) on the pooled
# features, no KD term; 240 epochs, SGD 0.05, lr x0.1 at 150/180/210, batch
# 64 on one GPU. The teacher comes from
# configs/cifar_models/resnet32x4_1xb64_cifar100.py.
_base_ = [
    '../_base_/datasets/cifar100_bs64.py',
    '../_base_/schedules/cifar_sgd_240e.py',
    '../_base_/default_runtime.py',
    '../_base_/models/distill/resnet32x4_resnet8x4_cifar100.py',
]
model = dict(
    student_loss_weight=1.0,
    taps=dict(
        s_pool='student.head.fc:input',
        t_pool='teacher.head.fc:input'),
    distill_losses=dict(
        loss_rkd=dict(type='RKDLoss', distance_weight=25, angle_weight=50,
                      loss_weight=1.0,
                      inputs=dict(feats_S='s_pool', feats_T='t_pool'))))
