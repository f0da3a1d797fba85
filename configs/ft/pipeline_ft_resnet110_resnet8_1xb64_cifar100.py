# FT (Kim et al. 2018), RepDistiller's two stages:
# 1. paraphraser: pre-train the paraphraser on resnet110's last-stage map
#    (30 epochs, reconstruction MSE);
# 2. ft: train resnet8 with CE + 200 x factor transfer through a translator,
#    the paraphraser frozen with its stage-1 weights (240 epochs).
# Train the teacher first: configs/cifar_models/resnet110_1xb64_cifar100.py.
stages = [
    dict(name='paraphraser',
         config='ft-paraphraser_resnet110_resnet8_1xb64_cifar100.py'),
    dict(name='ft',
         config='ft_resnet110_resnet8_1xb64_cifar100.py',
         cfg_options={
             'model.connectors.factor_t.ckpt': '{paraphraser}'
         }),
]
