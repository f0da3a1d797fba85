# FT stage 2 (Kim et al. 2018), RepDistiller's CIFAR-100 recipe: wrn-40-2
# teaches wrn-16-2; loss = 1.0 CE + 200 x factor loss between the
# translator's factor of S.layer3.1 and the frozen stage-1 paraphraser's
# factor of T.layer3.5, no KD term; 240 epochs, SGD 0.05, lr x0.1 at
# 150/180/210, batch 64 on one GPU. The paraphraser's weights come from stage
# 1: run pipeline_ft_wrn-40-2_wrn-16-2_1xb64_cifar100.py, or set
# model.connectors.factor_t.ckpt to a ft-paraphraser_wrn-40-2_wrn-16-2
# checkpoint. The teacher comes from
# configs/cifar_models/wrn-40-2_1xb64_cifar100.py.
_base_ = [
    '../_base_/datasets/cifar100_bs64.py',
    '../_base_/schedules/cifar_sgd_240e.py',
    '../_base_/default_runtime.py',
    '../_base_/models/distill/wrn-40-2_wrn-16-2_cifar100.py',
]
model = dict(
    student_loss_weight=1.0,
    taps=dict(
        s_feat='student.backbone.layer3.1',
        t_feat='teacher.backbone.layer3.5'),
    connectors=dict(
        factor_t=dict(type='Paraphraser', input='t_feat', in_channels=128,
                      rate=0.5, frozen=True, ckpt=None),
        factor_s=dict(type='Translator', input='s_feat', in_channels=128,
                      out_channels=64)),
    distill_losses=dict(
        loss_ft=dict(type='FTLoss', mode='repdistiller', loss_weight=200,
                     inputs=dict(feats_S='factor_s', feats_T='factor_t'))))
