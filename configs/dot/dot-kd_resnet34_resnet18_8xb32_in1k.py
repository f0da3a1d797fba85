# KD + DOT (Zhao et al. 2023) on ImageNet, mdistiller's setting
# (configs/imagenet/r34_r18/dot.yaml): ResNet-34 teaches ResNet-18 with
# KD's recipe (0.5 CE + 0.5 T^2 KL, T = 1; 100 epochs, SGD 0.1, wd 1e-4,
# lr x0.1 at 30/60/90, batch 256 = 8 x 32; mdistiller: 512 with lr 0.2);
# DOT gives the CE gradient momentum 0.9 - 0.09 and the KD gradient
# 0.9 + 0.09.
_base_ = ['../kd/kd_resnet34_resnet18_8xb32_in1k.py']
optim_wrapper = dict(type='DOTOptimWrapper', delta=0.09,
                     constructor='DOTOptimWrapperConstructor')
