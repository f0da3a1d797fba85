"""Liu et al., "Exploring Inter-Channel Correlation for Diversity-Preserved
Knowledge Distillation", ICCV 2021."""
import torch
import torch.nn as nn

from mmkd.registry import DISTILL_LOSSES
from .utils import channel_similarity


@DISTILL_LOSSES.register_module()
class ICKDLoss(nn.Module):
    """Inter-channel correlation (ICKD-C): match per-sample channel Grams.

    For each sample, the ``C`` channel vectors of a feature map
    ``[C, H*W]`` give a ``C x C`` Gram matrix, each row of which is
    L2-normalised:

    .. math::
        G_n = \\mathrm{rownorm}(F_n F_n^T) \\in \\mathbb{R}^{C \\times C},
        \\qquad
        L = w \\cdot \\frac{1}{N C} \\sum_{n} \\| G_n^T - G_n^S \\|_F^2

    This is the normalisation of the authors' released CIFAR-100 code (row
    normalisation, squared differences summed over the batch and divided
    by ``N * C``; their script uses weight 2.5 with no KD term). The paper
    writes the loss as the mean over the ``C^2`` Gram entries without the
    row normalisation; the code form is what the reported numbers used.

    The authors embed the student feature with a 1x1 convolution and BN
    before the Gram; in mmkd that is a connector applied by the distiller
    (``ConvConnector`` with ``kernel_size=1, norm_cfg=dict(type='BN')``), so
    both inputs must have the same batch size and channel count. Spatial
    sizes may differ (the Gram sums them out).

    Args:
        loss_weight (float): Weight ``w``. Defaults to 1.0 (the authors'
            CIFAR-100 script uses 2.5).

    Examples:
        >>> loss = ICKDLoss(loss_weight=2.5)
        >>> loss(torch.randn(2, 64, 8, 8), torch.randn(2, 64, 8, 8)).shape
        torch.Size([])
    """

    def __init__(self, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.loss_weight = loss_weight

    gram = staticmethod(channel_similarity)

    def forward(self, feats_S: torch.Tensor,
                feats_T: torch.Tensor) -> torch.Tensor:
        """Compute the loss.

        Args:
            feats_S (Tensor): Student feature after the 1x1 connector,
                ``[N, C, H, W]``.
            feats_T (Tensor): Teacher feature ``[N, C, H', W']``; no
                gradient flows into it.

        Returns:
            Tensor: The weighted scalar loss.
        """
        if feats_S.dim() < 3 or feats_T.dim() < 3:
            raise ValueError(
                f'ICKDLoss expects [N, C, H, W] feature maps, got student '
                f'{tuple(feats_S.shape)} and teacher {tuple(feats_T.shape)}; '
                'tap a convolutional stage, not a pooled vector.')
        if feats_S.shape[:2] != feats_T.shape[:2]:
            raise ValueError(
                f'ICKDLoss: student [N, C] = {tuple(feats_S.shape[:2])} and '
                f'teacher [N, C] = {tuple(feats_T.shape[:2])} differ; add a '
                "ConvConnector (kernel_size=1, norm_cfg=dict(type='BN'), "
                'out_channels=C_T) and feed its output as feats_S.')
        n, c = feats_S.shape[:2]
        diff = self.gram(feats_S) - self.gram(feats_T.detach())
        return self.loss_weight * diff.pow(2).sum() / (n * c)
