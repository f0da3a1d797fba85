# SRD / SRRL (Yang et al., ICLR 2021) on ImageNet (the authors'
# train_imagenet_distillation.py pair): ResNet-34 teaches ResNet-18
# (mmpretrain's ResNet). The student's layer4 map goes through SRDConnector
# into the teacher's space; loss = 1.0 CE + MSE of the pooled maps + MSE of
# the teacher's frozen classifier on the pooled projection vs the teacher's
# logits (unit weights). 100 epochs, SGD 0.1, lr x0.1 at 30/60/90, batch
# 256 = 8 GPUs x 32. The teacher is mmpretrain's resnet34_8xb32_in1k
# (configs/kd/README.md).
_base_ = [
    '../_base_/datasets/imagenet_bs32.py',
    '../_base_/schedules/imagenet_sgd_100e.py',
    '../_base_/default_runtime.py',
    '../_base_/models/distill/resnet34_resnet18_in1k.py',
    '../_base_/methods/srd.py',
]
model = _base_.pop('srd_model')
model.taps = dict(s_feat='student.backbone.layer4',
                  t_feat='teacher.backbone.layer4')
model.connectors.s_proj.update(in_channels=512, out_channels=512)
