# FT stage 2 (Kim et al. 2018), RepDistiller's CIFAR-100 recipe: resnet110
# teaches resnet32; loss = 1.0 CE + 200 x factor loss between the
# translator's factor of S.layer3 and the frozen stage-1 paraphraser's factor
# of T.layer3, no KD term; 240 epochs, SGD 0.05, lr x0.1 at 150/180/210,
# batch 64 on one GPU. The paraphraser's weights come from stage 1: run
# pipeline_ft_resnet110_resnet32_1xb64_cifar100.py, or set
# model.connectors.factor_t.ckpt to a ft-paraphraser_resnet110_resnet32
# checkpoint. The teacher comes from
# configs/cifar_models/resnet110_1xb64_cifar100.py.
_base_ = [
    '../_base_/datasets/cifar100_bs64.py',
    '../_base_/schedules/cifar_sgd_240e.py',
    '../_base_/default_runtime.py',
    '../_base_/models/distill/resnet110_resnet32_cifar100.py',
]
model = dict(
    student_loss_weight=1.0,
    taps=dict(
        s_feat='student.backbone.layer3',
        t_feat='teacher.backbone.layer3'),
    connectors=dict(
        factor_t=dict(type='Paraphraser', input='t_feat', in_channels=64,
                      rate=0.5, frozen=True, ckpt=None),
        factor_s=dict(type='Translator', input='s_feat', in_channels=64,
                      out_channels=32)),
    distill_losses=dict(
        loss_ft=dict(type='FTLoss', mode='repdistiller', loss_weight=200,
                     inputs=dict(feats_S='factor_s', feats_T='factor_t'))))
