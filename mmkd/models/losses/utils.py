"""Input checks and resizing shared by the feature-map losses, and the
logit standardization (LS) shared by the logit losses."""
from typing import Optional, Tuple, Union

import torch
import torch.nn.functional as F


def batch_similarity(feats: torch.Tensor) -> torch.Tensor:
    """``[N, ...]`` -> ``rownorm(A A^T)``, the ``[N, N]`` similarity of the
    flattened samples (SP's G, DisWOT's M_r / L_Mr)."""
    a = feats.flatten(1)
    return F.normalize(a @ a.t(), dim=1)


def channel_similarity(feats: torch.Tensor) -> torch.Tensor:
    """``[N, C, ...]`` -> ``rownorm(A_n A_n^T)`` per sample, ``[N, C, C]``
    (ICKD's channel Gram, DisWOT's L_Ms)."""
    a = feats.flatten(2)
    return F.normalize(a @ a.transpose(1, 2), dim=2)


def check_same_batch(loss_name: str, feats_S: torch.Tensor,
                     feats_T: torch.Tensor) -> None:
    """Raise if the student and teacher features come from different
    batches."""
    if feats_S.shape[0] != feats_T.shape[0]:
        raise ValueError(
            f'{loss_name}: student batch {feats_S.shape[0]} and teacher '
            f'batch {feats_T.shape[0]} differ; feed features of the same '
            'inputs.')


def check_feature_maps(loss_name: str, feats_S: torch.Tensor,
                       feats_T: torch.Tensor) -> None:
    """Raise unless both are ``[N, C, H, W]`` maps of the same batch."""
    if feats_S.dim() != 4 or feats_T.dim() != 4:
        raise ValueError(
            f'{loss_name} expects [N, C, H, W] feature maps, got student '
            f'{tuple(feats_S.shape)} and teacher {tuple(feats_T.shape)}; '
            'tap a convolutional stage (e.g. backbone.layer3), not a pooled '
            'vector.')
    check_same_batch(loss_name, feats_S, feats_T)


def pool_to_common_size(
        feats_S: torch.Tensor,
        feats_T: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """Adaptive-average-pool the larger map to the smaller one's height and
    width (each dimension separately), as RepDistiller does for square
    maps."""
    size = (min(feats_S.shape[2], feats_T.shape[2]),
            min(feats_S.shape[3], feats_T.shape[3]))
    if tuple(feats_S.shape[2:]) != size:
        feats_S = F.adaptive_avg_pool2d(feats_S, size)
    if tuple(feats_T.shape[2:]) != size:
        feats_T = F.adaptive_avg_pool2d(feats_T, size)
    return feats_S, feats_T


#: The forms of :func:`standardize_logits`; ``True`` means the default.
LOGIT_STAND_FORMS = ('code', 'paper')


def check_logit_stand(loss_name: str,
                      logit_stand: Union[bool, str, None]) -> Optional[str]:
    """Validate a loss's ``logit_stand`` argument; return the form or None.

    ``False``/``None`` switch LS off, ``True`` selects the default form
    ``'code'``, and ``'code'`` or ``'paper'`` select a form.
    """
    if logit_stand is None or logit_stand is False:
        return None
    if logit_stand is True:
        return 'code'
    if logit_stand not in LOGIT_STAND_FORMS:
        raise ValueError(
            f'{loss_name}: logit_stand must be False, True, "code" or '
            f'"paper", got {logit_stand!r}.')
    return logit_stand


def standardize_logits(logits: torch.Tensor, form: str = 'code',
                       eps: float = 1e-7) -> torch.Tensor:
    """Z-score each row of ``logits`` (logit standardization, LS).

    Sun et al., "Logit Standardization in Knowledge Distillation", CVPR
    2024. With ``mu`` the mean over the ``K`` classes of one sample:

    - ``'code'`` (default; the official code, sunshangquan/logit-
      standardization-KD, whose numbers are published): torch's unbiased
      standard deviation plus ``eps`` in the denominator,
      ``(z - mu) / (sqrt(sum (z - mu)^2 / (K - 1)) + eps)``;
    - ``'paper'`` (Algorithm 1 of the paper): the population standard
      deviation, ``(z - mu) / sqrt(sum (z - mu)^2 / K)``; a row whose
      standard deviation is below ``eps`` (constant logits, where the
      paper's formula is 0/0) is divided by ``eps`` instead.

    The two differ by the factor ``sqrt(K / (K - 1))`` (0.5 % for
    ``K = 100``), i.e. a slightly different temperature. Gradients flow
    through the mean and the standard deviation, as in the official code.

    Args:
        logits (Tensor): ``[N, K]`` logits, ``K >= 2``.
        form (str): ``'code'`` or ``'paper'``. Defaults to ``'code'``.
        eps (float): See above. Defaults to 1e-7 (the official code's).

    Returns:
        Tensor: The standardized logits, same shape.

    Examples:
        >>> standardize_logits(torch.tensor([[1., 2., 3.]]), 'paper')
        tensor([[-1.2247,  0.0000,  1.2247]])
    """
    mean = logits.mean(dim=-1, keepdim=True)
    if form == 'code':
        std = logits.std(dim=-1, keepdim=True, correction=1)
        return (logits - mean) / (std + eps)
    if form == 'paper':
        std = logits.std(dim=-1, keepdim=True, correction=0)
        return (logits - mean) / std.clamp_min(eps)
    raise ValueError(f"standardize_logits: form must be one of "
                     f"{LOGIT_STAND_FORMS}, got {form!r}.")
