# VID (Ahn et al. 2019), RepDistiller's CIFAR-100 recipe: wrn-40-2 teaches
# wrn-16-2; loss = 1.0 CE + 1.0 x Gaussian NLL of the teacher map at each
# stage output (layer1, layer2, layer3.1), regressor 1x1 convs with
# teacher-width hidden layers, no KD term; 240 epochs, SGD 0.05, lr x0.1 at
# 150/180/210, batch 64 on one GPU. The teacher comes from
# configs/cifar_models/wrn-40-2_1xb64_cifar100.py.
_base_ = [
    '../_base_/datasets/cifar100_bs64.py',
    '../_base_/schedules/cifar_sgd_240e.py',
    '../_base_/default_runtime.py',
    '../_base_/models/distill/wrn-40-2_wrn-16-2_cifar100.py',
    '../_base_/methods/vid.py',
]
model = _base_.pop('vid_model')
# WRN: the last block of layer3, before the final BN
model.taps.update(s_feat3='student.backbone.layer3.1',
                  t_feat3='teacher.backbone.layer3.5')
# in = mid = out channels of the three stage outputs
for __loss, __ch in zip(model.distill_losses.values(), (32, 64, 128)):
    __loss.update(in_channels=__ch, mid_channels=__ch, out_channels=__ch)
