"""Tian, Krishnan & Isola, "Contrastive Representation Distillation",
ICLR 2020 (CRD)."""
import math
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmkd.registry import DISTILL_LOSSES
from ..interfaces import DataInputs, DatasetChecked

#: Added to the NCE denominators, as in the authors' code.
EPS = 1e-7


class CRDEmbed(nn.Module):
    """Linear projection to ``feat_dim`` followed by L2 normalisation.

    Args:
        in_dim (int): Channels of the (flattened) input feature.
        feat_dim (int): Dimension of the embedding.
    """

    def __init__(self, in_dim: int, feat_dim: int) -> None:
        super().__init__()
        self.linear = nn.Linear(in_dim, feat_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # float32 from here on: exp(1 / 0.07) overflows float16
        return F.normalize(self.linear(x.flatten(1)).float(), dim=1)


@DISTILL_LOSSES.register_module()
class CRDLoss(DataInputs, DatasetChecked, nn.Module):
    """Contrastive representation distillation (CRD).

    Student and teacher features are embedded (``Linear`` to ``feat_dim`` +
    L2 norm; both embedding heads train, the teacher feature is detached).
    A memory bank per side keeps one embedding per training sample. With
    the student embedding :math:`s_i` as anchor and the teacher bank
    :math:`M^T` as the other view (and symmetrically),

    .. math::
        P(j \\mid s_i) = \\exp(\\langle M^T_j, s_i \\rangle / \\tau) / Z,
        \\qquad
        L_S = -\\frac{1}{N} \\sum_i \\Big[ \\log
              \\frac{P(i \\mid s_i)}{P(i \\mid s_i) + K P_n}
            + \\sum_{j \\in \\mathrm{neg}(i)} \\log
              \\frac{K P_n}{P(j \\mid s_i) + K P_n} \\Big]

    with :math:`P_n = 1 / \\mathrm{num\\_data}` (uniform noise), ``eps`` =
    1e-7 added to each denominator, and the loss is
    ``loss_weight * (L_S + L_T)`` (the NCE objective, Eq. 18 of the paper).
    ``Z`` is estimated once per side on the first training batch as
    ``mean(exp(score / tau)) * num_data`` and then kept fixed (a buffer, so
    it travels in checkpoints).

    Memory bank: two ``num_data x feat_dim`` buffers, initialised uniformly
    in ``[-a, a]`` with ``a = 1 / sqrt(feat_dim / 3)``. After each training
    step the rows of the batch's samples are updated as
    ``m <- normalise(nce_m * m + (1 - nce_m) * embedding)``. The banks, and
    ``Z``, change only in training mode (``self.training``): never in eval
    mode nor during the distiller's build-time dry run. The banks are not
    synchronised across processes (the reference trains on one GPU).

    Negatives: with ``contrast_idx`` (``[N, K+1]``, the positive index in
    column 0, e.g. from :class:`mmkd.datasets.CRDDataset`) the scores use
    those rows; with ``None``, ``K`` indices are drawn uniformly from all
    ``num_data`` rows (with replacement, the anchor included, drawn with
    torch's global generator), as the reference does without a sampling
    dataset.

    Args:
        s_dim (int): Student feature channels (e.g. 64 for ``resnet20``'s
            pooled feature).
        t_dim (int): Teacher feature channels.
        num_data (int): Training-set size: rows of each memory bank. The
            DataCheckHook checks it against the training set.
        feat_dim (int): Embedding dimension. Defaults to 128.
        nce_k (int): Negatives per anchor. Defaults to 16384.
        nce_t (float): Temperature ``tau``. Defaults to 0.07.
        nce_m (float): Memory momentum. Defaults to 0.5.
        loss_weight (float): Weight of the summed two-sided loss. Defaults
            to 1.0 (RepDistiller's CIFAR-100 runs use 0.8 with CE 1.0).

    Examples:
        >>> loss = CRDLoss(s_dim=64, t_dim=64, num_data=100, nce_k=16)
        >>> loss(torch.randn(4, 64), torch.randn(4, 64),
        ...      torch.arange(4)).shape
        torch.Size([])
    """

    def __init__(self,
                 s_dim: int,
                 t_dim: int,
                 num_data: int,
                 feat_dim: int = 128,
                 nce_k: int = 16384,
                 nce_t: float = 0.07,
                 nce_m: float = 0.5,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        for name, value in (('s_dim', s_dim), ('t_dim', t_dim),
                            ('num_data', num_data), ('feat_dim', feat_dim),
                            ('nce_k', nce_k)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f'CRDLoss: {name} must be a positive int, '
                                 f'got {value!r}.')
        if nce_t <= 0:
            raise ValueError(f'CRDLoss: nce_t must be positive, got {nce_t}.')
        if not 0 <= nce_m < 1:
            raise ValueError(f'CRDLoss: nce_m must be in [0, 1), got {nce_m}.')
        self.num_data = num_data
        self.feat_dim = feat_dim
        self.nce_k = nce_k
        self.nce_t = nce_t
        self.nce_m = nce_m
        self.loss_weight = loss_weight
        self.embed_s = CRDEmbed(s_dim, feat_dim)
        self.embed_t = CRDEmbed(t_dim, feat_dim)
        bound = 1.0 / math.sqrt(feat_dim / 3)
        for side in ('s', 't'):
            bank = torch.rand(num_data, feat_dim) * (2 * bound) - bound
            self.register_buffer(f'memory_{side}', bank)
            # normalisation constant; negative = not estimated yet
            self.register_buffer(f'z_{side}', torch.tensor(-1.0))

    def extra_repr(self) -> str:
        return (f'num_data={self.num_data}, feat_dim={self.feat_dim}, '
                f'nce_k={self.nce_k}, nce_t={self.nce_t}, '
                f'nce_m={self.nce_m}, loss_weight={self.loss_weight}')

    #: Metainfo fields CRD reads (``sample_idx`` always, ``contrast_idx``
    #: from ``CRDDataset``'s sampling mode).
    data_inputs = ('sample_idx', 'contrast_idx')

    def dummy_data_input(self, name: str, batch_size: int):
        """Dry-run stand-ins: rows ``0..N-1``; negatives drawn uniformly."""
        if name == 'sample_idx':
            return torch.arange(batch_size)
        return None

    def check_dataset(self, dataset) -> None:
        """Raise if the training set does not fit the memory bank.

        Called by :class:`mmkd.engine.DataCheckHook` before training.
        """
        n = len(dataset)
        if n != self.num_data:
            raise ValueError(
                f'CRDLoss has num_data={self.num_data} memory rows but the '
                f'training set has {n} samples; set num_data={n}.')
        k = getattr(dataset, 'nce_k', None)
        if getattr(dataset, 'is_sample', False) and k != self.nce_k:
            raise ValueError(
                f'CRDLoss has nce_k={self.nce_k} but CRDDataset draws '
                f'nce_k={k} negatives; give both the same nce_k.')

    def forward(self,
                feats_S: torch.Tensor,
                feats_T: torch.Tensor,
                sample_idx: torch.Tensor,
                contrast_idx: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Compute the loss, and update the memory banks in training mode.

        Args:
            feats_S (Tensor): Student features ``[N, s_dim]`` (or any shape
                that flattens to it), e.g. ``student.head.fc:input``.
            feats_T (Tensor): Teacher features ``[N, t_dim]``; detached.
            sample_idx (Tensor): Dataset index of each sample, ``[N]``.
            contrast_idx (Tensor, optional): ``[N, nce_k + 1]`` bank rows to
                score, the positive (``sample_idx``) first. None draws the
                negatives uniformly from all rows.

        Returns:
            Tensor: The weighted scalar loss.
        """
        emb_s = self.embed_s(feats_S)
        emb_t = self.embed_t(feats_T.detach())
        device = self.memory_s.device
        idx = torch.as_tensor(sample_idx, device=device).long().view(-1)
        n = idx.numel()
        if emb_s.shape[0] != n or emb_t.shape[0] != n:
            raise ValueError(
                f'CRDLoss: {emb_s.shape[0]} student and {emb_t.shape[0]} '
                f'teacher features for {n} sample indices; give one index '
                'per sample.')
        if contrast_idx is None:
            contrast_idx = torch.randint(
                0, self.num_data, (n, self.nce_k + 1), device=device)
            contrast_idx[:, 0] = idx
        else:
            contrast_idx = torch.as_tensor(contrast_idx, device=device).long()
            if tuple(contrast_idx.shape) != (n, self.nce_k + 1):
                raise ValueError(
                    f'CRDLoss: contrast_idx has shape '
                    f'{tuple(contrast_idx.shape)}, expected ({n}, '
                    f'{self.nce_k + 1}) for nce_k={self.nce_k}; give '
                    'CRDDataset and CRDLoss the same nce_k.')
        lo, hi = int(contrast_idx.min()), int(contrast_idx.max())
        lo, hi = min(lo, int(idx.min())), max(hi, int(idx.max()))
        if lo < 0 or hi >= self.num_data:
            raise ValueError(
                f'CRDLoss: sample index {hi if hi >= self.num_data else lo} '
                f'is outside the memory bank of num_data={self.num_data} '
                'rows; set num_data to the training-set size.')

        with torch.autocast(device_type=device.type, enabled=False):
            # student anchor against the teacher bank, and vice versa
            p_s = self._scores(self.memory_t, contrast_idx, emb_s)
            p_t = self._scores(self.memory_s, contrast_idx, emb_t)
            p_s = p_s / self._z('z_s', p_s)
            p_t = p_t / self._z('z_t', p_t)
            loss = self.nce_loss(p_s, self.num_data) + self.nce_loss(
                p_t, self.num_data)
            if self.training:
                self._update(self.memory_s, idx, emb_s)
                self._update(self.memory_t, idx, emb_t)
        return self.loss_weight * loss

    def _scores(self, bank: torch.Tensor, contrast_idx: torch.Tensor,
                emb: torch.Tensor) -> torch.Tensor:
        """``exp(<bank[j], emb_i> / tau)`` for the rows j of each anchor i."""
        n, k1 = contrast_idx.shape
        rows = bank.index_select(0, contrast_idx.view(-1)).view(n, k1, -1)
        return torch.exp(torch.bmm(rows, emb.unsqueeze(2)).squeeze(2) /
                         self.nce_t)

    def _z(self, name: str, p: torch.Tensor) -> torch.Tensor:
        """The constant Z: set from the first training batch, then fixed.

        Before it is set (e.g. in the build-time dry run), eval mode uses the
        current batch's estimate without storing it.
        """
        z = getattr(self, name)
        if z.item() > 0:
            return z
        estimate = p.detach().mean() * self.num_data
        if self.training:
            z.copy_(estimate)
        return estimate

    @staticmethod
    def nce_loss(p: torch.Tensor, num_data: int) -> torch.Tensor:
        """NCE loss of normalised scores ``p`` ``[N, K+1]`` (positive
        first) against uniform noise ``P_n = 1 / num_data``."""
        noise = (p.shape[1] - 1) / num_data  # K * P_n
        log_pos = torch.log(p[:, 0] / (p[:, 0] + noise + EPS))
        log_neg = torch.log(noise / (p[:, 1:] + noise + EPS))
        return -(log_pos.sum() + log_neg.sum()) / p.shape[0]

    @torch.no_grad()
    def _update(self, bank: torch.Tensor, idx: torch.Tensor,
                emb: torch.Tensor) -> None:
        """``bank[i] <- normalise(m * bank[i] + (1 - m) * emb_i)``."""
        rows = bank.index_select(0, idx) * self.nce_m + emb.detach().to(
            bank.dtype) * (1 - self.nce_m)
        rows = rows / rows.pow(2).sum(1, keepdim=True).sqrt()
        bank.index_copy_(0, idx, rows)
