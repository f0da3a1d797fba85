"""Kim et al., "Paraphrasing Complex Network: Network Compression via
Factor Transfer", NeurIPS 2018."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmkd.registry import DISTILL_LOSSES
from .utils import pool_to_common_size


@DISTILL_LOSSES.register_module()
class FTLoss(nn.Module):
    """Factor-transfer loss between the student's translated factor and the
    teacher's paraphrased factor.

    The inputs are factors: ``feats_S = Translator(F_S)`` and
    ``feats_T = Paraphraser.encode(F_T)`` (connectors in
    ``mmkd/models/connectors/ft.py``, whose docstring gives the two-stage
    config). Two forms, chosen by ``mode``:

    ``mode='repdistiller'`` (default; RepDistiller's ``FactorTransfer``,
    ``p1=2, p2=1``, which its CIFAR-100 numbers and weight 200 used): each
    factor is reduced to a spatial map, the channel mean of its square,
    flattened and L2-normalised, then

    .. math::
        \\phi(x) = \\frac{q}{\\|q\\|_2}, \\quad
        q = \\mathrm{vec}\\Big(\\frac{1}{C}\\sum_c x_c^2\\Big), \\qquad
        L = w \\cdot \\frac{1}{N H W} \\sum_{n,j}
            |\\phi(x_S)_{n,j} - \\phi(x_T)_{n,j}|

    ``mode='paper'`` (the paper, ``p = 1``): the whole factor is flattened
    and L2-normalised,

    .. math::
        L = w \\cdot \\frac{1}{N} \\sum_n \\Big\\|
            \\frac{\\mathrm{vec}(x_{S,n})}{\\|\\mathrm{vec}(x_{S,n})\\|_2} -
            \\frac{\\mathrm{vec}(x_{T,n})}{\\|\\mathrm{vec}(x_{T,n})\\|_2}
            \\Big\\|_1

    (an L1 norm per sample, averaged over the batch; the RepDistiller weight
    200 is not calibrated for it). In both modes the larger spatial size is
    adaptive-average-pooled to the smaller first, as RepDistiller does.

    RepDistiller setup: last stage output (``backbone.layer3``, its
    ``feat[-2]``) of both models, ``-a 0 -b 200``, after a 30-epoch
    paraphraser pre-training stage (:class:`ParaphraserReconstructionLoss`).

    Args:
        mode (str): ``'repdistiller'`` or ``'paper'``. Defaults to
            ``'repdistiller'``.
        loss_weight (float): Weight ``w``. Defaults to 1.0 (RepDistiller
            uses 200).

    Examples:
        >>> loss = FTLoss(loss_weight=200)
        >>> loss(torch.randn(2, 32, 8, 8), torch.randn(2, 32, 8, 8)).shape
        torch.Size([])
    """

    _modes = ('repdistiller', 'paper')

    def __init__(self, mode: str = 'repdistiller',
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        if mode not in self._modes:
            raise ValueError(f'FTLoss: mode must be one of {self._modes}, '
                             f'got {mode!r}.')
        self.mode = mode
        self.loss_weight = loss_weight

    def factor(self, x: torch.Tensor) -> torch.Tensor:
        """``[N, C, H, W]`` -> normalised factor vector (see ``mode``)."""
        if self.mode == 'repdistiller':
            x = x.pow(2).mean(dim=1)
        return F.normalize(x.flatten(1), dim=1)

    def forward(self, feats_S: torch.Tensor,
                feats_T: torch.Tensor) -> torch.Tensor:
        """Compute the loss.

        Args:
            feats_S (Tensor): Student factor (translator output)
                ``[N, C, H, W]``.
            feats_T (Tensor): Teacher factor (paraphraser code)
                ``[N, C, H', W']``; no gradient flows into it.

        Returns:
            Tensor: The weighted scalar loss.
        """
        if feats_S.dim() != 4 or feats_T.dim() != 4:
            raise ValueError(
                f'FTLoss expects [N, C, H, W] factors, got student '
                f'{tuple(feats_S.shape)} and teacher {tuple(feats_T.shape)}; '
                'feed the outputs of the Translator and Paraphraser '
                'connectors.')
        if feats_S.shape[:2] != feats_T.shape[:2]:
            raise ValueError(
                f'FTLoss: student factor {tuple(feats_S.shape)} and teacher '
                f'factor {tuple(feats_T.shape)} differ in batch or channels; '
                'set the Translator out_channels to the Paraphraser factor '
                'channels int(in_channels * rate).')
        feats_T = feats_T.detach()
        feats_S, feats_T = pool_to_common_size(feats_S, feats_T)
        diff = (self.factor(feats_S) - self.factor(feats_T)).abs()
        if self.mode == 'repdistiller':
            loss = diff.mean()
        else:
            loss = diff.sum(dim=1).mean()
        return self.loss_weight * loss


@DISTILL_LOSSES.register_module()
class ParaphraserReconstructionLoss(nn.Module):
    """Stage-1 FT loss: reconstruct the teacher feature with the paraphraser.

    .. math::
        L = w \\cdot \\frac{1}{|F|} \\sum (P(F_T) - F_T)^2

    where ``P = decode(encode(.))`` is the ``Paraphraser`` connector with
    ``output='reconstruction'``. Mean over every element, as RepDistiller's
    ``nn.MSELoss()`` (the paper writes the squared L2 norm). See
    :class:`~mmkd.models.connectors.Paraphraser` for the two-stage config.

    Args:
        loss_weight (float): Weight ``w``. Defaults to 1.0 (RepDistiller).

    Examples:
        >>> loss = ParaphraserReconstructionLoss()
        >>> x = torch.randn(2, 64, 8, 8)
        >>> loss(x, x).item()
        0.0
    """

    def __init__(self, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self, recon: torch.Tensor,
                target: torch.Tensor) -> torch.Tensor:
        """Compute the loss.

        Args:
            recon (Tensor): Paraphraser reconstruction ``[N, C, H, W]``.
            target (Tensor): The teacher feature it reconstructs, same shape;
                no gradient flows into it.

        Returns:
            Tensor: The weighted scalar loss.
        """
        if recon.shape != target.shape:
            raise ValueError(
                f'ParaphraserReconstructionLoss: reconstruction '
                f'{tuple(recon.shape)} and target {tuple(target.shape)} '
                "differ; set output='reconstruction' on the Paraphraser "
                'connector and feed the tap it reads as target.')
        return self.loss_weight * (recon - target.detach()).pow(2).mean()
