# VID (Ahn et al. 2019), RepDistiller's CIFAR-100 recipe: resnet110 teaches
# resnet8; loss = 1.0 CE + 1.0 x Gaussian NLL of the teacher map at each
# stage output (layer1, layer2, layer3), regressor 1x1 convs with
# teacher-width hidden layers, no KD term; 240 epochs, SGD 0.05, lr x0.1 at
# 150/180/210, batch 64 on one GPU. The teacher comes from
# configs/cifar_models/resnet110_1xb64_cifar100.py.
_base_ = [
    '../_base_/datasets/cifar100_bs64.py',
    '../_base_/schedules/cifar_sgd_240e.py',
    '../_base_/default_runtime.py',
    '../_base_/models/distill/resnet110_resnet8_cifar100.py',
    '../_base_/methods/vid.py',
]
model = _base_.pop('vid_model')
# in = mid = out channels of the three stage outputs
for __loss, __ch in zip(model.distill_losses.values(), (16, 32, 64)):
    __loss.update(in_channels=__ch, mid_channels=__ch, out_channels=__ch)
