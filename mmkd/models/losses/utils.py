"""Input checks and resizing shared by the feature-map losses."""
from typing import Tuple

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
