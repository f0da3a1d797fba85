"""Huang et al., "Knowledge Distillation from A Stronger Teacher",
NeurIPS 2022."""
import torch
import torch.nn as nn

from mmkd.registry import DISTILL_LOSSES


def _pearson(a: torch.Tensor, b: torch.Tensor, eps: float) -> torch.Tensor:
    """Pearson correlation of the rows of ``a`` and ``b`` (``[M, D]``)."""
    a = a - a.mean(dim=1, keepdim=True)
    b = b - b.mean(dim=1, keepdim=True)
    return (a * b).sum(dim=1) / (a.norm(dim=1) * b.norm(dim=1) + eps)


@DISTILL_LOSSES.register_module()
class DISTLoss(nn.Module):
    """DIST: match prediction relations by Pearson correlation.

    With ``Y = softmax(Z / tau)`` (rows: samples, columns: classes) and
    ``rho`` the Pearson correlation coefficient:

    .. math::
        L_{inter} = 1 - \\frac{1}{N} \\sum_{i} \\rho(Y^S_{i,:}, Y^T_{i,:}),
        \\qquad
        L_{intra} = 1 - \\frac{1}{K} \\sum_{k} \\rho(Y^S_{:,k}, Y^T_{:,k})

    .. math::
        L = w \\, \\tau^2 \\, (\\beta L_{inter} + \\gamma L_{intra})

    The inter-class term correlates each sample's class distribution; the
    intra-class term correlates each class's scores across the batch (so it
    needs a batch of more than one sample to mean anything). ``eps = 1e-8``
    guards the denominator, as in the authors' code.

    Args:
        beta (float): Weight of the inter-class term. Defaults to 1.0.
        gamma (float): Weight of the intra-class term. Defaults to 1.0.
        tau (float): Temperature. Defaults to 1.0 (the paper's ImageNet
            setting).
        eps (float): Denominator guard. Defaults to 1e-8.
        loss_weight (float): Weight ``w``. Defaults to 1.0.

    Examples:
        >>> loss = DISTLoss(beta=2., gamma=2., tau=4.)
        >>> loss(torch.randn(8, 10), torch.randn(8, 10)).shape
        torch.Size([])
    """

    def __init__(self,
                 beta: float = 1.,
                 gamma: float = 1.,
                 tau: float = 1.,
                 eps: float = 1e-8,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        if tau <= 0:
            raise ValueError(f'DISTLoss: tau must be positive, got {tau}.')
        self.beta = beta
        self.gamma = gamma
        self.tau = tau
        self.eps = eps
        self.loss_weight = loss_weight

    def forward(self, preds_S: torch.Tensor,
                preds_T: torch.Tensor) -> torch.Tensor:
        """Compute the loss.

        Args:
            preds_S (Tensor): Student logits ``[N, K]``.
            preds_T (Tensor): Teacher logits ``[N, K]``; no gradient flows
                into them.

        Returns:
            Tensor: The weighted scalar loss.
        """
        if preds_S.shape != preds_T.shape or preds_S.dim() != 2:
            raise ValueError(
                f'DISTLoss: student logits {tuple(preds_S.shape)} and '
                f'teacher logits {tuple(preds_T.shape)} must both be '
                '[N, K]; give both models the same num_classes.')
        y_s = (preds_S / self.tau).softmax(dim=1)
        y_t = (preds_T.detach() / self.tau).softmax(dim=1)
        inter = 1 - _pearson(y_s, y_t, self.eps).mean()
        intra = 1 - _pearson(y_s.t(), y_t.t(), self.eps).mean()
        return self.loss_weight * self.tau**2 * (
            self.beta * inter + self.gamma * intra)
