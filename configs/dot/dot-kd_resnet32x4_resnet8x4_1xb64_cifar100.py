# KD + DOT (Zhao et al. 2023), mdistiller's CIFAR-100 setting
# (configs/cifar100/dot/res32x4_res8x4.yaml): resnet32x4 teaches resnet8x4
# with KD's recipe (0.1 CE + 0.9 T^2 KL, T = 4; 240 epochs, SGD 0.05, lr
# x0.1 at 150/180/210, batch 64); DOT gives the CE gradient momentum
# 0.9 - 0.075 and the KD gradient 0.9 + 0.075.
_base_ = ['../kd/kd_resnet32x4_resnet8x4_1xb64_cifar100.py']
optim_wrapper = dict(type='DOTOptimWrapper', delta=0.075,
                     constructor='DOTOptimWrapperConstructor')
