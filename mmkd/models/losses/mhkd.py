"""Wang et al., "Multi-head Knowledge Distillation for Model Compression"
(MHKD), 2020, in the form DIH's authors compared against (arXiv 2103.00497).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmkd.registry import DISTILL_LOSSES
from .dih import soft_kl


@DISTILL_LOSSES.register_module()
class MHKDHeadLoss(nn.Module):
    """MHKD's loss for one pair of heads (teacher head j, student head j).

    .. math::
        L_j = \\mathrm{CE}(z_T^j, y) + \\beta \\big[(1 - \\alpha)
              \\mathrm{CE}(z_S^j, y) + \\alpha \\tau^2
              \\mathrm{KL}(\\sigma(z_T^j/\\tau) \\| \\sigma(z_S^j/\\tau))\\big]

    The first term trains the teacher's head (its input, a feature of the
    frozen teacher, carries no gradient); the bracket is canonical KD from
    teacher head ``j`` to student head ``j``, weighted by ``beta``. The
    whole MHKD objective adds canonical KD between the final classifiers:
    ``(1 - alpha) CE(z_S, y)`` through the distiller's
    ``student_loss_weight`` and ``alpha tau^2 KL`` through ``KDLoss``.

    Fixed from DIH's MHKD script (``MHKD/mhkd_training.py``):

    - The KD term does not train the teacher head (its logits are
      detached there); in the script the student's KD gradient also flowed
      into the teacher's head, which is meant to learn from labels only.
    - The final KD uses its own weights; the script read the first head's
      ``alpha`` for it (``alpha[student_head_id + 1]``).
    - The heads (``MHKDHead``) pad their convs; see there.

    Args:
        alpha (float): KD weight inside the bracket. Defaults to 0.1.
        beta (float): Weight of the student-head term. Defaults to 0.5.
        tau (float): Temperature. Defaults to 4.0.
        teacher_ce_weight (float): Weight of the teacher head's CE.
            Defaults to 1.0.
        loss_weight (float): Factor on the whole loss. Defaults to 1.0.

    Examples:
        >>> loss = MHKDHeadLoss()
        >>> z_s, z_t = torch.randn(4, 10), torch.randn(4, 10)
        >>> loss(z_s, z_t, torch.tensor([0, 1, 2, 3])).shape
        torch.Size([])
    """

    def __init__(self,
                 alpha: float = 0.1,
                 beta: float = 0.5,
                 tau: float = 4.0,
                 teacher_ce_weight: float = 1.0,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        if tau <= 0 or not 0 <= alpha <= 1:
            raise ValueError('MHKDHeadLoss: tau must be positive and alpha '
                             f'in [0, 1], got tau={tau}, alpha={alpha}.')
        self.alpha = alpha
        self.beta = beta
        self.tau = tau
        self.teacher_ce_weight = teacher_ce_weight
        self.loss_weight = loss_weight

    def forward(self, preds_S: torch.Tensor, preds_T: torch.Tensor,
                gt_labels: torch.Tensor) -> torch.Tensor:
        """Compute the loss.

        Args:
            preds_S (Tensor): Student head logits ``[N, K]``.
            preds_T (Tensor): Teacher head logits ``[N, K]``; trained by
                the CE term only.
            gt_labels (Tensor): Class indices ``[N]`` or soft labels.

        Returns:
            Tensor: The weighted loss, a scalar.
        """
        if preds_S.shape != preds_T.shape:
            raise ValueError(
                f'MHKDHeadLoss: student head logits {tuple(preds_S.shape)} '
                f'and teacher head logits {tuple(preds_T.shape)} differ; '
                'give both heads the same num_classes.')
        teacher_ce = F.cross_entropy(preds_T, gt_labels)
        student = (1 - self.alpha) * F.cross_entropy(preds_S, gt_labels) + \
            self.alpha * soft_kl(preds_S, preds_T, self.tau)
        return self.loss_weight * (self.teacher_ce_weight * teacher_ce +
                                   self.beta * student)
