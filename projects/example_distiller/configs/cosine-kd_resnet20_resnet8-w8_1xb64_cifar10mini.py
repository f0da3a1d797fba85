# Distil with the plugin's CosineLogitLoss next to KD, on the bundled data.
# Run from the repository root:
#   python tools/train.py projects/example_distiller/configs/cosine-kd_resnet20_resnet8-w8_1xb64_cifar10mini.py
_base_ = [
    '../../../configs/quickstart/kd_resnet20_resnet8-w8_1xb64_cifar10mini.py'
]
# import the plugin so its @DISTILL_LOSSES.register_module() runs
custom_imports = dict(
    imports=['projects.example_distiller.example_distiller'],
    allow_failed_imports=False)
model = dict(
    distill_losses=dict(
        loss_cos=dict(type='CosineLogitLoss', loss_weight=1.0,
                      inputs=dict(preds_S='s_logits', preds_T='t_logits'))))
