# AB init stage (Heo et al. 2019), as RepDistiller: resnet110 teaches
# resnet32; the student's feature layers (not its head) train on the
# activation-boundary losses of the pre-ReLU stage outputs, weights 3/1000 x
# 2^(i - n + 1), margin 1, no CE; equal shapes, so no connector
# (RepDistiller's Connector is the identity then); 30 epochs of SGD lr 0.05
# (constant), momentum 0.9, wd 5e-4. Then CE alone:
# pipeline_ab_resnet110_resnet32_1xb64_cifar100.py. The teacher comes from
# configs/cifar_models/resnet110_1xb64_cifar100.py.
_base_ = [
    '../_base_/datasets/cifar100_bs64.py',
    '../_base_/schedules/cifar_sgd_const_30e.py',
    '../_base_/default_runtime.py',
    '../_base_/models/distill/resnet110_resnet32_cifar100.py',
]
model = dict(
    student_loss_weight=0.,
    taps=dict(
        s_pre1='student.backbone.layer1.4.relu2:input',
        t_pre1='teacher.backbone.layer1.17.relu2:input',
        s_pre2='student.backbone.layer2.4.relu2:input',
        t_pre2='teacher.backbone.layer2.17.relu2:input',
        s_pre3='student.backbone.layer3.4.relu2:input',
        t_pre3='teacher.backbone.layer3.17.relu2:input'),
    distill_losses=dict(
        loss_ab_1=dict(type='ABLoss', margin=1.0, loss_weight=0.00075,
                       inputs=dict(feats_S='s_pre1', feats_T='t_pre1')),
        loss_ab_2=dict(type='ABLoss', margin=1.0, loss_weight=0.0015,
                       inputs=dict(feats_S='s_pre2', feats_T='t_pre2')),
        loss_ab_3=dict(type='ABLoss', margin=1.0, loss_weight=0.003,
                       inputs=dict(feats_S='s_pre3', feats_T='t_pre3'))))
optim_wrapper = dict(paramwise_cfg=dict(custom_keys={
    'student.head': dict(lr_mult=0., decay_mult=0.)}))
