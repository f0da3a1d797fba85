# KD (Hinton et al. 2015), RepDistiller's CIFAR-100 recipe: resnet56 teaches
# resnet20; loss = 0.1 CE + 0.9 T^2 KL(T || S), T = 4; 240 epochs, SGD 0.05,
# lr x0.1 at 150/180/210, batch 64 on one GPU. The teacher comes from
# configs/cifar_models/resnet56_1xb64_cifar100.py (or run
# pipeline_kd_resnet56_resnet20_1xb64_cifar100.py, which trains it).
_base_ = [
    '../_base_/datasets/cifar100_bs64.py',
    '../_base_/schedules/cifar_sgd_240e.py',
    '../_base_/default_runtime.py',
    '../_base_/models/distill/resnet56_resnet20_cifar100.py',
]
model = dict(
    student_loss_weight=0.1,
    distill_losses=dict(
        loss_kd=dict(type='KDLoss', tau=4, loss_weight=0.9,
                     inputs=dict(preds_S='s_logits', preds_T='t_logits'))))
