# KD + DOT (Zhao et al. 2023), mdistiller's CIFAR-100 setting
# (configs/cifar100/dot/vgg13_vgg8.yaml): vgg13 teaches vgg8 with KD's
# recipe (0.1 CE + 0.9 T^2 KL, T = 4; 240 epochs, SGD 0.05, lr x0.1 at
# 150/180/210, batch 64); DOT gives the CE gradient momentum 0.9 - 0.075
# and the KD gradient 0.9 + 0.075.
_base_ = ['../kd/kd_vgg13_vgg8_1xb64_cifar100.py']
optim_wrapper = dict(type='DOTOptimWrapper', delta=0.075,
                     constructor='DOTOptimWrapperConstructor')
