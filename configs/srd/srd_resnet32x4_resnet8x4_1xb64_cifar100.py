# SRD / SRRL (Yang et al., ICLR 2021): resnet32x4 teaches resnet8x4. The
# student's last map (layer3) goes through SRDConnector (1x1 conv + BN + ReLU)
# into the teacher's space; loss = 1.0 CE + MSE of the pooled maps + MSE of the
# teacher's frozen classifier on the pooled projection vs the teacher's logits
# (the authors' code form, unit weights). RepDistiller's recipe: 240 epochs,
# SGD 0.05, lr x0.1 at 150/180/210, batch 64.
_base_ = [
    '../_base_/datasets/cifar100_bs64.py',
    '../_base_/schedules/cifar_sgd_240e.py',
    '../_base_/default_runtime.py',
    '../_base_/models/distill/resnet32x4_resnet8x4_cifar100.py',
    '../_base_/methods/srd.py',
]
model = _base_.pop('srd_model')
model.taps = dict(s_feat='student.backbone.layer3',
                  t_feat='teacher.backbone.layer3')
model.connectors.s_proj.update(in_channels=256, out_channels=256)
