# OFD's method part (Heo et al., ICCV 2019) for three-stage pairs: an
# OFDDistiller with 1.0 CE + sum_i 1e-3 / 2^(n-i-1) x partial L2 (sum / N)
# of each connector (1x1 conv + BN) output against max(teacher pre-ReLU
# map, margin). mmengine forbids two bases that both set `model`, so a pair
# config lists this file after its pair model (../models/distill/*.py),
# takes the part out of the bases (pop keeps the helper key out of the
# built config) and sets its taps, margins and connector channels:
#   model = _base_.pop('ofd_model')
#   model.taps = dict(s_pre1=..., t_pre1=..., ..., t_pre3=...)
#   model.margins = dict(t_margin1=..., t_margin2=..., t_margin3=...)
#   for __conn, __ch in zip(model.connectors.values(), (16, 32, 64)):
#       __conn.update(in_channels=__ch, out_channels=__ch)
# A four-stage pair adds s_feat4 / loss_ofd_4 and sets the four weights.
ofd_model = dict(
    type='OFDDistiller',
    student_loss_weight=1.0,
    connectors=dict(
        s_feat1=dict(type='OFDConnector', input='s_pre1'),
        s_feat2=dict(type='OFDConnector', input='s_pre2'),
        s_feat3=dict(type='OFDConnector', input='s_pre3')),
    distill_losses=dict(
        loss_ofd_1=dict(type='OFDLoss', loss_weight=0.00025,
                        inputs=dict(preds_S='s_feat1', preds_T='t_pre1',
                                    margin='t_margin1')),
        loss_ofd_2=dict(type='OFDLoss', loss_weight=0.0005,
                        inputs=dict(preds_S='s_feat2', preds_T='t_pre2',
                                    margin='t_margin2')),
        loss_ofd_3=dict(type='OFDLoss', loss_weight=0.001,
                        inputs=dict(preds_S='s_feat3', preds_T='t_pre3',
                                    margin='t_margin3'))))
