"""The baseline zoo on real CIFAR-10 images: each method vs the student alone.

    python benchmarks/cifar10_zoo.py --teacher-ckpt PATH [--epochs 15]
        [--methods kd at ...] [--seed 0] [--work-dir work_dirs/zoo]

Data: the bundled CIFAR-10 subset (5,000 training / 3,000 test images,
``mmkd/datasets/data/README.md``), or a larger subset built with
``tools/dataset_converters/make_cifar10_mini.py`` and passed as
``--data-file``. Pair: the quickstart's CIFAR ResNet-20 teacher (pass its
checkpoint, e.g. from the quickstart pipeline's ``teacher`` stage) and a
half-width ResNet-8 student. Every method runs the same schedule and seed
as the student alone (the quickstart's 15-epoch cosine SGD schedule).

Losses use RepDistiller's weights (feature methods: CE 1.0 plus the
feature loss; KD: 0.1 CE + 0.9 KL, T = 4). Methods that need a second
training stage (AB, FT, FSP) or equal widths (KD-SVD) are not in this
one-stage, mixed-width benchmark. DKD's 20-of-240-epoch warm-up is scaled
to the schedule (1 of 15 epochs), and so is CTKD's 10-of-240-epoch
curriculum. ``--methods dml`` trains two such students with deep mutual
learning (no teacher) and reports the first; ``--methods byot`` trains
the student with BYOT branches on layer1 and layer2 (no teacher). DOT
needs plain (not Nesterov) SGD momentum: ``dot`` and its baseline
``kd-sgdm`` run the same schedule with ``nesterov=False``. ``mlkd`` adds
MLKD's second, RandAugment view to the training pipeline (the student
alone and the other rows keep crop + flip); ``kd-2view`` is its control,
plain KD on the same two views. ReviewKD's 20-of-240-epoch
warm-up is scaled to 1 of 15, like DKD's. ``wkd-l`` (the official
weight, 600) and ``wkd-l-k10`` (mmkd's rescaling to 10 classes, 160)
first build the teacher's linear-CKA cost
(``tools/analysis/wkd_cost_matrix.py``, written to
``<work-dir>/wkd-l/cost_matrix.pth``); their loss-weight decay from epoch
150 of 240 is scaled to 9 of 15.

Prints a table (top-1, difference to the student alone, wall time) and
writes it to ``<work-dir>/results.json``. Each method's result is kept in
``<work-dir>/<method>/result.json``; a re-run with the same settings reuses
it, so an interrupted benchmark continues where it stopped.
"""
import argparse
import copy
import importlib.util
import json
import os.path as osp
import time

from mmengine.config import Config

import mmkd  # noqa: F401
from mmkd.engine import KDRunner

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
KD_CFG = osp.join(REPO, 'configs', 'quickstart',
                  'kd_resnet20_resnet8-w8_1xb64_cifar10mini.py')
ALONE_CFG = osp.join(REPO, 'configs', 'quickstart',
                     'resnet8-w8_1xb64_cifar10mini.py')
TEACHER_CFG = osp.join(REPO, 'configs', 'quickstart',
                       'resnet20_1xb64_cifar10mini.py')

# Student: CIFARResNet-8, widths 8/16/32; teacher: CIFARResNet-20, 16/32/64.
S, T = 'student.backbone.', 'teacher.backbone.'
LAYERS = dict(s1=S + 'layer1', s2=S + 'layer2', s3=S + 'layer3',
              t1=T + 'layer1', t2=T + 'layer2', t3=T + 'layer3',
              s_pool='student.head.fc:input', t_pool='teacher.head.fc:input')


# DOT's optimiser: the quickstart's SGD without Nesterov
PLAIN_SGDM = dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9,
                                 weight_decay=5e-4, nesterov=False))
# MLKD's two views: the usual crop + flip, and a strong one that adds
# RandAugment (the pipeline of MLKD's CIFAR-100 dataset base)
WEAK_STRONG = Config.fromfile(osp.join(
    REPO, 'configs', '_base_', 'datasets',
    'cifar100_weak-strong_bs64.py')).train_pipeline


def feats(loss_type, weight, s, t, **kwargs):
    return dict(type=loss_type, loss_weight=weight,
                inputs=dict(feats_S=s, feats_T=t), **kwargs)


METHODS = {
    'kd': dict(student_loss_weight=0.1, distill_losses=dict(loss_kd=dict(
        type='KDLoss', tau=4, loss_weight=0.9,
        inputs=dict(preds_S='s_logits', preds_T='t_logits')))),
    'fitnets': dict(
        connectors=dict(hint=dict(type='ConvConnector', in_channels=16,
                                  out_channels=32, kernel_size=3,
                                  norm_cfg=dict(type='BN'), act=True,
                                  input='s2')),
        distill_losses=dict(loss_hint=feats('HintLoss', 100, 'hint', 't2'))),
    'at': dict(distill_losses={
        f'loss_at_{i}': feats('ATLoss', 1000, f's{i}', f't{i}')
        for i in (1, 2, 3)}),
    'sp': dict(distill_losses=dict(loss_sp=feats('SPLoss', 3000, 's3',
                                                 't3'))),
    'rkd': dict(distill_losses=dict(loss_rkd=feats('RKDLoss', 1, 's_pool',
                                                   't_pool'))),
    'pkt': dict(distill_losses=dict(loss_pkt=feats('PKTLoss', 30000,
                                                   's_pool', 't_pool'))),
    'ickd': dict(
        connectors=dict(embed=dict(type='ConvConnector', in_channels=32,
                                   out_channels=64, kernel_size=1,
                                   norm_cfg=dict(type='BN'), input='s3')),
        distill_losses=dict(loss_ickd=feats('ICKDLoss', 2.5, 'embed',
                                            't3'))),
    'dkd': dict(distill_losses=dict(loss_dkd=dict(
        type='DKDLoss', alpha=1., beta=8., tau=4., warmup_epochs=1,
        inputs=dict(preds_S='s_logits', preds_T='t_logits',
                    gt_labels='gt_labels')))),
    'dist': dict(distill_losses=dict(loss_dist=dict(
        type='DISTLoss', beta=2., gamma=2., tau=4.,
        inputs=dict(preds_S='s_logits', preds_T='t_logits')))),
    'crd': dict(distill_losses=dict(loss_crd=dict(
        type='CRDLoss', s_dim=32, t_dim=64, num_data=5000, nce_k=4096,
        loss_weight=0.8,
        inputs=dict(feats_S='s_pool', feats_T='t_pool',
                    sample_idx='sample_idx', contrast_idx='contrast_idx')))),
    'cc': dict(
        connectors=dict(
            s_emb=dict(type='LinearConnector', in_channels=32,
                       out_channels=128, input='s_pool'),
            t_emb=dict(type='LinearConnector', in_channels=64,
                       out_channels=128, input='t_pool')),
        distill_losses=dict(loss_cc=feats('CCLoss', 0.02, 's_emb',
                                          't_emb'))),
    'vid': dict(distill_losses={
        f'loss_vid_{i}': feats('VIDLoss', 1, f's{i}', f't{i}',
                               in_channels=c, mid_channels=2 * c,
                               out_channels=2 * c)
        for i, c in ((1, 8), (2, 16), (3, 32))}),
    'nst': dict(distill_losses={
        f'loss_nst_{i}': feats('NSTLoss', 50, f's{i}', f't{i}')
        for i in (1, 2, 3)}),
    # LS (configs/ls): 0.1 CE + 9 KL of Z-scored logits, T = 2
    'ls-kd': dict(student_loss_weight=0.1, distill_losses=dict(loss_kd=dict(
        type='KDLoss', tau=2, loss_weight=9, logit_stand='code',
        inputs=dict(preds_S='s_logits', preds_T='t_logits')))),
    # DKD + LS with the official default pair's weights (alpha 9, beta 72)
    'ls-dkd': dict(distill_losses=dict(loss_dkd=dict(
        type='DKDLoss', alpha=9., beta=72., tau=2., warmup_epochs=1,
        logit_stand='code',
        inputs=dict(preds_S='s_logits', preds_T='t_logits',
                    gt_labels='gt_labels')))),
    # CTKD (configs/ctkd) on KD; its 10-of-240-epoch curriculum scaled
    # to 1 of 15, like DKD's warm-up
    'ctkd': dict(student_loss_weight=0.1, distill_losses=dict(loss_kd=dict(
        type='KDLoss', loss_weight=0.9,
        temperature=dict(type='GlobalTemperature', curriculum_epochs=1),
        inputs=dict(preds_S='s_logits', preds_T='t_logits')))),
    # KD on plain SGD momentum (no Nesterov): DOT's baseline
    'kd-sgdm': dict(optim_wrapper=PLAIN_SGDM, student_loss_weight=0.1,
                    distill_losses=dict(loss_kd=dict(
                        type='KDLoss', tau=4, loss_weight=0.9,
                        inputs=dict(preds_S='s_logits',
                                    preds_T='t_logits')))),
    # the same KD with DOT (configs/dot): CE gradients get momentum
    # 0.9 - 0.075, KD gradients 0.9 + 0.075
    'dot': dict(optim_wrapper=dict(PLAIN_SGDM, type='DOTOptimWrapper',
                                   delta=0.075,
                                   constructor='DOTOptimWrapperConstructor'),
                student_loss_weight=0.1, distill_losses=dict(loss_kd=dict(
                    type='KDLoss', tau=4, loss_weight=0.9,
                    inputs=dict(preds_S='s_logits', preds_T='t_logits')))),
    # MLKD (configs/mlkd, the official code form): 0.1 (CE weak + CE
    # strong) + 0.9 MLKD over a weak and a RandAugment view
    'mlkd': dict(type='MLKDDistiller', train_pipeline=WEAK_STRONG, taps=None,
                 student_loss_weight=0.1, distill_losses=dict(loss_mlkd=dict(
                     type='MLKDLoss', tau=4, loss_weight=0.9, mode='code',
                     inputs=dict(preds_S='s_logits', preds_T='t_logits',
                                 preds_S_strong='s_logits_strong',
                                 preds_T_strong='t_logits_strong')))),
    # MLKD's control: the same two views and CE, with plain KD (T = 4) on
    # each view instead of MLKD's multi-level terms
    'kd-2view': dict(
        type='MLKDDistiller', train_pipeline=WEAK_STRONG, taps=None,
        student_loss_weight=0.1, distill_losses={
            f'loss_kd{view}': dict(
                type='KDLoss', tau=4, loss_weight=0.9,
                inputs=dict(preds_S=f's_logits{view}',
                            preds_T=f't_logits{view}'))
            for view in ('', '_strong')}),
    # OFD (configs/ofd): pre-ReLU maps of each stage's last block, margins
    # from the teacher's norm2, weights 1e-3 / 2^(3-i)
    'ofd': dict(
        type='OFDDistiller',
        taps={**{f's_pre{i}': S + f'layer{i}.0:preact' for i in (1, 2, 3)},
              **{f't_pre{i}': T + f'layer{i}.2:preact' for i in (1, 2, 3)}},
        margins={f't_margin{i}': T + f'layer{i}.2.norm2' for i in (1, 2, 3)},
        connectors={f's_feat{i}': dict(type='OFDConnector', in_channels=c,
                                       out_channels=2 * c,
                                       input=f's_pre{i}')
                    for i, c in ((1, 8), (2, 16), (3, 32))},
        distill_losses={f'loss_ofd_{i}': dict(
            type='OFDLoss', loss_weight=1e-3 / 2**(3 - i),
            inputs=dict(preds_S=f's_feat{i}', preds_T=f't_pre{i}',
                        margin=f't_margin{i}')) for i in (1, 2, 3)}),
    # ReviewKD (configs/reviewkd, the resnet56 -> resnet20 script's 0.6):
    # ABF fusion of the student's levels, HCL against the teacher's
    # pre-ReLU maps and pooled vector; its 20-of-240-epoch warm-up scaled
    # to 1 of 15
    'reviewkd': dict(
        taps={f't_pre{i}': T + f'layer{i}.2:preact' for i in (1, 2, 3)},
        connectors=dict(s_review=dict(
            type='ReviewKDFusion', in_channels=[8, 16, 32, 32],
            out_channels=[16, 32, 64, 64],
            input=['s1', 's2', 's3', 's_pool'])),
        distill_losses=dict(loss_review=dict(
            type='HCLLoss', pool_sizes=(4, 2, 1), warmup_epochs=1,
            loss_weight=0.6,
            inputs=dict(feats_S='s_review',
                        feats_T=['t_pre1', 't_pre2', 't_pre3', 't_pool'])))),
    # SRD / SRRL (configs/srd, the authors' code form, unit weights): the
    # student's layer3 through a 1x1 conv + BN + ReLU into the teacher's
    # 64 channels and the teacher's frozen classifier
    'srd': dict(
        type='SRDDistiller', classifier='teacher.head.fc',
        connectors=dict(s_proj=dict(type='SRDConnector', in_channels=32,
                                    out_channels=64, input='s3')),
        distill_losses=dict(loss_srd=dict(
            type='SoftmaxRegressionLoss', sr_form='mse', fm_weight=1.0,
            sr_weight=1.0,
            inputs=dict(feats_S='s_proj', feats_T='t3', preds_T='t_logits',
                        cls_weight='t_cls_weight',
                        cls_bias='t_cls_bias')))),
    # WKD-L (configs/wkd, the official CIFAR-100 weights: 1.0 CE + 600 x
    # the Sinkhorn distance at T = 8) under this teacher's own linear-CKA
    # cost, which run() builds with tools/analysis/wkd_cost_matrix.py; its
    # decay from epoch 150 of 240 scaled to 9 of 15
    'wkd-l': dict(distill_losses=dict(loss_wkd=dict(
        type='WKDLogitLoss', tau=8., loss_weight=600., sharpen=1., reg=0.05,
        iters=10, decay_start_epoch=9, max_epochs=15,
        inputs=dict(preds_S='s_logits', preds_T='t_logits',
                    gt_labels='gt_labels')))),
    # the same with gamma 600 -> 160, mmkd's rescaling (not a published
    # setting) for 10 classes instead of 100: the Sinkhorn term's gradient
    # shrinks about as 1/sqrt(K), so 160 keeps the official setting's
    # WD-to-CE gradient ratio (measured at the student's initialisation)
    'wkd-l-k10': dict(distill_losses=dict(loss_wkd=dict(
        type='WKDLogitLoss', tau=8., loss_weight=160., sharpen=1., reg=0.05,
        iters=10, decay_start_epoch=9, max_epochs=15,
        inputs=dict(preds_S='s_logits', preds_T='t_logits',
                    gt_labels='gt_labels')))),
    # OFA-KD (configs/ofa, eps 1): branches from the three stages (2, 1, 0
    # SepConvs) to max(32, 64) = 64 channels and the 10 classes, OFA loss
    # on each branch and on the student's logits
    'ofa': dict(
        connectors={f's_branch{i}': dict(
            type='OFABranch', in_channels=c, out_channels=64, num_classes=10,
            num_downsample=3 - i, input=f's{i}')
            for i, c in ((1, 8), (2, 16), (3, 32))},
        distill_losses={name: dict(
            type='OFALoss', eps=1.0,
            inputs=dict(preds_S=pred, preds_T='t_logits',
                        gt_labels='gt_labels'))
            for name, pred in (('loss_ofa_1', 's_branch1'),
                               ('loss_ofa_2', 's_branch2'),
                               ('loss_ofa_3', 's_branch3'),
                               ('loss_ofa_kd', 's_logits'))}),
}


def byot_model(student):
    """BYOT (configs/_base_/methods/byot.py's losses: 0.9 CE of every
    classifier + 0.1 T^2 KL(deepest || branch), T = 3, + 1e-6 summed
    feature L2) on the ResNet-8's layer1 and layer2, taught by its layer3
    classifier; the branches (stride-2 3x3 conv + BN + ReLU to layer3's
    32 x 8 x 8, then a pooled linear classifier) are dropped at export."""
    ch = (8, 16, 32)
    connectors, losses = {}, {}
    for i in (1, 2):
        src = f'feat{i}'
        for j in range(i, 3):
            connectors[f'branch{i}_conv{j}'] = dict(
                type='ConvConnector', in_channels=ch[j - 1],
                out_channels=ch[j], kernel_size=3, stride=2,
                norm_cfg=dict(type='BN'), act=True, input=src)
            src = f'branch{i}_conv{j}'
        connectors[f'branch{i}_fc'] = dict(
            type='LinearConnector', in_channels=32, out_channels=10,
            input=src)
        losses[f'loss_ce_branch{i}'] = dict(
            type='PeerCELoss', loss_weight=0.9,
            inputs=dict(preds=f'branch{i}_fc', gt_labels='gt_labels'))
        losses[f'loss_kd_branch{i}'] = dict(
            type='KDLoss', tau=3., loss_weight=0.1,
            inputs=dict(preds_S=f'branch{i}_fc', preds_T='s_logits'))
        losses[f'loss_feat_branch{i}'] = dict(
            type='HintLoss', reduction='sum', loss_weight=1e-6,
            inputs=dict(feats_S=src, feats_T='feat3'))
    return dict(type='SelfDistiller', student=student,
                student_loss_weight=0.9,
                taps={f'feat{i}': f'student.backbone.layer{i}'
                      for i in (1, 2, 3)},
                connectors=connectors, distill_losses=losses)


def method_config(name, args):
    if name == 'student':
        cfg = Config.fromfile(ALONE_CFG)
    elif name == 'dml':
        # two students of the same kind learn from each other, no teacher
        cfg = Config.fromfile(ALONE_CFG)
        peer = cfg.model.to_dict()
        cfg.model = dict(type='DMLDistiller', peers=dict(a=peer, b=peer))
    elif name == 'byot':
        # the student teaches its own shallow branches, no teacher
        cfg = Config.fromfile(ALONE_CFG)
        cfg.model = byot_model(cfg.model.to_dict())
    else:
        cfg = Config.fromfile(KD_CFG)
        spec = copy.deepcopy(METHODS[name])
        cfg.model.teacher_ckpt = args.teacher_ckpt
        cfg.model.student_loss_weight = spec.pop('student_loss_weight', 1.0)
        cfg.model.distill_losses = spec.pop('distill_losses')
        cfg.model.connectors = spec.pop('connectors', {})
        taps = spec.pop('taps', {})  # None: no taps (MLKD's two passes)
        cfg.model.taps = {} if taps is None else dict(LAYERS, **taps)
        if 'optim_wrapper' in spec:
            cfg.optim_wrapper = spec.pop('optim_wrapper')
        if 'train_pipeline' in spec:
            cfg.train_dataloader.dataset.pipeline = spec.pop(
                'train_pipeline')
        cfg.model.update(spec)  # the distiller's type and its own fields
        if name.startswith('wkd-l'):
            loss = cfg.model.distill_losses.loss_wkd
            loss.cost_matrix = wkd_cost_path(args)
            loss.max_epochs = args.epochs
            loss.decay_start_epoch = round(0.625 * args.epochs)
        if name == 'crd':
            inner = cfg.train_dataloader.dataset
            cfg.train_dataloader.dataset = dict(type='CRDDataset',
                                                nce_k=4096, dataset=inner)
    cfg.train_cfg.max_epochs = args.epochs
    cfg.param_scheduler.T_max = args.epochs
    cfg.train_cfg.val_interval = args.epochs
    cfg.randomness = dict(seed=args.seed)
    cfg.work_dir = osp.join(args.work_dir, name)
    if args.data_file:
        for loader in (cfg.train_dataloader, cfg.val_dataloader):
            dataset = loader.dataset
            while 'dataset' in dataset:
                dataset = dataset.dataset
            dataset.data_file = args.data_file
    return cfg


def wkd_cost_path(args):
    return osp.join(args.work_dir, 'wkd-l', 'cost_matrix.pth')


def build_wkd_cost(args):
    """WKD-L's cost for this teacher: 1 - linear CKA of its last feature
    maps per class over the training images (the official CIFAR form)."""
    spec = importlib.util.spec_from_file_location(
        'wkd_cost_matrix',
        osp.join(REPO, 'tools', 'analysis', 'wkd_cost_matrix.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    argv = [TEACHER_CFG, args.teacher_ckpt, '--out', wkd_cost_path(args),
            '--force']
    if args.data_file:
        argv += ['--cfg-options',
                 f'train_dataloader.dataset.data_file={args.data_file}',
                 f'val_dataloader.dataset.data_file={args.data_file}']
    tool.main(argv)


def run(name, args):
    """Train one method (or reuse its result from an earlier run)."""
    cfg = method_config(name, args)
    done = osp.join(cfg.work_dir, 'result.json')
    if osp.isfile(done):
        with open(done) as f:
            result = json.load(f)
        if result.get('settings') == _settings(args):
            return result
    if name.startswith('wkd-l'):  # rebuilt with the teacher it is trained with
        build_wkd_cost(args)
    start = time.perf_counter()
    runner = KDRunner.from_cfg(cfg)
    runner.train()
    wall = time.perf_counter() - start
    metrics = runner.val_loop.run()
    result = dict(method=name, top1=float(metrics['accuracy/top1']),
                  wall_time_s=round(wall, 1), settings=_settings(args))
    with open(done, 'w') as f:
        json.dump(result, f, indent=2)
    return result


def _settings(args):
    return dict(epochs=args.epochs, seed=args.seed, data_file=args.data_file,
                teacher_ckpt=osp.abspath(args.teacher_ckpt))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--teacher-ckpt', required=True,
                        help='ResNet-20 teacher trained on the same data')
    parser.add_argument('--methods', nargs='+', default=list(METHODS),
                        choices=list(METHODS) + ['dml', 'byot'])
    parser.add_argument('--epochs', type=int, default=15)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--data-file', default=None)
    parser.add_argument('--work-dir', default='work_dirs/cifar10_zoo')
    args = parser.parse_args()
    if not osp.isfile(args.teacher_ckpt):
        raise SystemExit(f'--teacher-ckpt {args.teacher_ckpt!r} does not '
                         'exist; run the quickstart pipeline first.')
    results = [run('student', args)]
    for name in args.methods:
        results.append(run(name, args))
        base = results[0]['top1']
        print('\n' + '\n'.join(
            f"{r['method']:<9}{r['top1']:>7.2f}{r['top1'] - base:>+10.2f}"
            f"{r['wall_time_s']:>9.1f}" for r in results), flush=True)
    with open(osp.join(args.work_dir, 'results.json'), 'w') as f:
        json.dump(dict(args=vars(args), results=results), f, indent=2)
    print(f"\n{'method':<9}{'top-1':>7}{'vs alone':>10}{'wall s':>9}")
    for r in results:
        print(f"{r['method']:<9}{r['top1']:>7.2f}"
              f"{r['top1'] - results[0]['top1']:>+10.2f}"
              f"{r['wall_time_s']:>9.1f}")


if __name__ == '__main__':
    main()
