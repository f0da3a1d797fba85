# Every zero-cost proxy of mmkd on all 64 S1 networks, for the quickstart's
# CIFAR ResNet-20 teacher, on one batch of 64 bundled CIFAR-10 images. The
# candidates.jsonl it writes feeds tools/analysis/proxy_correlation.py
# (docs/benchmarks.md, "Do the proxies rank distilled accuracy?"):
#     python tools/search.py configs/diswot/proxy-zoo_resnet20_s1-exhaustive_cifar10mini.py \
#         --work-dir work_dirs/proxy_zoo_seed0
# --cfg-options train_cfg.seed=1 gives another batch and other random inits;
# train_cfg.teacher_ckpt=PATH scores against a trained teacher instead of a
# random one (the paper's setting is the random teacher).
# Each quantity is recorded once: DisWOT's M_s and M_r parts come with its
# score (score.M_s, score.M_r; SP as a proxy equals M_r), params and FLOPs
# with every record.
_base_ = ['./diswot_resnet56_s1-exhaustive_cifar10mini.py']
model = dict(backbone=dict(depth=20))
_kd = dict(type='DistillLossProxy', loss=dict(type='KDLoss', tau=4))
_feat = dict(feats_S='s_feat', feats_T='t_feat')
train_cfg = dict(
    extra_proxies=dict(
        _delete_=True,
        grad_norm=dict(type='GradNorm'),
        snip=dict(type='SNIP'),
        grasp=dict(type='GraSP'),
        synflow=dict(type='SynFlow'),
        fisher=dict(type='Fisher'),
        jacob_cov=dict(type='JacobCov'),
        nwot=dict(type='NWOT'),
        zen=dict(type='ZenScore'),
        kd=_kd,
        at=dict(type='DistillLossProxy', loss=dict(type='ATLoss'),
                inputs=_feat),
    ))
