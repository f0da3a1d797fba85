# BYOT's method part (Zhang et al. 2019) for a four-stage ResNet whose
# stages are backbone.layer1..layer4 with 64/128/256/512 channels at
# 32/16/8/4 pixels (mmpretrain's ResNet_CIFAR-18): a branch on each of
# layer1..layer3 (stride-2 3x3 conv + BN + ReLU until the deepest shape,
# 512 x 4 x 4, then a pooled linear classifier). Loss, as the widely used
# reimplementation (the paper released no code): (1 - a) CE of every
# classifier + a T^2 KL(deepest || branch) + b sum (bottleneck - deepest
# feature)^2, a = 0.1, T = 3, b = 1e-6, the deepest outputs detached.
# A config lists this file after its data/schedule bases and takes the part
# out (pop keeps the helper key out of the built config):
#   model = _base_.pop('byot_model')
#   model.update(student=...)
__a, __t, __b = 0.1, 3., 1e-6
__ch = (64, 128, 256, 512)
__connectors, __losses = {}, {}
for __i in (1, 2, 3):
    __src = f'feat{__i}'
    for __j in range(__i, 4):
        __name = f'branch{__i}_conv{__j}'
        __connectors[__name] = dict(
            type='ConvConnector', in_channels=__ch[__j - 1],
            out_channels=__ch[__j], kernel_size=3, stride=2,
            norm_cfg=dict(type='BN'), act=True, input=__src)
        __src = __name
    __connectors[f'branch{__i}_fc'] = dict(
        type='LinearConnector', in_channels=512, out_channels=100,
        input=__src)
    __losses[f'loss_ce_branch{__i}'] = dict(
        type='PeerCELoss', loss_weight=1 - __a,
        inputs=dict(preds=f'branch{__i}_fc', gt_labels='gt_labels'))
    __losses[f'loss_kd_branch{__i}'] = dict(
        type='KDLoss', tau=__t, loss_weight=__a,
        inputs=dict(preds_S=f'branch{__i}_fc', preds_T='s_logits'))
    __losses[f'loss_feat_branch{__i}'] = dict(
        type='HintLoss', reduction='sum', loss_weight=__b,
        inputs=dict(feats_S=__src, feats_T='feat4'))
byot_model = dict(
    type='SelfDistiller',
    student_loss_weight=1 - __a,
    taps={f'feat{__i}': f'student.backbone.layer{__i}' for __i in (1, 2, 3, 4)},
    connectors=__connectors,
    distill_losses=__losses)
