# Runtime shared by every mmkd config.
default_scope = 'mmkd'
runner_type = 'KDRunner'  # mmengine's Runner + CPU multi-process support

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=3,
                    save_last=True),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='VisualizationHook', enable=False),
)
custom_hooks = [
    # exact resume: random generator states travel in checkpoints
    dict(type='RNGStateHook'),
    # fail before training if the data does not fit the model (classes,
    # sample indices a distill loss needs)
    dict(type='DataCheckHook'),
    # epoch-dependent losses (DKD's warm-up) get the epoch
    dict(type='LossEpochHook'),
]

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),  # KDRunner uses gloo when there is no GPU
)

vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='UniversalVisualizer', vis_backends=vis_backends)

log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=None, deterministic=False)
