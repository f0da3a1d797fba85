"""What a finished search writes: the summary, the score plot and the
ready-to-train distillation config of the best student."""
import math
import os.path as osp
from typing import List, Optional

from mmengine.config import Config

from .records import BEST_CONFIG, SUMMARY, write_json

TEMPLATE_TYPES = ('SingleTeacherDistiller', )


def write_summary(work_dir: str, best: dict, num_scored: int,
                  proxy_name: Optional[str], generations: List[dict],
                  best_config: Optional[str] = None) -> str:
    """``search_summary.json``: the best candidate and every generation."""
    keys = ('name', 'score', 'scores', 'params', 'flops', 'config',
            'latency_ms')
    summary = dict(best={k: best[k]
                         for k in keys if k in best},
                   num_scored=num_scored, proxy=proxy_name,
                   generations=generations)
    if best_config is not None:
        summary['best_config'] = best_config
    path = osp.join(work_dir, SUMMARY)
    write_json(path, summary)
    return path


def load_template(template: str) -> Config:
    """The ``train_template`` config, checked to be one the best student
    can be put into (called when the search starts, and at its end)."""
    cfg = Config.fromfile(template)
    model_type = cfg.get('model', {}).get('type')
    if model_type not in TEMPLATE_TYPES:
        raise ValueError(
            f'train_cfg.train_template={template!r} is a {model_type!r} '
            f'config; use a config of {TEMPLATE_TYPES} (e.g. a KD or DisWOT '
            'config).')
    return cfg


def write_best_config(work_dir: str, template: str, best: dict,
                      teacher: dict, teacher_ckpt: Optional[str]) -> str:
    """Save ``template`` (a distillation config) with the best student and
    the search's teacher as ``best_student_kd.py``; returns its path."""
    cfg = load_template(template)
    cfg.model.student = best['config']
    teacher = dict(teacher)
    teacher.pop('data_preprocessor', None)
    cfg.model.teacher = teacher
    cfg.model.teacher_ckpt = teacher_ckpt
    cfg.pop('work_dir', None)
    path = osp.join(work_dir, BEST_CONFIG)
    cfg.dump(path)
    with open(path) as f:
        body = f.read()
    with open(path, 'w') as f:
        f.write(f'# Written by tools/search.py: student {best["name"]!r} '
                f'(score {best["score"]:.6g}) distilled from the search\'s '
                f'teacher, recipe from {template}.\n' + body)
    return path


def score_range(generations: List[dict]) -> Optional[tuple]:
    """The plot's y-range: the finite scores' range padded by 5% (None
    without a finite score)."""
    finite = [s for g in generations for s in g['scores'] if math.isfinite(s)]
    if not finite:
        return None
    low, high = min(finite), max(finite)
    pad = 0.05 * (high - low) or 0.05 * abs(high) or 0.05
    return low - pad, high + pad


def plot_search(generations: List[dict], path: str, title: str = '') -> str:
    """Scores of each generation (dots) and the best so far (line); the
    y-range is the finite scores' range plus 5%."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator
    fig, ax = plt.subplots(figsize=(6, 4))
    for g in generations:
        finite = [s for s in g['scores'] if math.isfinite(s)]
        ax.scatter([g['generation']] * len(finite), finite, s=8, c='0.6')
    best = [(g['generation'], g['best_score']) for g in generations
            if math.isfinite(g['best_score'])]
    ax.plot([b[0] for b in best], [b[1] for b in best], 'r-o', ms=3,
            label='best so far')
    y_range = score_range(generations)
    if y_range is not None:
        ax.set_ylim(*y_range)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel('generation')
    ax.set_ylabel('score (higher is better)')
    ax.set_title(title)
    ax.legend(loc='lower right')
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path

