# CRD (Tian et al. 2020), RepDistiller's CIFAR-100 recipe: resnet56 teaches
# resnet20; loss = 1.0 CE + 0.8 CRD (no KD term), 16384 negatives from other
# classes, tau 0.07, memory momentum 0.5, embeddings of 128 from the pooled
# features; 240 epochs, SGD 0.05, lr x0.1 at 150/180/210, batch 64 on one
# GPU. The teacher comes from
# configs/cifar_models/resnet56_1xb64_cifar100.py.
_base_ = [
    '../_base_/datasets/cifar100_bs64.py',
    '../_base_/schedules/cifar_sgd_240e.py',
    '../_base_/default_runtime.py',
    '../_base_/models/distill/resnet56_resnet20_cifar100.py',
    '../_base_/methods/crd.py',
]
model = _base_.pop('crd_model')
model.distill_losses.loss_crd.update(s_dim=64, t_dim=64)
train_dataloader = dict(dataset=dict(
    _base_.pop('crd_dataset'), dataset=_base_.train_dataloader.dataset))
