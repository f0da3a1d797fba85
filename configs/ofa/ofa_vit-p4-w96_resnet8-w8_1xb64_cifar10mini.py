# OFA-KD from the small ViT teacher
# (configs/cakd/vit-p4-w96_1xb64_cifar10mini.py) into the quickstart student (CIFAR ResNet-8, widths 8/16/32) on the
# bundled CIFAR-10 subset: the "OFA-KD" row of benchmarks/cakd_cifar10.py.
# Branches: layer1 (8 ch) through 2 SepConvs, layer2 (16) through 1, layer3
# (32) through a 1x1 conv, all to max(32, 96) = 96 channels and 10 classes;
# loss = 1.0 CE + OFALoss(eps=1, the official train.py default) on each
# branch and on the student's logits. The student's schedule (SGD 0.1
# Nesterov, cosine) as the other rows.
_base_ = [
    '../cakd/kd_vit-p4-w96_resnet8-w8_1xb64_cifar10mini.py',
    '../_base_/methods/ofa.py',
]
model = _base_.pop('ofa_model')
# the OFA losses replace the KD loss of the base
model.distill_losses._delete_ = True
# branches from the stage widths (8, 16, 32) to max(32, 96) = 96
for __branch, __ch in zip(model.connectors.values(), (8, 16, 32)):
    __branch.update(in_channels=__ch, out_channels=96, num_classes=10)
