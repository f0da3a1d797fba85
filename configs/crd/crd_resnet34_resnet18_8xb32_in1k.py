# CRD (Tian et al. 2020) on ImageNet, mdistiller's setting (configs/imagenet/
# r34_r18/crd.yaml, CRD's defaults): ResNet-34 teaches ResNet-18; loss =
# 1.0 CE + 0.8 CRD, 16384 negatives from other classes, tau 0.07, memory
# momentum 0.5, embeddings of 128 from the 512-d pooled features; 100 epochs,
# SGD 0.1, momentum 0.9, wd 1e-4, lr x0.1 at 30/60/90, batch 256 = 8 x 32.
# The memory banks hold 2 x 1,281,167 x 128 floats (about 1.3 GB).
# The teacher is mmpretrain's resnet34_8xb32_in1k (see ../kd/README.md).
_base_ = [
    '../_base_/datasets/imagenet_bs32.py',
    '../_base_/schedules/imagenet_sgd_100e.py',
    '../_base_/default_runtime.py',
    '../_base_/models/distill/resnet34_resnet18_in1k.py',
    '../_base_/methods/crd.py',
]
model = _base_.pop('crd_model')
model.distill_losses.loss_crd.update(s_dim=512, t_dim=512, num_data=1281167)
train_dataloader = dict(dataset=dict(
    _base_.pop('crd_dataset'), dataset=_base_.train_dataloader.dataset))
