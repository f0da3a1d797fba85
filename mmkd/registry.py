"""Every registry node of mmkd, in one place.

Runner nodes (models, datasets, transforms, metrics, hooks, loops, ...) are
children of mmpretrain's nodes, which are children of mmengine's roots. So in
an mmkd config (``default_scope = 'mmkd'``) every mmpretrain and mmengine name
resolves as is: ``ImageClassifier``, ``LinearClsHead``, ``CustomDataset``,
``PackInputs``, ``Accuracy``, ``CheckpointHook``...

Each node lists the mmkd package that fills it in ``locations`` (imported
lazily on first use). mmpretrain's package is listed too, because a child
registry does not trigger its parent's lazy imports.

The distillation nodes (losses, connectors, search parts) are roots of their
own: only mmkd's algorithms build from them, and a name that is not found is
reported with the nearest registered names.

Registered names equal class names.
"""
from mmengine.registry import Registry
from mmpretrain.registry import DATA_SAMPLERS as MMPRETRAIN_DATA_SAMPLERS
from mmpretrain.registry import DATASETS as MMPRETRAIN_DATASETS
from mmpretrain.registry import EVALUATORS as MMPRETRAIN_EVALUATORS
from mmpretrain.registry import HOOKS as MMPRETRAIN_HOOKS
from mmpretrain.registry import LOG_PROCESSORS as MMPRETRAIN_LOG_PROCESSORS
from mmpretrain.registry import LOOPS as MMPRETRAIN_LOOPS
from mmpretrain.registry import METRICS as MMPRETRAIN_METRICS
from mmpretrain.registry import MODEL_WRAPPERS as MMPRETRAIN_MODEL_WRAPPERS
from mmpretrain.registry import MODELS as MMPRETRAIN_MODELS
from mmpretrain.registry import \
    OPTIM_WRAPPER_CONSTRUCTORS as MMPRETRAIN_OPTIM_WRAPPER_CONSTRUCTORS
from mmpretrain.registry import OPTIM_WRAPPERS as MMPRETRAIN_OPTIM_WRAPPERS
from mmpretrain.registry import OPTIMIZERS as MMPRETRAIN_OPTIMIZERS
from mmpretrain.registry import PARAM_SCHEDULERS as MMPRETRAIN_PARAM_SCHEDULERS
from mmpretrain.registry import RUNNERS as MMPRETRAIN_RUNNERS
from mmpretrain.registry import TRANSFORMS as MMPRETRAIN_TRANSFORMS
from mmpretrain.registry import VISBACKENDS as MMPRETRAIN_VISBACKENDS
from mmpretrain.registry import VISUALIZERS as MMPRETRAIN_VISUALIZERS
from mmpretrain.registry import \
    WEIGHT_INITIALIZERS as MMPRETRAIN_WEIGHT_INITIALIZERS

__all__ = [
    'RUNNERS', 'LOOPS', 'HOOKS', 'LOG_PROCESSORS', 'OPTIMIZERS',
    'OPTIM_WRAPPERS', 'OPTIM_WRAPPER_CONSTRUCTORS', 'PARAM_SCHEDULERS',
    'DATASETS', 'DATA_SAMPLERS', 'TRANSFORMS', 'MODELS', 'MODEL_WRAPPERS',
    'WEIGHT_INITIALIZERS', 'METRICS', 'EVALUATORS', 'VISUALIZERS',
    'VISBACKENDS', 'DISTILL_LOSSES', 'CONNECTORS', 'PROXIES', 'SEARCH_SPACES',
    'SEARCHERS'
]

# Runners, loops and hooks: CPU-aware runner, stage pipelines, checks;
# hooks that belong to one method live beside it in mmkd.models.
RUNNERS = Registry(
    'runner', parent=MMPRETRAIN_RUNNERS,
    locations=['mmkd.engine', 'mmpretrain.engine'])
LOOPS = Registry(
    'loop', parent=MMPRETRAIN_LOOPS,
    locations=['mmkd.engine', 'mmpretrain.engine'])
HOOKS = Registry(
    'hook', parent=MMPRETRAIN_HOOKS,
    locations=['mmkd.engine', 'mmkd.models', 'mmpretrain.engine'])
LOG_PROCESSORS = Registry(
    'log processor', parent=MMPRETRAIN_LOG_PROCESSORS,
    locations=['mmkd.engine', 'mmpretrain.engine'])

# Optimisation: mmpretrain's and mmengine's optimisers and schedulers.
OPTIMIZERS = Registry(
    'optimizer', parent=MMPRETRAIN_OPTIMIZERS,
    locations=['mmkd.engine', 'mmpretrain.engine'])
OPTIM_WRAPPERS = Registry(
    'optimizer_wrapper', parent=MMPRETRAIN_OPTIM_WRAPPERS,
    locations=['mmkd.engine', 'mmpretrain.engine'])
OPTIM_WRAPPER_CONSTRUCTORS = Registry(
    'optimizer wrapper constructor',
    parent=MMPRETRAIN_OPTIM_WRAPPER_CONSTRUCTORS,
    locations=['mmkd.engine', 'mmpretrain.engine'])
PARAM_SCHEDULERS = Registry(
    'parameter scheduler', parent=MMPRETRAIN_PARAM_SCHEDULERS,
    locations=['mmkd.engine', 'mmpretrain.engine'])

# Data: the bundled CIFAR-10 subset plus all of mmpretrain's datasets.
DATASETS = Registry(
    'dataset', parent=MMPRETRAIN_DATASETS,
    locations=['mmkd.datasets', 'mmpretrain.datasets'])
DATA_SAMPLERS = Registry(
    'data sampler', parent=MMPRETRAIN_DATA_SAMPLERS,
    locations=['mmkd.datasets', 'mmpretrain.datasets'])
TRANSFORMS = Registry(
    'transform', parent=MMPRETRAIN_TRANSFORMS,
    locations=['mmkd.datasets', 'mmpretrain.datasets'])

# Models: distillers, the CIFAR backbone zoo and all of mmpretrain's models.
MODELS = Registry(
    'model', parent=MMPRETRAIN_MODELS,
    locations=['mmkd.models', 'mmpretrain.models'])
MODEL_WRAPPERS = Registry(
    'model_wrapper', parent=MMPRETRAIN_MODEL_WRAPPERS,
    locations=['mmkd.models', 'mmpretrain.models'])
WEIGHT_INITIALIZERS = Registry(
    'weight initializer', parent=MMPRETRAIN_WEIGHT_INITIALIZERS,
    locations=['mmkd.models', 'mmpretrain.models'])

# Evaluation and visualisation.
METRICS = Registry(
    'metric', parent=MMPRETRAIN_METRICS,
    locations=['mmpretrain.evaluation'])
EVALUATORS = Registry(
    'evaluator', parent=MMPRETRAIN_EVALUATORS,
    locations=['mmpretrain.evaluation'])
VISUALIZERS = Registry(
    'visualizer', parent=MMPRETRAIN_VISUALIZERS,
    locations=['mmpretrain.visualization'])
VISBACKENDS = Registry(
    'vis_backend', parent=MMPRETRAIN_VISBACKENDS,
    locations=['mmpretrain.visualization'])

# Distillation parts, built only by mmkd's algorithms.
# Distillation losses: small modules with an explicit forward(preds_S, ...).
DISTILL_LOSSES = Registry('distill loss', locations=['mmkd.models.losses'])
# Connectors: trainable adapters between feature spaces (hint regressors,
# DIH heads, CAKD projectors).
CONNECTORS = Registry('connector', locations=['mmkd.models.connectors'])

# Training-free search (DisWOT): proxies, search spaces and searchers.
PROXIES = Registry('proxy', locations=['mmkd.search'])
SEARCH_SPACES = Registry('search space', locations=['mmkd.search'])
SEARCHERS = Registry('searcher', locations=['mmkd.search'])
