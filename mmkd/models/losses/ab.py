"""Heo et al., "Knowledge Transfer via Distillation of Activation
Boundaries Formed by Hidden Neurons", AAAI 2019."""
import torch
import torch.nn as nn

from mmkd.registry import DISTILL_LOSSES


@DISTILL_LOSSES.register_module()
class ABLoss(nn.Module):
    """Activation-boundary loss: a margin hinge on pre-ReLU responses.

    A neuron is active when its pre-ReLU response is positive. The student
    response ``s`` (after the connector) is pushed to the teacher's side of
    the boundary by at least the margin ``m`` (the paper's differentiable
    squared-hinge alternative to the activation-boundary criterion):

    .. math::
        \\ell(s, t) = (s + m)^2 \\, [s > -m]\\,[t \\le 0]
                   + (s - m)^2 \\, [s \\le m]\\,[t > 0]

    .. math::
        L = w \\cdot \\frac{1}{N} \\sum_{n,c,h,w} \\ell(s_{nchw}, t_{nchw})

    (``reduction='batchmean'``, RepDistiller's form: a sum over elements
    divided by the batch size).

    Inputs are **pre-activation** maps: on mmkd's ``CIFARResNet`` tap the
    input of a stage's last ``relu2``, e.g.
    ``'student.backbone.layer3.0.relu2:input'`` for depth 8 (block
    ``n-1`` of the stage). The student side goes through a connector to the
    teacher's shape: RepDistiller's ``Connector`` is a ``ConvReg`` without
    ReLU (conv + BN, a 1x1 conv when the spatial sizes agree), i.e.
    ``ConvConnector(C_S, C_T, norm_cfg=dict(type='BN'))``; identity when the
    shapes already agree.

    Training schedule (configured elsewhere, not by this loss): like the
    paper, RepDistiller uses AB only as an **initialisation stage**: 30
    epochs training the connector and the student's feature layers with
    the AB losses of the three stage outputs (``feat[1:-1]``), per-stage
    factors ``3/1000 * 2^(i - 2)`` for ``i = 0, 1, 2`` (``7.5e-4``,
    ``1.5e-3``, ``3e-3`` as ``loss_weight``), then a second stage of plain
    cross-entropy training (its ``-a 0 -b 1`` run has no AB term after the
    init stage). In mmkd that is a two-stage pipeline: stage 1 a distiller
    with these ``ABLoss`` entries on connector-adapted pre-activations,
    stage 2 CE (or CE + KD) starting from the stage-1 student.

    Args:
        margin (float): Margin ``m``. Defaults to 1.0.
        reduction (str): ``'batchmean'`` (sum / N, RepDistiller), ``'sum'``,
            ``'mean'`` (over every element) or ``'none'`` (element-wise).
            Defaults to ``'batchmean'``.
        loss_weight (float): Weight ``w``. Defaults to 1.0.

    Examples:
        >>> loss = ABLoss(margin=1.0, loss_weight=3e-3)
        >>> loss(torch.randn(2, 64, 8, 8), torch.randn(2, 64, 8, 8)).shape
        torch.Size([])
    """

    _reductions = ('batchmean', 'sum', 'mean', 'none')

    def __init__(self,
                 margin: float = 1.0,
                 reduction: str = 'batchmean',
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        if margin < 0:
            raise ValueError(f'ABLoss: margin must be >= 0, got {margin}.')
        if reduction not in self._reductions:
            raise ValueError(f'ABLoss: reduction must be one of '
                             f'{self._reductions}, got {reduction!r}.')
        self.margin = margin
        self.reduction = reduction
        self.loss_weight = loss_weight

    def forward(self, feats_S: torch.Tensor,
                feats_T: torch.Tensor) -> torch.Tensor:
        """Compute the loss.

        Args:
            feats_S (Tensor): Student pre-activation after the connector,
                e.g. ``[N, C, H, W]``.
            feats_T (Tensor): Teacher pre-activation of the same shape; no
                gradient flows into it.

        Returns:
            Tensor: The weighted loss (a scalar unless ``reduction='none'``).
        """
        if feats_S.shape != feats_T.shape:
            raise ValueError(
                f'ABLoss: student feature {tuple(feats_S.shape)} and teacher '
                f'feature {tuple(feats_T.shape)} differ; add a ConvConnector '
                "(type='ConvConnector', in_channels=C_S, out_channels=C_T, "
                "norm_cfg=dict(type='BN')) and feed its output as feats_S.")
        m = self.margin
        s, t_active = feats_S, feats_T.detach() > 0
        # teacher inactive: push s below -m; teacher active: push s above m
        off = (s + m).pow(2) * ((s > -m) & ~t_active).to(s.dtype)
        on = (s - m).pow(2) * ((s <= m) & t_active).to(s.dtype)
        loss = off + on
        if self.reduction == 'batchmean':
            loss = loss.sum() / s.shape[0]
        elif self.reduction == 'sum':
            loss = loss.sum()
        elif self.reduction == 'mean':
            loss = loss.mean()
        return self.loss_weight * loss
